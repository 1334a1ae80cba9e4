"""invariant: the kind of the alerts invariants render (an invariant with an ``alert:`` block).
Not a kind users write under ``alerts:``; it hands every question to the invariant's own
kind (see count_equals_state.py and its siblings)."""

from __future__ import annotations

from dataclasses import dataclass

from promcontract import kinds
from promcontract.kinds import base
from promcontract.kinds.series import Scenario, Series
from promcontract.model.contract import Alert, Contract, Invariant


@dataclass(frozen=True)
class InvariantAlertSpec:
    invariant: Invariant


class InvariantAlert(base.AlertKind):
    name = "invariant"
    doc = "an invariant of the payload, broken"
    user_facing = False

    def _kind(self, alert: Alert) -> base.InvariantKind:

        return kinds.invariant_kind(alert.spec.invariant.kind)

    def metrics(self, spec: InvariantAlertSpec) -> tuple[str, ...]:
        return ()

    def expr(self, alert: Alert, contract: Contract) -> str:
        return self._kind(alert).expr(alert.spec.invariant, contract)

    def output_labels(self, alert: Alert, contract: Contract) -> frozenset[str]:
        return self._kind(alert).output_labels(alert.spec.invariant, contract)

    def condition(self, alert: Alert, contract: Contract, series: tuple[Series, ...]
                  ) -> base.Condition:
        return self._kind(alert).condition(alert.spec.invariant, contract, series)

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        return self._kind(alert).scenarios(alert, contract)


KIND = InvariantAlert()
