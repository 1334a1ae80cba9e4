"""What an alert kind and an invariant kind are: the interface each kinds/ module implements.

A kind owns everything its meaning touches: its schema fragment, its semantic checks, its
PromQL (expression and the labels the result keeps), its oracle condition (what the
expression returns at an evaluation, computed from the series without the PromQL text, so
the oracle still checks the renderer), its derived scenarios, its mutation unit, its payload
check (invariants) and whether its scenarios can share a test group told apart by a label.
The engines (render, oracle, derive, mutate, verify) look kinds up in the registry
(``promcontract.kinds``) and hold no branch on a kind's name.
"""

from __future__ import annotations

import decimal
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from promcontract.durations import parse_duration
from promcontract.kinds.exprs import seconds_literal, selector  # noqa: F401 - for the kinds
from promcontract.kinds.series import (
    LOOKBACK,
    STALE,
    STEP,
    Scenario,
    Series,
    base_labels,
    instants,
    matches,
    steps,
)
from promcontract.kinds.shapes import Fields, Refused, Shape
from promcontract.labels import Labels
from promcontract.model.contract import GATEWAY_LABELS, Alert, Contract, Domain, Invariant

Condition = Callable[[int], dict[Labels, float]]
Path = tuple[str | int, ...]

# The label the absent branch of an expression adds (`or label_replace(absent(...), ...)`), so
# that annotations can say "never reported" instead of "has not reported for 1s" there.
ABSENT_LABEL = "absent"

METRIC_NAME = {"$ref": "#/$defs/metric_name"}
DURATION = {"$ref": "#/$defs/duration"}
NUMBER = {"type": "number"}
WHEN_ABSENT = {"enum": ["fire", "silent"],
               "description": "fire: the alert also fires when the metric has no series at "
                              "all (an absent branch); silent (default): it does not"}
# The fields of kinds with an absent branch: when_absent, and what the annotations say then.
ABSENT_FIELDS = {
    "when_absent": WHEN_ABSENT,
    "absent_summary": {"type": "string", "minLength": 1,
                       "description": "The summary when the metric has no series at all "
                                      "(default: says so, naming the metric and job)"},
    "absent_description": {"type": "string", "minLength": 1,
                           "description": "The description then (default: absent_summary)"},
}


@dataclass
class CheckContext:
    """What a kind's semantic checks see: the raw contract (already schema-valid), its
    declared metrics by name, and where to report."""

    data: dict[str, Any]
    metrics: dict[str, dict[str, Any]]
    base: Path  # ("alerts", i) or ("invariants", i)
    report: Callable[..., None]  # report(path, message, key=False)

    def add(self, field_path: Path | str, message: str, *, key: bool = False) -> None:
        path = (field_path,) if isinstance(field_path, str) else field_path
        self.report(self.base + tuple(path), message, key=key)

    def metric(self, field_path: Path | str, name: str) -> dict[str, Any] | None:
        """The declared metric ``name``, or a problem at ``field_path`` when there is none."""
        if name not in self.metrics:
            self.add(field_path, f"unknown metric '{name}' (not declared under metrics)")
            return None
        return self.metrics[name]


# Property-test scenarios are cut to for: plus this many steps: long enough to fire and clear.
PROPERTY_SPAN_AFTER_FOR = 12


@dataclass(frozen=True)
class PropertySpace:
    """Values the property tests draw scenarios from for an alert: ``near`` its threshold on
    both sides, ``usual`` values past it more often than not (so for: gets crossed).
    ``counter``: the values are a counter's increments per step (the strategy sums them and
    adds resets). ``instances``: several series of one job, told apart by ``instance`` (what
    a ``max by (job)`` sees)."""

    near: tuple[float, ...]
    usual: tuple[float, ...]
    counter: bool = False
    instances: bool = False


@runtime_checkable
class KindModule(Protocol):
    """A module of kinds/ that is a kind: ``KIND`` is its AlertKind or InvariantKind."""

    KIND: AlertKind | InvariantKind


class AlertKind:
    """One ``kind:`` of alert. Subclasses set the class attributes and implement the rest."""

    name: ClassVar[str]
    doc: ClassVar[str]  # one line: the condition, for the schema and --help
    fields_doc: ClassVar[str] = ""  # the README's kinds table (Markdown): the kind's fields
    promql_doc: ClassVar[str] = ""  # ... and the PromQL it renders
    properties: ClassVar[dict[str, Any]] = {}  # JSON schema of the kind's own fields
    required: ClassVar[tuple[str, ...]] = ()
    user_facing: ClassVar[bool] = True  # a `kind:` users write (invariant alerts are not)
    batchable: ClassVar[bool] = False  # scenarios can share a test group, told apart by label
    sequential_ok: ClassVar[bool] = True  # scenarios can run one after another in one group
    time_valued: ClassVar[bool] = False  # sample values are unix seconds (ages)
    derivable: ClassVar[bool] = True
    # A contract fragment ({"metrics": [...], "alert": {...}}) of this kind: the registry
    # test renders, derives, mutates, property-tests and imports it back (user-facing kinds).
    example: ClassVar[dict[str, Any] | None] = None

    # --- contract -------------------------------------------------------------------------
    def parse(self, raw: dict[str, Any]) -> Any:
        raise NotImplementedError(self.name)

    def check(self, raw: dict[str, Any], ctx: CheckContext) -> None:
        """Semantic problems the schema cannot express (report them through ``ctx``)."""

    def metrics(self, spec: Any) -> tuple[str, ...]:
        return (spec.metric,)

    # --- PromQL ---------------------------------------------------------------------------
    def expr(self, alert: Alert, contract: Contract) -> str:
        raise NotImplementedError(self.name)

    def output_labels(self, alert: Alert, contract: Contract) -> frozenset[str] | None:
        """Labels present on every series the expression returns (None: unknown)."""
        raise NotImplementedError(self.name)

    def absent_branch(self, alert: Alert) -> bool:
        """The expression has a branch that fires when the metric is absent."""
        return False

    def batches_by_label(self, alert: Alert) -> bool:
        """Scenarios of this alert can share a test group told apart by a label: the
        expression keeps labels, and no absent() branch, which sees every series of the job
        and so couples the scenarios (it fires only when all of them are gone)."""
        return self.batchable and not self.absent_branch(alert)

    # --- import: recognising hand-written expressions -------------------------------------
    unit_guess: ClassVar[str] = "count"  # unit of a gauge known only from an alert of this kind

    def recognise(self, shape: Shape) -> Fields | Refused | None:
        """This kind's fields for a hand-written expression of its shape (``import``), a
        reason it cannot hold one of its shape, or None: not its shape."""
        return None

    def guess_metric(self, name: str) -> Fields:
        """type, unit and domain of a metric known only from an alert of this kind (a payload
        or gateway, when given, tells the type; ``import``'s output asks users to check)."""
        if name.endswith("_total"):
            return {"type": "counter", "unit": "count", "domain": {"kind": "count"}}
        units = {"_seconds": "seconds", "_bytes": "bytes", "_ratio": "ratio", "_hours": "hours"}
        unit = next((u for suffix, u in units.items() if name.endswith(suffix)), self.unit_guess)
        return {"type": "gauge", "unit": unit, "domain": {"kind": "range"}}

    def absent_fields(self, shape: Shape) -> Fields | Refused:
        """``when_absent: fire`` for an expression with an absent branch, where the kind has
        that field; else a refusal (the branch would be dropped silently)."""
        if not shape.absent:
            return {}
        if "when_absent" in self.properties:
            return {"when_absent": "fire"}
        return Refused("an absent branch on a kind that has none")

    def comparison_fields(self, shape: Shape) -> Fields | None:
        """``comparison`` for the loose form of the kind's operator (None: not its operator)."""
        ops = tuple(self.properties.get("comparison", {}).get("enum", ()))
        if shape.op not in ops:
            return None
        return {} if shape.op == ops[0] else {"comparison": shape.op}

    # --- oracle and tests -----------------------------------------------------------------
    def condition(self, alert: Alert, contract: Contract, series: tuple[Series, ...]
                  ) -> Condition:
        """What the expression returns at each evaluation time (labels -> value)."""
        raise NotImplementedError(self.name)

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        raise NotImplementedError(self.name)

    def quiet_sample(self, alert: Alert, t: int) -> float:
        """A sample at ``t`` that makes the condition false: what a separator series holds
        between scenarios run one after another in one test group (see
        testgen.scenarios.sequential). Time-valued kinds: a fresh timestamp (age 0)."""
        return float(t) if self.time_valued else float("-inf")

    def property_space(self, alert: Alert, contract: Contract) -> PropertySpace:
        raise NotImplementedError(self.name)


class InvariantKind:
    """One ``kind:`` of invariant: a rule a payload satisfies, checked by ``verify`` and,
    when it has an ``alert:``, by Prometheus."""

    name: ClassVar[str]
    doc: ClassVar[str]
    properties: ClassVar[dict[str, Any]] = {}
    required: ClassVar[tuple[str, ...]] = ()
    alertable: ClassVar[bool] = False
    metric_fields: ClassVar[tuple[str, ...]] = ()  # fields naming one declared metric

    def parse(self, raw: dict[str, Any]) -> Any:
        raise NotImplementedError(self.name)

    def check(self, raw: dict[str, Any], ctx: CheckContext) -> None:
        for name in self.metric_fields:
            if name in raw:
                ctx.metric(name, raw[name])

    def verify(self, inv: Invariant, keyed: dict, add: Callable[..., None]) -> None:
        """Payload check: ``keyed`` maps metric -> {labels: sample}; ``add(line, message)``."""

    # --- as an alert (alertable kinds) -------------------------------------------------------
    def expr(self, inv: Invariant, contract: Contract) -> str:
        raise NotImplementedError(self.name)

    def output_labels(self, inv: Invariant, contract: Contract) -> frozenset[str]:
        raise NotImplementedError(self.name)

    def condition(self, inv: Invariant, contract: Contract, series: tuple[Series, ...]
                  ) -> Condition:
        raise NotImplementedError(self.name)

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        raise NotImplementedError(self.name)


# --- helpers the kinds share -----------------------------------------------------------------

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq}


def compares(value: float, comparison: str, threshold: float) -> bool:
    """``value comparison threshold`` as PromQL's filter reads it (NaN compares false)."""
    return _COMPARE[comparison](value, threshold)


def each_series(contract: Contract, series: tuple[Series, ...], metric: str,
                keep: Callable[[int, float], float | None]) -> Condition:
    """A condition on each series of ``metric`` by itself (the expression keeps its labels):
    ``keep(t, value)`` gives the output value when the series is in the result, else None."""

    chosen = [s for s in series if matches(s, contract, metric)]
    values_at = instants(chosen)

    def held(t: int) -> dict[Labels, float]:
        out = {}
        for s, value in zip(chosen, values_at(t), strict=True):
            if value is not None:
                kept = keep(t, value)
                if kept is not None:
                    out[s.labels] = kept
        return out
    return held


def absent_branch(contract: Contract, metric: str) -> str:
    """``absent(m{job="…"})`` with the label ``absent="true"``: fires when the metric has no
    series at all, and lets annotations say so (see ``kinds.annotation_templates``)."""
    return (f'label_replace(absent({selector(contract, metric)}), "{ABSENT_LABEL}", "true", '
            '"", "")')


def check_absent_label(raw: dict[str, Any], metric: dict[str, Any] | None,
                       ctx: CheckContext) -> None:
    """The absent branch adds the label ``absent``: the metric must not have one."""
    if raw.get("when_absent") == "fire" and metric is not None \
            and ABSENT_LABEL in metric.get("labels", []):
        ctx.add("when_absent", f"when_absent: fire adds the label '{ABSENT_LABEL}', which "
                f"{metric['name']} already has")
    if raw.get("when_absent") != "fire":
        for name in ("absent_summary", "absent_description"):
            if name in raw:
                ctx.add(name, f"{name} is used only with when_absent: fire", key=True)


def absent_labels(contract: Contract) -> Labels:
    """The labels the absent branch returns: the selector's, and ``absent="true"``."""
    return tuple(sorted(contract.grouping_key + ((ABSENT_LABEL, "true"),)))


def metric_labels(contract: Contract, metric: str) -> frozenset[str]:
    """Labels every series of a pushed metric carries: its own, the gateway's and the
    grouping key's (what an expression that keeps the metric's labels returns)."""

    return frozenset(contract.metric(metric).labels) | frozenset(GATEWAY_LABELS) | \
        {k for k, _ in contract.grouping_key}


def after_firing(alert: Alert, metric: str, labels: Labels, firing: float, hold: int,
                 short_gap: bool = True) -> list[Scenario]:
    """What happens once an alert on instant samples fires: the series missing for longer
    than the lookback (resolves), stale (resolves at once), and a gap shorter than the lookback
    (keeps firing)."""

    out = [Scenario(alert.name, "series missing after firing (gap longer than the 5m "
                    "lookback): resolves", (Series(metric, labels, (firing,) * (hold + 1)
                                                   + (None,) * (steps(LOOKBACK) + 3)),)),
           Scenario(alert.name, "series goes stale after firing: resolves at once",
                    (Series(metric, labels, (firing,) * (hold + 1) + (STALE,) * 3),))]
    if short_gap:
        out.append(Scenario(alert.name, "gap shorter than the lookback: keeps firing",
                            (Series(metric, labels, (firing,) * (hold + 1) + (None,) * 3
                                    + (firing,) * 2),)))
    return out


def near_space(threshold: float, domain: Domain, usual_side: int) -> PropertySpace:
    """Values around a threshold (a step of 1 for integral metrics, 0.5 else), and usual values
    past it on ``usual_side`` (+1 above, -1 below) more often than not."""
    step = 1.0 if domain.integral else 0.5
    floor = domain.low if math.isfinite(domain.low) else -math.inf
    near = tuple(max(threshold + k * step, floor) for k in range(-2, 3))
    return PropertySpace(near=near, usual=near + tuple(
        max(threshold + usual_side * k * step, floor) for k in (1, 2)))


class AbsentBranch:
    """For kinds with ``when_absent: fire``: the absent branch in the expression and in the
    oracle condition (a mixin before the kind's class)."""

    def absent_branch(self, alert: Alert) -> bool:
        return alert.spec.when_absent == "fire"

    def expr(self, alert: Alert, contract: Contract) -> str:
        expr = super().expr(alert, contract)  # type: ignore[misc]
        if self.absent_branch(alert):
            expr = f"({expr}) or {absent_branch(contract, alert.spec.metric)}"
        return expr

    def condition(self, alert: Alert, contract: Contract, series: tuple[Series, ...]
                  ) -> Condition:
        inner = super().condition(alert, contract, series)  # type: ignore[misc]
        if not self.absent_branch(alert):
            return inner

        values_at = instants([s for s in series if matches(s, contract, alert.spec.metric)])

        def held(t: int) -> dict[Labels, float]:
            out = inner(t)  # a range window can still hold samples when no instant one is left
            if all(value is None for value in values_at(t)):
                out[absent_labels(contract)] = 1.0
            return out
        return held


def domain_of(raw_metric: dict[str, Any]) -> Domain:
    raw = raw_metric["domain"]
    kind = raw["kind"]
    if kind == "enum":
        states = tuple(sorted((int(k), str(v)) for k, v in raw["values"].items()))
        return Domain(kind, states=states)
    if kind == "range":
        return Domain(kind, min=raw.get("min"), max=raw.get("max"),
                      integer=bool(raw.get("integer", False)))
    return Domain(kind)


def pinnable(value: Any) -> bool:
    """A threshold some test can tell from its neighbours: finite, below 2^53."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and abs(number) < 2.0 ** 53


def check_pinnable(raw: dict[str, Any], name: str, ctx: CheckContext) -> bool:
    if pinnable(raw[name]):
        return True
    ctx.add(name, f"{name} {raw[name]} cannot be pinned by any test: beyond 2^53 a float64 "
            "cannot tell it from its neighbours (and it must be finite)")
    return False


def check_duration(raw: dict[str, Any], name: str, ctx: CheckContext) -> float | None:
    """Seconds of a positive duration field, or a problem."""
    try:
        seconds = parse_duration(raw[name])
    except ValueError as exc:
        ctx.add(name, str(exc))
        return None
    if seconds <= 0:
        ctx.add(name, f"{name} must be a positive duration")
        return None
    return seconds


def item_label(contract: Contract, metric: str) -> dict[str, str] | None:
    """A per-item metric gets an item, so the alert's labels (and $labels.<item>) show it."""
    labels = contract.metric(metric).labels
    return {labels[0]: "item-1"} if labels else None


def past_offsets(written: float) -> list[float]:
    """How far past a time threshold the derived scenarios put an age at an evaluation: 1s
    (so the threshold is told from threshold+1s), and the unit the threshold is written in
    when it is finer than an evaluation step (500ms)."""
    return sorted({1.0} | ({written} if written < STEP else set()))


def nearby(value: float) -> float:
    """How far from a threshold "just below" and "just above" lie for a metric that is not
    integral: less than the mutation unit (1), so a threshold moved by one is told apart,
    and no more than 1% for small thresholds (a ratio of 0.9 is tested at 0.891 and 0.909)."""
    return min(0.5, max(abs(value) * 0.01, 0.01))


def precision_step(text: str) -> float:
    """One unit in the last written digit of a threshold: 0.995 -> 0.001, 10 -> 1, 1e-3 ->
    0.001, 2.5e6 -> 1e5 (so scenario values sit as close as the author wrote it)."""

    try:
        exponent = decimal.Decimal(str(text).strip()).as_tuple().exponent
    except (decimal.InvalidOperation, ValueError):
        return math.inf
    if not isinstance(exponent, int):
        return math.inf
    return float(decimal.Decimal(1).scaleb(exponent))


def inside(value: float, threshold: float, bound: float | None) -> float:
    """``value`` (next to ``threshold``) pulled back inside the domain's ``bound``: halfway
    between the threshold and the bound when it would pass it (None bounds: unchanged)."""
    if bound is None or not math.isfinite(bound):
        return value
    if (value > bound >= threshold) or (value < bound <= threshold):
        return (threshold + bound) / 2 if bound != threshold else value
    return value


def steps_values(near: range, threshold: float) -> tuple[float, ...]:
    """Unix-seconds values whose age (t - value) crosses ``threshold`` at step m of ``near``."""
    return tuple(float(-threshold + m * STEP) for m in near)


@dataclass(frozen=True)
class ThresholdSpec:
    """Fields of the kinds that compare one metric with one number."""

    metric: str
    threshold: float
    threshold_text: str  # as written in the contract
    comparison: str
    when_absent: str = "silent"



# --- invariant kinds ---------------------------------------------------------------------------

def invariant_scenario(alert: Alert, contract: Contract, title: str,
                       **metrics: list[tuple[str | None, float]]) -> Scenario:
    """A payload held long enough to cross for:: per metric, (item, value) pairs (item None
    for a metric without labels)."""

    span = steps(alert.for_seconds) + 4
    out = []
    for metric, items in metrics.items():
        labels = contract.metric(metric).labels
        for item, value in items:
            extra = {labels[0]: item} if labels and item is not None else None
            out.append(Series(metric, base_labels(contract, extra), (value,) * span))
    return Scenario(alert.name, title, tuple(out))


def single(keyed: dict, name: str) -> Any:
    """The one sample of a metric without labels (None when it is missing or repeated)."""
    series = keyed.get(name, {})
    return next(iter(series.values())) if len(series) == 1 else None


def states_expr(sel: str, states: tuple[int, ...]) -> str:
    return " or ".join(f"{sel} == {v}" for v in states)
