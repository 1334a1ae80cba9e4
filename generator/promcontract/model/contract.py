"""The contract model: frozen dataclasses built once from a validated contract file.

Generators (render, derive, verify, push) only ever see these values, never raw YAML.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from promcontract.numbers import format_number
from promcontract.problems import Location

# Labels the Pushgateway adds to every pushed series ("gateway adds job and instance=\"\"").
GATEWAY_LABELS = ("instance", "job")


@dataclass(frozen=True)
class Domain:
    """The set of values a metric may take."""

    kind: str  # enum | unix_seconds | count | range
    states: tuple[tuple[int, str], ...] = ()  # enum: (value, meaning)
    min: float | None = None
    max: float | None = None
    integer: bool = False

    @property
    def low(self) -> float:
        if self.kind == "enum":
            return min(v for v, _ in self.states)
        if self.kind in ("count", "unix_seconds"):
            return 0.0
        return -math.inf if self.min is None else self.min

    @property
    def high(self) -> float:
        if self.kind == "enum":
            return max(v for v, _ in self.states)
        return math.inf if self.max is None else self.max

    @property
    def integral(self) -> bool:
        return self.kind in ("enum", "count") or self.integer

    def contains(self, value: float) -> bool:
        """Domains hold finite numbers only: a NaN or infinite timestamp, count or state
        means nothing (and breaks the arithmetic of ages)."""
        if not math.isfinite(value):
            return False
        if self.kind == "enum":
            return value in {v for v, _ in self.states}
        if value < self.low or value > self.high:
            return False
        return not (self.integral and value != math.floor(value))

    def describe(self) -> str:
        if self.kind == "enum":
            return ", ".join(f"{v} {meaning}" for v, meaning in self.states)
        if self.kind == "count":
            return "non-negative integer"
        if self.kind == "unix_seconds":
            return "unix time in seconds (>= 0)"
        lo = "" if self.min is None else f">= {format_number(self.min)}"
        hi = "" if self.max is None else f"<= {format_number(self.max)}"
        text = " and ".join(p for p in (lo, hi) if p)
        return text + (", integer" if self.integer else "")


@dataclass(frozen=True)
class LintException:
    finding: str
    reason: str


@dataclass(frozen=True)
class Metric:
    name: str
    type: str
    help: str
    unit: str
    labels: tuple[str, ...]
    domain: Domain
    lint_exceptions: tuple[LintException, ...] = ()


@dataclass(frozen=True)
class Invariant:
    """A cross-metric rule a payload satisfies; ``spec`` is its kind's typed fields (see the
    kind's module in promcontract/kinds/)."""

    name: str
    kind: str
    description: str
    spec: Any


@dataclass(frozen=True)
class Alert:
    """One alert of the group. The fields every kind has are here; ``spec`` holds the kind's
    own fields as that kind's frozen dataclass (a threshold, a metric, a window, ...)."""

    name: str
    kind: str
    for_: str
    for_seconds: float
    severity: str
    summary: str
    rationale: str
    spec: Any
    description: str = ""
    keep_firing_for: str = ""  # as written; "" when the alert has none
    keep_firing_seconds: float = 0.0
    labels: tuple[tuple[str, str], ...] = ()
    absent_summary: str = ""  # what the summary says when the watched series is absent
    absent_description: str = ""
    location: Location | None = field(default=None, compare=False)
    route: Route | None = None

    def replace_spec(self, **changes: Any) -> Alert:
        """This alert with some of its kind's fields changed (mutants, variants)."""
        return dataclasses.replace(self, spec=dataclasses.replace(self.spec, **changes))


@dataclass(frozen=True)
class Route:
    """Where an alert must go once it fires (the contract's ``route:``)."""

    receivers: tuple[str, ...] = ()  # in order; () when the contract does not say
    group_by: tuple[str, ...] | None = None
    inhibited_by: tuple[tuple[tuple[str, str], ...], ...] = ()  # label sets, each sorted


@dataclass(frozen=True)
class Contract:
    name: str
    group: str
    source: str
    grouping_key: tuple[tuple[str, str], ...]
    cadence: str
    cadence_seconds: float
    metrics: tuple[Metric, ...]
    alerts: tuple[Alert, ...]
    invariants: tuple[Invariant, ...] = ()
    description: str = ""
    # ${name} -> the value where Terraform does not run (the template keeps ${name} live)
    terraform_variables: tuple[tuple[str, str], ...] = ()

    @property
    def job(self) -> str:
        return dict(self.grouping_key)["job"]

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)

    def alert(self, name: str) -> Alert:
        for alert in self.alerts:
            if alert.name == name:
                return alert
        raise KeyError(name)

    def with_job(self, job: str | None) -> Contract:
        """The contract pushed under another job (``--job``): the grouping key's job replaced,
        so selectors, payload checks and pushes all use it."""
        if not job:
            return self
        return dataclasses.replace(self, grouping_key=tuple(
            (k, job if k == "job" else v) for k, v in self.grouping_key))
