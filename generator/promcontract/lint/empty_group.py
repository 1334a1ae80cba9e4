"""empty-group: a group whose `rules:` holds nothing evaluates nothing, silently."""

from __future__ import annotations

from collections.abc import Iterator

from promcontract.lint.base import Template, finding
from promcontract.problems import Problem

NAME = "empty-group"
DOC = "A rule group with `rules:` empty or missing: it evaluates nothing."


def check(template: Template) -> Iterator[Problem]:
    for group in template.groups:
        if group.rules_missing:
            yield finding(template.path, group.line, NAME,
                          f"group '{group.name}' has no rules (`rules:` is empty)")
