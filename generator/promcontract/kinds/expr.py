"""expr: a raw PromQL expression (the escape hatch). Not derivable: its meaning is not modelled,
so its tests are the hand-written promtool test groups under ``cases:``, run with the derived
ones; it is reported "not derivable" by name, never skipped silently."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from promcontract.kinds import base
from promcontract.kinds.series import NotDerivable, Scenario, Series
from promcontract.model.contract import Alert, Contract

_CASE_SCHEMA = {
    "description": "Hand-written promtool test groups for a raw expression (it cannot be "
                   "derived); run with the derived tests.",
    "type": "array", "minItems": 1,
    "items": {
        "type": "object", "additionalProperties": False,
        "required": ["input_series", "alert_rule_test"],
        "properties": {
            "interval": {"$ref": "#/$defs/duration"},
            "input_series": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["series", "values"],
                "properties": {"series": {"type": "string"}, "values": {"type": "string"}}}},
            "alert_rule_test": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["eval_time"],
                "properties": {
                    "eval_time": {"$ref": "#/$defs/duration"},
                    "alertname": {"type": "string"},
                    "exp_alerts": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False,
                        "properties": {
                            "exp_labels": {"type": "object",
                                           "additionalProperties": {"type": "string"}},
                            "exp_annotations": {"type": "object",
                                                "additionalProperties": {"type": "string"}},
                        }}},
                }}},
        }},
}


@dataclass(frozen=True)
class ExprSpec:
    expr: str
    output_labels: tuple[str, ...] | None  # labels the expression keeps (None: unknown)
    metrics: tuple[str, ...]
    cases: tuple[str, ...]  # hand-written promtool test groups, frozen as JSON


class Expr(base.AlertKind):
    name = "expr"
    doc = "a raw PromQL expression (escape hatch; tests are hand-written `cases:`)"
    fields_doc = '`expr`, `output_labels`, `metrics`, `cases`'
    promql_doc = 'the raw expression (escape hatch)'
    properties = {"expr": {"type": "string", "minLength": 1},
                  "metrics": {"type": "array", "items": base.METRIC_NAME},
                  "output_labels": {"type": "array", "items": {"$ref": "#/$defs/label_name"}},
                  "cases": _CASE_SCHEMA}
    required = ("expr",)
    derivable = False

    example = {
        "metrics": [{"name": "example_up", "type": "gauge", "help": "1 while serving.",
                     "unit": "state", "domain": {"kind": "enum", "values": {0: "down", 1: "up"}}}],
        "alert": {"name": "ExampleDown", "kind": "expr", "metrics": ["example_up"],
                  "expr": 'min by (job) (example_up{job="example"}) == 0', "for": "5m",
                  "output_labels": ["job"]}}

    def parse(self, raw: dict[str, Any]) -> ExprSpec:
        return ExprSpec(raw["expr"],
                        tuple(raw["output_labels"]) if "output_labels" in raw else None,
                        tuple(raw.get("metrics", [])),
                        tuple(json.dumps(case, sort_keys=False) for case in raw.get("cases", [])))

    def check(self, raw: dict[str, Any], ctx: base.CheckContext) -> None:
        for index, name in enumerate(raw.get("metrics", [])):
            ctx.metric(("metrics", index), name)

    def metrics(self, spec: ExprSpec) -> tuple[str, ...]:
        return spec.metrics

    def expr(self, alert: Alert, contract: Contract) -> str:
        return alert.spec.expr

    def output_labels(self, alert: Alert, contract: Contract) -> frozenset[str] | None:
        labels = alert.spec.output_labels
        return None if labels is None else frozenset(labels)

    def condition(self, alert: Alert, contract: Contract, series: tuple[Series, ...]
                  ) -> base.Condition:
        raise NotDerivable(f"alert {alert.name}: kind expr (raw expression) is not derivable")

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        raise NotDerivable(f"alert {alert.name}: kind expr (raw expression) is not derivable; "
                           "hand-written cases in the contract are run instead")


KIND = Expr()
