"""The one place that runs amtool (Debian package prometheus-alertmanager): argument lists,
a deadline, a clear error when it is missing."""

from __future__ import annotations

import subprocess

from promcontract.problems import ToolMissing
from promcontract.runners import binaries

TIMEOUT_S = 60.0
INSTALL_HINT = ("install Debian's 'prometheus-alertmanager' package (apt-get install "
                "prometheus-alertmanager) or set AMTOOL to the amtool binary, or disable the "
                "alertmanager-config lint check in .promcontract.yaml")


def find() -> str:
    return binaries.find(("amtool",), "AMTOOL", INSTALL_HINT)


def check_config(path: str) -> tuple[int, str]:
    """``amtool check-config PATH``: exit code and what it said (stdout and stderr)."""
    exe = find()
    try:
        proc = subprocess.run([exe, "check-config", path], capture_output=True, text=True,
                              timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ToolMissing(f"amtool check-config timed out after {TIMEOUT_S:.0f}s") from None
    except OSError as exc:
        raise ToolMissing(f"cannot run amtool at {exe}: {exc.strerror}; {INSTALL_HINT}") \
            from None
    return proc.returncode, (proc.stdout + proc.stderr).strip()
