"""value_equals: a metric equal to one value: ``m{job="…"} == 2`` (a state enum in its failing
state: "state == 2", not "> 1", which would also catch a state added later)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promcontract.kinds import base, shapes
from promcontract.kinds.series import Scenario, Series, base_labels, steps
from promcontract.model.contract import Alert, Contract
from promcontract.numbers import format_number


@dataclass(frozen=True)
class EqualsSpec:
    metric: str
    value: float
    value_text: str


class ValueEquals(base.AlertKind):
    name = "value_equals"
    doc = "the metric equal to one value (a state of an enum)"
    fields_doc = '`metric`, `value` (a state of an enum)'
    promql_doc = '`m{job="…"} == 2`'
    properties = {"metric": base.METRIC_NAME, "value": base.NUMBER}
    required = ("metric", "value")
    batchable = True

    unit_guess = "state"

    example = {
        "metrics": [{"name": "example_state", "type": "gauge", "help": "Run state.",
                     "unit": "state",
                     "domain": {"kind": "enum", "values": {0: "ok", 1: "degraded", 2: "failed"}}}],
        "alert": {"name": "ExampleFailed", "kind": "value_equals", "metric": "example_state",
                  "value": 2, "for": "5m"}}

    def recognise(self, shape: shapes.Shape) -> shapes.Fields | shapes.Refused | None:
        """``m == N``."""
        selector = shapes.one_selector(shape.left) if shape.op == "==" else None
        if selector is None:
            return None
        absent = self.absent_fields(shape)
        if isinstance(absent, shapes.Refused):
            return absent
        return {"metric": selector.name, "value": shapes.number(shape.value)}

    def parse(self, raw: dict[str, Any]) -> EqualsSpec:
        return EqualsSpec(raw["metric"], float(raw["value"]), str(raw["value"]))

    def check(self, raw: dict[str, Any], ctx: base.CheckContext) -> None:
        metric = ctx.metric("metric", raw["metric"])
        if not base.check_pinnable(raw, "value", ctx) or metric is None:
            return
        dom = base.domain_of(metric)
        if not dom.contains(float(raw["value"])):
            ctx.add("value", f"value {raw['value']} is not a value of {metric['name']} "
                    f"({dom.describe()}): the alert would never fire")

    def expr(self, alert: Alert, contract: Contract) -> str:
        return (f"{base.selector(contract, alert.spec.metric)} == "
                f"{format_number(alert.spec.value)}")

    def output_labels(self, alert: Alert, contract: Contract) -> frozenset[str]:
        return base.metric_labels(contract, alert.spec.metric)

    def condition(self, alert: Alert, contract: Contract, series: tuple[Series, ...]
                  ) -> base.Condition:
        wanted = alert.spec.value
        return base.each_series(contract, series, alert.spec.metric,
                                lambda t, v: v if v == wanted else None)

    def neighbours(self, alert: Alert, contract: Contract) -> list[float]:
        """The values next to the wanted one that the metric can take (the enum's neighbours,
        else one below and one above)."""
        domain = contract.metric(alert.spec.metric).domain
        value = alert.spec.value
        if domain.kind == "enum":
            states = [float(v) for v, _ in domain.states]
            index = states.index(value)
            return [states[i] for i in (index - 1, index + 1) if 0 <= i < len(states)]
        return [v for v in (value - 1, value + 1) if domain.contains(v)]

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        spec = alert.spec
        metric = contract.metric(spec.metric)
        hold = steps(alert.for_seconds) + 4
        labels = base_labels(contract, base.item_label(contract, spec.metric))
        value = spec.value
        out = [Scenario(alert.name, f"at the value ({format_number(value)}): fires",
                        (Series(metric.name, labels, (value,) * (hold + 1)),))]
        for other in self.neighbours(alert, contract):
            out.append(Scenario(alert.name, f"at the neighbouring value {format_number(other)}:"
                                " quiet", (Series(metric.name, labels, (other,) * (hold + 1)),)))
        return out + base.after_firing(alert, metric.name, labels, value, hold,
                                       short_gap=False)

    def property_space(self, alert: Alert, contract: Contract) -> base.PropertySpace:
        value = alert.spec.value
        near = (value, *self.neighbours(alert, contract))
        return base.PropertySpace(near=near, usual=(value, value, *near))


KIND = ValueEquals()
