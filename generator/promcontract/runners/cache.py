"""Markers of contract texts that already passed the JSON Schema.

A marker is an empty file named by the hash of promcontract's version, the schema and the
contract text, in ``~/.cache/promcontract`` (``$XDG_CACHE_HOME``, or
``PROMCONTRACT_CACHE_DIR``; set it empty to turn this off). Its presence lets later runs skip
the schema and jsonschema's ~0.1 s import; it holds nothing that is read back.
"""

from __future__ import annotations

import hashlib
import os

from promcontract import __version__


def cache_dir() -> str | None:
    """Where markers live (None: caching off)."""
    explicit = os.environ.get("PROMCONTRACT_CACHE_DIR")
    if explicit is not None:
        return explicit or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "promcontract")


def marker(schema_text: str, text: str) -> str | None:
    directory = cache_dir()
    if directory is None:
        return None
    digest = hashlib.sha256()
    for part in (__version__, schema_text, text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return os.path.join(directory, "schema-ok-" + digest.hexdigest())


def remember(path: str | None) -> None:
    if path is None:
        return
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError:
        pass  # a cache that cannot be written only costs time
