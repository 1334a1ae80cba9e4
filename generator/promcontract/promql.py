"""PromQL for each alert kind: the expression text and the labels its result keeps.

One place decides what an alert kind means as PromQL, so the renderer, the semantic checks
(``$labels.x`` must survive the expression) and later the test derivation agree.
"""

from __future__ import annotations

import functools

from promcontract.exposition import escape_label_value
from promcontract.model import GATEWAY_LABELS, Alert, Contract, Invariant, format_number


def selector(contract: Contract, metric: str) -> str:
    """``metric{job="..."}``: scoped to the pushing job (Prometheus scrapes the gateway with
    honor_labels: true, so ``job`` is the pushed grouping key, not the scrape job)."""
    matchers = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in contract.grouping_key)
    return f"{metric}{{{matchers}}}"


def seconds_literal(seconds: float) -> str:
    """``26 * 3600`` for whole hours (as people write it), else plain seconds."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} * 3600"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} * 60"
    return number_literal(seconds)


def number_literal(value: float) -> str:
    return format_number(value)


# Invariant kinds that render as alerts (the others are checked by `verify` only).
INVARIANT_ALERT_KINDS = ("count_equals_state", "counts_sum_to_series", "present_for_states",
                         "absent_for_states", "present_with")


def _states(sel: str, states: tuple[int, ...]) -> str:
    return " or ".join(f"{sel} == {v}" for v in states)


def invariant_expr(inv: Invariant, contract: Contract) -> str:
    """PromQL that returns a series exactly when the invariant is broken."""
    sel = functools.partial(selector, contract)
    kind = inv.kind
    if kind == "count_equals_state":
        count, state = sel(inv.get("count")), sel(inv.get("state_metric"))
        # count by (job) of nothing is nothing: fall back to 0 for the job.
        return (f"{count} != on(job) (count by (job) ({state} == {inv.get('state')}) "
                f"or on(job) 0 * max by (job) ({count}))")
    if kind == "counts_sum_to_series":
        counts = [sel(m) for m in inv.get("counts")]
        total = " + ".join(counts)
        series = sel(inv.get("series"))
        return (f"({total}) != on(job) (count by (job) ({series}) "
                f"or on(job) 0 * max by (job) ({counts[0]}))")
    if kind in ("present_for_states", "absent_for_states"):
        state_metric = contract.metric(inv.get("state_metric"))
        on = ", ".join(("job",) + state_metric.labels)
        states = _states(sel(state_metric.name), inv.get("states"))
        metric = sel(inv.get("metric"))
        if kind == "present_for_states":
            return f"({states}) unless on({on}) {metric}"
        return f"{metric} and on({on}) ({states})"
    if kind == "present_with":
        return (f"max by (job) ({sel(inv.get('with'))}) unless on(job) "
                f"max by (job) ({sel(inv.get('metric'))})")
    raise ValueError(f"invariant kind {kind} has no alert form")


def alert_expr(alert: Alert, contract: Contract) -> str:
    if alert.kind == "invariant":
        assert alert.invariant is not None
        return invariant_expr(alert.invariant, contract)
    if alert.kind == "expr":
        assert alert.expr is not None
        return alert.expr
    assert alert.metric is not None and alert.threshold is not None
    sel = selector(contract, alert.metric)
    if alert.kind == "heartbeat_stale":
        # max by (job): one heartbeat per job whatever instance label it carries; absent()
        # of the same selector yields {job=...} too, so both branches have the same labels.
        expr = f"time() - max by (job) ({sel}) > {seconds_literal(alert.threshold)}"
        if alert.when_absent == "fire":
            expr = f"({expr}) or absent({sel})"
        return expr
    if alert.kind == "age_above":
        return f"time() - {sel} > {seconds_literal(alert.threshold)}"
    if alert.kind == "value_above":
        return f"{sel} {alert.comparison} {number_literal(alert.threshold)}"
    raise ValueError(f"unknown alert kind {alert.kind}")


def output_labels(alert: Alert, contract: Contract) -> frozenset[str] | None:
    """Labels present on every series the alert's expression returns (None: unknown)."""
    if alert.kind == "invariant":
        inv = alert.invariant
        assert inv is not None
        if inv.kind == "present_with":
            return frozenset({"job"})
        name = inv.get("metric") if inv.kind == "absent_for_states" else (
            inv.get("state_metric") if inv.kind == "present_for_states" else inv.get("count")
            if inv.kind == "count_equals_state" else inv.get("counts")[0])
        return frozenset(contract.metric(name).labels) | frozenset(GATEWAY_LABELS)
    if alert.kind == "expr":
        return None if alert.output_labels is None else frozenset(alert.output_labels)
    if alert.kind == "heartbeat_stale":
        return frozenset({"job"})
    metric = contract.metric(alert.metric or "")
    key_labels = {k for k, _ in contract.grouping_key}
    return frozenset(metric.labels) | frozenset(GATEWAY_LABELS) | key_labels
