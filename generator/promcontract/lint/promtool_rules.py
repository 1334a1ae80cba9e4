"""promtool: whatever `promtool check rules` rejects in alerting_rules.yml, at the template's
own line."""

from __future__ import annotations

from collections.abc import Iterator

from promcontract.lint.base import Template, finding
from promcontract.problems import Problem
from promcontract.runners.checks import promtool_rule_problems

NAME = "promtool"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = "anything `promtool check rules` rejects, at the template's own line"


def check(template: Template) -> Iterator[Problem]:
    for problem in promtool_rule_problems(template.rules_text, template.path,
                                          template.rules_offset):
        message = problem.message.removeprefix("promtool check rules: ")
        yield finding(template.path, problem.location.line or 1, NAME, message)
