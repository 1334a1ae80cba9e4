"""What a kind's ``recognise`` reads: a hand-written alert expression taken apart once.

``import`` asks every kind whether an expression is one of its own (``AlertKind.recognise``);
the kind answers with its fields, with a reason it cannot take this one (an absent branch it
has no field for), or with None (not its shape). This module holds the parts every kind
needs: the comparison at the top, an ``or absent(m)`` branch split off, one selector per
metric (a narrower selector is refused: a contract's metric is all of its series).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promcontract.durations import parse_duration
from promcontract.promql import labels as plabels
from promcontract.promql.nodes import Aggregate, Binary, Call, Matrix, Node, Selector, unparen


class Subset(Exception):
    """A selector narrower than the metric (a matcher besides job=)."""


@dataclass(frozen=True)
class Refused:
    """The shape is this kind's, but the kind cannot hold the expression (why)."""

    reason: str


Fields = dict[str, Any]


@dataclass(frozen=True)
class Shape:
    """``tree`` read as ``body [or absent(m)]`` with ``body`` a comparison when it is one."""

    tree: Node
    body: Node  # the tree without its absent branch, parentheses removed
    absent: bool  # an ``or absent(m)`` (or its label_replace form) was split off
    op: str | None = None  # the comparison of body, when it is one against a constant
    value: float | None = None  # that constant
    left: Node | None = None  # the compared side

    @classmethod
    def of(cls, tree: Node) -> Shape:
        body, absent = absent_branch(tree)
        if isinstance(body, Binary) and body.op in (">", "<", "==", ">=", "<=") and \
                not body.return_bool:
            value = plabels.constant_value(body.rhs)
            if value is not None:
                return cls(tree, body, absent, body.op, value, unparen(body.lhs))
        return cls(tree, body, absent)


def absent_branch(node: Node) -> tuple[Node, bool]:
    """``A or absent(m)`` (or the label_replace form) -> (A, True)."""
    node = unparen(node)
    if isinstance(node, Binary) and node.op == "or":
        right = unparen(node.rhs)
        if isinstance(right, Call) and right.func == "label_replace" and right.args:
            right = unparen(right.args[0])
        if isinstance(right, Call) and right.func == "absent":
            return unparen(node.lhs), True
    return node, False


def one_selector(node: Node) -> Selector | None:
    """``node`` as one whole metric's selector (None: not a selector; ``Subset``: narrower)."""
    node = unparen(node)
    if not (isinstance(node, Selector) and node.name):
        return None
    extra = [m for m in node.matchers if m.name not in ("job", "__name__")]
    if extra:
        shown = ", ".join(f"{m.name}{m.op}{m.value!r}" for m in extra)
        raise Subset(f"selects a subset of {node.name} ({shown}): a contract's metric is "
                     "all of its series")
    return node


def number(value: float) -> float | int:
    """10 rather than 10.0 in the written contract."""
    return int(value) if float(value).is_integer() else value


def seconds_text(value: float) -> str:
    """A duration as people write thresholds: 26h rather than 1d2h, 14d, 90s."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if value >= size and value % size == 0 and (unit != "d" or value % (7 * 86400) == 0
                                                    or value >= 7 * 86400):
            text = f"{int(value // size)}{unit}"
            if parse_duration(text) == value:
                return text
    return f"{int(value)}s" if float(value).is_integer() else f"{int(value * 1000)}ms"


def no_absent_branch(shape: Shape) -> Refused | None:
    """A kind without ``when_absent`` never takes an expression with an absent branch: the
    branch would be dropped silently."""
    return Refused("an absent branch on a kind that has none") if shape.absent else None


def age_of(shape: Shape) -> tuple[Selector, bool] | None:
    """``time() - X > N`` (or ``>=``) with X one metric, bare or under ``max`` without
    ``by``: (its selector, whether aggregated)."""
    left = shape.left
    if shape.op not in (">", ">=") or not (isinstance(left, Binary) and left.op == "-"):
        return None
    now = unparen(left.lhs)
    if not (isinstance(now, Call) and now.func == "time"):
        return None
    inner = unparen(left.rhs)
    aggregated = isinstance(inner, Aggregate) and inner.op == "max" and inner.param is None
    selector = one_selector(inner.expr if aggregated else inner)
    return (selector, aggregated) if selector is not None else None


def increase_of(shape: Shape) -> Matrix | None:
    """The range of ``increase(m[W]) <op> N``."""
    left = shape.left
    if isinstance(left, Call) and left.func == "increase" and left.args and \
            isinstance(unparen(left.args[0]), Matrix):
        return unparen(left.args[0])
    return None
