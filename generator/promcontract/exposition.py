"""Strict Prometheus text exposition format 0.0.4, and payload verification against a contract.

prometheus_client's parser is deliberately lax (it accepts duplicate series, TYPE after
samples, bad escapes, CRLF, a missing final newline); this one reports each of those, with the
line it is on, because the Pushgateway rejects them (HTTP 400) or silently mangles them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple

from promcontract.model import GATEWAY_LABELS, Contract, Metric, format_number

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Go's strconv.ParseFloat as the text format uses it: decimal with optional exponent, or
# Inf/NaN spelled in any case (hex floats and digit separators are not used by exporters).
_GO_FLOAT = re.compile(r"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI][nN][fF](?:[iI][nN][iI]"
                       r"[tT][yY])?)$|^[nN][aA][nN]$")
_SAMPLE = re.compile(r'^([^\s{]+)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?'
                     r'[ \t]+(\S+)(?:[ \t]+(\S+))?[ \t]*$')
# Fast path for label sets without escapes: k="v",k2="v2" (validated by re-joining).
_SIMPLE_LABELS = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\]*)"')
_LABEL = re.compile(r'[ \t]*([^=\s,{}"]+)[ \t]*=[ \t]*"((?:[^"\\]|\\.)*)"[ \t]*(,|$)')
# Escape pairs are read left to right: in `a\\\\s` the pair is `\\\\`, then a plain `s`.
_ESCAPE_PAIR = re.compile(r"\\(.?)", re.S)
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}

Labels = tuple[tuple[str, str], ...]


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


@dataclass(frozen=True)
class Finding:
    line: int
    rule: str
    message: str

    def format(self, source: str) -> str:
        return f"{source}:{self.line}: {self.rule}: {self.message}"


@dataclass
class Parsed:
    families: dict[str, Family]
    findings: list[Finding]

    def samples(self, name: str) -> list[Sample]:
        family = self.families.get(name)
        return family.samples if family else []


def _bad_escape(text: str, allowed: str) -> str | None:
    """The first escape pair in ``text`` whose character is not in ``allowed``."""
    for match in _ESCAPE_PAIR.finditer(text):
        if not match.group(1) or match.group(1) not in allowed:
            return match.group(0)
    return None


def unescape(value: str) -> str:
    if "\\" not in value:
        return value
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}.get(m.group(1),
                                                                         m.group(0)), value)


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_series(name: str, labels: Labels) -> str:
    inner = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels)
    return f"{name}{{{inner}}}" if labels else name


# The common sample line, matched over the whole text at C speed: name, simple labels (no
# escapes), a plain decimal value, LF. Every other line takes the line-by-line path.
_FAST_LINE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})?'
    r' (-?[0-9]+(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?)$', re.M)


_new_tuple = tuple.__new__  # builds a Sample without NamedTuple's Python-level __new__


class _Parser:
    """State of one strict parse; see ``parse``."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.families: dict[str, Family] = {}
        self.current: str | None = None
        self.closed: dict[str, int] = {}  # family -> line where it was left
        self.seen: dict[tuple[str, Labels], int] = {}
        self.family_cache: dict[str, str] = {}
        self.valid_names: set[str] = set()
        self.crlf_seen = False

    def add(self, line: int, rule: str, message: str) -> None:
        self.findings.append(Finding(line, rule, message))

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
        if line[0] == "#":
            self.comment(lineno, line)
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
        parts = line.split(None, 3)
        if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
            return  # a plain comment
        kind, name = parts[1], parts[2]
        rest = parts[3] if len(parts) > 3 else ""
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
            if rest.strip() not in TYPES:
                self.add(lineno, "unknown-type", f"unknown metric type {rest.strip()!r} "
                         f"for {name}")
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


def parse(text: str) -> Parsed:
    """Parse ``text`` strictly; syntax problems become findings, parsing goes on.

    Common sample lines are found by one regex over the whole text; everything between them
    (HELP/TYPE, unusual samples, mistakes) is parsed line by line. Both end in the same
    bookkeeping, in line order.
    """
    p = _Parser()
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


# --- the contract ---------------------------------------------------------------------------

def verify(contract: Contract, parsed: Parsed, *, gateway: bool = False) -> list[Finding]:
    """Findings of ``parsed`` against ``contract`` (declared metrics, types, labels, domains,
    invariants). With ``gateway``, the labels the Pushgateway adds are expected too."""
    findings: list[Finding] = []
    add = findings.append
    declared = {m.name: m for m in contract.metrics}
    extra_labels = set(GATEWAY_LABELS) | {k for k, _ in contract.grouping_key} if gateway \
        else set()
    keyed: dict[str, dict[Labels, Sample]] = {}
    for name, fam in parsed.families.items():
        if gateway and name in ("push_time_seconds", "push_failure_time_seconds"):
            continue
        metric = declared.get(name)
        if metric is None:
            add(Finding(fam.first_line, "unknown-metric", f"{name} is not declared in "
                        f"contract '{contract.name}'"))
            continue
        if fam.type != metric.type:
            shown = fam.type or "no TYPE line (untyped)"
            add(Finding(fam.type_line or fam.first_line, "type",
                        f"{name} is {shown}; the contract declares {metric.type}"))
        keyed[name] = _check_series(metric, fam, extra_labels, add)
    for metric in contract.metrics:
        if not metric.labels and not keyed.get(metric.name):
            add(Finding(_end_line(parsed), "missing-metric",
                        f"{metric.name} is missing (every payload must carry it)"))
    for invariant in contract.invariants:
        _check_invariant(invariant, keyed, parsed, add)
    _check_orphans(contract, keyed, add)
    findings.sort(key=lambda f: f.line)
    return findings


def _end_line(parsed: Parsed) -> int:
    last = 1
    for fam in parsed.families.values():
        for sample in fam.samples[-1:]:
            last = max(last, sample.line)
    return last


def _check_series(metric: Metric, fam: Family, extra: set[str], add) -> dict[Labels, Sample]:
    expected = tuple(sorted(set(metric.labels) | extra))
    keep = frozenset(metric.labels)
    contains = _domain_check(metric)
    by_key: dict[Labels, Sample] = {}
    first = itemgetter(0)
    for sample in fam.samples:
        labels = sample.labels
        names = tuple(map(first, labels))  # labels are sorted by name
        if names != expected:
            have = set(names)
            missing, unexpected = sorted(set(expected) - have), sorted(have - set(expected))
            parts = []
            if missing:
                parts.append("missing " + ", ".join(missing))
            if unexpected:
                parts.append("unexpected " + ", ".join(unexpected))
            add(Finding(sample.line, "labels", f"{sample.name} has labels "
                        f"{{{', '.join(names)}}}: {'; '.join(parts)} (declared: "
                        f"{', '.join(metric.labels) or 'none'})"))
            continue
        if not contains(sample.value):
            add(Finding(sample.line, "domain", f"{format_series(sample.name, labels)} = "
                        f"{format_number(sample.value)} is outside its domain "
                        f"({metric.domain.describe()})"))
        key = labels if not extra else tuple(kv for kv in labels if kv[0] in keep)
        if not metric.labels and by_key:
            add(Finding(sample.line, "duplicate-series", f"{sample.name} appears more than "
                        "once"))
            continue
        by_key[key] = sample
    return by_key


def _domain_check(metric: Metric):  # noqa: ANN202 - returns a predicate
    """A fast membership test for the metric's domain (called once per sample)."""
    domain = metric.domain
    if domain.kind == "enum":
        allowed = frozenset(float(v) for v, _ in domain.states)
        return allowed.__contains__
    # finite only (see Domain.contains): v - v == 0 is false for NaN and the infinities
    low, high, integral = domain.low, domain.high, domain.integral
    if integral:
        return lambda v: low <= v <= high and v.is_integer()
    return lambda v: low <= v <= high and v - v == 0



def _single(keyed: dict[str, dict[Labels, Sample]], name: str) -> Sample | None:
    series = keyed.get(name, {})
    return next(iter(series.values())) if len(series) == 1 else None


def _check_invariant(inv, keyed: dict[str, dict[Labels, Sample]], parsed: Parsed, add) -> None:
    kind = inv.kind
    label = f"{inv.name}"
    if kind == "count_equals_state":
        count = _single(keyed, inv.get("count"))
        if count is None:
            return  # reported as missing-metric
        states = keyed.get(inv.get("state_metric"), {})
        wanted = inv.get("state")
        n = sum(1 for s in states.values() if s.value == wanted)
        if count.value != n:
            add(Finding(count.line, label, f"{count.name} is {format_number(count.value)} but "
                        f"{n} {inv.get('state_metric')} series have value {inv.get('state')} "
                        f"({inv.description})"))
    elif kind == "counts_sum_to_series":
        counts = [_single(keyed, name) for name in inv.get("counts")]
        if any(c is None for c in counts):
            return
        total = sum(c.value for c in counts)
        n = len(keyed.get(inv.get("series"), {}))
        if total != n:
            add(Finding(counts[0].line, label, f"counts sum to {format_number(total)} but "
                        f"there are {n} {inv.get('series')} series ({inv.description})"))
    elif kind in ("present_for_states", "absent_for_states"):
        metric = keyed.get(inv.get("metric"), {})
        wanted_states = frozenset(inv.get("states"))
        for key, state in keyed.get(inv.get("state_metric"), {}).items():
            if state.value not in wanted_states:
                continue
            present = key in metric
            if kind == "present_for_states" and not present:
                add(Finding(state.line, label, f"{format_series(state.name, key)} is "
                            f"{format_number(state.value)} but "
                            f"{format_series(inv.get('metric'), key)} is missing "
                            f"({inv.description})"))
            if kind == "absent_for_states" and present:
                add(Finding(metric[key].line, label, f"{format_series(inv.get('metric'), key)} "
                            f"is present although {format_series(state.name, key)} is "
                            f"{format_number(state.value)} ({inv.description})"))
    elif kind == "present_with":
        anchor = keyed.get(inv.get("with"), {})
        if anchor and not keyed.get(inv.get("metric")):
            first = next(iter(anchor.values()))
            add(Finding(first.line, label, f"{inv.get('with')} is present but "
                        f"{inv.get('metric')} is missing ({inv.description})"))
    elif kind == "not_after":
        reference = _single(keyed, inv.get("reference"))
        if reference is None:
            return
        for sample in keyed.get(inv.get("metric"), {}).values():
            if sample.value > reference.value:
                add(Finding(sample.line, label, f"{format_series(sample.name, sample.labels)} "
                            f"= {format_number(sample.value)} is after {reference.name} = "
                            f"{format_number(reference.value)} ({inv.description})"))
    elif kind == "age_floor":
        from promcontract.durations import parse_duration

        unit = parse_duration(inv.get("unit"))
        reference = _single(keyed, inv.get("reference"))
        since = keyed.get(inv.get("since"), {})
        for key, sample in keyed.get(inv.get("metric"), {}).items():
            start = since.get(key)
            if start is None:
                add(Finding(sample.line, label, f"{format_series(sample.name, key)} has no "
                            f"{format_series(inv.get('since'), key)} to be computed from "
                            f"({inv.description})"))
                continue
            if reference is None or not all(math.isfinite(v) for v in (
                    reference.value, start.value, sample.value)):
                continue  # a non-finite value is reported by its domain check
            expected = math.floor((reference.value - start.value) / unit)
            if sample.value != expected:
                add(Finding(sample.line, label, f"{format_series(sample.name, key)} is "
                            f"{format_number(sample.value)}, expected {expected} from "
                            f"{inv.get('since')} = {format_number(start.value)} and "
                            f"{reference.name} = {format_number(reference.value)} "
                            f"({inv.description})"))


def _check_orphans(contract: Contract, keyed: dict[str, dict[Labels, Sample]], add) -> None:
    """Per-item series whose item is not reported by the state metric (left from a run)."""
    state_metrics = {inv.get("state_metric") for inv in contract.invariants
                     if "state_metric" in dict(inv.params)}
    for state_name in sorted(state_metrics):
        state_metric = contract.metric(state_name)
        states = keyed.get(state_name, {})
        for metric in contract.metrics:
            if metric.name == state_name or metric.labels != state_metric.labels:
                continue
            for key, sample in keyed.get(metric.name, {}).items():
                if key not in states:
                    add(Finding(sample.line, "orphan-series",
                                f"{format_series(metric.name, key)} has no "
                                f"{format_series(state_name, key)}: a series left from an "
                                "earlier run?"))
