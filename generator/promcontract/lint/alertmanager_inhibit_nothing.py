"""alertmanager-inhibit-nothing: an inhibit rule of `alertmanager.config` whose source or target
matchers, taken together, match no alert defined anywhere (this file's rules with the labels
they can carry, and `lint.external_alerts`): the rule never inhibits anything. A side whose
alert names are all unknown is alertmanager-unknown-alert's finding, not repeated here."""

from __future__ import annotations

from collections.abc import Iterator

from promcontract.lint.alertmanager import alerts, inhibit_rules, may_match, shown
from promcontract.lint.base import Template, finding
from promcontract.problems import Problem

NAME = "alertmanager-inhibit-nothing"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('an inhibit rule whose source or target matchers together match no alert defined '
       'anywhere (the rules\' labels, values fixed by their expressions, '
       '`lint.external_alerts`): it never inhibits')


def check(template: Template) -> Iterator[Problem]:
    if template.alertmanager is None:
        return
    defined = alerts(template)
    for rule in inhibit_rules(template.alertmanager):
        for side, matchers in (("source", rule.source), ("target", rule.target)):
            if not matchers:
                continue
            names = [m for m in matchers if m.label == "alertname"]
            if not any(may_match(a, names) for a in defined):
                continue  # alertmanager-unknown-alert says which names are gone
            if any(may_match(a, matchers) for a in defined):
                continue
            yield finding(template.path, rule.line, NAME,
                          f"{rule.where}: no alert defined anywhere matches its {side} "
                          f"matchers ({shown(matchers)}): the rule never inhibits (declare "
                          "alerts defined elsewhere in .promcontract.yaml lint.external_alerts)")
