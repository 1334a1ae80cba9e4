"""Derived scenarios: for every alert of a contract, the kind's scenarios (just below, at and
just above each threshold, the for: boundary, the series going missing and stale), with their
expectations computed by the oracle; and the ways scenarios share promtool test groups.
"""

from __future__ import annotations

import dataclasses

from promcontract import kinds
from promcontract.kinds.series import (
    STALE,
    STEP,
    Labels,
    NotDerivable,
    Scenario,
    Series,
    Value,
)
from promcontract.model.contract import Alert, Contract
from promcontract.testgen.oracle import choose_eval_times, expected


def derive(contract: Contract) -> tuple[list[Scenario], list[str]]:
    """Scenarios for every derivable alert, and a line per alert that is not derivable."""
    scenarios: list[Scenario] = []
    not_derivable: list[str] = []
    for alert in contract.alerts:
        try:
            made = [kept_firing(s, alert) for s in kinds.of(alert).scenarios(alert, contract)]
            for scenario in made:  # every expectation must be computable
                expected(alert, contract, scenario)
            scenarios += made
        except NotDerivable as exc:
            not_derivable.append(str(exc))
    return scenarios, not_derivable


def kept_firing(scenario: Scenario, alert: Alert) -> Scenario:
    """With keep_firing_for, a scenario runs on (its series missing) until the alert has been
    kept firing that long and resolved, so both sides of that boundary are checked."""
    if alert.keep_firing_seconds <= 0:
        return scenario
    return dataclasses.replace(scenario, series=tuple(
        dataclasses.replace(s, values=s.values + (None,) * -(
            -(int(alert.keep_firing_seconds) + 2 * STEP) // s.interval))
        for s in scenario.series))


def can_batch(alert: Alert) -> bool:
    """Scenarios share a test group when the expression keeps a distinguishing label."""
    return kinds.of(alert).batches_by_label(alert)


def sequential(scenarios: list[Scenario], alert: Alert, contract: Contract) -> Scenario:
    """Scenarios one after another in time, in one test group (for expressions that keep no
    label to tell them apart, e.g. ``max by (job)``).

    A series keeps its labels across scenarios (so the TSDB holds a handful of series, not
    one per scenario); each scenario's samples are shifted to its start (unix-seconds values
    shift too, so ages are unchanged) and followed by a stale marker, so nothing is seen
    across the border. At that same step a separator series gets a fresh sample (age 0 for
    time-valued kinds, -Inf otherwise), which makes the condition false and so resets
    pending/firing state as a new test group would; it is stale again at the next scenario's
    first step. Eval times shift likewise.
    """
    kind = kinds.of(alert)
    time_valued = kind.time_valued
    if not kind.user_facing:
        raise NotDerivable(f"alert {alert.name}: invariant scenarios are not batched in time")
    if any(s.interval != STEP for scenario in scenarios for s in scenario.series):
        raise NotDerivable(f"alert {alert.name}: scenarios sampled every {STEP}s only are "
                           "batched in time")
    placed: list[tuple[int, int, Scenario]] = []  # (offset, length, scenario)
    start = 0
    for scenario in scenarios:
        length = max(len(s.values) for s in scenario.series)
        placed.append((start, length, scenario))
        start += length + 1  # the scenario, then one step: stale markers and the separator
    total = start
    rows: dict[tuple[str, Labels], list[Value]] = {}
    times: set[int] = set()
    for offset, length, scenario in placed:
        shift = offset * STEP if time_valued else 0
        for series in scenario.series:
            row = rows.setdefault((series.metric, series.labels), [None] * total)
            for i, value in enumerate(series.values):
                row[offset + i] = value if value is None or value == STALE else \
                    float(value) + shift
            row[offset + length] = STALE
        eval_times = scenario.eval_times or choose_eval_times(alert, contract, scenario)
        times |= {offset * STEP + t for t in eval_times if t < length * STEP}
    first = scenarios[0].series[0]
    sep_labels = tuple(sorted({**dict(first.labels), "instance": "separator"}.items()))
    sep = [None] * total
    for offset, length, _ in placed[:-1]:
        step = offset + length
        sep[step] = kind.quiet_sample(alert, step * STEP)
        sep[step + 1] = STALE
    out = [Series(metric, labels, tuple(row)) for (metric, labels), row in rows.items()]
    if len(placed) > 1:
        out.append(Series(first.metric, sep_labels, tuple(sep)))
    return Scenario(alert.name, f"{len(scenarios)} scenarios in sequence", tuple(out),
                    tuple(sorted(times)))



def single_alert(contract: Contract, name: str, templates: bool = True) -> Contract:
    """The contract with one alert: its rule file evaluates one rule per step, not all.

    Without ``templates`` the rule has no annotations and no labels of its own: promtool
    2.42 parses and expands each of them as a Go template for every active (pending or
    firing) alert at every evaluation, which dominates the cost of large batches (measured:
    a 257-scenario batch 1.15 s with the one ``severity`` label, 0.34 s without). The
    firing semantics (thresholds, for:, gaps, staleness, the series' own labels) are what
    the property tests compare; the labels and annotation text are pinned by the derived
    tests and the end-to-end test.
    """
    alert = contract.alert(name)
    if not templates:
        alert = dataclasses.replace(alert, summary="", description="", severity="", labels=())
    return dataclasses.replace(contract, alerts=(alert,))



__all__ = ["derive", "can_batch", "sequential", "single_alert"]
