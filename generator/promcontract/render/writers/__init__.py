"""Writers: one module per output, one registry serving both `render --format NAME` (all
contracts into one document, to stdout or -o) and `make rules` (the files each contract owns
beside the template: its rule file, its test file, its docs page).

A writer module is a ``Writer`` (``NAME``) and a ``Format`` (``render(contracts, options)``,
``needs_namespace``, ``check_options(options)``: a `--format`), a ``Generated``
(``generated(contract, dirs, notes) -> (path, text) | None``: a file `make rules` keeps
fresh) or both. Adding an output is adding a module here; ``plugins.discover`` finds it, as
it finds kinds and lint checks.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from promcontract import plugins


@dataclass(frozen=True)
class Options:
    namespace: str | None = None
    name: str | None = None
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Dirs:
    generated: str = "rules/generated"
    docs: str = "docs"


@runtime_checkable
class Writer(Protocol):
    """A module of writers/ that is an output: its name; it is a ``Format``, a ``Generated``
    or both. Its docstring's first sentence is its line in the README's formats table."""

    NAME: str


@runtime_checkable
class Format(Protocol):
    """``render --format NAME``: all contracts into one document."""

    NAME: str
    needs_namespace: bool

    def check_options(self, options: Options) -> None: ...

    def render(self, contracts: list[Any], options: Options) -> str: ...


@runtime_checkable
class Generated(Protocol):
    """A file `make rules` keeps fresh per contract (None: the contract has none)."""

    NAME: str

    def generated(self, contract: Any, dirs: Dirs, notes: list[str]  # noqa: ANN401
                  ) -> tuple[str, str] | None: ...


# Modules of writers/ that are not outputs: what the writers share.
HELPERS = {"k8s"}


@functools.lru_cache(maxsize=1)
def writers() -> dict[str, ModuleType]:
    found = {}
    for module in plugins.discover(sys.modules[__name__], Writer, HELPERS):
        if not isinstance(module, (Format, Generated)):
            raise TypeError(f"{module.__name__} is neither a Format nor a Generated writer")
        found[module.NAME] = module
    return found


def formats() -> dict[str, ModuleType]:
    """Writers usable as `render --format NAME`."""
    return {name: w for name, w in writers().items() if isinstance(w, Format)}


def per_contract() -> list[ModuleType]:
    """Writers of the files `make rules` writes for each contract, in a stable order."""
    order = ("rulefile", "testfile", "pusherfile", "docs")
    found = [w for w in writers().values() if isinstance(w, Generated)]
    return sorted(found, key=lambda w: order.index(w.NAME) if w.NAME in order else len(order))


__all__ = ["Options", "Dirs", "Writer", "Format", "Generated", "writers", "formats",
           "per_contract"]
