"""Malformed contracts: each defect class gives exit 2, one located line, nothing written.

Each case mutates the bundled contract in one place. The expected line is where the mutation
lands (or the anchor the case names), found in the mutated text, so the test checks that the
message points at the defect, not merely that something failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import CONTRACT, TEMPLATE
from promcontract.problems import UserError

GOOD = CONTRACT.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Case:
    id: str
    old: str
    new: str
    message: str  # regex the message must match
    field: str | None = None  # field path in parentheses; None: no field expected
    anchor: str | None = None  # text whose line is expected; default: `new`
    count: int = 1  # occurrence of `old` to replace


CASES = [
    Case("yaml-syntax", "group: Infrastructure Drift", "group: [Infrastructure Drift",
         r"YAML syntax error", anchor=None),
    Case("duplicate-key", "  cadence: 24h\n", "  cadence: 24h\n  cadence: 12h\n",
         r"duplicate key 'cadence' \(first defined on line \d+\)", "push.cadence",
         anchor="  cadence: 12h"),
    Case("wrong-type", "threshold: 10\n", "threshold: ten\n", r"expected number, got string",
         "alerts[2].threshold"),
    Case("missing-required", '    help: "Number of stacks that drifted in the last run."\n', "",
         r"missing required field 'help'", "metrics[3]", anchor="  - name: drift_stack_count"),
    Case("unknown-field", "  - name: DriftStacksMany\n",
         "  - name: DriftStacksMany\n    thershold: 5\n", r"unknown field 'thershold'",
         "alerts[2].thershold", anchor="    thershold: 5"),
    Case("unknown-top-level-field", "contract: drift\n", "contract: drift\nversion: 2\n",
         r"unknown field 'version'", "version", anchor="version: 2"),
    Case("unknown-metric-in-alert", "metric: drift_error_count", "metric: drift_errors_count",
         r"unknown metric 'drift_errors_count'", "alerts[3].metric"),
    Case("bad-duration-for", "for: 2h", "for: 2hours", r"does not match", "alerts[3].for"),
    Case("bad-duration-threshold", "threshold: 72h", "threshold: 72", r"expected string, got "
         "integer", "alerts[1].threshold"),
    Case("bad-cadence", "cadence: 24h", "cadence: daily", r"does not match", "push.cadence"),
    Case("threshold-below-domain", "threshold: 0\n", "threshold: -1\n",
         r"outside the domain of drift_error_count.*always fire", "alerts[3].threshold"),
    Case("threshold-above-enum", "metric: drift_error_count\n    threshold: 0",
         "metric: drift_stack_state\n    threshold: 2",
         r"outside the domain of drift_stack_state.*never fire", "alerts[3].threshold",
         anchor="    threshold: 2"),
    Case("invalid-metric-name", "- name: drift_clean_count", "- name: drift-clean-count",
         r"'drift-clean-count' does not match", "metrics[5].name"),
    Case("invalid-label-name", "labels: [stack]", "labels: [stack-name]",
         r"'stack-name' does not match", "metrics[0].labels[0]"),
    Case("reserved-label-name", "labels: [stack]", "labels: [__stack]",
         r"reserved \(leading __\)", "metrics[0].labels[0]"),
    Case("scenario-label", "labels: [stack]", "labels: [promcontract_scenario]",
         r"'promcontract_scenario' is reserved \(the derived tests", "metrics[0].labels[0]"),
    Case("gateway-label", "labels: [stack]", "labels: [instance]",
         r"set by the Pushgateway", "metrics[0].labels[0]"),
    Case("alert-name-edge-blank", "- name: DriftStackErrored", "- name: ' DriftStackErrored'",
         r"does not match", "alerts[3].name"),
    Case("alert-name-newline", "- name: DriftStackErrored", '- name: "Drift\\nErrored"',
         r"does not match", "alerts[3].name"),
    Case("duplicate-alert", "- name: DriftStackErrored", "- name: DriftStacksMany",
         r"duplicate alert 'DriftStacksMany'", "alerts[3].name"),
    Case("duplicate-metric", "- name: drift_clean_count", "- name: drift_error_count",
         r"duplicate metric 'drift_error_count'", "metrics[5].name"),
    Case("annotation-label-aggregated-away",
         'summary: "{{ $value | printf \\"%.0f\\" }} stacks drifted in the last run"',
         'summary: "{{ $labels.stack }} drifted"',
         r"\$labels.stack but the expression of DriftStacksMany does not keep it",
         "alerts[2].summary"),
    Case("unknown-alert-kind", "kind: value_above", "kind: value_over",
         r"'value_over' is not one of", "alerts[2].kind"),
    Case("bad-severity", "severity: warning\n    summary: \"{{ $value | printf",
         "severity: warn\n    summary: \"{{ $value | printf", r"'warn' is not one of",
         "alerts[2].severity", anchor="severity: warn"),
    Case("enum-value-not-integer", "values: {0: clean, 1: drift, 2: error}",
         "values: {0: clean, one: drift, 2: error}", r"'one'.* does not match",
         "metrics[0].domain.values.one"),
    Case("heartbeat-on-non-timestamp",
         "metric: drift_detection_last_run_timestamp\n    threshold: 26h",
         "metric: drift_stack_count\n    threshold: 26h", r"needs a unix_seconds metric",
         "alerts[0].metric"),
    Case("invariant-unknown-metric", "count: drift_stack_count", "count: drift_stacks_count",
         r"unknown metric 'drift_stacks_count'", "invariants[0].count"),
    Case("grouping-key-scenario-label", "    job: drift-detection\n",
         "    job: drift-detection\n    promcontract_scenario: x\n",
         r"'promcontract_scenario' is reserved", "push.grouping_key.promcontract_scenario",
         anchor="    promcontract_scenario: x"),
    Case("grouping-key-without-job", "    job: drift-detection\n", "    team: drift-detection\n",
         r"missing required field 'job'", "push.grouping_key", anchor="  grouping_key:"),
    Case("bad-contract-id", "contract: drift", "contract: Drift Job", r"does not match",
         "contract"),
    Case("tab-indentation", "  cadence: 24h", "\tcadence: 24h", r"YAML syntax error"),
    Case("top-level-list", "contract: drift", "- contract: drift", r"YAML syntax error"),
    Case("invariant-alert-unsupported-kind", "    reference: drift_detection_last_run_timestamp\n"
         "  - name: age_matches_first_seen",
         "    reference: drift_detection_last_run_timestamp\n    alert: {name: X, for: 1m, "
         "severity: info, summary: s}\n  - name: age_matches_first_seen",
         r"invariant kind not_after cannot be rendered as an alert", "invariants[8].alert",
         anchor="    alert: {name: X"),
    Case("missing-rationale", "    rationale: >-\n      Wide drift means a systemic cause "
         "(admission webhook, provider bump, CRD upgrade).\n", "",
         r"missing required field 'rationale'", "alerts[2]",
         anchor="  - name: DriftStacksMany"),
]


def _expected_line(text: str, anchor: str, near: int) -> int:
    """Line of the occurrence of ``anchor`` nearest to offset ``near`` (the mutation)."""
    hits = [m.start() for m in re.finditer(re.escape(anchor), text)]
    index = min(hits, key=lambda h: abs(h - near))
    return text.count("\n", 0, index) + 1


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_contract(case: Case, workspace: Path, cli) -> None:
    assert case.old in GOOD, f"corpus case {case.id} no longer applies to the contract"
    text = GOOD.replace(case.old, case.new, 1)
    contract = workspace / "rules" / "drift.contract.yaml"
    contract.write_text(text, encoding="utf-8")
    tpl = workspace / "stacks" / "monitoring" / TEMPLATE.name
    before = tpl.read_bytes()

    result = cli("render")

    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    assert result.err_lines, "no message"
    first = result.err_lines[0]
    pattern = r"^rules/drift\.contract\.yaml:(\d+):(\d+): (.+)$"
    match = re.match(pattern, first)
    assert match, f"not file:line:col: message: {first!r}"
    assert re.search(case.message, match.group(3)), first
    anchor = case.anchor if case.anchor is not None else (case.new or case.old)
    if case.message == "YAML syntax error":
        # The parser may only notice on the line after the defect.
        expected = _expected_line(text, anchor.strip(), GOOD.index(case.old))
        assert expected <= int(match.group(1)) <= expected + 1, first
    else:
        expected = _expected_line(text, anchor.split("\n")[0].strip(), GOOD.index(case.old))
        assert int(match.group(1)) == expected, first
    if case.field is not None:
        assert first.endswith(f"({case.field})"), first
    assert tpl.read_bytes() == before
    assert not list((workspace / "stacks" / "monitoring").glob(".*.tmp"))


def test_corpus_is_large_enough() -> None:
    assert len({c.id for c in CASES}) >= 25


def test_non_utf8_contract(workspace: Path, cli) -> None:
    contract = workspace / "rules" / "drift.contract.yaml"
    raw = GOOD.encode("utf-8").replace(b"Number of stacks with no changes",
                                       b"Number of stacks \xff with no changes")
    contract.write_bytes(raw)
    tpl = workspace / "stacks" / "monitoring" / TEMPLATE.name
    before = tpl.read_bytes()
    result = cli("render")
    assert result.code == 2
    line = GOOD[: GOOD.index("Number of stacks with no changes")].count("\n") + 1
    assert re.match(rf"^rules/drift\.contract\.yaml:{line}:\d+: not valid UTF-8", result.err), \
        result.err
    assert tpl.read_bytes() == before


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n"])
def test_empty_contract(content: str, workspace: Path, cli) -> None:
    (workspace / "rules" / "drift.contract.yaml").write_text(content, encoding="utf-8")
    result = cli("validate")
    assert result.code == 2
    assert result.err_lines == ["rules/drift.contract.yaml:1:1: file is empty: expected a contract"]


def test_missing_contract_file(workspace: Path, cli) -> None:
    result = cli("validate", "rules/nope.contract.yaml")
    assert result.code == 2
    assert result.err_lines == ["rules/nope.contract.yaml: file not found"]


def test_raw_expr_with_labels_needs_output_labels(workspace: Path, cli) -> None:
    text = GOOD.replace("    kind: value_above\n    metric: drift_stack_count\n    threshold: 10\n",
                        "    kind: expr\n    expr: sum by (job) (drift_stack_count) > 10\n", 1)
    old = 'summary: "{{ $value | printf \\"%.0f\\" }} stacks drifted in the last run"'
    text = text.replace(old, 'summary: "{{ $labels.job }}: many stacks drifted"', 1)
    (workspace / "rules" / "drift.contract.yaml").write_text(text, encoding="utf-8")
    result = cli("validate")
    assert result.code == 2
    assert "declare output_labels" in result.err
    text = text.replace("    expr: sum by (job) (drift_stack_count) > 10\n",
                        "    expr: sum by (job) (drift_stack_count) > 10\n"
                        "    output_labels: [job]\n", 1)
    (workspace / "rules" / "drift.contract.yaml").write_text(text, encoding="utf-8")
    assert cli("validate").code == 0


def test_any_alert_name_prometheus_takes_is_valid(workspace: Path, cli) -> None:
    """Rule files by other people name alerts `MysqlTooManyConnections(>80%)`: Prometheus
    takes any text as the alertname label, so import writes it and validate accepts it."""
    text = GOOD.replace("- name: DriftStackErrored", "- name: 'DriftStackErrored(>0) ${x}'")
    (workspace / "rules" / "drift.contract.yaml").write_text(text, encoding="utf-8")
    result = cli("validate", "rules/drift.contract.yaml")
    assert result.code == 0, result.err


def test_bundled_contract_is_valid(cli, monkeypatch) -> None:
    monkeypatch.chdir(CONTRACT.parent.parent)
    result = cli("validate")
    assert result.code == 0, result.err
    assert "9 alerts" in result.out  # 4 alerts + 5 invariant alerts


def test_validation_marker_skips_the_schema_only_for_the_same_text(tmp_path, monkeypatch
                                                                   ) -> None:
    from promcontract import contract as contract_module

    monkeypatch.setenv("PROMCONTRACT_CACHE_DIR", str(tmp_path))
    contract_module.parse_contract(GOOD, "c.yaml")
    markers = list(tmp_path.iterdir())
    assert len(markers) == 1 and markers[0].name.startswith("schema-ok-")
    # A different text is validated afresh: a schema error is still found.
    bad = GOOD.replace("threshold: 10\n", "threshold: ten\n")
    with pytest.raises(UserError):
        contract_module.parse_contract(bad, "c.yaml")
    monkeypatch.setenv("PROMCONTRACT_CACHE_DIR", "")
    contract_module.parse_contract(GOOD, "c.yaml")  # caching off: still loads


def test_schema_file_is_the_assembled_schema() -> None:
    """schemas/metric-contract.schema.json is written from the kinds' fragments (make rules);
    an added or changed kind must show there."""
    from conftest import ROOT
    from promcontract.contract import schema

    written = (ROOT / "schemas" / "metric-contract.schema.json").read_text()
    assert written == schema.text(), "stale schemas/metric-contract.schema.json: run make rules"
    import json

    alert_kinds = json.loads(written)["$defs"]["alert"]["properties"]["kind"]["enum"]
    from promcontract import kinds

    assert set(alert_kinds) == {k for k, v in kinds.alert_kinds().items() if v.user_facing}
