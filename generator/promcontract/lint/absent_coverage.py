"""absent-coverage: a staleness alert on a heartbeat (`time() - m > N`: the job's last success
is too old) is quiet when m is absent altogether (a job that never ran, a wiped Pushgateway).
Something must fire then: `or absent(m)` in the same rule, or another rule with `absent(m)`,
`absent_over_time(m[...])` or `vector(1) unless ... m`, or `absent()` of another metric of
the same `job="J"` (a job's metrics come and go together; `up` is not one of them).

Only the part of the expression the alert reports counts: `x and on() (time() - start) > 900`
is a warm-up guard, `... unless ...` and `and` keep their left side; an age that must stay
*below* a bound (`(time() - job_start) < 3600`) is a recency filter; and only timestamps that
record a success or a run are heartbeats (`*_last_success*`, `*_last_run*`, `*heartbeat*`, ...,
or an alert named ...Stale/...Heartbeat...), not event times (a start time, a certificate
expiry). Read from the PromQL tree (promql-parser); an expression that does not parse gives
no finding (promtool reports it)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from promcontract.lint.base import Rule, Template, finding
from promcontract.problems import Problem
from promcontract.promql.nodes import (
    Aggregate,
    Binary,
    Call,
    Matrix,
    Node,
    Selector,
    unparen,
    walk,
)

NAME = "absent-coverage"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('a heartbeat staleness alert (`time() - m > N` on a '
       '`*_last_success*`/`*_last_run*`/`*heartbeat*` timestamp, or an alert named ...Stale) '
       'with nothing firing when `m` is absent (`or absent(m)`, an `absent(m)` / '
       '`absent_over_time(m[...])` alert anywhere, `vector(1) unless ... m`, `absent()` of '
       'another metric of the same `job=`, `up` aside); warm-up guards '
       '(`and on() (time() - process_start_time_seconds) > 900`), recency filters (`(time() '
       '- start) < 3600`) and event timestamps (start times, expiries) are not heartbeats')
_HEARTBEAT = re.compile(r"last_?(success|successful|run|completion|completed|seen|sync|"
                        r"update|heartbeat|finish|ok)|heartbeat", re.I)
_STALE_ALERT = re.compile(r"stale|heartbeat|notrun|not_run|overdue", re.I)


def _reported(node: Node) -> list[Node]:
    """The parts of the expression whose series the alert reports: the left of and/unless,
    both sides of or."""
    node = unparen(node)
    if isinstance(node, Binary) and node.op in ("and", "unless"):
        return _reported(node.lhs)
    if isinstance(node, Binary) and node.op == "or":
        return _reported(node.lhs) + _reported(node.rhs)
    return [node]


def _watched(part: Node) -> list[Selector]:
    """Heartbeats whose age must stay below a bound: ``time() - m > N`` (or ``>=``), m under
    max/min/last_over_time at most."""
    out = []
    for node, _ in walk(part):
        if not (isinstance(node, Binary) and node.op in (">", ">=", "<", "<=")):
            continue
        left, right = unparen(node.lhs), unparen(node.rhs)
        age, op = (left, node.op) if _is_age(left) else (right, _flip(node.op)) \
            if _is_age(right) else (None, None)
        if age is None or op not in (">", ">="):
            continue  # an age held below a bound is a recency filter
        selector = _aged(age)
        if selector is not None:
            out.append(selector)
    return out


def _flip(op: str) -> str:
    return {">": "<", "<": ">", ">=": "<=", "<=": ">="}[op]


def _is_age(node: Node) -> bool:
    node = unparen(node)
    return isinstance(node, Binary) and node.op == "-" and isinstance(unparen(node.lhs), Call) \
        and unparen(node.lhs).func == "time" and _aged(node) is not None


def _aged(node: Node) -> Selector | None:
    node = unparen(node)
    if not (isinstance(node, Binary) and node.op == "-"):
        return None
    inner = unparen(node.rhs)
    while True:
        if isinstance(inner, Aggregate) and inner.op in ("max", "min") and inner.param is None:
            inner = unparen(inner.expr)
        elif isinstance(inner, Call) and inner.func in ("max_over_time", "last_over_time") \
                and inner.args and isinstance(unparen(inner.args[0]), Matrix):
            inner = unparen(inner.args[0]).selector
        else:
            break
    return inner if isinstance(inner, Selector) and inner.name else None


def _job(selector: Selector) -> str | None:
    return next((m.value for m in selector.matchers if m.name == "job" and m.op == "="), None)


def _covers(rule: Rule, watched: Selector) -> bool:
    """``rule`` fires when the ``watched`` metric has no series at all: it has ``absent()`` of
    it, or of a sibling the same job sends (``job="J"`` on both; a job's metrics come and go
    together, ``up`` aside: a scrape target's ``up`` stays while its metrics vanish)."""
    tree = rule.tree
    if tree is None:
        return False
    metric, job = watched.name, _job(watched)
    for node, _ in walk(tree):
        if isinstance(node, Call) and node.func in ("absent", "absent_over_time") and node.args:
            arg = unparen(node.args[0])
            selector = arg.selector if isinstance(arg, Matrix) else arg
            if not isinstance(selector, Selector):
                continue
            if selector.name == metric:
                return True
            if job is not None and selector.name not in (None, "up") and \
                    _job(selector) == job:
                return True
        if isinstance(node, Binary) and node.op == "unless":
            left = unparen(node.lhs)
            constant = isinstance(left, Call) and left.func == "vector"
            reads = {n.name for n, _ in walk(node.rhs) if isinstance(n, Selector)}
            if constant and metric in reads:
                return True
    return False


def check(template: Template) -> Iterator[Problem]:
    rules = template.rules
    for rule in rules:
        if rule.kind != "alert" or NAME in rule.disabled or rule.tree is None:
            continue
        for part in _reported(rule.tree):
            selectors = _watched(part)
            found = next((s for s in selectors if _HEARTBEAT.search(s.name or "")
                          or _STALE_ALERT.search(rule.name)), None)
            if found is None:
                continue
            metric = found.name
            if not any(_covers(other, found) for other in rules):
                yield finding(template.path, rule.line, NAME,
                              f"alert '{rule.name}' watches the heartbeat {metric} but nothing "
                              f"fires when {metric} is absent (add `or absent({metric})` or "
                              "an alert on absent())")
            break
