"""value_above: a metric above a number (``>``, or ``>=``): ``m{job="…"} > 10``. Keeps every
label of the metric, so the alert names its item."""

from __future__ import annotations

import math
from typing import Any

from promcontract.contract.model import GATEWAY_LABELS, Alert, Contract, format_number
from promcontract.kinds import base
from promcontract.testgen.series import (
    LOOKBACK,
    STALE,
    Scenario,
    Series,
    base_labels,
    steps,
)


class ValueAbove(base.AlertKind):
    name = "value_above"
    doc = "the metric above a number"
    properties = {"metric": base.METRIC_NAME, "threshold": base.NUMBER,
                  "comparison": {"enum": [">", ">="]}}
    required = ("metric", "threshold")
    batchable = True
    strict, loose = ">", ">="

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
        low, high = dom.low, dom.high
        if comparison == ">" and not (low <= threshold < high):
            never = threshold >= high
        elif comparison == ">=" and not (low < threshold <= high):
            never = threshold > high
        else:
            return
        ctx.add("threshold", f"threshold {raw['threshold']} with '{comparison}' is outside the "
                f"domain of {metric['name']} ({dom.describe()}): the alert would "
                + ("never fire" if never else "always fire"))

    def expr(self, alert: Alert, contract: Contract) -> str:
        spec = alert.spec
        return (f"{base.selector(contract, spec.metric)} {spec.comparison} "
                f"{format_number(spec.threshold)}")

    def output_labels(self, alert: Alert, contract: Contract) -> frozenset[str]:
        metric = contract.metric(alert.spec.metric)
        key_labels = {k for k, _ in contract.grouping_key}
        return frozenset(metric.labels) | frozenset(GATEWAY_LABELS) | key_labels

    def holds(self, value: float, spec: base.ThresholdSpec) -> bool:
        return value > spec.threshold if spec.comparison == ">" else value >= spec.threshold

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
            delta = max(abs(thr) * 0.01, 0.01)
            below, at, above = thr - delta, thr, thr + delta
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
                out.append(Scenario(alert.name, f"{title} ({format_number(value)} "
                                    f"{spec.comparison} {format_number(spec.threshold)}?)",
                                    (Series(metric.name, labels, (value,) * (hold + 1)),)))
        firing = self.firing_value(alert, contract)
        gap = steps(LOOKBACK) + 3
        out.append(Scenario(alert.name, "series missing after firing (gap longer than the 5m "
                            "lookback): resolves", (Series(metric.name, labels, (firing,)
                                                           * (hold + 1) + (None,) * gap),)))
        out.append(Scenario(alert.name, "series goes stale after firing: resolves at once",
                            (Series(metric.name, labels, (firing,) * (hold + 1)
                                    + (STALE,) * 3),)))
        out.append(Scenario(alert.name, "gap shorter than the lookback: keeps firing",
                            (Series(metric.name, labels, (firing,) * (hold + 1) + (None,) * 3
                                    + (firing,) * 2),)))
        return out

    def firing_value(self, alert: Alert, contract: Contract) -> float:
        return self.near_values(alert, contract)[2]

    def mutants(self, alert: Alert) -> list[tuple[str, Alert]]:
        return [(f"{alert.name}: threshold {alert.spec.threshold_text} -> "
                 f"{format_number(alert.spec.threshold + sign)}",
                 alert.replace_spec(threshold=alert.spec.threshold + sign))
                for sign in (-1, 1)]

    def property_space(self, alert: Alert, contract: Contract) -> base.PropertySpace:
        thr = alert.spec.threshold
        domain = contract.metric(alert.spec.metric).domain
        step = 1.0 if domain.integral else 0.5
        floor = domain.low if math.isfinite(domain.low) else -math.inf
        near = tuple(max(thr + k * step, floor) for k in range(-2, 3))
        return base.PropertySpace(near=near, usual=near + tuple(thr + k * step for k in (1, 2)))


KIND = ValueAbove()
