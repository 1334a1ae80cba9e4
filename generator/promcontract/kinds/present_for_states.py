"""present_for_states: every item in the given states has a series of the metric (every
drifted stack has a first_seen). As an alert: an item in such a state without the series."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promcontract.kinds import base
from promcontract.kinds.series import Scenario, Series, key, present
from promcontract.labels import format_series
from promcontract.model.contract import GATEWAY_LABELS, Alert, Contract, Invariant
from promcontract.numbers import format_number


@dataclass(frozen=True)
class StatesSpec:
    metric: str
    state_metric: str
    states: tuple[int, ...]


class PresentForStates(base.InvariantKind):
    name = "present_for_states"
    doc = "every item in the given states has a series of the metric"
    properties = {"metric": base.METRIC_NAME, "state_metric": base.METRIC_NAME,
                  "states": {"type": "array", "minItems": 1, "items": {"type": "integer"}}}
    required = ("metric", "state_metric", "states")
    alertable = True
    metric_fields = ("metric", "state_metric")
    wanted = True  # the metric must be present for items in the states

    def parse(self, raw: dict[str, Any]) -> StatesSpec:
        return StatesSpec(raw["metric"], raw["state_metric"], tuple(raw["states"]))

    def verify(self, inv: Invariant, keyed: dict, add) -> None:  # noqa: ANN001
        spec = inv.spec
        metric = keyed.get(spec.metric, {})
        wanted_states = frozenset(spec.states)
        for item, state in keyed.get(spec.state_metric, {}).items():
            if state.value not in wanted_states:
                continue
            if self.wanted and item not in metric:
                add(state.line, f"{format_series(state.name, item)} is "
                    f"{format_number(state.value)} but {format_series(spec.metric, item)} is "
                    f"missing ({inv.description})")
            if not self.wanted and item in metric:
                add(metric[item].line, f"{format_series(spec.metric, item)} is present "
                    f"although {format_series(state.name, item)} is "
                    f"{format_number(state.value)} ({inv.description})")

    def on(self, inv: Invariant, contract: Contract) -> tuple[str, ...]:
        return ("job",) + contract.metric(inv.spec.state_metric).labels

    def expr(self, inv: Invariant, contract: Contract) -> str:
        spec = inv.spec
        on = ", ".join(self.on(inv, contract))
        states = base.states_expr(base.selector(contract, spec.state_metric), spec.states)
        return f"({states}) unless on({on}) {base.selector(contract, spec.metric)}"

    def output_labels(self, inv: Invariant, contract: Contract) -> frozenset[str]:
        return frozenset(contract.metric(inv.spec.state_metric).labels) | \
            frozenset(GATEWAY_LABELS)

    def condition(self, inv: Invariant, contract: Contract, series: tuple[Series, ...]
                  ) -> base.Condition:
        spec = inv.spec
        names = self.on(inv, contract)

        def held(t: int) -> dict:
            in_state = {key(labels, names): (labels, v)
                        for labels, v in present(contract, series, spec.state_metric, t)
                        if v in spec.states}
            there = {key(labels, names): (labels, v)
                     for labels, v in present(contract, series, spec.metric, t)}
            if self.wanted:
                return {labels: v for k, (labels, v) in in_state.items() if k not in there}
            return {labels: v for k, (labels, v) in there.items() if k in in_state}
        return held

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        spec = alert.spec.invariant.spec
        v = float(spec.states[0])
        snap = base.invariant_scenario
        return [snap(alert, contract, "every such stack has the series: quiet",
                     **{spec.state_metric: [("a", v)], spec.metric: [("a", 1000.0)]}),
                snap(alert, contract, "a stack without the series: fires",
                     **{spec.state_metric: [("a", v), ("b", v)], spec.metric: [("a", 1000.0)]})]


KIND = PresentForStates()
