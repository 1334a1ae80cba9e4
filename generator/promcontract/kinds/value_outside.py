"""value_outside: a metric outside a range: ``m{job="…"} < 60 or m{job="…"} > 14400`` (a backup
suspiciously fast or slow). Keeps every label of the metric."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promcontract.kinds import base, shapes
from promcontract.kinds.series import Scenario, Series, base_labels, steps
from promcontract.model.contract import Alert, Contract
from promcontract.numbers import format_number
from promcontract.promql.labels import constant_value
from promcontract.promql.nodes import Binary, unparen


@dataclass(frozen=True)
class RangeSpec:
    metric: str
    min: float
    max: float
    min_text: str
    max_text: str


class ValueOutside(base.AlertKind):
    name = "value_outside"
    doc = "the metric below min or above max"
    fields_doc = '`metric`, `min`, `max`'
    promql_doc = '`m{job="…"} < 60 or m{job="…"} > 14400`'
    properties = {"metric": base.METRIC_NAME, "min": base.NUMBER, "max": base.NUMBER}
    required = ("metric", "min", "max")
    batchable = True

    example = {
        "metrics": [{"name": "example_workers", "type": "gauge", "help": "Workers running.",
                     "unit": "count",
                     "domain": {"kind": "range", "min": 0, "max": 100, "integer": True}}],
        "alert": {"name": "ExampleWorkers", "kind": "value_outside", "metric": "example_workers",
                  "min": 2, "max": 50, "for": "10m"}}

    def recognise(self, shape: shapes.Shape) -> shapes.Fields | shapes.Refused | None:
        """``m < A or m > B``."""
        body = shape.body
        if not (isinstance(body, Binary) and body.op == "or" and not body.return_bool):
            return None
        low, high = unparen(body.lhs), unparen(body.rhs)
        if not (isinstance(low, Binary) and isinstance(high, Binary) and low.op == "<"
                and high.op == ">"):
            return None
        a, b = shapes.one_selector(low.lhs), shapes.one_selector(high.lhs)
        lo, hi = constant_value(low.rhs), constant_value(high.rhs)
        if not (a and b and a == b and lo is not None and hi is not None):
            return None
        absent = self.absent_fields(shape)
        if isinstance(absent, shapes.Refused):
            return absent
        return {"metric": a.name, "min": shapes.number(lo), "max": shapes.number(hi)}

    def parse(self, raw: dict[str, Any]) -> RangeSpec:
        return RangeSpec(raw["metric"], float(raw["min"]), float(raw["max"]), str(raw["min"]),
                         str(raw["max"]))

    def check(self, raw: dict[str, Any], ctx: base.CheckContext) -> None:
        metric = ctx.metric("metric", raw["metric"])
        pinned = base.check_pinnable(raw, "min", ctx) & base.check_pinnable(raw, "max", ctx)
        if not pinned:
            return
        if float(raw["min"]) >= float(raw["max"]):
            ctx.add("max", f"max {raw['max']} must be above min {raw['min']}")
            return
        if metric is None:
            return
        dom = base.domain_of(metric)
        if float(raw["min"]) <= dom.low:
            ctx.add("min", f"min {raw['min']} is at or below the lowest value of "
                    f"{metric['name']} ({dom.describe()}): that side never fires; use "
                    "value_above")
        if float(raw["max"]) >= dom.high:
            ctx.add("max", f"max {raw['max']} is at or above the highest value of "
                    f"{metric['name']} ({dom.describe()}): that side never fires; use "
                    "value_below")

    def expr(self, alert: Alert, contract: Contract) -> str:
        sel = base.selector(contract, alert.spec.metric)
        return (f"{sel} < {format_number(alert.spec.min)} or "
                f"{sel} > {format_number(alert.spec.max)}")

    def output_labels(self, alert: Alert, contract: Contract) -> frozenset[str]:
        return base.metric_labels(contract, alert.spec.metric)

    def condition(self, alert: Alert, contract: Contract, series: tuple[Series, ...]
                  ) -> base.Condition:
        low, high = alert.spec.min, alert.spec.max
        return base.each_series(contract, series, alert.spec.metric,
                                lambda t, v: v if v < low or v > high else None)

    def _around(self, value: float, integral: bool, text: str = "",
                domain=None) -> tuple[float, float, float]:  # noqa: ANN001
        """Just below, at and just above ``value``: a unit for whole-number metrics, else a
        step no larger than the precision ``text`` is written in, kept inside ``domain``
        (halfway to its bound when one step would pass it)."""
        if integral:
            return value - 1.0, value, value + 1.0
        delta = min(base.nearby(value), base.precision_step(text)) if text else \
            base.nearby(value)
        if domain is None:
            return value - delta, value, value + delta
        return (base.inside(value - delta, value, domain.low), value,
                base.inside(value + delta, value, domain.high))

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        spec = alert.spec
        metric = contract.metric(spec.metric)
        domain = metric.domain
        hold = steps(alert.for_seconds) + 4
        labels = base_labels(contract, base.item_label(contract, spec.metric))
        out = []
        for edge, name in ((spec.min, "min"), (spec.max, "max")):
            text = spec.min_text if name == "min" else spec.max_text
            for title, value in zip(("just below", "at", "just above"),
                                    self._around(edge, domain.integral, text, domain),
                                    strict=True):
                if not domain.contains(value):
                    continue
                fires = value < spec.min or value > spec.max
                out.append(Scenario(alert.name, f"{title} {name} ({format_number(value)}): "
                                    + ("fires" if fires else "quiet"),
                                    (Series(metric.name, labels, (value,) * (hold + 1)),)))
        firing = self._around(spec.max, domain.integral, spec.max_text, domain)[2]
        if alert.keep_firing_seconds > 0:
            out.append(Scenario(alert.name, f"firing, then {format_number(spec.max)}: kept "
                                "firing for keep_firing_for, then resolves",
                                (Series(metric.name, labels, (firing,) * (hold + 1)
                                        + (spec.max,) * (steps(alert.keep_firing_seconds)
                                                         + 3)),)))
        return out + base.after_firing(alert, metric.name, labels, firing, hold,
                                       short_gap=False)

    def property_space(self, alert: Alert, contract: Contract) -> base.PropertySpace:
        spec = alert.spec
        integral = contract.metric(spec.metric).domain.integral
        near = self._around(spec.min, integral) + self._around(spec.max, integral)
        outside = (self._around(spec.min, integral)[0], self._around(spec.max, integral)[2])
        return base.PropertySpace(near=near, usual=outside + near)

    def quiet_sample(self, alert: Alert, t: int) -> float:
        return (alert.spec.min + alert.spec.max) / 2


KIND = ValueOutside()
