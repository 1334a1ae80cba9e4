"""Input series of promtool unit tests, and what PromQL selectors see in them.

The primitives the kinds build their oracle conditions and scenarios from: samples every
STEP seconds (``_`` gaps and ``stale`` markers included), the instant selector's 5m lookback,
and the range selector's window (whose left edge, like the lookback's, follows the promtool
version: see ``lookback_semantics``).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator
from dataclasses import dataclass

from promcontract.contract.model import Contract, format_number
from promcontract.labels import Labels, format_series

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
    values: tuple[Value, ...]  # one per STEP from t=0

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


# Prometheus 2.x counts a sample exactly 5m old, and a range [t - r, t] includes its left
# edge; 3.0 made both left-open. The oracle follows the promtool it is compared with
# (promcheck sets this from its version); the derived test files hold no scenario on that
# edge, so they pass on both (tested).
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


def lookback_closed() -> bool:
    return _LOOKBACK_CLOSED.get()


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
    return scan(series, t)


def scan(series: Series, t: int) -> float | None:
    """``instant`` by walking back from ``t`` (any t; Series.visible is the per-step table)."""
    index = min(t // STEP, len(series.values) - 1)
    while index >= 0 and _in_view(t - index * STEP):
        value = series.values[index]
        if value is not None:
            return None if value == STALE else float(value)
        index -= 1
    return None


def window(series: Series, t: int, seconds: float) -> list[tuple[int, float]]:
    """(time, value) of the samples a range selector ``[seconds]`` sees at ``t``: those in
    [t - seconds, t] on Prometheus 2.x, (t - seconds, t] on 3.x; stale markers dropped."""
    out = []
    start = t - seconds
    for index, value in enumerate(series.values):
        at = index * STEP
        if at > t:
            break
        inside = at >= start if _LOOKBACK_CLOSED.get() else at > start
        if inside and value is not None and value != STALE:
            out.append((at, float(value)))
    return out


def increase_at(series: Series, t: int, seconds: float) -> float | None:
    """``increase(m[seconds])`` at ``t`` for one series (see ``increase``)."""
    samples = window(series, t, seconds)
    if len(samples) < 2:
        return None
    range_start = (t - seconds) * 1000
    range_end = t * 1000
    result = samples[-1][1] - samples[0][1]
    previous = samples[0][1]
    for _, value in samples[1:]:
        if value < previous:  # a counter reset: what was counted before it still counts
            result += previous
        previous = value
    duration_to_start = float(samples[0][0] * 1000 - range_start) / 1000
    duration_to_end = float(range_end - samples[-1][0] * 1000) / 1000
    sampled = float(samples[-1][0] * 1000 - samples[0][0] * 1000) / 1000
    average = sampled / float(len(samples) - 1)
    if result > 0 and samples[0][1] >= 0:
        # counters cannot go below zero: extrapolate no further back than the zero point
        duration_to_zero = sampled * (samples[0][1] / result)
        if duration_to_zero < duration_to_start:
            duration_to_start = duration_to_zero
    threshold = average * 1.1
    interval = sampled
    interval += duration_to_start if duration_to_start < threshold else average / 2
    interval += duration_to_end if duration_to_end < threshold else average / 2
    return result * (interval / sampled)


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
