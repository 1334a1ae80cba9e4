"""The files a run reads, so that no output of the same run ever replaces one of them.

``lint -o <template>`` once truncated the template it had just read to an empty report.
Comparing paths would miss ``./x`` against ``x``, a symlink to the input, or a hard link:
an input is known by its device and inode (``os.stat`` follows symlinks; hard links share
an inode), recorded when it is named on the command line and whenever it is read.
"""

from __future__ import annotations

import os
import stat

_seen: dict[tuple[int, int], str] = {}


def reset() -> None:
    """Forget every input: a new command starts (tests run many commands in one process)."""
    _seen.clear()


def note(*paths: str | None) -> None:
    """Record ``paths`` as inputs; names that do not exist (yet) or are not regular files
    (``-`` for stdin, a device) are no file an output could replace."""
    for path in paths:
        if not path or path == "-":
            continue
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(st.st_mode):
            _seen.setdefault((st.st_dev, st.st_ino), path)


def clash(path: str) -> str | None:
    """The input (as first named) that ``path`` is the same file as, or None."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return _seen.get((st.st_dev, st.st_ino))


def same_file(a: str, b: str) -> bool:
    """``a`` and ``b`` name one existing file (through symlinks and hard links)."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)
