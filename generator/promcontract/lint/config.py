"""`.promcontract.yaml`: the lint configuration of a repository (at its root, or --config F).

    lint:
      disable: [for-scrape-interval]            # checks not run at all
      external_alerts: [LokiRulerLogErrorsHigh] # alerts defined elsewhere (a Loki ruler)
      severity: {absent-coverage: warning}      # warning: printed, does not fail the run
      require_labels: [severity, team]          # the alert-policy check
      require_annotations: [summary, runbook_url]
      severity_values: [critical, warning, info]
      scrape_interval: 30s                      # the data's global scrape interval (rule files)
      external_labels: [cluster, team]          # labels alerts get outside this file (routing)

Validated against a JSON Schema, with the same one-line located errors as contracts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from promcontract.contract.schema import describe
from promcontract.durations import parse_duration
from promcontract.model.yamlsource import format_path, load_yaml_text, read_text
from promcontract.problems import Problem, UserError

FILE = ".promcontract.yaml"
_NAME = "^[a-zA-Z_:][a-zA-Z0-9_:]*$"
_LABEL = "^[a-zA-Z_][a-zA-Z0-9_]*$"
DURATION = "^0*[1-9][0-9]*(ms|[smhdwy])([0-9]+(ms|[smhdwy]))*$"  # a Prometheus duration > 0


@dataclass(frozen=True)
class LintConfig:
    path: str | None = None
    disable: frozenset[str] = frozenset()
    external_alerts: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    require_labels: tuple[str, ...] = ()
    require_annotations: tuple[str, ...] = ()
    severity_values: tuple[str, ...] = ()
    # The global scrape interval (seconds) when the source does not say (a rule file) or to
    # override server.global.scrape_interval: for-scrape-interval.
    scrape_interval: float | None = None
    # Labels alerts carry that no rule, expression or scrape config of the file names
    # (set by an exporter, another Prometheus's external_labels): the routing checks.
    external_labels: tuple[str, ...] = ()

    def level(self, check: str) -> str:
        return self.severity.get(check, "error")


def schema(checks: list[str]) -> dict[str, Any]:
    names = {"type": "string", "enum": sorted(checks)}
    strings = {"type": "array", "uniqueItems": True}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": {"lint": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "disable": {**strings, "items": names},
                "external_alerts": {**strings, "items": {"type": "string", "pattern": _NAME}},
                "severity": {"type": "object", "propertyNames": names,
                             "additionalProperties": {"enum": ["error", "warning"]}},
                "require_labels": {**strings, "items": {"type": "string", "pattern": _LABEL}},
                "require_annotations": {**strings,
                                        "items": {"type": "string", "pattern": _LABEL}},
                "severity_values": {**strings, "minItems": 1,
                                    "items": {"type": "string", "minLength": 1}},
                "scrape_interval": {"type": "string", "pattern": DURATION},
                "external_labels": {**strings, "items": {"type": "string", "pattern": _LABEL}},
            },
        }},
    }


def load(explicit: str | None, checks: list[str]) -> LintConfig:
    """The configuration in ``explicit``, else ./.promcontract.yaml, else the defaults."""
    # jsonschema takes ~0.1 s to import: only when a lint configuration is read.
    import jsonschema


    path = explicit or (FILE if os.path.isfile(FILE) else None)
    if path is None:
        return LintConfig()
    text = read_text(path)
    if not text.strip():
        return LintConfig(path)
    data, smap = load_yaml_text(text, path)
    problems = []
    validator = jsonschema.Draft202012Validator(schema(checks))
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where, message, at_key = describe(error)
        problems.append(Problem(smap.locate(where, key=at_key), message, format_path(where)))
    if problems:
        raise UserError(problems)
    lint = (data or {}).get("lint") or {}
    return LintConfig(path, frozenset(lint.get("disable", ())),
                      tuple(lint.get("external_alerts", ())), dict(lint.get("severity", {})),
                      tuple(lint.get("require_labels", ())),
                      tuple(lint.get("require_annotations", ())),
                      tuple(lint.get("severity_values", ())),
                      parse_duration(lint["scrape_interval"]) if lint.get("scrape_interval")
                      else None, tuple(lint.get("external_labels", ())))
