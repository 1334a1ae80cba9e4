"""aggregated-label: an annotation uses $labels.x but the expression aggregates x away, so the
annotation renders "<no value>" (e.g. `max(drift_stack_age_hours) > 72` cannot name its
stack)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from promcontract.lint.base import Template, finding
from promcontract.lint.promql_labels import output_labels
from promcontract.problems import Problem

NAME = "aggregated-label"
DOC = "An annotation uses $labels.x where the expression aggregates x away."
_REF = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)")


def check(template: Template) -> Iterator[Problem]:
    for group in template.groups:
        for rule in group.rules:
            if rule.kind != "alert" or NAME in rule.disabled:
                continue
            kept = output_labels(rule.expr)
            for field, text in sorted(rule.annotations.items()):
                for label in sorted(set(_REF.findall(text))):
                    if kept.drops(label):
                        yield finding(template.path, rule.line, NAME,
                                      f"alert '{rule.name}': annotation {field} uses "
                                      f"$labels.{label} but the expression does not keep it "
                                      f"({kept.describe()})")
