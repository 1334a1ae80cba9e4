"""What a picture of an alert draws: the series of its expression's first comparison with a
constant, against that constant."""

from __future__ import annotations

from dataclasses import dataclass

from promcontract.promql.labels import constant_value
from promcontract.promql.nodes import COMPARISONS, Aggregate, Binary, Selector, text, unparen
from promcontract.promql.parse import ParseError, parse


@dataclass(frozen=True)
class Plot:
    """What a picture draws of a rule: ``series`` (the side of its first comparison with a
    constant) against ``threshold``; a rule without one draws its own result."""
    series: str
    threshold: float | None = None


def plotted(expr: str) -> Plot:
    """The series and threshold to draw for ``expr``: its first comparison with a constant
    (not ``bool``), looked for from the top through parentheses and the left side of
    ``and``/``or``/``unless``; else the expression itself."""
    try:
        node = unparen(parse(expr))
    except ParseError:
        return Plot(expr)
    while isinstance(node, Binary):
        if node.op in COMPARISONS and not node.return_bool:
            right, left = constant_value(node.rhs), constant_value(node.lhs)
            if right is not None and left is None:
                return Plot(text(node.lhs), right)
            if left is not None and right is None:
                return Plot(text(node.rhs), left)
            break
        if node.op not in ("and", "or", "unless"):
            break
        node = unparen(node.lhs)
    return Plot(expr)


def selected_metric(series: str) -> str | None:
    """The metric ``series`` (a plotted series) shows as it is, or under one aggregation
    (``m{...}``, ``max by (job) (m{...})``); None for anything computed from it."""
    try:
        node = unparen(parse(series))
    except ParseError:
        return None
    if isinstance(node, Aggregate) and node.op in ("max", "min", "sum", "avg"):
        node = unparen(node.expr)
    return node.name if isinstance(node, Selector) else None
