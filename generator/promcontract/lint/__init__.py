"""promcontract lint: checks over every alert group of a values template.

Each check is a module with NAME, DOC and ``check(template)``; shared plumbing is in base.py.
"""

from __future__ import annotations

from promcontract.lint import (
    absent_coverage,
    aggregated_label,
    duplicate_alert,
    empty_group,
    for_scrape_interval,
    promtool_rules,
    terraform_syntax,
)
from promcontract.lint.base import read_template
from promcontract.problems import Problem

CHECKS = (empty_group, duplicate_alert, aggregated_label, absent_coverage, for_scrape_interval,
          promtool_rules, terraform_syntax)


def run(path: str, text: str) -> list[Problem]:
    template = read_template(path, text)
    findings = list(template.bad_disables)
    for check in CHECKS:
        findings += list(check.check(template))
    findings.sort(key=lambda f: (f.line, f.rule))
    return findings


__all__ = ["CHECKS", "run"]
