"""alert-policy: every alert carries the labels and annotations the team's policy requires
(`.promcontract.yaml`: `lint.require_labels`, `lint.require_annotations`) and a severity
from the allowed list (`lint.severity_values`). Off until the config sets a policy."""

from __future__ import annotations

from collections.abc import Iterator

from promcontract.lint.base import Template, finding
from promcontract.problems import Problem

NAME = "alert-policy"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('labels and annotations the config requires, severities it allows (off until '
       'configured)')


def check(template: Template) -> Iterator[Problem]:
    config = template.config
    if config is None:
        return
    labels, annotations = config.require_labels, config.require_annotations
    severities = config.severity_values
    for rule in template.rules:
        if rule.kind != "alert" or NAME in rule.disabled:
            continue
        missing = [name for name in labels if not rule.labels.get(name)]
        if missing:
            yield finding(template.path, rule.line, NAME,
                          f"alert '{rule.name}' has no label {', '.join(missing)} (required by "
                          ".promcontract.yaml lint.require_labels)")
        missing = [name for name in annotations if not rule.annotations.get(name)]
        if missing:
            yield finding(template.path, rule.line, NAME,
                          f"alert '{rule.name}' has no annotation {', '.join(missing)} "
                          "(required by .promcontract.yaml lint.require_annotations)")
        severity = rule.labels.get("severity")
        if severities and severity is not None and severity not in severities:
            yield finding(template.path, rule.line, NAME,
                          f"alert '{rule.name}': severity {severity!r} is not one of "
                          f"{', '.join(severities)} (.promcontract.yaml lint.severity_values)")
