"""Strict Prometheus text exposition format 0.0.4.

prometheus_client's parser is deliberately lax (it accepts duplicate series, TYPE after
samples, bad escapes, CRLF, a missing final newline); this one reports each of those, with the
line it is on, because the Pushgateway rejects them (HTTP 400) or silently mangles them.
Checking a payload against a contract is payload/verify.py's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from promcontract.labels import Labels, format_series, unescape_label_value
from promcontract.problems import Location, Problem

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Go's strconv.ParseFloat as the text format uses it: decimal with optional exponent, or
# Inf/NaN spelled in any case (hex floats and digit separators are not used by exporters).
_GO_FLOAT = re.compile(r"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI][nN][fF](?:[iI][nN][iI]"
                       r"[tT][yY])?)$|^[nN][aA][nN]$")
# Go reads blanks between the metric name and its labels too: `name {a="b"} 1`.
_SAMPLE = re.compile(r'^([^\s{]+)(?:[ \t]*(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\}))?'
                     r'[ \t]+(\S+)(?:[ \t]+(\S+))?[ \t]*$')
# Fast path for label sets without escapes: k="v",k2="v2" (validated by re-joining).
_SIMPLE_LABELS = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\]*)"')
_LABEL = re.compile(r'[ \t]*([^=\s,{}"]+)[ \t]*=[ \t]*"((?:[^"\\]|\\.)*)"[ \t]*(,|$)')
# Escape pairs are read left to right: in `a\\\\s` the pair is `\\\\`, then a plain `s`.
_ESCAPE_PAIR = re.compile(r"\\(.?)", re.S)
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}



class Sample(NamedTuple):
    """One series' sample (a tuple: 30,000 of these are built per large payload)."""

    name: str
    labels: Labels  # sorted by name
    value: float
    line: int

    def label(self, name: str) -> str | None:
        for key, value in self.labels:
            if key == name:
                return value
        return None


@dataclass
class Family:
    name: str
    type: str | None = None
    help: str | None = None
    first_line: int = 0
    type_line: int = 0
    help_line: int = 0
    samples: list[Sample] = field(default_factory=list)


@dataclass
class Parsed:
    families: dict[str, Family]
    findings: list[Problem]

    def samples(self, name: str) -> list[Sample]:
        family = self.families.get(name)
        return family.samples if family else []


def _bad_escape(text: str, allowed: str) -> str | None:
    """The first escape pair in ``text`` whose character is not in ``allowed``."""
    for match in _ESCAPE_PAIR.finditer(text):
        if not match.group(1) or match.group(1) not in allowed:
            return match.group(0)
    return None


unescape = unescape_label_value


# The common sample line, matched over the whole text at C speed: name, simple labels (no
# escapes), a plain decimal value, LF. Every other line takes the line-by-line path.
_FAST_LINE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})?'
    r' (-?[0-9]+(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?)$', re.M)


_new_tuple = tuple.__new__  # builds a Sample without NamedTuple's Python-level __new__


class _Parser:
    """State of one strict parse; see ``parse``."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.findings: list[Problem] = []
        self.families: dict[str, Family] = {}
        self.current: str | None = None
        self.closed: dict[str, int] = {}  # family -> line where it was left
        self.seen: dict[tuple[str, Labels], int] = {}
        self.family_cache: dict[str, str] = {}
        self.valid_names: set[str] = set()
        self.crlf_seen = False

    def add(self, line: int, rule: str, message: str) -> None:
        self.findings.append(Problem(Location(self.source, line), message, rule=rule))

    def family_of(self, name: str) -> str:
        cached = self.family_cache.get(name)
        if cached is not None:
            return cached
        base_name = name
        for base_type, suffixes in _SUFFIXES.items():
            for suffix in suffixes:
                if name.endswith(suffix):
                    base = name[: -len(suffix)]
                    fam = self.families.get(base)
                    if fam is not None and fam.type == base_type:
                        base_name = base
        self.family_cache[name] = base_name
        return base_name

    def enter(self, name: str, lineno: int) -> Family:
        fam = self.families.get(name)
        if fam is None:
            fam = self.families[name] = Family(name, first_line=lineno)
        if self.current != name:
            if name in self.closed:
                self.add(lineno, "family-not-contiguous",
                         f"lines of family {name} are split: it was left at line "
                         f"{self.closed[name]} and appears again here")
            if self.current is not None:
                self.closed[self.current] = lineno - 1
            self.current = name
        return fam

    def sample(self, lineno: int, name: str, labels: Labels, value: float) -> None:
        family = self.family_of(name)
        fam = self.families[family] if family == self.current else self.enter(family, lineno)
        key = (name, labels)
        first = self.seen.setdefault(key, lineno)
        if first != lineno:
            self.add(lineno, "duplicate-series",
                     f"{format_series(name, labels)} already at line {first}")
            return
        fam.samples.append(_new_tuple(Sample, (name, labels, value, lineno)))

    def fast(self, lineno: int, name: str, label_text: str | None, value_text: str) -> None:
        """A line matched by _FAST_LINE (valid name, unescaped labels, decimal value)."""
        labels: Labels = ()
        if label_text:
            pairs = _SIMPLE_LABELS.findall(label_text)
            if len(pairs) > 1:
                if len({k for k, _ in pairs}) != len(pairs):
                    self.add(lineno, "duplicate-label", f"a label appears twice in {name}")
                    return
                pairs.sort()
            if "{__" in label_text or ',__' in label_text:
                bad = next(k for k, _ in pairs if k.startswith("__"))
                self.add(lineno, "label-name", f"label name {bad!r} is reserved (leading __)")
                return
            labels = tuple(pairs)
        self.sample(lineno, name, labels, float(value_text))

    def line(self, lineno: int, raw: str) -> None:
        line = raw
        # A raw CR is legal inside a label value or HELP text; ending a sample or TYPE line it
        # is not (the gateway answers 'expected float as value, got "1\r"').
        if raw.endswith("\r") and (not raw.startswith("#") or raw.startswith("# TYPE")):
            line = raw.rstrip("\r")
            if not self.crlf_seen:
                self.crlf_seen = True
                self.add(lineno, "crlf", "line ends with CR LF: lines must end with LF only "
                         "(the Pushgateway answers 'expected float as value, got \"1\\r\"')")
        if not line.strip():
            return
        # Go's parser skips blanks and tabs at the start of a line (a comment or a sample)
        line = line.lstrip(" \t")
        if line[0] == "#":
            self.comment(lineno, line)
            return
        if line != line.rstrip(" \t"):
            # after the value a blank means a timestamp follows (Go: "expected integer as
            # timestamp"); the Pushgateway answers 400
            self.add(lineno, "syntax", f"blank after the last field of {line.split()[0]}: "
                     "Go reads a timestamp there and finds none")
            return
        match = _SAMPLE.match(line)
        if not match:
            self.add(lineno, "syntax", f"not a sample line: {line[:80]!r}")
            return
        name, label_text, value_text, timestamp = match.groups()
        if name not in self.valid_names:
            if not METRIC_NAME.match(name):
                self.add(lineno, "metric-name", f"invalid metric name {name!r}")
                return
            self.valid_names.add(name)
        labels = self.labels(lineno, name, label_text) if label_text else ()
        if labels is None:
            return
        try:
            # Python's float() accepts what Go's ParseFloat does here, plus digit
            # separators ("1_000"), which the regex refuses.
            value = float(value_text)
        except ValueError:
            value = None
        if value is None or not _GO_FLOAT.match(value_text):
            self.add(lineno, "bad-value", f"value {value_text!r} of {name} is not a float "
                     "(Go syntax: 1, 1.5, 1e+06, NaN, +Inf, -Inf)")
            return
        if timestamp is not None:
            self.add(lineno, "timestamp", f"sample of {name} carries a timestamp "
                     f"({timestamp}); the Pushgateway rejects pushed timestamps")
        self.sample(lineno, name, labels, value)

    def labels(self, lineno: int, name: str, label_text: str) -> Labels | None:
        inner = label_text[1:-1]
        labels: list[tuple[str, str]] = []
        pos = 0
        ok = True
        while pos < len(inner):
            lm = _LABEL.match(inner, pos)
            if not lm or lm.end() == pos:
                self.add(lineno, "syntax", f"malformed labels in {label_text[:80]!r}")
                return None
            lname, lvalue = lm.group(1), lm.group(2)
            if not LABEL_NAME.match(lname):
                self.add(lineno, "label-name", f"invalid label name {lname!r}")
                ok = False
            elif lname.startswith("__"):
                self.add(lineno, "label-name", f"label name {lname!r} is reserved "
                         "(leading __)")
                ok = False
            bad = _bad_escape(lvalue, '\\"n') if "\\" in lvalue else None
            if bad:
                self.add(lineno, "bad-escape", f"label {lname} has escape {bad!r}; only "
                         "\\\\, \\\" and \\n are allowed")
                ok = False
            labels.append((lname, unescape(lvalue)))
            pos = lm.end()
            if lm.group(3) == "" and pos < len(inner):
                self.add(lineno, "syntax", f"malformed labels in {label_text[:80]!r}")
                return None
        if not ok:
            return None
        if len({k for k, _ in labels}) != len(labels):
            self.add(lineno, "duplicate-label", f"a label appears twice in {name}")
            return None
        return tuple(sorted(labels))

    def comment(self, lineno: int, line: str) -> None:
        # As Go reads it: '#', blanks, a token; HELP and TYPE then take a metric name and the
        # rest of the line (the TYPE exactly: "gauge " with a trailing blank is no type)
        body = line[1:].lstrip(" \t")
        parts = body.split(None, 1)
        if not parts or parts[0] not in ("HELP", "TYPE"):
            return  # a plain comment
        kind = parts[0]
        after = parts[1] if len(parts) > 1 else ""
        name_rest = after.lstrip(" \t").split(None, 1) if after else []
        if not name_rest:
            return  # "# HELP" with nothing after it: Go reads a plain comment
        name = name_rest[0]
        rest = after.lstrip(" \t")[len(name):].lstrip(" \t")
        if not METRIC_NAME.match(name):
            self.add(lineno, "metric-name", f"invalid metric name {name!r}")
            return
        fam = self.enter(name, lineno)
        if kind == "TYPE":
            if fam.type_line:
                self.add(lineno, "duplicate-type",
                         f"second TYPE line for {name} (first at line {fam.type_line})")
                return
            if fam.samples:
                self.add(lineno, "type-after-sample", f"TYPE line for {name} after its first "
                         f"sample (line {fam.samples[0].line})")
            if rest not in TYPES:
                self.add(lineno, "unknown-type", f"unknown metric type {rest!r} for {name}")
            fam.type, fam.type_line = rest.strip(), lineno
            return
        if fam.help_line:
            self.add(lineno, "duplicate-help",
                     f"second HELP line for {name} (first at line {fam.help_line})")
            return
        if fam.samples:
            self.add(lineno, "help-after-sample", f"HELP line for {name} after its first "
                     f"sample (line {fam.samples[0].line})")
        bad = _bad_escape(rest, "\\n") if "\\" in rest else None
        if bad:
            self.add(lineno, "bad-escape", f"HELP of {name} has escape {bad!r}; only \\\\ "
                     "and \\n are allowed")
        fam.help, fam.help_line = unescape(rest), lineno


def parse(text: str, source: str = "payload") -> Parsed:
    """Parse ``text`` strictly; syntax problems become findings, parsing goes on.

    Common sample lines are found by one regex over the whole text; everything between them
    (HELP/TYPE, unusual samples, mistakes) is parsed line by line. Both end in the same
    bookkeeping, in line order.
    """
    p = _Parser(source)
    if text and not text.endswith("\n"):
        p.add(text.count("\n") + 1, "final-newline",
              "the last line does not end with a newline (LF)")
    pos = 0
    lineno = 1
    # The hot loop (one iteration per sample of a 30,000-sample payload) inlines the common
    # case of _Parser.sample: same family as the line before, series not seen yet.
    families, seen, family_cache = p.families, p.seen, p.family_cache
    findall = _SIMPLE_LABELS.findall
    for match in _FAST_LINE.finditer(text):
        start = match.start()
        if start > pos:
            gap = text[pos:start]
            for offset, raw in enumerate(gap.split("\n")[:-1]):
                p.line(lineno + offset, raw)
            lineno += gap.count("\n")
        name, label_text, value_text = match.groups()
        pos = match.end() + 1  # past the line's LF
        if label_text:
            pairs = findall(label_text)
            if len(pairs) > 1 or "__" in label_text:
                p.fast(lineno, name, label_text, value_text)
                lineno += 1
                continue
            labels: Labels = tuple(pairs)
        else:
            labels = ()
        family = family_cache.get(name)
        key = (name, labels)
        if family is None or family != p.current or key in seen:
            p.sample(lineno, name, labels, float(value_text))
        else:
            seen[key] = lineno
            families[family].samples.append(
                _new_tuple(Sample, (name, labels, float(value_text), lineno)))
        lineno += 1
    if pos < len(text):
        for offset, raw in enumerate(text[pos:].split("\n")):
            p.line(lineno + offset, raw)
    p.findings.sort(key=lambda f: f.line)
    return Parsed(p.families, p.findings)
