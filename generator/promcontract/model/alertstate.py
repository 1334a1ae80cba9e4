"""Prometheus's alerting rule states over a run of evaluations, as ``rules/alerting.go`` keeps
them: a series of the expression's result becomes a pending alert, firing once it has held for
``for:``; when it leaves the result a pending alert is dropped and a firing one resolves, unless
``keep_firing_for`` keeps it firing (with its last value) while less than that has passed since
it first left. One engine for the derived tests' oracle and for backtest.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass


@dataclass
class _Active:
    since: float  # ActiveAt: the first evaluation of this run of the condition
    value: float
    firing: bool = False
    keep_since: float | None = None  # first evaluation without the condition, while kept


def firing(held_at: Callable[[float], dict[Hashable, float]], times: Iterable[float],
           for_s: float, keep_s: float) -> dict[float, dict[Hashable, float]]:
    """The firing alerts (identity -> $value) at each evaluation time, in order;
    ``held_at(t)``: the expression's result at t (identity -> value)."""
    active: dict[Hashable, _Active] = {}
    out: dict[float, dict[Hashable, float]] = {}
    for t in times:
        held = held_at(t)
        if not held and not active:  # nothing held, nothing pending or kept: the quiet case
            out[t] = {}
            continue
        kept: dict[Hashable, _Active] = {}
        for labels, value in held.items():
            state = active.get(labels)
            if state is None:
                state = _Active(t, value)
            state.value, state.keep_since = value, None
            kept[labels] = state
        for labels, state in active.items():
            if labels in held or not state.firing or keep_s <= 0:
                continue
            if state.keep_since is None:
                state.keep_since = t
            if t - state.keep_since < keep_s:
                kept[labels] = state
        for state in kept.values():
            if not state.firing and t - state.since >= for_s:
                state.firing = True
        active = kept
        out[t] = {labels: state.value for labels, state in active.items() if state.firing}
    return out
