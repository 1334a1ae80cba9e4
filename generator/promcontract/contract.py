"""Load a contract file: YAML (located) -> JSON Schema -> semantic checks -> frozen model.

Every problem is reported as ``file:line:col: message (field.path)``; the model is only built
when there are none, so generators never see an invalid contract.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from typing import TYPE_CHECKING, Any

from promcontract import __version__, promql
from promcontract.durations import parse_duration
from promcontract.errors import Location, Problem, UserError
from promcontract.model import Alert, Contract, Domain, Invariant, LintException, Metric

if TYPE_CHECKING:
    import jsonschema

from promcontract.yamlsource import Path, SourceMap, format_path, load_yaml_text, read_text

METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# `$labels.x` and `$labels.x` inside a Prometheus template; `index $labels "x"` too.
_LABEL_REF_RE = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)|index\s+\$labels\s+\"([^\"]+)\"")


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    # Package data next to this module (plain open: importlib.resources costs ~12 ms to import)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metric-contract.schema.json")
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def schema() -> dict[str, Any]:
    return json.loads(_schema_text())


@functools.lru_cache(maxsize=1)
def _validator():  # noqa: ANN202 - a jsonschema Validator
    # jsonschema takes ~0.1 s to import: only pay for it when a contract needs validating.
    import jsonschema

    cls = jsonschema.validators.validator_for(schema())
    return cls(schema())


def _cache_dir() -> str | None:
    """Where markers of already-validated contract texts live (None: caching off)."""
    explicit = os.environ.get("PROMCONTRACT_CACHE_DIR")
    if explicit is not None:
        return explicit or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "promcontract")


def _marker(text: str) -> str | None:
    """A marker file named by the hash of schema, version and contract text: its presence
    means this exact text passed the schema before. It holds nothing that is read back."""
    directory = _cache_dir()
    if directory is None:
        return None
    digest = hashlib.sha256()
    for part in (__version__, _schema_text(), text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return os.path.join(directory, "schema-ok-" + digest.hexdigest())


def _remember(marker: str | None) -> None:
    if marker is None:
        return
    try:
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        with open(marker, "a", encoding="utf-8"):
            pass
    except OSError:
        pass  # a cache that cannot be written only costs time


def load_contract(path: str) -> Contract:
    """Read, validate and build the contract at ``path``; ``UserError`` on any defect."""
    text = read_text(path)
    return parse_contract(text, path)


def parse_contract(text: str, file: str) -> Contract:
    if text.startswith("\ufeff"):
        text = text[1:]
    data, smap = load_yaml_text(text, file)
    marker = _marker(text)
    if marker is None or not os.path.exists(marker):
        problems = schema_problems(data, smap)
        if problems:
            raise UserError(problems)
        _remember(marker)
    problems = semantic_problems(data, smap)
    if problems:
        raise UserError(problems)
    return build(data, file, smap)


# --- schema -----------------------------------------------------------------------------

def _leaf_errors(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    if error.context:
        out: list[jsonschema.ValidationError] = []
        for sub in error.context:
            out.extend(_leaf_errors(sub))
        return out
    return [error]


def _describe(error: jsonschema.ValidationError) -> tuple[Path, str, bool]:
    """(path, message, points-at-key) for one schema error, phrased for a person."""
    path: Path = tuple(error.absolute_path)
    validator = error.validator
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return path, f"missing required field '{missing}'", True
    if validator in ("additionalProperties", "unevaluatedProperties"):
        extra = re.findall(r"'([^']+)'", error.message)
        allowed = set()
        schema_part = error.schema if isinstance(error.schema, dict) else {}
        allowed |= set(schema_part.get("properties", {}))
        names = [e for e in extra if e not in allowed] or extra
        name = names[0] if names else "?"
        return path + (name,), f"unknown field '{name}'", True
    if validator == "type":
        expected = error.validator_value
        got = type(error.instance).__name__
        got = {"str": "string", "int": "integer", "float": "number", "dict": "mapping",
               "list": "list", "NoneType": "null", "bool": "boolean"}.get(got, got)
        return path, f"expected {expected}, got {got}", False
    if "propertyNames" in error.schema_path:
        return path + (error.instance,), f"{error.instance!r}: {error.message}", True
    if validator == "pattern":
        return path, f"{error.instance!r} does not match {error.validator_value}", False
    if validator in ("enum", "const"):
        options = error.validator_value if validator == "enum" else [error.validator_value]
        shown = ", ".join(repr(o) for o in options)
        return path, f"{error.instance!r} is not one of {shown}", False
    if validator == "minItems":
        return path, f"needs at least {error.validator_value} item(s)", False
    if validator == "minLength":
        return path, "must not be empty", False
    message = error.message
    if len(message) > 160:
        message = message[:157] + "..."
    return path, message, False


def schema_problems(data: Any, smap: SourceMap) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    errors = []
    for error in _validator().iter_errors(data):
        errors.extend(_leaf_errors(error))
    # A failed if/then leaves its properties "unevaluated", so unevaluatedProperties would
    # also call every kind-specific field unknown: report the real error alone.
    other_paths = [tuple(e.absolute_path) for e in errors
                   if e.validator != "unevaluatedProperties"]
    errors = [e for e in errors if e.validator != "unevaluatedProperties"
              or not any(p[:len(e.absolute_path)] == tuple(e.absolute_path)
                         for p in other_paths)]
    for error in errors:
        path, message, at_key = _describe(error)
        problem = Problem(smap.locate(path, key=at_key), message, format_path(path))
        if str(problem) not in seen:
            seen.add(str(problem))
            problems.append(problem)
    problems.sort(key=lambda p: (p.location.line or 0, p.location.col or 0))
    return problems


# --- semantics ----------------------------------------------------------------------------

def semantic_problems(data: dict[str, Any], smap: SourceMap) -> list[Problem]:
    """Checks the schema cannot express: references, durations, domains, unique names."""
    problems: list[Problem] = []

    def add(path: Path, message: str, *, key: bool = False) -> None:
        problems.append(Problem(smap.locate(path, key=key), message, format_path(path)))

    try:
        parse_duration(data["push"]["cadence"])
    except ValueError as exc:
        add(("push", "cadence"), str(exc))

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

    def need_metric(path: Path, name: str) -> dict[str, Any] | None:
        if name not in metrics:
            add(path, f"unknown metric '{name}' (not declared under metrics)")
            return None
        return metrics[name]

    for index, inv in enumerate(data.get("invariants", [])):
        for field_name in ("count", "state_metric", "series", "metric", "since", "reference",
                           "with"):
            if field_name in inv:
                need_metric(("invariants", index, field_name), inv[field_name])
        for sub, name in enumerate(inv.get("counts", [])):
            need_metric(("invariants", index, "counts", sub), name)
        if "unit" in inv:
            try:
                if parse_duration(inv["unit"]) <= 0:
                    add(("invariants", index, "unit"), "unit must be a positive duration")
            except ValueError as exc:
                add(("invariants", index, "unit"), str(exc))
    inv_names: set[str] = set()
    alert_names: dict[str, int] = {}
    for index, inv in enumerate(data.get("invariants", [])):
        if inv["name"] in inv_names:
            add(("invariants", index, "name"), f"duplicate invariant '{inv['name']}'")
        inv_names.add(inv["name"])
        if "alert" in inv:
            if inv["kind"] not in promql.INVARIANT_ALERT_KINDS:
                add(("invariants", index, "alert"), f"invariant kind {inv['kind']} cannot be "
                    f"rendered as an alert (supported: "
                    f"{', '.join(promql.INVARIANT_ALERT_KINDS)})", key=True)
            _check_for(inv["alert"]["for"], ("invariants", index, "alert", "for"), add)
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
        kind = alert["kind"]
        _check_for(alert["for"], base + ("for",), add, derived=kind != "expr")
        metric = need_metric(base + ("metric",), alert["metric"]) if "metric" in alert else None
        if kind == "expr":
            for sub, mname in enumerate(alert.get("metrics", [])):
                need_metric(base + ("metrics", sub), mname)
        if kind in ("heartbeat_stale", "age_above"):
            try:
                seconds = parse_duration(alert["threshold"])
                if seconds <= 0:
                    add(base + ("threshold",), "threshold must be a positive duration")
            except ValueError as exc:
                add(base + ("threshold",), str(exc))
            if metric is not None and metric["domain"]["kind"] != "unix_seconds":
                add(base + ("metric",), f"{kind} needs a unix_seconds metric; "
                    f"'{metric['name']}' has domain {metric['domain']['kind']}")
        if kind == "value_above" and not _pinnable(alert["threshold"]):
            add(base + ("threshold",), f"threshold {alert['threshold']} cannot be pinned by any "
                "test: beyond 2^53 a float64 cannot tell it from its neighbours (and it must "
                "be finite)")
        elif kind == "value_above" and metric is not None:
            dom = _domain(metric["domain"])
            threshold = float(alert["threshold"])
            comparison = alert.get("comparison", ">")
            if comparison == ">" and not (dom.low <= threshold < dom.high):
                add(base + ("threshold",), f"threshold {alert['threshold']} with '>' is outside "
                    f"the domain of {metric['name']} ({dom.describe()}): the alert would "
                    + ("always fire" if threshold < dom.low else "never fire"))
            if comparison == ">=" and not (dom.low < threshold <= dom.high):
                add(base + ("threshold",), f"threshold {alert['threshold']} with '>=' is outside "
                    f"the domain of {metric['name']} ({dom.describe()}): the alert would "
                    + ("always fire" if threshold <= dom.low else "never fire"))
        for label in alert.get("labels", {}):
            if label in ("severity",):
                add(base + ("labels", label), "set severity with the severity field", key=True)
        # Labels used in annotations must survive the expression.
        if metric is not None or kind == "expr":
            kept = _kept_labels(alert, data)
            for field_name in ("summary", "description"):
                text = alert.get(field_name, "")
                for match in _LABEL_REF_RE.finditer(text):
                    label = match.group(1) or match.group(2)
                    if kept is None:
                        add(base + (field_name,), f"annotation uses $labels.{label} but the "
                            "labels kept by this raw expression are unknown: declare output_labels")
                        break
                    if label not in kept:
                        shown = ", ".join(sorted(kept)) or "none"
                        add(base + (field_name,), f"annotation uses $labels.{label} but the "
                            f"expression of {name} does not keep it (keeps: {shown})")
    problems.sort(key=lambda p: (p.location.line or 0, p.location.col or 0))
    return problems


# Derived tests evaluate every minute (promtool evaluates every rule at every step), so a for:
# costs one evaluation per minute: 1d is 1,440 steps per scenario. Longer is refused rather
# than derived slowly (10y would be 5 million steps).
MAX_DERIVED_FOR = 86400.0


def _check_for(text: str, path: Path, add, derived: bool = True) -> None:  # noqa: ANN001
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        add(path, str(exc))
        return
    if derived and seconds > MAX_DERIVED_FOR:
        add(path, f"for: {text} is longer than derived tests can cover (at most 1d: they "
            "evaluate every 1m, one promtool evaluation per minute); use kind expr with "
            "hand-written cases, or a shorter for: over a longer expression window")


def _pinnable(value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and abs(number) < 2.0 ** 53


def _kept_labels(alert: dict[str, Any], data: dict[str, Any]) -> frozenset[str] | None:
    """Labels kept by one alert's expression, from a minimal model of it (None: unknown)."""
    try:
        metrics = tuple(_metric(m) for m in data["metrics"])
        contract = Contract(
            name=data["contract"], group=data["group"], source="",
            grouping_key=tuple(data["push"]["grouping_key"].items()), cadence="0s",
            cadence_seconds=0, metrics=metrics, alerts=())
        return promql.output_labels(_alert(alert, None), contract)
    except (KeyError, ValueError):
        return None


# --- model building ---------------------------------------------------------------------

def _domain(raw: dict[str, Any]) -> Domain:
    kind = raw["kind"]
    if kind == "enum":
        states = tuple(sorted((int(k), str(v)) for k, v in raw["values"].items()))
        return Domain(kind, states=states)
    if kind == "range":
        return Domain(kind, min=raw.get("min"), max=raw.get("max"),
                      integer=bool(raw.get("integer", False)))
    return Domain(kind)


def _metric(raw: dict[str, Any]) -> Metric:
    return Metric(
        name=raw["name"], type=raw["type"], help=raw["help"], unit=raw["unit"],
        labels=tuple(raw.get("labels", [])), domain=_domain(raw["domain"]),
        lint_exceptions=tuple(LintException(e["finding"], e["reason"])
                              for e in raw.get("lint_exceptions", [])),
    )


def _alert(raw: dict[str, Any], smap: SourceMap | None, index: int = 0) -> Alert:
    kind = raw["kind"]
    threshold: float | None = None
    threshold_text = ""
    if "threshold" in raw:
        threshold_text = str(raw["threshold"])
        if kind in ("heartbeat_stale", "age_above"):
            threshold = parse_duration(raw["threshold"])
        else:
            threshold = float(raw["threshold"])
            if math.isnan(threshold):
                raise ValueError("threshold is NaN")
    return Alert(
        name=raw["name"], kind=kind, for_=raw["for"], for_seconds=parse_duration(raw["for"]),
        severity=raw["severity"], summary=raw["summary"], rationale=raw["rationale"],
        description=raw.get("description", ""), metric=raw.get("metric"),
        threshold=threshold, threshold_text=threshold_text,
        comparison=raw.get("comparison", ">"),
        when_absent=raw.get("when_absent", "silent"), expr=raw.get("expr"),
        output_labels=tuple(raw["output_labels"]) if "output_labels" in raw else None,
        labels=tuple(sorted(raw.get("labels", {}).items())),
        cases=tuple(json.dumps(case, sort_keys=False) for case in raw.get("cases", [])),
        location=smap.locate(("alerts", index)) if smap else None,
    )


def _invariant_alert(raw: dict[str, Any], inv: Invariant, smap: SourceMap, index: int
                     ) -> Alert:
    spec = raw["alert"]
    return Alert(
        name=spec["name"], kind="invariant", for_=spec["for"],
        for_seconds=parse_duration(spec["for"]), severity=spec["severity"],
        summary=spec["summary"], description=spec.get("description", ""),
        rationale=f"Invariant {inv.name}: {' '.join(inv.description.split())}",
        invariant=inv, location=smap.locate(("invariants", index, "alert")))


def build(data: dict[str, Any], file: str, smap: SourceMap) -> Contract:
    invariants = tuple(
        Invariant(name=raw["name"], kind=raw["kind"], description=raw["description"],
                  params=tuple((k, tuple(v) if isinstance(v, list) else v)
                               for k, v in sorted(raw.items())
                               if k not in ("name", "kind", "description", "alert")))
        for raw in data.get("invariants", [])
    )
    invariant_alerts = tuple(
        _invariant_alert(raw, inv, smap, index)
        for index, (raw, inv) in enumerate(zip(data.get("invariants", []), invariants,
                                               strict=True))
        if "alert" in raw)
    return Contract(
        name=data["contract"], group=data["group"], source=file,
        grouping_key=tuple(data["push"]["grouping_key"].items()),
        cadence=data["push"]["cadence"], cadence_seconds=parse_duration(data["push"]["cadence"]),
        metrics=tuple(_metric(m) for m in data["metrics"]),
        alerts=tuple(_alert(a, smap, i) for i, a in enumerate(data["alerts"]))
        + invariant_alerts,
        invariants=invariants, description=data.get("description", ""),
    )


def load_contracts(paths: list[str]) -> list[Contract]:
    """Load several contracts, reporting every file's problems before giving up."""
    contracts: list[Contract] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            contracts.append(load_contract(path))
        except UserError as exc:
            problems.extend(exc.problems)
    if problems:
        raise UserError(problems)
    groups: dict[str, str] = {}
    metric_owner: dict[str, str] = {}
    for contract in contracts:
        if contract.group in groups:
            problems.append(Problem(
                Location(contract.source, 1, 1), f"group '{contract.group}' is also rendered by "
                f"{groups[contract.group]}", "group"))
        groups.setdefault(contract.group, contract.source)
        for metric in contract.metrics:
            if metric.name in metric_owner:
                problems.append(Problem(
                    Location(contract.source, 1, 1), f"metric '{metric.name}' is also declared by "
                    f"{metric_owner[metric.name]}", "metrics"))
            metric_owner.setdefault(metric.name, contract.source)
    if problems:
        raise UserError(problems)
    return contracts
