"""Input series of promtool unit tests, and what PromQL selectors see in them.

The primitives the kinds build their oracle conditions and scenarios from: samples every
STEP seconds (``_`` gaps and ``stale`` markers included), the instant selector's 5m lookback,
and the range selector's window (whose left edge, like the lookback's, follows the promtool
version: see ``lookback_semantics``).
"""

from __future__ import annotations

import bisect
import contextlib
import contextvars
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from promcontract.labels import Labels, format_series
from promcontract.model.contract import Contract
from promcontract.numbers import format_number

STEP = 60  # input series interval = evaluation interval (promtool's default 1m)
LOOKBACK = 300  # instant selectors see samples up to 5m old
STALE = "stale"
Value = float | str | None  # a number, STALE, or None for a missing sample ("_")


class NotDerivable(Exception):
    """An alert (or scenario) the oracle cannot model; reported by name, never skipped."""


@dataclass(frozen=True)
class Series:
    metric: str
    labels: Labels  # sorted, without __name__
    values: tuple[Value, ...]  # one per ``interval`` from t=0
    interval: int = STEP  # seconds between samples (a test group's input interval)

    def selector(self) -> str:
        return format_series(self.metric, self.labels, braces_when_empty=True)

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
        """What an instant selector sees at each evaluation step (see ``instant``), up to the
        last step at which the last sample is still in view; nothing after that."""
        closed = _LOOKBACK_CLOSED.get()
        cache = self.__dict__.setdefault("_visible", {})  # per lookback rule; frozen fields
        if closed not in cache:
            out: list[float | None] = []
            seen: float | None = None
            at = -1  # time of the latest sample at or before t
            index = 0
            last = (len(self.values) - 1) * self.interval + LOOKBACK
            for t in range(0, last + STEP, STEP):
                while index < len(self.values) and index * self.interval <= t:
                    value = self.values[index]
                    if value is not None:
                        seen, at = (None if value == STALE else float(value)), index * \
                            self.interval
                    index += 1
                age = t - at
                out.append(seen if at >= 0 and (age <= LOOKBACK if closed else age < LOOKBACK)
                           else None)  # _in_view, inline: this loop is the oracle's hot path
            cache[closed] = tuple(out)
        return cache[closed]

    @property
    def end(self) -> int:
        """Time of the last sample."""
        return (len(self.values) - 1) * self.interval


SCENARIO_LABEL = "promcontract_scenario"
"""Tells apart the scenarios that share a derived test group (testgen.testfile); validate
refuses it as a metric's or the grouping key's label, and the delivery tests leave it out."""


@dataclass(frozen=True)
class Scenario:
    alert: str
    title: str
    series: tuple[Series, ...]
    eval_times: tuple[int, ...] = ()  # empty: chosen around the first firing

    @property
    def end(self) -> int:
        """The last evaluation step at or after the last sample of any series."""
        last = max((s.end for s in self.series), default=0)
        return -(-last // STEP) * STEP


@dataclass(frozen=True)
class Firing:
    labels: Labels  # alert labels without alertname
    annotations: Labels


# Prometheus 2.x counts a sample exactly 5m old, and a range [t - r, t] includes its left
# edge; 3.0 made both left-open. The oracle follows the promtool it is compared with
# (promcheck sets this from its version); the derived test files hold no scenario on that
# edge, so they pass on both (tested).
_LOOKBACK_CLOSED: contextvars.ContextVar[bool] = contextvars.ContextVar("lookback_closed",
                                                                         default=True)


# How increase() extrapolates: the zero-point clamp after the threshold (PR #13725) or before.
_ZERO_CLAMP_LAST: contextvars.ContextVar[bool] = contextvars.ContextVar("zero_clamp_last",
                                                                         default=False)


@contextlib.contextmanager
def lookback_semantics(closed: bool, zero_clamp_last: bool | None = None) -> Iterator[None]:
    """Within the block the oracle follows Prometheus 2.x (``closed``: a sample exactly 5m old
    counts, range windows include their left edge) or 3.x; ``zero_clamp_last`` (default: as
    3.x does when not ``closed``) chooses increase()'s order of extrapolation."""
    token = _LOOKBACK_CLOSED.set(closed)
    clamp = _ZERO_CLAMP_LAST.set(not closed if zero_clamp_last is None else zero_clamp_last)
    try:
        yield
    finally:
        _LOOKBACK_CLOSED.reset(token)
        _ZERO_CLAMP_LAST.reset(clamp)


def semantics() -> tuple[bool, bool]:
    """The readings in force (see :func:`lookback_semantics`): (lookback closed, zero clamp
    last)."""
    return _LOOKBACK_CLOSED.get(), _ZERO_CLAMP_LAST.get()


def version_semantics(version: str) -> tuple[bool, bool]:
    """(lookback closed, zero clamp last) for a promtool version: 3.0 left-opened the windows;
    PR #13725 (2.52) reordered increase()'s extrapolation."""
    numbers = [int(part) for part in re.findall(r"\d+", version)[:2]] + [0, 0]
    major, minor = numbers[0], numbers[1]
    return major < 3, (major, minor) >= (2, 52)


def _in_view(age: float) -> bool:
    return age <= LOOKBACK if _LOOKBACK_CLOSED.get() else age < LOOKBACK


def instant(series: Series, t: int) -> float | None:
    """The value an instant selector sees at ``t``: the latest sample within the 5m lookback,
    unless that sample is a stale marker (see ``lookback_semantics`` for the edge)."""
    if t % STEP == 0 and t >= 0:
        visible = series.visible()
        return visible[t // STEP] if t // STEP < len(visible) else None
    return scan(series, t)


def instants(chosen: Sequence[Series]) -> Callable[[int], list[float | None]]:
    """``instant`` of each of ``chosen`` at ``t``, as one call: at evaluation steps read from
    their per-step tables (looked up once per lookback rule, not once per series and step),
    which is where the oracle spends its time."""
    tables: dict[bool, list[tuple[float | None, ...]]] = {}

    def at(t: int) -> list[float | None]:
        if t < 0 or t % STEP:
            return [scan(s, t) for s in chosen]
        closed = _LOOKBACK_CLOSED.get()
        views = tables.get(closed)
        if views is None:
            views = tables[closed] = [s.visible() for s in chosen]
        i = t // STEP
        return [view[i] if i < len(view) else None for view in views]
    return at


def scan(series: Series, t: int) -> float | None:
    """``instant`` by walking back from ``t`` (any t; Series.visible is the per-step table)."""
    index = min(t // series.interval, len(series.values) - 1)
    while index >= 0 and _in_view(t - index * series.interval):
        value = series.values[index]
        if value is not None:
            return None if value == STALE else float(value)
        index -= 1
    return None


def window(series: Series, t: int, seconds: float) -> list[tuple[int, float]]:
    """(time, value) of the samples a range selector ``[seconds]`` sees at ``t``: those in
    [t - seconds, t] on Prometheus 2.x, (t - seconds, t] on 3.x; stale markers dropped."""
    start = t - seconds
    step = series.interval
    # the first index inside: at >= start (2.x) or at > start (3.x); the last: at <= t
    first = max(0, -(-start // step) if _LOOKBACK_CLOSED.get() else start // step + 1)
    last = min(int(t // step), len(series.values) - 1)
    out = []
    for index in range(int(first), last + 1):
        value = series.values[index]
        if value is not None and value != STALE:
            out.append((index * step, float(value)))
    return out


def _samples(series: Series) -> tuple[list[int], list[float], list[float]]:
    """The series' samples (stale markers and gaps left out) as times and values, and a
    running sum of what counter resets add (``reset[k]``: over samples 1..k), computed once."""
    cached = series.__dict__.get("_samples")
    if cached is None:
        times: list[int] = []
        values: list[float] = []
        reset = [0.0]
        for index, value in enumerate(series.values):
            if value is None or value == STALE:
                continue
            if values:
                reset.append(reset[-1] + (values[-1] if value < values[-1] else 0.0))
            times.append(index * series.interval)
            values.append(float(value))
        cached = series.__dict__.setdefault("_samples", (times, values, reset))
    return cached


def increase_at(series: Series, t: int, seconds: float) -> float | None:
    """``increase(m[seconds])`` at ``t`` for one series: Prometheus' extrapolatedRate (with
    isCounter, not isRate), in the same float operations and order, so the value is the one
    promtool computes; None with fewer than two samples (no result).

    Two orders exist: up to 2.x the zero-point clamp came first and the extrapolation
    threshold after; PR #13725 (Prometheus 2.52 and 3.x) halves a long distance to the start
    first and clamps it to the zero point after, and sums the factor before dividing. Which
    one applies follows the promtool version, like the lookback edge."""

    times, values, reset = _samples(series)
    start = t - seconds
    # the window of ``window``: [start, t] on 2.x, (start, t] on 3.x
    a = bisect.bisect_left(times, start) if _LOOKBACK_CLOSED.get() else \
        bisect.bisect_right(times, start)
    b = bisect.bisect_right(times, t) - 1
    if b - a + 1 < 2:
        return None
    first_t, last_t, first_v = times[a], times[b], values[a]
    range_start = (t - seconds) * 1000
    range_end = t * 1000
    result = values[b] - first_v
    if reset[b] != reset[a]:  # resets inside: add the value before each drop, in order, as
        previous = first_v  # Prometheus does (the same float operations)
        for value in values[a + 1:b + 1]:
            if value < previous:
                result += previous
            previous = value
    samples = ((first_t, first_v), (last_t, values[b]))
    count = b - a + 1
    duration_to_start = float(samples[0][0] * 1000 - range_start) / 1000
    duration_to_end = float(range_end - samples[-1][0] * 1000) / 1000
    sampled = float(samples[-1][0] * 1000 - samples[0][0] * 1000) / 1000
    average = sampled / float(count - 1)
    threshold = average * 1.1
    # counters cannot go below zero: extrapolate no further back than the zero point
    duration_to_zero = sampled * (samples[0][1] / result) \
        if result > 0 and samples[0][1] >= 0 else None
    if not _ZERO_CLAMP_LAST.get():
        if duration_to_zero is not None and duration_to_zero < duration_to_start:
            duration_to_start = duration_to_zero
        interval = sampled
        interval += duration_to_start if duration_to_start < threshold else average / 2
        interval += duration_to_end if duration_to_end < threshold else average / 2
        return result * (interval / sampled)
    if duration_to_start >= threshold:
        duration_to_start = average / 2
    if duration_to_zero is not None and duration_to_zero < duration_to_start:
        duration_to_start = duration_to_zero
    if duration_to_end >= threshold:
        duration_to_end = average / 2
    return result * ((sampled + duration_to_start + duration_to_end) / sampled)


def matches(series: Series, contract: Contract, metric: str | None) -> bool:
    """``series`` is what ``metric{<grouping key>}`` selects."""
    return series.metric == metric and set(contract.grouping_key) <= set(series.labels)


def present(contract: Contract, series: tuple[Series, ...], metric: str, t: int
            ) -> list[tuple[Labels, float]]:
    """(labels, value) of every series of ``metric`` an instant selector sees at ``t``."""
    out = []
    for s in series:
        if matches(s, contract, metric):
            value = instant(s, t)
            if value is not None:
                out.append((s.labels, value))
    return out


def key(labels: Labels, names: tuple[str, ...]) -> tuple[str | None, ...]:
    d = dict(labels)
    return tuple(d.get(n) for n in names)


def base_labels(contract: Contract, extra: dict[str, str] | None = None) -> Labels:
    """Labels of a pushed series as Prometheus sees it: the grouping key, the gateway's
    ``instance=""``, and ``extra``."""
    labels = dict(contract.grouping_key)
    labels["instance"] = ""  # the gateway adds instance="" to every pushed series
    labels.update(extra or {})
    return tuple(sorted(labels.items()))


def steps(seconds: float) -> int:
    """Evaluation steps that cover ``seconds``."""
    return int(math.ceil(seconds / STEP))
