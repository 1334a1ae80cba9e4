"""absent-coverage: a timestamp/heartbeat alert (`time() - m > N`, `m - time() < N`) is quiet
when m is absent altogether (a job that never ran, a wiped gateway). Something must fire then:
`or absent(m)` in the same rule, or another rule with `absent(m)`, `absent_over_time(m)` or
`... unless ... m`."""

from __future__ import annotations

import re
from collections.abc import Iterator

from promcontract.lint.base import Template, finding
from promcontract.problems import Problem

NAME = "absent-coverage"
DOC = "A timestamp/heartbeat alert with nothing that fires when its series is absent."
_TIME = re.compile(r"time\(\)\s*-\s*(?:max|min)?\s*(?:by\s*\([^)]*\)\s*)?\(?\s*"
                   r"([a-zA-Z_:][a-zA-Z0-9_:]*)|([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{[^}]*\})?"
                   r"\s*-\s*time\(\)")
_KEYWORDS = {"max", "min", "sum", "avg", "by", "without"}


def _covers(expr: str, metric: str) -> bool:
    name = re.escape(metric)
    if re.search(rf"absent(?:_over_time)?\s*\(\s*{name}\b", expr):
        return True
    unless = expr.find("unless")
    return unless != -1 and re.search(rf"\b{name}\b", expr[unless:]) is not None


def check(template: Template) -> Iterator[Problem]:
    rules = [r for g in template.groups for r in g.rules]
    for rule in rules:
        if rule.kind != "alert" or NAME in rule.disabled:
            continue
        for match in _TIME.finditer(rule.expr):
            metric = match.group(1) or match.group(2)
            if not metric or metric in _KEYWORDS:
                continue
            if not any(_covers(other.expr, metric) for other in rules):
                yield finding(template.path, rule.line, NAME,
                              f"alert '{rule.name}' watches the timestamp {metric} but nothing "
                              f"fires when {metric} is absent (add `or absent({metric})` or "
                              "an alert on absent())")
            break
