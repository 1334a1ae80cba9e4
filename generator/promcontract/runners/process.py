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
import threading

_LIVE: set[subprocess.Popen] = set()  # children started here and not yet waited for
_LOCK = threading.Lock()


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL to ``proc``'s whole process group (started with ``start_new_session``)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def track(proc: subprocess.Popen) -> None:
    """``proc`` runs on behalf of this command: ``kill_all`` ends it if the command stops."""
    with _LOCK:
        _LIVE.add(proc)


def untrack(proc: subprocess.Popen) -> None:
    with _LOCK:
        _LIVE.discard(proc)


def kill_all() -> int:
    """Kill the process group of every child still running (the command was interrupted or
    terminated: worker threads may still be waiting on them); how many there were."""
    with _LOCK:
        live = list(_LIVE)
        _LIVE.clear()
    for proc in live:
        kill_group(proc)
    return len(live)


class stopped_by_signals:  # noqa: N801 - used as a context manager
    """SIGTERM and SIGHUP end the command as Ctrl-C does (KeyboardInterrupt), so every `with`
    unwinds and the caller can kill what is still running."""

    def __enter__(self) -> None:
        self._saved = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGHUP):
                self._saved[sig] = signal.signal(sig, self._raise)

    @staticmethod
    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)


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
    track(proc)
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
        untrack(proc)
    return proc.returncode, out, err or ""
