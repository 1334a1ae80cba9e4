"""Mutation testing of alerting rules against promtool unit tests.

Every alerting rule of the given rule files is mutated by the operators of
:mod:`promcontract.testgen.operators` (a literal moved by one, ``>`` made ``>=``, ``and`` made
``unless``, ``for:`` one evaluation step shorter, ...). A mutant the tests cannot tell from the
rule has survived: the tests do not pin that part of the rule.

How it runs, and why it is fast: each alert gets its own directory with a rule file that holds
only that alert (and the recording rules it reads, transitively) and a test file that holds
only the test groups that name it, with only those ``alert_rule_test`` entries. Its mutants sit
in the same rule group as renamed copies (``NAME__pcm0``, ...), and every test entry for the
alert is repeated for each copy: one promtool test group setup (most of promtool's cost on
small tests) serves the unchanged rule and all its mutants, and promtool names each failing
copy. The alert's test groups run one per round, the cheapest first, each round with the
unchanged rule and the mutants still alive (most die in the first; once none is left, the
groups still to run go in one round). Where copies could see each other (a rule reads
``ALERTS``) or a merged file fails for another reason than a differing alert, each mutant gets
its own files instead.
All files are shared out over as many ``promtool test rules`` processes as the machine has
cores (one process takes any number of test files and reports on each).
``promql_expr_test`` entries are left out (they test expressions, not the alert); leaving
tests out can only let a mutant survive, never count one as killed that the full tests would
not kill.

A mutant counts as killed only when promtool reports an alert that differs from what a test
expects; a test file that fails for another reason (promtool cannot load the mutant) is
reported as invalid, never as killed.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from promcontract.model import promfiles
from promcontract.model.promfiles import AlertRule, RuleFile, TestFile
from promcontract.promql import ParseError, metrics_read, parse
from promcontract.promql.labels import named
from promcontract.runners import promtool
from promcontract.runners.promtool import Alerted, Mismatch
from promcontract.testgen.operators import Hints, Mutation, mutations


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
# a merged job's outcome: (why the unchanged rule fails, or ""; (state, detail) per mutant),
# or None where its files cannot be read per mutant
Merged = tuple[str, list[tuple[str, str]]] | None


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
    covering_tests: dict[tuple, list[TestFile]] = {}
    # what each test file names and loads, once (not once per alert and test file)
    named = [(test, test.alertnames(), {os.path.realpath(p) for p in test.rule_paths})
             for test in tests]
    for rule_file in rule_files.values():
        for alert in rule_file.alerts:
            if only is not None and alert.name != only:
                continue
            real = os.path.realpath(alert.file)
            covering = [t for t, names, loads in named if alert.name in names and real in loads]
            results.append(AlertResult(alert, [t.path for t in covering]))
            covering_tests[alert.key] = covering
    by_key = {r.rule.key: r for r in results}

    with tempfile.TemporaryDirectory(prefix="promcontract-mutants-") as tmp:
        runner = _Batch(tmp, context, workers)
        planned: dict[tuple, list[tuple]] = {}
        baselines: dict[tuple, str] = {}
        sequences: dict[tuple, list[dict[int, set[int]]]] = {}  # each round's test groups
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
                needed = metrics_read(rule.expr)
                found = mutations(rule.expr, rule.for_, rule.keep_firing_for, step, these)
            except ParseError as exc:
                result.unparsed = str(exc)
                continue
            if operators is not None:
                found = [m for m in found if m.operator in operators]
            covering = covering_tests[rule.key]
            records = _needed_records(context, needed)
            baselines[rule.key] = (covering, records)
            rounds = _rounds(covering, rule.name)
            sequences[rule.key] = rounds
            first, rest = rounds[0], _joined(rounds[1:])
            planned[rule.key] = []
            for mutation in found:
                if mutation.equivalent:
                    result.outcomes.append(Outcome(mutation, "equivalent",
                                                   mutation.equivalent))
                    continue
                planned[rule.key].append((mutation, first, rest))
        # Most alerts run all their mutants in one test file (see _Batch.merged): one
        # promtool test group setup serves every mutant and the unchanged rule. Where that
        # cannot be read per mutant (the rules read ALERTS, a template prints the alert's
        # name, or the merged file fails for a reason other than an alert mismatch), the
        # alert falls back to the rounds below, each mutant in its own files.
        mergeable = [key for key in planned if _mergeable(context, by_key[key].rule)]
        # Round by round, one test group each, the cheapest first: each mutant runs only
        # until a group kills it (most die in the first), and a mutant survives only when
        # it passed every group, as in one run. The unchanged rule runs every round (every
        # group), and once no mutant is left the groups still to run go in one round.
        alive_of = {key: list(range(len(planned[key]))) for key in mergeable}
        states_of: dict[tuple, list[tuple[str, str]]] = {
            key: [("survived", "promtool test rules passed")] * len(planned[key])
            for key in mergeable}
        outcomes: dict[tuple, Merged] = {}

        def merged_job(key: tuple, alive: list[int], selection: dict | None) -> str:
            return runner.merged(by_key[key].rule, [planned[key][k][0] for k in alive],
                                 *baselines[key], selection)

        rounds_done: dict[tuple, int] = {}

        def next_round(key: tuple, outcome: Merged) -> str | None:
            done = rounds_done[key] = rounds_done.get(key, 0) + 1
            if outcome is None or outcome[0]:
                outcomes[key] = outcome
                return None
            states = states_of[key]
            for k, verdict in zip(alive_of[key], outcome[1], strict=True):
                states[k] = verdict
            alive = alive_of[key] = [k for k in alive_of[key] if states[k][0] == "survived"]
            rest = sequences[key][done:] if planned[key] else []
            if not rest:
                outcomes[key] = ("", states)
                return None
            if not alive:
                sequences[key][done:] = [_joined(rest)]
            return merged_job(key, alive, sequences[key][done])

        # written one by one while promtool already runs the first ones (run_merged); an
        # alert with no mutant to run has its unchanged rule run on all its groups at once
        runner.run_merged(((key, merged_job(key, alive_of[key], sequences[key][0]
                                             if planned[key] else None))
                           for key in mergeable), progress, next_round)
        for key, outcome in outcomes.items():
            if outcome is None:
                continue
            baseline, states = outcome
            if baseline:
                by_key[key].baseline = baseline
            else:
                for (mutation, _, _), (state, detail) in zip(planned[key], states,
                                                              strict=True):
                    by_key[key].outcomes.append(Outcome(mutation, state, detail))
            planned.pop(key)
        # The mutants of an alert that cannot share a file, each in its own: round one runs
        # each against its alert's cheapest test group (most mutants die there), round two
        # the survivors against the rest. A mutant survives only when it passed every group,
        # as in one run. The unchanged rules run in the same wave of promtool processes as
        # round one; an alert whose unchanged rule fails has its mutants' verdicts dropped,
        # as if they had not run.
        jobs = {key: runner.job(by_key[key].rule, None, *baselines[key], None)
                for key in planned}
        items = {key: [(m, rest, runner.job(by_key[key].rule, m, *baselines[key], first))
                       for m, first, rest in planned[key]] for key in planned}
        first_jobs = [job for found in items.values() for _, _, job in found]
        verdicts = runner.run(list(jobs.values()) + first_jobs, progress)
        for key, job in jobs.items():
            if verdicts[job][0] != "survived":
                by_key[key].baseline = verdicts[job][1]
                items.pop(key)
        second: dict[str, str] = {}
        for key, found in items.items():
            for mutation, rest, job in found:
                if verdicts[job][0] == "survived" and rest:
                    second[job] = runner.job(by_key[key].rule, mutation, *baselines[key],
                                             rest)
        verdicts.update(runner.run(list(second.values()), progress))
        for key, found in items.items():
            for mutation, _, job in found:
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
        self.clones: dict[str, tuple[str, list[str]]] = {}  # merged job -> (name, copies)

    def job(self, rule: AlertRule, mutation: Mutation | None, tests: list[TestFile],
            records: set[str] | None, selection: dict[int, set[int]] | None,
            clones: list[tuple[str, Mutation]] = ()) -> str:
        """A directory holding ``rule`` (mutated, unless ``mutation`` is None) with the
        recording rules it reads, and one test file per covering test file, with the test
        groups ``selection`` names (test file index -> group indexes; None: all).
        ``clones``: (name, mutation) copies beside the rule, each with the rule's test
        entries repeated under its name (see ``merged``)."""
        name = os.path.join(self.tmp, str(self.count))
        self.count += 1
        os.mkdir(name)
        paths = []
        cost = 0.0
        # Copies carry no annotations where the alert's annotations only print labels: a
        # copy whose labels are the expected ones would print the expected text anyway, and
        # promtool spends a third of a merged file's time expanding annotation templates.
        plain = bool(clones) and _labels_only(self.context, rule)
        strip = _static_labels(self.context, rule, clones, tests) if clones else frozenset()
        for n, test in enumerate(tests):
            if selection is not None and not selection.get(n):
                continue
            rule_names = []
            kept_groups: set[str] = set()
            for m, path in enumerate(test.rule_paths):
                data, groups = _isolated(self.context[os.path.realpath(path)], rule,
                                         mutation, records, clones, plain, strip)
                rule_name = f"rules-{n}-{m}.yml"
                with open(os.path.join(name, rule_name), "w", encoding="utf-8") as handle:
                    handle.write(promfiles.dump_flow(data))
                rule_names.append(rule_name)
                kept_groups |= groups
            data, weight = _tests_for(test, rule.name, rule_names, kept_groups,
                                      None if selection is None else selection[n],
                                      copies=[c for c, _ in clones], plain=plain,
                                      strip=strip)
            cost += weight * (1 + len(clones))
            test_path = os.path.join(name, f"tests-{n}.yml")
            with open(test_path, "w", encoding="utf-8") as handle:
                handle.write(promfiles.dump_flow(data))
            paths.append(test_path)
        self.files[name] = paths
        self.cost[name] = cost
        return name

    def merged(self, rule: AlertRule, found: list[Mutation], tests: list[TestFile],
               records: set[str] | None, selection: dict[int, set[int]] | None = None) -> str:
        """A directory holding ``rule`` unchanged and, next to each rule named like it, one
        copy per mutant renamed ``NAME__pcmK`` (the mutant itself where ``rule`` is), with
        one test file per covering test file whose ``alert_rule_test`` entries for ``NAME``
        are repeated for every ``NAME__pcmK``. Alerts of different names do not see each
        other (nothing reads ALERTS: see _mergeable), so each copy fires exactly as its
        mutant would alone, and promtool reports every failing alertname of a group."""
        names = [f"{rule.name}{MERGED_SUFFIX}{k}" for k in range(len(found))]
        name = self.job(rule, None, tests, records, selection,
                        list(zip(names, found, strict=True)))
        self.clones[name] = (rule.name, names)
        return name

    def run_merged(self, made: Iterable[tuple[tuple, str]], progress: Progress | None,
                   then: Callable[[tuple, Merged], str | None] | None = None
                   ) -> dict[tuple, list[Merged]]:
        """Run the merged jobs ``made`` ((alert key, job), each offered to promtool as it is
        made: see promtool.TestPool.offer). Per alert key, the outcome of each of its
        jobs in turn: (why the unchanged rule fails, or ""; (state, detail) per mutant), or
        None when the merged files cannot be read per mutant (then the caller runs the
        mutants one by one). ``then(key, outcome)``, called as each job's outcome is read,
        may return the alert's next job: it runs in the same pool while other alerts' files
        still run, and its outcome is read in turn."""
        outcomes: dict[tuple, list[Merged]] = {}
        current: dict[tuple, str] = {}  # alert key -> its job running now
        owner: dict[str, tuple] = {}  # test file -> alert key
        left: dict[tuple, int] = {}  # files of an alert's current job not yet read
        results: dict[str, promtool.FileResult] = {}
        with promtool.TestPool(self.workers, self.tmp, progress) as pool:

            def read(key: tuple) -> dict[tuple, str]:
                outcome = self._outcome(current.pop(key), results)
                outcomes.setdefault(key, []).append(outcome)
                job = then(key, outcome) if then else None
                return {} if job is None else {key: job}

            def queue(queued: dict[tuple, str]) -> None:
                while queued:
                    files = []
                    empty: dict[tuple, str] = {}
                    for key, job in queued.items():
                        current[key] = job
                        left[key] = len(self.files[job])
                        if not self.files[job]:
                            empty |= read(key)
                        for path in self.files[job]:
                            owner[path] = key
                            files.append((path, self.cost[job] / len(self.files[job])))
                    pool.offer(files)
                    queued = empty

            # offered as each is written: the first process starts on the first job while
            # the rest are being written, and a worker that finishes takes its share of what
            # waits by then
            for key, job in made:
                queue({key: job})
            for chunk, found, _ in pool.finished():
                results.update(found)
                follow: dict[tuple, str] = {}
                for path in chunk:
                    key = owner.pop(path)
                    left[key] -= 1
                    if not left[key]:
                        follow |= read(key)
                # the next jobs of the alerts this chunk finished
                queue(follow)
            self.processes += pool.processes
        return outcomes

    def _outcome(self, job: str, results: dict[str, promtool.FileResult]) -> Merged:
        """A merged job's outcome from its files' results (see :meth:`run_merged`)."""
        original, names = self.clones[job]
        index = {n: k for k, n in enumerate(names)}
        baseline: list[Mismatch] = []
        killed: dict[int, Mismatch] = {}
        for path in self.files[job]:
            found = results.get(path)
            if found is None or found.errors or (not found.ok and not found.mismatches):
                return None
            for mismatch in found.mismatches or ():
                if mismatch.alertname == original:
                    baseline.append(mismatch)
                elif mismatch.alertname in index:
                    killed.setdefault(index[mismatch.alertname], _renamed(mismatch, original))
                else:
                    return None
        if baseline:
            return (" | ".join(m.describe() for m in baseline[:1]), [])
        return ("", [("killed", killed[k].describe()) if k in killed
                     else ("survived", "promtool test rules passed")
                     for k in range(len(names))])

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


MERGED_SUFFIX = "__pcm"


def _mergeable(context: dict[str, RuleFile], rule: AlertRule) -> bool:
    """Whether ``rule``'s mutants can share one file: no rule reads the ALERTS series (where
    the copies would see each other), the rule's labels and annotations never print its
    name, and no rule is already named like a copy."""
    target = context[rule.key[0]].data["groups"][rule.group]["rules"][rule.index]
    for key in ("labels", "annotations"):
        for value in (target.get(key) or {}).values():
            if "alertname" in str(value) or "ALERTS" in str(value):
                return False
    for rule_file in context.values():
        for group in rule_file.data.get("groups") or ():
            for other in group.get("rules") or ():
                if not isinstance(other, dict):
                    return False
                if "ALERTS" in str(other.get("expr", "")):
                    return False
                if str(other.get("alert", "")).startswith(rule.name + MERGED_SUFFIX):
                    return False
    return True


_ACTION = re.compile(r"{{(.*?)}}", re.S)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\'(?:[^\'\\]|\\.)*\'')
# what an annotation may read and still print the same text for the same labels
_LABEL_READS = re.compile(r"(?:\$labels|\.Labels)(?:\.\w+)?|\$externalLabels(?:\.\w+)?"
                          r"|\.ExternalLabels(?:\.\w+)?|\$externalURL|\.ExternalURL|\d+\.\d*")


def labels_only(template: str) -> bool:
    """Whether ``template`` (an alert annotation) reads nothing but the alert's labels and
    the constants: no ``$value``, no ``query``, no variable of its own, no bare dot. Where
    unsure (a string holding a ``$``, say) it says no."""
    for action in _ACTION.findall(template):
        rest = _LABEL_READS.sub(" ", _STRING.sub(" ", action.strip("- ")))
        if "$" in rest or "." in rest or re.search(r"\bquery\b", rest):
            return False
    return True


def _labels_only(context: dict[str, RuleFile], rule: AlertRule) -> bool:
    """Whether every alert named like ``rule`` has annotations that print only labels."""
    for rule_file in context.values():
        for group in rule_file.data.get("groups") or ():
            for other in group.get("rules") or ():
                if str(other.get("alert")) != rule.name:
                    continue
                annotations = other.get("annotations") or {}
                if not isinstance(annotations, dict) or not all(
                        labels_only(str(v)) for v in annotations.values()):
                    return False
    return True


def _static_labels(context: dict[str, RuleFile], rule: AlertRule,
                   clones: list[tuple[str, Mutation]], tests: list[TestFile]) -> frozenset[str]:
    """Labels the copies of a merged file leave out, with them in what their tests expect:
    promtool expands every label of a rule as a template for every pending or firing alert
    at every step (on drawn contracts a third of the merged files' time went to the one
    ``severity`` label). A label can go where every definition of the alert sets it to a
    constant (no template action) or not at all, and nothing else can give an alert that
    label: no input series of the tests carries it, and no expression (the alert's, a
    mutant's, a recording rule's) names it, nor sets it (a recording rule's labels). Then a
    copy's alerts, less the label, differ from the expected ones, less the label, exactly
    when they would with it: the label has one value on all of them."""
    names: set[str] = set()
    blocked: set[str] = set()
    exprs = [mutation.expr for _, mutation in clones]
    for rule_file in context.values():
        for group in rule_file.data.get("groups") or ():
            for other in group.get("rules") or ():
                if not isinstance(other, dict):
                    return frozenset()
                labels = other.get("labels") or {}
                if not isinstance(labels, dict):
                    return frozenset()
                if "record" in other:
                    blocked |= {str(k) for k in labels}
                    exprs.append(str(other.get("expr", "")))
                elif str(other.get("alert")) == rule.name:
                    for key, value in labels.items():
                        (blocked if "{{" in str(value) else names).add(str(key))
                    exprs.append(str(other.get("expr", "")))
    names -= blocked
    for test in tests:
        for group in test.data.get("tests") or ():
            for series in (group.get("input_series") or ()) if isinstance(group, dict) else ():
                exprs.append(str(series.get("series")) if isinstance(series, dict) else "")
    for expr in exprs:
        if not names:
            break
        found = _names_in(expr)
        if found is None:
            return frozenset()
        names -= found
    return frozenset(names)


@functools.lru_cache(maxsize=4096)
def _names_in(expr: str) -> frozenset[str] | None:
    """The label names ``expr`` names (see labels.named), None where it does not parse:
    each round of an alert asks again for the same mutants and input series (parse keeps
    its trees; this keeps the walk over them)."""
    try:
        return frozenset(named(parse(expr)))
    except ParseError:
        return None


def _renamed(mismatch: Mismatch, name: str) -> Mismatch:
    """``mismatch`` of a merged copy, told with the alert's own name."""
    def fix(items: tuple[Alerted, ...]) -> tuple[Alerted, ...]:
        return tuple(dataclasses.replace(a, labels=tuple(
            (k, name if k == "alertname" else v) for k, v in a.labels)) for a in items)
    return dataclasses.replace(mismatch, alertname=name, expected=fix(mismatch.expected),
                               got=fix(mismatch.got))


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
                more = metrics_read(expr)
            except ParseError:
                return None
            if more is None:
                return None
            queue += [n for n in more if n in records and n not in wanted]
    return wanted


def _isolated(rule_file: RuleFile, target: AlertRule, mutation: Mutation | None,
              records: set[str] | None, clones: list[tuple[str, Mutation]] = (),
              plain: bool = False, strip: frozenset[str] = frozenset()
              ) -> tuple[promfiles.Node, set[str]]:
    """``rule_file`` with only the alerts named like ``target`` (``target`` itself mutated)
    and the recording rules in ``records`` (None: all); groups left empty are dropped.
    ``clones``: after each alert named like ``target``, one copy per (name, mutation),
    renamed, and mutated where it is ``target``; ``plain``: the copies without annotations;
    ``strip``: the copies without these labels (see ``_static_labels``)."""
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
            for clone_name, clone_mutation in clones:
                clone = (_mutated(rule, clone_mutation)
                         if target_here and (g, i) == target.key[1:] else promfiles.Node(rule))
                clone["alert"] = clone_name
                if plain:
                    clone.pop("annotations", None)
                if strip and isinstance(clone.get("labels"), dict):
                    labels = promfiles.Node((k, v) for k, v in clone["labels"].items()
                                            if str(k) not in strip)
                    if labels:
                        clone["labels"] = labels
                    else:
                        clone.pop("labels")
                kept.append(clone)
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


def _rounds(tests: list[TestFile], alertname: str) -> list[dict[int, set[int]]]:
    """The test groups naming ``alertname``, one per round (test file index -> group
    indexes), the cheapest first: a mutant runs on the next only while none has killed it.
    On drawn contracts this runs a quarter fewer rule evaluations than the cheaper half of
    the groups first and the rest second (most mutants die in the cheapest group)."""
    costs = []
    for n, test in enumerate(tests):
        for index, group in enumerate(test.data.get("tests") or ()):
            cost = _group_cost(group, alertname, test.evaluation_interval)
            if cost is not None:
                costs.append((cost, n, index))
    return [{n: {index}} for _, n, index in sorted(costs)] or [{}]


def _joined(rounds: list[dict[int, set[int]]]) -> dict[int, set[int]]:
    """The test groups of ``rounds`` as one."""
    out: dict[int, set[int]] = {}
    for selection in rounds:
        for n, indexes in selection.items():
            out.setdefault(n, set()).update(indexes)
    return out


def _tests_for(test: TestFile, alertname: str, rule_names: list[str], groups: set[str],
               only: set[int] | None = None, copies: list[str] = (), plain: bool = False,
               strip: frozenset[str] = frozenset()) -> tuple[promfiles.Node, float]:
    """``test`` with only the test groups that name ``alertname`` (and of those, the indexes
    in ``only``), each with only those ``alert_rule_test`` entries (repeated for each name
    in ``copies``, without expected annotations when ``plain`` and without the labels in
    ``strip``), loading ``rule_names``;
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
        cases = [c for c in group.get("alert_rule_test") or ()
                 if str(c.get("alertname")) == alertname]
        originals = list(cases)
        for copy_name in copies:
            for case in originals:
                renamed = promfiles.Node(case)
                renamed["alertname"] = copy_name
                if plain or strip:
                    renamed["exp_alerts"] = promfiles.Seq(
                        _expected_copy(alert, plain, strip)
                        for alert in case.get("exp_alerts") or ())
                cases.append(renamed)
        new_group["alert_rule_test"] = promfiles.Seq(cases)
        kept.append(new_group)
        cost += weight
    data["tests"] = kept
    return data, cost


def _expected_copy(alert: Any, plain: bool, strip: frozenset[str]) -> Any:  # noqa: ANN401
    """An ``exp_alerts`` entry as a merged copy is expected to fire: without annotations
    when ``plain``, without the labels in ``strip``."""
    if not isinstance(alert, dict):
        return alert
    out = promfiles.Node((k, v) for k, v in alert.items()
                         if not (plain and k == "exp_annotations"))
    labels = out.get("exp_labels")
    if strip and isinstance(labels, dict):
        out["exp_labels"] = promfiles.Node((k, v) for k, v in labels.items()
                                           if str(k) not in strip)
    return out


def contract_hints(contract) -> Hints:  # noqa: ANN001 - a promcontract.model.contract.Contract
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
