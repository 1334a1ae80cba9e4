"""Hypothesis strategies for alert scenarios near thresholds, gaps and stale markers.

A scenario is worth checking only if it can reach the interesting states, so the runs are
drawn to cross the ``for:`` boundary often: a series holds one "usual" value (a stack's
first_seen, the last heartbeat, a count) for runs as long as ``for:`` and around it,
broken by short and long gaps (``_``, shorter and longer than the 5m lookback), stale
markers and other values near the threshold. ``firing_share`` measures how often this
works (the tests keep it above a floor).

The values come from the alert's kind (``property_space``): the strategies know no kind.
"""

from __future__ import annotations

from hypothesis import strategies as st

from promcontract import kinds
from promcontract.kinds.base import PROPERTY_SPAN_AFTER_FOR
from promcontract.model.contract import Alert, Contract
from promcontract.testgen.oracle import LOOKBACK, STALE, STEP, Scenario, Series, timeline

SPAN_AFTER_FOR = PROPERTY_SPAN_AFTER_FOR


def _runs(usual: float, other: st.SearchStrategy, for_steps: int, max_steps: int
          ) -> st.SearchStrategy[tuple]:
    """Samples built from runs: the usual value (twice as likely), another value near the
    threshold, a gap or stale markers, each for a short, a ``for:``-sized or any length."""
    short_gap = LOOKBACK // STEP  # a gap of up to 5 steps keeps the last sample in view
    length = st.one_of(st.integers(1, short_gap + 2),
                       st.integers(max(1, for_steps - 2), for_steps + 3),
                       st.integers(1, max_steps))
    value = st.one_of(st.just(usual), st.just(usual), other, st.just(None), st.just(STALE))
    # the first run holds the usual value, so most scenarios start from a known state
    runs = st.tuples(length, st.lists(st.tuples(value, length), max_size=4))
    return runs.map(lambda r: tuple(v for value, n in [(usual, r[0]), *r[1]]
                                    for v in [value] * n)[:max_steps])


def _counter(samples: tuple) -> tuple:
    """Increments per step -> a counter's samples: summed; a negative increment is a counter
    reset (back to 0); gaps and stale markers stay."""
    out: list = []
    total = 0.0
    for value in samples:
        if value is None or value == STALE:
            out.append(value)
            continue
        total = 0.0 if value < 0 else total + value
        out.append(total)
    return tuple(out)


def scenario_for(alert: Alert, contract: Contract) -> st.SearchStrategy[Scenario]:
    kind = kinds.of(alert)
    space = kind.property_space(alert, contract)
    metric = contract.metric(kind.metrics(alert.spec)[0])
    base = dict(contract.grouping_key)
    base["instance"] = ""
    for_steps = int(alert.for_seconds // STEP)
    max_steps = for_steps + SPAN_AFTER_FOR
    near = st.sampled_from(space.near)
    usual = st.sampled_from(space.usual)
    item = metric.labels[0] if metric.labels else None
    names = st.sampled_from(["a", "b", 'q"x', "ü"]) if item else st.just(None)

    def series(name: str | None, samples: tuple) -> Series:
        labels = dict(base)
        if item and name is not None:
            labels[item] = name
        return Series(metric.name, tuple(sorted(labels.items())),
                      _counter(samples) if space.counter else samples)

    count = st.integers(1, 3) if (item or space.instances) else st.just(1)

    @st.composite
    def build(draw) -> Scenario:
        n = draw(count)
        chosen = draw(st.lists(names, min_size=n, max_size=n, unique=True)) if item else \
            [None] * n
        all_series = []
        for index, name in enumerate(chosen):
            samples = draw(_runs(draw(usual), near, for_steps, max_steps))
            s = series(name, samples)
            if space.instances and index > 0:
                # several series of one job (another instance label)
                s = Series(s.metric, tuple(sorted({**dict(s.labels),
                                                   "instance": f"i{index}"}.items())),
                           s.values)
            all_series.append(s)
        end = max(len(s.values) for s in all_series) + draw(st.integers(0, 8))
        return Scenario(alert.name, "generated", tuple(all_series),
                        eval_times(alert, contract, all_series, end))

    return build()


def eval_times(alert: Alert, contract: Contract, series: list[Series], end: int
               ) -> tuple[int, ...]:
    """Every third step, the last one, and both sides of every step where the oracle says
    an alert starts or stops firing (so an off-by-one in for: or in the lookback is seen
    there; the grid catches firing the oracle does not expect at all)."""
    times = {t * STEP for t in range(0, end, 3)} | {(end - 1) * STEP}
    probe = Scenario(alert.name, "probe", tuple(series), ())
    line = timeline(alert, contract, probe, (end - 1) * STEP)
    previous: set = set()
    for t in sorted(line):
        now = set(line[t])
        if now != previous:
            times |= {max(t - STEP, 0), t}
        previous = now
    return tuple(sorted(times))


def derivable(contract: Contract) -> list[Alert]:
    """Alerts the property tests cover: derivable kinds users write (invariant alerts are
    covered by their derived tests)."""
    return [a for a in contract.alerts if kinds.of(a).derivable and kinds.of(a).user_facing]


def scenarios(contract: Contract, max_size: int = 8) -> st.SearchStrategy[list[Scenario]]:
    return st.lists(st.one_of(*[scenario_for(a, contract) for a in derivable(contract)]),
                    min_size=1, max_size=max_size)


def firing_share(alert: Alert, contract: Contract, examples: list[Scenario]) -> float:
    """The share of scenarios in which the oracle has the alert firing at a checked time."""
    fired = 0
    for scenario in examples:
        line = timeline(alert, contract, scenario, max(scenario.eval_times))
        fired += any(line[t] for t in scenario.eval_times)
    return fired / len(examples)


def draw_examples(strategy: st.SearchStrategy, count: int, seed: int) -> list:
    """``count`` examples of ``strategy``, the same ones for the same seed (``.example()``
    draws anew each call, which made a floor on them pass or fail by luck)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    drawn: list = []

    @hseed(seed)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(example) -> None:  # noqa: ANN001
        drawn.append(example)

    collect()
    return drawn


__all__ = ["scenarios", "scenario_for", "eval_times", "firing_share", "draw_examples",
           "derivable"]
