"""`promcontract check` and the rendered rules against the real promtool."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TEMPLATE
from promcontract.contract import load_contract
from promcontract.render import group as render
from promcontract.runners import checks, promtool
from promcontract.template import reader

pytestmark = pytest.mark.integration


def test_rendered_group_passes_promtool(promtool_bin: str, tmp_path: Path) -> None:
    contract = load_contract(str(ROOT / "rules" / "drift.contract.yaml"))
    path = tmp_path / "drift.rules.yml"
    path.write_text(render.render_rule_file(contract), encoding="utf-8")
    result = promtool.check_rules(str(path))
    assert result.returncode == 0, result.output
    assert "SUCCESS: 9 rules found" in result.output


def test_whole_template_rules_pass_promtool(promtool_bin: str) -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    read = reader.read(str(TEMPLATE), text)
    rules, offset = read.rules_text, read.rules_offset
    assert "TF_INTERPOLATION" in rules and "${" not in rules.replace("$${", "")
    assert checks.promtool_rule_problems(rules, str(TEMPLATE), offset) == []


def test_check_passes_on_bundle(promtool_bin: str, workspace: Path, cli) -> None:
    result = cli("check")
    assert result.code == 0, result.err
    count = len(list((workspace / "rules").glob("*.contract.yaml")))
    assert result.out.startswith(f"ok: {count} contract(s)")


def test_changed_threshold_makes_check_fail_with_diff(promtool_bin: str, workspace: Path,
                                                      cli) -> None:
    contract = workspace / "rules" / "drift.contract.yaml"
    contract.write_text(contract.read_text().replace("threshold: 10\n", "threshold: 12\n"))
    result = cli("check")
    assert result.code == 1
    assert re.search(r"^-\s+expr: drift_stack_count\{job=\"drift-detection\"\} > 10$",
                     result.out, re.M), result.out
    assert re.search(r"^\+\s+expr: drift_stack_count\{job=\"drift-detection\"\} > 12$",
                     result.out, re.M)
    assert "stacks/monitoring/prometheus_chart_values.tpl: out of date" in result.err
    # render --check says the same and writes nothing; render fixes it.
    tpl = workspace / "stacks" / "monitoring" / TEMPLATE.name
    before = tpl.read_bytes()
    assert cli("render", "--check").code == 1
    assert tpl.read_bytes() == before
    assert cli("render").code == 0
    assert b"> 12\n" in tpl.read_bytes()
    assert cli("check").code == 0


def test_promtool_finding_in_template_is_located(promtool_bin: str, workspace: Path,
                                                 cli) -> None:
    tpl = workspace / "stacks" / "monitoring" / TEMPLATE.name
    text = tpl.read_text()
    bad = "expr: increase(kube_pod_container_status_restarts_total[15m]) > 3"
    assert bad in text
    tpl.write_text(text.replace(bad, bad.removesuffix(" 3")))
    line = text[: text.index(bad)].count("\n") + 1
    result = cli("check")
    assert result.code == 1
    assert re.search(rf"prometheus_chart_values\.tpl:{line}:\d+: promtool check rules: .*"
                     r"KubePodCrashLooping.*could not parse", result.err), result.err


def test_missing_promtool_is_exit_2(workspace: Path, cli, monkeypatch) -> None:
    monkeypatch.setenv("PROMTOOL", str(workspace / "no-such-promtool"))
    result = cli("check")
    assert result.code == 2
    assert "PROMTOOL=" in result.err and "apt-get install prometheus" in result.err


def test_console_script_never_prints_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "x.contract.yaml"
    bad.write_text("contract: [\n")
    proc = subprocess.run([sys.executable, "-m", "promcontract", "validate", str(bad)],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={"PYTHONPATH": str(ROOT / "generator"), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith(f"{bad}:2:1: YAML syntax error")


def test_help_answers() -> None:
    proc = subprocess.run([sys.executable, "-m", "promcontract", "render", "--help"],
                          capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "generator"), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0
    assert "--check" in proc.stdout and "--tpl" in proc.stdout


def test_failing_unit_test_fails_check_unless_skipped(promtool_bin, workspace: Path,
                                                      cli) -> None:
    """A derived test that no longer matches the rules fails check (render --check reports
    the file stale too); --skip-unit-tests leaves promtool test rules out."""
    rules = workspace / "rules" / "generated" / "drift.rules.yml"
    rules.write_text(rules.read_text().replace("> 10\n", "> 12\n"))
    result = cli("check")
    assert result.code == 1
    assert "promtool test rules failed" in result.err and "DriftStacksMany" in result.err
    # promtool's expected and got, not a line cut after the eval time
    assert re.search(r"^rules/generated/drift\.test\.yml: promtool test rules failed: "
                     r"DriftStacksMany at \d+m: expected \[\{alertname='DriftStacksMany', "
                     r"job='drift-detection', severity='warning'\} \{description='Drift in this "
                     r"many stacks at once \(11\)\..*', summary='11 stacks drifted in the last "
                     r"run'\}\], got none", result.err, re.M), result.err
    quick = cli("check", "--skip-unit-tests")
    assert quick.code == 1  # still stale against the contract
    assert "promtool test rules failed" not in quick.err
