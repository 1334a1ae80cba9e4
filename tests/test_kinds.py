"""The kinds added as plug-ins: value_below, value_equals, value_outside, increase_below,
increase_above; keep_firing_for on every alert; and alert text that reads right when the
watched series is absent. (Their derived tests run through promtool with the bundled
db-backup contract, their mutants in test_testfile, their oracle against promtool in
test_properties.)"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from promcontract import kinds
from promcontract.contract import load_contract, parse_contract
from promcontract.durations import parse_duration
from promcontract.kinds.series import STALE, STEP, Scenario, Series
from promcontract.model import promfiles
from promcontract.problems import UserError
from promcontract.render.writers import Dirs, rulefile, testfile
from promcontract.runners import promtool
from promcontract.testgen import mutate, oracle
from promcontract.workflows import promcheck
from promcontract.workflows.import_group import recognise
from scenario_strategies import draw_examples, scenarios

BACKUP_PATH = ROOT / "rules" / "db-backup.contract.yaml"
BACKUP_TEXT = BACKUP_PATH.read_text()
LABELS = (("instance", ""), ("job", "db-backup"))


@pytest.fixture(scope="module")
def backup():
    return load_contract(str(BACKUP_PATH))


def test_every_kind_is_found_by_the_registry() -> None:
    names = set(kinds.alert_kinds())
    assert {"heartbeat_stale", "age_above", "value_above", "value_below", "value_equals",
            "value_outside", "increase_below", "increase_above", "expr", "invariant"} == names
    for kind in kinds.alert_kinds().values():
        assert kind.doc and (kind.required or not kind.user_facing or kind.name == "expr")


@pytest.mark.parametrize("old,new,message,field", [
    ("    value: 2\n", "    value: 3\n", r"value 3 is not a value of db_backup_repo_state "
     r"\(0 ok, 1 degraded, 2 failing\): the alert would never fire", "alerts[2].value"),
    ("    min: 60\n", "    min: 20000\n", r"max 14400 must be above min 20000",
     "alerts[3].max"),
    ("    min: 60\n", "    min: 0\n", r"min 0 is at or below the lowest value of "
     r"db_backup_duration_seconds .*: that side never fires; use value_above", "alerts[3].min"),
    ("    threshold: 1e9\n", "    threshold: -5\n", r"threshold -5 with '<' is outside the "
     r"domain of db_backup_size_bytes .*never fire", "alerts[1].threshold"),
    ("    window: 30m\n", "    window: 1m\n", r"window 1m holds fewer than two samples",
     "alerts[4].window"),
    ("    window: 6h\n", "    window: 3d\n", r"window 3d is longer than derived tests can "
     r"cover", "alerts[5].window"),
    ("  - name: db_backup_failures_total\n    type: counter\n",
     "  - name: db_backup_failures_total\n    type: gauge\n",
     r"increase_above needs a counter; 'db_backup_failures_total' is declared type gauge",
     "alerts[5].metric"),
    ("    window: 30m\n    threshold: 1\n", "    window: 30m\n    threshold: 0\n",
     r"threshold 0 with '<': a counter's increase is never below it", "alerts[4].threshold"),
    ("    for: 15m\n    keep_firing_for: 30m\n", "    for: 15m\n    keep_firing_for: 2d\n",
     r"keep_firing_for: 2d is longer than derived tests can cover", "alerts[2].keep_firing_for"),
    ("    when_absent: fire\n    severity: critical\n    summary: \"No WAL",
     "    severity: critical\n    summary: \"No WAL",
     r"absent_summary is used only with when_absent: fire", "alerts[4].absent_summary"),
    ("    kind: value_outside\n", "    kind: value_outside\n    threshold: 5\n",
     r"unknown field 'threshold'", "alerts[3].threshold"),
])
def test_semantic_checks_of_the_new_kinds(old, new, message, field) -> None:
    assert old in BACKUP_TEXT, old
    text = BACKUP_TEXT.replace(old, new, 1)
    with pytest.raises(UserError) as info:
        parse_contract(text, "b.yaml")
    shown = [str(p) for p in info.value.problems]
    assert any(re.search(message, line) and line.endswith(f"({field})") for line in shown), \
        shown


def test_expressions(backup) -> None:
    exprs = {a.name: kinds.of(a).expr(a, backup) for a in backup.alerts}
    assert exprs["DbBackupTooSmall"] == 'db_backup_size_bytes{job="db-backup"} < 1000000000'
    assert exprs["DbBackupRepoFailing"] == 'db_backup_repo_state{job="db-backup"} == 2'
    assert exprs["DbBackupDurationUnusual"] == ('db_backup_duration_seconds{job="db-backup"} '
                                                '< 60 or db_backup_duration_seconds'
                                                '{job="db-backup"} > 14400')
    assert exprs["DbWalArchivingStopped"] == (
        '(increase(db_wal_archived_segments_total{job="db-backup"}[30m]) < 1) or '
        'label_replace(absent(db_wal_archived_segments_total{job="db-backup"}), "absent", '
        '"true", "", "")')
    assert exprs["DbBackupFailures"] == \
        'increase(db_backup_failures_total{job="db-backup"}[6h]) > 0'


def test_keep_firing_for_keeps_firing_exactly_that_long(backup) -> None:
    """Firing from for: on; the condition clears at 20m; kept firing while less than 30m has
    passed since (20m..49m), resolved at 50m; its $value is the last one seen."""
    alert = backup.alert("DbBackupRepoFailing")  # == 2 for 15m, keep firing 30m
    labels = LABELS + (("repository", "r"),)
    values = (2.0,) * 20 + (0.0,) * 40
    line = oracle.timeline(alert, backup, Scenario(alert.name, "t", (
        Series("db_backup_repo_state", labels, values),)), 59 * STEP)
    firing = [t // STEP for t in sorted(line) if line[t]]
    assert firing == list(range(15, 50))
    assert line[49 * STEP] == {labels: 2.0}
    without = dataclasses.replace(alert, keep_firing_seconds=0.0, keep_firing_for="")
    line = oracle.timeline(without, backup, Scenario(alert.name, "t", (
        Series("db_backup_repo_state", labels, values),)), 59 * STEP)
    assert [t // STEP for t in sorted(line) if line[t]] == list(range(15, 20))


def test_keep_firing_for_is_rendered_and_pinned(backup) -> None:
    rules = (ROOT / "rules" / "generated" / "db-backup.rules.yml").read_text()
    assert "        for: 15m\n        keep_firing_for: 30m\n" in rules
    from promcontract.testgen import operators

    rule = next(r for r in promfiles.load_rules(str(ROOT / "rules" / "generated" /
                                                    "db-backup.rules.yml")).alerts
                if r.name == "DbBackupRepoFailing")
    moved = {m.keep_firing_for for m in operators.mutations(
        rule.expr, rule.for_, rule.keep_firing_for, 60.0) if m.operator == "keep_firing_for"}
    assert {"29m", "31m"} <= moved  # one 1m evaluation step each way (killed: test_mutate)


@pytest.mark.parametrize("name, absent_text", [
    ("DriftDetectionStale", "Drift detection has never reported: no heartbeat series for job "
                            "drift-detection"),
    ("ImageScanStale", "ImageScanStale: no image_scan_last_run_timestamp series for job "
                       "image-scan: it has never reported, or its series were deleted"),
])
def test_the_absent_branch_reads_never_reported(name, absent_text) -> None:
    """Not "has not reported for 1s": the derived test pins the absent branch's own text."""
    text = "".join(p.read_text() for p in (ROOT / "rules" / "generated").glob("*.test.yml"))
    assert f"summary: \"{absent_text}\"" in text or f"summary: {absent_text}" in text
    assert "has not reported for 1s" not in text and "for 1s" not in text


def test_absent_scenarios_fire_with_the_absent_label(backup) -> None:
    alert = backup.alert("DbWalArchivingStopped")
    other = (("instance", ""), ("job", "someone-else"))
    line = oracle.timeline(alert, backup, Scenario(alert.name, "t", (
        Series("db_wal_archived_segments_total", other, (0.0,) * 30),)), 29 * STEP)
    assert list(line[15 * STEP]) == [(("absent", "true"), ("job", "db-backup"))]
    firing = oracle.expected(alert, backup, Scenario(alert.name, "t", (
        Series("db_wal_archived_segments_total", other, (0.0,) * 30),), (15 * STEP,)))
    [(_, (alerted,))] = firing
    assert dict(alerted.annotations)["summary"] == ("The backup agent reports no WAL archiving "
                                                    "at all (job db-backup)")


def test_increase_counts_a_counter_reset(backup) -> None:
    alert = backup.alert("DbBackupFailures")
    labels = LABELS
    values = (0.0, 0.0, 1.0, 2.0, 0.0, 1.0, STALE)
    with oracle.lookback_semantics(closed=True):
        held = kinds.of(alert).condition(alert, backup, (
            Series("db_backup_failures_total", labels, values),))(5 * STEP)
    assert held == {labels: 3.0}  # 0 -> 2, reset, 0 -> 1: three failures


def test_a_new_kind_is_one_file(tmp_path: Path, monkeypatch) -> None:
    """The registry finds a module dropped into kinds/; the schema and every engine ask it."""
    import importlib
    import shutil

    import promcontract.kinds as registry

    fake = tmp_path / "kinds"
    shutil.copytree(Path(registry.__file__).parent, fake)
    (fake / "value_twice.py").write_text(
        "from promcontract.kinds.value_above import ValueAbove\n\n\n"
        "class Twice(ValueAbove):\n    name = 'value_twice'\n    doc = 'a test kind'\n\n\n"
        "KIND = Twice()\n")
    monkeypatch.setattr(registry, "__path__", [str(fake)])
    registry._registry.cache_clear()
    try:
        assert "value_twice" in registry.alert_kinds()
        from promcontract.contract import schema

        schema.schema.cache_clear()
        assert "value_twice" in schema.schema()["$defs"]["alert"]["properties"]["kind"]["enum"]
    finally:
        registry._registry.cache_clear()
        monkeypatch.undo()
        from promcontract.contract import schema

        schema.schema.cache_clear()
        schema.text.cache_clear()
        schema.validator.cache_clear()
        importlib.invalidate_caches()
    assert "value_twice" not in registry.alert_kinds()


@pytest.mark.parametrize("comparison", [">", ">=", "<", "<="])
@pytest.mark.parametrize("threshold", [-1, 0, 0.5, 1, 3, 4, 4.5, 5])
def test_a_threshold_outside_the_domain_is_named_never_or_always(comparison, threshold) -> None:
    """value_above / value_below on a range 0..4: the finding says "never fire" exactly when
    no value of the domain meets the comparison, "always fire" when every value does
    (counted over the domain, not derived from the check's own reasoning)."""
    import operator

    from promcontract.kinds.base import CheckContext

    kind = kinds.alert_kind("value_above" if comparison.startswith(">") else "value_below")
    metric = {"name": "m", "domain": {"kind": "range", "min": 0, "max": 4}}
    said: list[str] = []
    ctx = CheckContext({}, {"m": metric}, ("alerts", 0), lambda path, message, key=False:
                       said.append(message))
    kind.check_domain({"metric": "m", "threshold": threshold, "comparison": comparison},
                      metric, ctx)
    op = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}[comparison]
    meets = [op(x / 100, threshold) for x in range(0, 401)]
    expected = ("never fire" if not any(meets) else "always fire" if all(meets) else None)
    assert [m.rsplit(": the alert would ", 1)[1] for m in said] == ([expected] if expected
                                                                      else [])


# --- every kind from its own EXAMPLE: render, derive, mutate, property, import ----------------

USER_KINDS = [k for k in kinds.alert_kinds().values() if k.user_facing]


def example_contract(kind: kinds.AlertKind) -> str:
    """A whole contract around ``kind.example`` (the fragment kept in the kind's file)."""
    data = {"contract": "example-" + kind.name.replace("_", "-"),
            "group": f"Example {kind.name}",
            "push": {"grouping_key": {"job": "example"}, "cadence": "1h"},
            "metrics": kind.example["metrics"],
            "alerts": [{**kind.example["alert"], "severity": "warning",
                        "summary": "{{ $labels.job }}: example of " + kind.name,
                        "rationale": "The kind's own example."}]}
    return yaml.safe_dump(data, sort_keys=False)


def test_every_user_facing_kind_keeps_an_example() -> None:
    assert [k.name for k in USER_KINDS if not k.example] == []


@pytest.mark.integration
@pytest.mark.parametrize("name", [k.name for k in USER_KINDS])
def test_each_kind_renders_derives_mutates_and_imports_back_from_its_example(
        name, tmp_path, promtool_bin) -> None:
    kind = kinds.alert_kind(name)
    contract = parse_contract(example_contract(kind), str(tmp_path / "example.yaml"))
    alert = contract.alerts[0]
    notes: list[str] = []
    rule_path, rule_text = rulefile.generated(contract, Dirs(str(tmp_path), str(tmp_path)), notes)
    Path(rule_path).write_text(rule_text)
    if kind.derivable:
        test_path, test_text = testfile.generated(contract, Dirs(str(tmp_path), str(tmp_path)),
                                                  notes)
        assert notes == []
        Path(test_path).write_text(test_text)
        result = promtool.test_rules(test_path)
        assert result.returncode == 0, result.output
        report = mutate.run([rule_path], [test_path], mutate.contract_hints(contract))
        survivors = [f"[{o.mutation.operator}] {o.mutation.diff}" for a in report.alerts
                     for o in a.outcomes if o.state not in ("killed", "equivalent")]
        assert report.total > 0 and survivors == []
        workspace = promcheck.Workspace(contract, templates=False)
        try:
            for batch in draw_examples(scenarios(contract, max_size=4), 4, seed=7):
                verdict = workspace.check(batch)
                assert verdict.agrees, verdict.report()
        finally:
            workspace.close()
    found, fields, why = recognise(kind.expr(alert, contract))
    if kind.name == "expr":
        assert found == "expr" and why
    else:
        def same(spec: dict) -> dict:  # 3d and 72h are one threshold
            return {k: parse_duration(v) if k in ("threshold", "window") and isinstance(v, str)
                    else v for k, v in spec.items()}

        expected = {k: v for k, v in kind.example["alert"].items() if k in kind.properties}
        assert (found, same(fields)) == (kind.name, same(expected)), why
