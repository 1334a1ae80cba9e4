"""empty-group: a group whose `rules:` holds nothing evaluates nothing, silently."""

from __future__ import annotations

from collections.abc import Iterator

from promcontract.lint.base import Template, finding
from promcontract.problems import Problem

NAME = "empty-group"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = 'a group whose `rules:` is empty or missing'


def check(template: Template) -> Iterator[Problem]:
    for group in template.groups:
        if group.rules_missing:
            yield finding(template.path, group.line, NAME,
                          f"group '{group.name}' has no rules (`rules:` is empty)")
