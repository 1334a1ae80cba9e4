"""Outputs beyond the template: PrometheusRule, rule file, Mimir, docs, JUnit, several
contracts."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from promcontract.durations import parse_duration
from promcontract.runners import promtool

CONTRACTS = sorted((ROOT / "rules").glob("*.contract.yaml"))


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _promtool_ok(tmp_path: Path, data: dict) -> None:
    path = tmp_path / "unwrapped.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = promtool.check_rules(str(path))
    assert result.returncode == 0, result.output


@pytest.mark.integration
def test_prometheusrule(at_root, cli, tmp_path, promtool_bin) -> None:
    result = cli("render", "--format", "prometheusrule", "--namespace", "monitoring",
                 "--name", "drift", "--label", "release=prometheus", "--label", "team=infra")
    assert result.code == 0, result.err
    doc = yaml.safe_load(result.out)
    assert doc["apiVersion"] == "monitoring.coreos.com/v1" and doc["kind"] == "PrometheusRule"
    assert doc["metadata"] == {"name": "drift", "namespace": "monitoring",
                               "labels": {"release": "prometheus", "team": "infra"}}
    assert {g["name"] for g in doc["spec"]["groups"]} == {"Infrastructure Drift",
                                                          "Image Scanning", "Database Backups"}
    _promtool_ok(tmp_path, doc["spec"])


@pytest.mark.integration
def test_rulefile_and_mimir(at_root, cli, tmp_path, promtool_bin) -> None:
    out = tmp_path / "rules.yml"
    assert cli("render", "--format", "rulefile", "-o", str(out)).code == 0
    assert promtool.check_rules(str(out)).returncode == 0
    result = cli("render", "--format", "mimir", "--namespace", "infra")
    assert result.code == 0
    doc = yaml.safe_load(result.out)
    assert doc["namespace"] == "infra" and len(doc["groups"]) == len(CONTRACTS)
    _promtool_ok(tmp_path, {"groups": doc["groups"]})


@pytest.mark.parametrize("args,message", [
    (["--format", "helm"], "promcontract: unknown format 'helm' (choose from template, "
     "prometheusrule, rulefile, mimir, docs)"),
    (["--format", "prometheusrule"], "promcontract: --format prometheusrule needs --namespace"),
    (["--format", "rulefile", "-o", "/nonexistent-dir/out.yml"],
     "/nonexistent-dir/out.yml: directory /nonexistent-dir does not exist"),
    (["--format", "prometheusrule", "--namespace", "m", "--label", "oops"],
     "promcontract: --label expects k=v, got 'oops'"),
])
def test_bad_output_options(args, message, at_root, cli) -> None:
    result = cli("render", *args)
    assert result.code == 2
    assert result.err_lines == [message]


def test_read_only_output_is_not_touched(at_root, cli, tmp_path) -> None:
    out = tmp_path / "rules.yml"
    out.write_text("keep me\n")
    out.chmod(0o444)
    try:
        result = cli("render", "--format", "rulefile", "-o", str(out))
    finally:
        out.chmod(0o644)
    assert result.code == 2 and "read-only" in result.err
    assert out.read_text() == "keep me\n"


def test_docs(at_root, cli) -> None:
    result = cli("docs", "--contract", "rules/drift.contract.yaml")
    assert result.code == 0
    text = result.out
    from promcontract.contract import load_contract

    contract = load_contract("rules/drift.contract.yaml")
    for metric in contract.metrics:
        assert re.search(rf"^\| `{metric.name}` \| {metric.type} \|", text, re.M)
    for alert in contract.alerts:
        assert re.search(rf"^\| {alert.name} \| `.+` \| {alert.for_} \| {alert.severity} \|",
                         text, re.M)
    assert (ROOT / "docs" / "drift.md").read_text() == text  # kept fresh by make rules


def test_stale_docs_fail_render_check(workspace, cli) -> None:
    doc = workspace / "docs" / "drift.md"
    doc.write_text(doc.read_text().replace("| 30m |", "| 31m |", 1))
    result = cli("render", "--check")
    assert result.code == 1 and "docs/drift.md: out of date" in result.err


@pytest.mark.integration
def test_check_junit(workspace, cli, promtool_bin) -> None:
    """Read back with a JUnit parser: one case per file with its own failure and time, only
    the broken file's test case fails, and the counts and times add up."""
    from junitparser import Failure, JUnitXml

    shutil.copy(ROOT / "rules" / "image-scan.contract.yaml", workspace / "rules")
    rules = workspace / "rules" / "generated" / "drift.rules.yml"
    rules.write_text(rules.read_text().replace("> 10\n", "> 12\n"))
    junit = workspace / "check.xml"
    result = cli("check", "--junit", str(junit))
    assert result.code == 1
    xml = JUnitXml.fromfile(str(junit))
    [suite] = list(xml)
    cases = {(c.classname, c.name): c for c in suite}
    assert suite.tests == len(cases) and suite.failures == sum(
        1 for c in cases.values() if not c.is_passed)
    assert abs(suite.time - sum(c.time for c in cases.values())) < 0.01
    drift = cases[("promtool test rules", "rules/generated/drift.test.yml")]
    image = cases[("promtool test rules", "rules/generated/image-scan.test.yml")]
    assert image.is_passed and not drift.is_passed
    [failure] = drift.result
    assert isinstance(failure, Failure) and failure.type == "promtool-test-rules"
    assert "DriftStacksMany at" in failure.message and "\n" not in failure.message
    assert drift.time > 0 and image.time > 0 and drift.time != image.time
    stale = cases[("render", "rules/generated/drift.rules.yml")]
    assert not stale.is_passed and stale.result[0].type == "stale"
    assert cases[("render", "rules/generated/image-scan.rules.yml")].is_passed
    out = suite._elem.find("system-out").text  # junitparser has no accessor for it
    count = len(list((workspace / "rules").glob("*.contract.yaml")))
    assert f"validated {count} contract(s)" in out and "promtool test rules failed" in out


def test_every_contract_renders_its_own_group(at_root) -> None:
    text = (ROOT / "stacks" / "monitoring" / "prometheus_chart_values.tpl").read_text()
    from promcontract.contract import load_contracts

    for contract in load_contracts([str(p) for p in CONTRACTS]):
        assert f"# BEGIN promcontract group: {contract.group}" in text
        assert (ROOT / "rules" / "generated" / f"{contract.name}.rules.yml").exists()
        assert (ROOT / "rules" / "generated" / f"{contract.name}.test.yml").exists()
        assert (ROOT / "docs" / f"{contract.name}.md").exists()
    assert len(CONTRACTS) >= 2


@pytest.mark.parametrize("change,message", [
    (("group: Image Scanning", "group: Infrastructure Drift"),
     "group 'Infrastructure Drift' is also rendered by rules/drift.contract.yaml"),
    (("- name: image_scan_last_run_timestamp", "- name: drift_detection_last_run_timestamp"),
     "metric 'drift_detection_last_run_timestamp' is also declared by "
     "rules/drift.contract.yaml"),
])
def test_duplicates_across_contracts(change, message, workspace, cli) -> None:
    other = workspace / "rules" / "image-scan.contract.yaml"
    shutil.copy(ROOT / "rules" / "image-scan.contract.yaml", other)
    text = other.read_text()
    assert change[0] in text
    other.write_text(text.replace(change[0], change[1]).replace(
        "metric: image_scan_last_run_timestamp", f"metric: {change[1].split()[-1]}")
        if "metric" in message else text.replace(*change))
    tpl = workspace / "stacks" / "monitoring" / "prometheus_chart_values.tpl"
    before = tpl.read_bytes()
    result = cli("render")
    assert result.code == 2
    assert any(line.startswith("rules/image-scan.contract.yaml:") and message in line
               for line in result.err_lines), result.err
    assert tpl.read_bytes() == before


def test_pre_commit_hooks() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"]: h["entry"] for h in hooks} == {"promcontract-check": "promcontract check",
                                                    "promcontract-lint": "promcontract lint"}
    assert all(h["pass_filenames"] is False and h["language"] == "python" for h in hooks)


# --- Kubernetes metadata ------------------------------------------------------------------------

@pytest.mark.parametrize("text,valid", [
    ("drift-rules", True), ("a", True), ("a.b-c.d", True), ("x" * 253, True),
    ("x" * 254, False), ("My Rules", False), ("Drift_Rules", False), ("-a", False),
    ("a-", False), ("a..b", False), ("", False), ("a.-b", False),
])
def test_object_names_are_dns_1123_subdomains(text, valid) -> None:
    from promcontract.render.writers import k8s

    assert k8s.is_subdomain(text) == valid


@pytest.mark.parametrize("text,valid", [
    ("monitoring", True), ("a" * 63, True), ("a" * 64, False), ("Mon Itoring", False),
    ("a.b", False), ("-a", False), ("", False), ("1st", True),
])
def test_namespaces_are_dns_1123_labels(text, valid) -> None:
    from promcontract.render.writers import k8s

    assert k8s.is_label(text) == valid


@pytest.mark.parametrize("key,valid", [
    ("release", True), ("app.kubernetes.io/name", True), ("example.com/Team_1", True),
    ("a" * 63, True), ("a" * 64, False), ("bad key", False), ("a: b", False),
    ("/name", False), ("Bad_Prefix/name", False), ("prefix/", False), ("x" * 254 + "/n", False),
    ("_a", False), ("a_", False),
])
def test_label_keys(key, valid) -> None:
    from promcontract.render.writers import k8s

    assert k8s.is_label_key(key) == valid


@pytest.mark.parametrize("value,valid", [
    ("", True), ("prometheus", True), ("v1.2_3-x", True), ("a" * 63, True), ("a" * 64, False),
    ("has space", False), ("-a", False), ("a.", False),
])
def test_label_values(value, valid) -> None:
    from promcontract.render.writers import k8s

    assert k8s.is_label_value(value) == valid


def test_default_name_is_valid_for_any_contract_id(workspace, cli) -> None:
    contract = workspace / "rules" / "drift.contract.yaml"
    contract.write_text(contract.read_text().replace("contract: drift\n", "contract: drift_x\n"))
    result = cli("render", "--format", "prometheusrule", "--namespace", "m", "--contract",
                 str(contract))
    assert result.code == 0, result.err
    assert yaml.safe_load(result.out)["metadata"]["name"] == "drift-x-rules"


_ANY = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.one_of(st.none(), _ANY, st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}[a-z0-9]",
                                                      fullmatch=True)),
       namespace=st.one_of(_ANY, st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)),
       labels=st.lists(st.tuples(st.one_of(_ANY, st.from_regex(r"[a-z][a-z0-9._/-]{0,20}",
                                                                fullmatch=True)),
                                 st.one_of(_ANY, st.from_regex(r"[a-z0-9._-]{0,20}",
                                                               fullmatch=True))), max_size=3))
def test_no_metadata_input_breaks_the_manifest(name, namespace, labels, cli,
                                               monkeypatch) -> None:
    """Whatever --name/--namespace/--label say: a one-line refusal (exit 2), or a document
    that reads back with exactly those values."""
    monkeypatch.chdir(ROOT)
    args = ["render", "--format", "prometheusrule", "--contract", "rules/drift.contract.yaml",
            f"--namespace={namespace}"]
    if name is not None:
        args += [f"--name={name}"]
    for key, value in labels:
        args += [f"--label={key}={value}"]
    result = cli(*args)
    if result.code == 2:
        assert len(result.err_lines) == 1 and result.err.startswith("promcontract: ")
        return
    assert result.code == 0, result.err
    doc = yaml.safe_load(result.out)
    assert doc["metadata"]["namespace"] == namespace
    if name is not None:
        assert doc["metadata"]["name"] == name
    parsed = [(item.partition("=")[0], item.partition("=")[2])
              for item in (f"{k}={v}" for k, v in labels)]
    assert doc["metadata"].get("labels", {}) == dict(parsed)


def _scenario_panels(svg_path: Path) -> list:
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    root = ET.parse(svg_path).getroot()
    return [panel for panel in root if panel.tag == ns + "svg"]


def _drawn_disagreements(svg_path: Path, test_path: Path) -> list[str]:
    """Where a drawn scenario and its derived test group disagree: an evaluation the test
    expects firing outside every drawn firing span, or expects quiet inside one. A group
    whose scenarios are told apart by a label has a panel per scenario, in the order of its
    input series."""
    from promcontract.kinds.series import SCENARIO_LABEL

    ns = "{http://www.w3.org/2000/svg}"
    groups = yaml.safe_load(test_path.read_text())["tests"]
    scenarios = []  # (group, label, tag): one per drawn panel
    for group in groups:
        found = [(name, value) for s in group["input_series"]
                 for name, value in re.findall(r'(\w+)="([^"]*)"', s["series"])
                 if name == SCENARIO_LABEL]
        tags = list(dict.fromkeys(found))
        scenarios += [(group, name, value) for name, value in tags] or [(group, None, None)]
    panels = _scenario_panels(svg_path)
    out = [] if len(panels) == len(scenarios) else [
        f"{len(panels)} panels, {len(scenarios)} scenarios in {len(groups)} groups"]
    for panel, (group, name, tag) in zip(panels, scenarios, strict=False):
        spans = [(float(r.get("data-start")), float(r.get("data-end") or "inf"))
                 for r in panel.iter(ns + "rect") if (r.get("class") or "").startswith("firing")]
        title = panel.find(ns + "title").text
        for case in group["alert_rule_test"]:
            t = parse_duration(case["eval_time"])
            drawn = any(a <= t < b for a, b in spans)
            tested = any(name is None or str(a["exp_labels"].get(name)) == tag
                         for a in case["exp_alerts"])
            if drawn != tested:
                out.append(f"{title} at {case['eval_time']}: drawn "
                           f"{'firing' if drawn else 'quiet'}, tested the other way")
    return out


def test_the_scenario_pictures_draw_what_the_derived_tests_assert(monkeypatch) -> None:
    """docs/<contract>.scenarios.svg has a panel per derived test group, in order, and each
    evaluation the test expects firing is inside a drawn firing span, each it expects quiet
    outside. The check fails on pictures that ignore for: (drawn from the condition)."""
    for contract in ("drift", "db-backup", "image-scan"):
        problems = _drawn_disagreements(ROOT / "docs" / f"{contract}.scenarios.svg",
                                        ROOT / "rules" / "generated" / f"{contract}.test.yml")
        assert problems == [], problems[:5]

    from promcontract import kinds
    from promcontract.contract import load_contract
    from promcontract.render.writers import timelines
    from promcontract.testgen import oracle

    def held_only(alert, contract, scenario, until):  # noqa: ANN001, ANN202
        held = kinds.of(alert).condition(alert, contract, scenario.series)
        return {t: held(t) for t in range(0, until + 1, 60)}

    monkeypatch.setattr(oracle, "timeline", held_only)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        wrong = Path(tmp) / "drift.scenarios.svg"
        wrong.write_text(timelines.render_svg(load_contract(str(ROOT / "rules" /
                                                                "drift.contract.yaml"))))
        assert _drawn_disagreements(wrong, ROOT / "rules" / "generated" / "drift.test.yml")
