"""The oracle: what promtool must report for a scenario, computed without promtool.

Each kind says what its expression returns at an evaluation (``AlertKind.condition``, from the
series, not from the PromQL text, so the oracle checks the renderer); this engine adds what
every alert has: ``for:`` (pending until it has held that long), the evaluation every STEP,
the alert's labels and its annotations. The derived tests and the property tests take their
expectations from here, never from hand-written numbers.
"""

from __future__ import annotations

from promcontract import kinds
from promcontract.contract.model import Alert, Contract
from promcontract.labels import Labels
from promcontract.testgen import promtemplate
from promcontract.testgen.series import (
    LOOKBACK,
    STALE,
    STEP,
    Firing,
    NotDerivable,
    Scenario,
    Series,
    Value,
    instant,
    lookback_closed_for,
    lookback_semantics,
)


def timeline(alert: Alert, contract: Contract, scenario: Scenario, until: int
             ) -> dict[int, dict[Labels, float]]:
    """Firing alerts (labels -> $value) at every evaluation from 0 to ``until``."""
    active: dict[Labels, int] = {}
    out: dict[int, dict[Labels, float]] = {}
    held_at = kinds.of(alert).condition(alert, contract, scenario.series)
    for t in range(0, until + 1, STEP):
        held = held_at(t)
        active = {labels: active.get(labels, t) for labels in held}
        out[t] = {labels: held[labels] for labels, since in active.items()
                  if t - since >= alert.for_seconds}
    return out


def alert_labels(alert: Alert, series_labels: Labels) -> Labels:
    labels = dict(series_labels)
    labels.update(dict(alert.labels))
    labels["severity"] = alert.severity
    # An empty label value is no label in Prometheus (the gateway's instance="" vanishes).
    return tuple(sorted((k, v) for k, v in labels.items() if v != ""))


def annotations(alert: Alert, series_labels: Labels, value: float) -> Labels:
    if not alert.summary:
        return ()  # a rule without annotations (the property tests' semantic-only rules)
    out = [("summary", alert.summary)]
    if alert.description:
        out.append(("description", " ".join(alert.description.split())
                    if "\n" in alert.description else alert.description))
    try:
        return tuple((k, promtemplate.render(v, value, dict(series_labels))) for k, v in out)
    except promtemplate.NotDerivable as exc:
        raise NotDerivable(f"alert {alert.name}: annotation: {exc}") from None


def expected(alert: Alert, contract: Contract, scenario: Scenario
             ) -> tuple[tuple[int, tuple[Firing, ...]], ...]:
    """(eval time, firing alerts) for each eval time of the scenario."""
    times = scenario.eval_times or choose_eval_times(alert, contract, scenario)
    line = timeline(alert, contract, scenario, max(times))
    out = []
    for t in times:
        firing = tuple(sorted(
            (Firing(alert_labels(alert, labels), annotations(alert, labels, value))
             for labels, value in line[t].items()), key=lambda f: f.labels))
        out.append((t, firing))
    return tuple(out)


def choose_eval_times(alert: Alert, contract: Contract, scenario: Scenario) -> tuple[int, ...]:
    """Just before and at the first firing (the for: boundary), and the end."""
    end = scenario.end
    line = timeline(alert, contract, scenario, end)
    first = next((t for t in sorted(line) if line[t]), None)
    times = {end}
    if first is not None:
        times |= {max(first - STEP, 0), first}
    else:
        # the first evaluation at which for: could have elapsed (for: need not be whole steps)
        times.add(min(-(-int(alert.for_seconds) // STEP) * STEP, end))
    return tuple(sorted(times))


__all__ = ["STEP", "LOOKBACK", "STALE", "Labels", "Value", "NotDerivable", "Series",
           "Scenario", "Firing", "instant", "timeline", "expected",
           "choose_eval_times", "alert_labels", "annotations", "lookback_semantics",
           "lookback_closed_for"]
