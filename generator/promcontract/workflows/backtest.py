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
from promcontract.model import alertstate
from promcontract.problems import UserError
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
    states = alertstate.firing(lambda t: held.get(round(t, 3), {}), times, rule.for_s,
                               rule.keep_s)
    open_since: dict[tuple, float] = {}
    out: list[Episode] = []
    for t in times:
        now = states[t]
        for identity in list(open_since):
            if identity not in now:
                out.append(Episode(identity, open_since.pop(identity), t))
        for identity in now:
            open_since.setdefault(identity, t)
    out += [Episode(identity, since, None) for identity, since in open_since.items()]
    return sorted(out, key=lambda e: (e.start, e.labels))


def run(api: Api, rules: list[AlertRule], start: float, end: float, step: float,
        progress: Callable[[str], None] | None = None) -> list[Result]:
    count = int(math.floor((end - start) / step + 1e-9)) + 1
    times = [round(start + k * step, 3) for k in range(count)]
    out = []
    for rule in rules:
        held, queries = evaluate(api, rule, start, end, step, progress)
        out.append(Result(rule, episodes(rule, held, times), queries=queries))
    return out
