"""empty-group: a group whose `rules:` holds nothing evaluates nothing, silently."""

from __future__ import annotations

from collections.abc import Iterator

from promcontract.lint.base import Finding, Template

NAME = "empty-group"
DOC = "A rule group with `rules:` empty or missing: it evaluates nothing."


def check(template: Template) -> Iterator[Finding]:
    for group in template.groups:
        if group.rules_missing:
            yield Finding(template.path, group.line, NAME,
                          f"group '{group.name}' has no rules (`rules:` is empty)")
