"""The PromQL tree and its printer.

Printing puts parentheses where precedence needs them (Prometheus: ``^`` binds tightest and
is right-associative, then ``* / % atan2``, ``+ -``, comparisons, ``and unless``, ``or``; all
but ``^`` left-associative), so a rewritten tree prints as PromQL that parses back to itself
(a property test checks the round trip).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from promcontract.durations import format_duration
from promcontract.numbers import format_number

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class Node:
    """A PromQL expression."""

    def __str__(self) -> str:
        return text(self)


@dataclass(frozen=True)
class Number(Node):
    value: float


@dataclass(frozen=True)
class String(Node):
    value: str


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # = != =~ !~
    value: str


@dataclass(frozen=True)
class Selector(Node):
    name: str | None
    matchers: tuple[Matcher, ...] = ()
    or_matchers: tuple[tuple[Matcher, ...], ...] = ()  # Prometheus 3: {a="b" or c="d"}
    offset: float | None = None  # seconds
    at: str | None = None  # "start()", "end()" or unix seconds as text


@dataclass(frozen=True)
class Matrix(Node):
    selector: Selector
    range: float  # seconds


@dataclass(frozen=True)
class Subquery(Node):
    expr: Node
    range: float
    step: float | None = None
    offset: float | None = None
    at: str | None = None


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Aggregate(Node):
    op: str
    expr: Node
    param: Node | None = None
    grouping: str | None = None  # by | without
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Binary(Node):
    op: str
    lhs: Node
    rhs: Node
    return_bool: bool = False
    matching: str | None = None  # on | ignoring
    labels: tuple[str, ...] = ()
    card: str | None = None  # group_left | group_right
    group_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unary(Node):
    op: str
    expr: Node


@dataclass(frozen=True)
class Paren(Node):
    expr: Node


COMPARISONS = ("==", "!=", ">", "<", ">=", "<=")
SET_OPERATORS = ("and", "or", "unless")
_PRECEDENCE = {"or": 1, "and": 2, "unless": 2, "==": 3, "!=": 3, ">": 3, "<": 3, ">=": 3,
               "<=": 3, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "atan2": 5, "^": 6}


# --- walking and rewriting -----------------------------------------------------------------------

def unparen(node: Node) -> Node:
    """``node`` without the parentheses around it."""
    while isinstance(node, Paren):
        node = node.expr
    return node


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Matrix):
        return (node.selector,)
    if isinstance(node, (Subquery, Unary, Paren)):
        return (node.expr,)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Aggregate):
        return (node.param, node.expr) if node.param is not None else (node.expr,)
    if isinstance(node, Binary):
        return (node.lhs, node.rhs)
    return ()


def walk(node: Node) -> Iterator[tuple[Node, tuple[int, ...]]]:
    """Every node with its path (child indexes from the root), depth first, parents first."""
    stack: list[tuple[Node, tuple[int, ...]]] = [(node, ())]
    while stack:
        current, path = stack.pop()
        yield current, path
        kids = children(current)
        for index in range(len(kids) - 1, -1, -1):
            stack.append((kids[index], path + (index,)))


def at_path(node: Node, path: tuple[int, ...]) -> Node:
    for index in path:
        node = children(node)[index]
    return node


def replace_child(node: Node, path: tuple[int, ...], new: Node | None) -> Node:
    """``node`` with the node at ``path`` replaced by ``new``. ``new`` None removes a
    binary operand: the binary is replaced by its other operand."""
    if not path:
        if new is None:
            raise ValueError("cannot remove the root")
        return new
    index, rest = path[0], path[1:]
    child = children(node)[index]
    if new is None and not rest:
        if not isinstance(node, Binary):
            raise ValueError("only a binary operand can be removed")
        return node.rhs if index == 0 else node.lhs
    replaced = replace_child(child, rest, new)
    if isinstance(node, Matrix):
        return dataclasses.replace(node, selector=replaced)
    if isinstance(node, (Subquery, Unary, Paren)):
        return dataclasses.replace(node, expr=replaced)
    if isinstance(node, Call):
        args = list(node.args)
        args[index] = replaced
        return dataclasses.replace(node, args=tuple(args))
    if isinstance(node, Aggregate):
        if node.param is not None and index == 0:
            return dataclasses.replace(node, param=replaced)
        return dataclasses.replace(node, expr=replaced)
    if isinstance(node, Binary):
        return dataclasses.replace(node, **{"lhs" if index == 0 else "rhs": replaced})
    raise ValueError(f"{type(node).__name__} has no children")


# --- printing ------------------------------------------------------------------------------------

def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
        .replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def _label(name: str) -> str:
    return name if _LABEL.match(name) else _quote(name)


def _labels(names: tuple[str, ...]) -> str:
    return "(" + ", ".join(_label(n) for n in names) + ")"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return format_number(value)


def _duration(seconds: float) -> str:
    return format_duration(seconds) if seconds >= 0 else "-" + format_duration(-seconds)


def _matcher(m: Matcher) -> str:
    return f"{_label(m.name)}{m.op}{_quote(m.value)}"


def _modifiers(offset: float | None, at: str | None) -> str:
    out = ""
    if at is not None:
        out += f" @ {at}"
    if offset is not None:
        out += f" offset {_duration(offset)}"
    return out


def _selector(node: Selector, range_: float | None = None) -> str:
    name = node.name or ""
    quoted_name = name and not _NAME.match(name)
    matchers = [_matcher(m) for m in node.matchers]
    if quoted_name:
        matchers.insert(0, _quote(name))
        name = ""
    groups = [",".join(matchers)] if matchers else []
    groups += [",".join(_matcher(m) for m in alt) for alt in node.or_matchers]
    inner = " or ".join(groups)
    out = name + (f"{{{inner}}}" if inner or not name else "")
    if range_ is not None:
        out += f"[{_duration(range_)}]"
    return out + _modifiers(node.offset, node.at)


def _operand(node: Node, parent: str, right: bool) -> str:
    rendered = text(node)
    if isinstance(node, Binary):
        mine, theirs = _PRECEDENCE[node.op], _PRECEDENCE[parent]
        if mine < theirs or (mine == theirs and (right != (parent == "^"))):
            return f"({rendered})"
    elif isinstance(node, Unary) and parent == "^" and not right:
        return f"({rendered})"  # -a ^ b is -(a ^ b)
    elif isinstance(node, Number) and node.value < 0 and right is False and parent == "^":
        return f"({rendered})"
    return rendered


def text(node: Node) -> str:
    """``node`` as PromQL."""
    if isinstance(node, Number):
        return _number(node.value)
    if isinstance(node, String):
        return _quote(node.value)
    if isinstance(node, Selector):
        return _selector(node)
    if isinstance(node, Matrix):
        return _selector(node.selector, node.range)
    if isinstance(node, Subquery):
        inner = text(node.expr)
        if not isinstance(node.expr, (Selector, Call, Paren, Aggregate, Number, String)):
            inner = f"({inner})"
        step = _duration(node.step) if node.step is not None else ""
        return f"{inner}[{_duration(node.range)}:{step}]" + _modifiers(node.offset, node.at)
    if isinstance(node, Call):
        return f"{node.func}(" + ", ".join(text(a) for a in node.args) + ")"
    if isinstance(node, Aggregate):
        args = ([text(node.param)] if node.param is not None else []) + [text(node.expr)]
        grouping = f" {node.grouping} {_labels(node.labels)}" if node.grouping else ""
        return f"{node.op}{grouping} (" + ", ".join(args) + ")"
    if isinstance(node, Binary):
        out = _operand(node.lhs, node.op, False) + f" {node.op}"
        if node.return_bool:
            out += " bool"
        if node.matching:
            out += f" {node.matching}{_labels(node.labels)}"
        if node.card:
            out += f" {node.card}" + (_labels(node.group_labels) if node.group_labels else "")
        return out + " " + _operand(node.rhs, node.op, True)
    if isinstance(node, Unary):
        inner = text(node.expr)
        # -a ^ b parses as -(a ^ b): a power needs no parentheses under a sign
        if isinstance(node.expr, Binary) and node.expr.op != "^":
            inner = f"({inner})"
        return f"{node.op}{inner}"
    if isinstance(node, Paren):
        return f"({text(node.expr)})"
    raise TypeError(f"not a PromQL node: {node!r}")
