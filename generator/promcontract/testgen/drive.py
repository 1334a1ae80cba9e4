"""How to drive an alert expression across its thresholds: which input series move the compared
side of each comparison, and by how much.

For ``100 - avg(rate(cpu_idle[5m])) * 100 > 90`` the compared side follows the per-second slope
``q`` of ``cpu_idle`` as ``-100 * q + 100``: a counter rising 0.1 per second puts it exactly at
90. :func:`analyse` finds, for every comparison of an alert with a constant (and every
``absent()``), such a :class:`Drive` (a selector, what about its series moves the value, and
the linear map from that quantity to the compared value), plus the other series that must be
held at a neutral value (the denominator of a ratio at 1) and the other comparisons that must
be held true (an ``and on() uptime > 900`` guard) or false (the other branch of an ``or``) so
that the comparison under test decides the alert. Shapes it cannot drive are refused with a
reason ("a literal under topk", "three-way join"), never guessed.

Everything here reads the PromQL tree (promcontract.promql); nothing matches PromQL text.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

from promcontract.promql import labels as plabels
from promcontract.promql import text
from promcontract.promql.nodes import (
    COMPARISONS,
    Aggregate,
    Binary,
    Call,
    Matrix,
    Node,
    Number,
    Selector,
    Subquery,
    Unary,
    at_path,
    unparen,
    walk,
)
from promcontract.template.tfescape import PLACEHOLDER


class Unsupported(Exception):
    """The expression has a shape that cannot be driven; the message says which."""


@dataclass(frozen=True)
class Drive:
    """The compared value is ``a * q + b``, where ``q`` is, for the series of ``selector``:
    its value (value), its age ``t - v`` (age), ``v - t`` (until), its per-second slope
    (slope; ``counter`` when it must not fall), or the number of its series (count)."""

    selector: Selector
    kind: str
    a: float = 1.0
    b: float = 0.0
    counter: bool = False
    member: float = 1.0  # count: the value each counted series holds

    def quantity(self, compared: float) -> float:
        return (compared - self.b) / self.a

    def scaled(self, a: float, b: float) -> Drive:
        """``a * (this) + b``."""
        return dataclasses.replace(self, a=self.a * a, b=self.b * a + b)


@dataclass(frozen=True)
class Hold:
    """Another part of the expression held at a compared value while a comparison is tested."""

    drive: Drive
    compared: float
    why: str
    scales: str = ""  # "/" or "*": the other side of that operator (its value scales the drive)


@dataclass(frozen=True)
class Target:
    """One comparison with a constant (or one absent()) of an alert, and how to drive it."""

    path: tuple[int, ...]
    op: str  # a comparison, or "absent"
    literal: float | None
    shown: str  # the comparison as written, for titles
    drive: Drive
    neutrals: tuple[Hold, ...]


_SAME_VALUE = {"sum", "max", "min", "avg", "group"}  # of one series: that series' value
_VALUE_OVER_TIME = {"avg_over_time", "max_over_time", "min_over_time", "last_over_time"}
_SLOPE = {"rate": True, "irate": True, "deriv": False}
_INCREASE = {"increase": True, "delta": False, "idelta": False}
_IDENTITY_CALLS = {"label_replace", "label_join", "sort", "sort_desc"}


def analyse(expr: Node, records: dict[str, Node]) -> tuple[list[Target], list[str]]:
    """The comparisons (and absent() calls) that can be driven, and a reason for each that
    cannot. ``records``: recording rules' expressions by name, read through."""
    targets: list[Target] = []
    reasons: list[str] = []
    for node, path in walk(expr):
        if isinstance(node, Binary) and node.op in COMPARISONS and not node.return_bool:
            side = 1 if plabels.constant_value(node.rhs) is not None else \
                0 if plabels.constant_value(node.lhs) is not None else None
            if side is None:

                if any(isinstance(n, Selector) and n.name == PLACEHOLDER for n, _ in walk(node)):
                    reasons.append("a value set by a Terraform interpolation (${...}): known "
                                   "only when Terraform renders the template")
                elif not (plabels.is_scalar(node.lhs) or plabels.is_scalar(node.rhs)):
                    found = _two_series(node, path, records)
                    if isinstance(found, Target):
                        targets.append(found)
                    else:
                        reasons.append(f"compares two series ({_short(node)}), no constant"
                                       + (f": {found}" if found else ""))
                continue
            literal = plabels.constant_value(at_path(node, (side,)))
            compared = node.lhs if side == 1 else node.rhs
            op = node.op if side == 1 else _MIRROR[node.op]
            if isinstance(unparen(compared), Call) and unparen(compared).func in (
                    "absent", "absent_over_time"):
                try:
                    targets.append(_absent_target(unparen(compared), path, node, records))
                except Unsupported as exc:
                    reasons.append(str(exc))
                continue
            try:
                drive, neutrals = _drive(compared, records, 0)
            except Unsupported as exc:
                reasons.append(str(exc))
                continue
            if drive.a == 0:
                reasons.append(f"{_short(node)} does not depend on its series")
                continue
            targets.append(Target(path, op, literal, _short(node), drive, tuple(neutrals)))
        elif isinstance(node, Call) and node.func in ("absent", "absent_over_time"):
            parent = at_path(expr, path[:-1]) if path else None
            if isinstance(parent, Binary) and parent.op in COMPARISONS:
                continue  # absent(x) == 1: the comparison above is the target
            try:
                targets.append(_absent_target(node, path, node, records))
            except Unsupported as exc:
                reasons.append(str(exc))
    for node, _ in walk(expr):
        literal_params = {"topk", "bottomk", "quantile", "limitk", "limit_ratio"}
        if isinstance(node, Aggregate) and node.op in literal_params:
            reasons.append(f"a literal under {node.op}")
        if isinstance(node, Call) and node.func in ("histogram_quantile", "quantile_over_time",
                                                     "predict_linear", "round", "clamp",
                                                     "clamp_min", "clamp_max",
                                                     "holt_winters",
                                                     "double_exponential_smoothing"):
            if any(isinstance(unparen(a), Number) for a in node.args):
                reasons.append(f"a literal under {node.func}")
    return targets, sorted(set(reasons))


_MIRROR = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}
HELD_SIDE = 100.0  # the value the other side of a two-series comparison is held at
DENOMINATOR = 1024.0  # the value a ratio's denominator is held at (a power of two)
MAX_MEMBERS = 100  # the most series a count() is driven or held with


def _two_series(node: Binary, path: tuple[int, ...], records: dict[str, Node]) -> Target | str:
    """``a op b`` with no constant: one side driven across the other, held at a value (its
    series at HELD_SIDE, a count at 3 members): ``puma_running_workers < puma_workers`` is
    ``puma_running_workers < 100`` while ``puma_workers`` holds 100."""
    if node.matching is not None or node.card is not None:
        return "a vector match modifier (on/ignoring/group_*)"
    why = ""
    for side, op in ((0, node.op), (1, _MIRROR[node.op])):
        moved, held = (node.lhs, node.rhs) if side == 0 else (node.rhs, node.lhs)
        try:
            drive, neutrals = _drive(moved, records, 0)
            other, other_neutrals = _drive(held, records, 0)
        except Unsupported as exc:
            why = str(exc)
            continue
        if drive.a == 0 or other.a == 0 or _same_series(drive, other) or \
                drive.selector.name == other.selector.name:
            why = "both sides read the same series"
            continue
        level = other.a * 3.0 + other.b if other.kind == "count" else HELD_SIDE
        hold = Hold(other, level, f"{_short(held, 40)} held at {level:g}")
        return Target(path, op, level, _short(node), drive,
                      tuple(neutrals) + tuple(other_neutrals) + (hold,))
    return why


def _short(node: Node, limit: int = 70) -> str:

    shown = text(node)
    return shown if len(shown) <= limit else shown[:limit - 4] + " ..."


def _absent_target(call: Call, path: tuple[int, ...], node: Node,
                   records: dict[str, Node]) -> Target:
    arg = unparen(call.args[0]) if call.args else None
    selector = arg.selector if isinstance(arg, Matrix) else arg
    if not isinstance(selector, Selector) or not selector.name:
        raise Unsupported("absent() of something other than a selector")
    if selector.name in records:
        raise Unsupported(f"absent() of the recording rule {selector.name}")
    literal = None
    op = "absent"
    if isinstance(node, Binary):
        literal = plabels.constant_value(node.rhs if plabels.constant_value(node.rhs)
                                         is not None else node.lhs)
        op = f"absent{node.op}"
    return Target(path, op, literal, _short(node), Drive(selector, "presence"), ())


def _drive(node: Node, records: dict[str, Node], joins: int) -> tuple[Drive, list[Hold]]:
    """The drive of ``node``'s value, and what must be held neutral for it."""
    node = unparen(node)
    if isinstance(node, Selector):
        if node.name in records:
            if node.matchers and any(m.name != "__name__" for m in node.matchers):
                raise Unsupported(f"reads the recording rule {node.name} with matchers")
            return _drive(records[node.name], {k: v for k, v in records.items()
                                               if k != node.name}, joins)
        return Drive(node, "value"), []
    if isinstance(node, Unary):
        drive, holds = _drive(node.expr, records, joins)
        return drive.scaled(-1.0, 0.0), holds
    if isinstance(node, Aggregate):
        if node.param is not None:
            raise Unsupported(f"a literal under {node.op}")
        if node.op in _SAME_VALUE:
            return _drive(node.expr, records, joins)
        if node.op == "count":
            return _count(node.expr, records)
        raise Unsupported(f"{node.op}() of the series is not driven")
    if isinstance(node, Call):
        return _call(node, records, joins)
    if isinstance(node, Binary):
        return _binary(node, records, joins)
    if isinstance(node, Subquery):
        raise Unsupported("a subquery")
    raise Unsupported(f"{type(node).__name__.lower()} is not driven")


def _count(inner: Node, records: dict[str, Node]) -> tuple[Drive, list[Hold]]:
    inner = unparen(inner)
    member = 1.0
    if isinstance(inner, Binary) and inner.op in COMPARISONS and not inner.return_bool:
        literal = plabels.constant_value(inner.rhs)
        if literal is None or not isinstance(unparen(inner.lhs), Selector):
            raise Unsupported("count() of a comparison other than series == constant")
        member = _true_value(inner.op, literal)
        inner = unparen(inner.lhs)
    if not isinstance(inner, Selector) or inner.name in records:
        raise Unsupported("count() of something other than a selector")
    return Drive(inner, "count", member=member), []


def _call(node: Call, records: dict[str, Node], joins: int) -> tuple[Drive, list[Hold]]:
    func = node.func
    if func in _IDENTITY_CALLS and node.args:
        return _drive(node.args[0], records, joins)
    matrix = unparen(node.args[0]) if node.args else None
    if func in _SLOPE or func in _INCREASE or func in _VALUE_OVER_TIME:
        if len(node.args) != 1 or not isinstance(matrix, Matrix):
            raise Unsupported(f"{func}() of a subquery")
        selector = matrix.selector
        if selector.name in records:
            raise Unsupported(f"{func}() of the recording rule {selector.name}")
        if func in _VALUE_OVER_TIME:
            return Drive(selector, "value"), []
        if func in _SLOPE:
            return Drive(selector, "slope", counter=_SLOPE[func]), []
        if func == "idelta":
            return Drive(selector, "slope", a=60.0), []  # two samples a step apart
        return Drive(selector, "slope", a=matrix.range, counter=_INCREASE[func]), []
    raise Unsupported(f"{func}() is not driven")


def _binary(node: Binary, records: dict[str, Node], joins: int) -> tuple[Drive, list[Hold]]:
    op = node.op
    if op == "or" and _is_default(node.rhs) and (node.matching is None or not node.labels):
        # `x or on() vector(0)`: x while it has series, else the default; driving x drives
        # it, and the scenarios where x goes missing record the default
        return _drive(node.lhs, records, joins)
    if op in COMPARISONS or op in ("and", "or", "unless"):
        raise Unsupported(f"the compared side holds a '{op}'")
    left_constant = plabels.constant_value(node.lhs)
    right_constant = plabels.constant_value(node.rhs)
    left_time = _is_time(node.lhs)
    right_time = _is_time(node.rhs)
    if op == "-" and left_time:  # time() - x: the age of x
        drive, holds = _drive(node.rhs, records, joins)
        return _timed(drive, "age", node), holds
    if op == "-" and right_time:  # x - time(): how long until x
        drive, holds = _drive(node.lhs, records, joins)
        return _timed(drive, "until", node), holds
    if right_constant is not None:
        drive, holds = _drive(node.lhs, records, joins)
        return _affine(drive, op, right_constant, constant_right=True), holds
    if left_constant is not None:
        drive, holds = _drive(node.rhs, records, joins)
        return _affine(drive, op, left_constant, constant_right=False), holds
    if op not in ("+", "-", "*", "/"):
        raise Unsupported(f"'{op}' between two series")
    if joins >= 1:
        raise Unsupported("three-way join")
    drive, holds = _drive(node.lhs, records, joins + 1)
    other, other_holds = _drive(node.rhs, records, joins + 1)
    if other.selector == drive.selector:
        raise Unsupported(f"reads {drive.selector.name} on both sides of '{op}'")
    # a denominator at 1024: the numerator of a small ratio (0.05: 51.2, a rate of 3072 a
    # minute) and the rest of a total (1024 - 921.6) are exact in binary, so the ratio
    # lands exactly on its literal
    neutral = DENOMINATOR if op == "/" else 1.0 if op == "*" else 0.0
    if op == "/":
        drive = drive.scaled(1.0 / DENOMINATOR, 0.0)
    return drive, holds + other_holds + [Hold(other, neutral, f"the other side of '{op}' at "
                                                             f"{neutral:g}",
                                              op if op in ("*", "/") else "")]


def _is_default(node: Node) -> bool:
    """``vector(<number>)``: the default of an ``or``."""
    node = unparen(node)
    return isinstance(node, Call) and node.func == "vector" and len(node.args) == 1 and \
        plabels.constant_value(node.args[0]) is not None


def _is_time(node: Node) -> bool:
    node = unparen(node)
    return isinstance(node, Call) and node.func == "time"


def _timed(drive: Drive, kind: str, node: Node) -> Drive:
    if drive.kind != "value" or drive.a != 1.0 or drive.b != 0.0:
        raise Unsupported(f"{_short(node)}: time() against a computed value")
    return dataclasses.replace(drive, kind=kind)


def _affine(drive: Drive, op: str, c: float, constant_right: bool) -> Drive:
    if op == "*":
        return drive.scaled(c, 0.0)
    if op == "+":
        return drive.scaled(1.0, c)
    if op == "-":
        return drive.scaled(1.0, -c) if constant_right else drive.scaled(-1.0, c)
    if op == "/" and constant_right and c != 0:
        return drive.scaled(1.0 / c, 0.0)
    raise Unsupported(f"'{op}' with a constant on that side")


def _true_value(op: str, literal: float) -> float:
    """A compared value that makes ``x op literal`` hold, well clear of the literal."""
    margin = max(abs(literal), 1.0)
    return {">": literal + margin, ">=": literal + margin, "<": literal - margin,
            "<=": literal - margin, "==": literal, "!=": literal + margin}[op]


def _false_value(op: str, literal: float) -> float:
    margin = max(abs(literal), 1.0)
    return {">": literal - margin, ">=": literal - margin, "<": literal + margin,
            "<=": literal + margin, "==": literal + margin, "!=": literal}[op]


def _infinite_hold(drive: Drive, other: Target, want: bool, at: float) -> Hold | None:
    """``other`` (a ratio compared with its literal) held ``want`` while its denominator
    is near 0: the numerator's sign decides the sign of the ratio there. ``at``: the
    denominator's held value the drive was scaled for."""
    if other.op not in (">", ">=", "<", "<=") or other.literal is None or drive.a == 0:
        return None
    direction = 1.0 if (other.op in (">", ">=")) == want else -1.0
    # the denominator's scenarios stay within a unit of 0 (its literal, plus or minus at most
    # half a unit): twice what the comparison needs at a denominator of 1 is enough
    size = 2.0 * (abs(other.literal - drive.b) + 1.0) / abs(drive.a * at)
    quantity = direction * (1.0 if drive.a > 0 else -1.0) * size
    if drive.counter and quantity < 0:
        return None
    if drive.kind == "count":
        quantity = float(math.ceil(quantity))
        if not 0 < quantity <= MAX_MEMBERS:
            return None
    return Hold(drive, drive.a * quantity + drive.b,
                f"{other.shown} held {'true' if want else 'false'} (its denominator near 0: "
                "the numerator's sign decides)")


def holds_for(expr: Node, target: Target, targets: list[Target]) -> tuple[list[Hold], str]:
    """The other targets held so that ``target`` decides the alert: true under ``and`` (and
    the left of ``unless``), false under ``or`` (and the right of ``unless``); one that reads
    the target's own series is left to follow it. A reason when no such holding exists."""
    out: list[Hold] = []
    for other in targets:
        if other.path == target.path or _same_series(other.drive, target.drive):
            continue
        common = _common_prefix(other.path, target.path)
        above = at_path(expr, common)
        if not (isinstance(above, Binary) and above.op in ("and", "or", "unless")):
            return [], f"{other.shown} and {target.shown} are combined by arithmetic"
        other_right = other.path[len(common)] == 1
        want = {"and": True, "or": False}.get(above.op, not other_right)
        drive, neutrals = other.drive, list(other.neutrals)
        infinite = None
        for neutral in other.neutrals:
            # a ratio held while its own denominator is the target (`errors / requests > 0.05
            # and requests > 1`): the denominator follows the target near its literal, and
            # the numerator is held in proportion, so the ratio stays where it is held
            if neutral.scales and neutral.drive == target.drive:
                level = target.literal or 0.0
                if level <= 0:
                    # `free / size < 0.1 and size > 0`: the denominator crosses 0, where the
                    # ratio is infinite; a numerator of the right sign (and large enough for
                    # a denominator up to 1000) holds the ratio's comparison as wanted
                    infinite = _infinite_hold(drive, other, want, neutral.compared)
                    if neutral.scales != "/" or infinite is None:
                        return [], (f"{other.shown} is held while its '{neutral.scales}' "
                                    f"side {target.shown} crosses {level:g}")
                    neutrals.remove(neutral)
                    continue
                factor = neutral.compared / level if neutral.scales == "/" else \
                    level / neutral.compared
                drive = dataclasses.replace(drive, a=drive.a * factor)
                neutrals.remove(neutral)
        if infinite is not None:
            out.append(infinite)
            out += neutrals
            continue
        if other.drive.kind == "presence":
            out.append(Hold(other.drive, 1.0 if want else 0.0,
                            f"{other.shown} held {'true' if want else 'false'}"))
            continue
        literal = other.literal if other.literal is not None else 0.0
        compared = _true_value(other.op, literal) if want else _false_value(other.op, literal)
        out.append(Hold(drive, compared, f"{other.shown} held {'true' if want else 'false'}"))
        out += neutrals
    return out, ""


def whole(x: float) -> bool:
    """``x`` is a whole number, up to float noise."""
    return abs(x - round(x)) <= 1e-9 * max(1.0, abs(x))


def exact_denominator(target: Target, sample: float, holds: list[Hold]) -> Target:
    """``target`` with its ratio's denominator held where the numerator at the literal is a
    whole number (a value, or an increase per sample): at 1024, 0.01 of a rate is 614.4 a
    minute, at 1000 it is 600, and the ratio of two whole numbers lands on the literal."""
    neutral = next((n for n in target.neutrals if n.scales == "/"), None)
    if neutral is None or target.literal is None or neutral.drive.kind not in (
            "value", "slope") or any(h.drive.selector == neutral.drive.selector for h in holds):
        return target  # (a guard holds the denominator where it needs it)
    d = target.drive
    for level in (neutral.compared, 1000.0, 100.0, 10000.0, 100000.0):
        a = d.a * neutral.compared / level
        q = (target.literal - d.b) / a
        per = q * sample if d.kind == "slope" else q
        den = level * sample if neutral.drive.kind == "slope" else level
        if whole(per) and whole(den):
            neutrals = tuple(dataclasses.replace(n, compared=level) if n is neutral else n
                             for n in target.neutrals)
            return dataclasses.replace(target, drive=dataclasses.replace(d, a=a),
                                       neutrals=neutrals)
    return target


def reconcile(target: Target, holds: list[Hold]) -> tuple[Target, list[Hold]]:
    """``target`` with its ratio's denominator (or product's factor) at the value a held
    guard gives that same series (`errors / requests > 0.05 and requests > 1`: requests held
    at 2, not 1), the drive scaled to match; the holds without the ones it now meets."""
    drive, neutrals = target.drive, []
    for neutral in target.neutrals:
        guard = next((h for h in holds if not h.scales and h.drive == neutral.drive), None)
        if neutral.scales and guard is not None and guard.compared != 0:
            factor = neutral.compared / guard.compared if neutral.scales == "/" else \
                guard.compared / neutral.compared
            drive = dataclasses.replace(drive, a=drive.a * factor)
            neutral = dataclasses.replace(neutral, compared=guard.compared)
        neutrals.append(neutral)
    return dataclasses.replace(target, drive=drive, neutrals=tuple(neutrals)), holds


def _same_series(a: Drive, b: Drive) -> bool:
    return a.selector.name == b.selector.name and series_labels(a.selector) == \
        series_labels(b.selector)


def _common_prefix(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        out.append(x)
    return tuple(out)


# --- input series ---------------------------------------------------------------------------

def join_labels(expr: Node) -> tuple[str, ...]:
    """Labels the expression joins or groups on: every input series carries them (value "a"
    unless a matcher fixes it), so both sides of a join meet."""
    names: set[str] = set()
    for node, _ in walk(expr):
        if isinstance(node, Binary):
            if node.matching == "on":
                names |= set(node.labels)
            names |= set(node.group_labels)
        elif isinstance(node, Aggregate) and node.grouping == "by":
            names |= set(node.labels)
    names.discard("__name__")
    return tuple(sorted(names))


def series_labels(selector: Selector, joined: tuple[str, ...] = ()) -> tuple[tuple[str, str],
                                                                               ...]:
    """Labels of a series ``selector`` selects (and that carries the join labels)."""
    labels: dict[str, str] = {}
    for matcher in selector.matchers:
        if matcher.name == "__name__":
            continue
        if matcher.op == "=" and matcher.value:
            labels[matcher.name] = matcher.value
        elif matcher.op == "=~":
            labels[matcher.name] = _matching(matcher.value)
    for matcher in selector.matchers:  # != and !~: a value they let through
        if matcher.op in ("!=", "!~") and matcher.name not in labels:
            labels[matcher.name] = _passing(matcher)
    for name in joined:
        labels.setdefault(name, "a")
    # every scraped series has an instance; the expression's matchers may say otherwise
    if not any(m.name == "instance" for m in selector.matchers):
        labels.setdefault("instance", "a")
    return tuple(sorted((k, v) for k, v in labels.items() if v != ""))


_PASSING = ("a", "aa", "aaa", "x", "0", "Z9", "-", "a_b-c.d", "")


def _passing(matcher) -> str:  # noqa: ANN001 - a nodes.Matcher with op != or !~
    """A value the negative ``matcher`` lets through ("": the label left out, where that
    passes); Unsupported when none of a few tries does (``!~".*"`` lets nothing through)."""
    for value in _PASSING:
        try:
            passes = value != matcher.value if matcher.op == "!=" else \
                re.fullmatch(matcher.value, value) is None
        except re.error:
            break
        if passes:
            return value
    raise Unsupported(f"no label value gets past {matcher.name}{matcher.op}"
                      f"{matcher.value!r}")


def matching_value(pattern: str) -> str:
    """A value the anchored Prometheus regex ``pattern`` matches (Unsupported: none found)."""
    return _matching(pattern)


def _matching(pattern: str) -> str:
    """A value ``pattern`` (a Prometheus regex, anchored) matches: a guess from its first
    alternative, checked; "" when the pattern matches the empty value."""
    candidates = []
    for alternative in pattern.split("|"):
        guess = alternative.replace(".*", "").replace(".+", "x").replace("\\d", "0")
        guess = re.sub(r"\[([^\]^])[^\]]*\]", r"\1", guess).replace(".", "0")
        guess = guess.replace("^", "").replace("$", "").replace("(", "").replace(")", "")
        candidates.append(guess)
    candidates += ["a", "x", "0"]
    for candidate in candidates:
        try:
            if re.fullmatch(pattern, candidate):
                return candidate
        except re.error:
            break
    raise Unsupported(f"no label value found that matches ={pattern!r}")
