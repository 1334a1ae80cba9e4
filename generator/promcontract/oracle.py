"""The oracle: what promtool must report for a scenario, computed without promtool.

A pure function per alert kind: given input series sampled every STEP seconds (gaps ``_``
and ``stale`` markers included), it says at each evaluation which alerts are firing, with
their labels and annotations, honouring ``for:``, the evaluation interval and the 5m lookback
(whose edge follows the promtool version, see ``lookback_semantics``). The derived tests and
the property tests take their expectations from here, never from hand-written numbers.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from promcontract import promtemplate
from promcontract.exposition import escape_label_value
from promcontract.model import Alert, Contract, format_number

STEP = 60  # input series interval = evaluation interval (promtool's default 1m)
LOOKBACK = 300  # instant selectors see samples up to 5m old
STALE = "stale"
Labels = tuple[tuple[str, str], ...]
Value = float | str | None  # a number, STALE, or None for a missing sample ("_")


class NotDerivable(Exception):
    """An alert (or scenario) the oracle cannot model; reported by name, never skipped."""


@dataclass(frozen=True)
class Series:
    metric: str
    labels: Labels  # sorted, without __name__
    values: tuple[Value, ...]  # one per STEP from t=0

    def selector(self) -> str:
        inner = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in self.labels)
        return f"{self.metric}{{{inner}}}"

    def notation(self) -> str:
        """promtool's values notation; runs of one number compressed to ``v+0xN``."""
        out: list[str] = []
        i = 0
        while i < len(self.values):
            value = self.values[i]
            if value is None:
                j = i
                while j + 1 < len(self.values) and self.values[j + 1] is None:
                    j += 1
                out.append(f"_x{j - i + 1}" if j > i else "_")  # _xN: N missing samples
                i = j + 1
                continue
            if value == STALE:
                out.append("stale")
                i += 1
                continue
            j = i
            while j + 1 < len(self.values) and self.values[j + 1] == value:
                j += 1
            text = format_number(float(value))
            out.append(f"{text}+0x{j - i}" if j > i else text)
            i = j + 1
        return " ".join(out)

    def visible(self) -> tuple[float | None, ...]:
        """What an instant selector sees at each step (see ``instant``), up to the last step
        at which the last sample is still in view; nothing after that."""
        closed = _LOOKBACK_CLOSED.get()
        cache = self.__dict__.setdefault("_visible", {})  # per lookback rule; frozen fields
        if closed not in cache:
            out: list[float | None] = []
            seen: float | None = None
            since = 0
            for index in range(len(self.values) + LOOKBACK // STEP):
                value = self.values[index] if index < len(self.values) else None
                if value is not None:
                    seen, since = (None if value == STALE else float(value)), index
                out.append(seen if _in_view((index - since) * STEP) else None)
            cache[closed] = tuple(out)
        return cache[closed]


@dataclass(frozen=True)
class Scenario:
    alert: str
    title: str
    series: tuple[Series, ...]
    eval_times: tuple[int, ...] = ()  # empty: chosen around the first firing

    @property
    def end(self) -> int:
        return (max((len(s.values) for s in self.series), default=1) - 1) * STEP


@dataclass(frozen=True)
class Firing:
    labels: Labels  # alert labels without alertname
    annotations: Labels


# --- evaluation -----------------------------------------------------------------------------

# Prometheus 2.x counts a sample exactly 5m old; 3.0 made the lookback window left-open.
# The oracle follows the promtool it is compared with (promcheck sets this from its version);
# the derived test files hold no scenario on that edge, so they pass on both (tested).
_LOOKBACK_CLOSED: contextvars.ContextVar[bool] = contextvars.ContextVar("lookback_closed",
                                                                         default=True)


@contextlib.contextmanager
def lookback_semantics(closed: bool) -> Iterator[None]:
    """Within the block the oracle counts a sample exactly 5m old (``closed``) or not."""
    token = _LOOKBACK_CLOSED.set(closed)
    try:
        yield
    finally:
        _LOOKBACK_CLOSED.reset(token)


def lookback_closed_for(version: str) -> bool:
    """True for promtool 2.x, whose lookback window includes its left edge."""
    major = version.split(".", 1)[0]
    return not (major.isdigit() and int(major) >= 3)


def _in_view(age: float) -> bool:
    return age <= LOOKBACK if _LOOKBACK_CLOSED.get() else age < LOOKBACK


def instant(series: Series, t: int) -> float | None:
    """The value an instant selector sees at ``t``: the latest sample within the 5m lookback,
    unless that sample is a stale marker (see ``lookback_semantics`` for the edge)."""
    if t % STEP == 0 and t >= 0:
        visible = series.visible()
        return visible[t // STEP] if t // STEP < len(visible) else None
    return _scan(series, t)


def _scan(series: Series, t: int) -> float | None:
    """``instant`` by walking back from ``t`` (any t; Series.visible is the per-step table)."""
    index = min(t // STEP, len(series.values) - 1)
    while index >= 0 and _in_view(t - index * STEP):
        value = series.values[index]
        if value is not None:
            return None if value == STALE else float(value)
        index -= 1
    return None


def _matches(series: Series, contract: Contract, metric: str | None) -> bool:
    return series.metric == metric and set(contract.grouping_key) <= set(series.labels)


def condition(alert: Alert, contract: Contract, series: tuple[Series, ...], t: int
              ) -> dict[Labels, float]:
    """Output series of the alert's expression at ``t`` (labels -> value) that hold."""
    return evaluator(alert, contract, series)(t)


def evaluator(alert: Alert, contract: Contract, series: tuple[Series, ...]
              ) -> Callable[[int], dict[Labels, float]]:
    """``condition`` as a function of the time, the series it reads chosen once."""
    if alert.kind == "expr":
        raise NotDerivable(f"alert {alert.name}: kind expr (raw expression) is not derivable")
    if alert.kind == "invariant":
        assert alert.invariant is not None
        return functools.partial(_invariant_condition, alert.invariant, contract, series)
    threshold = alert.threshold
    assert threshold is not None
    chosen = [s for s in series if _matches(s, contract, alert.metric)]

    if alert.kind == "heartbeat_stale":
        job_only = (("job", contract.job),)
        on_absent = {tuple(sorted(contract.grouping_key)): 1.0} \
            if alert.when_absent == "fire" else {}

        def heartbeat(t: int) -> dict[Labels, float]:
            values = [v for v in (instant(s, t) for s in chosen) if v is not None]
            if not values:
                return dict(on_absent)
            age = t - max(values)
            return {job_only: age} if age > threshold else {}
        return heartbeat

    if alert.kind == "age_above":
        def age_above(t: int) -> dict[Labels, float]:
            out = {}
            for s in chosen:
                value = instant(s, t)
                if value is not None and t - value > threshold:
                    out[s.labels] = t - value
            return out
        return age_above

    strict = alert.comparison == ">"

    def value_above(t: int) -> dict[Labels, float]:
        out = {}
        for s in chosen:
            value = instant(s, t)
            if value is not None and (value > threshold if strict else value >= threshold):
                out[s.labels] = value
        return out
    return value_above


def _present(contract: Contract, series: tuple[Series, ...], metric: str, t: int
             ) -> list[tuple[Labels, float]]:
    out = []
    for s in series:
        if _matches(s, contract, metric):
            value = instant(s, t)
            if value is not None:
                out.append((s.labels, value))
    return out


def _key(labels: Labels, names: tuple[str, ...]) -> tuple[str | None, ...]:
    d = dict(labels)
    return tuple(d.get(n) for n in names)


def _invariant_condition(inv, contract: Contract, series: tuple[Series, ...], t: int
                         ) -> dict[Labels, float]:
    """The oracle of promql.invariant_expr: series returned when the invariant is broken."""
    got = functools.partial(_present, contract, series, t=t)
    out: dict[Labels, float] = {}
    if inv.kind == "count_equals_state":
        states = got(metric=inv.get("state_metric"))
        n = sum(1 for _, v in states if v == inv.get("state"))
        for labels, count in got(metric=inv.get("count")):
            if count != n:
                out[labels] = count
    elif inv.kind == "counts_sum_to_series":
        per_metric = [dict(got(metric=m)) for m in inv.get("counts")]
        n = len(got(metric=inv.get("series")))
        for labels in set(per_metric[0]).intersection(*per_metric[1:]):
            total = sum(values[labels] for values in per_metric)
            if total != n:
                out[labels] = total
    elif inv.kind in ("present_for_states", "absent_for_states"):
        names = ("job",) + contract.metric(inv.get("state_metric")).labels
        in_state = {_key(labels, names): (labels, v)
                    for labels, v in got(metric=inv.get("state_metric"))
                    if v in inv.get("states")}
        present = {_key(labels, names): (labels, v) for labels, v in got(metric=inv.get("metric"))}
        if inv.kind == "present_for_states":
            out.update({labels: v for key, (labels, v) in in_state.items() if key not in present})
        else:
            out.update({labels: v for key, (labels, v) in present.items() if key in in_state})
    elif inv.kind == "present_with":
        anchor = got(metric=inv.get("with"))
        if anchor and not got(metric=inv.get("metric")):
            out[(("job", contract.job),)] = max(v for _, v in anchor)
    return out


def timeline(alert: Alert, contract: Contract, scenario: Scenario, until: int
             ) -> dict[int, dict[Labels, float]]:
    """Firing alerts (labels -> $value) at every evaluation from 0 to ``until``."""
    active: dict[Labels, int] = {}
    out: dict[int, dict[Labels, float]] = {}
    held_at = evaluator(alert, contract, scenario.series)
    for t in range(0, until + 1, STEP):
        held = held_at(t)
        active = {labels: active.get(labels, t) for labels in held}
        out[t] = {labels: held[labels] for labels, since in active.items()
                  if t - since >= alert.for_seconds}
    return out


def alert_labels(alert: Alert, series_labels: Labels) -> Labels:
    labels = dict(series_labels)
    labels.update(dict(alert.labels))
    labels["severity"] = alert.severity
    # An empty label value is no label in Prometheus (the gateway's instance="" vanishes).
    return tuple(sorted((k, v) for k, v in labels.items() if v != ""))


def annotations(alert: Alert, series_labels: Labels, value: float) -> Labels:
    if not alert.summary:
        return ()  # a rule without annotations (the property tests' semantic-only rules)
    out = [("summary", alert.summary)]
    if alert.description:
        out.append(("description", " ".join(alert.description.split())
                    if "\n" in alert.description else alert.description))
    try:
        return tuple((k, promtemplate.render(v, value, dict(series_labels))) for k, v in out)
    except promtemplate.NotDerivable as exc:
        raise NotDerivable(f"alert {alert.name}: annotation: {exc}") from None


def expected(alert: Alert, contract: Contract, scenario: Scenario
             ) -> tuple[tuple[int, tuple[Firing, ...]], ...]:
    """(eval time, firing alerts) for each eval time of the scenario."""
    times = scenario.eval_times or choose_eval_times(alert, contract, scenario)
    line = timeline(alert, contract, scenario, max(times))
    out = []
    for t in times:
        firing = tuple(sorted(
            (Firing(alert_labels(alert, labels), annotations(alert, labels, value))
             for labels, value in line[t].items()), key=lambda f: f.labels))
        out.append((t, firing))
    return tuple(out)


def choose_eval_times(alert: Alert, contract: Contract, scenario: Scenario) -> tuple[int, ...]:
    """Just before and at the first firing (the for: boundary), and the end."""
    end = scenario.end
    line = timeline(alert, contract, scenario, end)
    first = next((t for t in sorted(line) if line[t]), None)
    times = {end}
    if first is not None:
        times |= {max(first - STEP, 0), first}
    else:
        # the first evaluation at which for: could have elapsed (for: need not be whole steps)
        times.add(min(-(-int(alert.for_seconds) // STEP) * STEP, end))
    return tuple(sorted(times))


__all__ = ["STEP", "LOOKBACK", "STALE", "Labels", "Value", "NotDerivable", "Series",
           "Scenario", "Firing", "instant", "condition", "evaluator", "timeline", "expected",
           "choose_eval_times", "alert_labels", "annotations", "lookback_semantics",
           "lookback_closed_for"]
