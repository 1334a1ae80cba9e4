"""alertmanager-unknown-alert: the Alertmanager config in the same values file names an alert
no rule group defines, in a route or an inhibit rule (`alertname="X"`, or an alternative of
`alertname=~"A|B|C"`, or a regex that matches no alert at all). Such a route or inhibit rule
silently matches nothing once the alert was renamed or deleted. Alerts defined elsewhere (a
Loki ruler, another Prometheus) are declared in .promcontract.yaml (`lint.external_alerts`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from promcontract.lint.alertmanager import matchers
from promcontract.lint.base import Template, finding
from promcontract.problems import Problem
from promcontract.template.tfescape import PLACEHOLDER

NAME = "alertmanager-unknown-alert"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('a route or inhibit rule of `alertmanager.config` naming an alert no group defines '
       '(`alertname="X"`, each alternative of `alertname=~"A|B"`, or a regex matching no '
       'alert), at any depth, `matchers` and the older `match`/`match_re`')
_LITERAL = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def check(template: Template) -> Iterator[Problem]:
    if template.alertmanager is None:
        return
    external = set(getattr(template.config, "external_alerts", ()) or ())
    known = template.alert_names | external
    for m in matchers(template.alertmanager):
        if m.label != "alertname" or m.op not in ("=", "=~") or PLACEHOLDER in m.value:
            continue
        if m.op == "=":
            if m.value not in known:
                yield _unknown(template, m.line, [m.value], m.where)
            continue
        alternatives = m.value.split("|")
        if all(_LITERAL.match(a) for a in alternatives):
            missing = [a for a in alternatives if a not in known]
            if missing:
                yield _unknown(template, m.line, missing, m.where)
            continue
        try:
            pattern = re.compile(m.value)
        except re.error:
            continue  # amtool check-config reports a broken regex
        if not any(pattern.fullmatch(name) for name in known):
            yield finding(template.path, m.line, NAME,
                          f"{m.where}: alertname=~\"{m.value}\" matches no alert of any rule "
                          "group (declare alerts defined elsewhere in .promcontract.yaml "
                          "lint.external_alerts)")


def _unknown(template: Template, line: int, names: list[str], where: str) -> Problem:
    shown = ", ".join(names)
    return finding(template.path, line, NAME,
                   f"{where}: no rule group defines the alert{'s' if len(names) > 1 else ''} "
                   f"{shown}: this matcher matches nothing for {'them' if len(names) > 1 else 'it'}"
                   " (renamed or deleted? declare alerts defined elsewhere in "
                   ".promcontract.yaml lint.external_alerts)")
