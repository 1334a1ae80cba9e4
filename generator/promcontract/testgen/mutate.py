"""Mutation testing of alerting rules against promtool unit tests.

Every alerting rule of the given rule files is mutated by the operators of
:mod:`promcontract.testgen.operators` (a literal moved by one, ``>`` made ``>=``, ``and`` made
``unless``, ``for:`` one evaluation step shorter, ...). A mutant the tests cannot tell from the
rule has survived: the tests do not pin that part of the rule.

How it runs, and why it is fast: each mutant gets its own directory with a rule file that holds
only its alert (and the recording rules that alert reads, transitively) and a test file that
holds only the test groups that name its alert, with only those ``alert_rule_test`` entries.
So a mutant is evaluated against its own alert's tests and nothing else. The unchanged rules go
through the same isolation first, and must pass; then all mutant test files are shared out over
as many ``promtool test rules`` processes as the machine has cores (one process takes any
number of test files and reports on each). ``promql_expr_test`` entries are left out (they
test expressions, not the alert); leaving tests out can only let a mutant survive, never count
one as killed that the full tests would not kill.

A mutant counts as killed only when promtool reports an alert that differs from what a test
expects; a test file that fails for another reason (promtool cannot load the mutant) is
reported as invalid, never as killed.
"""

from __future__ import annotations

import copy
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from promcontract.promql import ParseError, parse
from promcontract.promql.nodes import Selector, walk
from promcontract.runners import promtool
from promcontract.testgen import promfiles
from promcontract.testgen.operators import Hints, Mutation, mutations
from promcontract.testgen.promfiles import AlertRule, RuleFile, TestFile


@dataclass(frozen=True)
class Outcome:
    mutation: Mutation
    state: str  # killed | survived | equivalent | invalid | untested
    detail: str = ""


@dataclass
class AlertResult:
    rule: AlertRule
    tests: list[str]  # the test files that name the alert
    outcomes: list[Outcome] = field(default_factory=list)
    baseline: str = ""  # why its tests fail on the unchanged rule (then nothing is mutated)
    unparsed: str = ""  # why its expression could not be read (then nothing is mutated)

    def count(self, state: str) -> int:
        return sum(o.state == state for o in self.outcomes)

    @property
    def total(self) -> int:
        """Mutants that were run (equivalent ones are listed, not run)."""
        return sum(o.state != "equivalent" for o in self.outcomes)

    @property
    def killed(self) -> int:
        return self.count("killed")

    @property
    def status(self) -> str:
        if not self.tests:
            return "untested"
        if self.unparsed:
            return "unparsed"
        if self.baseline:
            return "baseline-failed"
        if self.count("survived") or self.count("invalid") or self.count("untested"):
            return "survivors"
        return "clean"


@dataclass
class Report:
    alerts: list[AlertResult]
    processes: int = 0
    seconds: float = 0.0

    @property
    def killed(self) -> int:
        return sum(a.killed for a in self.alerts)

    @property
    def total(self) -> int:
        return sum(a.total for a in self.alerts)

    @property
    def score(self) -> float:
        """Killed share of the mutants run, in percent (100 when none ran)."""
        return 100.0 * self.killed / self.total if self.total else 100.0

    @property
    def clean(self) -> bool:
        return all(a.status == "clean" for a in self.alerts)


class BaselineFailed(Exception):
    """The tests fail on the rules as they are: no mutant result would mean anything."""


Progress = Callable[[int, int], None]


def run(rule_paths: list[str], test_paths: list[str],
        hints: Hints | dict[str, Hints] | None = None, only: str | None = None,
        progress: Progress | None = None, workers: int | None = None,
        operators: set[str] | None = None) -> Report:
    """Mutate every alert of ``rule_paths`` (or only the one named ``only``) and run each
    mutant against the ``test_paths`` tests that name it. ``hints``: for all rule files, or
    per rule file path; ``operators``: only these (default: all)."""
    started = time.monotonic()
    workers = workers or os.cpu_count() or 1
    rule_files = {os.path.realpath(p): promfiles.load_rules(p) for p in rule_paths}
    tests = [promfiles.load_tests(p) for p in test_paths]
    context: dict[str, RuleFile] = dict(rule_files)
    for test in tests:
        for path in test.rule_paths:
            real = os.path.realpath(path)
            if real not in context:
                context[real] = promfiles.load_rules(path)
    results: list[AlertResult] = []
    for rule_file in rule_files.values():
        for alert in rule_file.alerts:
            if only is not None and alert.name != only:
                continue
            covering = [t for t in tests if alert.name in t.alertnames()
                        and os.path.realpath(alert.file) in
                        {os.path.realpath(p) for p in t.rule_paths}]
            results.append(AlertResult(alert, [t.path for t in covering]))
    by_key = {r.rule.key: r for r in results}
    covering_tests = {r.rule.key: [t for t in tests if t.path in r.tests] for r in results}

    with tempfile.TemporaryDirectory(prefix="promcontract-mutants-") as tmp:
        runner = _Batch(tmp, context, workers)
        planned: dict[tuple, list[tuple]] = {}
        baselines: dict[tuple, str] = {}
        for result in results:
            if not result.tests:
                _untested(result, hints)
                continue
            rule = result.rule
            step = min(t.evaluation_interval for t in covering_tests[rule.key])
            if isinstance(hints, dict):
                these = hints.get(os.path.realpath(rule.file))
            else:
                these = hints
            try:
                needed = _read_metrics(rule.expr)
                found = mutations(rule.expr, rule.for_, rule.keep_firing_for, step, these)
            except ParseError as exc:
                result.unparsed = str(exc)
                continue
            if operators is not None:
                found = [m for m in found if m.operator in operators]
            covering = covering_tests[rule.key]
            records = _needed_records(context, needed)
            baselines[rule.key] = runner.job(rule, None, covering, records, None)
            first, rest = _rounds(covering, rule.name)
            planned[rule.key] = []
            for mutation in found:
                if mutation.equivalent:
                    result.outcomes.append(Outcome(mutation, "equivalent",
                                                   mutation.equivalent))
                    continue
                planned[rule.key].append((mutation, covering, records, rest, runner.job(
                    rule, mutation, covering, records, first)))
        # Round one: each mutant against the cheaper half of its alert's test groups (most
        # mutants die there); round two: the survivors against the rest. A mutant survives
        # only when it passed every group, as in one run; the work is a fraction of it.
        # The unchanged rules run in the same wave of promtool processes as round one (a wave
        # waits for its slowest process); an alert whose unchanged rule fails has its
        # mutants' verdicts dropped, as if they had not run.
        first = [item[-1] for items in planned.values() for item in items]
        verdicts = runner.run(list(baselines.values()) + first, progress)
        for key, job in baselines.items():
            if verdicts[job][0] != "survived":
                by_key[key].baseline = verdicts[job][1]
                planned.pop(key)
        second: dict[str, str] = {}
        for key, items in planned.items():
            for mutation, covering, records, rest, job in items:
                if verdicts[job][0] == "survived" and rest:
                    second[job] = runner.job(by_key[key].rule, mutation, covering, records,
                                             rest)
        verdicts.update({job: v for job, v in runner.run(list(second.values()), progress)
                         .items()})
        for key, items in planned.items():
            for mutation, _, _, _, job in items:
                state, detail = verdicts[second.get(job, job)]
                by_key[key].outcomes.append(Outcome(mutation, state, detail))
        processes = runner.processes
    return Report(results, processes, time.monotonic() - started)


def _untested(result: AlertResult, hints: Hints | dict[str, Hints] | None) -> None:
    """An alert no test names: every mutant passes its (absent) tests. They are listed and
    counted as not killed, so a score never looks better for leaving an alert untested."""
    rule = result.rule
    these = hints.get(os.path.realpath(rule.file)) if isinstance(hints, dict) else hints
    try:
        found = mutations(rule.expr, rule.for_, rule.keep_firing_for, 60.0, these)
    except ParseError as exc:
        result.unparsed = str(exc)
        return
    for mutation in found:
        result.outcomes.append(Outcome(mutation, "equivalent" if mutation.equivalent
                                       else "untested",
                                       mutation.equivalent or "no test names the alert"))


def run_texts(rule_text: str, rule_name: str, test_text: str,
              hints: Hints | None = None, only: str | None = None) -> Report:
    """:func:`run` over a rule file and a test file given as text (the test file loads
    ``rule_name``)."""
    with tempfile.TemporaryDirectory(prefix="promcontract-mutate-in-") as tmp:
        rule_path = os.path.join(tmp, rule_name)
        test_path = os.path.join(tmp, "tests.yml")
        with open(rule_path, "w", encoding="utf-8") as handle:
            handle.write(rule_text)
        with open(test_path, "w", encoding="utf-8") as handle:
            handle.write(test_text)
        return run([rule_path], [test_path], hints, only)


def _read_metrics(expr: str) -> set[str] | None:
    """Metric names ``expr`` reads (None: it reads by regex on the name, so anything)."""
    names = set()
    for node, _ in walk(parse(expr)):
        if isinstance(node, Selector):
            if not node.name:
                return None
            names.add(node.name)
    return names


class _Batch:
    """Writes each job's files and runs them through promtool, many files per process."""

    def __init__(self, tmp: str, context: dict[str, RuleFile], workers: int):
        self.tmp = tmp
        self.context = context
        self.workers = workers
        self.count = 0
        self.processes = 0
        self.files: dict[str, list[str]] = {}  # job -> its test files
        self.cost: dict[str, float] = {}

    def job(self, rule: AlertRule, mutation: Mutation | None, tests: list[TestFile],
            records: set[str] | None, selection: dict[int, set[int]] | None) -> str:
        """A directory holding ``rule`` (mutated, unless ``mutation`` is None) with the
        recording rules it reads, and one test file per covering test file, with the test
        groups ``selection`` names (test file index -> group indexes; None: all)."""
        name = os.path.join(self.tmp, str(self.count))
        self.count += 1
        os.mkdir(name)
        paths = []
        cost = 0.0
        for n, test in enumerate(tests):
            if selection is not None and not selection.get(n):
                continue
            rule_names = []
            kept_groups: set[str] = set()
            for m, path in enumerate(test.rule_paths):
                data, groups = _isolated(self.context[os.path.realpath(path)], rule,
                                         mutation, records)
                rule_name = f"rules-{n}-{m}.yml"
                with open(os.path.join(name, rule_name), "w", encoding="utf-8") as handle:
                    handle.write(promfiles.dump(data))
                rule_names.append(rule_name)
                kept_groups |= groups
            data, weight = _tests_for(test, rule.name, rule_names, kept_groups,
                                      None if selection is None else selection[n])
            cost += weight
            test_path = os.path.join(name, f"tests-{n}.yml")
            with open(test_path, "w", encoding="utf-8") as handle:
                handle.write(promfiles.dump(data))
            paths.append(test_path)
        self.files[name] = paths
        self.cost[name] = cost
        return name

    def run(self, jobs: list[str], progress: Progress | None) -> dict[str, tuple[str, str]]:
        """(state, detail) per job: survived when every test file passed, killed when one
        showed a differing alert, invalid when one failed for another reason."""
        if not jobs:
            return {}
        files = [(path, self.cost[job] / len(self.files[job])) for job in jobs
                 for path in self.files[job]]
        results, problems = promtool.test_many(files, self.workers, self.tmp, progress)
        self.processes += min(len(files), self.workers * 3)
        verdicts = {}
        for job in jobs:
            state, detail = "survived", "promtool test rules passed"
            for path in self.files[job]:
                found = results.get(path)
                if found is None:
                    state, detail = "invalid", ("promtool did not report on this test file"
                                                + (f" ({problems[0]})" if problems else ""))
                    break
                if found.mismatches:
                    state, detail = "killed", found.describe(1)
                    break
                if not found.ok:
                    state, detail = "invalid", found.describe(1)
            verdicts[job] = (state, detail)
        return verdicts


def _needed_records(context: dict[str, RuleFile], needed: set[str] | None
                    ) -> set[str] | None:
    """Recording rules ``needed`` reads, and the ones they read, transitively (None: all)."""
    if needed is None:
        return None
    records: dict[str, list[str]] = {}
    for rule_file in context.values():
        for group in rule_file.data.get("groups") or ():
            for rule in group.get("rules") or ():
                if isinstance(rule, dict) and "record" in rule:
                    records.setdefault(str(rule["record"]), []).append(str(rule.get("expr")))
    wanted: set[str] = set()
    queue = [n for n in needed if n in records]
    while queue:
        name = queue.pop()
        if name in wanted:
            continue
        wanted.add(name)
        for expr in records[name]:
            try:
                more = _read_metrics(expr)
            except ParseError:
                return None
            if more is None:
                return None
            queue += [n for n in more if n in records and n not in wanted]
    return wanted


def _isolated(rule_file: RuleFile, target: AlertRule, mutation: Mutation | None,
              records: set[str] | None) -> tuple[promfiles.Node, set[str]]:
    """``rule_file`` with only the alerts named like ``target`` (``target`` itself mutated)
    and the recording rules in ``records`` (None: all); groups left empty are dropped."""
    data = copy.copy(rule_file.data)
    groups = promfiles.Seq()
    names = set()
    target_here = os.path.realpath(rule_file.path) == target.key[0]
    for g, group in enumerate(rule_file.data.get("groups") or ()):
        kept = promfiles.Seq()
        for i, rule in enumerate(group.get("rules") or ()):
            if "record" in rule:
                if records is None or str(rule["record"]) in records:
                    kept.append(rule)
                continue
            if str(rule.get("alert")) != target.name:
                continue
            if mutation is not None and target_here and (g, i) == target.key[1:]:
                rule = _mutated(rule, mutation)
            kept.append(rule)
        if kept:
            new_group = copy.copy(group)
            new_group["rules"] = kept
            groups.append(new_group)
            names.add(str(group.get("name")))
    data["groups"] = groups
    return data, names


def _mutated(rule: promfiles.Node, mutation: Mutation) -> promfiles.Node:
    new = promfiles.Node()
    for key, value in rule.items():
        if key in ("for", "keep_firing_for"):
            continue
        new[key] = value
        if key == "expr":
            new[key] = mutation.expr
    for key, value in (("for", mutation.for_), ("keep_firing_for", mutation.keep_firing_for)):
        if value:
            new[key] = value
    return new


def _group_cost(group: promfiles.Node, alertname: str, interval: float) -> float | None:
    return promfiles.group_cost(group, interval, alertname)


def _rounds(tests: list[TestFile], alertname: str
            ) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """The test groups naming ``alertname`` split in two: the cheapest ones up to half the
    cost (at least one), and the rest."""
    costs = []
    for n, test in enumerate(tests):
        for index, group in enumerate(test.data.get("tests") or ()):
            cost = _group_cost(group, alertname, test.evaluation_interval)
            if cost is not None:
                costs.append((cost, n, index))
    costs.sort()
    total = sum(c for c, _, _ in costs)
    first: dict[int, set[int]] = {}
    rest: dict[int, set[int]] = {}
    spent = 0.0
    for number, (cost, n, index) in enumerate(costs):
        if number == 0 or spent + cost <= total / 2:
            first.setdefault(n, set()).add(index)
            spent += cost
        else:
            rest.setdefault(n, set()).add(index)
    return first, rest


def _tests_for(test: TestFile, alertname: str, rule_names: list[str], groups: set[str],
               only: set[int] | None = None) -> tuple[promfiles.Node, float]:
    """``test`` with only the test groups that name ``alertname`` (and of those, the indexes
    in ``only``), each with only those ``alert_rule_test`` entries, loading ``rule_names``;
    and its cost in evaluation steps."""
    data = promfiles.Node(test.data)
    data["rule_files"] = promfiles.Seq(rule_names)
    if "group_eval_order" in data:
        data["group_eval_order"] = promfiles.Seq(
            g for g in data.get("group_eval_order") or () if str(g) in groups)
    kept = promfiles.Seq()
    cost = 0.0
    for index, group in enumerate(test.data.get("tests") or ()):
        if only is not None and index not in only:
            continue
        weight = _group_cost(group, alertname, test.evaluation_interval)
        if weight is None:
            continue
        new_group = promfiles.Node((k, v) for k, v in group.items()
                                   if k != "promql_expr_test")
        new_group["alert_rule_test"] = promfiles.Seq(
            c for c in group.get("alert_rule_test") or ()
            if str(c.get("alertname")) == alertname)
        kept.append(new_group)
        cost += weight
    data["tests"] = kept
    return data, cost


def contract_hints(contract) -> Hints:  # noqa: ANN001 - a promcontract.contract.model.Contract
    """What the contract says about its metrics: enum states (``== 1`` moves to the
    neighbouring states) and which metrics only take whole numbers."""
    states = {}
    integral = set()
    for metric in contract.metrics:
        if metric.domain.kind == "enum":
            states[metric.name] = tuple(sorted(float(v) for v, _ in metric.domain.states))
        if metric.domain.integral:
            integral.add(metric.name)
    return Hints(states, frozenset(integral))
