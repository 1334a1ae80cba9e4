"""Splicing the rendered group into a values template: byte-stable outside the block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import CONTRACT, ROOT, TEMPLATE
from promcontract.contract import load_contract
from promcontract.problems import UserError
from promcontract.render import group as render
from promcontract.render import plan as pipeline
from promcontract.template import splice, tfescape

GOLDEN = ROOT / "tests" / "golden" / "drift_group.yaml"
HANDWRITTEN = ROOT / "tests" / "fixtures" / "handwritten_values.tpl"
GROUP = "Infrastructure Drift"


@pytest.fixture(scope="module")
def contract():
    return load_contract(str(CONTRACT))


@pytest.fixture(scope="module")
def block(contract) -> str:
    return tfescape.escape(render.render_group(contract))


def test_rendered_group_matches_golden(contract) -> None:
    """The golden file is reviewed by people; regenerate with UPDATE_GOLDEN=1 after a change."""
    text = render.render_group(contract) + "\n"
    import os

    if os.environ.get("UPDATE_GOLDEN") == "1":
        if os.environ.get("CI") == "true":
            pytest.fail("UPDATE_GOLDEN=1 under CI=true: the golden test would pass by writing "
                        "its own expectation", pytrace=False)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_bundled_template_is_up_to_date(contract) -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    assert pipeline.splice_all([contract], text, str(TEMPLATE)) == text


def _outside(text: str, begin: str, end: str) -> tuple[str, str]:
    start = text.index(begin)
    stop = text.index(end) + len(end)
    return text[:start], text[stop:]


def test_adopts_handwritten_group(block: str) -> None:
    original = HANDWRITTEN.read_text(encoding="utf-8")
    assert splice.BEGIN not in original
    result = splice.splice(original, GROUP, block, "x.tpl")
    lines = result.split("\n")
    begin = next(i for i, line in enumerate(lines) if line.strip() == splice.BEGIN + GROUP)
    end = next(i for i, line in enumerate(lines) if line.strip() == splice.END + GROUP)
    # Everything outside the markers is the original minus the hand-written group.
    orig_lines = original.split("\n")
    g_start = next(i for i, line in enumerate(orig_lines) if line.strip() == f"- name: {GROUP}")
    g_end = g_start + 1
    while orig_lines[g_end].startswith(" " * 8) or not orig_lines[g_end].strip():
        g_end += 1
    while not orig_lines[g_end - 1].strip():
        g_end -= 1
    assert lines[:begin] == orig_lines[:g_start]
    assert lines[end + 1:] == orig_lines[g_end:]
    # The group sits at the file's own item indentation.
    assert lines[begin + 1] == "      - name: Infrastructure Drift"
    assert "max(drift_stack_age_hours)" not in result


def test_second_splice_is_a_noop(block: str) -> None:
    once = splice.splice(HANDWRITTEN.read_text(encoding="utf-8"), GROUP, block, "x.tpl")
    assert splice.splice(once, GROUP, block, "x.tpl") == once


def test_appends_when_group_missing(block: str) -> None:
    text = ("serverFiles:\n  alerting_rules.yml:\n    groups:\n      - name: Other\n"
            "        rules: []\n\n      # trailing comment of the user\n"
            "  prometheus.yml: {}\n")
    result = splice.splice(text, GROUP, block, "x.tpl")
    assert result.startswith("serverFiles:\n  alerting_rules.yml:\n    groups:\n"
                             "      - name: Other\n        rules: []\n"
                             f"      {splice.BEGIN}{GROUP}\n      - name: {GROUP}\n")
    assert result.endswith(f"      {splice.END}{GROUP}\n\n      # trailing comment of the user\n"
                           "  prometheus.yml: {}\n")


def test_keeps_crlf_and_missing_final_newline(block: str) -> None:
    text = "serverFiles:\r\n  alerting_rules.yml:\r\n    groups:\r\n      - name: A\r\n" \
           "        rules: []"
    result = splice.splice(text, GROUP, block, "x.tpl")
    assert not result.endswith("\n")
    assert "\n" not in result.replace("\r\n", "")
    assert result.startswith(text + "\r\n")
    again = splice.splice(result, GROUP, block, "x.tpl")
    assert again == result


def test_indentation_follows_the_file(block: str) -> None:
    text = "serverFiles:\n    alerting_rules.yml:\n        groups:\n        - name: A\n" \
           "          rules: []\n"
    result = splice.splice(text, GROUP, block, "x.tpl")
    assert f"\n        - name: {GROUP}\n          # Generated" in result
    assert "\n            - alert: DriftDetectionStale\n" in result


BAD_TEMPLATES = {
    "no-alerting-rules": ("serverFiles:\n  prometheus.yml: {}\n", r"no 'alerting_rules.yml:'"),
    "no-server-files": ("server: {}\n", r"no 'serverFiles:'"),
    "flow-groups": ("serverFiles:\n  alerting_rules.yml:\n    groups: []\n",
                    r"must be followed by an indented block"),
    "duplicate-begin": (
        f"serverFiles:\n  alerting_rules.yml:\n    groups:\n      # BEGIN promcontract group: "
        f"{GROUP}\n      # BEGIN promcontract group: {GROUP}\n      # END promcontract group: "
        f"{GROUP}\n", r":5:1: duplicate BEGIN marker"),
    "end-before-begin": (
        f"serverFiles:\n  alerting_rules.yml:\n    groups:\n      - name: X\n        rules: []\n"
        f"      # END promcontract group: {GROUP}\n      # BEGIN promcontract group: {GROUP}\n",
        r":6:1: END marker .* comes before its BEGIN"),
    "begin-without-end": (
        f"serverFiles:\n  alerting_rules.yml:\n    groups:\n      # BEGIN promcontract group: "
        f"{GROUP}\n      - name: {GROUP}\n        rules: []\n", r":4:1: BEGIN marker .* no END"),
    "end-without-begin": (
        f"serverFiles:\n  alerting_rules.yml:\n    groups:\n      - name: {GROUP}\n"
        f"        rules: []\n      # END promcontract group: {GROUP}\n",
        r":6:1: END marker .* no BEGIN"),
    "twice-without-markers": (
        f"serverFiles:\n  alerting_rules.yml:\n    groups:\n      - name: {GROUP}\n"
        f"        rules: []\n      - name: {GROUP}\n        rules: []\n",
        r":6:1: .* defined twice"),
    "defined-outside-markers": (
        f"serverFiles:\n  alerting_rules.yml:\n    groups:\n      # BEGIN promcontract group: "
        f"{GROUP}\n      - name: {GROUP}\n        rules: []\n      # END promcontract group: "
        f"{GROUP}\n      - name: {GROUP}\n        rules: []\n",
        r":8:1: group 'Infrastructure Drift' is also defined outside its promcontract markers "
        r"\(lines 4-7\)"),
    "marker-outside-groups": (
        f"# BEGIN promcontract group: {GROUP}\n# END promcontract group: {GROUP}\nserverFiles:\n"
        "  alerting_rules.yml:\n    groups:\n      - name: A\n        rules: []\n",
        r":1:1: marker .* outside"),
}


@pytest.mark.parametrize("name", sorted(BAD_TEMPLATES))
def test_bad_templates_are_refused(name: str, block: str) -> None:
    text, message = BAD_TEMPLATES[name]
    with pytest.raises(UserError) as info:
        splice.splice(text, GROUP, block, "t.tpl")
    assert len(info.value.problems) == 1
    assert re.search(message, str(info.value.problems[0])), str(info.value.problems[0])


@pytest.mark.parametrize("name", ["duplicate-begin", "no-alerting-rules"])
def test_bad_template_via_cli_leaves_file_untouched(name: str, workspace: Path, cli) -> None:
    tpl = workspace / "stacks" / "monitoring" / TEMPLATE.name
    tpl.write_text(BAD_TEMPLATES[name][0], encoding="utf-8")
    before = tpl.read_bytes()
    result = cli("render")
    assert result.code == 2
    assert len(result.err_lines) == 1 and "Traceback" not in result.err
    assert result.err.startswith("stacks/monitoring/prometheus_chart_values.tpl:")
    assert tpl.read_bytes() == before


def test_read_only_template(workspace: Path, cli) -> None:
    tpl = workspace / "stacks" / "monitoring" / TEMPLATE.name
    tpl.write_bytes(HANDWRITTEN.read_bytes())
    before = tpl.read_bytes()
    tpl.chmod(0o444)
    try:
        result = cli("render")
    finally:
        tpl.chmod(0o644)
    assert result.code == 2
    expected = f"stacks/monitoring/{TEMPLATE.name}: file is read-only; not written"
    assert result.err_lines == [expected]
    assert tpl.read_bytes() == before


def test_unreadable_template(workspace: Path, cli) -> None:
    tpl = workspace / "stacks" / "monitoring" / TEMPLATE.name
    tpl.chmod(0o000)
    try:
        result = cli("render")
    finally:
        tpl.chmod(0o644)
    assert result.code == 2
    assert "cannot read" in result.err and len(result.err_lines) == 1


def test_missing_template(workspace: Path, cli) -> None:
    result = cli("render", "--tpl", "nope.tpl")
    assert result.code == 2
    assert result.err_lines == ["nope.tpl: file not found"]


# --- property: whatever surrounds the group survives byte for byte --------------------------

# Terraform evaluates YAML comments too: a directive in a comment is a directive. The lines
# here hold only what templatefile() accepts (balanced directives are whole lines elsewhere).
_FRAGMENTS = st.sampled_from([
    "${x}", "$${1}", "%%{ for k, v in m ~}", "%%{ endfor ~}", "{{ $labels.a }}", "%%{", "$",
    "%", "é", "漢字", "\t", "  ", "#", "key: value", "- item", "\"q\"", "'s'", " ", "ü:",
])
_TEXT_LINE = st.lists(st.one_of(_FRAGMENTS, st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x85"),
    max_size=8)), max_size=6).map("".join)


def _indented(prefix: str) -> st.SearchStrategy[str]:
    # Lines inside the structure must stay inside it: indent them deeper than `prefix`.
    return _TEXT_LINE.map(lambda s: prefix + "# " + s if s.strip() else "")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    head=st.lists(_TEXT_LINE.map(lambda s: "# " + s), max_size=4),
    between=st.lists(_indented("      "), max_size=3),
    other_rules=st.lists(_TEXT_LINE.map(lambda s: "          # " + s), max_size=3),
    tail=st.lists(_TEXT_LINE.map(lambda s: "#" + s), max_size=4),
    crlf=st.booleans(), bom=st.booleans(), final_newline=st.booleans(),
    trailing_ws=st.sampled_from(["", " ", "\t"]),
    adopt=st.booleans(),
)
def test_surrounding_text_is_byte_identical(head, between, other_rules, tail, crlf, bom,
                                            final_newline, trailing_ws, adopt, block) -> None:
    nl = "\r\n" if crlf else "\n"
    before = head + ["serverFiles:" + trailing_ws, "  alerting_rules.yml:", "    groups:",
                     "      - name: Other", '        rules:' + trailing_ws,
                     "          - alert: A", '            expr: up == 0 # ${x} $${1}'] \
        + other_rules
    old_group = [f"      - name: {GROUP}", "        rules:", "          - alert: Old",
                 "            expr: vector(1)"] if adopt else []
    after = ["  prometheus.yml:", "    rule_files: [a]"] + tail
    # Blank lines and item-level comments between groups are the user's: when adopting they
    # stay above the adopted group; when appending, the new group goes above them.
    if adopt:
        before += between
    else:
        after = between + after
    text_before = nl.join(before) + nl
    text_after = nl.join(after) + (nl if final_newline else "")
    original = ("\ufeff" if bom else "") + text_before + \
        (nl.join(old_group) + nl if old_group else "") + text_after
    assume(not tfescape.validate(original.lstrip("\ufeff")))  # a joined $ + {

    result = splice.splice(original, GROUP, block, "p.tpl")

    begin = "      " + splice.BEGIN + GROUP
    end = "      " + splice.END + GROUP
    assert result.startswith(("\ufeff" if bom else "") + text_before + begin + nl)
    assert result.endswith(end + nl + text_after)
    # Re-found and replaced in place by the next render.
    assert splice.splice(result, GROUP, block, "p.tpl") == result
    changed = splice.splice(result, GROUP, block.replace("26 * 3600", "27 * 3600"), "p.tpl")
    assert changed.startswith(("\ufeff" if bom else "") + text_before + begin + nl)
    assert changed.endswith(end + nl + text_after)
    assert "27 * 3600" in changed


def test_big_unseen_template_without_markers(block: str) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    from bigtemplate import DRIFT_GROUP, make_template

    for newline in ("\n", "\r\n"):
        text = make_template(newline=newline)
        assert text.count(newline) >= 5000 and text.count("- name: ") >= 40
        result = splice.splice(text, GROUP, block, "big.tpl")
        old = DRIFT_GROUP.rstrip("\n").replace("\n", newline)
        start = text.index(old)
        stop = start + len(old) + len(newline)
        assert result.startswith(text[:start] + "      " + splice.BEGIN + GROUP + newline)
        assert result.endswith(splice.END + GROUP + newline + text[stop:])
        assert splice.splice(result, GROUP, block, "big.tpl") == result
