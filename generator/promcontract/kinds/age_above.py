"""age_above: a unix_seconds metric (per item) older than a duration:
``time() - m{job="…"} > 72 * 3600``. Keeps every label of the metric, so the alert names its
item, and the age grows between pushes."""

from __future__ import annotations

from promcontract.durations import format_duration, written_unit
from promcontract.kinds import base, shapes
from promcontract.kinds.heartbeat_stale import LEAD, HeartbeatStale
from promcontract.kinds.series import (
    STALE,
    STEP,
    Scenario,
    Series,
    base_labels,
    steps,
)
from promcontract.model.contract import Alert, Contract


class AgeAbove(HeartbeatStale):
    name = "age_above"
    doc = "a unix-seconds metric (per item) older than a duration"
    fields_doc = '`metric` (unix_seconds), `threshold` (duration)'
    promql_doc = '`time() - m{job="…"} > 72 * 3600` (keeps every label of `m`)'
    properties = {"metric": base.METRIC_NAME, "threshold": base.DURATION}
    required = ("metric", "threshold")
    batchable = True
    time_valued = True

    example = {
        "metrics": [{"name": "example_item_created_timestamp_seconds", "type": "gauge",
                     "help": "Unix time each item was created.", "unit": "unix_seconds",
                     "labels": ["item"], "domain": {"kind": "unix_seconds"}}],
        "alert": {"name": "ExampleItemOld", "kind": "age_above",
                  "metric": "example_item_created_timestamp_seconds", "threshold": "3d",
                  "for": "1h"}}

    def recognise(self, shape: shapes.Shape) -> shapes.Fields | shapes.Refused | None:
        """``time() - m > N``: an age per item (no max, no absent branch)."""
        found = shapes.age_of(shape)
        if found is None or found[1] or shape.absent:
            return None
        return {"metric": found[0].name, "threshold": shapes.seconds_text(shape.value)}

    def expr(self, alert: Alert, contract: Contract) -> str:
        spec = alert.spec
        return (f"time() - {base.selector(contract, spec.metric)} > "
                f"{base.seconds_literal(spec.threshold)}")

    def absent_branch(self, alert: Alert) -> bool:
        return False

    def output_labels(self, alert: Alert, contract: Contract) -> frozenset[str]:
        return base.metric_labels(contract, alert.spec.metric)

    def condition(self, alert: Alert, contract: Contract, series: tuple[Series, ...]
                  ) -> base.Condition:
        threshold = alert.spec.threshold
        return base.each_series(contract, series, alert.spec.metric,
                                lambda t, v: t - v if t - v > threshold else None)

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        spec = alert.spec
        metric = contract.metric(spec.metric)
        hold = steps(alert.for_seconds) + 4
        fine = written_unit(spec.threshold_text)
        crossing = -(spec.threshold - LEAD * STEP)
        span = LEAD + hold
        item = metric.labels[0] if metric.labels else None
        old = base_labels(contract, {item: "old"} if item else None)
        young = base_labels(contract, {item: "young"} if item else None)
        if item:
            out = [Scenario(alert.name, "one series ages past the threshold, one does not",
                            (Series(metric.name, old, (crossing,) * (span + 1)),
                             Series(metric.name, young, (0.0,) * (span + 1))))]
        else:  # one series only: two with the same labels are one series twice
            out = [Scenario(alert.name, "the series ages past the threshold",
                            (Series(metric.name, old, (crossing,) * (span + 1)),)),
                   Scenario(alert.name, "a young series: quiet",
                            (Series(metric.name, young, (0.0,) * (span + 1)),))]
        for past in base.past_offsets(fine):
            out.append(Scenario(alert.name, f"age {format_duration(past)} past the threshold at "
                                "an evaluation: fires a step earlier",
                                (Series(metric.name, old, (crossing - past,) * (span + 1)),)))
        out.append(Scenario(alert.name, "series cleared (clean run) after firing: resolves",
                            (Series(metric.name, old, (crossing,) * (span + 1)
                                    + (STALE,) * 3),)))
        return out

    def property_space(self, alert: Alert, contract: Contract) -> base.PropertySpace:
        space = super().property_space(alert, contract)
        return base.PropertySpace(space.near, space.usual)


KIND = AgeAbove()
