"""range-scrape-interval: a range shorter than twice the scrape interval, given to a function
that needs two samples in it (``rate``, ``irate``, ``increase``, ``delta``, ``idelta``,
``deriv``, ``predict_linear``, ``changes``, ``resets``). A window of length R holds
R / interval samples give or take one, so below two intervals it holds a single sample at some
evaluations, and these functions then return nothing: the alert cannot fire there (or, in a
`== 0` test, fires on nothing). Prometheus's own advice is four intervals or more for ``rate``.

The interval is the one ``for-scrape-interval`` uses (``lint.base.scrape_interval_of``): the
scrape job's own, else the configured or template global one, else Prometheus's default 1m,
said as assumed. ``*_over_time`` functions work on one sample and are not findings."""

from __future__ import annotations

from collections.abc import Iterator

from promcontract.durations import format_duration
from promcontract.lint.base import Template, finding, scrape_interval_of
from promcontract.problems import Problem
from promcontract.promql.nodes import Call, Matrix, walk

NAME = "range-scrape-interval"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('a range shorter than twice the scrape interval given to `rate`, `irate`, `increase`, '
       '`delta`, `idelta`, `deriv`, `predict_linear`, `changes` or `resets` (it then holds one '
       'sample and returns nothing)')

TWO_SAMPLES = frozenset({"rate", "irate", "increase", "delta", "idelta", "deriv",
                         "predict_linear", "changes", "resets"})


def check(template: Template) -> Iterator[Problem]:
    for rule in template.rules:
        if rule.kind != "alert" or NAME in rule.disabled:
            continue
        tree = rule.tree
        if tree is None:
            continue
        seen: set[tuple[str, float]] = set()
        for node, _ in walk(tree):
            if not (isinstance(node, Call) and node.func in TWO_SAMPLES and node.args
                    and isinstance(node.args[0], Matrix)):
                continue
            window = node.args[0].range
            interval, source = scrape_interval_of(template, node.args[0].selector)
            if window >= 2 * interval or (node.func, window) in seen:
                continue
            seen.add((node.func, window))
            yield finding(template.path, rule.line, NAME,
                          f"alert '{rule.name}': {node.func}() over "
                          f"[{format_duration(window)}] is shorter than two scrapes "
                          f"({format_duration(interval)}, {source}): it holds one sample at "
                          f"times and {node.func}() then returns nothing")
