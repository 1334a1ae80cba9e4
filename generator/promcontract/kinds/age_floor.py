"""age_floor: an age metric equals floor((reference - since) / unit) per item
(drift_stack_age_hours from first_seen and the last run). Checked by verify only."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from promcontract.durations import parse_duration
from promcontract.kinds import base
from promcontract.labels import format_series
from promcontract.model.contract import Invariant
from promcontract.numbers import format_number


@dataclass(frozen=True)
class AgeFloorSpec:
    metric: str
    since: str
    reference: str
    unit: str
    unit_seconds: float


class AgeFloor(base.InvariantKind):
    name = "age_floor"
    doc = "an age equals floor((reference - since) / unit) per item"
    properties = {"metric": base.METRIC_NAME, "since": base.METRIC_NAME,
                  "reference": base.METRIC_NAME, "unit": base.DURATION}
    required = ("metric", "since", "reference", "unit")
    metric_fields = ("metric", "since", "reference")

    def parse(self, raw: dict[str, Any]) -> AgeFloorSpec:
        return AgeFloorSpec(raw["metric"], raw["since"], raw["reference"], raw["unit"],
                            parse_duration(raw["unit"]))

    def check(self, raw: dict[str, Any], ctx: base.CheckContext) -> None:
        super().check(raw, ctx)
        try:
            if parse_duration(raw["unit"]) <= 0:
                ctx.add("unit", "unit must be a positive duration")
        except ValueError as exc:
            ctx.add("unit", str(exc))

    def verify(self, inv: Invariant, keyed: dict, add) -> None:  # noqa: ANN001
        spec = inv.spec
        reference = base.single(keyed, spec.reference)
        since = keyed.get(spec.since, {})
        for item, sample in keyed.get(spec.metric, {}).items():
            start = since.get(item)
            if start is None:
                add(sample.line, f"{format_series(sample.name, item)} has no "
                    f"{format_series(spec.since, item)} to be computed from "
                    f"({inv.description})")
                continue
            if reference is None or not all(math.isfinite(v) for v in (
                    reference.value, start.value, sample.value)):
                continue  # a non-finite value is reported by its domain check
            expected = math.floor((reference.value - start.value) / spec.unit_seconds)
            if sample.value != expected:
                add(sample.line, f"{format_series(sample.name, item)} is "
                    f"{format_number(sample.value)}, expected {expected} from {spec.since} = "
                    f"{format_number(start.value)} and {reference.name} = "
                    f"{format_number(reference.value)} ({inv.description})")


KIND = AgeFloor()
