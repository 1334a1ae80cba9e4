"""bench/corpus.py (make corpus) fails on what it exists to catch: an unlabelled lint finding,
a labelled one gone, precision under the floor, a crash; and skips when there is no corpus."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT

spec = importlib.util.spec_from_file_location("corpus_script", ROOT / "bench" / "corpus.py")
corpus_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(corpus_script)

RULES = """\
groups:
  - name: G
    rules:
      - alert: Down
        expr: up{job="a"} == 0
        for: 0s
        annotations:
          summary: "{{ $labels.instance }}"
      - alert: Summed
        expr: sum(x) > 1
        for: 5m
        annotations:
          summary: "{{ $labels.instance }} high"
"""


@pytest.fixture
def tiny(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "set").mkdir(parents=True)
    (corpus / "set" / "g.yml").write_text(RULES)
    return corpus


def _findings(corpus) -> list[str]:
    """The lint findings on ``corpus`` as the labels file names them."""
    proc = subprocess.run([sys.executable, "-m", "promcontract", "lint", "--rules",
                           *map(str, corpus_script.corpus_files(corpus)), "--format", "json"],
                          capture_output=True, text=True)
    return [f"set/g.yml:{f['line']}: {f['check']}: {f['message']}"
            for f in json.loads(proc.stdout)]


def _labels(tmp_path, corpus, verdicts: dict[str, bool]):
    """Lint ``corpus`` against a labels file with the findings of the checks in ``verdicts``
    labelled true or false."""
    labels = tmp_path / "labels.yml"
    labels.write_text(yaml.safe_dump({"findings": [
        {"finding": f, "label": verdicts[f.split(": ")[1]], "why": "test"}
        for f in _findings(corpus) if f.split(": ")[1] in verdicts]}))
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    report = corpus_script.Report()
    corpus_script.lint(corpus_script.corpus_files(corpus), corpus.resolve(), out, report, labels)
    return report


def test_every_finding_labelled_true_passes(tmp_path, tiny) -> None:
    checks = {f.split(": ")[1] for f in _findings(tiny)}
    assert {"for-scrape-interval", "aggregated-label"} <= checks
    report = _labels(tmp_path, tiny, {c: True for c in checks})
    assert report.failures == [] and report.figures["lint"]["precision"] == 1.0


def test_an_unlabelled_finding_fails(tmp_path, tiny) -> None:
    report = _labels(tmp_path, tiny, {"aggregated-label": True})
    assert any("unlabelled finding" in f for f in report.failures)


def test_precision_under_the_floor_fails(tmp_path, tiny) -> None:
    checks = {f.split(": ")[1] for f in _findings(tiny)}
    report = _labels(tmp_path, tiny, {c: c != "aggregated-label" for c in checks})
    assert any("precision" in f and "below 95%" in f for f in report.failures)


def test_a_traceback_is_a_crash() -> None:
    ok = subprocess.CompletedProcess([], 1, "", "x.yml:3: something")
    boom = subprocess.CompletedProcess([], 1, "", "Traceback (most recent call last):\n  ...")
    killed = subprocess.CompletedProcess([], -9, "", "")
    assert not corpus_script.crashed(ok)
    assert corpus_script.crashed(boom) and corpus_script.crashed(killed)


def test_no_corpus_is_skipped_and_said(tmp_path) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "corpus.py"), "--corpus",
                           str(tmp_path / "missing")], capture_output=True, text=True)
    assert proc.returncode == 0 and "skipped: no corpus at" in proc.stdout
