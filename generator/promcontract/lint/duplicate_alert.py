"""duplicate-alert: one alert name defined twice, in one group or in two. Routes, inhibit
rules and silences match by alertname and cannot tell the two apart (a real file had
`HighPowerUsage` for GPU power in one group and for server power in another); promtool calls
two in one group a duplicate rule.

Not a finding: rules that share a name and set different labels (one alert in tiers,
`severity: warning` / `severity: critical` at two thresholds; the multi-window burn-rate alerts
of an SLO, `long: 1h, short: 5m`; a copy per team): routes, inhibit rules and silences tell
them apart by those labels."""

from __future__ import annotations

from collections.abc import Iterator

from promcontract.lint.base import Rule, Template, finding
from promcontract.problems import Problem

NAME = "duplicate-alert"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('one alert name defined twice with the same labels, in one group or across groups '
       '(routes and silences cannot tell them apart; tiers by `severity` and other label '
       'variants are not findings)')


def _same(a: Rule, b: Rule) -> bool:
    return (a.expr, a.for_seconds, a.keep_firing_seconds, a.labels) == \
        (b.expr, b.for_seconds, b.keep_firing_seconds, b.labels)


def check(template: Template) -> Iterator[Problem]:
    first: dict[tuple[str, frozenset[tuple[str, str]]], Rule] = {}
    for group in template.groups:
        for rule in group.rules:
            if rule.kind != "alert":
                continue
            earlier = first.setdefault((rule.name, frozenset(rule.labels.items())), rule)
            if earlier is rule or NAME in rule.disabled:
                continue
            where = (f"in group '{group.name}'" if earlier.group == group.name
                     else f"in groups '{earlier.group}' and '{group.name}'")
            what = "the same rule twice" if _same(earlier, rule) else "two different rules"
            yield finding(template.path, rule.line, NAME,
                          f"alert '{rule.name}' is defined twice {where} (first on line "
                          f"{earlier.line}) with the same labels: {what}; routes and silences "
                          "cannot tell them apart")
