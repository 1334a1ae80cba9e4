"""Precision of promcontract lint on a realistic 342-alert, 38-group values template
(tests/fixtures/realistic.py): guards, recency filters, event timestamps, sibling absent
alerts, per-job and extraScrapeConfigs intervals, cronjob labels, count_values, joins, an
Alertmanager config. Every finding is labelled by hand in tests/fixtures/realistic_lint.yml;
a finding not labelled there, or a labelled one that disappears, fails the test."""

from __future__ import annotations

import sys

import yaml

from conftest import ROOT
from promcontract import lint
from promcontract.lint.config import LintConfig

sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
from realistic import make_realistic_template  # noqa: E402

LABELS = ROOT / "tests" / "fixtures" / "realistic_lint.yml"


def test_every_finding_on_the_realistic_template_is_labelled(promtool_bin, amtool_bin,
                                                             capsys) -> None:
    config = LintConfig(external_alerts=("LokiRulerLogErrorsHigh",))
    found = lint.run("realistic.tpl", make_realistic_template(), config)
    got = {f"{f.line}: {f.rule}: {f.message}" for f in found}
    labelled = {item["finding"]: item for item in yaml.safe_load(LABELS.read_text())["findings"]}
    assert not got - set(labelled), f"new, unlabelled findings: {sorted(got - set(labelled))}"
    assert not set(labelled) - got, f"labelled findings gone: {sorted(set(labelled) - got)}"
    true = sum(1 for f in got if labelled[f]["label"] is True)
    precision = true / len(got)
    with capsys.disabled():
        print(f"\nlint precision on the realistic template: {true}/{len(got)} findings true "
              f"({precision:.0%})")
    assert precision >= 0.9
    assert {f.rule for f in found} >= {"absent-coverage", "aggregated-label", "duplicate-alert",
                                      "for-scrape-interval", "alertmanager-unknown-alert"}
