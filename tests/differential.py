"""Near-valid exposition payloads, and what the real Go parsers make of them.

Used by tests/test_differential.py (>= 500 examples in make test) and bench/run.py
(>= 10,000). A payload is a valid one (the reference pusher's output for a few stacks) changed
in one to three places the way hand-written pushers get it wrong: escapes, duplicate series,
HELP/TYPE order and repeats, whitespace, Go float forms, timestamps, CRLF, unicode, empty
label values, `{}` with no labels, comments, a missing final newline.

Go's verdict: ``promtool check metrics`` reporting a parse error, or the Pushgateway answering
PUT with 400 (unparseable or inconsistent). Ours: ``text004.parse`` findings (the format
rules of ``promcontract verify``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Where promcontract's format check is deliberately stricter than Go (each a rule of
# payload/text004.py, documented in the README): a payload Go accepts may get these and only
# these findings.
STRICTER = {
    "final-newline": "Go reads a last line without LF; a pusher that drops it usually "
                     "truncated its payload",
    "help-after-sample": "Go accepts HELP after a family's samples; it is a sign of a "
                         "pusher writing families in pieces",
    "family-not-contiguous": "the gateway merges a family's lines; Go's parser refuses only "
                             "some interleavings",
    "duplicate-help": "a second HELP for one family: Go keeps one silently",
    "timestamp": "promtool accepts timestamps; a Pushgateway rejects them on push (kept "
                 "strict for both)",
    "metric-name": "names Go 3.x accepts (UTF-8, quoted) but the 0.0.4 format and Prometheus "
                   "2.x do not",
    "label-name": "label names with a leading __ are reserved in Prometheus",
    "bad-value": "float spellings Go parses (hex, underscores) that no exporter writes",
    "crlf": "a CR before LF on a HELP line: Go keeps it in the text",
}

# What Go says when it rejects, by class, and the rules of ours that catch that class: a
# payload Go rejects for class X must get a finding of one of X's rules (a finding of some
# other rule only is a miss: we caught something else and would pass the real error).
CLASSES: list[tuple[str, str, frozenset[str]]] = [
    (name, pattern, frozenset(rules)) for name, pattern, rules in [
        ("second-type", r"second TYPE line", {"duplicate-type", "type-after-sample",
                                              "family-not-contiguous"}),
        ("second-help", r"second HELP line", {"duplicate-help"}),
        ("timestamp", r"expected integer as timestamp|spurious string after timestamp|must "
                      r"not have timestamps", {"timestamp", "syntax"}),
        ("value", r"expected float as value", {"bad-value", "syntax", "metric-name", "crlf",
                                               "label-name"}),
        ("type", r"unknown metric type", {"unknown-type", "crlf"}),
        ("escape", r"invalid escape sequence", {"bad-escape"}),
        ("duplicate-label", r"duplicate label names", {"duplicate-label"}),
        ("metric-name", r"invalid metric name", {"metric-name"}),
        ("label-name", r"invalid label name|expected label name", {"label-name", "syntax"}),
        ("end-of-input", r"unexpected end of input", {"syntax", "final-newline", "crlf"}),
        ("duplicate-series", r"was collected before with the same name and label values",
         {"duplicate-series"}),
        ("label-value", r"expected '\"' to start label value|invalid label value|"
                        r"expected '=' after label name", {"syntax", "bad-escape"}),
    ]
]


def go_class(why: str) -> tuple[str, frozenset[str]] | None:
    """The class of Go's rejection ``why``, and the rules of ours that catch it."""
    import re

    for name, pattern, rules in CLASSES:
        if re.search(pattern, why):
            return name, rules
    return None


STACKS = ("app", "db/prod", "edge 1", 'say "hi"', "back\\slash", "ünï", "")


def base_payload(stacks: list[tuple[str, int]]) -> str:
    """The reference pusher's payload for ``stacks`` (no gateway: no previous state)."""
    from promcontract.contract import load_contract
    from promcontract.payload import pusher

    contract = _contract()
    r = pusher.roles(contract)
    results = [pusher.StackResult(name, code, i) for i, (name, code) in enumerate(stacks)]
    states = pusher.next_states(results, {}, 1_700_000_000.0, r)
    del load_contract
    return pusher.render_payload(contract, states, 1_700_000_000.0, r)


_CONTRACT = []


def _contract():  # noqa: ANN202
    if not _CONTRACT:
        from pathlib import Path

        from promcontract.contract import load_contract

        root = Path(__file__).resolve().parent.parent
        _CONTRACT.append(load_contract(str(root / "rules" / "drift.contract.yaml")))
    return _CONTRACT[0]


VALUES = ["1.288e+06", "+Inf", "-Inf", "NaN", "nan", "Inf", "0x1F", "1_000", ".5", "5.",
          "1e", "-0", "1E6", "+1", "--1", "1.0.0", "", "0.1e-3", "infinity", "InFiNiTy"]
TIMESTAMPS = ["1700000000000", "-1", "1.5", "abc", "1700000000000 5"]
HELP_TEXT = ["\\n", "\\\\", "\\x", '\\"', "\\t", "\\", " \\\\n", "é", '"']
LABEL_TEXT = ['\\x', '\\"', '\\\\', '\\n', '\\t', 'é', '"', '\\', '', ' ', '\u2028']


@dataclasses.dataclass(frozen=True)
class Mutation:
    kind: str
    where: int  # a line index (modulo the line count)
    choice: int


def mutate(text: str, mutations: list[Mutation]) -> str:
    lines = text.split("\n")[:-1]  # the text ends with LF
    final = True
    for m in mutations:
        if not lines:
            break
        i = m.where % len(lines)
        line = lines[i]
        sample = [j for j, x in enumerate(lines) if x and not x.startswith("#")]
        if m.kind == "value" and sample:
            j = sample[m.where % len(sample)]
            head = lines[j].rsplit(" ", 1)[0]
            lines[j] = f"{head} {VALUES[m.choice % len(VALUES)]}"
        elif m.kind == "timestamp" and sample:
            j = sample[m.where % len(sample)]
            lines[j] = f"{lines[j]} {TIMESTAMPS[m.choice % len(TIMESTAMPS)]}"
        elif m.kind == "label" and '="' in line:
            at = line.index('="') + 2
            lines[i] = line[:at] + LABEL_TEXT[m.choice % len(LABEL_TEXT)] + line[at:]
        elif m.kind == "duplicate":
            lines.insert(i, line)
        elif m.kind == "move":
            moved = lines.pop(i)
            lines.insert(m.choice % (len(lines) + 1), moved)
        elif m.kind == "whitespace":
            variants = [line.replace(" ", "\t", 1), line.replace(" ", "  ", 1), line + " ",
                        " " + line, line.replace("{", " {", 1), line.replace("=", " = ", 1),
                        line.replace(",", ", ", 1)]
            lines[i] = variants[m.choice % len(variants)]
        elif m.kind == "crlf":
            lines[i] = line + "\r"
        elif m.kind == "braces" and sample:
            j = sample[m.where % len(sample)]
            parts = lines[j].split(" ", 1)
            if "{" not in lines[j] and len(parts) == 2:
                name, rest = parts
                lines[j] = f"{name}{{}} {rest}"
            elif "{" in lines[j]:
                lines[j] = lines[j].replace('"}', '",}', 1) if m.choice % 2 else \
                    lines[j].replace('{', '{stack="x",', 1)
        elif m.kind == "comment":
            options = ["# a comment", "#HELP x y", "# HELP", "# TYPE drift_stack_count "
                       "counter", "# TYPE drift_stack_count gauge extra", "#", "# HELP "
                       "drift_stack_count second help", "# UNKNOWN x"]
            lines.insert(i, options[m.choice % len(options)])
        elif m.kind == "name":
            options = ["1bad", "drift-stack", "drift_stack_count2", "é", "a:b", "__x"]
            if sample:
                j = sample[m.where % len(sample)]
                rest = lines[j][len(lines[j].split("{")[0].split(" ")[0]):]
                lines[j] = options[m.choice % len(options)] + rest
        elif m.kind == "final":
            final = False
        elif m.kind == "help-text" and line.startswith("# HELP "):
            lines[i] = line + HELP_TEXT[m.choice % len(HELP_TEXT)]
        elif m.kind == "empty-label" and '="' in line:
            start = line.index('="') + 2
            end = line.index('"', start) if '"' in line[start:] else start
            lines[i] = line[:start] + line[end:]
    return "\n".join(lines) + ("\n" if final else "")


KINDS = ["value", "timestamp", "label", "duplicate", "move", "whitespace", "crlf", "braces",
         "comment", "name", "final", "empty-label", "help-text"]


def payloads() -> st.SearchStrategy[str]:
    stacks = st.lists(st.tuples(st.sampled_from(STACKS), st.sampled_from([0, 1, 2])),
                      min_size=1, max_size=3, unique_by=lambda x: x[0])
    mutation = st.builds(Mutation, st.sampled_from(KINDS), st.integers(0, 200),
                         st.integers(0, 50))
    return st.builds(lambda s, ms: mutate(base_payload(s), ms), stacks,
                     st.lists(mutation, min_size=1, max_size=3))


_GO: dict[str, tuple[bool, str]] = {}


def go_rejects(payload: str, gateway_url: str) -> tuple[bool, str]:
    """(rejected, why) by promtool check metrics (a parse error) or a Pushgateway PUT (400);
    remembered per payload, so self-tests that replay the same examples ask Go once."""
    if payload not in _GO:
        _GO[payload] = _ask_go(payload, gateway_url)
    return _GO[payload]


def _ask_go(payload: str, gateway_url: str) -> tuple[bool, str]:
    from promcontract.payload import gateway
    from promcontract.runners import promtool
    from promcontract.runners.http import exchange

    result = promtool.check_metrics(payload)
    if "error while linting" in result.output or "parsing error" in result.output:
        return True, "promtool: " + result.output.splitlines()[0][:200]
    status, body = exchange("PUT", gateway_url + gateway.group_path((("job", "differential"),)),
                            payload.encode("utf-8"), 10.0,
                            {"Content-Type": gateway.CONTENT_TYPE})
    if status >= 400:
        return True, f"gateway {status}: {body.decode('utf-8', 'replace')[:1000]}"
    return False, ""


def ours(payload: str) -> set[str]:
    from promcontract.payload import text004

    return {f.rule for f in text004.parse(payload).findings}


@dataclasses.dataclass(frozen=True)
class Verdict:
    go_rejects: bool
    why: str  # what Go said, when it rejects
    ours: frozenset[str]  # the rules of our findings

    @property
    def laxer(self) -> bool:
        """Go rejects what we accept: never allowed."""
        return self.go_rejects and not self.ours

    @property
    def go_class(self) -> str | None:
        found = go_class(self.why) if self.go_rejects else None
        return found[0] if found else None

    @property
    def missed_class(self) -> str | None:
        """The class Go rejects for when none of our findings is of that class (we may have
        rejected for another reason only); None when we caught it or Go accepts."""
        if not self.go_rejects:
            return None
        found = go_class(self.why)
        if found is None:
            return None if self.ours else "unclassified"
        name, rules = found
        return None if self.ours & rules else name

    @property
    def undocumented(self) -> frozenset[str]:
        """Rules that reject what Go accepts and are not in the documented list."""
        return frozenset() if self.go_rejects else self.ours - set(STRICTER)


def judge(payload: str, gateway_url: str) -> Verdict:
    rejected, why = go_rejects(payload, gateway_url)
    return Verdict(rejected, why, frozenset(ours(payload)))


def over_payloads(examples: int, **overrides: object
                  ) -> Callable[[Callable[[str], None]], Callable[[], None]]:
    """Run the decorated check on ``examples`` payloads, the same ones on every run."""
    def wrap(check: Callable[[str], None]) -> Callable[[], None]:
        chosen = settings(max_examples=examples, deadline=None, database=None,
                          derandomize=True, suppress_health_check=list(HealthCheck),
                          **overrides)  # type: ignore[arg-type]
        return chosen(given(payloads())(check))
    return wrap
