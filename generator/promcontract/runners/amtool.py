"""The one place that runs amtool (Debian package prometheus-alertmanager): argument lists,
a deadline, a clear error when it is missing."""

from __future__ import annotations

import os
import shutil
import subprocess

from promcontract.problems import ToolMissing

TIMEOUT_S = 60.0
INSTALL_HINT = ("install Debian's 'prometheus-alertmanager' package (apt-get install "
                "prometheus-alertmanager) or set AMTOOL to the amtool binary, or disable the "
                "alertmanager-config lint check in .promcontract.yaml")


def find() -> str:
    explicit = os.environ.get("AMTOOL")
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise ToolMissing(f"AMTOOL={explicit} is not an executable file; {INSTALL_HINT}")
    found = shutil.which("amtool")
    if not found:
        raise ToolMissing(f"amtool not found on PATH; {INSTALL_HINT}")
    return found


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
