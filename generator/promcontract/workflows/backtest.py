"""Backtest: how an alert would have behaved over real history.

Each alerting rule's expression is evaluated over the range by the Prometheus HTTP API
(``/api/v1/query_range``, in chunks under the server's 11,000-points-per-series limit): the
server's own engine does the PromQL, wherever the history lives (Prometheus, Thanos Query,
Mimir). The alert states are then run in Python by ``model.alertstate``, the engine the
derived tests' oracle uses (``for:``, ``keep_firing_for``, resolution), over the identities
Prometheus gives alerts: the series' labels without ``__name__``, the rule's labels over them,
``alertname``. What comes out is, per alert, its firing episodes.
"""

from __future__ import annotations

import json
import math
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from promcontract.durations import parse_duration
from promcontract.labels import format_series
from promcontract.model import alertstate
from promcontract.problems import UserError
from promcontract.promql.plotted import Plot, plotted
from promcontract.render import timeline
from promcontract.runners import http

MAX_POINTS = 10_000  # per series and query: Prometheus refuses more than 11,000
MIN_CHUNK_POINTS = 60  # split a refused chunk no further than this


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    for_s: float
    keep_s: float
    labels: tuple[tuple[str, str], ...]
    where: str  # file:line


@dataclass(frozen=True)
class Episode:
    labels: tuple[tuple[str, str], ...]  # the alert's identity
    start: float  # the first evaluation it fired at
    end: float | None  # the first evaluation it no longer fired at (None: still firing)

    def seconds(self, until: float) -> float:
        return (self.end if self.end is not None else until) - self.start


@dataclass
class Result:
    rule: AlertRule
    episodes: list[Episode] = field(default_factory=list)
    queries: int = 0
    pending: list[Episode] = field(default_factory=list)  # held, not (yet) firing
    plot: Plot | None = None  # with the series drawn, when asked for
    lines: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def summary(self, until: float) -> dict[str, Any]:
        spans = [e.seconds(until) for e in self.episodes]
        return {"alert": self.rule.name, "where": self.rule.where,
                "episodes": len(self.episodes), "firing_seconds": sum(spans),
                "first": min((e.start for e in self.episodes), default=None),
                "last": max((e.end if e.end is not None else until
                             for e in self.episodes), default=None),
                "longest_seconds": max(spans, default=0.0)}


def rules_of(groups: list[Any], path: str) -> list[AlertRule]:  # noqa: ANN401 - reader groups
    """The alerting rules of groups read by ``template.reader``."""
    out = []
    for group in groups:
        for rule in group.rules:
            if rule.kind != "alert":
                continue
            data = rule.data
            try:
                for_s = parse_duration(str(data.get("for") or "0s"))
                keep_s = parse_duration(str(data.get("keep_firing_for") or "0s"))
            except ValueError as exc:
                raise UserError(f"{path}:{rule.line}: {rule.name}: {exc}") from None
            labels = tuple(sorted((str(k), str(v)) for k, v in
                                  (data.get("labels") or {}).items()))
            out.append(AlertRule(rule.name, str(data.get("expr") or ""), for_s, keep_s,
                                 labels, f"{path}:{rule.line}"))
    return out


class Api:
    """The Prometheus HTTP API of ``url``: every exchange within ``timeout_s`` and
    ``max_bytes``; ``headers`` sent with each (auth for Thanos, Mimir)."""

    def __init__(self, url: str, headers: dict[str, str], timeout_s: float, max_bytes: int):
        self.url, self.headers = url.rstrip("/"), headers
        self.timeout_s, self.max_bytes = timeout_s, max_bytes

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        query = urllib.parse.urlencode({"query": expr, "start": f"{start:.3f}",
                                        "end": f"{end:.3f}", "step": f"{step:g}"})
        try:
            status, body = http.exchange("GET", f"{self.url}/api/v1/query_range?{query}", None,
                                         self.timeout_s, self.headers, self.max_bytes)
        except (OSError, http.Deadline, http.TooLarge) as exc:
            raise UserError(f"{http.redact(self.url)}: {exc}") from None
        try:
            answer = json.loads(body)
        except ValueError:
            raise UserError(f"{http.redact(self.url)}: HTTP {status}: not a Prometheus API "
                            "answer") from None
        if status != 200 or answer.get("status") != "success":
            raise Refused(str(answer.get("error") or f"HTTP {status}"))
        return answer.get("data", {}).get("result") or []


class Refused(Exception):
    """The server refused the query (the message is its own)."""


def _too_large(message: str) -> bool:
    return any(words in message for words in ("too many", "maximum resolution", "exceeded",
                                              "limit"))


def evaluate(api: Api, rule: AlertRule, start: float, end: float, step: float,
             progress: Callable[[str], None] | None = None) -> tuple[dict, int]:
    """The rule's expression at every evaluation start, start + step, ... <= end:
    {time: {identity: value}}, and how many queries it took. A chunk the server refuses as
    too large is split in halves and asked again, down to MIN_CHUNK_POINTS."""
    held: dict[float, dict[tuple, float]] = {}
    queries = 0
    count = int(math.floor((end - start) / step + 1e-9)) + 1

    def fetch(first: int, size: int) -> None:
        nonlocal queries
        a, b = start + first * step, start + (first + size - 1) * step
        try:
            result = api.query_range(rule.expr, a, b, step)
            queries += 1
        except Refused as exc:
            if _too_large(str(exc)) and size > MIN_CHUNK_POINTS:
                half = size // 2
                fetch(first, half)
                fetch(first + half, size - half)
                return
            split = f" (split down to {size} points)" if _too_large(str(exc)) else ""
            raise UserError(f"{rule.where}: {rule.name}: the server refused the query{split}: "
                            f"{exc}") from None
        for series in result:
            identity = _identity(rule, series.get("metric") or {})
            for t, value in series.get("values") or ():
                held.setdefault(round(float(t), 3), {})[identity] = float(value)

    for first in range(0, count, MAX_POINTS):
        fetch(first, min(MAX_POINTS, count - first))
        if progress:
            progress(f"backtest: {rule.name}: {min(first + MAX_POINTS, count)}/{count} "
                     "evaluations")
    return held, queries


def _identity(rule: AlertRule, metric: dict[str, str]) -> tuple[tuple[str, str], ...]:
    labels = {k: v for k, v in metric.items() if k != "__name__"}
    labels.update(dict(rule.labels))
    labels["alertname"] = rule.name
    return tuple(sorted((k, v) for k, v in labels.items() if v != ""))


def episodes(rule: AlertRule, held: dict[float, dict], times: list[float]) -> list[Episode]:
    """The firing episodes over ``times`` of the alert whose expression held ``held``."""
    return _spans(_states(rule, held, times), times)


def _states(rule: AlertRule, held: dict[float, dict], times: list[float]) -> dict:
    return alertstate.firing(lambda t: held.get(round(t, 3), {}), times, rule.for_s,
                             rule.keep_s)


def pending(held: dict[float, dict], states: dict, times: list[float]) -> list[Episode]:
    """The spans over ``times`` when an identity held but did not fire (waiting on for:)."""
    waiting = {t: [i for i in held.get(round(t, 3), {}) if i not in states[t]] for t in times}
    return _spans(waiting, times)


def _spans(states: dict, times: list[float]) -> list[Episode]:
    """The runs of each identity in ``states`` (time -> identities), as episodes."""
    return sorted((Episode(identity, span.start, span.end)
                   for identity, found in timeline.spans(states, times).items()
                   for span in found), key=lambda e: (e.start, e.labels))


def run(api: Api, rules: list[AlertRule], start: float, end: float, step: float,
        progress: Callable[[str], None] | None = None, draw: bool = False) -> list[Result]:
    """Each rule's episodes over the range; with ``draw``, its pending spans and the series
    its picture draws too (one more query range per rule)."""
    count = int(math.floor((end - start) / step + 1e-9)) + 1
    times = [round(start + k * step, 3) for k in range(count)]
    out = []
    for rule in rules:
        held, queries = evaluate(api, rule, start, end, step, progress)
        states = _states(rule, held, times)
        result = Result(rule, _spans(states, times), queries=queries)
        if draw:
            result.pending = pending(held, states, times)
            result.plot = plotted(rule.expr)
            series = AlertRule(rule.name, result.plot.series, 0.0, 0.0, (), rule.where)
            values, more = evaluate(api, series, start, end, step, progress)
            result.queries += more
            lines: dict[str, list[tuple[float, float]]] = {}
            for t in sorted(values):
                for identity, value in values[t].items():
                    lines.setdefault(_shown(identity), []).append((t, value))
            result.lines = lines
        out.append(result)
    return out


def _shown(identity: tuple[tuple[str, str], ...]) -> str:
    """An alert identity as a picture labels it: its labels, alertname aside."""
    return format_series("", tuple((k, v) for k, v in identity if k != "alertname"),
                         braces_when_empty=True)


# --- comparing two versions -----------------------------------------------------------------

@dataclass
class Change:
    """What a rule change does to the episodes: each episode of the new version that overlaps
    one of the old with the same identity is unchanged or shifted; the others are added; old
    episodes nothing overlaps are removed."""
    added: list[Episode] = field(default_factory=list)
    removed: list[Episode] = field(default_factory=list)
    shifted: list[tuple[Episode, Episode]] = field(default_factory=list)  # (before, now)
    unchanged: int = 0

    def summary(self) -> dict[str, Any]:
        return {"added": len(self.added), "removed": len(self.removed),
                "shifted": len(self.shifted), "unchanged": self.unchanged}


def compare(now: list[Episode], before: list[Episode], until: float) -> Change:
    change = Change()
    left = sorted(before, key=lambda e: (e.labels, e.start))
    used: set[int] = set()
    for episode in sorted(now, key=lambda e: (e.start, e.labels)):
        end = episode.end if episode.end is not None else until
        match = next((k for k, old in enumerate(left) if k not in used
                      and old.labels == episode.labels and old.start < max(end, episode.start
                                                                           + 1e-9)
                      and episode.start < (old.end if old.end is not None else until)),
                     None)
        if match is None:
            change.added.append(episode)
            continue
        used.add(match)
        old = left[match]
        if (old.start, old.end) == (episode.start, episode.end):
            change.unchanged += 1
        else:
            change.shifted.append((old, episode))
    change.removed = [old for k, old in enumerate(left) if k not in used]
    return change


def pair(now: list[Result], before: list[Result]) -> list[tuple[Result | None, Result | None]]:
    """The results of two versions side by side, matched by alert name (and, among alerts of
    one name, by order); an alert only in one version is paired with None."""
    waiting: dict[str, list[Result]] = {}
    for result in before:
        waiting.setdefault(result.rule.name, []).append(result)
    out: list[tuple[Result | None, Result | None]] = []
    for result in now:
        same = waiting.get(result.rule.name) or []
        out.append((result, same.pop(0) if same else None))
    out += [(None, r) for rs in waiting.values() for r in rs]
    return out


# --- pictures -----------------------------------------------------------------------------

def picture(now: Result | None, before: Result | None, start: float, end: float,
            step: float, subtitle: str) -> timeline.Picture:
    """The timeline of one alert: the series its picture draws against the threshold, a
    strip of states per alert identity, the other version's strips and threshold beside."""
    shown = now or before
    assert shown is not None
    p = timeline.Picture(f"{shown.rule.name}  ({shown.rule.where})", subtitle, start, end,
                         step, lines=dict(shown.lines),
                         threshold=shown.plot.threshold if shown.plot else None)
    if now is not None and before is not None and before.plot is not None:
        if before.plot.threshold != p.threshold:
            p.threshold_before = before.plot.threshold
    for result, is_before in ((now, False), (before, True)):
        if result is None:
            continue
        strips: dict[tuple, timeline.Strip] = {}
        for kind, episodes_ in (("firing", result.episodes), ("pending", result.pending)):
            for e in episodes_:
                strip = strips.setdefault(e.labels, timeline.Strip(
                    _shown(e.labels), before=is_before))
                getattr(strip, kind).append(timeline.Span(e.start, e.end))
        p.strips += [strips[k] for k in sorted(strips)]
    return p
