"""YAML out: every scalar and structure reads back as written, in pyyaml and in promtool."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CONTRACT
from promcontract.contract import load_contract
from promcontract.model import yamlout
from promcontract.testgen.oracle import STEP, Scenario, Series
from promcontract.workflows import promcheck

ODD = ["-5", "- x", "---", "yes", "y", "on", "null", "~", "1e5", "0x1f", ".inf", "x: y",
       "a #b", "#c", "'q'", '"d"', "{e}", "[f]", "a\u2028b", "a\x85b", "a\x7fb", "\ufeffx",
       "tab\there", "line\nbreak", " lead", "trail ", "ü", "*g", "&h", "!i", "%j", "@k", "`l"]


@settings(max_examples=400)
@given(st.one_of(st.text(), st.sampled_from(ODD)))
def test_scalar_reads_back(text: str) -> None:
    assert yaml.safe_load(f"k: {yamlout.scalar(text)}") == {"k": text}


def test_scalar_stays_plain_when_it_can() -> None:
    for text in ("30m", "-93360+0x38", "drift_stack_count{job=\"x\"}", "1d 2h 31m 0s", "ü"):
        assert yamlout.scalar(text) == text


scalars = st.one_of(st.text(max_size=8), st.sampled_from(ODD), st.integers(), st.booleans(),
                    st.none(), st.floats(allow_nan=False))
trees = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=300)
@given(trees)
def test_block_reads_back(tree) -> None:
    assert yaml.safe_load("\n".join(yamlout.block(tree)) + "\n") == tree


def test_odd_label_values_read_back_in_promtool(promtool_bin) -> None:
    """Go's YAML parser reads the escapes too: promtool matches the expected labels."""
    contract = load_contract(str(CONTRACT))
    alert = next(a for a in contract.alerts if a.name == "DriftUnaddressed")
    steps = int(alert.for_seconds // STEP) + 3
    series = tuple(
        Series(alert.spec.metric, (("instance", ""), ("job", "drift-detection"), ("stack", name)),
               (-alert.spec.threshold - 10 * STEP,) * steps)
        for name in ODD if "\n" not in name)
    scenario = Scenario(alert.name, "odd stack names", series, ((steps - 1) * STEP,))
    ws = promcheck.Workspace(contract)
    try:
        verdict = ws.check([scenario])
    finally:
        ws.close()
    assert verdict.agrees, verdict.report()
    assert verdict.files and "\\u2028" in next(iter(verdict.files.values()))
