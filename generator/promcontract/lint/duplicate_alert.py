"""duplicate-alert: two alerts of one name in one group; the second one is usually a
copy-paste left with the first one's name, and silences and routes cannot tell them apart."""

from __future__ import annotations

from collections.abc import Iterator

from promcontract.lint.base import Template, finding
from promcontract.problems import Problem

NAME = "duplicate-alert"
DOC = "The same alert name twice in one group."


def check(template: Template) -> Iterator[Problem]:
    for group in template.groups:
        seen: dict[str, int] = {}
        for rule in group.rules:
            if rule.kind != "alert":
                continue
            if rule.name in seen and NAME not in rule.disabled:
                yield finding(template.path, rule.line, NAME,
                              f"alert '{rule.name}' is defined twice in group '{group.name}' "
                              f"(first on line {seen[rule.name]})")
            seen.setdefault(rule.name, rule.line)
