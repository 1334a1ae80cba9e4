"""absent_for_states: no item in the given states has a series of the metric (a clean stack
has no first_seen). As an alert: an item in such a state that still has the series (the
POST bug)."""

from __future__ import annotations

from promcontract.kinds import base
from promcontract.kinds.present_for_states import PresentForStates
from promcontract.kinds.series import Scenario
from promcontract.model.contract import GATEWAY_LABELS, Alert, Contract, Invariant


class AbsentForStates(PresentForStates):
    name = "absent_for_states"
    doc = "no item in the given states has a series of the metric"
    wanted = False

    def expr(self, inv: Invariant, contract: Contract) -> str:
        spec = inv.spec
        on = ", ".join(self.on(inv, contract))
        states = base.states_expr(base.selector(contract, spec.state_metric), spec.states)
        return f"{base.selector(contract, spec.metric)} and on({on}) ({states})"

    def output_labels(self, inv: Invariant, contract: Contract) -> frozenset[str]:
        return frozenset(contract.metric(inv.spec.metric).labels) | frozenset(GATEWAY_LABELS)

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        spec = alert.spec.invariant.spec
        v = float(spec.states[0])
        snap = base.invariant_scenario
        others = [float(x) for x, _ in contract.metric(spec.state_metric).domain.states
                  if x not in spec.states]
        out = [snap(alert, contract, "no such stack has the series: quiet",
                    **{spec.state_metric: [("a", v)]})]
        if others:  # matching on the item label, not only the job
            out.append(snap(alert, contract, "only a stack in another state has the series: "
                            "quiet", **{spec.state_metric: [("a", v), ("b", others[0])],
                                        spec.metric: [("b", 1000.0)]}))
        return out + [snap(alert, contract, "a stack in that state still has the series: fires",
                           **{spec.state_metric: [("a", v)], spec.metric: [("a", 1000.0)]})]

KIND = AbsentForStates()
