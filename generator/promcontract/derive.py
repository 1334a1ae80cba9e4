"""Contract model -> promtool unit tests (derived scenarios, test files, mutants).

Derived scenarios straddle each threshold and each ``for:``; their expectations come from
the oracle (``promcontract.oracle``), never from hand-written numbers, and promtool must
agree. The same test-file writer compiles the property tests' batches.
"""

from __future__ import annotations

import dataclasses
import math

from promcontract import yamlout
from promcontract.durations import format_duration, in_unit_of, written_unit
from promcontract.model import Alert, Contract, format_number
from promcontract.oracle import (
    LOOKBACK,
    STALE,
    STEP,
    Firing,
    Labels,
    NotDerivable,
    Scenario,
    Series,
    Value,
    choose_eval_times,
    expected,
)

# --- derived scenarios ---------------------------------------------------------------------

def _base_labels(contract: Contract, extra: dict[str, str] | None = None) -> Labels:
    labels = dict(contract.grouping_key)
    labels["instance"] = ""  # the gateway adds instance="" to every pushed series
    labels.update(extra or {})
    return tuple(sorted(labels.items()))


def _steps(seconds: float) -> int:
    return int(math.ceil(seconds / STEP))


def derive(contract: Contract) -> tuple[list[Scenario], list[str]]:
    """Scenarios for every derivable alert, and a line per alert that is not derivable."""
    scenarios: list[Scenario] = []
    not_derivable: list[str] = []
    for alert in contract.alerts:
        try:
            made = _derive_alert(alert, contract)
            for scenario in made:  # every expectation must be computable
                expected(alert, contract, scenario)
            scenarios += made
        except NotDerivable as exc:
            not_derivable.append(str(exc))
    return scenarios, not_derivable


def _derive_invariant(alert: Alert, contract: Contract) -> list[Scenario]:
    """A consistent payload (quiet) and one that breaks the invariant (fires), held long
    enough to cross for:."""
    inv = alert.invariant
    assert inv is not None
    span = _steps(alert.for_seconds) + 4

    def snap(title: str, **metrics: list[tuple[str | None, float]]) -> Scenario:
        out = []
        for metric, items in metrics.items():
            spec = contract.metric(metric)
            for item, value in items:
                extra = {spec.labels[0]: item} if spec.labels and item is not None else None
                out.append(Series(metric, _base_labels(contract, extra), (value,) * span))
        return Scenario(alert.name, title, tuple(out))

    kind = inv.kind
    if kind == "count_equals_state":
        count, state, v = inv.get("count"), inv.get("state_metric"), float(inv.get("state"))
        other = next(float(x) for x, _ in contract.metric(state).domain.states if x != v)
        return [snap("count matches the per-stack series: quiet",
                     **{count: [(None, 1.0)], state: [("a", v), ("b", other)]}),
                snap("count disagrees with the per-stack series: fires",
                     **{count: [(None, 2.0)], state: [("a", v), ("b", other)]}),
                snap("no stacks and a count of 0: quiet", **{count: [(None, 0.0)]})]
    if kind == "counts_sum_to_series":
        counts, state = inv.get("counts"), inv.get("series")
        ones = {m: [(None, 1.0 if i == 0 else 0.0)] for i, m in enumerate(counts)}
        return [snap("counts add up to the per-stack series: quiet",
                     **ones, **{state: [("a", 1.0)]}),
                snap("a stack's series is missing: fires", **ones)]
    if kind in ("present_for_states", "absent_for_states"):
        state, metric = inv.get("state_metric"), inv.get("metric")
        v = float(inv.get("states")[0])
        if kind == "present_for_states":
            return [snap("every such stack has the series: quiet",
                         **{state: [("a", v)], metric: [("a", 1000.0)]}),
                    snap("a stack without the series: fires",
                         **{state: [("a", v), ("b", v)], metric: [("a", 1000.0)]})]
        return [snap("no such stack has the series: quiet",
                     **{state: [("a", v)]}),
                snap("a stack in that state still has the series: fires",
                     **{state: [("a", v)], metric: [("a", 1000.0)]})]
    if kind == "present_with":
        return [snap("both present: quiet",
                     **{inv.get("with"): [(None, 1000.0)], inv.get("metric"): [(None, 0.0)]}),
                snap("only the anchor (heartbeat-only push): fires",
                     **{inv.get("with"): [(None, 1000.0)]})]
    raise NotDerivable(f"alert {alert.name}: invariant kind {kind} is not derivable")


def _derive_alert(alert: Alert, contract: Contract) -> list[Scenario]:
    if alert.kind == "expr":
        raise NotDerivable(f"alert {alert.name}: kind expr (raw expression) is not derivable; "
                           "hand-written cases in the contract are run instead")
    if alert.kind == "invariant":
        return _derive_invariant(alert, contract)
    assert alert.metric is not None and alert.threshold is not None
    metric = contract.metric(alert.metric)
    hold = _steps(alert.for_seconds) + 4  # just past the for: boundary
    lead = 4  # minutes before a time-driven threshold is crossed
    # Ages grow by a step per evaluation; a time threshold written in a finer unit (90s) is
    # also held just past by that unit at an evaluation, so thr+1s would be told apart.
    fine = written_unit(alert.threshold_text) if alert.kind != "value_above" else float(STEP)
    out: list[Scenario] = []
    # A per-item metric gets an item, so the alert's labels (and $labels.<item>) show it.
    base = _base_labels(contract, {metric.labels[0]: "item-1"} if metric.labels else None)

    def scenario(title: str, *series: Series) -> Scenario:
        return Scenario(alert.name, title, tuple(series))

    if alert.kind == "value_above":
        thr = alert.threshold
        if metric.domain.integral:  # the nearest values the metric can take on either side
            below, at, above = math.ceil(thr) - 1.0, thr if thr.is_integer() else None, \
                math.floor(thr) + 1.0
        else:
            delta = max(abs(thr) * 0.01, 0.01)
            below, at, above = thr - delta, thr, thr + delta
        for title, value in (("just below the threshold", below), ("at the threshold", at),
                             ("just above the threshold", above)):
            if value is not None and metric.domain.contains(value):
                out.append(scenario(f"{title} ({format_number(value)} {alert.comparison} "
                                    f"{format_number(thr)}?)",
                                    Series(metric.name, base, (value,) * (hold + 1))))
        gap = _steps(LOOKBACK) + 3
        out.append(scenario("series missing after firing (gap longer than the 5m lookback): "
                            "resolves", Series(metric.name, base,
                                               (above,) * (hold + 1) + (None,) * gap)))
        out.append(scenario("series goes stale after firing: resolves at once",
                            Series(metric.name, base, (above,) * (hold + 1) + (STALE,) * 3)))
        out.append(scenario("gap shorter than the lookback: keeps firing",
                            Series(metric.name, base, (above,) * (hold + 1) + (None,) * 3
                                   + (above,) * 2)))
    elif alert.kind == "heartbeat_stale":
        crossing = -(alert.threshold - lead * STEP)  # age crosses the threshold at `lead`m
        span = lead + hold
        out.append(scenario("heartbeat ages past the threshold",
                            Series(metric.name, base, (crossing,) * (span + 1))))
        if fine < STEP:
            out.append(scenario(f"heartbeat {in_unit_of(fine, alert.threshold_text)} past the "
                                "threshold at an evaluation",
                                Series(metric.name, base, (crossing - fine,) * (span + 1))))
        out.append(scenario("fresh heartbeat: quiet",
                            Series(metric.name, base, (0.0,) * (span + 1))))
        other = _base_labels(contract, {"job": contract.job + "-other"})
        title = "heartbeat absent (only another job's)" + (
            ": fires" if alert.when_absent == "fire" else ": quiet (when_absent: silent)")
        out.append(scenario(title, Series(metric.name, other, (0.0,) * (span + 1))))
        out.append(scenario("heartbeat goes stale (gateway wiped): "
                            + ("fires" if alert.when_absent == "fire" else "quiet"),
                            Series(metric.name, base, (0.0,) * lead + (STALE,) * (hold + 1))))
    elif alert.kind == "age_above":
        crossing = -(alert.threshold - lead * STEP)
        span = lead + hold
        item = metric.labels[0] if metric.labels else None
        old = _base_labels(contract, {item: "old"} if item else None)
        young = _base_labels(contract, {item: "young"} if item else None)
        out.append(scenario("one series ages past the threshold, one does not",
                            Series(metric.name, old, (crossing,) * (span + 1)),
                            Series(metric.name, young, (0.0,) * (span + 1))))
        if fine < STEP:
            out.append(scenario(f"age {in_unit_of(fine, alert.threshold_text)} past the "
                                "threshold at an evaluation",
                                Series(metric.name, old, (crossing - fine,) * (span + 1))))
        out.append(scenario("series cleared (clean run) after firing: resolves",
                            Series(metric.name, old, (crossing,) * (span + 1) + (STALE,) * 3)))
    return out


# --- promtool test files -------------------------------------------------------------------

def _group(scenarios: list[Scenario], contract: Contract, batch_label: str | None = None
           ) -> dict:
    """One promtool test group; several scenarios of one alert are told apart by a label."""
    alert = _alert(contract, scenarios[0].alert)
    # Every scenario is checked at every eval time of the group: promtool compares all the
    # group's alerts at each time, so a time one scenario needs applies to all of them.
    times = sorted({t for scenario in scenarios
                    for t in (scenario.eval_times
                              or choose_eval_times(alert, contract, scenario))})
    input_series = []
    expectations: dict[int, list[Firing]] = {t: [] for t in times}
    for index, scenario in enumerate(scenarios):
        tagged = dataclasses.replace(scenario, eval_times=tuple(times))
        if batch_label is not None:
            tagged = dataclasses.replace(tagged, series=tuple(
                dataclasses.replace(s, labels=tuple(sorted(s.labels + ((batch_label,
                                                                          str(index)),))))
                for s in scenario.series))
        for series in tagged.series:
            input_series.append({"series": series.selector(), "values": series.notation()})
        for t, firing in expected(alert, contract, tagged):
            expectations[t].extend(firing)
    tests = []
    for t in sorted(expectations):
        exp = [{"exp_labels": dict(f.labels), **({"exp_annotations": dict(f.annotations)}
                                                   if f.annotations else {})}
               for f in sorted(expectations[t], key=lambda f: f.labels)]
        tests.append({"eval_time": format_duration(t), "alertname": alert.name,
                      "exp_alerts": exp})
    return {"interval": format_duration(STEP), "input_series": input_series,
            "alert_rule_test": tests}


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
    time_valued = alert.kind in ("heartbeat_stale", "age_above")
    if alert.kind == "invariant":
        raise NotDerivable(f"alert {alert.name}: invariant scenarios are not batched in time")
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
        sep[step] = float(step * STEP) if time_valued else float("-inf")
        sep[step + 1] = STALE
    out = [Series(metric, labels, tuple(row)) for (metric, labels), row in rows.items()]
    if len(placed) > 1:
        out.append(Series(first.metric, sep_labels, tuple(sep)))
    return Scenario(alert.name, f"{len(scenarios)} scenarios in sequence", tuple(out),
                    tuple(sorted(times)))


def _alert(contract: Contract, name: str) -> Alert:
    return next(a for a in contract.alerts if a.name == name)


def can_batch(alert: Alert) -> bool:
    """Scenarios share a test group when the expression keeps a distinguishing label."""
    return alert.kind in ("value_above", "age_above")  # invariants match on(job): in sequence


def test_file(contract: Contract, rule_file: str, scenarios: list[Scenario],
              header: str = "", batch: bool = False) -> str:
    """A promtool test file (2.42 and 3.x compatible fields only)."""
    lines = [header.rstrip("\n")] if header else []
    lines += [f"rule_files:\n  - {rule_file}", f"evaluation_interval: {format_duration(STEP)}",
              "tests:"]
    groups: list[tuple[str, dict]] = []
    if batch:
        by_alert: dict[str, list[Scenario]] = {}
        for scenario in scenarios:
            by_alert.setdefault(scenario.alert, []).append(scenario)
        for name, items in by_alert.items():
            alert = _alert(contract, name)
            if can_batch(alert):
                groups.append((f"{name}: {len(items)} scenarios",
                               _group(items, contract, "scenario")))
            else:
                groups.append((f"{name}: {len(items)} scenarios in sequence",
                               _group([sequential(items, alert, contract)], contract)))
    else:
        groups = [(f"{s.alert}: {s.title}", _group([s], contract)) for s in scenarios]
    for title, group in groups:
        lines.append(f"  # {title}")
        lines += yamlout.block([group], "  ")
    return "\n".join(lines) + "\n"


def contract_test_file(contract: Contract, rule_file: str) -> tuple[str, list[str]]:
    scenarios, not_derivable = derive(contract)
    header = (f"# promtool unit tests derived from {contract.source.rsplit('/', 1)[-1]} by "
              "promcontract (make rules).\n# Do not edit: change the contract and run make rules."
              "\n# Each threshold and for: is pinned by scenarios on both sides of it.")
    body = test_file(contract, rule_file, scenarios, header=header)
    body += hand_written_cases(contract)
    return body, not_derivable


def hand_written_cases(contract: Contract) -> str:
    """The contract's own test groups for alerts that cannot be derived, run with the rest."""
    import json

    lines: list[str] = []
    for alert in contract.alerts:
        for index, raw in enumerate(alert.cases, start=1):
            group = json.loads(raw)
            group.setdefault("interval", format_duration(STEP))
            for case in group["alert_rule_test"]:
                case.setdefault("alertname", alert.name)
                case.setdefault("exp_alerts", [])
            lines.append(f"  # {alert.name}: hand-written case {index} (from the contract)")
            lines += yamlout.block([group], "  ")
    return "\n".join(lines) + "\n" if lines else ""


# --- mutation check --------------------------------------------------------------------------

def mutants(contract: Contract) -> list[tuple[str, Contract]]:
    """Each threshold and each for: moved by one unit of how it is written, both ways (a
    for: by at least one evaluation step)."""
    out = []
    for index, alert in enumerate(contract.alerts):
        if alert.kind == "expr":
            continue
        changes: list[tuple[str, Alert]] = []
        if alert.threshold is not None:
            unit = written_unit(alert.threshold_text) if alert.kind != "value_above" else 1.0
            for sign in (-1, 1):
                value = alert.threshold + sign * unit
                shown = in_unit_of(value, alert.threshold_text) if alert.kind != "value_above" \
                    else format_number(value)
                changes.append((f"{alert.name}: threshold {alert.threshold_text} -> {shown}",
                                dataclasses.replace(alert, threshold=value)))
        # Alerts are evaluated every STEP: for: values closer than that behave the same in
        # every test (45s and 46s both fire at the first evaluation 60s on), so a for: written
        # in a finer unit moves by one evaluation step instead, down to 0s at the least.
        written = written_unit(alert.for_)
        unit = max(written, float(STEP))
        note = f" (one {format_duration(STEP)} evaluation step)" if unit > written else ""
        for sign in (-1, 1):
            seconds = max(alert.for_seconds + sign * unit, 0.0)
            if seconds == alert.for_seconds:
                continue
            changes.append((f"{alert.name}: for {alert.for_} -> "
                            f"{in_unit_of(seconds, alert.for_)}{note}",
                            dataclasses.replace(alert, for_seconds=seconds,
                                                for_=format_duration(seconds))))
        for label, mutated in changes:
            alerts = list(contract.alerts)
            alerts[index] = mutated
            out.append((label, dataclasses.replace(contract, alerts=tuple(alerts))))
    return out


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
    alert = _alert(contract, name)
    if not templates:
        alert = dataclasses.replace(alert, summary="", description="", severity="", labels=())
    return dataclasses.replace(contract, alerts=(alert,))


def batch_files(contract: Contract, scenarios: list[Scenario], templates: bool = True
                ) -> dict[str, str]:
    """Test file text per alert (rule file ``<alert>.rules.yml``), scenarios batched: one
    test group per alert where the expression keeps a label to tell them apart."""
    by_alert: dict[str, list[Scenario]] = {}
    for scenario in scenarios:
        by_alert.setdefault(scenario.alert, []).append(scenario)
    return {name: test_file(single_alert(contract, name, templates), f"{name}.rules.yml",
                            items, batch=True)
            for name, items in by_alert.items()}


__all__ = ["derive", "expected", "test_file", "contract_test_file", "mutants", "Scenario",
           "Series", "NotDerivable"]
