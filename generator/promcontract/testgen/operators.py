"""Mutation operators: every small, plausible mistake in one alerting rule.

Each operator rewrites the rule's PromQL tree (or its ``for:`` / ``keep_firing_for``) in one
place; a test suite that pins the rule fails on every such mutant. The operators:

- ``literal``: every number literal +-1 (``26`` in ``26 * 3600`` moves the threshold by an
  hour: its own unit);
- ``constant``: a comparison against a constant expression (``> 26 * 3600``) moved by +-1 as
  a whole (one second, for an age in seconds);
- ``strictness``: ``>`` <-> ``>=``, ``<`` <-> ``<=``;
- ``state``: ``== v`` / ``!= v`` moved to each neighbouring value (of the metric's enum when a
  contract says what it is, else v-1 and v+1);
- ``set-operator``: ``and``, ``or``, ``unless``, each swapped for the two others;
- ``matching-label``: one label dropped from ``on(...)``, ``ignoring(...)``, ``by(...)``,
  ``without(...)``;
- ``absent-branch``: ``... or absent(...)`` without its absent branch;
- ``fallback``: the ``0 *`` of a fallback (``or on(job) 0 * max(...)``) made ``1 *``;
- ``range``: a range, offset or subquery duration +-1 in its largest whole unit;
- ``for`` and ``keep_firing_for``: +-1 evaluation step, and +-1 unit of how it is written.

A mutant that provably behaves like the rule on every input is listed as equivalent with the
reason, and not run; the proofs used are in :func:`_equivalence` and each is narrow on purpose.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from promcontract.durations import format_duration, in_unit_of, parse_duration, written_unit
from promcontract.numbers import format_number
from promcontract.promql import labels as plabels
from promcontract.promql import parse
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
    Subquery,
    at_path,
    replace_child,
    text,
    unparen,
    walk,
)

OPERATORS = ("literal", "constant", "strictness", "state", "set-operator", "matching-label",
             "absent-branch", "fallback", "range", "for", "keep_firing_for")

# Functions whose result is a whole number for any input (counts of series or samples).
_INTEGRAL_FUNCS = {"count_over_time", "changes", "resets", "absent", "absent_over_time",
                   "present_over_time", "timestamp"}
_SHOWN = 90  # characters of context a one-line diff shows around the change


@dataclass(frozen=True)
class Hints:
    """What a contract knows about the metrics: enum values (for ``state``) and which
    metrics only take whole numbers (for strictness-flip equivalence)."""

    states: Mapping[str, tuple[float, ...]] = dataclasses.field(default_factory=dict)
    integral: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Mutation:
    """One mutant of one alerting rule."""

    operator: str
    before: str  # the changed part, as written in the rule
    after: str  # ... and as the mutant has it
    expr: str  # the mutant's expression
    for_: str | None  # the mutant's for: (None: none)
    keep_firing_for: str | None
    equivalent: str = ""  # why it cannot be told apart (not run), or ""

    @property
    def diff(self) -> str:
        return f"{self.before} -> {self.after}"


def mutations(expr: str, for_: str | None, keep_firing_for: str | None, step: float,
              hints: Hints | None = None) -> list[Mutation]:
    """Every mutant of the rule ``expr`` / ``for_`` / ``keep_firing_for``, evaluated every
    ``step`` seconds, without duplicates (the same mutant text reached by two operators is
    listed under the first)."""

    hints = hints or Hints()
    tree = parse(expr)
    seen = {(text(tree), for_, keep_firing_for)}
    out: list[Mutation] = []

    def add(operator: str, before: str, after: str, new_tree: Node | None,
            new_for: str | None = for_, new_keep: str | None = keep_firing_for,
            equivalent: str = "") -> None:
        new_expr = text(new_tree) if new_tree is not None else text(tree)
        key = (new_expr, new_for, new_keep)
        if key in seen:
            return
        seen.add(key)
        out.append(Mutation(operator, before, after, new_expr, new_for, new_keep, equivalent))

    for operator, path, new in _expr_mutants(tree, hints):
        mutated = replace_child(tree, path, new)
        before, after = _shown(tree, mutated, path)
        add(operator, before, after, mutated,
            equivalent=_equivalence(operator, tree, path, new, hints))
    for operator, old, new, reason in _duration_mutants(for_, "for", step) + \
            _duration_mutants(keep_firing_for, "keep_firing_for", step):
        add(operator, f"{operator}: {old}", f"{operator}: {new or 'none'}", None,
            new_for=new if operator == "for" else for_,
            new_keep=new if operator == "keep_firing_for" else keep_firing_for,
            equivalent=reason)
    return out


# --- the operators over the tree -------------------------------------------------------------

def _expr_mutants(tree: Node, hints: Hints) -> Iterator[tuple[str, tuple[int, ...],
                                                              Node | None]]:
    """(operator, path, replacement) for every change; a None replacement removes the
    operand at ``path`` (the binary above it becomes its other operand)."""
    state_numbers = set()
    for node, path in walk(tree):
        if isinstance(node, Binary) and node.op in ("==", "!=") and not node.return_bool:
            side = _constant_side(node)
            if side is not None and isinstance(at_path(node, (side,)), Number):
                state_numbers.add(path + (side,))
    for node, path in walk(tree):
        if isinstance(node, Number):
            if path in state_numbers:
                parent = at_path(tree, path[:-1])
                for value in _state_neighbours(parent, path[-1], node.value, hints):
                    yield "state", path, Number(value)
                continue
            for sign in (1, -1):
                operator = "fallback" if sign == 1 and _is_fallback_zero(tree, path) \
                    else "literal"
                yield operator, path, Number(node.value + sign)
        elif isinstance(node, Binary):
            yield from _binary_mutants(node, path)
        elif isinstance(node, Aggregate) and node.grouping:
            for label in node.labels:
                yield "matching-label", path, dataclasses.replace(
                    node, labels=tuple(x for x in node.labels if x != label))
        elif isinstance(node, Matrix):
            for moved in _moved_durations(node.range):
                yield "range", path, dataclasses.replace(node, range=moved)
        elif isinstance(node, Subquery):
            for moved in _moved_durations(node.range):
                yield "range", path, dataclasses.replace(node, range=moved)
        if isinstance(node, (Selector, Subquery)) and node.offset:
            for moved in _moved_durations(node.offset):
                yield "range", path, dataclasses.replace(node, offset=moved)


def _binary_mutants(node: Binary, path: tuple[int, ...]) -> Iterator[
        tuple[str, tuple[int, ...], Node | None]]:
    flips = {">": ">=", ">=": ">", "<": "<=", "<=": "<"}
    if node.op in flips:
        yield "strictness", path, dataclasses.replace(node, op=flips[node.op])
        side = _constant_side(node)
        if side is not None:
            constant = at_path(node, (side,))
            value = plabels.constant_value(constant)
            if not isinstance(constant, Number) and value is not None and math.isfinite(value):
                for sign in (1, -1):
                    yield "constant", path + (side,), Number(value + sign)
    if node.op in ("and", "or", "unless"):
        for other in ("and", "or", "unless"):
            if other != node.op:
                yield "set-operator", path, dataclasses.replace(node, op=other)
        if node.op == "or":
            for side in (0, 1):
                if _is_absent_branch(at_path(node, (side,))):
                    yield "absent-branch", path + (side,), None
    if node.matching:
        for label in node.labels:
            yield "matching-label", path, dataclasses.replace(
                node, labels=tuple(x for x in node.labels if x != label))


def _constant_side(node: Binary) -> int | None:
    """Which operand of a comparison is a constant expression (0 lhs, 1 rhs), if one is."""
    for side, operand in ((1, node.rhs), (0, node.lhs)):
        if plabels.constant_value(operand) is not None:
            return side
    return None


def _is_absent_branch(node: Node) -> bool:
    node = unparen(node)
    if isinstance(node, Call) and node.func == "label_replace" and node.args:
        node = unparen(node.args[0])
    return isinstance(node, Call) and node.func in ("absent", "absent_over_time")


def _is_fallback_zero(tree: Node, path: tuple[int, ...]) -> bool:
    """The ``0`` of ``0 * x`` on a side of ``or``: a series of zeros standing in when the
    other side has none."""
    if not path:
        return False
    parent = at_path(tree, path[:-1])
    if not (isinstance(parent, Binary) and parent.op == "*"
            and at_path(tree, path).value == 0):  # type: ignore[attr-defined]
        return False
    probe = path[:-1]
    while probe:
        above = at_path(tree, probe[:-1])
        if isinstance(above, Binary) and above.op == "or":
            return True
        if not isinstance(above, Paren):
            return False
        probe = probe[:-1]
    return False


def _state_neighbours(comparison: Binary, side: int, value: float,
                      hints: Hints) -> list[float]:
    """The values next to ``value`` the compared metric can take: its enum's neighbours when
    the contract lists them, else value-1 and value+1."""
    metric = _metric_of(at_path(comparison, (1 - side,)))
    states = hints.states.get(metric or "")
    if states and value in states:
        index = states.index(value)
        return [states[i] for i in (index - 1, index + 1) if 0 <= i < len(states)]
    return [value - 1, value + 1]


def _metric_of(node: Node) -> str | None:
    """The one metric name an expression reads, if it reads exactly one."""
    names = {n.name for n, _ in walk(node) if isinstance(n, Selector)}
    return names.pop() if len(names) == 1 else None


def _moved_durations(seconds: float) -> list[float]:
    """A duration +-1 in the largest unit that divides it (30m -> 29m, 31m); one of a unit
    moves by the next smaller one (1h -> 59m, 1h1m), so a range never becomes zero."""
    units = (86400, 3600, 60, 1, 0.001)
    for index, unit in enumerate(units):
        if seconds >= unit and round(seconds * 1000) % round(unit * 1000) == 0:
            if seconds == unit and index + 1 < len(units):
                unit = units[index + 1]
            return [seconds - unit, seconds + unit]
    return []


def _duration_mutants(written: str | None, field_name: str, step: float) -> list[
        tuple[str, str, str, str]]:
    """(operator, before, after, equivalence) for for:/keep_firing_for: +-1 evaluation step,
    and +-1 unit of how it is written (1h -> 0s, 2h), down to none.

    Rules are evaluated every ``step``: a for: of f fires at the first evaluation at least f
    after the condition began, so f and f' behave the same exactly when they round up to the
    same number of steps (45s and 46s, evaluated every 1m); keep_firing_for likewise."""
    if not written:
        if field_name == "for":
            return [(field_name, "0s", format_duration(step), "")]
        return []
    seconds = parse_duration(written)
    out: list[tuple[str, str, str, str]] = []
    unit = written_unit(written)
    for delta in (step, unit):
        for sign in (-1, 1):
            moved = max(seconds + sign * delta, 0.0)
            if moved == seconds:
                continue
            after = in_unit_of(moved, written) if moved else ""
            if field_name == "for" and not after:
                after = "0s"
            if any(item[2] == after for item in out):
                continue
            reason = ""
            if math.ceil(moved / step) == math.ceil(seconds / step):
                reason = (f"{field_name} {written} and {after or 'none'} round up to the same "
                          f"number of {format_duration(step)} evaluation steps, so no "
                          "evaluation tells them apart")
            out.append((field_name, written, after, reason))
    return out


def _shown(before: Node, after: Node, path: tuple[int, ...]) -> tuple[str, str]:
    """The change in context: the changed node's parent when short enough to read on one
    line, else the node itself."""
    old = new = ""
    for probe in ([path[:-1]] if path else []) + [path]:
        old, new = text(at_path(before, probe)), _text_at(after, probe)
        if len(old) <= _SHOWN:
            break
    return _clip(old), _clip(new)


def _text_at(tree: Node, path: tuple[int, ...]) -> str:
    try:
        return text(at_path(tree, path))
    except (IndexError, ValueError):
        return text(tree)


def _clip(value: str) -> str:
    return value if len(value) <= _SHOWN * 2 else value[:_SHOWN] + " ... " + value[-40:]


# --- provable equivalence ----------------------------------------------------------------------

def _equivalence(operator: str, tree: Node, path: tuple[int, ...], new: Node | None,
                 hints: Hints) -> str:
    """Why the mutant cannot differ from the rule on any input, or ""."""
    if operator == "matching-label":
        return _dropped_label_equivalence(at_path(tree, path), new)
    if operator == "strictness":
        return _strictness_equivalence(at_path(tree, path), hints) or \
            _zero_guard_equivalence(tree, path)
    if operator == "literal" and new is not None and _zero_guard_literal(tree, path, new):
        return _zero_guard_equivalence(tree, path[:-1])
    if operator == "literal" and _is_fallback_zero(tree, path) and new is not None:
        return _negative_fallback_equivalence(tree, path)
    if operator == "literal" and new is not None:
        return _quiet_default_equivalence(tree, path, new)
    return ""


_HOLDS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
          "<=": lambda a, b: a <= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def _quiet_default_equivalence(tree: Node, path: tuple[int, ...], new: Node) -> str:
    """``(x or on() vector(0)) > 5``: where x has no series the default stands in, and a
    default that fails the comparison, before and after the mutation, never fires either
    way (no alert, so no $value shown): the mutant behaves as the rule on every input."""
    if len(path) < 2:
        return ""
    call = at_path(tree, path[:-1])
    if not (isinstance(call, Call) and call.func == "vector"):
        return ""
    probe = path[:-1]
    below: Node = call
    while probe:
        above = at_path(tree, probe[:-1])
        if isinstance(above, Paren):
            below, probe = above, probe[:-1]
            continue
        if isinstance(above, Binary) and above.op == "or" and probe[-1] == 1 and \
                not above.labels:
            below, probe = above, probe[:-1]
            continue
        break
    if not probe or below is call:
        return ""
    comparison = at_path(tree, probe[:-1])
    if not (isinstance(comparison, Binary) and comparison.op in _HOLDS
            and not comparison.return_bool):
        return ""
    side = probe[-1]
    limit = plabels.constant_value(comparison.rhs if side == 0 else comparison.lhs)
    before = plabels.constant_value(at_path(tree, path))
    after = plabels.constant_value(new)
    if limit is None or before is None or after is None:
        return ""
    holds = _HOLDS[comparison.op]
    fires = [holds(v, limit) if side == 0 else holds(limit, v) for v in (before, after)]
    if any(fires):
        return ""
    return (f"the default vector({format_number(before)}) and vector({format_number(after)}) "
            f"both fail {comparison.op} {format_number(limit)}: where it stands in, neither "
            "fires")


def _dropped_label_equivalence(node: Node, new: Node | None) -> str:
    """Set operators and many-to-one matching keep the operands' labels, so dropping a label
    from on(...) changes nothing when every series on both sides carries it with one and the
    same value (``job="drift-detection"`` on every selector)."""
    if not (isinstance(node, Binary) and isinstance(new, Binary) and node.matching == "on"):
        return ""
    if node.card is None and node.op not in ("and", "or", "unless"):
        return ""  # one-to-one keeps only the on(...) labels: dropping one changes the output
    dropped = set(node.labels) - set(new.labels)
    if len(dropped) != 1:
        return ""
    label = dropped.pop()
    left, right = plabels.fixed(node.lhs), plabels.fixed(node.rhs)
    if label in left and left.get(label) == right.get(label):
        return (f'every series on both sides of "{node.op}" has {label}="{left[label]}", so '
                f"matching on it or not pairs the same series")
    return ""


_RATES = ("rate", "irate", "increase")


def _zero_guard_literal(tree: Node, path: tuple[int, ...], new: Node) -> bool:
    """The literal mutant turns ``d > 0`` into ``d > c`` with -1 <= c < 0 (the same as
    ``d >= 0`` for a d that is never negative)."""
    if not path:
        return False
    after = plabels.constant_value(new)
    guard = at_path(tree, path[:-1])
    return after is not None and -1 <= after < 0 and isinstance(guard, Binary) and \
        _guard_side(guard) is not None


def _guard_side(node: Binary) -> Node | None:
    """``d`` of ``d > 0`` (or ``0 < d``), else None."""
    if node.return_bool:
        return None
    if node.op == ">" and plabels.constant_value(node.rhs) == 0 and \
            plabels.constant_value(node.lhs) is None:
        return unparen(node.lhs)
    if node.op == "<" and plabels.constant_value(node.lhs) == 0 and \
            plabels.constant_value(node.rhs) is None:
        return unparen(node.rhs)
    return None


def _unscaled(node: Node) -> Node:
    """``node`` without positive constant factors around it (``100 * x``, ``x / 60``)."""
    node = unparen(node)
    while isinstance(node, Binary) and node.op in ("*", "/") and not node.matching:
        right, left = plabels.constant_value(node.rhs), plabels.constant_value(node.lhs)
        if right is not None and right > 0 and left is None:
            node = unparen(node.lhs)
        elif node.op == "*" and left is not None and left > 0 and right is None:
            node = unparen(node.rhs)
        else:
            break
    return node


def _rate_of(node: Node) -> tuple | None:
    """(aggregation, grouping, labels, function, metric, range, matchers) of ``rate(m[w])``,
    ``increase(...)`` or ``sum by (l) (rate(...))``, positive constant factors aside: a never
    negative rate of a counter (0 exactly where the counter did not move)."""
    node = _unscaled(node)
    outer: tuple = (None, None, ())
    if isinstance(node, Aggregate):
        if node.op != "sum" or node.param is not None:
            return None
        outer = ("sum", node.grouping, tuple(sorted(node.labels)))
        node = _unscaled(node.expr)
    if not (isinstance(node, Call) and node.func in _RATES and len(node.args) == 1):
        return None
    matrix = node.args[0]
    if not isinstance(matrix, Matrix) or not matrix.selector.name or \
            matrix.selector.offset or matrix.selector.at or matrix.selector.or_matchers:
        return None
    return (*outer, node.func, matrix.selector.name, matrix.range,
            frozenset(matrix.selector.matchers))


def _divides_by(node: Node, denominator: Node) -> bool:
    """Whether ``node`` is ``n / d`` (times or divided by positive constants) where ``n``
    selects a part of what ``d`` selects (the same rate of the same counter, by the same
    grouping, with every matcher of ``d`` and maybe more): where ``d`` is 0, so is ``n``,
    and the ratio is NaN. ``on (l)`` naming exactly the grouping labels pairs as no
    matching does."""
    node = _unscaled(node)
    if not (isinstance(node, Binary) and node.op == "/"):
        return False
    part, whole = _rate_of(node.lhs), _rate_of(node.rhs)
    if part is None or whole is None or part[:-1] != whole[:-1] or not part[-1] >= whole[-1]:
        return False
    if node.matching and not (node.card is None and (
            (node.matching == "on" and set(node.labels) == set(whole[2]) and whole[1] == "by")
            or (node.matching == "ignoring" and not node.labels))):
        return False  # matching that pairs other series than the plain one-to-one would
    return text(_unscaled(node.rhs)) == text(denominator)


def _conjuncts(node: Node) -> Iterator[Node]:
    """The operands of a chain of plain ``and`` (each one a superset of the chain's result)."""
    node = unparen(node)
    if isinstance(node, Binary) and node.op == "and" and not node.matching:
        yield from _conjuncts(node.lhs)
        yield from _conjuncts(node.rhs)
    else:
        yield node


def _zero_guard_equivalence(tree: Node, path: tuple[int, ...]) -> str:
    """``n / d > 0.05 and d > 0`` where n counts a part of what d counts (errors of all
    requests): at d = 0, n = 0 too and n / d is NaN, which no comparison passes; so letting
    d = 0 through the guard (``d >= 0``, or ``d > -1``: a rate is never negative) adds
    only series the other side of ``and`` does not have. Plain ``and`` only (both sides
    keep the same labels)."""
    guard = at_path(tree, path)
    if not isinstance(guard, Binary):
        return ""
    denominator = _guard_side(guard)
    if denominator is None or _rate_of(denominator) is None:
        return ""
    probe = path
    while probe:
        above = at_path(tree, probe[:-1])
        if isinstance(above, Paren):
            probe = probe[:-1]
            continue
        if not (isinstance(above, Binary) and above.op == "and" and not above.matching):
            return ""
        other = above.rhs if probe[-1] == 0 else above.lhs
        if any(_divides_by(at_path(node, (1 - _constant_side(node),)), denominator)
               for node in _conjuncts(other) if isinstance(node, Binary)
               and node.op in COMPARISONS and not node.return_bool
               and _constant_side(node) is not None):
            return (f"where {text(denominator)[:60]} is 0 the ratio beside it is 0/0 "
                        "(its numerator counts a part of the same series), which fails "
                        "every comparison: letting 0 through the guard adds nothing")
        probe = probe[:-1]
    return ""


def _strictness_equivalence(node: Node, hints: Hints) -> str:
    """``x > 2.5`` and ``x >= 2.5`` agree when x only takes whole numbers."""
    if not isinstance(node, Binary):
        return ""
    side = _constant_side(node)
    if side is None:
        return ""
    value = plabels.constant_value(at_path(node, (side,)))
    other = at_path(node, (1 - side,))
    if value is None or not math.isfinite(value) or value == int(value):
        return ""
    if _integral(other, hints):
        return (f"{text(other)[:60]} only takes whole numbers, so it never equals "
                f"{format_number(value)}")
    return ""


def _integral(node: Node, hints: Hints) -> bool:
    node = unparen(node)
    if isinstance(node, Selector):
        return node.name in hints.integral
    if isinstance(node, Aggregate):
        if node.op in ("count", "count_values"):
            return True
        return node.op in ("sum", "max", "min", "topk", "bottomk") and \
            _integral(node.expr, hints)
    if isinstance(node, Call):
        return node.func in _INTEGRAL_FUNCS
    return False


def _negative_fallback_equivalence(tree: Node, path: tuple[int, ...]) -> str:
    """``x != on(l) (y or on(l) 0 * agg by (l) (x))``: where the fallback stands in, it
    compares x with 0 * x; the mutant compares x with -1 * x, and x != -x exactly when
    x != 0 (NaN and +-Inf included). Provable only when the fallback aggregates the very
    selector the comparison's other side is."""
    multiply = at_path(tree, path[:-1])
    if not isinstance(multiply, Binary):
        return ""
    aggregated = unparen(multiply.rhs if path[-1] == 0 else multiply.lhs)
    if not (isinstance(aggregated, Aggregate) and aggregated.op in ("max", "min", "avg",
                                                                    "sum")
            and aggregated.param is None):
        return ""
    probe = path[:-1]
    while probe:
        above = at_path(tree, probe[:-1])
        if isinstance(above, Binary) and above.op in ("==", "!=") and not above.return_bool:
            compared = unparen(above.lhs if probe[-1] == 1 else above.rhs)
            if compared == unparen(aggregated.expr) and \
                    set(aggregated.labels) == set(above.labels) and above.matching == "on":
                return (f"where the fallback stands in, {above.op} compares x with 0 * x; "
                        f"the mutant compares x with -1 * x, and x != -x exactly when x != 0")
            return ""
        probe = probe[:-1]
    return ""
