"""lint output formats (text, json, sarif, github) and the .promcontract.yaml configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import TEMPLATE

BAD = """\
server:
  global:
    scrape_interval: 30s
serverFiles:
  alerting_rules.yml:
    groups:
      - name: g
        rules:
          - alert: Stale
            expr: time() - backup_last_success_timestamp_seconds > 3600
            for: 10m
          - alert: Quick
            expr: up == 0
            for: 30s
"""


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "va,lues%.tpl"  # a name that needs escaping in workflow commands
    path.write_text(BAD)
    return path


def test_json(cli, bad, promtool_bin) -> None:
    result = cli("lint", "--tpl", str(bad), "--format", "json")
    assert result.code == 1
    data = json.loads(result.out)
    assert [(d["line"], d["check"], d["severity"]) for d in data] == [
        (9, "absent-coverage", "error"), (12, "for-scrape-interval", "error")]
    assert all(d["file"] == str(bad) for d in data)


def test_sarif_is_sarif_2_1_0(cli, bad, tmp_path, promtool_bin) -> None:
    from sarif_pydantic import Sarif

    out = tmp_path / "lint.sarif"
    result = cli("lint", "--tpl", str(bad), "--format", "sarif", "-o", str(out))
    assert result.code == 1 and result.out == ""
    raw = json.loads(out.read_text())
    log = Sarif.model_validate(raw)  # the SARIF object model reads it back
    assert raw["version"] == "2.1.0" and "$schema" in raw
    (run,) = raw["runs"]
    from promcontract import lint

    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == set(lint.NAMES)
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in rules.values())
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["absent-coverage", "for-scrape-interval"]
    for r in results:
        assert r["level"] == "error" and r["message"]["text"]
        assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        location = r["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == str(bad)
        assert location["region"]["startLine"] in (9, 12)
    assert len(log.runs[0].results) == 2


def test_github_workflow_commands(cli, bad, promtool_bin) -> None:
    result = cli("lint", "--tpl", str(bad), "--format", "github")
    lines = result.out.splitlines()
    escaped = str(bad).replace("%", "%25").replace(",", "%2C").replace(":", "%3A")
    assert lines[0].startswith(f"::error file={escaped},line=9,title=absent-coverage::alert ")
    assert lines[1].startswith(f"::error file={escaped},line=12,title=for-scrape-interval::")
    assert len(lines) == 2


def test_config_lowers_disables_and_declares(cli, bad, tmp_path, monkeypatch,
                                             promtool_bin) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".promcontract.yaml").write_text(
        "lint:\n  severity: {absent-coverage: warning}\n  disable: [for-scrape-interval]\n")
    result = cli("lint", "--tpl", str(bad))
    assert result.code == 0, result.out  # a warning does not fail the run
    assert result.out.count("\n") == 1 and ": absent-coverage: (warning) alert " in result.out
    assert "1 warning(s)" in result.err
    github = cli("lint", "--tpl", str(bad), "--format", "github")
    assert github.out.startswith("::warning file=")


@pytest.mark.parametrize("text, where, words", [
    ("lint:\n  disable: [no-such-check]\n", ":2:13:", "is not one of"),
    ("lint:\n  severity: {absent-coverage: fatal}\n", ":2:31:", "'fatal' is not one of"),
    ("lint:\n  disabled: [x]\n", ":2:3:", "unknown field 'disabled' (lint.disabled)"),
    ("lint:\n  require_labels: severity\n", ":2:19:", "expected array"),
    ("lint: [\n", ":2:1:", "YAML syntax error"),
])
def test_bad_config_is_one_line_exit_2(cli, tmp_path, text, where, words) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    result = cli("lint", "--tpl", str(TEMPLATE), "--config", str(path))
    assert result.code == 2, result.err
    assert len(result.err_lines) == 1 and result.err.startswith(f"{path}{where}"), result.err
    assert words in result.err


def test_missing_config_file_is_exit_2(cli, tmp_path) -> None:
    result = cli("lint", "--tpl", str(TEMPLATE), "--config", str(tmp_path / "nope.yaml"))
    assert result.code == 2 and "nope.yaml: file not found" in result.err


def test_policy_from_config(cli, tmp_path, monkeypatch, promtool_bin) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".promcontract.yaml").write_text(
        "lint:\n  require_labels: [severity]\n  severity_values: [critical, warning]\n"
        "  disable: [absent-coverage, for-scrape-interval]\n")
    tpl = tmp_path / "v.tpl"
    tpl.write_text(BAD)
    result = cli("lint", "--tpl", str(tpl))
    assert result.code == 1
    assert result.out.count("alert-policy") == 2 and "has no label severity" in result.out


def test_missing_amtool_is_exit_2_with_the_package(cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("AMTOOL", str(tmp_path / "no-amtool"))
    result = cli("lint", "--tpl", str(TEMPLATE))
    assert result.code == 2 and "prometheus-alertmanager" in result.err
    assert len(result.err_lines) == 1
