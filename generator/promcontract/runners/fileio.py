"""Reading and writing user files: exact bytes in, atomic writes out.

Text is decoded from UTF-8 without newline translation, so CRLF and a missing final newline
survive a round trip. Writes go to a temp file in the same directory, then ``os.replace``:
a reader sees the old file or the new one, never half of either.
"""

from __future__ import annotations

import os
import tempfile

from promcontract.contract.yamlsource import nul_problem, read_text
from promcontract.problems import Location, Problem, UserError

__all__ = ["read_text", "read_template", "write_atomic", "check_writable"]


def read_template(path: str) -> str:
    """A values template: UTF-8 text without NUL bytes (Terraform and YAML refuse them)."""
    text = read_text(path)
    problem = nul_problem(text, path)
    if problem is not None:
        raise UserError(problem)
    return text


def check_writable(path: str) -> None:
    """Fail early (before any work) when ``path`` or its directory cannot be written."""
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


def write_atomic(path: str, text: str) -> None:
    """Replace ``path``'s content atomically. A symlink is written through: its target gets
    the new content (the temp file is made beside the target) and the link stays a link."""
    path = os.path.realpath(path) if os.path.islink(path) else path
    check_writable(path)
    directory = os.path.dirname(os.path.abspath(path))
    mode = None
    if os.path.exists(path):
        mode = os.stat(path).st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode if mode is not None else 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UserError(Problem(Location(path), f"cannot write: {exc.strerror}")) from None
