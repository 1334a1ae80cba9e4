"""count_equals_state: a count metric equals the number of items in one state
(drift_stack_count = stacks with drift_stack_state 1). As an alert: the count differs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promcontract.kinds import base
from promcontract.kinds.series import Scenario, Series, present
from promcontract.model.contract import GATEWAY_LABELS, Alert, Contract, Invariant
from promcontract.numbers import format_number


@dataclass(frozen=True)
class CountEqualsStateSpec:
    count: str
    state_metric: str
    state: int


class CountEqualsState(base.InvariantKind):
    name = "count_equals_state"
    doc = "a count equals the number of items in a state"
    properties = {"count": base.METRIC_NAME, "state_metric": base.METRIC_NAME,
                  "state": {"type": "integer"}}
    required = ("count", "state_metric", "state")
    alertable = True
    metric_fields = ("count", "state_metric")

    def parse(self, raw: dict[str, Any]) -> CountEqualsStateSpec:
        return CountEqualsStateSpec(raw["count"], raw["state_metric"], raw["state"])

    def verify(self, inv: Invariant, keyed: dict, add) -> None:  # noqa: ANN001
        spec = inv.spec
        count = base.single(keyed, spec.count)
        if count is None:
            return  # reported as missing-metric
        n = sum(1 for s in keyed.get(spec.state_metric, {}).values() if s.value == spec.state)
        if count.value != n:
            add(count.line, f"{count.name} is {format_number(count.value)} but {n} "
                f"{spec.state_metric} series have value {spec.state} ({inv.description})")

    def expr(self, inv: Invariant, contract: Contract) -> str:
        spec = inv.spec
        count = base.selector(contract, spec.count)
        state = base.selector(contract, spec.state_metric)
        # count by (job) of nothing is nothing: fall back to 0 for the job.
        return (f"{count} != on(job) (count by (job) ({state} == {spec.state}) "
                f"or on(job) 0 * max by (job) ({count}))")

    def output_labels(self, inv: Invariant, contract: Contract) -> frozenset[str]:
        return frozenset(contract.metric(inv.spec.count).labels) | frozenset(GATEWAY_LABELS)

    def condition(self, inv: Invariant, contract: Contract, series: tuple[Series, ...]
                  ) -> base.Condition:
        spec = inv.spec

        def held(t: int) -> dict:
            n = sum(1 for _, v in present(contract, series, spec.state_metric, t)
                    if v == spec.state)
            return {labels: count for labels, count in present(contract, series, spec.count, t)
                    if count != n}
        return held

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        spec = alert.spec.invariant.spec
        v = float(spec.state)
        others = [float(x) for x, _ in contract.metric(spec.state_metric).domain.states
                  if x != v]
        other = others[0]
        snap = base.invariant_scenario
        # Items in every other state, a different number in each (0, 1 or 2 more than the
        # count of the wanted state), so a count of any other state tells itself apart.
        crowd = [("a", v)] + [(f"{chr(ord('b') + i)}{k}", x) for i, x in enumerate(others)
                              for k in range(i + 2)]
        return [snap(alert, contract, "count matches the per-stack series: quiet",
                     **{spec.count: [(None, 1.0)], spec.state_metric: [("a", v), ("b", other)]}),
                snap(alert, contract, "count matches with stacks in every other state, in "
                     "other numbers: quiet",
                     **{spec.count: [(None, 1.0)], spec.state_metric: crowd}),
                snap(alert, contract, "count disagrees with the per-stack series: fires",
                     **{spec.count: [(None, 2.0)], spec.state_metric: [("a", v), ("b", other)]}),
                snap(alert, contract, "count above zero with no stack in that state (the "
                     "fallback to 0): fires",
                     **{spec.count: [(None, 2.0)], spec.state_metric: [("b", other)]}),
                snap(alert, contract, "no stacks and a count of 0: quiet",
                     **{spec.count: [(None, 0.0)]})]

KIND = CountEqualsState()
