"""promcontract import: a contract from a hand-written group, proven against the original rules."""

from __future__ import annotations

import shutil
import sys

import pytest
import yaml

from conftest import ROOT
from promcontract.durations import parse_duration
from promcontract.promql import parse, text
from promcontract.template import reader
from promcontract.workflows.import_group import recognise

sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
from realistic import make_realistic_template  # noqa: E402

HANDWRITTEN = ROOT / "tests" / "fixtures" / "handwritten_values.tpl"


@pytest.mark.parametrize("expr, kind, fields", [
    ("time() - max(hb) > 26 * 3600", "heartbeat_stale", {"metric": "hb", "threshold": "26h"}),
    ('(time() - max by (job) (hb{job="j"}) > 3600) or absent(hb{job="j"})', "heartbeat_stale",
     {"metric": "hb", "threshold": "1h", "when_absent": "fire"}),
    ("drift_stack_count > 10", "value_above", {"metric": "drift_stack_count", "threshold": 10}),
    ("x >= 0.5", "value_above", {"metric": "x", "threshold": 0.5, "comparison": ">="}),
    ('free{job="j"} < 3', "value_below", {"metric": "free", "threshold": 3}),
    ("state == 2", "value_equals", {"metric": "state", "value": 2}),
    ("t < 5 or t > 45", "value_outside", {"metric": "t", "min": 5, "max": 45}),
    ("increase(r[1h]) > 3", "increase_above", {"metric": "r", "window": "1h", "threshold": 3}),
    ("increase(w[30m]) < 1", "increase_below", {"metric": "w", "window": "30m",
                                                "threshold": 1}),
])
def test_expressions_recognised_as_kinds(expr, kind, fields) -> None:
    assert recognise(expr) == (kind, fields, "")


@pytest.mark.parametrize("expr, why", [
    # an absent branch on a kind without one was dropped: the imported alert no longer
    # fired when the metric was missing
    ("(state == 2) or absent(state)", "an absent branch on a kind that has none"),
    ("(t < 5 or t > 45) or absent(t)", "an absent branch on a kind that has none"),
    ("max(age) > 72", "not one metric"),
    ('lat{job="j", quantile="0.99"} > 1.5', "selects a subset of lat"),
    ("rate(x[5m]) > 1", "not one metric"),
    ("absent(up)", "not a comparison"),
    ("a > b", "not a comparison with a constant"),
])
def test_other_expressions_stay_expr_with_the_reason(expr, why) -> None:
    kind, _, reason = recognise(expr)
    assert kind == "expr" and why in reason


@pytest.mark.integration
def test_check_says_same_or_how_it_differs(cli, promtool_bin) -> None:
    result = cli("import", "--tpl", str(HANDWRITTEN), "--group", "Infrastructure Drift",
                 "--check", "--job", "drift-detection")
    assert result.code == 1, result.out + result.err
    lines = {line.split(": ")[1]: line for line in result.out.splitlines()
             if ": imported as " in line}
    assert "same: the derived tests pass" in lines["DriftStacksMany"]
    assert "same: the derived tests pass" in lines["DriftStackErrored"]
    # max() without by (job) drops the job label the contract's rendering keeps
    assert "differs: labels" in lines["DriftDetectionStale"]
    assert "imported as expr" in lines["DriftUnaddressed"]
    assert "import --check: 2 same, 1 differ, 1 not derivable" in result.out
    # without --job the job is guessed from the group name: the rendered selectors would
    # match nothing the hand-written rules see, and --check says so
    guessed = cli("import", "--tpl", str(HANDWRITTEN), "--group", "Infrastructure Drift",
                  "--check")
    assert guessed.code == 1
    assert ("DriftStacksMany: imported as value_above; differs: selector (renders "
            'drift_stack_count{job="infrastructure-drift"} where the hand-written rule selects '
            "drift_stack_count of any job (the job is guessed from the group name: give "
            "--job))") in guessed.out


@pytest.mark.integration
def test_import_keeps_history_and_rendering_changes_only_what_it_lists(
        cli, tmp_path, monkeypatch, promtool_bin) -> None:
    tpl_text = make_realistic_template()
    (tmp_path / "rules").mkdir()
    (tmp_path / "stacks" / "monitoring").mkdir(parents=True)
    tpl = tmp_path / "stacks" / "monitoring" / "prometheus_chart_values.tpl"
    tpl.write_text(tpl_text)
    monkeypatch.chdir(tmp_path)
    result = cli("import", "--group", "API Gateway")
    assert result.code == 0, result.err
    contract_path = tmp_path / "rules" / "api-gateway.contract.yaml"
    contract = yaml.safe_load(contract_path.read_text())
    assert "INC-4411" in contract["description"]  # the group's incident history
    assert contract["push"]["grouping_key"] == {"job": "api-gateway"}
    verdicts = {line.split(": ")[1]: line for line in result.out.splitlines()
                if ": imported as " in line}
    for line in verdicts.values():
        assert "same: the derived tests pass" in line or "imported as expr" in line, line
    # everything the contract could not hold is in its text: no annotation value lost
    for alert in contract["alerts"]:
        assert f"/api-gateway/{alert['name']}" in alert["rationale"]
    # re-import refuses to overwrite
    again = cli("import", "--group", "API Gateway")
    assert again.code == 2 and "exists; give --force" in again.err
    # render it back: only the group changes, and only as the report says
    render = cli("render")
    assert render.code == 0, render.err
    after = tpl.read_text()
    before_lines, after_lines = tpl_text.splitlines(), after.splitlines()
    start = before_lines.index("      - name: API Gateway")
    end = before_lines.index("      - name: Payments") - 1
    assert after_lines[:start - 2] == before_lines[:start - 2]
    assert after_lines[-(len(before_lines) - end):] == before_lines[end:]
    original = _group(tpl_text, "API Gateway")
    rendered = _group(after, "API Gateway")
    report = result.out
    for name, old in original.items():
        new = rendered[name]
        assert parse_duration(str(new.get("for") or "0s")) == \
            parse_duration(str(old.get("for") or "0s"))
        if text(parse(new["expr"])) != text(parse(old["expr"])):
            assert f"{name}: " in report and "is rendered as" in _changes(report, name)
        for key in set(old.get("annotations", {})) - set(new.get("annotations", {})):
            assert f"annotation {key} is not rendered" in _changes(report, name)
        assert new["labels"] == old["labels"]


def _group(tpl_text: str, name: str) -> dict[str, dict]:
    group = reader.read("t.tpl", tpl_text).group(name)
    return {r.name: r.data for r in group.alerts}


def _changes(report: str, name: str) -> str:
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if f": {name}: imported as" in line)
    out = []
    for line in lines[start + 1:]:
        if not line.startswith("  rendering changes:"):
            break
        out.append(line)
    return "\n".join(out)


@pytest.mark.integration
def test_a_payload_gives_types_help_and_labels(cli, tmp_path, promtool_bin) -> None:
    payload = tmp_path / "payload.prom"
    payload.write_text("# HELP drift_stack_count Drifted stacks.\n# TYPE drift_stack_count "
                       "gauge\ndrift_stack_count 3\n")
    out = tmp_path / "drift.contract.yaml"
    shutil.copy(HANDWRITTEN, tmp_path / "values.tpl")
    result = cli("import", "--tpl", str(tmp_path / "values.tpl"), "--group",
                 "Infrastructure Drift", "--payload", str(payload), "-o", str(out), "--job",
                 "drift-detection")
    assert result.code == 0, result.err
    metrics = {m["name"]: m for m in yaml.safe_load(out.read_text())["metrics"]}
    assert metrics["drift_stack_count"]["help"] == "Drifted stacks."
    assert "imported: describe" in metrics["drift_error_count"]["help"]
    assert "DriftDetectionStale: imported as heartbeat_stale; differs: labels" in result.out


@pytest.mark.parametrize("rule, why", [
    ({"alert": "A", "expr": "increase(e[5m]) > 0.5"}, "fractional threshold"),
    ({"alert": "A", "expr": "increase(e[5m]) > 0", "for": "10m"}, "not 2m shorter"),
    ({"alert": "A", "expr": "increase(e[10m]) < 1", "keep_firing_for": "10m"},
     "not 2m shorter"),
])
def test_import_keeps_what_derived_tests_cannot_pin_as_expr(rule, why) -> None:
    """A kind validate would refuse is never written: the alert stays as written (expr)."""
    from promcontract.workflows.import_group import _alert

    imported = _alert(rule, 1, [], {}, {}, "j")
    assert imported.kind == "expr" and imported.spec["expr"] == rule["expr"]
    assert any(why in change for change in imported.changes), imported.changes


def test_rules_that_select_two_jobs_ask_for_job(cli, tmp_path) -> None:
    """A job guessed from the group name rendered selectors that matched nothing."""
    tpl = tmp_path / "values.tpl"
    tpl.write_text("serverFiles:\n  alerting_rules.yml:\n    groups:\n      - name: Mixed\n"
                   "        rules:\n          - alert: A\n            expr: up{job=\"a\"} == 0\n"
                   "          - alert: B\n            expr: up{job=\"b\"} == 0\n")
    result = cli("import", "--tpl", str(tpl), "--group", "Mixed", "--check")
    assert result.code == 2, result.out + result.err
    assert "select 2 jobs (a, b): give --job to choose the grouping key" in result.err
    assert len(result.err_lines) == 1


def test_comments_go_to_the_group_or_alert_they_precede() -> None:
    from promcontract.workflows.import_group import import_group
    from test_reader import TEMPLATE

    imported = import_group("t.tpl", TEMPLATE, "Queue", job="q")
    assert imported.contract["description"] == (
        "Queue workers.\n\nINC-1: the queue filled silently for a day.")
    rationale = {a.name: a.spec["rationale"] for a in imported.alerts}
    assert "consumers are stuck" in rationale["QueueDeep"]
    assert "Payments" not in rationale["QueueStale"]  # the next group's header stays there


OTHERS = """\
groups:
  - name: Exporters
    rules:
      - alert: ExecutorSpill(>1GB)
        expr: spill_bytes{job="spark"} > 1e9
        annotations:
          summary: "spill on {{ $labels.instance }}"
          description: "executor {{ $labels.executor_id }} spilled {{ $value }}"
      - alert: ContainerKilled
        expr: time() - container_last_seen{job="spark"} > 60
        annotations:
          summary: "container gone on {{ $labels.instance }}"
      - alert: CertificateExpired
        expr: days_until_expiry{job="spark"} < 0
      - alert: DiskSumHigh
        expr: sum by (mount) (disk_used{job="spark"}) > 5
        annotations:
          summary: "{{ $labels.instance }} {{ $labels.mount }}"
"""


@pytest.mark.integration
def test_labels_from_annotations_and_domains_below_zero_give_a_valid_contract(
        cli, tmp_path, promtool_bin) -> None:
    """Rule files by other people read `$labels.executor_id` of a metric no payload
    describes, and compare `< 0`: import wrote contracts its own validate refused."""
    rules = tmp_path / "others.yml"
    rules.write_text(OTHERS)
    out = tmp_path / "c.yaml"
    result = cli("import", "--rules", str(rules), "--group", "Exporters", "-o", str(out))
    assert result.code == 0, result.err
    assert cli("validate", str(out)).code == 0
    contract = yaml.safe_load(out.read_text())
    alerts = {a["name"]: a for a in contract["alerts"]}
    metrics = {m["name"]: m for m in contract["metrics"]}
    assert alerts["ExecutorSpill(>1GB)"]["kind"] == "value_above"
    assert metrics["spill_bytes"]["labels"] == ["executor_id"]
    assert alerts["ContainerKilled"]["kind"] == "age_above"  # per instance: no heartbeat
    assert alerts["CertificateExpired"]["kind"] == "value_below"
    assert metrics["days_until_expiry"]["domain"]["min"] < 0
    assert alerts["DiskSumHigh"]["kind"] == "expr"
    assert "same: the derived tests pass" in next(
        line for line in result.out.splitlines() if "ExecutorSpill" in line)


def test_an_alert_defined_twice_in_the_group_is_refused_with_both_lines(cli, tmp_path) -> None:
    rules = tmp_path / "tiers.yml"
    rules.write_text("groups:\n- name: T\n  rules:\n  - alert: Q\n    expr: q > 1\n"
                     "    labels: {severity: warning}\n  - alert: Q\n    expr: q > 5\n"
                     "    labels: {severity: critical}\n")
    result = cli("import", "--rules", str(rules), "--group", "T", "-o", str(tmp_path / "c"))
    assert result.code == 2 and len(result.err_lines) == 1
    assert f"{rules}:7: alert 'Q' is defined twice in group 'T' (first on line 4)" in result.err
    assert not (tmp_path / "c").exists()


TF_GROUP = """\
serverFiles:
  alerting_rules.yml:
    groups:
      - name: Backups
        rules:
          - alert: BackupTooOld
            expr: time() - backup_last_run_ts{job="backup"} > ${max_age_hours} * 3600
            for: 10m
            labels:
              severity: warning
            annotations:
              summary: "backup older than ${max_age_hours}h, not $${literal}"
          - alert: BackupFailed
            expr: backup_failed{job="backup"} > 0
"""


@pytest.mark.integration
def test_a_terraform_interpolation_stays_live_never_a_fake_metric(cli, tmp_path, promtool_bin,
                                                                   monkeypatch) -> None:
    """`> ${max_age_hours} * 3600` became a metric TF_INTERPOLATION: the rendered alert was
    dead and lint said ok. The alert stays expr with ${max_age_hours}; the contract says its
    value for the places Terraform does not run; render keeps it live in the template."""
    tpl = tmp_path / "values.tpl"
    tpl.write_text(TF_GROUP)
    out = tmp_path / "backups.contract.yaml"
    asked = cli("import", "--tpl", str(tpl), "--group", "Backups", "-o", str(out))
    assert asked.code == 2 and len(asked.err_lines) == 1 and not out.exists()
    assert f"{tpl}:6: alert 'BackupTooOld' reads the Terraform variable ${{max_age_hours}}: " \
           "give --var max_age_hours=VALUE" in asked.err
    result = cli("import", "--tpl", str(tpl), "--group", "Backups", "-o", str(out),
                 "--var", "max_age_hours=26")
    assert result.code == 0, result.err
    text = out.read_text()
    assert "TF_INTERPOLATION" not in text
    contract = yaml.safe_load(text)
    assert contract["terraform_variables"] == {"max_age_hours": 26}
    alert = contract["alerts"][0]
    assert alert["kind"] == "expr" and "> ${max_age_hours} * 3600" in alert["expr"]
    assert alert["summary"] == "backup older than ${max_age_hours}h, not ${literal}"
    assert [m["name"] for m in contract["metrics"]] == ["backup_last_run_ts", "backup_failed"]
    # rendered back: live in the template, the value in the standalone rule file
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # render writes docs/ where it runs
    shutil.copy(tpl, work / "values.tpl")
    rendered = cli("render", "--contract", str(out), "--tpl", str(work / "values.tpl"),
                   "--generated-dir", str(work / "gen"))
    assert rendered.code == 0, rendered.err
    values = (work / "values.tpl").read_text()
    assert "> ${max_age_hours} * 3600" in values
    assert 'backup older than ${max_age_hours}h, not $${literal}' in values
    standalone = (work / "gen" / "backups.rules.yml").read_text()
    assert "> 26 * 3600" in standalone and "${" not in standalone.replace("${literal}", "")
