"""increase_below: a counter that increased by less than a number over a window:
``increase(m{job="…"}[26h]) < 1`` (a nightly backup that stopped succeeding). With
``when_absent: fire`` it also fires when the counter has no series at all.

The derived scenarios: a flat counter fires after for:; then one jump from zero, just below,
at and just above the threshold, resolves it (or not) at once, the same on Prometheus 2.x and
3.x (see increase_above.py); when the jump leaves the window the alert comes back."""

from __future__ import annotations

from typing import Any

from promcontract.kinds import base
from promcontract.kinds.increase_above import (
    SAMPLE,
    IncreaseAbove,
    IncreaseSpec,
    jump,
)
from promcontract.kinds.series import LOOKBACK, STALE, Scenario, Series, base_labels, steps
from promcontract.model.contract import Alert, Contract
from promcontract.numbers import format_number


class IncreaseBelow(base.AbsentBranch, IncreaseAbove):
    name = "increase_below"
    doc = "a counter increased by less than a number over a window; optionally fires when absent"
    fields_doc = ('`metric` (a counter), `window`, `threshold`, `comparison: "<"|"<="`, '
                  '`when_absent`')
    promql_doc = '`increase(m{job="…"}[30m]) < 1`'
    properties = {"metric": base.METRIC_NAME, "window": base.DURATION, "threshold": base.NUMBER,
                  "comparison": {"enum": ["<", "<="]}, **base.ABSENT_FIELDS}
    strict = "<"

    example = {
        "metrics": [{"name": "example_jobs_done_total", "type": "counter", "help": "Jobs done.",
                     "unit": "count", "domain": {"kind": "count"}}],
        "alert": {"name": "ExampleStalled", "kind": "increase_below",
                  "metric": "example_jobs_done_total", "window": "30m", "threshold": 1,
                  "for": "5m"}}

    def check(self, raw: dict[str, Any], ctx: base.CheckContext) -> None:
        super().check(raw, ctx)
        base.check_absent_label(raw, ctx.metrics.get(raw["metric"]), ctx)

    def check_threshold(self, raw: dict[str, Any], ctx: base.CheckContext) -> None:
        threshold, comparison = float(raw["threshold"]), raw.get("comparison", self.strict)
        if threshold < 0 or (threshold == 0 and comparison == "<"):
            ctx.add("threshold", f"threshold {raw['threshold']} with '{comparison}': a "
                    "counter's increase is never below it, so the alert would never fire")

    def holds(self, value: float, spec: IncreaseSpec) -> bool:
        return base.compares(value, spec.comparison, spec.threshold)

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        spec = alert.spec
        metric = contract.metric(spec.metric)
        labels = base_labels(contract, base.item_label(contract, spec.metric))
        for_steps, window = steps(alert.for_seconds), steps(spec.window)
        flat = for_steps + 4  # minutes of a counter at 0: it fires at for:
        length = flat + window + for_steps + 4
        out = [Scenario(alert.name, "counter does not increase: fires",
                        (Series(metric.name, labels, (5.0,) * 2 * (for_steps + 5), SAMPLE),))]
        for title, size in self.jumps(spec):
            stops = not self.holds(size, spec)
            out.append(Scenario(alert.name, f"firing, then one increase of {format_number(size)}"
                                f" ({title} the threshold): "
                                + ("stops at once, fires again once it has left the window"
                                   if stops else "keeps firing"),
                                (jump(metric.name, labels, flat, size, length),)))
        rate = spec.threshold + 1
        ramp = tuple(float(rate * k) for k in range(2 * (window + for_steps + 6)))
        out.append(Scenario(alert.name, "steady increase: quiet",
                            (Series(metric.name, labels, ramp, SAMPLE),)))
        other = base_labels(contract, {"job": contract.job + "-other"})
        fires = spec.when_absent == "fire"
        out.append(Scenario(alert.name, "counter absent (only another job's): "
                            + ("fires" if fires else "quiet (when_absent: silent)"),
                            (Series(metric.name, other, (0.0,) * 2 * (for_steps + 5), SAMPLE),)))
        gap = 2 * (steps(LOOKBACK) + window + for_steps + 3)
        out.append(Scenario(alert.name, "counter goes stale while firing: "
                            + ("fires (absent)" if fires else "resolves"),
                            (Series(metric.name, labels, (5.0,) * 2 * (for_steps + 5) + (STALE,)
                                    + (None,) * gap, SAMPLE),)))
        return out

    def property_space(self, alert: Alert, contract: Contract) -> base.PropertySpace:
        space = super().property_space(alert, contract)
        return base.PropertySpace(space.near, (0.0, 0.0, *space.near), counter=True)


KIND = IncreaseBelow()
