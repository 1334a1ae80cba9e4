"""Scenarios compiled into promtool test files (fields promtool 2.42 and 3.x both know): the
derived test file of a contract, and the batched files of the property tests.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

from promcontract import kinds
from promcontract.durations import format_duration
from promcontract.kinds.series import SCENARIO_LABEL, STEP, Firing, Scenario
from promcontract.model import yamlout
from promcontract.model.contract import Alert, Contract
from promcontract.promql import ParseError, metrics_read
from promcontract.testgen.oracle import (
    choose_eval_times,
    expected,
    lookback_semantics,
    timeline,
)
from promcontract.testgen.scenarios import can_batch, derive, sequential, single_alert

SCENARIOS_PER_GROUP = 4
"""At most this many scenarios share a derived test group (told apart by a label). Fewer
groups cost promtool less (a group's setup, and each rule evaluated once per step for all its
series), but mutate runs every mutant against the cheapest of an alert's groups first and
the survivors against the next: with all scenarios in one group there is no cheaper one, and
every mutant pays for all of them. Measured on drawn contracts (same run, bench pinning's
draw): groups of 3-4 take a quarter off promtool's time; one group per alert about a tenth."""



def _tagged(scenarios: list[Scenario], contract: Contract, batch_label: str | None = None,
            tags: list[str] | None = None) -> list[Scenario]:
    """The scenarios as one test group runs them: each checked at every eval time of the
    group (promtool compares all the group's alerts at each time, so a time one scenario
    needs applies to all of them), and, with ``batch_label``, its series carrying that label
    with its tag (default: its index)."""
    alert = contract.alert(scenarios[0].alert)
    times = tuple(sorted({t for scenario in scenarios
                          for t in (scenario.eval_times
                                    or choose_eval_times(alert, contract, scenario))}))
    out = []
    for index, scenario in enumerate(scenarios):
        tagged = dataclasses.replace(scenario, eval_times=times)
        if batch_label is not None:
            tag = tags[index] if tags else str(index)
            tagged = dataclasses.replace(tagged, series=tuple(
                dataclasses.replace(s, labels=tuple(sorted(s.labels + ((batch_label, tag),))))
                for s in scenario.series))
        out.append(tagged)
    return out


def _group(scenarios: list[Scenario], contract: Contract, batch_label: str | None = None,
           tags: list[str] | None = None) -> dict:
    """One promtool test group; several scenarios of one alert are told apart by a label."""
    return _group_of(_tagged(scenarios, contract, batch_label, tags), contract)


def _group_of(tagged: list[Scenario], contract: Contract) -> dict:
    """The test group of scenarios already placed by :func:`_tagged`."""
    alert = contract.alert(tagged[0].alert)
    input_series = []
    expectations: dict[int, list[Firing]] = {t: [] for t in tagged[0].eval_times}
    for scenario in tagged:
        for series in scenario.series:
            input_series.append({"series": series.selector(), "values": series.notation()})
        for t, firing in expected(alert, contract, scenario):
            expectations[t].extend(firing)
    tests = []
    for t in sorted(expectations):
        exp = [{"exp_labels": dict(f.labels), **({"exp_annotations": dict(f.annotations)}
                                                   if f.annotations else {})}
               for f in sorted(expectations[t], key=lambda f: f.labels)]
        tests.append({"eval_time": format_duration(t), "alertname": alert.name,
                      "exp_alerts": exp})
    intervals = {series.interval for scenario in tagged for series in scenario.series}
    if len(intervals) != 1:
        raise ValueError(f"scenarios of one test group need one input interval: {intervals}")
    return {"interval": format_duration(intervals.pop()), "input_series": input_series,
            "alert_rule_test": tests}


def _alone(alert: Alert, contract: Contract, metrics: set[str]) -> bool:
    """No other rule of the contract's file could be upset by the scenarios' series sharing
    a group: every group evaluates every rule of the file, and a join over these metrics
    (an invariant's ``on (job)``) errors on series told apart only by the scenario label.
    Rules that keep labels and compare each series on its own (``can_batch``) are not."""
    for other in contract.alerts:
        if other.name == alert.name or can_batch(other):
            continue
        try:
            read = metrics_read(kinds.of(other).expr(other, contract))
        except ParseError:
            return False
        if read is None or read & metrics:
            return False
    return True


def _versions_agree(alert: Alert, contract: Contract, scenarios: list[Scenario]) -> bool:
    """Whether each scenario fires the same under Prometheus 2.x and 3.x readings at every
    eval time of the group they would share. Each scenario's own times are chosen where the
    two agree (``choose_eval_times``), but a group checks every scenario at all its times,
    and a time one scenario needs can sit on another's edge (a sample exactly 5m old, an
    increase() window's left edge): then they take separate groups, and the file still holds
    on both versions."""
    times = sorted({t for scenario in scenarios
                    for t in (scenario.eval_times
                              or choose_eval_times(alert, contract, scenario))})
    for scenario in scenarios:
        lines = []
        for closed in (True, False):
            with lookback_semantics(closed):
                lines.append(timeline(alert, contract, scenario, times[-1]))
        if any(lines[0][t] != lines[1][t] for t in times):
            return False
    return True


@dataclasses.dataclass(frozen=True)
class DerivedGroup:
    """One test group of a contract's derived test file: its comment and its scenarios as
    the group runs them (see :func:`_tagged`); ``label`` tells them apart, when they share."""

    title: str
    scenarios: tuple[Scenario, ...]
    label: str | None


def derived_groups(contract: Contract, scenarios: list[Scenario]) -> list[DerivedGroup]:
    """The test groups of the derived test file, in order. An alert whose expression keeps
    a label to tell scenarios apart (see ``can_batch``) has its scenarios share groups of up
    to SCENARIOS_PER_GROUP, each scenario's series labelled ``promcontract_scenario="N"`` (N
    its number among the alert's scenarios); the others have a group per scenario."""
    out: list[DerivedGroup] = []
    by_alert: dict[str, list[Scenario]] = {}
    for scenario in scenarios:
        by_alert.setdefault(scenario.alert, []).append(scenario)
    for name, items in by_alert.items():
        alert = contract.alert(name)
        label = SCENARIO_LABEL
        taken = {k for s in items for series in s.series for k, _ in series.labels}
        if not can_batch(alert) or label in taken or len(items) == 1 or not _alone(
                alert, contract, {series.metric for s in items for series in s.series}):
            out += [DerivedGroup(f"{name}: {s.title}", tuple(_tagged([s], contract)), None)
                    for s in items]
            continue
        numbered = list(enumerate(items, start=1))
        chunks: list[list[tuple[int, Scenario]]] = []
        for number, scenario in numbered:
            intervals = {s.interval for s in scenario.series}
            if chunks and len(chunks[-1]) < SCENARIOS_PER_GROUP and intervals == {
                    s.interval for _, c in chunks[-1] for s in c.series} and _versions_agree(
                    alert, contract, [c for _, c in chunks[-1]] + [scenario]):
                chunks[-1].append((number, scenario))
            else:
                chunks.append([(number, scenario)])
        for chunk in chunks:
            if len(chunk) == 1:
                number, scenario = chunk[0]
                out.append(DerivedGroup(f"{name}: {scenario.title}",
                                        tuple(_tagged([scenario], contract)), None))
                continue
            title = f"{name}, scenarios told apart by the label {label}:" + "".join(
                f"\n    {label}={number}: {scenario.title}" for number, scenario in chunk)
            out.append(DerivedGroup(title, tuple(_tagged(
                [s for _, s in chunk], contract, label, [str(n) for n, _ in chunk])), label))
    return out


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
            alert = contract.alert(name)
            if can_batch(alert):
                groups.append((f"{name}: {len(items)} scenarios",
                               _group(items, contract, "scenario")))
            elif kinds.of(alert).sequential_ok:
                groups.append((f"{name}: {len(items)} scenarios in sequence",
                               _group([sequential(items, alert, contract)], contract)))
            else:  # a group each: nothing in one scenario can reach another
                groups += [(f"{name}: {s.title}", _group([s], contract)) for s in items]
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
    lines = [header, f"rule_files:\n  - {rule_file}",
             f"evaluation_interval: {format_duration(STEP)}", "tests:"]
    for group in derived_groups(contract, scenarios):
        lines += [f"  # {line}" for line in group.title.split("\n")]
        lines += yamlout.block([_group_of(list(group.scenarios), contract)], "  ")
    body = "\n".join(lines) + "\n"
    body += hand_written_cases(contract)
    return body, not_derivable


def hand_written_cases(contract: Contract) -> str:
    """The contract's own test groups for alerts that cannot be derived, run with the rest."""
    lines: list[str] = []
    for alert in contract.alerts:
        for index, raw in enumerate(getattr(alert.spec, "cases", ()), start=1):
            group = json.loads(raw)
            group.setdefault("interval", format_duration(STEP))
            for case in group["alert_rule_test"]:
                case.setdefault("alertname", alert.name)
                case.setdefault("exp_alerts", [])
            lines.append(f"  # {alert.name}: hand-written case {index} (from the contract)")
            lines += yamlout.block([group], "  ")
    return "\n".join(lines) + "\n" if lines else ""


def batch_files(contract: Contract, scenarios: list[Scenario], templates: bool = True,
                parts: int = 1) -> dict[str, str]:
    """Test file text per alert (rule file ``<alert>.rules.yml``), scenarios batched: one
    test group per alert where the expression keeps a label to tell them apart. With
    ``parts`` > 1 each alert's scenarios are dealt into that many files, so as many promtool
    processes can share them (a batch's cost grows with its scenarios either way)."""
    return {name: text for _, name, text in iter_batch_files(contract, scenarios, templates,
                                                              parts)}


def iter_batch_files(contract: Contract, scenarios: list[Scenario], templates: bool = True,
                     parts: int = 1) -> Iterator[tuple[int, str, str]]:
    """:func:`batch_files` one file at a time as (part, name, text), part by part, and in
    each part the alerts whose scenarios run in sequence (the longest for promtool) first:
    a caller can start promtool on one part while the next is written."""

    by_alert: dict[str, list[Scenario]] = {}
    for scenario in scenarios:
        by_alert.setdefault(scenario.alert, []).append(scenario)
    named = {a.name: a for a in contract.alerts}
    order = sorted(by_alert, key=lambda name: can_batch(named[name]))
    alerts = {name: single_alert(contract, name, templates) for name in order}
    for part in range(parts):
        for name in order:
            items = by_alert[name]
            count = max(1, min(parts, len(items)))
            if part >= count:
                continue
            key = name if count == 1 else f"{name}-{part}"
            yield part, key, test_file(alerts[name], f"{name}.rules.yml", items[part::count],
                                       batch=True)
