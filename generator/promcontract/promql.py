"""PromQL for each alert kind: the expression text and the labels its result keeps.

One place decides what an alert kind means as PromQL, so the renderer, the semantic checks
(``$labels.x`` must survive the expression) and later the test derivation agree.
"""

from __future__ import annotations

from promcontract.model import GATEWAY_LABELS, Alert, Contract


def selector(contract: Contract, metric: str) -> str:
    """``metric{job="..."}``: scoped to the pushing job (Prometheus scrapes the gateway with
    honor_labels: true, so ``job`` is the pushed grouping key, not the scrape job)."""
    matchers = ",".join(f'{k}="{_escape(v)}"' for k, v in contract.grouping_key)
    return f"{metric}{{{matchers}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def seconds_literal(seconds: float) -> str:
    """``26 * 3600`` for whole hours (as people write it), else plain seconds."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} * 3600"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} * 60"
    return number_literal(seconds)


def number_literal(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def alert_expr(alert: Alert, contract: Contract) -> str:
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
    if alert.kind == "expr":
        return None if alert.output_labels is None else frozenset(alert.output_labels)
    if alert.kind == "heartbeat_stale":
        return frozenset({"job"})
    metric = contract.metric(alert.metric or "")
    key_labels = {k for k, _ in contract.grouping_key}
    return frozenset(metric.labels) | frozenset(GATEWAY_LABELS) | key_labels
