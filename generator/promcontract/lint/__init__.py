"""promcontract lint: checks over every alert group of a values template.

Each check is a module with NAME, DOC and ``check(template)``; shared plumbing is in base.py;
PromQL is read as a tree (promql-parser), never with regexes. The repository's
``.promcontract.yaml`` (lint.config) disables checks, lowers them to warnings, declares
alerts defined elsewhere and sets the alert policy.
"""

from __future__ import annotations

import dataclasses

from promcontract.lint import (
    absent_coverage,
    aggregated_label,
    alert_policy,
    alertmanager_config,
    alertmanager_unknown_alert,
    duplicate_alert,
    empty_group,
    for_scrape_interval,
    promtool_rules,
    terraform_syntax,
)
from promcontract.lint.base import read_template
from promcontract.lint.config import LintConfig
from promcontract.problems import Problem

CHECKS = (empty_group, duplicate_alert, aggregated_label, absent_coverage, for_scrape_interval,
          alertmanager_unknown_alert, alertmanager_config, alert_policy, promtool_rules,
          terraform_syntax)
NAMES = [check.NAME for check in CHECKS]


def run(path: str, text: str, config: LintConfig | None = None,
        only: set[str] | None = None) -> list[Problem]:
    """Findings of every enabled check (``only``: just these), each with its severity."""
    config = config or LintConfig()
    template = read_template(path, text)
    template.config = config
    findings = list(template.bad_disables)
    for check in CHECKS:
        if check.NAME in config.disable or (only is not None and check.NAME not in only):
            continue
        findings += list(check.check(template))
    findings = [dataclasses.replace(f, severity=config.level(f.rule)) for f in findings]
    findings.sort(key=lambda f: (f.line, f.rule, f.message))
    return findings


__all__ = ["CHECKS", "NAMES", "run"]
