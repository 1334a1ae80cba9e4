"""Labels a PromQL result is known to carry with one fixed value in every series.

``fixed(node)`` answers "which labels does every series of this result have, and with which
value?" from the query alone: a selector's equality matchers (``job="drift-detection"``)
fix those labels; aggregation keeps the fixed labels it groups by; arithmetic and comparison
keep the left side's (minus ``__name__`` for arithmetic). The mutation engine uses it to prove
a mutant equivalent: dropping ``job`` from ``on(job, stack)`` changes nothing when both sides
carry ``job="drift-detection"`` in every series. A label that may vary, or that may be absent,
is simply not in the answer, so a proof built on it errs towards "not equivalent" (the mutant
runs) and never the other way.
"""

from __future__ import annotations

from dataclasses import dataclass

from promcontract.promql.nodes import (
    COMPARISONS,
    Aggregate,
    Binary,
    Call,
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

# Functions that return their argument's series with the labels unchanged except __name__
# (Prometheus drops the metric name from every function result but last_over_time and a
# few others; keeping the rest of the label set is what matters here).
_KEEP_LABELS = {
    "abs", "ceil", "floor", "exp", "ln", "log2", "log10", "sqrt", "round", "clamp",
    "clamp_max", "clamp_min", "sgn", "delta", "deriv", "idelta", "increase", "irate", "rate",
    "changes", "resets", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
    "count_over_time", "last_over_time", "present_over_time", "stddev_over_time",
    "stdvar_over_time", "quantile_over_time", "mad_over_time", "predict_linear",
    "holt_winters", "double_exponential_smoothing", "timestamp", "day_of_month",
    "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year",
    "sort", "sort_desc", "sort_by_label", "sort_by_label_desc", "acos", "acosh", "asin",
    "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "deg", "rad",
    "histogram_count", "histogram_sum", "histogram_avg", "histogram_stddev",
    "histogram_stdvar", "histogram_fraction",
}
_SCALAR_FUNCS = {"time", "scalar", "pi"}


def equality_matchers(selector: Selector) -> dict[str, str]:
    """Labels a selector pins to one non-empty value (``=`` matchers, and the metric name)."""
    out = {m.name: m.value for m in selector.matchers if m.op == "=" and m.value != ""}
    if selector.or_matchers:  # {a="x" or b="y"}: only what every alternative pins
        for alternative in selector.or_matchers:
            theirs = {m.name: m.value for m in alternative if m.op == "=" and m.value}
            out = {k: v for k, v in out.items() if theirs.get(k) == v}
    if selector.name:
        out["__name__"] = selector.name
    return out


def is_scalar(node: Node) -> bool:
    """True when ``node`` is a scalar (number literal, time(), scalar(...), arithmetic of
    scalars)."""
    while isinstance(node, (Paren, Unary)):
        node = node.expr
    if isinstance(node, Number):
        return True
    if isinstance(node, Call):
        return node.func in _SCALAR_FUNCS
    if isinstance(node, Binary) and node.op not in ("and", "or", "unless"):
        return is_scalar(node.lhs) and is_scalar(node.rhs)
    return False


def constant_value(node: Node) -> float | None:
    """The value of an expression made only of number literals and arithmetic
    (``26 * 3600`` -> 93600), else None."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Paren):
        return constant_value(node.expr)
    if isinstance(node, Unary):
        inner = constant_value(node.expr)
        return None if inner is None else -inner
    if isinstance(node, Binary) and node.op in ("+", "-", "*", "/", "^"):
        lhs, rhs = constant_value(node.lhs), constant_value(node.rhs)
        if lhs is None or rhs is None:
            return None
        try:
            if node.op == "+":
                return lhs + rhs
            if node.op == "-":
                return lhs - rhs
            if node.op == "*":
                return lhs * rhs
            if node.op == "/":
                return lhs / rhs if rhs else None
            return float(lhs ** rhs)
        except (OverflowError, ZeroDivisionError, TypeError):
            return None
    return None


def fixed(node: Node) -> dict[str, str]:  # noqa: C901 - one branch per node type
    """Labels every series of ``node``'s result carries, with their one value."""
    if isinstance(node, Selector):
        return equality_matchers(node)
    if isinstance(node, Matrix):
        return equality_matchers(node.selector)
    if isinstance(node, (Paren, Subquery)):
        return fixed(node.expr)
    if isinstance(node, Unary):
        return _without_name(fixed(node.expr))
    if isinstance(node, (Number, String)):
        return {}
    if isinstance(node, Aggregate):
        inner = fixed(node.expr)
        if node.op in ("topk", "bottomk", "limitk", "limit_ratio"):
            return inner
        if node.grouping == "by":
            return {k: v for k, v in inner.items() if k in node.labels}
        if node.grouping == "without":
            return {k: v for k, v in inner.items()
                    if k not in node.labels and k != "__name__"}
        return {}
    if isinstance(node, Call):
        return _call(node)
    if isinstance(node, Binary):
        return _binary(node)
    return {}


def _without_name(labels: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k != "__name__"}


def _call(node: Call) -> dict[str, str]:
    if node.func in ("absent", "absent_over_time") and node.args:
        # absent() returns one series with the selector's equality matchers as labels
        arg = node.args[0]
        selector = arg.selector if isinstance(arg, Matrix) else arg
        if isinstance(selector, Selector):
            return _without_name(equality_matchers(selector))
        return {}
    if node.func == "label_replace" and len(node.args) == 5:
        dst = node.args[1]
        inner = fixed(node.args[0])
        if isinstance(dst, String):
            inner = {k: v for k, v in inner.items() if k != dst.value}
            replacement, regex = node.args[2], node.args[4]
            if (isinstance(replacement, String) and isinstance(regex, String)
                    and regex.value == "" and "$" not in replacement.value
                    and replacement.value):
                # regex "" matches the empty source label of every series: a constant label
                source = node.args[3]
                if isinstance(source, String) and source.value not in inner:
                    inner[dst.value] = replacement.value
        return _without_name(inner)
    if node.func in _KEEP_LABELS and node.args:
        vector_args = [a for a in node.args if not isinstance(a, (Number, String))]
        return _without_name(fixed(vector_args[0])) if vector_args else {}
    return {}


def _binary(node: Binary) -> dict[str, str]:
    lhs_scalar, rhs_scalar = is_scalar(node.lhs), is_scalar(node.rhs)
    if node.op in ("and", "unless"):
        return fixed(node.lhs)
    if node.op == "or":
        left, right = fixed(node.lhs), fixed(node.rhs)
        return {k: v for k, v in left.items() if right.get(k) == v}
    if lhs_scalar and rhs_scalar:
        return {}
    keep_name = node.op in COMPARISONS and not node.return_bool
    if lhs_scalar:
        labels = fixed(node.rhs)
    elif rhs_scalar or node.card != "group_right":
        labels = fixed(node.lhs)
    else:
        labels = fixed(node.rhs)
    if node.card and node.group_labels and not (lhs_scalar or rhs_scalar):
        # group_left(l): l comes from the other side, whatever value it has there
        labels = {k: v for k, v in labels.items() if k not in node.group_labels}
    if node.card is None and not (lhs_scalar or rhs_scalar):
        # one-to-one matching keeps only the on(...) labels, or drops the ignoring(...) ones
        # (comparisons too: `a > on(job) b` returns {job="..."}; checked with promtool)
        if node.matching == "on":
            labels = {k: v for k, v in labels.items() if k in node.labels}
        elif node.matching == "ignoring":
            labels = {k: v for k, v in labels.items() if k not in node.labels}
    return labels if keep_name else _without_name(labels)


# --- which labels a result may carry at all (for annotations that use $labels.x) ----------------

@dataclass(frozen=True)
class Kept:
    """``known``: the result has at most these labels; else any label except ``excluded``.
    What is not understood counts as "may keep every label", so it never yields a finding."""

    known: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()
    scalar: bool = False

    def drops(self, label: str) -> bool:
        if self.scalar:
            return True
        if self.known is not None:
            return label not in self.known
        return label in self.excluded

    def describe(self) -> str:
        if self.scalar:
            return "a scalar, no labels"
        if self.known is not None:
            return "keeps: " + (", ".join(sorted(self.known)) or "no labels")
        return "drops: " + ", ".join(sorted(self.excluded))

    def only(self, names: set[str] | frozenset[str]) -> Kept:
        if self.known is not None:
            return Kept(self.known & frozenset(names))
        return Kept(frozenset(names) - self.excluded)

    def minus(self, names: set[str] | frozenset[str]) -> Kept:
        if self.known is not None:
            return Kept(self.known - frozenset(names))
        return Kept(None, self.excluded | frozenset(names))

    def plus(self, names: set[str] | frozenset[str]) -> Kept:
        if self.known is not None:
            return Kept(self.known | frozenset(names))
        return Kept(None, self.excluded - frozenset(names))


ANY = Kept()
NONE = Kept(frozenset())
SCALAR = Kept(scalar=True)


def result_labels(node: Node) -> Kept:  # noqa: C901 - one branch per node type
    """The labels ``node``'s result can carry."""
    if isinstance(node, (Selector, Matrix)):
        return ANY
    if isinstance(node, (Number, String)):
        return SCALAR
    if isinstance(node, (Paren, Unary, Subquery)):
        return result_labels(node.expr)
    if isinstance(node, Aggregate):
        inner = result_labels(node.expr)
        if node.op in ("topk", "bottomk", "limitk", "limit_ratio"):
            return inner
        extra: set[str] = set()
        if node.op == "count_values" and isinstance(node.param, String):
            extra.add(node.param.value)  # the label count_values writes the values into
        if node.grouping == "by":
            return inner.only(set(node.labels)).plus(extra) if inner.known is not None \
                else Kept(frozenset(node.labels) | frozenset(extra))
        if node.grouping == "without":
            return inner.minus(set(node.labels)).plus(extra)
        return Kept(frozenset(extra))
    if isinstance(node, Call):
        return _call_labels(node)
    if isinstance(node, Binary):
        return _binary_labels(node)
    return ANY


def _call_labels(node: Call) -> Kept:
    if node.func in _SCALAR_FUNCS:
        return SCALAR
    if node.func == "vector":
        return NONE
    if node.func in ("absent", "absent_over_time") and node.args:
        arg = node.args[0]
        selector = arg.selector if isinstance(arg, Matrix) else arg
        if isinstance(selector, Selector):
            return Kept(frozenset(_without_name(equality_matchers(selector))))
        return NONE
    vector_args = [a for a in node.args if not isinstance(a, (Number, String))]
    if not vector_args:
        return SCALAR if node.func in ("time",) else ANY
    inner = result_labels(vector_args[0])
    if node.func in ("label_replace", "label_join") and len(node.args) > 1 and \
            isinstance(node.args[1], String):
        return inner.plus({node.args[1].value})
    if node.func == "histogram_quantile":
        return inner.minus({"le"})
    return inner


def _binary_labels(node: Binary) -> Kept:
    left, right = result_labels(node.lhs), result_labels(node.rhs)
    if node.op in ("and", "unless"):
        return left
    if node.op == "or":
        if left.scalar or right.scalar:
            return ANY
        if left.known is not None and right.known is not None:
            return Kept(left.known | right.known)
        return Kept(None, (left.excluded if left.known is None else frozenset())
                    & (right.excluded if right.known is None else frozenset()))
    if left.scalar and right.scalar:
        return SCALAR
    if left.scalar:
        return right
    if right.scalar:
        return left
    if node.card == "group_right":
        return right.plus(set(node.group_labels))
    if node.card == "group_left":
        return left.plus(set(node.group_labels))
    if node.matching == "on":
        return left.only(set(node.labels))
    if node.matching == "ignoring":
        return left.minus(set(node.labels))
    return left


def named(node: Node) -> set[str]:
    """Every label name ``node`` names: in matchers, aggregation and vector matching, and
    every string in it (``label_replace``'s target, ``count_values``' label), so a label
    that is not in the answer cannot come out of the query other than from its input
    series."""
    out: set[str] = set()
    for item, _ in walk(node):
        if isinstance(item, Selector):
            matchers = [*item.matchers, *(m for group in item.or_matchers
                                                         for m in group)]
            out |= {m.name for m in matchers}
        elif isinstance(item, Aggregate):
            out |= set(item.labels)
        elif isinstance(item, Binary):
            out |= set(item.labels) | set(item.group_labels)
        elif isinstance(item, String):
            out.add(item.value)
    return out
