"""promcontract lint: checks over every alert group of a values template.

Each check is a module with NAME, DOC and ``check(template)`` (``base.Check``), found by
``plugins.discover`` like the kinds and writers; shared plumbing is in base.py;
PromQL is read as a tree (promql-parser), never with regexes. The repository's
``.promcontract.yaml`` (lint.config) disables checks, lowers them to warnings, declares
alerts defined elsewhere and sets the alert policy.
"""

from __future__ import annotations

import dataclasses
import sys

from promcontract import plugins
from promcontract.lint.base import Check, lint_view
from promcontract.lint.config import LintConfig
from promcontract.problems import Problem
from promcontract.template import reader

# Modules of lint/ that are not checks: the plumbing they share.
HELPERS = {"alertmanager", "base", "config", "output"}
CHECKS = tuple(plugins.discover(sys.modules[__name__], Check, HELPERS))
NAMES = [check.NAME for check in CHECKS]


def run(path: str, text: str, config: LintConfig | None = None,
        only: set[str] | None = None, source: reader.Template | None = None) -> list[Problem]:
    """Findings of every enabled check (``only``: just these), each with its severity;
    ``source``: an already read template or rule file (``reader.read_rules``)."""
    config = config or LintConfig()
    template = lint_view(source or reader.read(path, text))
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
