"""Build the frozen model from contract data that passed validation (load) or from a fragment
of it (validate builds one alert to ask its kind which labels the expression keeps)."""

from __future__ import annotations

from typing import Any

from promcontract import kinds
from promcontract.durations import parse_duration
from promcontract.kinds.base import domain_of
from promcontract.kinds.invariant import InvariantAlertSpec
from promcontract.model.contract import (
    Alert,
    Contract,
    Invariant,
    LintException,
    Metric,
    Route,
)
from promcontract.model.yamlsource import SourceMap
from promcontract.numbers import format_number


def build_metric(raw: dict[str, Any]) -> Metric:
    return Metric(
        name=raw["name"], type=raw["type"], help=raw["help"], unit=raw["unit"],
        labels=tuple(raw.get("labels", [])), domain=domain_of(raw),
        lint_exceptions=tuple(LintException(e["finding"], e["reason"])
                              for e in raw.get("lint_exceptions", [])),
    )


def build_alert(raw: dict[str, Any], smap: SourceMap | None, index: int = 0) -> Alert:
    return Alert(
        name=raw["name"], kind=raw["kind"], for_=raw["for"],
        for_seconds=parse_duration(raw["for"]), severity=raw["severity"],
        summary=raw["summary"], rationale=raw["rationale"],
        spec=kinds.alert_kind(raw["kind"]).parse(raw),
        description=raw.get("description", ""),
        keep_firing_for=raw.get("keep_firing_for", ""),
        keep_firing_seconds=parse_duration(raw.get("keep_firing_for", "0s")),
        labels=tuple(sorted(raw.get("labels", {}).items())),
        absent_summary=raw.get("absent_summary", ""),
        absent_description=raw.get("absent_description", ""),
        location=smap.locate(("alerts", index)) if smap else None,
        route=build_route(raw["route"]) if "route" in raw else None,
    )


def build_route(raw: dict[str, Any]) -> Route:
    receivers = raw.get("receivers") or ([raw["receiver"]] if "receiver" in raw else [])
    return Route(tuple(receivers),
                 tuple(raw["group_by"]) if "group_by" in raw else None,
                 tuple(tuple(sorted(labels.items())) for labels in raw.get("inhibited_by", ())))


def _invariant_alert(raw: dict[str, Any], inv: Invariant, smap: SourceMap, index: int
                     ) -> Alert:
    spec = raw["alert"]
    return Alert(
        name=spec["name"], kind="invariant", for_=spec["for"],
        for_seconds=parse_duration(spec["for"]), severity=spec["severity"],
        summary=spec["summary"], description=spec.get("description", ""),
        keep_firing_for=spec.get("keep_firing_for", ""),
        keep_firing_seconds=parse_duration(spec.get("keep_firing_for", "0s")),
        rationale=f"Invariant {inv.name}: {' '.join(inv.description.split())}",
        spec=InvariantAlertSpec(inv), location=smap.locate(("invariants", index, "alert")))


def build(data: dict[str, Any], file: str, smap: SourceMap) -> Contract:
    invariants = tuple(
        Invariant(name=raw["name"], kind=raw["kind"], description=raw["description"],
                  spec=kinds.invariant_kind(raw["kind"]).parse(raw))
        for raw in data.get("invariants", []))
    invariant_alerts = tuple(
        _invariant_alert(raw, inv, smap, index)
        for index, (raw, inv) in enumerate(zip(data.get("invariants", []), invariants,
                                               strict=True))
        if "alert" in raw)
    return Contract(
        name=data["contract"], group=data["group"], source=file,
        grouping_key=tuple(data["push"]["grouping_key"].items()),
        cadence=data["push"]["cadence"], cadence_seconds=parse_duration(data["push"]["cadence"]),
        metrics=tuple(build_metric(m) for m in data["metrics"]),
        alerts=tuple(build_alert(a, smap, i) for i, a in enumerate(data["alerts"]))
        + invariant_alerts,
        invariants=invariants, description=data.get("description", ""),
        terraform_variables=tuple((str(k), format_value(v)) for k, v in
                                  (data.get("terraform_variables") or {}).items()),
    )


def format_value(value: Any) -> str:  # noqa: ANN401 - a YAML scalar
    return format_number(value) if isinstance(value, (int, float)) and \
        not isinstance(value, bool) else str(value)
