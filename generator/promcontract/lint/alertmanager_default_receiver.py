"""alertmanager-default-receiver: an alert whose severity has a route of its own in
`alertmanager.config` (a matcher `severity="critical"` on a route to another receiver) but
that Alertmanager routes to the default receiver only: another matcher of that route (a team,
an environment) asks for a label the alert does not carry. Routed by amtool (Alertmanager's
own route tree) with the labels the alert is known to carry; an alert whose expression may
give it the missing label is not reported."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import yaml

from promcontract.lint.alertmanager import ANY_VALUE, alerts, matches, may_match, routes, shown
from promcontract.lint.base import Template, finding
from promcontract.problems import Problem
from promcontract.runners import amtool
from promcontract.template import alertmanager
from promcontract.template.tfescape import PLACEHOLDER

NAME = "alertmanager-default-receiver"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('an alert that reaches only the default receiver although its severity has a route of '
       'its own (another matcher of that route asks for a label the alert does not carry; '
       'routed by `amtool config routes test`)')


def check(template: Template) -> Iterator[Problem]:
    if template.alertmanager is None:
        return
    tree = routes(template.alertmanager)
    if not tree:
        return
    default = tree[0].receiver
    dedicated = [r for r in tree[1:] if r.receiver != default and any(
        m.label == "severity" and m.op in ("=", "=~") and PLACEHOLDER not in m.value
        for m in r.matchers)]
    if not dedicated:
        return
    rules = {(r.name, r.line): r for r in template.rules}
    suspects = []
    for alert in alerts(template):
        severity = alert.labels.get("severity")
        rule = rules.get((alert.name, alert.line))
        if rule is None or NAME in rule.disabled or not isinstance(severity, str):
            continue
        mine = [r for r in dedicated if any(m.label == "severity" and m.op in ("=", "=~")
                                            and matches(m, severity) for m in r.matchers)]
        if mine and not any(may_match(alert, r.path) for r in mine):
            suspects.append((alert, mine[0]))
    if not suspects:
        return
    with tempfile.TemporaryDirectory(prefix="promcontract-amtool-") as tmp:
        path = os.path.join(tmp, "alertmanager.yml")
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(alertmanager.config_data(template.alertmanager), handle,
                           sort_keys=False)
        for alert, route in suspects:
            carried = {k: v for k, v in alert.labels.items() if v is not ANY_VALUE and v != ""}
            try:
                got = amtool.routes_test(path, carried)
            except ValueError:
                return  # the config does not load: alertmanager-config says why
            if got != (default,):
                continue
            missing = [m for m in route.path if not may_match(alert, (m,))]
            yield finding(template.path, alert.line, NAME,
                          f"{alert.name} (severity={alert.labels['severity']}) reaches only "
                          f"the default receiver {default}: the route for its severity "
                          f"({route.where}, line {route.line}, to {route.receiver}) also "
                          f"requires {shown(missing)}, which it does not carry")
