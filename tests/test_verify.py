"""Contract verification of payloads: each rule shown failing on its defect, and quiet."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from promcontract.payload import text004 as exposition
from promcontract.payload import verify

NOW = 1_700_000_000
GOOD = f"""\
# HELP drift_stack_state State.
# TYPE drift_stack_state gauge
drift_stack_state{{stack="a"}} 1
drift_stack_state{{stack="b"}} 0
drift_stack_state{{stack="c"}} 2
# TYPE drift_stack_first_seen gauge
drift_stack_first_seen{{stack="a"}} {NOW - 7300}
drift_stack_first_seen{{stack="c"}} {NOW - 100}
# TYPE drift_stack_age_hours gauge
drift_stack_age_hours{{stack="a"}} 2
drift_stack_age_hours{{stack="c"}} 0
# TYPE drift_stack_count gauge
drift_stack_count 1
# TYPE drift_error_count gauge
drift_error_count 1
# TYPE drift_clean_count gauge
drift_clean_count 1
# TYPE drift_detection_last_run_timestamp gauge
drift_detection_last_run_timestamp {NOW}
"""
# promtool's lint wants HELP on every family.
GOOD = "".join(f"# HELP {line.split()[2]} Help.\n{line}\n" if line.startswith("# TYPE") and
               not GOOD.count(f"# HELP {line.split()[2]} ") else line + "\n"
               for line in GOOD.splitlines())


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1

# (id, old, new, rule)
DEFECTS = [
    ("unknown-metric", "# TYPE drift_clean_count gauge\n",
     "# TYPE drift_extra gauge\ndrift_extra 1\n# TYPE drift_clean_count gauge\n",
     "unknown-metric"),
    ("wrong-type", "# TYPE drift_stack_count gauge", "# TYPE drift_stack_count counter", "type"),
    ("untyped", "# TYPE drift_error_count gauge\n", "", "type"),
    ("missing-label", 'drift_stack_state{stack="b"} 0', "drift_stack_state 0", "labels"),
    ("extra-label", 'drift_stack_state{stack="b"} 0', 'drift_stack_state{stack="b",x="1"} 0',
     "labels"),
    ("state-outside-enum", 'drift_stack_state{stack="b"} 0', 'drift_stack_state{stack="b"} 3',
     "domain"),
    ("count-negative", "drift_clean_count 1", "drift_clean_count -1", "domain"),
    ("age-fraction", 'drift_stack_age_hours{stack="a"} 2', 'drift_stack_age_hours{stack="a"} 2.5',
     "domain"),
    ("missing-count", "# TYPE drift_clean_count gauge\ndrift_clean_count 1\n", "",
     "missing-metric"),
    ("missing-heartbeat", f"drift_detection_last_run_timestamp {NOW}\n", "", "missing-metric"),
    ("drift-count-wrong", "drift_stack_count 1", "drift_stack_count 2",
     "drift_count_matches_states"),
    ("error-count-wrong", "drift_error_count 1", "drift_error_count 0",
     "error_count_matches_states"),
    ("clean-count-wrong", "drift_clean_count 1", "drift_clean_count 0",
     "clean_count_matches_states"),
    ("counts-sum", 'drift_stack_state{stack="b"} 0\n', "", "counts_cover_all_stacks"),
    ("drift-without-first-seen", f'drift_stack_first_seen{{stack="a"}} {NOW - 7300}\n', "",
     "drifted_stack_has_first_seen"),
    ("drift-without-age", 'drift_stack_age_hours{stack="a"} 2\n', "", "drifted_stack_has_age"),
    ("clean-with-first-seen", f'drift_stack_first_seen{{stack="c"}} {NOW - 100}\n',
     f'drift_stack_first_seen{{stack="c"}} {NOW - 100}\ndrift_stack_first_seen{{stack="b"}} '
     f'{NOW}\n', "clean_stack_has_no_first_seen"),
    ("first-seen-after-run", f'drift_stack_first_seen{{stack="c"}} {NOW - 100}',
     f'drift_stack_first_seen{{stack="c"}} {NOW + 100}', "first_seen_not_after_last_run"),
    ("age-mismatch", 'drift_stack_age_hours{stack="a"} 2', 'drift_stack_age_hours{stack="a"} 3',
     "age_matches_first_seen"),
    ("orphan-series", 'drift_stack_age_hours{stack="c"} 0\n',
     'drift_stack_age_hours{stack="c"} 0\ndrift_stack_age_hours{stack="gone"} 0\n',
     "orphan-series"),
    ("heartbeat-only-invariant", GOOD, f"# TYPE drift_detection_last_run_timestamp gauge\n"
     f"drift_detection_last_run_timestamp {NOW}\n", "counts_present_with_heartbeat"),
    ("heartbeat-only", GOOD, f"# TYPE drift_detection_last_run_timestamp gauge\n"
     f"drift_detection_last_run_timestamp {NOW}\n", "missing-metric"),
]


def test_good_payload_passes(drift_contract) -> None:
    parsed = exposition.parse(GOOD)
    assert parsed.findings == []
    assert verify.verify(drift_contract, parsed) == []


@pytest.mark.parametrize("case", DEFECTS, ids=[c[0] for c in DEFECTS])
def test_each_rule_fails_on_its_defect(case, drift_contract) -> None:
    _, old, new, rule = case
    assert old in GOOD
    parsed = exposition.parse(GOOD.replace(old, new, 1))
    findings = verify.verify(drift_contract, parsed)
    assert rule in {f.rule for f in findings}, findings


def test_gateway_labels_expected_in_gateway_mode(drift_contract) -> None:
    text = GOOD.replace("{stack=", '{instance="",job="drift-detection",stack=')
    for name in ("drift_stack_count", "drift_error_count", "drift_clean_count"):
        text = text.replace(f"\n{name} ", f'\n{name}{{instance="",job="drift-detection"}} ')
    text = text.replace("\ndrift_detection_last_run_timestamp ",
                        '\ndrift_detection_last_run_timestamp{instance="",job="drift-detection"} ')
    parsed = exposition.parse(text)
    assert verify.verify(drift_contract, parsed, gateway=True) == []
    assert {f.rule for f in verify.verify(drift_contract, parsed)} == {"labels",
                                                                          "missing-metric"}


@pytest.mark.integration
def test_lint_exceptions_apply_and_others_are_reported(drift_contract, promtool_bin) -> None:
    report = verify.verify_payload(drift_contract, GOOD)
    assert report.ok, report.lines()
    assert len(report.accepted) == 4
    assert any("use base unit" in a and "Dashboards" in a for a in report.accepted)
    bare = dataclasses.replace(drift_contract, metrics=tuple(
        dataclasses.replace(m, lint_exceptions=()) for m in drift_contract.metrics))
    report = verify.verify_payload(bare, GOOD)
    assert {f.rule for f in report.findings} == {"promtool-lint"}
    assert any('drift_stack_age_hours use base unit "seconds"' in line
               for line in report.lines())
    first = min(line_of(GOOD, "# HELP drift_stack_age_hours"),
                line_of(GOOD, "# TYPE drift_stack_age_hours"))
    assert any(line.startswith(f"payload:{first + 1}: promtool-lint: drift_stack_age_hours")
               for line in report.lines()), report.lines()


@pytest.mark.integration
def test_verify_cli(tmp_path: Path, cli, promtool_bin, monkeypatch) -> None:
    from conftest import ROOT

    monkeypatch.chdir(ROOT)
    good = tmp_path / "good.prom"
    good.write_text(GOOD)
    result = cli("verify", str(good), "-v")
    assert result.code == 0, result.out + result.err
    assert "lint exception: drift_stack_age_hours" in result.err
    bad = tmp_path / "bad.prom"
    text = GOOD.replace("drift_stack_count 1", "drift_stack_count 2") + "x{a=\"\\q\"} 1\n"
    bad.write_text(text)
    result = cli("verify", str(bad))
    assert result.code == 1
    count_line = line_of(text, "drift_stack_count 2")
    assert f"{bad}:{count_line}: drift_count_matches_states: drift_stack_count is 2 but 1" \
        in result.out
    assert f"{bad}:{text.count(chr(10))}: bad-escape:" in result.out
    missing = cli("verify", str(tmp_path / "nope.prom"))
    assert missing.code == 2 and "file not found" in missing.err


@pytest.mark.integration
@pytest.mark.parametrize("second", ["drift_stack_count 1\n", 'drift_stack_state{stack="a"} 1\n'])
def test_a_series_pushed_by_a_second_instance_is_a_duplicate(second: str, pushgateway,
                                                            drift_contract) -> None:
    """Another pusher under the same job but its own instance: the gateway serves both groups
    and the rules see the series twice (an unlabelled count, or a stack's state)."""
    from promcontract.payload import gateway

    key = drift_contract.grouping_key
    other = tuple(sorted(dict(key, instance="ci-2").items()))
    gateway.delete_group(pushgateway.url, key)
    gateway.put_group(pushgateway.url, key, GOOD)
    try:
        assert verify.verify_gateway(drift_contract, pushgateway.url, lint=False).ok
        name = second.split("{")[0].split()[0]
        gateway.put_group(pushgateway.url, other, f"# TYPE {name} gauge\n{second}")
        report = verify.verify_gateway(drift_contract, pushgateway.url, lint=False)
        dupes = [f for f in report.findings if f.rule == "duplicate-series"]
        assert dupes and "appears more than once (also line" in str(dupes[0]), report.lines()
    finally:
        gateway.delete_group(pushgateway.url, other)
        gateway.delete_group(pushgateway.url, key)
