"""promql-parser's AST -> promcontract.promql.nodes.

promql-parser (PyPI; Rust-backed bindings of a PromQL parser following Prometheus' grammar)
parses in ~27 us and keeps what the tree needs (aggregation grouping, binary matching and
cardinality, function return types); it has no source positions, which nothing here needs.
"""

from __future__ import annotations

import functools

from promcontract.promql.nodes import (
    Aggregate,
    Binary,
    Call,
    Matcher,
    Matrix,
    Node,
    Number,
    Paren,
    Selector,
    String,
    Subquery,
    Unary,
    walk,
)

_MATCH_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}
_CARD = {"ManyToOne": "group_left", "OneToMany": "group_right"}


class ParseError(ValueError):
    """The text is not PromQL (promtool stays the authority on the message)."""


@functools.lru_cache(maxsize=4096)
def parse(expr: str) -> Node:
    """``expr`` as a tree; ``ParseError`` when promql-parser cannot read it."""
    # promql-parser (a compiled extension) loads on first parse: verify/push never parse.
    import promql_parser

    try:
        parsed = promql_parser.parse(expr)
    except BaseException as exc:  # the bindings raise ValueError, and PanicException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ParseError(str(exc).splitlines()[0] if str(exc) else "cannot parse") from None
    return _convert(parsed)


def _seconds(delta) -> float | None:  # noqa: ANN001 - a datetime.timedelta
    return None if delta is None else delta.total_seconds()


def _at(at) -> str | None:  # noqa: ANN001 - an AtModifier
    if at is None:
        return None
    kind = str(at.type).rsplit(".", 1)[-1]
    if kind == "Start":
        return "start()"
    if kind == "End":
        return "end()"
    return f"{at.at.timestamp():.3f}"


def _matchers(items) -> tuple[Matcher, ...]:  # noqa: ANN001
    return tuple(Matcher(m.name, _MATCH_OPS[str(m.op).rsplit(".", 1)[-1]], m.value)
                 for m in items)


def _selector(node) -> Selector:  # noqa: ANN001 - a promql_parser.VectorSelector
    return Selector(node.name, _matchers(node.matchers.matchers),
                    tuple(_matchers(group) for group in node.matchers.or_matchers),
                    _seconds(node.offset), _at(node.at))


def _convert(node) -> Node:  # noqa: ANN001, C901 - one branch per node type
    import promql_parser as p  # loaded by parse() already: a lookup

    if isinstance(node, p.NumberLiteral):
        return Number(float(node.val))
    if isinstance(node, p.StringLiteral):
        return String(node.val)
    if isinstance(node, p.VectorSelector):
        return _selector(node)
    if isinstance(node, p.MatrixSelector):
        return Matrix(_selector(node.vector_selector), node.range.total_seconds())
    if isinstance(node, p.SubqueryExpr):
        return Subquery(_convert(node.expr), node.range.total_seconds(), _seconds(node.step),
                        _seconds(node.offset), _at(node.at))
    if isinstance(node, p.Call):
        return Call(node.func.name, tuple(_convert(a) for a in node.args))
    if isinstance(node, p.AggregateExpr):
        grouping, labels = None, ()
        if node.modifier is not None:
            grouping = "by" if str(node.modifier.type).endswith("By") else "without"
            labels = tuple(node.modifier.labels)
        param = _convert(node.param) if node.param is not None else None
        return Aggregate(str(node.op), _convert(node.expr), param, grouping, labels)
    if isinstance(node, p.BinaryExpr):
        modifier = node.modifier
        matching, labels, card, group_labels, return_bool = None, (), None, (), False
        if modifier is not None:
            return_bool = bool(modifier.return_bool)
            if modifier.matching is not None:
                matching = "on" if str(modifier.matching.type).endswith("Include") else \
                    "ignoring"
                labels = tuple(modifier.matching.labels)
            card = _CARD.get(str(modifier.card).rsplit(".", 1)[-1])
            group_labels = tuple(modifier.group_labels or ())
        return Binary(str(node.op), _convert(node.lhs), _convert(node.rhs), return_bool,
                      matching, labels, card, group_labels)
    if isinstance(node, p.UnaryExpr):
        return Unary("-", _convert(node.expr))
    if isinstance(node, p.ParenExpr):
        return Paren(_convert(node.expr))
    raise ParseError(f"unsupported PromQL node {type(node).__name__}")


def metrics_read(expr: str) -> set[str] | None:
    """Metric names ``expr`` reads (None: it reads by regex on the name, so anything);
    ``ParseError`` when it is not PromQL."""
    names = set()
    for node, _ in walk(parse(expr)):
        if isinstance(node, Selector):
            if not node.name:
                return None
            names.add(node.name)
    return names
