"""Checks of a contract beyond YAML: the JSON Schema, then the semantic checks the schema
cannot express (references, durations, domains, unique names, labels that annotations use).
The kinds check their own fields (``AlertKind.check``); this module checks what every contract
has. Every problem is located at its field: ``file:line:col: message (field.path)``."""

from __future__ import annotations

import math
import re
from typing import Any

from promcontract import kinds
from promcontract.contract import schema
from promcontract.contract.build import build_alert, build_metric
from promcontract.durations import parse_duration
from promcontract.kinds.base import CheckContext
from promcontract.kinds.series import SCENARIO_LABEL
from promcontract.model.contract import Contract
from promcontract.model.yamlsource import Path, SourceMap, format_path
from promcontract.problems import Problem

# `$labels.x` inside a Prometheus template; `index $labels "x"` too.
_LABEL_REF_RE = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)|index\s+\$labels\s+\"([^\"]+)\"")

# Derived tests evaluate every minute (promtool evaluates every rule at every step), so a for:
# costs one evaluation per minute: 1d is 1,440 steps per scenario. Longer is refused rather
# than derived slowly (10y would be 5 million steps).
MAX_DERIVED_FOR = 86400.0


def schema_problems(data: Any, smap: SourceMap) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for error in schema.errors(data):
        path, message, at_key = schema.describe(error)
        problem = Problem(smap.locate(path, key=at_key), message, format_path(path))
        if str(problem) not in seen:
            seen.add(str(problem))
            problems.append(problem)
    problems.sort(key=lambda p: (p.location.line or 0, p.location.col or 0))
    return problems


def check_for(text: str, path: Path, add, derived: bool = True,  # noqa: ANN001
              name: str = "for") -> None:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        add(path, str(exc))
        return
    if derived and seconds > MAX_DERIVED_FOR:
        add(path, f"{name}: {text} is longer than derived tests can cover (at most 1d: they "
            "evaluate every 1m, one promtool evaluation per minute); use kind expr with "
            "hand-written cases, or a shorter for: over a longer expression window")


RESERVED_SCENARIO = (f"label name '{SCENARIO_LABEL}' is reserved (the derived tests tell "
                     "scenarios apart by it)")


def semantic_problems(data: dict[str, Any], smap: SourceMap) -> list[Problem]:
    """Checks the schema cannot express: references, durations, domains, unique names."""
    problems: list[Problem] = []

    def add(path: Path, message: str, *, key: bool = False) -> None:
        problems.append(Problem(smap.locate(path, key=key), message, format_path(path)))

    try:
        parse_duration(data["push"]["cadence"])
    except ValueError as exc:
        add(("push", "cadence"), str(exc))
    _check_group_name(data["group"], add)
    if SCENARIO_LABEL in data["push"]["grouping_key"]:
        add(("push", "grouping_key", SCENARIO_LABEL), RESERVED_SCENARIO, key=True)

    metrics = _check_metrics(data, add)
    inv_names: set[str] = set()
    alert_names: dict[str, int] = {}
    for index, inv in enumerate(data.get("invariants", [])):
        kind = kinds.invariant_kind(inv["kind"])
        kind.check(inv, CheckContext(data, metrics, ("invariants", index), add))
        if inv["name"] in inv_names:
            add(("invariants", index, "name"), f"duplicate invariant '{inv['name']}'")
        inv_names.add(inv["name"])
        if "alert" in inv:
            if not kind.alertable:
                alertable = [k for k, v in kinds.invariant_kinds().items() if v.alertable]
                add(("invariants", index, "alert"), f"invariant kind {inv['kind']} cannot be "
                    f"rendered as an alert (supported: {', '.join(alertable)})", key=True)
            check_for(inv["alert"]["for"], ("invariants", index, "alert", "for"), add)
            if "keep_firing_for" in inv["alert"]:
                check_for(inv["alert"]["keep_firing_for"],
                          ("invariants", index, "alert", "keep_firing_for"), add,
                          name="keep_firing_for")
            alert_names[inv["alert"]["name"]] = -1 - index

    for index, alert in enumerate(data["alerts"]):
        base: Path = ("alerts", index)
        name = alert["name"]
        if name in alert_names:
            other = alert_names[name]
            where = f"alerts[{other}]" if other >= 0 else f"invariants[{-1 - other}].alert"
            add(base + ("name",), f"duplicate alert '{name}' (also {where})")
        else:
            alert_names[name] = index
        kind = kinds.alert_kind(alert["kind"])
        check_for(alert["for"], base + ("for",), add, derived=kind.derivable)
        if "keep_firing_for" in alert:
            check_for(alert["keep_firing_for"], base + ("keep_firing_for",), add,
                      derived=kind.derivable, name="keep_firing_for")
        kind.check(alert, CheckContext(data, metrics, base, add))
        for label in alert.get("labels", {}):
            if label in ("severity",):
                add(base + ("labels", label), "set severity with the severity field", key=True)
        try:
            reads = kind.metrics(kind.parse(alert))
        except (KeyError, ValueError, TypeError):
            continue  # a value the kind's check has reported
        if all(name in metrics for name in reads):
            _check_annotation_labels(alert, data, base, add)
    problems.sort(key=lambda p: (p.location.line or 0, p.location.col or 0))
    return problems


def _check_group_name(group: str, add) -> None:  # noqa: ANN001
    """The group name is written into marker comments and found again by them: spaces at
    its ends would not survive the marker line's reading, and marker text inside it would make
    the template's markers ambiguous."""
    if group != group.strip():
        add(("group",), f"group name {group!r} starts or ends with whitespace; the template's "
            "marker lines could not find it again")
    if ("promcontract" in group.lower() or group.lstrip().startswith("#")
            or "[contract:" in group):
        add(("group",), f"group name {group!r} holds marker text ('promcontract', '[contract:' or "
            "a leading '#'); it would be read as a marker in the template")
    if any(ord(ch) < 0x20 or ch in "\x7f\x85\u2028\u2029" for ch in group):
        add(("group",), f"group name {group!r} holds a control character or line break")


def _check_metrics(data: dict[str, Any], add) -> dict[str, dict[str, Any]]:  # noqa: ANN001
    metrics: dict[str, dict[str, Any]] = {}
    for index, metric in enumerate(data["metrics"]):
        name = metric["name"]
        if name in metrics:
            add(("metrics", index, "name"), f"duplicate metric '{name}'")
            continue
        metrics[name] = metric
        for label_index, label in enumerate(metric.get("labels", [])):
            if label.startswith("__"):
                add(("metrics", index, "labels", label_index),
                    f"label name '{label}' is reserved (leading __)")
            if label == SCENARIO_LABEL:
                add(("metrics", index, "labels", label_index), RESERVED_SCENARIO)
            if label in data["push"]["grouping_key"] or label in ("job", "instance"):
                add(("metrics", index, "labels", label_index),
                    f"label '{label}' is set by the Pushgateway grouping key")
        domain = metric["domain"]
        if domain["kind"] == "enum":
            for key in domain["values"]:
                if not isinstance(key, int) or isinstance(key, bool):
                    add(("metrics", index, "domain", "values", key),
                        f"enum value {key!r} must be an integer", key=True)
        if domain["kind"] == "range":
            lo, hi = domain.get("min"), domain.get("max")
            if lo is not None and hi is not None and lo > hi:
                add(("metrics", index, "domain"), f"empty range: min {lo} > max {hi}")
            for bound in ("min", "max"):
                if bound in domain and not math.isfinite(float(domain[bound])):
                    add(("metrics", index, "domain", bound), f"{bound} must be finite")
    return metrics


def _check_annotation_labels(alert: dict[str, Any], data: dict[str, Any], base: Path,
                             add) -> None:  # noqa: ANN001
    """Labels used in annotations (`$labels.x`) must survive the expression."""
    kept = _kept_labels(alert, data)
    for field_name in ("summary", "description"):
        for match in _LABEL_REF_RE.finditer(alert.get(field_name, "")):
            label = match.group(1) or match.group(2)
            if kept is None:
                add(base + (field_name,), f"annotation uses $labels.{label} but the labels "
                    "kept by this raw expression are unknown: declare output_labels")
                break
            if label not in kept:
                shown = ", ".join(sorted(kept)) or "none"
                add(base + (field_name,), f"annotation uses $labels.{label} but the "
                    f"expression of {alert['name']} does not keep it (keeps: {shown})")


def _kept_labels(alert: dict[str, Any], data: dict[str, Any]) -> frozenset[str] | None:
    """Labels kept by one alert's expression, from a minimal model of it (None: unknown)."""

    try:
        contract = Contract(
            name=data["contract"], group=data["group"], source="",
            grouping_key=tuple(data["push"]["grouping_key"].items()), cadence="0s",
            cadence_seconds=0, metrics=tuple(build_metric(m) for m in data["metrics"]),
            alerts=())
        model = build_alert(alert, None)
        return kinds.of(model).output_labels(model, contract)
    except (KeyError, ValueError):
        return None
