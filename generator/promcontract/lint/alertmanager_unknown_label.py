"""alertmanager-unknown-label: a route of `alertmanager.config` requires a label that no alert
of the file carries: no rule's `labels:`, no expression (matchers, by/on/without, label_replace),
no annotation (`$labels.x`) and no scrape config (target labels, static labels,
external_labels) names it. The route matches nothing, so whatever it was written for goes
elsewhere. Labels alerts get outside the file are declared in .promcontract.yaml
(`lint.external_labels`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from promcontract.lint.alertmanager import known_labels, routes
from promcontract.lint.base import Template, finding
from promcontract.problems import Problem
from promcontract.template.tfescape import PLACEHOLDER

NAME = "alertmanager-unknown-label"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('a route of `alertmanager.config` requiring a label (`team="x"`) that no rule, '
       'expression, annotation or scrape config of the file names: it matches no alert '
       '(`lint.external_labels` declares labels set elsewhere)')


def _needs_the_label(op: str, value: str) -> bool:
    """An alert without the label (empty value) cannot satisfy the matcher."""
    if PLACEHOLDER in value:
        return op in ("=", "=~")  # a Terraform value: the label is still required
    if op == "=":
        return value != ""
    if op == "=~":
        try:
            return re.fullmatch(value, "") is None
        except re.error:
            return False  # amtool check-config reports a broken regex
    return False


def check(template: Template) -> Iterator[Problem]:
    if template.alertmanager is None:
        return
    universe = known_labels(template)
    for route in routes(template.alertmanager):
        for m in route.matchers:
            if m.label in universe or not _needs_the_label(m.op, m.value):
                continue
            yield finding(template.path, m.line, NAME,
                          f"{m.where}: no alert carries the label {m.label} (no rule's labels, "
                          "expression, annotation or scrape config in this file names it): "
                          f"the route to {route.receiver} matches no alert of the file "
                          "(declare labels set elsewhere in .promcontract.yaml "
                          "lint.external_labels)")
