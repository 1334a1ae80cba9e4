"""promtool: whatever `promtool check rules` rejects in alerting_rules.yml, at the template's
own line."""

from __future__ import annotations

from collections.abc import Iterator

from promcontract import pipeline
from promcontract.lint.base import Finding, Template

NAME = "promtool"
DOC = "What promtool check rules rejects, mapped back to the template line."


def check(template: Template) -> Iterator[Finding]:
    for problem in pipeline.promtool_rule_problems(template.rules_text, template.path,
                                                   template.rules_offset):
        message = problem.message.removeprefix("promtool check rules: ")
        yield Finding(template.path, problem.location.line or 1, NAME, message)
