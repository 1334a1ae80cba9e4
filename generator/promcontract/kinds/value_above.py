"""value_above: a metric above a number (``>``, or ``>=``): ``m{job="…"} > 10``. Keeps every
label of the metric, so the alert names its item."""

from __future__ import annotations

import math
from typing import Any

from promcontract.kinds import base, shapes
from promcontract.kinds.series import (
    Scenario,
    Series,
    base_labels,
    steps,
)
from promcontract.model.contract import Alert, Contract
from promcontract.numbers import format_number


class ValueAbove(base.AlertKind):
    name = "value_above"
    doc = "the metric above a number"
    fields_doc = '`metric`, `threshold` (number), `comparison: ">"|">="`'
    promql_doc = '`m{job="…"} > 10`'
    properties = {"metric": base.METRIC_NAME, "threshold": base.NUMBER,
                  "comparison": {"enum": [">", ">="]}}
    required = ("metric", "threshold")
    batchable = True
    strict, loose = ">", ">="

    example = {  # a contract fragment: rendered, derived, mutated and imported back by tests
        "metrics": [{"name": "example_queue_depth", "type": "gauge", "help": "Queued items.",
                     "unit": "count", "labels": ["queue"], "domain": {"kind": "count"}}],
        "alert": {"name": "ExampleQueueDeep", "kind": "value_above",
                  "metric": "example_queue_depth", "threshold": 100, "for": "15m"}}

    def recognise(self, shape: shapes.Shape) -> shapes.Fields | shapes.Refused | None:
        """``m > N`` (``>=``; ``m < N``, ``<=`` and ``or absent(m)`` for value_below)."""
        comparison = self.comparison_fields(shape)
        selector = shapes.one_selector(shape.left) if comparison is not None else None
        if selector is None:
            return None
        absent = self.absent_fields(shape)
        if isinstance(absent, shapes.Refused):
            return absent
        return {"metric": selector.name, "threshold": shapes.number(shape.value), **comparison,
                **absent}

    def parse(self, raw: dict[str, Any]) -> base.ThresholdSpec:
        return base.ThresholdSpec(raw["metric"], float(raw["threshold"]), str(raw["threshold"]),
                                  raw.get("comparison", self.strict),
                                  raw.get("when_absent", "silent"))

    def check(self, raw: dict[str, Any], ctx: base.CheckContext) -> None:
        metric = ctx.metric("metric", raw["metric"])
        if not base.check_pinnable(raw, "threshold", ctx) or metric is None:
            return
        self.check_domain(raw, metric, ctx)

    def check_domain(self, raw: dict[str, Any], metric: dict[str, Any],
                     ctx: base.CheckContext) -> None:
        """A threshold outside the metric's domain makes an alert that always or never fires
        (a `> 2` on a 0/1/2 state)."""
        dom = base.domain_of(metric)
        threshold = float(raw["threshold"])
        comparison = raw.get("comparison", self.strict)
        # a comparison is monotone over the domain: its two ends say never / always
        ends = [base.compares(end, comparison, threshold) for end in (dom.low, dom.high)]
        if any(ends) and not all(ends):
            return
        never = not any(ends)
        ctx.add("threshold", f"threshold {raw['threshold']} with '{comparison}' is outside the "
                f"domain of {metric['name']} ({dom.describe()}): the alert would "
                + ("never fire" if never else "always fire"))

    def expr(self, alert: Alert, contract: Contract) -> str:
        spec = alert.spec
        return (f"{base.selector(contract, spec.metric)} {spec.comparison} "
                f"{format_number(spec.threshold)}")

    def output_labels(self, alert: Alert, contract: Contract) -> frozenset[str]:
        return base.metric_labels(contract, alert.spec.metric)

    def holds(self, value: float, spec: base.ThresholdSpec) -> bool:
        return base.compares(value, spec.comparison, spec.threshold)

    def condition(self, alert: Alert, contract: Contract, series: tuple[Series, ...]
                  ) -> base.Condition:
        spec = alert.spec
        return base.each_series(contract, series, spec.metric,
                                lambda t, v: v if self.holds(v, spec) else None)

    def near_values(self, alert: Alert, contract: Contract
                    ) -> tuple[float | None, float | None, float | None]:
        """The nearest values the metric can take just below, at and just above the
        threshold (None: not a value of the metric)."""
        thr = alert.spec.threshold
        metric = contract.metric(alert.spec.metric)
        if metric.domain.integral:
            below, at, above = math.ceil(thr) - 1.0, thr if thr.is_integer() else None, \
                math.floor(thr) + 1.0
        else:
            # A step no larger than the threshold's own precision (0.995 is told from 0.994
            # and 0.996), and inside the domain: on [0, 1], 0.995 + 0.01 is no value the
            # metric takes, so "just above" is halfway to the bound instead.
            delta = min(base.nearby(thr), base.precision_step(alert.spec.threshold_text))
            below, at, above = base.inside(thr - delta, thr, metric.domain.low), thr, \
                base.inside(thr + delta, thr, metric.domain.high)
        return tuple(v if v is not None and metric.domain.contains(v) else None
                     for v in (below, at, above))

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        spec = alert.spec
        metric = contract.metric(spec.metric)
        hold = steps(alert.for_seconds) + 4  # just past the for: boundary
        labels = base_labels(contract, base.item_label(contract, spec.metric))
        below, at, above = self.near_values(alert, contract)
        out = []
        for title, value in (("just below the threshold", below), ("at the threshold", at),
                             ("just above the threshold", above)):
            if value is not None:
                outcome = "fires" if self.holds(value, spec) else "quiet"
                out.append(Scenario(alert.name, f"{title} ({format_number(value)} "
                                    f"{spec.comparison} {format_number(spec.threshold)}?): "
                                    f"{outcome}",
                                    (Series(metric.name, labels, (value,) * (hold + 1)),)))
        firing, quiet = self.firing_value(alert, contract), self.quiet_value(alert, contract)
        if firing is None:
            return out
        if alert.keep_firing_seconds > 0 and quiet is not None:
            # the condition clears while firing: kept firing that long, then resolved
            out.append(Scenario(alert.name, f"firing, then {format_number(quiet)}: kept "
                                "firing for keep_firing_for, then resolves",
                                (Series(metric.name, labels, (firing,) * (hold + 1)
                                        + (quiet,) * (steps(alert.keep_firing_seconds) + 3)),)))
        return out + base.after_firing(alert, metric.name, labels, firing, hold)

    def firing_value(self, alert: Alert, contract: Contract) -> float | None:
        """The value nearest the threshold that fires (just past it, or at it for a loose
        comparison when nothing past it is a value of the metric)."""
        return self._nearest(alert, contract, fires=True)

    def quiet_value(self, alert: Alert, contract: Contract) -> float | None:
        """The value nearest the threshold that does not fire (at it, or just short of it)."""
        return self._nearest(alert, contract, fires=False)

    def _nearest(self, alert: Alert, contract: Contract, *, fires: bool) -> float | None:
        below, at, above = self.near_values(alert, contract)
        past, short = (above, below) if self.strict == ">" else (below, above)
        order = (past, at) if fires else (at, short)
        return next((v for v in order if v is not None
                     and self.holds(v, alert.spec) == fires), None)

    def property_space(self, alert: Alert, contract: Contract) -> base.PropertySpace:
        return base.near_space(alert.spec.threshold,
                               contract.metric(alert.spec.metric).domain, +1)


KIND = ValueAbove()
