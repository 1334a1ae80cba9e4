"""The registry of alert kinds and invariant kinds: one module per kind in this folder.

A module defines ``KIND``, an ``AlertKind`` or an ``InvariantKind`` instance
(``base.KindModule``). Adding a kind is adding a module (and its example, which the registry
test runs end to end); nothing else changes: the modules are found by ``plugins.discover``
like lint checks and writers, and every engine asks the registry.
"""

from __future__ import annotations

import functools
import sys

from promcontract import plugins
from promcontract.kinds import base
from promcontract.kinds.base import AlertKind, InvariantKind
from promcontract.model.contract import Alert, Contract

HELPERS = {"base", "exprs", "series", "shapes"}  # modules the kinds share, not kinds


@functools.lru_cache(maxsize=1)
def _registry() -> tuple[dict[str, AlertKind], dict[str, InvariantKind]]:
    alerts: dict[str, AlertKind] = {}
    invariants: dict[str, InvariantKind] = {}
    for module in plugins.discover(sys.modules[__name__], base.KindModule, HELPERS):
        kind = module.KIND
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


def of(alert: Alert) -> AlertKind:
    """The kind of ``alert``."""
    return alert_kinds()[alert.kind]


def annotation_templates(alert: Alert, contract: Contract) -> tuple[tuple[str, str], ...]:
    """The annotations as rendered (Prometheus templates): the contract's text, and where the
    expression has an absent branch, the text for that case chosen by the absent label, so a
    page never reads "has not reported for 1s" when there is no series at all."""
    if not alert.summary:
        return ()
    out = [("summary", alert.summary)]
    if alert.description:
        out.append(("description", alert.description))

    kind = of(alert)
    if not kind.absent_branch(alert):
        return tuple(out)
    metric = kind.metrics(alert.spec)[0]
    absent_summary = alert.absent_summary or (
        f"{alert.name}: no {metric} series for job {{{{ $labels.job }}}}: it has never "
        "reported, or its series were deleted")
    absent = {"summary": absent_summary,
              "description": alert.absent_description or absent_summary}
    return tuple((key, f"{{{{ if $labels.{base.ABSENT_LABEL} }}}}{absent[key]}{{{{ else }}}}"
                  f"{text}{{{{ end }}}}") for key, text in out)


__all__ = ["AlertKind", "InvariantKind", "alert_kinds", "invariant_kinds", "alert_kind",
           "invariant_kind", "of", "annotation_templates"]
