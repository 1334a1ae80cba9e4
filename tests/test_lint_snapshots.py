"""Each lint check against its snapshot: tests/lint_snapshots/<check>.yml holds realistic cases
(at least five true positives and five true negatives each, as pint keeps one per check), and
<check>.findings.yml what the check says on each, reviewed by hand. UPDATE_SNAPSHOTS=1 rewrites
the findings files for review (refused under CI=true)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from promcontract import lint
from promcontract.lint import config as lint_config
from promcontract.problems import UserError

SNAPSHOTS = ROOT / "tests" / "lint_snapshots"
CHECK_FILES = sorted(p for p in SNAPSHOTS.glob("*.yml") if not p.name.endswith(".findings.yml"))


def _indent(text: str, spaces: int) -> str:
    return textwrap.indent(text.rstrip("\n") + "\n", " " * spaces)


def build(doc: dict, case: dict) -> str:
    """A values template around the case: its rules in a group (other_rules in a second one),
    or its groups as given, and the Alertmanager config and scrape configs it names."""
    out = case.get("prefix", "")
    out += "server:\n  global:\n    scrape_interval: 30s\n"
    if "alertmanager" in case:
        out += "alertmanager:\n  config:\n" + _indent(case["alertmanager"], 4)
    out += "serverFiles:\n"
    scrape = case.get("scrape", doc.get("scrape"))
    if scrape:
        out += "  prometheus.yml:\n    scrape_configs:\n" + _indent(scrape, 6)
    out += "  alerting_rules.yml:\n    groups:\n"
    if "groups" in case:
        out += _indent(case["groups"], 6)
    else:
        rules = case.get("rules", doc.get("rules")) or "- alert: Anything\n  expr: vector(1)\n"
        out += "      - name: Under test\n        rules:\n" + _indent(rules, 10)
        if "other_rules" in case:
            out += "      - name: Other\n        rules:\n" + _indent(case["other_rules"], 10)
    extra = case.get("extra_scrape", doc.get("extra_scrape"))
    if extra:
        out += "extraScrapeConfigs: |\n" + _indent(extra, 2)
    return out


def outcome(doc: dict, case: dict, tmp_path: Path) -> list[str] | dict:
    settings = case.get("config", doc.get("config"))
    config = lint_config.LintConfig()
    if settings is not None:
        path = tmp_path / ".promcontract.yaml"
        path.write_text(yaml.safe_dump(settings))
        config = lint_config.load(str(path), lint.NAMES)
    try:
        found = lint.run("values.tpl", build(doc, case), config, only={doc["check"]})
    except UserError as exc:
        return {"error": str(exc.problems[0].message)}
    return [f.message for f in found]


@pytest.mark.parametrize("path", CHECK_FILES, ids=[p.stem for p in CHECK_FILES])
def test_check_snapshot(path: Path, tmp_path: Path, promtool_bin, amtool_bin) -> None:
    doc = yaml.safe_load(path.read_text())
    assert doc["check"] == path.stem and doc["check"] in lint.NAMES
    names = [case["name"] for case in doc["cases"]]
    assert len(set(names)) == len(names), "case names must be unique"
    got = {case["name"]: outcome(doc, case, tmp_path) for case in doc["cases"]}
    findings_path = path.with_suffix(".findings.yml")
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        assert os.environ.get("CI") != "true", "snapshots are reviewed, never rewritten in CI"
        findings_path.write_text(
            f"# What {doc['check']} says on each case of {path.name}, reviewed by hand.\n"
            + yaml.safe_dump(got, sort_keys=False, allow_unicode=True, width=100))
    expected = yaml.safe_load(findings_path.read_text())
    assert got == expected
    positives = [n for n, v in expected.items() if v and not isinstance(v, dict)]
    negatives = [n for n, v in expected.items() if v == []]
    assert len(positives) >= 5 and len(negatives) >= 5, (positives, negatives)


def test_every_check_has_a_snapshot() -> None:
    assert sorted(p.stem for p in CHECK_FILES) == sorted(lint.NAMES)
