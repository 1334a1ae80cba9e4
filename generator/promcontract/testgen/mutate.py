"""Mutation check: the derived tests must fail on every off-by-one rule.

Each threshold and each ``for:`` of the standalone rule file is moved by one unit of how it is
written in the contract (26h -> 25h and 27h; 10 -> 9 and 11; 30m -> 29m and 31m; a for:
finer than the evaluation step by one step: 45s -> 0s and 105s). promtool
runs the unchanged test file against each mutant; a mutant that passes has survived, and the
tests do not pin that value. The tests must pass on the unchanged rules first.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from promcontract import kinds
from promcontract.contract.model import Alert, Contract
from promcontract.durations import format_duration, in_unit_of, written_unit
from promcontract.render import group
from promcontract.runners import promtool
from promcontract.testgen.series import STEP


@dataclass(frozen=True)
class Mutant:
    description: str
    killed: bool
    detail: str = ""


class BaselineFailed(Exception):
    """The tests fail on the rules as they are: no mutant result would mean anything."""


def mutants(contract: Contract) -> list[tuple[str, Contract]]:
    """Each kind's own values (thresholds) and each for: moved by one unit of how they are
    written, both ways (a for: by at least one evaluation step)."""
    out = []
    for index, alert in enumerate(contract.alerts):
        kind = kinds.of(alert)
        if not kind.derivable:
            continue
        changes = list(kind.mutants(alert)) + for_mutants(alert) + keep_firing_mutants(alert)
        for label, mutated in changes:
            alerts = list(contract.alerts)
            alerts[index] = mutated
            out.append((label, dataclasses.replace(contract, alerts=tuple(alerts))))
    return out


def keep_firing_mutants(alert: Alert) -> list[tuple[str, Alert]]:
    """keep_firing_for moved by one evaluation step both ways (down to none at all)."""
    if not alert.keep_firing_for:
        return []
    out = []
    for sign in (-1, 1):
        seconds = max(alert.keep_firing_seconds + sign * STEP, 0.0)
        shown = format_duration(seconds) if seconds else "none"
        out.append((f"{alert.name}: keep_firing_for {alert.keep_firing_for} -> {shown} (one "
                    f"{format_duration(STEP)} evaluation step)",
                    dataclasses.replace(alert, keep_firing_seconds=seconds,
                                        keep_firing_for=format_duration(seconds)
                                        if seconds else "")))
    return out


def for_mutants(alert: Alert) -> list[tuple[str, Alert]]:
    """for: moved by one unit of how it is written. Alerts are evaluated every STEP: for:
    values closer than that behave the same in every test (45s and 46s both fire at the first
    evaluation 60s on), so a for: written in a finer unit moves by one evaluation step
    instead, down to 0s at the least."""
    written = written_unit(alert.for_)
    unit = max(written, float(STEP))
    note = f" (one {format_duration(STEP)} evaluation step)" if unit > written else ""
    out = []
    for sign in (-1, 1):
        seconds = max(alert.for_seconds + sign * unit, 0.0)
        if seconds == alert.for_seconds:
            continue
        out.append((f"{alert.name}: for {alert.for_} -> {in_unit_of(seconds, alert.for_)}{note}",
                    dataclasses.replace(alert, for_seconds=seconds,
                                        for_=format_duration(seconds))))
    return out


def run(contract: Contract, test_text: str, rule_file_name: str,
        only: str | None = None) -> list[Mutant]:
    """Mutants of every alert (or of the alert named ``only``), each run through promtool.

    The unchanged rules run first: if the tests fail on them, every mutant would count as
    killed, so that raises BaselineFailed (with promtool's output) instead.
    """
    cases = [("unchanged rules", contract)] + [
        (label, mutated) for label, mutated in mutants(contract)
        if only is None or label.startswith(f"{only}:")]
    with tempfile.TemporaryDirectory(prefix="promcontract-mutants-") as tmp:

        def one(index: int) -> Mutant:
            label, mutated = cases[index]
            folder = os.path.join(tmp, str(index))
            os.mkdir(folder)
            with open(os.path.join(folder, rule_file_name), "w", encoding="utf-8") as handle:
                handle.write(group.render_rule_file(mutated))
            test_path = os.path.join(folder, "tests.yml")
            with open(test_path, "w", encoding="utf-8") as handle:
                handle.write(test_text)
            result = promtool.test_rules(test_path)
            return Mutant(label, result.returncode != 0,
                          result.output if result.returncode != 0
                          else "promtool test rules passed")

        with ThreadPoolExecutor(max_workers=2) as pool:
            baseline, *results = pool.map(one, range(len(cases)))
    if baseline.killed:
        raise BaselineFailed(baseline.detail)
    return results
