"""The strict 0.0.4 checker: accepts what prometheus_client renders, rejects what it must."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from promcontract.payload import text004 as exposition

OK = "# HELP m A metric.\n# TYPE m gauge\nm{a=\"1\"} 1\nm{a=\"2\"} 2\n"

# (id, payload, rule the checker must name)
MALFORMED = [
    ("duplicate-series", 'm{a="1"} 1\nm{a="1"} 2\n', "duplicate-series"),
    ("duplicate-series-label-order", 'm{a="1",b="2"} 1\nm{b="2",a="1"} 2\n', "duplicate-series"),
    ("type-after-sample", "m 1\n# TYPE m gauge\n", "type-after-sample"),
    ("help-after-sample", "m 1\n# HELP m text\n", "help-after-sample"),
    ("second-type", "# TYPE m gauge\n# TYPE m gauge\nm 1\n", "duplicate-type"),
    ("second-help", "# HELP m a\n# HELP m b\nm 1\n", "duplicate-help"),
    ("unknown-type", "# TYPE m gaugeish\nm 1\n", "unknown-type"),
    ("bad-label-escape", 'm{a="\\q"} 1\n', "bad-escape"),
    ("bad-label-escape-tab", 'm{a="\\t"} 1\n', "bad-escape"),
    ("bad-help-escape", '# HELP m a \\" quote\nm 1\n', "bad-escape"),
    ("crlf", "# TYPE m gauge\r\nm 1\r\n", "crlf"),
    ("missing-final-newline", "m 1", "final-newline"),
    ("timestamp", "m 1 1700000000000\n", "timestamp"),
    ("bad-float-comma", "m 1,5\n", "bad-value"),
    ("bad-float-word", "m one\n", "bad-value"),
    ("bad-float-hexish", "m 0x\n", "bad-value"),
    ("bad-float-double-dot", "m 1.2.3\n", "bad-value"),
    ("invalid-metric-name-digit", "1m 1\n", "metric-name"),
    ("invalid-metric-name-dash", "my-metric 1\n", "metric-name"),
    ("invalid-metric-name-in-type", "# TYPE my-metric gauge\n", "metric-name"),
    ("reserved-label", 'm{__name="x"} 1\n', "label-name"),
    ("invalid-label-name", 'm{1a="x"} 1\n', "label-name"),
    ("invalid-label-name-dash", 'm{a-b="x"} 1\n', "label-name"),
    ("duplicate-label", 'm{a="1",a="2"} 1\n', "duplicate-label"),
    ("unquoted-label-value", "m{a=1} 1\n", "syntax"),
    ("unterminated-labels", 'm{a="1" 1\n', "syntax"),
    ("missing-value", "m\n", "syntax"),
    ("missing-comma", 'm{a="1" b="2"} 1\n', "syntax"),
    ("family-not-contiguous", "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"y\"} 2\n",
     "family-not-contiguous"),
    ("family-not-contiguous-help", "a 1\nb 1\n# HELP a again\n", "family-not-contiguous"),
    ("extra-field", "m 1 2 3\n", "syntax"),
    ("single-quoted-label", "m{a='1'} 1\n", "syntax"),
]


def test_well_formed_payload_has_no_findings() -> None:
    assert exposition.parse(OK).findings == []


@pytest.mark.parametrize("case", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_payload_is_rejected_for_the_right_reason(case) -> None:
    _, payload, rule = case
    findings = exposition.parse(payload).findings
    assert findings, f"accepted: {payload!r}"
    assert rule in {f.rule for f in findings}, findings


def test_corpus_size_and_lax_parser_contrast() -> None:
    assert len({c[0] for c in MALFORMED}) >= 30
    # prometheus_client's parser accepts several of these without complaint: the reason the
    # strict checker exists.
    lax_accepts = 0
    for _, payload, _ in MALFORMED:
        try:
            list(text_string_to_metric_families(payload))
            lax_accepts += 1
        except Exception:  # noqa: BLE001 - any refusal counts
            pass
    assert lax_accepts >= 5


def test_values_in_go_float_syntax() -> None:
    text = "a 1.288e+06\nb NaN\nc +Inf\nd -Inf\ne -0.5\nf .5\ng 1E3\n"
    parsed = exposition.parse(text)
    assert parsed.findings == []
    assert parsed.samples("a")[0].value == 1288000.0


def test_label_values_are_unescaped() -> None:
    parsed = exposition.parse('m{a="x\\\\y\\"z\\nw"} 1\n')
    assert parsed.findings == []
    assert parsed.samples("m")[0].label("a") == 'x\\y"z\nw'


_names = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,12}", fullmatch=True)
_label_names = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,8}", fullmatch=True)
_values = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=150, deadline=None)
@given(
    metrics=st.lists(st.tuples(_names, st.sampled_from(["gauge", "counter", "histogram"]),
                               st.text(max_size=20), st.lists(_label_names, max_size=3,
                                                              unique=True)),
                     max_size=4, unique_by=lambda m: m[0].removesuffix("_total")),
    label_values=st.lists(st.text(max_size=10), min_size=3, max_size=3),
    values=st.lists(_values, min_size=3, max_size=3),
)
def test_accepts_everything_prometheus_client_renders(metrics, label_values, values) -> None:
    registry = CollectorRegistry()
    taken: set[str] = set()
    for name, kind, help_text, labels in metrics:
        base = name.removesuffix("_total").removesuffix("_created")
        family_names = {base, base + "_total", base + "_created", base + "_bucket",
                        base + "_sum", base + "_count"}
        if family_names & taken or base in ("", ":"):
            continue
        taken |= family_names
        cls = {"gauge": Gauge, "counter": Counter, "histogram": Histogram}[kind]
        try:
            metric = cls(base, help_text, labels, registry=registry)
        except ValueError:
            continue  # a name prometheus_client itself refuses
        for i in range(2):
            child = metric.labels(*[label_values[(i + j) % 3] for j in range(len(labels))]) \
                if labels else metric
            value = values[i]
            if kind == "gauge":
                child.set(value)
            elif kind == "counter" and value == value and value >= 0:
                child.inc(value)
            elif kind == "histogram" and value == value:
                child.observe(value)
            if not labels:
                break
    text = generate_latest(registry).decode("utf-8")
    assert exposition.parse(text).findings == [], text
