"""counts_sum_to_series: the counts sum to the number of per-item series (every stack has a
state series). As an alert: the sum differs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promcontract.kinds import base
from promcontract.kinds.series import Scenario, Series, present
from promcontract.model.contract import GATEWAY_LABELS, Alert, Contract, Invariant
from promcontract.numbers import format_number


@dataclass(frozen=True)
class CountsSumToSeriesSpec:
    counts: tuple[str, ...]
    series: str


class CountsSumToSeries(base.InvariantKind):
    name = "counts_sum_to_series"
    doc = "the counts sum to the number of per-item series"
    properties = {"counts": {"type": "array", "minItems": 1, "items": base.METRIC_NAME},
                  "series": base.METRIC_NAME}
    required = ("counts", "series")
    alertable = True
    metric_fields = ("series",)

    def parse(self, raw: dict[str, Any]) -> CountsSumToSeriesSpec:
        return CountsSumToSeriesSpec(tuple(raw["counts"]), raw["series"])

    def check(self, raw: dict[str, Any], ctx: base.CheckContext) -> None:
        super().check(raw, ctx)
        for index, name in enumerate(raw["counts"]):
            ctx.metric(("counts", index), name)

    def verify(self, inv: Invariant, keyed: dict, add) -> None:  # noqa: ANN001
        spec = inv.spec
        counts = [base.single(keyed, name) for name in spec.counts]
        if any(c is None for c in counts):
            return
        total = sum(c.value for c in counts)
        n = len(keyed.get(spec.series, {}))
        if total != n:
            add(counts[0].line, f"counts sum to {format_number(total)} but there are {n} "
                f"{spec.series} series ({inv.description})")

    def expr(self, inv: Invariant, contract: Contract) -> str:
        counts = [base.selector(contract, m) for m in inv.spec.counts]
        series = base.selector(contract, inv.spec.series)
        return (f"({' + '.join(counts)}) != on(job) (count by (job) ({series}) "
                f"or on(job) 0 * max by (job) ({counts[0]}))")

    def output_labels(self, inv: Invariant, contract: Contract) -> frozenset[str]:
        return frozenset(contract.metric(inv.spec.counts[0]).labels) | frozenset(GATEWAY_LABELS)

    def condition(self, inv: Invariant, contract: Contract, series: tuple[Series, ...]
                  ) -> base.Condition:
        spec = inv.spec

        def held(t: int) -> dict:
            per_metric = [dict(present(contract, series, m, t)) for m in spec.counts]
            n = len(present(contract, series, spec.series, t))
            out = {}
            for labels in set(per_metric[0]).intersection(*per_metric[1:]):
                total = sum(values[labels] for values in per_metric)
                if total != n:
                    out[labels] = total
            return out
        return held

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        spec = alert.spec.invariant.spec
        ones = {m: [(None, 1.0 if i == 0 else 0.0)] for i, m in enumerate(spec.counts)}
        snap = base.invariant_scenario
        # A total of -1 from a count pushed negative (a pusher computing one count by
        # subtraction): with no series it is a mismatch, and it tells "!= 0" from "!= -count".
        negative = {m: [(None, 1.0 if i == 0 else -2.0 if i == 1 else 0.0)]
                    for i, m in enumerate(spec.counts)}
        out = [snap(alert, contract, "counts add up to the per-stack series: quiet",
                    **ones, **{spec.series: [("a", 1.0)]}),
               snap(alert, contract, "a stack's series is missing: fires", **ones)]
        if len(spec.counts) > 1:
            out.append(snap(alert, contract, "counts add up to a negative total with no "
                            "per-stack series: fires", **negative))
        return out

KIND = CountsSumToSeries()
