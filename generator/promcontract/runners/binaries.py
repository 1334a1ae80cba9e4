"""Where the Prometheus-family binaries are: one rule for promtool, amtool, prometheus and the
Pushgateway. An environment variable names the binary (a path, or a name looked up on PATH);
otherwise the first of its names on PATH. Either way, missing is one line saying how to get it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from promcontract.problems import ToolMissing
from promcontract.runners import process


def find(names: tuple[str, ...], env: str, hint: str) -> str:
    """The executable for ``names`` (``$env`` first); ``ToolMissing`` with ``hint`` else."""
    explicit = os.environ.get(env)
    if explicit:
        resolved = explicit if os.sep in explicit else shutil.which(explicit)
        if resolved and os.path.isfile(resolved) and os.access(resolved, os.X_OK):
            return resolved
        raise ToolMissing(f"{env}={explicit} is not an executable file; {hint}")
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise ToolMissing(f"{names[0]} not found on PATH; {hint}")


def debian_hint(package: str, env: str) -> str:
    return (f"install Debian's '{package}' package (apt-get install {package}) or set {env} "
            "to the binary")


def identify(exe: str, tool: str, hint: str, timeout: float) -> str:
    """The version ``exe --version`` reports, when it answers as ``tool`` does
    (``<tool>, version X``); ``ToolMissing`` otherwise (``/bin/true`` as $PROMTOOL once made
    `check` report a pass for rules nothing read), or when it does not answer in time."""


    try:
        code, out, err = process.run_bounded([exe, "--version"], timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolMissing(f"{exe} --version did not answer within {timeout:g}s: not {tool}? "
                          f"{hint}") from None
    except OSError as exc:
        raise ToolMissing(f"cannot run {tool} at {exe}: {exc.strerror}; {hint}") from None
    said = (out + err).strip()
    match = re.match(rf"{re.escape(tool)}, version (\S+)", said)
    if code != 0 or not match:
        raise ToolMissing(f"{exe} --version does not answer as {tool} does "
                          f"({said[:60]!r}, exit {code}); {hint}")
    return match.group(1)
