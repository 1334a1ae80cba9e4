"""not_after: a per-item time is not after a reference time (a streak cannot start after the
run that reports it). Checked by verify only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promcontract.kinds import base
from promcontract.labels import format_series
from promcontract.model.contract import Invariant
from promcontract.numbers import format_number


@dataclass(frozen=True)
class NotAfterSpec:
    metric: str
    reference: str


class NotAfter(base.InvariantKind):
    name = "not_after"
    doc = "a per-item time is not after a reference time"
    properties = {"metric": base.METRIC_NAME, "reference": base.METRIC_NAME}
    required = ("metric", "reference")
    metric_fields = ("metric", "reference")

    def parse(self, raw: dict[str, Any]) -> NotAfterSpec:
        return NotAfterSpec(raw["metric"], raw["reference"])

    def verify(self, inv: Invariant, keyed: dict, add) -> None:  # noqa: ANN001
        reference = base.single(keyed, inv.spec.reference)
        if reference is None:
            return
        for sample in keyed.get(inv.spec.metric, {}).values():
            if sample.value > reference.value:
                add(sample.line, f"{format_series(sample.name, sample.labels)} = "
                    f"{format_number(sample.value)} is after {reference.name} = "
                    f"{format_number(reference.value)} ({inv.description})")


KIND = NotAfter()
