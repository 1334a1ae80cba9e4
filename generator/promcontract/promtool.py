"""The one place that runs promtool (argument lists, timeouts, located errors).

Found via ``$PROMTOOL`` or ``PATH``. Debian bookworm ships promtool 2.42: nothing here uses
flags added after it (no ``--run``, ``--junit``).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from promcontract.errors import ToolMissing

TIMEOUT_S = 120.0
INSTALL_HINT = ("install Debian's 'prometheus' package (apt-get install prometheus) or set "
                "PROMTOOL to the promtool binary")


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return (self.stdout + self.stderr).strip()


def find() -> str:
    explicit = os.environ.get("PROMTOOL")
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise ToolMissing(f"PROMTOOL={explicit} is not an executable file; {INSTALL_HINT}")
    found = shutil.which("promtool")
    if not found:
        raise ToolMissing(f"promtool not found on PATH; {INSTALL_HINT}")
    return found


@functools.lru_cache(maxsize=4)
def version(binary: str | None = None) -> str:
    result = run(["--version"], binary=binary)
    match = re.search(r"version (\S+)", result.output)
    return match.group(1) if match else "unknown"


def run(args: list[str], *, stdin: str | None = None, binary: str | None = None,
        timeout: float = TIMEOUT_S) -> Result:
    exe = binary or find()
    try:
        proc = subprocess.run([exe, *args], input=stdin, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        raise ToolMissing(f"promtool not found at {exe}; {INSTALL_HINT}") from None
    except subprocess.TimeoutExpired:
        raise ToolMissing(f"promtool {' '.join(args[:2])} timed out after {timeout:.0f}s") \
            from None
    return Result(proc.returncode, proc.stdout, proc.stderr)


class Running:
    """A promtool process started in the background (so Python work overlaps with it).

    With ``stdin``, a thread feeds it and collects the output, so a large payload does not
    block the caller on a full pipe.
    """

    def __init__(self, args: list[str], binary: str | None = None, stdin: str | None = None,
                 stdin_file: str | None = None):
        exe = binary or find()
        self.args = args
        source = subprocess.DEVNULL
        if stdin is not None:
            source = subprocess.PIPE
        elif stdin_file is not None:
            source = open(stdin_file, "rb")  # noqa: SIM115 - closed right after Popen
        # One core for promtool (Go would take both): the caller works on the other meanwhile.
        env = dict(os.environ, GOMAXPROCS=os.environ.get("GOMAXPROCS", "1"))
        try:
            self._proc = subprocess.Popen(
                [exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                stdin=source, env=env)
        except OSError as exc:
            raise ToolMissing(f"cannot run promtool at {exe}: {exc.strerror}; "
                              f"{INSTALL_HINT}") from None
        finally:
            if stdin_file is not None:
                source.close()  # the child has its own copy of the descriptor
        self._output: tuple[str, str] | None = None
        self._thread = None
        if stdin is not None:
            import threading

            def feed() -> None:
                try:
                    self._output = self._proc.communicate(stdin, timeout=TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._output = self._proc.communicate()
            self._thread = threading.Thread(target=feed, daemon=True)
            self._thread.start()

    def wait(self, timeout: float = TIMEOUT_S) -> Result:
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() or self._output is None:
                self._proc.kill()
                raise ToolMissing(f"promtool {' '.join(self.args[:2])} timed out")
            out, err = self._output
            return Result(self._proc.returncode, out, err)
        try:
            out, err = self._proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
            raise ToolMissing(f"promtool {' '.join(self.args[:2])} timed out after "
                              f"{timeout:.0f}s") from None
        return Result(self._proc.returncode, out, err)


def check_rules(*paths: str) -> Result:
    return run(["check", "rules", *paths])


def start_check_rules(*paths: str) -> Running:
    return Running(["check", "rules", *paths])


def test_rules(path: str) -> Result:
    return run(["test", "rules", path])


def test_failure_summary(output: str, limit: int = 600) -> str:
    """What a failed ``promtool test rules`` run says failed, on one line: the failing alert
    and eval time lines (expected and actual alerts follow them in the full output)."""
    detail = " | ".join(line.strip() for line in output.splitlines()
                        if line.strip().startswith(("alertname:", "FAILED", "Unit Testing"))
                        or "could not" in line or "error" in line.lower())
    return detail[:limit]


def check_metrics(payload: str) -> Result:
    return run(["check", "metrics"], stdin=payload)


def start_check_metrics(payload: str | None = None, path: str | None = None) -> Running:
    """``promtool check metrics`` (lint; exit 3 on findings) in the background, reading the
    payload from ``path`` directly when there is one (no Python thread feeding a pipe)."""
    if path is not None:
        return Running(["check", "metrics"], stdin_file=path)
    return Running(["check", "metrics"], stdin=payload)
