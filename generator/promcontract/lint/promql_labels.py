"""Which labels a PromQL expression's result can carry, as far as can be proven.

Enough PromQL to answer one question for the lint: "does this expression aggregate label x
away?". Anything not understood is treated as "may keep every label", so an unknown construct
never produces a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AGGREGATORS = {"sum", "min", "max", "avg", "count", "stddev", "stdvar", "group", "topk",
               "bottomk", "quantile", "count_values", "limitk", "limit_ratio"}
SCALAR_FUNCS = {"time", "scalar", "pi", "minute", "hour", "day_of_month", "day_of_week",
                "day_of_year", "days_in_month", "month", "year"}
BINARY = {"+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<=", "and", "or",
          "unless", "atan2"}
_TOKEN = re.compile(r"""
    \s+ | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<num>0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![a-zA-Z_])|[Ii]nf|NaN)
  | (?P<range>\[[^\]]*\])
  | (?P<braces>\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*\})
  | (?P<id>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>==|!=|>=|<=|[-+*/%^<>(),@])
""", re.X)


@dataclass(frozen=True)
class Labels:
    """``known``: the result has at most these labels; else any label except ``excluded``."""

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


ANY = Labels()
SCALAR = Labels(scalar=True)


class _Unknown(Exception):
    pass


def _tokens(expr: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if not match or match.end() == pos:
            raise _Unknown(expr[pos:pos + 10])
        pos = match.end()
        kind = match.lastgroup
        if kind:
            out.append((kind, match.group(kind)))
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.t = tokens
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        j = self.i + offset
        return self.t[j] if j < len(self.t) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise _Unknown(value)
        self.i += 1
        return tok

    def label_list(self) -> frozenset[str]:
        self.take("(")
        names = []
        while self.peek() and self.peek()[1] != ")":
            kind, value = self.take()
            if kind == "id":
                names.append(value)
        self.take(")")
        return frozenset(names)

    def expr(self) -> Labels:
        left = self.operand()
        while True:
            tok = self.peek()
            if tok is None or tok[1] not in BINARY:
                return left
            op = self.take()[1]
            if self.peek() and self.peek()[1] == "bool":
                self.take()
            on = ignoring = None
            group: tuple[str, frozenset[str]] | None = None
            if self.peek() and self.peek()[1] in ("on", "ignoring"):
                which = self.take()[1]
                names = self.label_list()
                on, ignoring = (names, None) if which == "on" else (None, names)
            if self.peek() and self.peek()[1] in ("group_left", "group_right"):
                side = self.take()[1]
                extra = self.label_list() if self.peek() and self.peek()[1] == "(" else \
                    frozenset()
                group = (side, extra)
            right = self.operand()
            left = _combine(op, left, right, on, ignoring, group)

    def operand(self) -> Labels:
        tok = self.peek()
        if tok is None:
            raise _Unknown("end")
        kind, value = tok
        if value in ("-", "+"):
            self.take()
            return self.operand()
        if kind in ("num", "str"):
            self.take()
            return self.postfix(SCALAR)
        if value == "(":
            self.take("(")
            inner = self.expr()
            self.take(")")
            return self.postfix(inner)
        if kind == "braces":
            self.take()
            return self.postfix(ANY)
        if kind != "id":
            raise _Unknown(value)
        self.take()
        if value in AGGREGATORS:
            return self.postfix(self.aggregation(value))
        if self.peek() and self.peek()[1] == "(":
            return self.postfix(self.call(value))
        if self.peek() and self.peek()[0] == "braces":
            self.take()
        return self.postfix(ANY)  # a selector: its labels are not known here

    def postfix(self, labels: Labels) -> Labels:
        while self.peek() and (self.peek()[0] == "range" or self.peek()[1] in ("offset", "@")):
            if self.take()[0] != "range":
                self.take()
        return labels

    def aggregation(self, name: str) -> Labels:
        grouping: tuple[str, frozenset[str]] | None = None
        if self.peek() and self.peek()[1] in ("by", "without"):
            which = self.take()[1]
            grouping = (which, self.label_list())
        self.take("(")
        args = [self.expr()]
        while self.peek() and self.peek()[1] == ",":
            self.take(",")
            args.append(self.expr())
        self.take(")")
        if self.peek() and self.peek()[1] in ("by", "without"):
            which = self.take()[1]
            grouping = (which, self.label_list())
        inner = args[-1]
        if name in ("topk", "bottomk", "limitk", "limit_ratio"):
            return inner
        if grouping is None:
            return Labels(known=frozenset())
        which, names = grouping
        if which == "by":
            return Labels(known=names)
        if inner.known is not None:
            return Labels(known=inner.known - names)
        return Labels(excluded=inner.excluded | names)

    def call(self, name: str) -> Labels:
        self.take("(")
        args: list[Labels] = []
        raw_start = self.i
        while self.peek() and self.peek()[1] != ")":
            args.append(self.expr())
            if self.peek() and self.peek()[1] == ",":
                self.take(",")
        raw = self.t[raw_start:self.i]
        self.take(")")
        if name in SCALAR_FUNCS:
            return SCALAR
        if name == "vector":
            return Labels(known=frozenset())
        if name in ("absent", "absent_over_time"):
            matchers = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"',
                                  " ".join(v for k, v in raw if k == "braces"))
            return Labels(known=frozenset(matchers))
        if name in ("label_replace", "label_join") and len(raw) > 2:
            strings = [v.strip("\"'`") for k, v in raw if k == "str"]
            first = next((a for a in args if not a.scalar), ANY)
            if strings and first.known is not None:
                return Labels(known=first.known | {strings[0]})
            return ANY
        if name == "histogram_quantile":
            inner = args[-1] if args else ANY
            return Labels(known=inner.known - {"le"}) if inner.known is not None else \
                Labels(excluded=inner.excluded | {"le"})
        vectors = [a for a in args if not a.scalar]
        return vectors[0] if vectors else ANY


def _combine(op: str, left: Labels, right: Labels, on, ignoring, group) -> Labels:
    if left.scalar and right.scalar:
        return SCALAR
    if left.scalar:
        return right
    if right.scalar:
        return left
    if op == "or":
        if left.known is not None and right.known is not None:
            return Labels(known=left.known | right.known)
        return Labels(excluded=(left.excluded & right.excluded)
                      if left.known is None and right.known is None else frozenset())
    if group is not None:
        side, extra = group
        base = left if side == "group_left" else right
        if base.known is not None:
            return Labels(known=base.known | extra)
        return Labels(excluded=base.excluded - extra)
    return left


def output_labels(expr: str) -> Labels:
    """What the expression's result may carry; ANY when it cannot tell."""
    try:
        parser = _Parser(_tokens(expr))
        result = parser.expr()
        if parser.peek() is not None:
            return ANY
        return result
    except (_Unknown, IndexError):
        return ANY
