"""The registry of alert kinds and invariant kinds: one module per kind in this folder.

A module defines ``KIND``, an ``AlertKind`` or an ``InvariantKind`` instance. Adding a kind is
adding a module (and its test); nothing else changes: the modules are found here by listing
the folder, and every engine asks the registry.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from promcontract.kinds.base import AlertKind, InvariantKind

_NOT_KINDS = {"base"}


@functools.lru_cache(maxsize=1)
def _registry() -> tuple[dict[str, AlertKind], dict[str, InvariantKind]]:
    alerts: dict[str, AlertKind] = {}
    invariants: dict[str, InvariantKind] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name in _NOT_KINDS or module.name.startswith("_"):
            continue
        kind = importlib.import_module(f"{__name__}.{module.name}").KIND
        table = alerts if isinstance(kind, AlertKind) else invariants
        if kind.name in table:
            raise RuntimeError(f"kind {kind.name} is defined twice")
        table[kind.name] = kind
    return alerts, invariants


def alert_kinds() -> dict[str, AlertKind]:
    """Every alert kind by name (including ``invariant``, the kind of invariant alerts)."""
    return _registry()[0]


def invariant_kinds() -> dict[str, InvariantKind]:
    return _registry()[1]


def alert_kind(name: str) -> AlertKind:
    return alert_kinds()[name]


def invariant_kind(name: str) -> InvariantKind:
    return invariant_kinds()[name]


def of(alert) -> AlertKind:  # noqa: ANN001 - an Alert
    """The kind of ``alert``."""
    return alert_kinds()[alert.kind]


__all__ = ["AlertKind", "InvariantKind", "alert_kinds", "invariant_kinds", "alert_kind",
           "invariant_kind", "of"]
