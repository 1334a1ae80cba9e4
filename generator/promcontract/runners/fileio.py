"""Reading and writing user files: exact bytes in, atomic writes out.

Text is decoded from UTF-8 without newline translation, so CRLF and a missing final newline
survive a round trip. Writes go to a temp file in the same directory, then ``os.replace``:
a reader sees the old file or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import tempfile
import time
from collections.abc import Iterator

from promcontract import inputs
from promcontract.model.yamlsource import nul_problem, read_text
from promcontract.problems import Location, Problem, UserError

__all__ = ["read_text", "read_template", "write_atomic", "write_all", "check_writable",
           "refuse_input"]


def read_template(path: str) -> str:
    """A values template: UTF-8 text without NUL bytes (Terraform and YAML refuse them)."""
    text = read_text(path)
    problem = nul_problem(text, path)
    if problem is not None:
        raise UserError(problem)
    return text


def check_writable(path: str, *, replaces_input: bool = False) -> None:
    """Fail early (before any work) when ``path`` or its directory cannot be written, or when
    ``path`` is one of this run's inputs (unless ``replaces_input``: render's template)."""
    if not replaces_input:
        refuse_input(path)
    if os.path.islink(path):
        path = os.path.realpath(path)
    if os.path.isdir(path):
        raise UserError(Problem(Location(path), "is a directory; expected a file"))
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.exists(path):
        # Honour the permission bits even for root (os.access says yes to root): a file
        # marked read-only is not ours to replace.
        if not os.access(path, os.W_OK) or os.stat(path).st_mode & 0o222 == 0:
            raise UserError(Problem(Location(path), "file is read-only; not written"))
    if not os.path.isdir(directory):
        raise UserError(Problem(Location(path), f"directory {directory} does not exist"))
    if not os.access(directory, os.W_OK):
        raise UserError(Problem(Location(path), f"directory {directory} is not writable"))


def refuse_input(path: str) -> None:
    """``UserError`` (exit 2) when ``path`` is the same file as an input of this run (by
    device and inode: through symlinks and hard links)."""
    source = inputs.clash(path)
    if source is not None:
        same = "" if os.path.abspath(source) == os.path.abspath(path) else \
            f" (the same file as {source})"
        raise UserError(Problem(Location(path), f"is an input of this command{same}; "
                                "refusing to overwrite it: choose another output"))


def write_atomic(path: str, text: str, *, replaces_input: bool = False) -> None:
    """Replace ``path``'s content atomically. A symlink is written through: its target gets
    the new content (the temp file is made beside the target) and the link stays a link."""
    write_all([(path, text)], replaces_input=replaces_input)


def _target(path: str) -> str:
    return os.path.realpath(path) if os.path.islink(path) else path


def write_all(files: list[tuple[str, str]], *, replaces_input: bool | set[str] = False,
              executable: set[str] | frozenset[str] = frozenset()) -> None:
    """Write every ``(path, text)`` or none: each text is staged as a temp file beside its
    target first (written, flushed, synced); only when all are staged are they renamed into
    place, with SIGINT/SIGTERM held off so Ctrl-C cannot stop the renames half way. On any
    failure (out of disk, a name too long, a read-only directory) the temps are removed and
    every original is kept; a rename that fails half way puts the files renamed before it
    back from hard-linked copies of the originals.

    ``replaces_input``: True, or the set of paths, that may be inputs of this run (render
    rewrites the template it read). ``executable``: paths written with mode 755 (or their
    mode with every execute bit set)."""
    staged: list[tuple[str, str, str]] = []  # (temp, target, shown path)
    current = files[0][0] if files else "."
    try:
        for path, text in files:
            current = path
            allowed = replaces_input is True or (
                isinstance(replaces_input, set) and path in replaces_input)
            target = _target(path)
            check_writable(target, replaces_input=allowed)
            mode = os.stat(target).st_mode & 0o7777 if os.path.exists(target) else 0o644
            if path in executable:
                mode |= 0o111
            directory = os.path.dirname(os.path.abspath(target))
            name = os.path.basename(target)
            if len(name.encode("utf-8", "surrogateescape")) > _name_max(directory):
                raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG))
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name[:40]}.", suffix=".tmp")
            staged.append((tmp, target, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
    except OSError as exc:
        _remove([tmp for tmp, _, _ in staged])
        raise UserError(Problem(Location(current), f"cannot write: {exc.strerror}; nothing was "
                                "written")) from None
    except BaseException:
        _remove([tmp for tmp, _, _ in staged])
        raise
    _commit(staged)


def _commit(staged: list[tuple[str, str, str]]) -> None:
    """Rename every staged temp into place, all or none."""
    blocked = {signal.SIGINT, signal.SIGTERM}
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    backups: list[tuple[str, str]] = []  # (copy of the original, target)
    done: list[str] = []
    try:
        try:
            for tmp, target, _ in staged:
                if os.path.exists(target):
                    backup = tmp[:-len(".tmp")] + ".orig"
                    os.link(target, backup)
                    backups.append((backup, target))
            for tmp, target, _ in staged:
                os.replace(tmp, target)
                done.append(target)
        except OSError as exc:
            restore = dict((target, backup) for backup, target in backups)
            for target in done:
                if target in restore:
                    os.replace(restore.pop(target), target)
                else:
                    _remove([target])
            _remove([tmp for tmp, _, _ in staged] + list(restore.values()))
            shown = staged[len(done)][2] if len(done) < len(staged) else staged[-1][2]
            raise UserError(Problem(Location(shown), f"cannot write: {exc.strerror}; nothing "
                                    "was written")) from None
        _remove([backup for backup, _ in backups])
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


# How long a command waits for another one's lock on the template before giving up: a render
# takes ~1 s (promtool checks included); a minute means something is stuck, not busy.
LOCK_WAIT_S = 60.0


@contextlib.contextmanager
def locked(path: str, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold an advisory lock (``fcntl.flock``, exclusive) on the file at ``path`` for a
    read-modify-write: read it, compute, write it, all inside the ``with``.

    Writes replace the file by rename, so a lock on the old inode would not stop a reader who
    opens the new one: after taking the lock, the path must still name the locked inode;
    otherwise another writer got there first and the lock is taken again on the new file (so
    its content, with the other writer's change, is what this one reads). Waiting is bounded:
    after ``wait_s`` seconds it fails (exit 2) rather than hang.
    """
    target = _target(path)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fd = os.open(target, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            yield  # missing or unreadable: the read under the ``with`` says so
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise UserError(Problem(Location(path), f"locked by another promcontract "
                                        f"process for over {wait_s:g}s; nothing written "
                                        "(try again when it has finished)")) from None
            time.sleep(0.05)
            continue
        except OSError:  # a file system without locks: nothing to hold
            os.close(fd)
            yield
            return
        try:
            now = os.stat(target)
        except OSError:
            now = None
        held = os.fstat(fd)
        if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            break
        os.close(fd)  # replaced while we waited: lock the new file
    try:
        yield
    finally:
        os.close(fd)


def _name_max(directory: str) -> int:
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _remove(paths: list[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass
