"""Writers: one module per output, one registry serving both `render --format NAME` (all
contracts into one document, to stdout or -o) and `make rules` (the files each contract owns
beside the template: its rule file, its test file, its docs page).

A writer module has ``NAME`` and any of: ``render(contracts, options) -> str`` with
``needs_namespace`` and ``check_options(options)`` (a `--format`), and
``generated(contract, dirs, notes) -> (path, text) | None`` (a file `make rules` keeps fresh;
None when the contract has no such file).
Adding an output is adding a module here.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Options:
    namespace: str | None = None
    name: str | None = None
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Dirs:
    generated: str = "rules/generated"
    docs: str = "docs"


@functools.lru_cache(maxsize=1)
def writers() -> dict[str, ModuleType]:
    found = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        if hasattr(loaded, "NAME"):
            found[loaded.NAME] = loaded
    return found


def formats() -> dict[str, ModuleType]:
    """Writers usable as `render --format NAME`."""
    return {name: w for name, w in writers().items() if hasattr(w, "render")}


def per_contract() -> list[ModuleType]:
    """Writers of the files `make rules` writes for each contract, in a stable order."""
    order = ("rulefile", "testfile", "pusherfile", "docs")
    found = [w for w in writers().values() if hasattr(w, "generated")]
    return sorted(found, key=lambda w: order.index(w.NAME) if w.NAME in order else len(order))


__all__ = ["Options", "Dirs", "writers", "formats", "per_contract"]
