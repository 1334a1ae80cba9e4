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

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from promcontract.contract.model import Alert, Contract, Domain, Invariant, format_number
from promcontract.durations import in_unit_of, parse_duration, written_unit
from promcontract.labels import Labels
from promcontract.render.promql import seconds_literal, selector  # noqa: F401 - for the kinds
from promcontract.testgen.series import STEP, Scenario, Series

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


class AlertKind:
    """One ``kind:`` of alert. Subclasses set the class attributes and implement the rest."""

    name: ClassVar[str]
    doc: ClassVar[str]  # one line: the condition, for the README and --help
    properties: ClassVar[dict[str, Any]] = {}  # JSON schema of the kind's own fields
    required: ClassVar[tuple[str, ...]] = ()
    user_facing: ClassVar[bool] = True  # a `kind:` users write (invariant alerts are not)
    batchable: ClassVar[bool] = False  # scenarios can share a test group, told apart by label
    time_valued: ClassVar[bool] = False  # sample values are unix seconds (ages)
    derivable: ClassVar[bool] = True

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

    # --- oracle and tests -----------------------------------------------------------------
    def condition(self, alert: Alert, contract: Contract, series: tuple[Series, ...]
                  ) -> Condition:
        """What the expression returns at each evaluation time (labels -> value)."""
        raise NotImplementedError(self.name)

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        raise NotImplementedError(self.name)

    def mutants(self, alert: Alert) -> list[tuple[str, Alert]]:
        """The kind's own values moved by one unit of how they are written, both ways (the
        engine moves for: and keep_firing_for)."""
        return []

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

def each_series(contract: Contract, series: tuple[Series, ...], metric: str,
                keep: Callable[[int, float], float | None]) -> Condition:
    """A condition on each series of ``metric`` by itself (the expression keeps its labels):
    ``keep(t, value)`` gives the output value when the series is in the result, else None."""
    from promcontract.testgen.series import instant, matches

    chosen = [s for s in series if matches(s, contract, metric)]

    def held(t: int) -> dict[Labels, float]:
        out = {}
        for s in chosen:
            value = instant(s, t)
            if value is not None:
                kept = keep(t, value)
                if kept is not None:
                    out[s.labels] = kept
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


def number_mutants(alert: Alert, field_name: str, text_field: str) -> list[tuple[str, Alert]]:
    """A number moved by one, both ways."""
    value = getattr(alert.spec, field_name)
    text = getattr(alert.spec, text_field)
    out = []
    for sign in (-1, 1):
        moved = value + sign
        out.append((f"{alert.name}: {field_name} {text} -> {format_number(moved)}",
                    alert.replace_spec(**{field_name: moved})))
    return out


def duration_mutants(alert: Alert, field_name: str, text_field: str) -> list[tuple[str, Alert]]:
    """A duration moved by one unit of how it is written (26h -> 25h, 27h), both ways."""
    value = getattr(alert.spec, field_name)
    text = getattr(alert.spec, text_field)
    unit = written_unit(text)
    out = []
    for sign in (-1, 1):
        moved = value + sign * unit
        out.append((f"{alert.name}: {field_name} {text} -> {in_unit_of(moved, text)}",
                    alert.replace_spec(**{field_name: moved})))
    return out


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
    from promcontract.testgen.series import base_labels, steps

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
