"""Scenarios compiled into promtool test files (fields promtool 2.42 and 3.x both know): the
derived test file of a contract, and the batched files of the property tests.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

from promcontract import kinds
from promcontract.durations import format_duration
from promcontract.kinds.series import STEP, Firing, Scenario
from promcontract.model import yamlout
from promcontract.model.contract import Contract
from promcontract.testgen.oracle import choose_eval_times, expected
from promcontract.testgen.scenarios import can_batch, derive, sequential, single_alert


def _group(scenarios: list[Scenario], contract: Contract, batch_label: str | None = None
           ) -> dict:
    """One promtool test group; several scenarios of one alert are told apart by a label."""
    alert = contract.alert(scenarios[0].alert)
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
    intervals = {series.interval for scenario in scenarios for series in scenario.series}
    if len(intervals) != 1:
        raise ValueError(f"scenarios of one test group need one input interval: {intervals}")
    return {"interval": format_duration(intervals.pop()), "input_series": input_series,
            "alert_rule_test": tests}


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
    body = test_file(contract, rule_file, scenarios, header=header)
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
