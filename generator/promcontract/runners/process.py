"""Child processes that can neither hold a run nor outlive it.

A timeout that kills only the direct child is not enough: a wrapper script's own children
(``sleep``, a real promtool behind a shell script) keep the output pipes open, so reading to
the end waits for them forever. Every child starts in its own session (process group); on a
timeout, or when the caller is interrupted, the whole group is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL to ``proc``'s whole process group (started with ``start_new_session``)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_bounded(argv: list[str], *, timeout: float, stdin: str | None = None,
                merge: bool = False, env: dict[str, str] | None = None
                ) -> tuple[int, str, str]:
    """Run ``argv`` to its end within ``timeout`` seconds: (exit code, stdout, stderr).

    ``subprocess.TimeoutExpired`` when the time is up (the group is killed first);
    ``OSError`` when it cannot be started."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else
                            subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT if merge else subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except BaseException:
        kill_group(proc)
        try:
            proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # a grandchild in a session of its own holds a pipe
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
            proc.wait(5)
        raise
    finally:
        kill_group(proc)  # what it left running in its group
    return proc.returncode, out, err or ""
