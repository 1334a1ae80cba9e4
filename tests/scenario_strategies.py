"""Hypothesis strategies for alert scenarios near thresholds, gaps and stale markers."""

from __future__ import annotations

from hypothesis import strategies as st

from promcontract.derive import STALE, STEP, Scenario, Series
from promcontract.model import Alert, Contract


def _runs(values: st.SearchStrategy, max_steps: int) -> st.SearchStrategy:
    """A sample list built from runs: sustained values, gaps (_) and stale markers."""
    run = st.tuples(st.one_of(values, st.just(None), st.just(STALE)),
                    st.integers(1, max(2, max_steps // 3)))
    return st.lists(run, min_size=1, max_size=6).map(
        lambda runs: tuple(v for value, n in runs for v in [value] * n)[:max_steps])


def scenario_for(alert: Alert, contract: Contract) -> st.SearchStrategy[Scenario]:
    metric = contract.metric(alert.metric)
    base = dict(contract.grouping_key)
    base["instance"] = ""
    steps = int(alert.for_seconds // STEP) + 25
    thr = alert.threshold
    if alert.kind == "value_above":
        step = 1.0 if metric.domain.integral else 0.5
        values = st.integers(-2, 2).map(lambda k: max(thr + k * step, 0.0))
    else:
        # unix-seconds values whose age (t - value) crosses the threshold inside the span
        values = st.integers(-40, steps + 10).map(lambda m: float(-thr + m * STEP))
    item = metric.labels[0] if metric.labels else None
    names = st.sampled_from(["a", "b", 'q"x', "ü"]) if item else st.just(None)

    def series(name: str | None, samples: tuple) -> Series:
        labels = dict(base)
        if item and name is not None:
            labels[item] = name
        return Series(metric.name, tuple(sorted(labels.items())), samples)

    count = st.integers(1, 3) if (item or alert.kind == "heartbeat_stale") else st.just(1)

    @st.composite
    def build(draw) -> Scenario:
        n = draw(count)
        chosen = draw(st.lists(names, min_size=n, max_size=n, unique=True)) if item else \
            [None] * n
        all_series = []
        for index, name in enumerate(chosen):
            samples = draw(_runs(values, steps))
            s = series(name, samples)
            if alert.kind == "heartbeat_stale" and index > 0:
                # several series of one job (another instance label)
                s = Series(s.metric, tuple(sorted({**dict(s.labels),
                                                   "instance": f"i{index}"}.items())),
                           samples)
            all_series.append(s)
        end = max(len(s.values) for s in all_series) + draw(st.integers(0, 8))
        times = tuple(sorted({t * STEP for t in range(0, end, 3)} | {(end - 1) * STEP}))
        return Scenario(alert.name, "generated", tuple(all_series), times)

    return build()


def scenarios(contract: Contract, max_size: int = 8) -> st.SearchStrategy[list[Scenario]]:
    alerts = [a for a in contract.alerts if a.kind not in ("expr", "invariant")]
    return st.lists(st.one_of(*[scenario_for(a, contract) for a in alerts]), min_size=1,
                    max_size=max_size)


__all__ = ["scenarios", "scenario_for"]
