"""The one place that runs amtool (Debian package prometheus-alertmanager): argument lists,
a deadline, a clear error when it is missing."""

from __future__ import annotations

import functools
import subprocess

from promcontract.problems import ToolMissing
from promcontract.runners import binaries, process

TIMEOUT_S = 60.0
INSTALL_HINT = ("install Debian's 'prometheus-alertmanager' package (apt-get install "
                "prometheus-alertmanager) or set AMTOOL to the amtool binary, or disable the "
                "alertmanager-config lint check in .promcontract.yaml")


VERSION_TIMEOUT_S = 10.0


def find() -> str:
    """The amtool to run, once checked to answer ``--version`` as amtool does."""
    exe = binaries.find(("amtool",), "AMTOOL", INSTALL_HINT)
    version(exe)
    return exe


@functools.lru_cache(maxsize=8)
def version(exe: str) -> str:
    return binaries.identify(exe, "amtool", INSTALL_HINT, VERSION_TIMEOUT_S)


def run(args: list[str], timeout: float = TIMEOUT_S) -> tuple[int, str]:
    """``amtool ARGS``: exit code and what it said (stdout and stderr), within ``timeout``
    (the whole process group is killed then: exit 2, "amtool ... timed out")."""
    exe = find()
    try:
        code, out, err = process.run_bounded([exe, *args], timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolMissing(f"amtool {' '.join(args[:2])} timed out after {timeout:.0f} s") \
            from None
    except OSError as exc:
        raise ToolMissing(f"cannot run amtool at {exe}: {exc.strerror}; {INSTALL_HINT}") \
            from None
    return code, (out + err).strip()


def check_config(path: str) -> tuple[int, str]:
    """``amtool check-config PATH``: exit code and what it said (stdout and stderr)."""
    return run(["check-config", path])


def config_problem(path: str) -> str | None:
    """What ``amtool check-config`` says is wrong with the config at ``path``, in one line
    (None: it loads)."""
    code, said = check_config(path)
    if code == 0:
        return None
    return " ".join(line.strip() for line in said.splitlines()
                    if line.strip() and "Checking" not in line)


def routes_test(config_path: str, labels: dict[str, str]) -> tuple[str, ...]:
    """The receivers Alertmanager's route tree gives ``labels`` under the config at
    ``config_path`` (``amtool config routes test``), in order (ValueError when amtool fails)."""
    code, said = run(["config", "routes", "test", f"--config.file={config_path}",
                      *(f"{k}={v}" for k, v in sorted(labels.items()))])
    lines = [line for line in said.splitlines() if line.strip()
             and not line.startswith("Warning:")]
    if code != 0 or not lines:
        raise ValueError(f"amtool config routes test failed: {' '.join(lines)[:300]}")
    return tuple(r.strip() for r in lines[-1].split(",") if r.strip())
