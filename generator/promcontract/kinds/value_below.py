"""value_below: a metric below a number (``<``, or ``<=``): ``m{job="…"} < 1e9`` (a backup that
is too small, free space running out). Keeps every label of the metric. With
``when_absent: fire`` it also fires when the metric has no series at all."""

from __future__ import annotations

from typing import Any

from promcontract.kinds import base
from promcontract.kinds.series import (
    STALE,
    Scenario,
    Series,
    base_labels,
    steps,
)
from promcontract.kinds.value_above import ValueAbove
from promcontract.model.contract import Alert, Contract


class ValueBelow(base.AbsentBranch, ValueAbove):
    name = "value_below"
    doc = "the metric below a number; optionally fires when absent"
    fields_doc = '`metric`, `threshold`, `comparison: "<"|"<="`, `when_absent`'
    promql_doc = '`m{job="…"} < 1000000000`'
    properties = {"metric": base.METRIC_NAME, "threshold": base.NUMBER,
                  "comparison": {"enum": ["<", "<="]}, **base.ABSENT_FIELDS}
    strict, loose = "<", "<="

    example = {
        "metrics": [{"name": "example_free_bytes", "type": "gauge", "help": "Free space.",
                     "unit": "bytes", "domain": {"kind": "range", "min": 0}}],
        "alert": {"name": "ExampleDiskFull", "kind": "value_below", "metric": "example_free_bytes",
                  "threshold": 1000000, "comparison": "<=", "when_absent": "fire",
                  "for": "10m"}}

    def check(self, raw: dict[str, Any], ctx: base.CheckContext) -> None:
        super().check(raw, ctx)
        base.check_absent_label(raw, ctx.metrics.get(raw["metric"]), ctx)

    def holds(self, value: float, spec: base.ThresholdSpec) -> bool:
        return base.compares(value, spec.comparison, spec.threshold)

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        out = super().scenarios(alert, contract)
        if alert.spec.when_absent == "fire":
            metric = contract.metric(alert.spec.metric)
            span = steps(alert.for_seconds) + 5
            other = base_labels(contract, {"job": contract.job + "-other"})
            labels = base_labels(contract, base.item_label(contract, metric.name))
            quiet = self.quiet_value(alert, contract)
            if quiet is None:
                return out
            out.append(Scenario(alert.name, "series absent (only another job's): fires",
                                (Series(metric.name, other, (quiet,) * (span + 1)),)))
            out.append(Scenario(alert.name, "series goes stale: fires",
                                (Series(metric.name, labels, (quiet,) * 4
                                        + (STALE,) * (span + 1)),)))
        return out

    def property_space(self, alert: Alert, contract: Contract) -> base.PropertySpace:
        return base.near_space(alert.spec.threshold,
                               contract.metric(alert.spec.metric).domain, -1)

    def quiet_sample(self, alert: Alert, t: int) -> float:
        return float("inf")


KIND = ValueBelow()
