"""The contract's JSON Schema (2020-12), assembled from the parts every contract has and the
fragments the kinds own (promcontract/kinds/): adding a kind adds its ``if kind: then`` part.

``schemas/metric-contract.schema.json`` is this schema written out for editors and other
tools (``python -m promcontract.contract.schema --write FILE``; a test fails when it is stale).
Errors are described for people here too: one line, at the field.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from typing import TYPE_CHECKING, Any

from promcontract import kinds
from promcontract.model.yamlsource import Path
from promcontract.runners.fileio import write_atomic

if TYPE_CHECKING:
    import jsonschema

SEVERITY = {"enum": ["critical", "warning", "info"]}
DEFS: dict[str, Any] = {
    "duration": {"type": "string", "pattern": "^([0-9]+(y|w|d|h|m|s|ms))+$"},
    "metric_name": {"type": "string", "pattern": "^[a-zA-Z_:][a-zA-Z0-9_:]*$"},
    "label_name": {"type": "string", "pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"},
}
# Prometheus takes any alert name (it is the value of the label alertname; rule files by other
# people use names like `MysqlTooManyConnections(>80%)`): printable text, no edge blanks.
ALERT_NAME = {"type": "string", "maxLength": 200,
              "pattern": "^(?![\\s\\S]*[\\x00-\\x1f\\x7f])\\S(?:.*\\S)?$"}
TEXT = {"type": "string", "minLength": 1}
KEEP_FIRING_FOR = {"$ref": "#/$defs/duration",
                   "description": "Keep firing this long after the condition clears "
                                  "(Prometheus >= 2.42): for flapping thresholds."}

METRIC = {
    "type": "object", "additionalProperties": False,
    "required": ["name", "type", "help", "unit", "domain"],
    "properties": {
        "name": {"$ref": "#/$defs/metric_name"},
        "type": {"enum": ["gauge", "counter"]},
        "help": TEXT,
        "unit": {"enum": ["state", "seconds", "unix_seconds", "hours", "count", "ratio",
                          "bytes"]},
        "labels": {"type": "array", "items": {"$ref": "#/$defs/label_name"},
                   "uniqueItems": True},
        "domain": {"$ref": "#/$defs/domain"},
        "lint_exceptions": {
            "description": "promtool check metrics findings accepted for this metric, each "
                           "with a reason.",
            "type": "array",
            "items": {"type": "object", "additionalProperties": False,
                      "required": ["finding", "reason"],
                      "properties": {"finding": TEXT, "reason": TEXT}}},
    },
}


def _when(field: str, value: str | list[str], then: dict[str, Any]) -> dict[str, Any]:
    test = {"const": value} if isinstance(value, str) else {"enum": value}
    return {"if": {"properties": {field: test}, "required": [field]}, "then": then}


DOMAIN = {
    "type": "object", "required": ["kind"],
    "properties": {"kind": {"enum": ["enum", "unix_seconds", "count", "range"]}},
    "allOf": [
        _when("kind", "enum", {"properties": {"kind": True, "values": {
            "type": "object", "minProperties": 1,
            "propertyNames": {"pattern": "^-?[0-9]+$"},
            "additionalProperties": TEXT}}, "required": ["values"]}),
        _when("kind", "range", {"properties": {"kind": True, "min": {"type": "number"},
                                               "max": {"type": "number"},
                                               "integer": {"type": "boolean"}},
                                "anyOf": [{"required": ["min"]}, {"required": ["max"]}]}),
        _when("kind", ["unix_seconds", "count"], {"properties": {"kind": True}}),
    ],
    "unevaluatedProperties": False,
}


def _kind_then(kind: kinds.AlertKind | kinds.InvariantKind) -> dict[str, Any]:
    then: dict[str, Any] = {}
    if kind.required:
        then["required"] = list(kind.required)
    then["properties"] = dict(kind.properties)
    return then


def _invariant_schema() -> dict[str, Any]:
    found = kinds.invariant_kinds()
    return {
        "type": "object", "required": ["name", "kind", "description"],
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            "description": TEXT,
            "kind": {"enum": list(found)},
            "alert": {
                "description": "Render this invariant as an alert of the group (Prometheus "
                               "checks it continuously).",
                "type": "object", "additionalProperties": False,
                "required": ["name", "for", "severity", "summary"],
                "properties": {"name": ALERT_NAME, "for": {"$ref": "#/$defs/duration"},
                               "keep_firing_for": KEEP_FIRING_FOR, "severity": SEVERITY,
                               "summary": TEXT, "description": TEXT}},
        },
        "allOf": [_when("kind", name, _kind_then(kind)) for name, kind in found.items()],
        "unevaluatedProperties": False,
    }


_LABEL_SET = {"type": "object", "minProperties": 1,
              "propertyNames": {"pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"},
              "additionalProperties": {"type": "string", "minLength": 1}}
ROUTE = {
    "description": "Where the alert must go once it fires, checked by promcontract routes "
                   "through Alertmanager's own routing and a real Alertmanager. Without it, "
                   "the derived routing tests record where the config sends the alert today.",
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "not": {"required": ["receiver", "receivers"]},
    "properties": {
        "receiver": {"type": "string", "minLength": 1,
                     "description": "The one receiver it reaches."},
        "receivers": {"type": "array", "minItems": 1, "uniqueItems": True,
                      "items": {"type": "string", "minLength": 1},
                      "description": "The receivers it reaches, in order (routes with "
                                     "continue)."},
        "group_by": {"type": "array", "uniqueItems": True,
                     "items": {"$ref": "#/$defs/label_name"},
                     "description": "The labels its notifications are grouped by."},
        "inhibited_by": {
            "type": "array", "minItems": 1, "items": _LABEL_SET,
            "description": "Alerts that, firing beside it, inhibit it: each one's labels "
                           "(alertname at least); labels not given are copied from this "
                           "alert, so inhibit rules' equal labels agree."},
    },
}


def _alert_schema() -> dict[str, Any]:
    found = {name: kind for name, kind in kinds.alert_kinds().items() if kind.user_facing}
    return {
        "type": "object",
        "required": ["name", "kind", "for", "severity", "summary", "rationale"],
        "properties": {
            "name": ALERT_NAME,
            "kind": {"enum": list(found)},
            "for": {"$ref": "#/$defs/duration"},
            "keep_firing_for": KEEP_FIRING_FOR,
            "severity": SEVERITY,
            "summary": TEXT,
            "description": TEXT,
            "rationale": TEXT,
            "labels": {"type": "object",
                       "propertyNames": {"pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"},
                       "additionalProperties": {"type": "string"}},
            "route": ROUTE,
        },
        "allOf": [_when("kind", name, _kind_then(kind)) for name, kind in found.items()],
        "unevaluatedProperties": False,
    }


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://promcontract.invalid/schemas/metric-contract.schema.json",
        "title": "promcontract metric contract",
        "description": "One pushed job: the metrics it sends, the invariants its payload "
                       "satisfies, and the alerts that watch it. The single source of truth "
                       "from which rules, tests and checks are generated.",
        "type": "object", "additionalProperties": False,
        "required": ["contract", "group", "push", "metrics", "alerts"],
        "properties": {
            "contract": {"description": "Short identifier of the contract; names generated "
                                        "files (at most 63 characters, so every generated "
                                        "file name fits a file system's name limit).",
                         "type": "string", "maxLength": 63,
                         "pattern": "^[a-z0-9][a-z0-9_-]*$"},
            "group": {"description": "Name of the Prometheus rule group rendered from this "
                                     "contract.", "type": "string", "minLength": 1,
                      "pattern": "^[^\\n\\r]+$"},
            "description": {"type": "string"},
            "push": {
                "type": "object", "additionalProperties": False,
                "required": ["grouping_key", "cadence"],
                "properties": {
                    "grouping_key": {
                        "description": "Pushgateway grouping key; must contain job.",
                        "type": "object", "required": ["job"], "minProperties": 1,
                        "propertyNames": {"pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"},
                        "additionalProperties": {"type": "string", "minLength": 1}},
                    "cadence": {"$ref": "#/$defs/duration",
                                "description": "How often the job pushes."},
                }},
            "metrics": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/metric"}},
            "invariants": {"type": "array", "items": {"$ref": "#/$defs/invariant"}},
            "alerts": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/alert"}},
            "terraform_variables": {
                "description": "Terraform template variables the alerts read as ${name} (a "
                               "threshold the stack sets): rendered into the values template "
                               "as live interpolations, and replaced by the value given here "
                               "wherever Terraform does not run (standalone rule files, "
                               "tests, docs). Any other ${...} in the contract is text.",
                "type": "object",
                "propertyNames": {"pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"},
                "additionalProperties": {"type": ["string", "number"]}},
        },
        "$defs": {**DEFS, "metric": METRIC, "domain": DOMAIN,
                  "invariant": _invariant_schema(), "alert": _alert_schema()},
    }


@functools.lru_cache(maxsize=1)
def text() -> str:
    """The schema as the JSON file holds it (also what validation markers are keyed on)."""
    return json.dumps(schema(), indent=2) + "\n"


@functools.lru_cache(maxsize=1)
def validator():  # noqa: ANN201 - a jsonschema Validator
    # jsonschema takes ~0.1 s to import: only pay for it when a contract needs validating.
    import jsonschema

    cls = jsonschema.validators.validator_for(schema())
    return cls(schema())


def _leaf_errors(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    if error.context:
        out: list[jsonschema.ValidationError] = []
        for sub in error.context:
            out.extend(_leaf_errors(sub))
        return out
    return [error]


def describe(error: jsonschema.ValidationError) -> tuple[Path, str, bool]:
    """(path, message, points-at-key) for one schema error, phrased for a person."""
    path: Path = tuple(error.absolute_path)
    validator_name = error.validator
    if validator_name == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return path, f"missing required field '{missing}'", True
    if validator_name in ("additionalProperties", "unevaluatedProperties"):
        extra = re.findall(r"'([^']+)'", error.message)
        allowed = set()
        schema_part = error.schema if isinstance(error.schema, dict) else {}
        allowed |= set(schema_part.get("properties", {}))
        names = [e for e in extra if e not in allowed] or extra
        name = names[0] if names else "?"
        return path + (name,), f"unknown field '{name}'", True
    if validator_name == "type":
        expected = error.validator_value
        got = type(error.instance).__name__
        got = {"str": "string", "int": "integer", "float": "number", "dict": "mapping",
               "list": "list", "NoneType": "null", "bool": "boolean"}.get(got, got)
        return path, f"expected {expected}, got {got}", False
    if "propertyNames" in error.schema_path:
        return path + (error.instance,), f"{error.instance!r}: {error.message}", True
    if validator_name == "pattern":
        return path, f"{error.instance!r} does not match {error.validator_value}", False
    if validator_name in ("enum", "const"):
        options = error.validator_value if validator_name == "enum" else \
            [error.validator_value]
        shown = ", ".join(repr(o) for o in options)
        return path, f"{error.instance!r} is not one of {shown}", False
    if validator_name == "minItems":
        return path, f"needs at least {error.validator_value} item(s)", False
    if validator_name == "minLength":
        return path, "must not be empty", False
    if validator_name == "minProperties":
        return path, f"needs at least {error.validator_value} field(s)", False
    if validator_name == "not" and isinstance(error.validator_value, dict) and \
            set(error.validator_value) == {"required"}:
        both = " and ".join(repr(k) for k in error.validator_value["required"])
        return path, f"give {both.replace(' and ', ' or ')}, not both", False
    message = error.message
    if len(message) > 160:
        message = message[:157] + "..."
    return path, message, False


def errors(data: Any) -> list[jsonschema.ValidationError]:
    """The leaf errors of ``data`` against the schema, without the noise a failed if/then
    makes (its properties then count as "unevaluated", which would call every kind-specific
    field unknown)."""
    found = []
    for error in validator().iter_errors(data):
        found.extend(_leaf_errors(error))
    other_paths = [tuple(e.absolute_path) for e in found
                   if e.validator != "unevaluatedProperties"]
    return [e for e in found if e.validator != "unevaluatedProperties"
            or not any(p[:len(e.absolute_path)] == tuple(e.absolute_path)
                       for p in other_paths)]


def main(argv: list[str]) -> int:
    """``python -m promcontract.contract.schema [--write FILE]``: print or write the schema."""
    if len(argv) == 2 and argv[0] == "--write":

        write_atomic(argv[1], text())
        return 0
    sys.stdout.write(text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
