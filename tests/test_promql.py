"""PromQL as a tree: parsed by promql-parser, printed back so that it parses to the same tree."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT
from promcontract.promql import ParseError, parse, text
from promcontract.promql import labels as plabels

TRICKY = [
    "-a ^ b", "-(a + b)", "-a ^ -b", "2 ^ -1", "(-2) ^ 2", "a - -b", "-(a ^ b) ^ c",
    "a ^ b ^ c", "(a ^ b) ^ c", "a - (b - c)", "(a - b) - c", "a / b * c", "a / (b * c)",
    "a or b and c", "(a or b) and c", "a unless on(x) b or c", "a > bool 1",
    'sum without (instance) (rate(x{a="1", b=~"2|3"}[5m] offset 1h))',
    "topk by (job) (3, x)",
    'label_replace(absent(x{job="j"}), "absent", "true", "", "")',
    "x @ start()", "max_over_time((a + b)[10m:1m])", "rate(x[5m:30s] offset 1m)",
    'a * on(job) group_left(stack) b', 'a / ignoring(code) group_right c',
    'count_values("v", x)', 'quantile(0.9, x)', 'histogram_quantile(0.99, sum by (le) (x))',
    '{__name__=~"up|x", job="j"}', "NaN", "Inf", "-Inf", "time() - x > 26 * 3600",
    'vector(1) and on() (time() - y{job="prometheus"}) > 900',
]


def _corpus() -> list[str]:
    exprs = list(TRICKY)
    for path in sorted((ROOT / "rules" / "generated").glob("*.rules.yml")):
        exprs += re.findall(r"^\s+expr: (.*)$", path.read_text(), re.M)
    return exprs


@pytest.mark.parametrize("expr", _corpus())
def test_printed_tree_parses_back_to_itself(expr) -> None:
    tree = parse(expr)
    printed = text(tree)
    assert parse(printed) == tree, printed
    assert text(parse(printed)) == printed  # printing is stable


def test_not_promql_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse("sum(")


def test_fixed_labels_follow_prometheus_result_labels() -> None:
    assert plabels.fixed(parse('x{job="j", a=~"b"}')) == {"job": "j", "__name__": "x"}
    assert plabels.fixed(parse('max by (job) (x{job="j", k="v"})')) == {"job": "j"}
    assert plabels.fixed(parse('sum(x{job="j"})')) == {}
    assert plabels.fixed(parse('rate(x{job="j"}[5m])')) == {"job": "j"}
    assert plabels.fixed(parse('x{job="j"} > 1')) == {"job": "j", "__name__": "x"}
    # one-to-one matching keeps only the on() labels (checked with promtool: `a > on(job) b`
    # returns {job="..."})
    assert plabels.fixed(parse('x{job="j", k="v"} > on(job) y{job="j"}')) == {"job": "j"}
    assert plabels.fixed(parse('absent(x{job="j"})')) == {"job": "j"}
    replaced = parse('label_replace(absent(x{job="j"}), "absent", "true", "", "")')
    assert plabels.fixed(replaced) == {"job": "j", "absent": "true"}
    assert plabels.fixed(parse('x{job="j"} or y{job="k"}')) == {}
    assert plabels.constant_value(parse("26 * 3600")) == 93600
    assert plabels.constant_value(parse("x * 2")) is None
