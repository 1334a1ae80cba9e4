"""PromQL text helpers the kinds render their expressions with (the kinds decide what an
expression means; see promcontract/kinds/)."""

from __future__ import annotations

from promcontract.labels import matchers
from promcontract.model.contract import Contract
from promcontract.numbers import format_number


def selector(contract: Contract, metric: str) -> str:
    """``metric{job="..."}``: scoped to the pushing job (Prometheus scrapes the gateway with
    honor_labels: true, so ``job`` is the pushed grouping key, not the scrape job)."""
    return f"{metric}{{{matchers(contract.grouping_key)}}}"


def seconds_literal(seconds: float) -> str:
    """``26 * 3600`` for whole hours (as people write it), else plain seconds."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} * 3600"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} * 60"
    return format_number(seconds)
