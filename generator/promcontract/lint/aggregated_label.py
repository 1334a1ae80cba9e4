"""aggregated-label: an annotation uses $labels.x but the expression aggregates x away, so the
annotation renders "<no value>" (e.g. `max(drift_stack_age_hours) > 72` cannot name its
stack). Which labels the result keeps is read from the PromQL tree (promql-parser):
`count_values("v", x)` keeps v, `sum by ("a.b") (x)` keeps a.b, `group_left(x)` adds x;
what is not understood counts as keeping every label, and an expression that does not parse
gives no finding."""

from __future__ import annotations

import re
from collections.abc import Iterator

from promcontract.lint.base import Template, finding
from promcontract.problems import Problem
from promcontract.promql.labels import result_labels

NAME = "aggregated-label"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('an annotation using `$labels.x` where the expression cannot carry `x` (`max()` '
       'without `by`, `sum by (job)`, one-to-one `on(...)`; `count_values("v", ...)` keeps '
       '`v`, `group_left(x)` adds `x`)')
_REF = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)|index\s+\$labels\s+\"([^\"]+)\"")


def check(template: Template) -> Iterator[Problem]:
    for rule in template.rules:
        if rule.kind != "alert" or NAME in rule.disabled or rule.tree is None:
            continue
        kept = result_labels(rule.tree)
        for field, text in sorted(rule.annotations.items()):
            used = {a or b for a, b in _REF.findall(text)}
            for label in sorted(used):
                if label in rule.labels:
                    continue  # the rule's own labels: set whatever the expression keeps
                if kept.drops(label):
                    yield finding(template.path, rule.line, NAME,
                                  f"alert '{rule.name}': annotation {field} uses "
                                  f"$labels.{label} but the expression does not keep it "
                                  f"({kept.describe()})")
