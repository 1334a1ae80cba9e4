"""Characterization tests for hand-written alerts: what the rules do today, recorded by promtool.

For every alert of a template's ``alerting_rules.yml``, :mod:`promcontract.testgen.drive`
finds its comparisons and how to drive them; here each becomes scenarios that cross every
boundary (just below, at and just above each literal, respecting > and >=; the ``for:``
edge; ``keep_firing_for``; the series going missing and stale; a counter reset) with the
other parts held so the comparison decides. promtool itself is the oracle: each scenario
runs with an empty expectation at every evaluation step, and what promtool reports it got
(alerts, labels, annotation text) is the record. The test file keeps the times where the
record changes, both sides of each change, and the first and last. Then the mutation engine
proves each file pins its alerts: an alert counts as characterized only when every
non-equivalent mutant of its literals, comparisons and ``for:`` / ``keep_firing_for`` dies.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml

from promcontract.durations import format_duration, parse_duration
from promcontract.kinds.series import STEP
from promcontract.labels import format_series
from promcontract.model import yamlout
from promcontract.numbers import format_number
from promcontract.problems import Location, Problem, UserError
from promcontract.promql import ParseError, parse
from promcontract.promql.nodes import Matrix, Node, Subquery, walk
from promcontract.runners import promtool
from promcontract.runners.fileio import read_template, read_text
from promcontract.template import reader
from promcontract.testgen import drive as drv
from promcontract.testgen import mutate

LOOKBACK = 300.0  # Prometheus' 5m lookback: a series missing longer than that is gone
# Evaluation steps one scenario may take at most where a coarser interval can keep it there:
# an alert with `for: 32d` or a `[1w]` range once forced ~46,000 one-minute evaluations on
# every rule of its group's file (over 10 minutes in promtool, gigabytes of memory). Such an
# alert gets its own files with an evaluation interval from INTERVALS that keeps its for: and
# keep_firing_for whole steps (the for: mutants move by one step). Its input samples stay one
# minute apart (promtool's cost is in evaluations) unless a range would then hold more than
# MAX_RANGE_SAMPLES: promtool's test engine refuses a query over ~10,000 samples ("would
# load too many samples into memory"), which a [1w] range at one minute is.
BUDGET_STEPS = 360
# Rule evaluations one written test file may take (promtool spends 85-170 us on each: 3-5 s;
# a 60,000 file of the corpus took 9.9 s, at the 10 s limit). A
# 60-alert group of 280 scenarios once made one file of 6 million (92 s); its alerts are cut
# into parts with rule files of their own.
FILE_BUDGET = 30_000
MAX_RANGE_SAMPLES = 4000
INTERVALS = (60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0,
             43200.0, 86400.0)
# The operators whose mutants must all die for an alert to count as characterized: its
# literals, comparisons, state constants and for: / keep_firing_for.
PINNED = {"literal", "constant", "strictness", "state", "for", "keep_firing_for"}
MEMBER_LABEL = "member"  # tells apart the series count() counts
HEADER = "# Characterization tests recorded by promcontract characterize"


@dataclass
class Case:
    alert: str
    title: str
    series: list[tuple[str, tuple[tuple[str, str], ...], list[float | None | str]]]
    steps: int  # evaluations at 0 .. steps intervals
    record: dict[int, list[tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]]] \
        = field(default_factory=dict)  # step -> [(labels, annotations)] while firing
    problem: str = ""
    step: float = STEP  # seconds between evaluations
    sample: float = STEP  # seconds between input samples (step is a multiple of it)


@dataclass
class AlertPlan:
    name: str
    line: int
    scenarios: list[Case] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    status: str = ""  # characterized | not characterized
    why: str = ""
    step: float = STEP  # its evaluation interval; not STEP: it has files of its own
    sample: float = STEP  # its input samples' interval
    slug: str = ""  # the name of its own files, when it has them


@dataclass
class GroupPlan:
    name: str
    slug: str
    line: int
    rules_text: str
    alerts: list[AlertPlan] = field(default_factory=list)
    test_text: str = ""
    source: str = ""  # the template or rule file the group is in
    alone: dict[str, tuple[str, str]] = field(default_factory=dict)  # slug -> (rules, tests)
    full_rules_text: str = ""  # the whole group, when rules_text holds only its first part

    def files(self) -> dict[str, str]:
        """File name -> text: the group's pair, and one pair per alert with its own interval
        (``<group>--<alert>.rules.yml``)."""
        out = {f"{self.slug}.rules.yml": self.rules_text, f"{self.slug}.test.yml": self.test_text}
        for slug, (rules, tests) in self.alone.items():
            out[f"{slug}.rules.yml"], out[f"{slug}.test.yml"] = rules, tests
        return out


@dataclass
class Result:
    groups: list[GroupPlan]
    seconds: float = 0.0

    @property
    def alerts(self) -> list[AlertPlan]:
        return [a for g in self.groups for a in g.alerts]


Progress = Callable[[str], None]


# --- the groups of the template ----------------------------------------------------------------

def groups_of(template: reader.Template, only: list[str] | None,
              taken: set[str] | None = None, complete: bool = True) -> list[GroupPlan]:
    """Each group of ``alerting_rules.yml`` with its text as a standalone rule file (its own
    comment lines above it kept), in template order; groups with no rules are skipped.
    ``taken``: file names already used (several sources into one directory); ``complete``:
    every name in ``only`` must be found here."""
    out: list[GroupPlan] = []
    taken = set() if taken is None else taken
    tpl = template.path
    for found in template.groups:
        if found.name is None or found.rules_missing or not found.rules:
            continue  # `rules:` empty (null): nothing to record, no file to write
        if only and found.name not in only:
            continue
        header = (f"# The group \"{found.name}\" of {os.path.basename(tpl)} (line "
                  f"{found.line}), as promtool loads it (Terraform syntax resolved).\n"
                  "# Written by promcontract characterize: re-run it, do not edit.\n")
        group = GroupPlan(found.name, _slug(found.name, taken), found.line,
                          header + found.rule_file(), source=tpl)
        group.alerts = [AlertPlan(rule.name, rule.line) for rule in found.alerts]
        out.append(group)
    if only and complete:
        missing = sorted(set(only) - {g.name for g in out})
        if missing:
            raise UserError(Problem(Location(tpl), f"no alert group named {missing[0]!r} in "
                                    "alerting_rules.yml"))
    return out


def _slug(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "group"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


# --- scenarios -----------------------------------------------------------------------------------

def plan_group(group: GroupPlan) -> None:
    """Scenarios for every alert of ``group`` (reasons where there are none)."""
    data = yaml.safe_load(group.rules_text)["groups"][0]
    rules = [r for r in data.get("rules") or () if isinstance(r, dict)]
    records: dict[str, Node] = {}
    for rule in rules:
        if "record" in rule:
            try:
                records[str(rule["record"])] = parse(str(rule["expr"]))
            except ParseError:
                pass
    alert_rules = [r for r in rules if "alert" in r]
    for plan, rule in zip(group.alerts, alert_rules, strict=False):
        # the same name twice in one group (severity tiers): tests expect by name, so each
        # definition's scenarios record both, and each one's mutants meet both's tests
        try:
            _plan_alert(plan, rule, records)
        except drv.Unsupported as exc:
            plan.reasons.append(str(exc))
        except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as exc:
            # one alert's failure never stops the run: it is listed with the reason
            plan.reasons.append(f"could not be planned ({type(exc).__name__}: {exc})")


def _seconds(value: object) -> float:
    if value in (None, ""):
        return 0.0
    try:
        return parse_duration(str(value))
    except ValueError:
        raise drv.Unsupported(f"duration {value!r} is not a Prometheus duration") from None


def _plan_alert(plan: AlertPlan, rule: dict, records: dict[str, Node]) -> None:
    try:
        expr = parse(str(rule["expr"]))
    except ParseError as exc:
        raise drv.Unsupported(f"expression does not parse: {exc}") from None
    targets, reasons = drv.analyse(expr, records)
    plan.reasons += reasons
    if not targets:
        if not reasons:
            plan.reasons.append("no comparison with a constant and no absent()")
        return
    for_s, keep_s = _seconds(rule.get("for")), _seconds(rule.get("keep_firing_for"))
    reads = [expr] + [records[n] for n in _record_names(expr, records)]
    joined = tuple(sorted({label for node in reads for label in drv.join_labels(node)}))
    ranges = [n.range for node in reads for n, _ in walk(node)
              if isinstance(n, (Matrix, Subquery))]
    step, sample = intervals(for_s, keep_s, ranges)
    plan.step, plan.sample = step, sample
    switch, steps = _horizon(step, for_s, keep_s, ranges)
    for target in targets:
        holds, why = drv.holds_for(expr, target, targets)
        if why:
            plan.reasons.append(why)
            continue
        target, holds = drv.reconcile(target, holds)
        target = drv.exact_denominator(target, sample, holds)
        builder = _Builder(plan.name, steps, joined, list(target.neutrals) + holds, target,
                           step, sample)
        builder.range_of = {n.selector: n.range for node in reads for n, _ in walk(node)
                            if isinstance(n, Matrix)}
        if target.drive.kind == "presence":
            builder.presence(switch)
        else:
            builder.crossings(switch, math.ceil(keep_s / step))
        plan.scenarios += builder.out
        plan.reasons += builder.reasons


def _record_names(expr: Node, records: dict[str, Node]) -> list[str]:
    out: list[str] = []
    queue = [expr]
    while queue:
        node = queue.pop()
        for sub, _ in walk(node):
            name = getattr(sub, "name", None)
            if isinstance(name, str) and name in records and name not in out and \
                    not hasattr(sub, "args"):
                out.append(name)
                queue.append(records[name])
    return out


def _per_step_quantities(per_step: list) -> list:
    """The driven quantities per step, a stale marker as nothing."""
    return [q if isinstance(q, float) else None for q in per_step]


def _outside(total: Node, part: Node, joined: tuple[str, ...]
             ) -> tuple[tuple[str, str], ...] | None:
    """Labels of a series ``total`` selects and ``part`` does not (the rest of a total that
    also counts the part's series): the total's own labels, with one of the part's matchers
    turned false (`code="5xx"`: no code; `type!="available"`: type="available")."""
    base = dict(drv.series_labels(total, joined))
    for m in part.matchers:
        if m.name == "__name__" or any(t.name == m.name for t in total.matchers):
            continue
        labels = dict(base)
        if m.op in ("=", "=~"):
            labels.pop(m.name, None)
        elif m.op == "!=":
            labels[m.name] = m.value
        else:  # !~: a value the regex matches
            try:
                labels[m.name] = drv.matching_value(m.value)
            except drv.Unsupported:
                continue
        shaped = tuple(sorted((k, v) for k, v in labels.items() if v != ""))
        if _selects(total, getattr(total, "name", None), shaped) and not _selects(
                part, getattr(part, "name", None), shaped):
            return shaped
    return None


def _selects(selector: Node, name: str | None, labels: tuple[tuple[str, str], ...]) -> bool:
    """Whether ``selector`` selects the series ``name{labels}``."""
    if getattr(selector, "name", None) != name:
        return False
    have = dict(labels)
    for m in selector.matchers:
        if m.name == "__name__":
            continue
        value = have.get(m.name, "")
        found = value == m.value if m.op in ("=", "!=") else \
            re.fullmatch(m.value, value) is not None
        if found != (m.op in ("=", "=~")):
            return False
    return True


def _per_sample(per_step: list, step: float, sample: float) -> list:
    """Evaluation-step quantities as one per sample (``sample`` apart): each held until the
    next evaluation; a stale marker is one sample, then nothing."""
    factor = round(step / sample)
    if factor == 1:
        return per_step
    out: list = []
    for q in per_step:
        out += ["stale"] + [None] * (factor - 1) if q == "stale" else [q] * factor
    return out


def _horizon(step: float, for_s: float, keep_s: float, ranges: list[float]) -> tuple[int, int]:
    """Where the keep / missing / stale scenarios turn, and the last step: the widest range
    filled, for: run out and two steps more; then the lookback and keep_firing_for run out,
    and a few steps more."""
    warm = math.ceil(max(ranges, default=0.0) / step) + 1
    switch = warm + math.ceil(for_s / step) + 2
    return switch, switch + math.ceil(LOOKBACK / step) + math.ceil(keep_s / step) + 3


def intervals(for_s: float, keep_s: float, ranges: list[float]) -> tuple[float, float]:
    """The evaluation and sample intervals of an alert's scenarios. Samples: a minute apart,
    or the first of INTERVALS that keeps the widest range under MAX_RANGE_SAMPLES.
    Evaluations: as the samples, unless that takes more than BUDGET_STEPS; then the coarsest
    multiple of the samples in INTERVALS up to the first that fits, as long as for: and
    keep_firing_for stay whole steps."""
    widest = max(ranges, default=0.0)
    sample = next((i for i in INTERVALS if widest / i <= MAX_RANGE_SAMPLES), INTERVALS[-1])
    best = sample
    for step in INTERVALS:
        if _horizon(best, for_s, keep_s, ranges)[1] <= BUDGET_STEPS:
            break
        if step < sample or step % sample:
            continue
        if for_s % step or keep_s % step:
            break
        best = step
    return best, sample


def _epsilon(target: drv.Target) -> float:
    """How far "just below" and "just above" lie from the literal, in the compared value:
    well inside one unit (a literal moved by one is told apart), and, for plain values,
    within a thousandth of it (a factor such as * 100 moved by one is told apart too)."""
    kind = target.drive.kind
    if kind == "count":
        return 1.0
    if kind in ("age", "until"):
        return 0.5
    literal = abs(target.literal or 0.0)
    return min(0.5, max(literal * 1e-3, 1e-3))


class _Builder:
    """The scenarios of one target."""

    def __init__(self, alert: str, steps: int, joined: tuple[str, ...],
                 holds: list[drv.Hold], target: drv.Target, step: float = STEP,
                 sample: float = STEP):
        self.alert, self.steps, self.joined, self.holds = alert, steps, joined, holds
        self.target, self.step, self.sample = target, step, sample
        self.out: list[Case] = []
        self.reasons: list[str] = []
        self.range_of: dict = {}  # selector -> the range a function reads it over

    def _series(self, d: drv.Drive, per_step: list[float | None],
                sample: float | None = None) -> list:
        """Input series of drive ``d`` holding quantity ``per_step[k]`` at evaluation step k
        (None: missing; "stale": a stale marker), sampled every ``sample`` seconds (given:
        ``per_step`` is already one per sample, that far apart)."""
        if sample is None:
            per_step = _per_sample(per_step, self.step, self.sample)
            sample = self.sample
        labels = drv.series_labels(d.selector, self.joined)
        name = d.selector.name
        if d.kind == "count":
            members = {int(round(q)) for q in per_step if isinstance(q, float)}
            most = max(members, default=0)
            if most > drv.MAX_MEMBERS:
                raise drv.Unsupported(f"{d.selector.name}: a count of {most} series "
                                      f"(more than {drv.MAX_MEMBERS})")
            out = []
            for member in range(most):
                values = [d.member if isinstance(q, float) and member < round(q) else
                          (q if q == "stale" else None) for q in per_step]
                out.append((name, tuple(sorted(labels + ((MEMBER_LABEL, str(member)),))),
                            values))
            return out
        values: list[float | None | str] = []
        for k, q in enumerate(per_step):
            if not isinstance(q, float):
                values.append(q)
            elif d.kind == "value":
                values.append(float(round(q)) if drv.whole(q) else q)
            elif d.kind == "age":
                values.append(k * sample - q)
            elif d.kind == "until":
                values.append(k * sample + q)
            elif d.kind == "slope":
                values.append(None)  # filled below
            elif d.kind == "presence":
                values.append(1.0 if q >= 0.5 else None)
        if d.kind == "slope":
            level = 1000.0 if d.counter else 1e6
            for k, q in enumerate(per_step):
                if isinstance(q, float):
                    step = q * sample
                    level += (float(round(step)) if drv.whole(step) else step) if k else 0.0
                    values[k] = level
        return [(name, labels, values)]

    def _held(self, samples: int | None = None, sample: float | None = None,
              moved: list | None = None) -> list:
        """The held series, one value per evaluation step (or ``samples`` values ``sample``
        seconds apart). A held sum that also takes in the driven series (`sum(rate(req{code=
        "5xx"}[5m])) / sum(rate(req[5m]))`: the total counts the errors too) holds the rest:
        its own series carry the held quantity minus the driven one (``moved``), so the sum
        is the held value and the ratio moves as the drive says."""
        out = []
        target = self.target.drive
        for hold in self.holds:
            d = hold.drive
            if d.kind == "presence":
                if hold.compared >= 0.5:
                    out += self._series(d, [1.0] * (self.steps + 1))
                continue
            q = d.quantity(hold.compared)
            if d.kind == "slope" and d.counter and q < 0:
                raise drv.Unsupported(f"{hold.why}: a counter cannot fall")
            if d.kind == "count":
                q = float(max(0, math.ceil(q)))
            per = [q] * (samples or self.steps + 1)
            if moved is not None and d.kind == target.kind and d.kind in ("value", "slope") \
                    and d.selector != target.selector and _selects(
                        d.selector, target.selector.name,
                        drv.series_labels(target.selector, self.joined)):
                per = [q - m if isinstance(m, float) else q for m in moved]
                if d.kind == "slope" and d.counter and min(per) < 0:
                    raise drv.Unsupported(f"{hold.why}: the rest of the total it holds would "
                                          "fall below 0")
                rest = _outside(d.selector, target.selector, self.joined)
                if rest is None:
                    raise drv.Unsupported(f"{hold.why}: no series of the total falls outside "
                                          f"{self.target.shown}'s own selector")
                name, _, values = self._series(d, per, sample)[0]
                out.append((name, rest, values))
                continue
            out += self._series(d, per, sample)
        return out

    def _add(self, title: str, per_step: list, sample: float | None = None) -> Case | None:
        """The scenario added (None: it could not be built; ``reasons`` says why); with
        ``sample``, ``per_step`` holds one quantity per sample, that many seconds apart."""
        try:
            moved = per_step if sample else _per_step_quantities(per_step)
            series = self._series(self.target.drive, per_step, sample) + \
                self._held(len(per_step) if sample else None, sample, moved)
        except drv.Unsupported as exc:
            self.reasons.append(str(exc))
            return None
        seen: dict[tuple, list] = {}
        for name, labels, values in series:
            if (name, labels) in seen and seen[(name, labels)] != values:
                self.reasons.append(f"{self.target.shown}: two parts of the expression read "
                                    f"the same series {name}")
                return None
            seen[(name, labels)] = values
        scenario = Case(self.alert, title, [(n, lab, v) for (n, lab), v in seen.items()],
                        self.steps, step=self.step, sample=sample or self.sample)
        self.out.append(scenario)
        return scenario

    def crossings(self, switch: int, keep_steps: int) -> None:
        target, d = self.target, self.target.drive
        literal = target.literal if target.literal is not None else 0.0
        eps = _epsilon(target)
        n = self.steps + 1
        shown = target.shown

        def quantity(compared: float) -> float | None:
            q = d.quantity(compared)
            if d.kind == "slope" and d.counter and q < 0:
                return None
            if d.kind == "count":
                if q < 0 or abs(q - round(q)) > 1e-9:
                    return None
                return float(round(q))
            return q

        points = [("just below", literal - eps), ("at", literal), ("just above", literal + eps)]
        for label, compared in points:
            q = quantity(compared)
            if q is None:
                continue
            exact = self._exact_sample(literal) if label == "at" else None
            if exact is not None:  # samples that put the function exactly on the literal
                count = int(self.steps * self.step // exact) + 1
                self._add(f"{shown}: {label} ({format_number(compared)}, samples "
                          f"{format_duration(exact)} apart)", [q] * count, exact)
                continue
            self._add(f"{shown}: {label} ({format_number(compared)})", [q] * n)
        firing = {">": literal + eps, ">=": literal, "<": literal - eps, "<=": literal,
                  "==": literal, "!=": literal + eps}[target.op]
        quiet = {">": literal, ">=": literal - eps, "<": literal, "<=": literal + eps,
                 "==": literal + eps, "!=": literal}[target.op]
        qf, qq = quantity(firing), quantity(quiet)
        if qf is None:
            return
        if keep_steps and qq is not None:
            self._add(f"{shown}: firing, then back to {format_number(quiet)} "
                      "(keep_firing_for)", [qf] * switch + [qq] * (n - switch))
        self._add(f"{shown}: firing, then the series goes missing",
                  [qf] * switch + [None] * (n - switch))
        self._add(f"{shown}: firing, then the series goes stale",
                  [qf] * switch + ["stale"] + [None] * (n - switch - 1))
        if d.kind == "slope" and d.counter:
            per_step: list = [qf] * n
            added = self._add(f"{shown}: firing, with a counter reset", per_step)
            if added is None:  # (a scenario that cannot be built is a reason, not a crash)
                return
            values = added.series[0][2]
            reset_at = round(switch // 2 * self.step / self.sample)  # the sample then
            base = values[reset_at]
            for k in range(reset_at, len(values)):
                if isinstance(values[k], float) and isinstance(base, float):
                    values[k] = values[k] - base  # restarts from 0, same slope

    def _exact_sample(self, literal: float) -> float | None:
        """A sample interval at which ``increase``/``delta`` (or ``rate``) of a steady series
        lands exactly on ``literal`` in both Prometheus 2 (window [t - r, t]) and 3 ((t - r,
        t], extrapolated by one sample), at evaluation times that fall on a sample; None when
        the function is not compared directly or no whole-second interval does it. At a minute
        apart, 3 over [5m] takes 0.6 a sample and lands a few ulps off."""
        d = self.target.drive
        r = self.range_of.get(d.selector)
        if d.kind != "slope" or d.b != 0 or not r:
            return None
        rate = d.a == 1.0
        if not rate and d.a != r:
            return None
        horizon = self.steps * self.step
        default = r / self.sample
        for n in [default] + [k for k in range(2, 65) if k != default]:
            s = r / n
            if n < 2 or s != int(s) or n != int(n) or \
                    math.lcm(int(s), int(self.step)) + r > horizon:
                continue
            n = int(n)
            c = (literal * s) if rate else literal / n
            values = [1000.0]
            for _ in range(n + 1):
                values.append(values[-1] + c)
            two = (values[n] - values[0]) * (r / r)
            three = (values[n] - values[1]) * (((n - 1) * s + s) / ((n - 1) * s))
            if rate:
                two, three = two / r, three / r
            if two == literal and three == literal and c == (1000.0 + c) - 1000.0:
                return None if s == self.sample else s  # None: the usual samples do it
        return None

    def presence(self, switch: int) -> None:
        n = self.steps + 1
        shown = self.target.shown
        self._add(f"{shown}: the series present", [1.0] * n)
        self._add(f"{shown}: the series missing", [0.0] * n)
        self._add(f"{shown}: present, then missing", [1.0] * switch + [0.0] * (n - switch))
        self._add(f"{shown}: present, then stale",
                  [1.0] * switch + ["stale"] + [0.0] * (n - switch - 1))


# --- recording -----------------------------------------------------------------------------------

def _notation(values: list[float | None | str]) -> str:
    """promtool's values notation, arithmetic runs as ``a+bxn`` and gaps as ``_xn``."""
    out: list[str] = []
    i = 0
    while i < len(values):
        value = values[i]
        if value is None:
            j = i
            while j + 1 < len(values) and values[j + 1] is None:
                j += 1
            out.append("_" if j == i else f"_x{j - i + 1}")
            i = j + 1
            continue
        if value == "stale":
            out.append("stale")
            i += 1
            continue
        j = i
        step = None
        if i + 1 < len(values) and isinstance(values[i + 1], float):
            step = values[i + 1] - value  # type: ignore[operator]
            j = i + 1
            while j + 1 < len(values) and isinstance(values[j + 1], float) and \
                    values[j + 1] - values[j] == step:  # type: ignore[operator]
                j += 1
            # promtool adds the step repeatedly: keep a run only where that gives the values
            while j > i and not _run_exact(value, step, j - i, values[j]):  # type: ignore
                j -= 1
        if j == i:
            out.append(format_number(value))  # type: ignore[arg-type]
            i += 1
            continue
        sign = "+" if step >= 0 else "-"  # type: ignore[operator]
        out.append(f"{format_number(value)}{sign}{format_number(abs(step))}x{j - i}")
        i = j + 1
    return " ".join(out)


def _run_exact(start: float, step: float, times: int, last: float) -> bool:
    value = start
    for _ in range(times):
        value += step
    return value == last


def _labels_text(name: str, labels: tuple[tuple[str, str], ...]) -> str:

    return format_series(name, labels, braces_when_empty=True)


def _group_yaml(scenario: Case, times: list[int], with_record: bool) -> dict:
    tests = []
    for t in times:
        expected = []
        if with_record:
            for labels, annotations in scenario.record.get(t, []):
                entry: dict = {"exp_labels": dict(labels)}
                if annotations:
                    entry["exp_annotations"] = dict(annotations)
                expected.append(entry)
        tests.append({"eval_time": format_duration(t * scenario.step), "alertname": scenario.alert,
                      "exp_alerts": expected})
    return {"interval": format_duration(scenario.sample),
            "input_series": [{"series": _labels_text(name, labels),
                              "values": _notation(values)}
                             for name, labels, values in scenario.series],
            "alert_rule_test": tests}


def record(groups: list[GroupPlan], tmp: str, workers: int,
           progress: Progress | None = None) -> None:
    """Runs every scenario through promtool with nothing expected at every step and keeps
    what promtool says it got."""
    files: list[tuple[str, float]] = []
    owners: dict[str, Case] = {}
    for group in groups:
        folder = os.path.join(tmp, group.slug)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "rules.yml"), "w", encoding="utf-8") as handle:
            handle.write(group.rules_text)
        # each alert recorded with its own rule file (the group's others would be evaluated
        # at every step for nothing; its name's other definitions kept), unless a rule reads
        # ALERTS: then they run together
        together = _reads_alerts(group) or len(group.alerts) == 1
        for a, alert in enumerate(group.alerts):
            rules = "rules.yml"
            if alert.scenarios and (alert.step != STEP or not together):
                rules = f"rules-{a}.yml"
                with open(os.path.join(folder, rules), "w", encoding="utf-8") as handle:
                    handle.write(alone_rules_text(group, alert))
            for s, scenario in enumerate(alert.scenarios):
                path = os.path.join(folder, f"record-{a}-{s}.yml")
                body = [f"rule_files:\n  - {rules}", f"evaluation_interval: "
                        f"{format_duration(alert.step)}", "tests:"]
                body += yamlout.block([_group_yaml(scenario, list(range(scenario.steps + 1)),
                                                   False)], "  ")
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write("\n".join(body) + "\n")
                files.append((path, float(scenario.steps) * (1 if rules != "rules.yml" else
                                                             len(group.alerts))))
                owners[path] = scenario

    def said(done: int, total: int) -> None:
        if progress:
            progress(f"recording: {done}/{total} scenarios through promtool")

    results, problems = promtool.test_many(files, workers, tmp, said)
    for path, scenario in owners.items():
        found = results.get(path)
        if found is None:
            scenario.problem = "promtool did not run it" + (f" ({problems[0]})"
                                                            if problems else "")
            continue
        if found.errors:
            scenario.problem = "promtool: " + found.errors[0][:200]
            continue
        for mismatch in found.mismatches or ():
            step = round(_go_duration(mismatch.time) / scenario.step)
            scenario.record[step] = sorted(
                (tuple((k, v) for k, v in alerted.labels if k != "alertname"),
                 tuple(alerted.annotations)) for alerted in mismatch.got)


_GO_UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1,
             "ms": 0.001}


def _go_duration(text: str) -> float:
    """The eval time promtool prints (Prometheus' model.Duration: ``32d11m``, ``1w2d``,
    ``1h2m3s``, ``0s``; Go's ``1m30.5s`` too) in seconds. Days and weeks count: ``32d11m``
    was once read as 11m, recording a 32-day alert as firing from 11m."""
    total = 0.0
    for number, unit in re.findall(r"([\d.]+)(ms|y|w|d|h|m|s)", text):
        total += float(number) * _GO_UNITS[unit]
    return total


def chosen_times(scenario: Case) -> list[int]:
    """The steps the written test checks: the first and the last, and both sides of every
    step where what fires (or its labels or text) changes."""
    times = {0, scenario.steps}
    previous = scenario.record.get(0, [])
    for step in range(1, scenario.steps + 1):
        now = scenario.record.get(step, [])
        if now != previous:
            times |= {step - 1, step}
        previous = now
    return sorted(times)


def outcome(scenario: Case) -> str:
    firing = sorted(scenario.record)
    if not firing:
        return "not firing"
    first, last = firing[0], firing[-1]
    text = f"firing from {format_duration(first * scenario.step)}"
    if last < scenario.steps:
        text += f" to {format_duration(last * scenario.step)}"
    return text


# --- the files ------------------------------------------------------------------------------------

def part_rules_text(group: GroupPlan, alerts: list[AlertPlan], why: str) -> str:
    """The group's rule file with only ``alerts`` (every definition of their names: tests
    expect by name, and a second definition answers too) and the recording rules: a file of
    their own, so the rest of the group does not run with them, nor they at the others'
    interval."""
    names = {a.name for a in alerts}
    data = yaml.safe_load(group.full_rules_text or group.rules_text)
    body = data["groups"][0]
    kept = []
    for rule in body.get("rules") or ():
        if not isinstance(rule, dict):
            continue
        if "alert" in rule and str(rule["alert"]) not in names:
            continue
        kept.append(rule)
    body["rules"] = kept
    return (f"# From the group \"{group.name}\" ({os.path.basename(group.source)} line "
            f"{group.line}): {why}.\n"
            "# Written by promcontract characterize: re-run it, do not edit.\n"
            + "\n".join(yamlout.block(data, "")) + "\n")


def alone_rules_text(group: GroupPlan, alert: AlertPlan) -> str:
    return part_rules_text(group, [alert], f"the alert {alert.name} alone, at its own "
                           f"evaluation interval")


def test_file_text(group: GroupPlan, tpl: str, out_dir: str,
                   alerts: list[AlertPlan] | None = None, rules: str = "",
                   step: float = STEP) -> str:
    """The recorded tests of ``alerts`` (default: the group's alerts at one minute) against
    the rule file ``rules`` (default: the group's), evaluated every ``step``."""
    if alerts is None:
        alerts = [a for a in group.alerts if a.step == STEP]
    rules = rules or f"{group.slug}.rules.yml"
    lines = [HEADER + f" from the group \"{group.name}\"",
             f"# of {os.path.basename(tpl)}: what promtool does with the rules today, not what "
             "they should do.",
             "# Review it like a snapshot; re-record with promcontract characterize, do not "
             "edit.",
             "rule_files:", f"  - {rules}",
             f"evaluation_interval: {format_duration(step)}", "tests:"]
    empty = True
    for alert in alerts:
        for scenario in alert.scenarios:
            if scenario.problem:
                continue
            empty = False
            lines.append(f"  # {alert.name}: {scenario.title}: {outcome(scenario)}")
            lines += yamlout.block([_group_yaml(scenario, chosen_times(scenario), True)], "  ")
    if empty:
        lines[-1] = "tests: []"
    return "\n".join(lines) + "\n"


def _records(group: GroupPlan) -> int:
    body = yaml.safe_load(group.full_rules_text or group.rules_text)["groups"][0]
    return sum(1 for r in body.get("rules") or () if isinstance(r, dict) and "record" in r)


def _reads_alerts(group: GroupPlan) -> bool:
    """The group's alerts run together: a rule reads ALERTS (or ALERTS_FOR_STATE)."""
    return re.search(r"\bALERTS(_FOR_STATE)?\b",
                     group.full_rules_text or group.rules_text) is not None


def file_cost(alerts: list[AlertPlan], records: int) -> int:
    """Rule evaluations promtool makes for a file of ``alerts``' scenarios: every rule of its
    rule file at every step of every scenario."""
    steps = sum(s.steps + 1 for a in alerts for s in a.scenarios if not s.problem)
    return steps * (len(alerts) + records)


def _packs(alerts: list[AlertPlan], records: int) -> list[list[AlertPlan]]:
    """``alerts`` in source order, cut into files of at most FILE_BUDGET evaluations (an
    alert over it alone in its own); the definitions of one name stay in one file."""
    units: dict[str, list[AlertPlan]] = {}
    for alert in alerts:
        units.setdefault(alert.name, []).append(alert)
    packs: list[list[AlertPlan]] = [[]]
    for unit in units.values():
        if packs[-1] and file_cost(packs[-1] + unit, records) > FILE_BUDGET:
            packs.append([])
        packs[-1].extend(unit)
    return packs


def _own_files(group: GroupPlan, tpl: str, out_dir: str) -> None:
    """The group's test file; the pair of each alert at an interval of its own; and, where
    the group's file would take promtool more than FILE_BUDGET evaluations, its alerts cut
    into parts of their own (``<group>--part-2``, ...)."""
    group.alone = {}
    group.full_rules_text = group.full_rules_text or group.rules_text
    taken = {group.slug}

    def slug_for(base: str) -> str:
        base = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-") or "alert"
        slug, n = f"{group.slug}--{base}", 2
        while slug in taken:
            slug, n = f"{group.slug}--{base}-{n}", n + 1
        taken.add(slug)
        return slug

    for alert in group.alerts:
        if alert.step == STEP or not alert.scenarios:
            continue
        alert.slug = slug_for(alert.name)
        group.alone[alert.slug] = (alone_rules_text(group, alert),
                                   test_file_text(group, tpl, out_dir, [alert],
                                                  f"{alert.slug}.rules.yml", alert.step))
    minute = [a for a in group.alerts if a.step == STEP]
    records = _records(group)
    if file_cost(minute, records) <= FILE_BUDGET or _reads_alerts(group):
        group.test_text = test_file_text(group, tpl, out_dir, minute)
        return
    packs = _packs(minute, records)
    for index, pack in enumerate(packs[1:], 2):
        slug = slug_for(f"part-{index}")
        for alert in pack:
            alert.slug = slug
        why = (f"part {index} of {len(packs)} (the group's tests in one file would take "
               f"promtool {file_cost(minute, records):,} rule evaluations)")
        group.alone[slug] = (part_rules_text(group, pack, why),
                             test_file_text(group, tpl, out_dir, pack, f"{slug}.rules.yml"))
    group.rules_text = part_rules_text(
        group, packs[0], f"part 1 of {len(packs)} (the group's tests in one file would take "
                         f"promtool {file_cost(minute, records):,} rule evaluations)")
    group.test_text = test_file_text(group, tpl, out_dir, packs[0])


def run(tpl: str, out_dir: str, only: list[str] | None = None, workers: int | None = None,
        progress: Progress | None = None, prove: bool = True,
        rules: list[str] | None = None, shard: tuple[int, int] = (1, 1)) -> Result:
    """Plan, record and (with ``prove``) mutation-check every alert of ``tpl`` (or of the
    rule files ``rules``: plain or PrometheusRule); the files' text is on the result
    (nothing is written here). ``shard`` (K, N): only the groups K of every N, in source
    order; file names are given over all groups first, so shards write disjoint files whose
    union is the unsharded run's."""


    started = time.monotonic()
    workers = workers or os.cpu_count() or 1
    if rules:
        taken: set[str] = set()
        groups = [g for path in rules for g in groups_of(
            reader.read_rules(path, read_text(path)), only, taken, complete=False)]
        missing = sorted(set(only or ()) - {g.name for g in groups})
        if missing:
            raise UserError(Problem(Location(rules[0]), f"no alert group named "
                                    f"{missing[0]!r} in the rule files"))
    else:
        groups = groups_of(reader.read(tpl, read_template(tpl)), only)
    k, n = shard
    groups = [g for i, g in enumerate(groups) if i % n == k - 1]
    for group in groups:
        plan_group(group)
    with tempfile.TemporaryDirectory(prefix="promcontract-characterize-") as tmp:
        record(groups, tmp, workers, progress)
        for group in groups:
            _own_files(group, group.source or tpl, out_dir)
        if prove:
            _prove(groups, tmp, workers, progress)
    return Result(groups, time.monotonic() - started)


def _prove(groups: list[GroupPlan], tmp: str, workers: int, progress: Progress | None) -> None:
    """Runs the mutation engine over every written file; sets each alert's status."""
    rules, tests = [], []
    for group in groups:
        folder = os.path.join(tmp, "prove", group.slug)
        os.makedirs(folder, exist_ok=True)
        for name, text in group.files().items():
            path = os.path.join(folder, name)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            (rules if name.endswith(".rules.yml") else tests).append(path)

    def said(done: int, total: int) -> None:
        if progress:
            progress(f"proving: {done}/{total} mutant test files run")

    report = mutate.run(rules, tests, None, None, said, workers, operators=PINNED)
    # per file and name, the rules in file order: an alert defined twice in a group is two
    # rules of one name, each with its own mutants, both run against the first's tests
    by_rule: dict[tuple[str, str], list[mutate.AlertResult]] = {}
    for result in report.alerts:
        by_rule.setdefault((os.path.basename(result.rule.file), result.rule.name),
                           []).append(result)
    for group in groups:
        seen: dict[tuple[str, str], int] = {}
        for alert in group.alerts:
            key = (f"{alert.slug or group.slug}.rules.yml", alert.name)
            index = seen[key] = seen.get(key, -1) + 1
            found = by_rule.get(key) or []
            _judge(alert, found[index] if index < len(found) else None)


def _judge(alert: AlertPlan, found: mutate.AlertResult | None) -> None:
    """``alert``'s status from its mutants' outcomes (``found``: this definition's, where
    its name is defined twice in the group)."""
    _set_status(alert, found, alert.scenarios, list(alert.reasons),
                [s.problem for s in alert.scenarios if s.problem])


def _set_status(alert: AlertPlan, found: mutate.AlertResult | None, scenarios: list,
                reasons: list[str], problems: list[str]) -> None:
    if not scenarios or found is None or found.status == "untested":
        alert.status = "not characterized"
        alert.why = "; ".join(dict.fromkeys(reasons)) or "no scenario could be built"
        return
    if found.status == "baseline-failed":
        alert.status = "not characterized"
        alert.why = f"the recorded tests do not pass again: {found.baseline}"
        return
    recorded = [s for s in scenarios if not s.problem]
    if recorded and not any(s.record for s in recorded):
        # a finding, not a recording: an alert no driven input fires may be dead (a join
        # that never matches, a threshold outside what the metric can take)
        alert.status = "not characterized"
        if reasons:  # a part that was not driven may be what keeps it quiet
            alert.why = (f"{'; '.join(dict.fromkeys(reasons))}; none of its "
                         f"{len(recorded)} scenarios makes it fire with that part undriven")
            return
        alert.why = (f"never fires: none of its {len(recorded)} scenarios (each threshold "
                     "crossed both ways) makes it fire")
        return
    alive = [o.mutation for o in found.outcomes if o.state in ("survived", "invalid",
                                                                "untested")]
    if alive:
        shown = "; ".join(f"[{m.operator}] {m.diff}" for m in alive[:2])
        more = f" (+{len(alive) - 2} more)" if len(alive) > 2 else ""
        because = f" ({'; '.join(dict.fromkeys(reasons))})" if reasons else ""
        alert.status = "not characterized"
        alert.why = f"no scenario pins {shown}{more}{because}"
        return
    if problems:
        alert.status = "not characterized"
        alert.why = problems[0]
        return
    alert.status = "characterized"
    alert.why = ""
