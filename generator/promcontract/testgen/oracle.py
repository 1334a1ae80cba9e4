"""The oracle: what promtool must report for a scenario, computed without promtool.

Each kind says what its expression returns at an evaluation (``AlertKind.condition``, from the
series, not from the PromQL text, so the oracle checks the renderer); this engine adds what
every alert has: ``for:`` (pending until it has held that long), the evaluation every STEP,
the alert's labels and its annotations. The derived tests and the property tests take their
expectations from here, never from hand-written numbers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from promcontract import kinds
from promcontract.kinds import annotation_templates
from promcontract.kinds.series import (
    LOOKBACK,
    STALE,
    STEP,
    Firing,
    NotDerivable,
    Scenario,
    Series,
    Value,
    instant,
    lookback_semantics,
    semantics,
)
from promcontract.labels import Labels
from promcontract.model import alertstate
from promcontract.model.contract import Alert, Contract
from promcontract.testgen import promtemplate

# What the oracle computed, by the identity of its inputs (alert, contract, scenario: all
# frozen), so deriving a contract's file does not run the same alert states again: eval times
# are chosen from two timelines per scenario, then expectations, the check that scenarios may
# share a group, and the group itself read the same ones. Entries hold their inputs, so an id
# is not reused while its entry lives; the oldest go first.
_CACHE_SIZE = 1024
_cache: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
_cache_lock = threading.Lock()


def _remembered(key: tuple, inputs: tuple, compute: Callable[[], Any],
                enough: Callable[[Any], bool] = lambda _: True) -> Any:  # noqa: ANN401
    """``compute()`` once per key and inputs (compared by identity), again only when what
    was kept is not ``enough``."""
    with _cache_lock:
        kept = _cache.get(key)
        if kept is not None and all(a is b for a, b in zip(kept[0], inputs, strict=True)) \
                and enough(kept[1]):
            _cache.move_to_end(key)
            return kept[1]
    value = compute()
    with _cache_lock:
        _cache[key] = (inputs, value)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def timeline(alert: Alert, contract: Contract, scenario: Scenario, until: int
             ) -> dict[int, dict[Labels, float]]:
    """Firing alerts (labels -> $value) at every evaluation from 0 to ``until``, by the
    alerting rule states of ``model.alertstate`` (for:, keep_firing_for). Read only: the
    result may be shared."""

    def compute() -> tuple[int, dict[int, dict[Labels, float]]]:
        held_at = kinds.of(alert).condition(alert, contract, scenario.series)
        return until, alertstate.firing(held_at, range(0, until + 1, STEP),
                                        alert.for_seconds, alert.keep_firing_seconds)

    # the states are causal: a longer run's first evaluations are the shorter run
    longest, line = _remembered(("timeline", id(alert), id(contract), id(scenario),
                                 semantics()), (alert, contract, scenario), compute,
                                lambda kept: kept[0] >= until)
    if longest == until:
        return line
    return {t: firing for t, firing in line.items() if t <= until}


def alert_labels(alert: Alert, series_labels: Labels) -> Labels:
    labels = dict(series_labels)
    labels.update(dict(alert.labels))
    labels["severity"] = alert.severity
    # An empty label value is no label in Prometheus (the gateway's instance="" vanishes).
    return tuple(sorted((k, v) for k, v in labels.items() if v != ""))


def annotations(alert: Alert, series_labels: Labels, value: float,
                contract: Contract | None = None) -> Labels:
    """The annotations promtool expands for an alert of these labels and value (the same
    templates the renderer writes)."""

    try:
        return tuple((k, promtemplate.render(v, value, dict(series_labels)))
                     for k, v in annotation_templates(alert, contract))
    except promtemplate.Unsupported as exc:
        raise NotDerivable(f"alert {alert.name}: annotation: {exc}") from None


def expected(alert: Alert, contract: Contract, scenario: Scenario
             ) -> tuple[tuple[int, tuple[Firing, ...]], ...]:
    """(eval time, firing alerts) for each eval time of the scenario."""
    times = scenario.eval_times or choose_eval_times(alert, contract, scenario)
    line = timeline(alert, contract, scenario, max(times))
    out = []
    for t in times:
        firing = tuple(sorted(
            (Firing(alert_labels(alert, labels), annotations(alert, labels, value, contract))
             for labels, value in line[t].items()), key=lambda f: f.labels))
        out.append((t, firing))
    return tuple(out)


def choose_eval_times(alert: Alert, contract: Contract, scenario: Scenario) -> tuple[int, ...]:
    """Both sides of every evaluation at which what fires changes (the for: boundary, the
    keep_firing_for boundary, resolution), and the end; only times at which Prometheus 2.x
    and 3.x agree (3.0 no longer counts a sample exactly 5m old), so one test file holds on
    both. With nothing firing: the first evaluation at which for: could have elapsed."""
    return _remembered(("eval times", id(alert), id(contract), id(scenario)),
                       (alert, contract, scenario),
                       lambda: _eval_times(alert, contract, scenario))


def _eval_times(alert: Alert, contract: Contract, scenario: Scenario) -> tuple[int, ...]:
    end = scenario.end
    lines = []
    for closed in (True, False):
        with lookback_semantics(closed):
            lines.append(timeline(alert, contract, scenario, end))
    same = [t for t in sorted(lines[0]) if lines[0][t] == lines[1][t]]
    times = {t for t in (end,) if t in same}
    for line in lines:
        previous: set = set()
        for t in sorted(line):
            now = set(line[t])
            if now != previous:
                times |= {c for c in (max(t - STEP, 0), t) if c in same}
            previous = now
    for_steps = -(-int(alert.for_seconds) // STEP) * STEP  # for: need not be whole steps
    if not any(lines[0][t] for t in lines[0]):
        # the first evaluation at which for: could have elapsed
        times.add(min(for_steps, end))
    # For: after each change of the inputs: where a rule changed a little (a threshold one
    # unit off, >= for >) would have started or stopped firing while this one did not (a
    # quiet "just below" scenario checked only at for: from the start let `>= 3 -> >= 2`
    # survive: its jump came two minutes in).
    keep = -(-int(alert.keep_firing_seconds) // STEP) * STEP
    for change in input_changes(scenario):
        # ... and after keep_firing_for from it: a mutant that stopped there is kept firing
        # that long before it shows
        for t in (change + for_steps, change + for_steps + STEP, change + keep + STEP,
                  change + keep + 2 * STEP):
            if t <= end and t in same:
                times.add(t)
    return tuple(sorted(times))


# A scenario whose inputs change more often than this is a ramp or a random walk: its
# changes are not the edges a mutant would show at.
MAX_INPUT_CHANGES = 6


def input_changes(scenario: Scenario) -> list[int]:
    """Evaluation times (rounded up to a step) at which an input series changes value,
    starts or stops; none for a scenario whose inputs change too often to matter."""
    found: set[int] = set()
    for series in scenario.series:
        previous: object = None
        for i, value in enumerate(series.values):
            if i and value != previous:
                found.add(-(-(i * series.interval) // STEP) * STEP)
            previous = value
    return sorted(found) if len(found) <= MAX_INPUT_CHANGES else []


__all__ = ["STEP", "LOOKBACK", "STALE", "Labels", "Value", "NotDerivable", "Series",
           "Scenario", "Firing", "instant", "timeline", "expected",
           "choose_eval_times", "input_changes",
           "alert_labels", "annotations", "lookback_semantics"]
