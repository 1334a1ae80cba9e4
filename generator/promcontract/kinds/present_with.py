"""present_with: a push that carries one metric also carries another (the heartbeat comes with
the counts). As an alert: the heartbeat-only push of a broken emit step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promcontract.kinds import base
from promcontract.kinds.series import Scenario, Series, present
from promcontract.model.contract import Alert, Contract, Invariant


@dataclass(frozen=True)
class PresentWithSpec:
    metric: str
    with_: str


class PresentWith(base.InvariantKind):
    name = "present_with"
    doc = "a push that carries one metric carries another too"
    properties = {"metric": base.METRIC_NAME, "with": base.METRIC_NAME}
    required = ("metric", "with")
    alertable = True
    metric_fields = ("metric", "with")

    def parse(self, raw: dict[str, Any]) -> PresentWithSpec:
        return PresentWithSpec(raw["metric"], raw["with"])

    def verify(self, inv: Invariant, keyed: dict, add) -> None:  # noqa: ANN001
        anchor = keyed.get(inv.spec.with_, {})
        if anchor and not keyed.get(inv.spec.metric):
            first = next(iter(anchor.values()))
            add(first.line, f"{inv.spec.with_} is present but {inv.spec.metric} is missing "
                f"({inv.description})")

    def expr(self, inv: Invariant, contract: Contract) -> str:
        return (f"max by (job) ({base.selector(contract, inv.spec.with_)}) unless on(job) "
                f"max by (job) ({base.selector(contract, inv.spec.metric)})")

    def output_labels(self, inv: Invariant, contract: Contract) -> frozenset[str]:
        return frozenset({"job"})

    def condition(self, inv: Invariant, contract: Contract, series: tuple[Series, ...]
                  ) -> base.Condition:
        spec = inv.spec

        def held(t: int) -> dict:
            anchor = present(contract, series, spec.with_, t)
            if anchor and not present(contract, series, spec.metric, t):
                return {(("job", contract.job),): max(v for _, v in anchor)}
            return {}
        return held

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        spec = alert.spec.invariant.spec
        snap = base.invariant_scenario
        return [snap(alert, contract, "both present: quiet",
                     **{spec.with_: [(None, 1000.0)], spec.metric: [(None, 0.0)]}),
                snap(alert, contract, "only the anchor (heartbeat-only push): fires",
                     **{spec.with_: [(None, 1000.0)]})]


KIND = PresentWith()
