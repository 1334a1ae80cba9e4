"""characterize: driving hand-written alerts across their thresholds, recording what promtool
does, and proving the recorded tests pin the alerts."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from promcontract.promql import parse
from promcontract.runners import promtool
from promcontract.template import reader
from promcontract.testgen import drive
from promcontract.workflows import characterize

sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
from realistic import SERVICES, make_realistic_template  # noqa: E402


def _targets(expr: str, records: dict | None = None):
    return drive.analyse(parse(expr), {k: parse(v) for k, v in (records or {}).items()})


# --- driving, pure ------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, kind, a, b", [
    ('x{job="j"} > 10', "value", 1, 0),
    ('x < 3', "value", 1, 0),
    ('x == 2', "value", 1, 0),
    ('time() - x > 26 * 3600', "age", 1, 0),
    ('x - time() < 14 * 86400', "until", 1, 0),
    ('rate(x[5m]) > 0.5', "slope", 1, 0),
    ('increase(x[1h]) > 3', "slope", 3600, 0),
    ('sum by (job) (rate(x[5m])) == 0', "slope", 1, 0),
    ('100 - (avg by (instance) (rate(idle[5m])) * 100) > 90', "slope", -100, 100),
    ('avail / size * 100 < 10', "value", 100 / 1024, 0),  # size held at 1024
    ('count by (cluster) (up == 1) < 3', "count", 1, 0),
    ('max_over_time(x[10m]) > 5', "value", 1, 0),
])
def test_each_shape_gets_a_drive(expr, kind, a, b) -> None:
    targets, reasons = _targets(expr)
    first = targets[0]
    assert (first.drive.kind, first.drive.a, first.drive.b) == (kind, a, b), reasons


def test_absent_with_and_without_comparison() -> None:
    (plain,), _ = _targets('absent(up{job="api"})')
    assert plain.op == "absent" and plain.drive.kind == "presence"
    (compared,), _ = _targets('absent(up{job="api"}) == 1')
    assert compared.op == "absent==" and compared.literal == 1


def test_recording_rules_are_read_through() -> None:
    targets, _ = _targets("job:errors:ratio > 0.05",
                          {"job:errors:ratio": "sum by (job) (rate(e[5m])) / "
                                               "sum by (job) (rate(r[5m]))"})
    (target,) = targets
    assert target.drive.selector.name == "e"
    assert [(h.drive.selector.name, h.compared) for h in target.neutrals] == [("r", 1024.0)]


@pytest.mark.parametrize("expr, reason", [
    ("topk(3, rate(x[5m])) > 1e8", "a literal under topk"),
    ("histogram_quantile(0.99, sum by (le) (rate(b[5m]))) > 2",
     "a literal under histogram_quantile"),
    ("a * on(p) group_left(n) b * on(n) group_left(t) c > 1", "three-way join"),
    ("changes(x[15m]) > 3", "changes() is not driven"),
    ("x > TF_INTERPOLATION", "Terraform interpolation"),
    ("a > a offset 1d", "compares two series (a > a offset 1d), no constant: both sides "
                        "read the same series"),
    ("a > on(j) b", "compares two series (a > on(j) b), no constant: a vector match"),
])
def test_shapes_that_cannot_be_driven_say_why(expr, reason) -> None:
    _, reasons = _targets(expr)
    assert any(reason in r for r in reasons), reasons


def test_two_series_compared_drive_one_across_the_other_held() -> None:
    """`puma_running_workers < puma_workers`: the left driven across the right, held at 100;
    `a > 0.9 * b`: across 90."""
    (target,), _ = _targets("puma_running_workers < puma_workers")
    assert (target.drive.selector.name, target.op, target.literal) == \
        ("puma_running_workers", "<", 100.0)
    assert [(h.drive.selector.name, h.compared) for h in target.neutrals] == \
        [("puma_workers", 100.0)]
    (target,), _ = _targets("a > 0.9 * b")
    assert target.literal == 100.0 and target.neutrals[0].drive.quantity(100.0) == \
        pytest.approx(100 / 0.9)


def test_other_comparisons_are_held_so_the_target_decides() -> None:
    expr = parse('rate(x[5m]) > 0.5 and on() (time() - start{job="prometheus"}) > 900')
    targets, _ = drive.analyse(expr, {})
    holds, why = drive.holds_for(expr, targets[0], targets)
    assert not why and [(h.drive.kind, h.compared > 900) for h in holds] == [("age", True)]
    expr = parse("x > 1 or y > 2")
    targets, _ = drive.analyse(expr, {})
    holds, _ = drive.holds_for(expr, targets[0], targets)
    assert [h.compared < 2 for h in holds] == [True]  # the other branch of or held false
    expr = parse("x < 5 or x > 45")  # one series drives both: it is left to follow
    targets, _ = drive.analyse(expr, {})
    assert drive.holds_for(expr, targets[0], targets) == ([], "")


def test_series_labels_satisfy_every_matcher() -> None:
    selector = parse('x{job="j", code=~"5..", mode!="idle", env!~"dev|test", le=""}')
    labels = dict(drive.series_labels(selector, ("pod",)))
    assert labels["job"] == "j" and re.fullmatch("5..", labels["code"])
    assert labels["mode"] != "idle" and not re.fullmatch("dev|test", labels["env"])
    assert labels["pod"] == "a" and "le" not in labels


def test_notation_compresses_runs_as_promtool_expands_them() -> None:
    assert characterize._notation([1.0, 1.0, 1.0, None, None, "stale"]) == "1+0x2 _x2 stale"
    assert characterize._notation([-10.0, 50.0, 110.0]) == "-10+60x2"
    assert characterize._notation([5.0, 3.0, 1.0]) == "5-2x2"
    values = [0.1 * k for k in range(5)]  # not what repeated addition of 0.1 gives
    notation = characterize._notation(values)
    expanded = []
    for token in notation.split():
        match = re.fullmatch(r"(-?[\d.e+-]+?)([+-])([\d.e+-]+)x(\d+)", token)
        if match:
            value, step = float(match.group(1)), float(match.group(3))
            step = step if match.group(2) == "+" else -step
            for _ in range(int(match.group(4)) + 1):
                expanded.append(value)
                value += step
        else:
            expanded.append(float(token))
    assert expanded == values


# --- against promtool --------------------------------------------------------------------------

def _template(tmp_path: Path, services: int = 4) -> Path:
    import realistic

    saved = list(realistic.SERVICES)
    try:
        realistic.SERVICES[:] = SERVICES[:services]
        text = make_realistic_template()
    finally:
        realistic.SERVICES[:] = saved
    path = tmp_path / "values.tpl"
    path.write_text(text)
    return path


def _characterize(cli, tmp_path: Path, name: str, text: str):  # noqa: ANN001, ANN202
    """``text`` written as the rule file ``name`` and characterized into tmp_path/out (exit 0)."""
    rules = tmp_path / name
    rules.write_text(text)
    result = cli("characterize", "--rules", str(rules), "-o", str(tmp_path / "out"))
    assert result.code == 0, result.err
    return result


def _hash(*paths: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(paths))).hexdigest()


@pytest.mark.integration
def test_characterize_records_pins_and_checks(cli, tmp_path, promtool_bin) -> None:
    tpl = _template(tmp_path)
    before = _hash(tpl)
    out = tmp_path / "alerts"
    junit = tmp_path / "char.xml"
    result = cli("characterize", "--tpl", str(tpl), "-o", str(out), "--junit", str(junit))
    assert result.code == 0, result.err
    assert _hash(tpl) == before  # the template is never modified
    last = result.out.strip().splitlines()[-1]
    done, total = (int(x) for x in re.match(r"characterized (\d+)/(\d+) alerts", last).groups())
    assert total == 36 and done / total >= 0.6, result.out
    # each alert it could not characterize: one line with the reason
    skipped = [line for line in result.out.splitlines() if ": not characterized: " in line]
    assert len(skipped) == total - done
    assert any("a literal under topk" in line for line in skipped)
    assert any("three-way join" in line for line in skipped)
    files = sorted(out.iterdir())
    assert [f.name for f in files if f.name.startswith("payments")] == [
        "payments.rules.yml", "payments.test.yml"]
    text = (out / "payments.test.yml").read_text()
    assert "# PaymentsReplicationBroken: payments_replication_state" in text
    assert re.search(r"# PaymentsDown: up\{job=\"payments\"\} == 0: at \(0\): firing from 5m",
                     text)
    # the written files pass promtool as they are, from any directory
    for test_file in out.glob("*.test.yml"):
        assert promtool.test_rules(str(test_file)).returncode == 0, test_file
    # a second run writes nothing (byte-identical); --check agrees
    files_hash = _hash(*files)
    again = cli("characterize", "--tpl", str(tpl), "-o", str(out))
    assert again.code == 0 and "wrote:" not in again.err and _hash(*files) == files_hash
    check = cli("characterize", "--tpl", str(tpl), "-o", str(out), "--check")
    assert check.code == 0, check.out
    from junitparser import JUnitXml

    cases = [case for suite in JUnitXml.fromfile(str(junit)) for case in suite]
    assert len(cases) == total and sum(case.is_passed for case in cases) == done

    # the template changes a threshold: --check says stale, and the recorded test fails
    changed = tpl.read_text().replace('payments_replication_state{job=\\"payments\\"} == 2',
                                      'payments_replication_state{job=\\"payments\\"} == 3')
    assert changed != tpl.read_text()
    tpl.write_text(changed)
    stale = cli("characterize", "--tpl", str(tpl), "-o", str(out), "--check")
    assert stale.code == 1 and f"stale: {out / 'payments.rules.yml'}" in stale.out
    group = next(g for g in characterize.groups_of(reader.read(str(tpl), changed), ["Payments"]))
    (out / "payments.rules.yml").write_text(group.rules_text)
    failed = promtool.test_rules(str(out / "payments.test.yml"))
    assert failed.returncode != 0 and "PaymentsReplicationBroken" in failed.output


@pytest.mark.integration
def test_characterized_alerts_survive_no_mutant(cli, tmp_path, promtool_bin) -> None:
    """The claim "characterized" is the mutation engine's: re-run it on the written files."""
    tpl = _template(tmp_path, services=2)
    out = tmp_path / "alerts"
    result = cli("characterize", "--tpl", str(tpl), "-o", str(out))
    assert result.code == 0
    not_characterized = {line.split(": ")[1] for line in result.out.splitlines()
                     if ": not characterized: " in line}
    rules = sorted(str(p) for p in out.glob("*.rules.yml"))
    tests = sorted(str(p) for p in out.glob("*.test.yml"))
    from promcontract.testgen import mutate

    report = mutate.run(rules, tests, operators=characterize.PINNED)
    for alert in report.alerts:
        alive = [o for o in alert.outcomes if o.state in ("survived", "untested", "invalid")]
        if alert.rule.name in not_characterized:
            continue  # reported as not characterized
        assert not alive, (alert.rule.name, [o.mutation.diff for o in alive])


def test_bad_arguments_are_one_line(cli, tmp_path) -> None:
    tpl = _template(tmp_path, services=1)
    result = cli("characterize", "--tpl", str(tpl), "-o", str(tmp_path / "x"), "--group",
                 "Nope")
    assert result.code == 2 and "no alert group named 'Nope'" in result.err
    assert len(result.err_lines) == 1
    (tmp_path / "file").write_text("x")
    result = cli("characterize", "--tpl", str(tpl), "-o", str(tmp_path / "file"))
    assert result.code == 2 and "not a directory" in result.err
    result = cli("characterize", "--tpl", str(tmp_path / "missing.tpl"), "-o", "x")
    assert result.code == 2 and "missing.tpl" in result.err


@pytest.mark.parametrize("text, seconds", [
    ("0s", 0), ("11m", 660), ("1h2m3s", 3723), ("32d11m", 32 * 86400 + 660),
    ("1w2d", 9 * 86400), ("1y", 365 * 86400), ("1m30.5s", 90.5), ("500ms", 0.5),
])
def test_promtool_eval_times_of_any_size_are_read(text: str, seconds: float) -> None:
    """promtool prints eval times as Prometheus durations: 32d11m was read as 11m."""
    assert characterize._go_duration(text) == seconds


@pytest.mark.integration
def test_a_day_scale_eval_time_from_promtool_round_trips(tmp_path, promtool_bin) -> None:
    (tmp_path / "r.yml").write_text("groups:\n- name: g\n  rules:\n  - alert: A\n"
                                    "    expr: vector(1)\n")
    (tmp_path / "t.yml").write_text(
        "rule_files: [r.yml]\nevaluation_interval: 1m\ntests:\n- interval: 1m\n"
        "  input_series: []\n  alert_rule_test:\n  - eval_time: 2d11m\n    alertname: A\n"
        "    exp_alerts: []\n")
    # read back as characterize reads every recorded file (promtool 3 names failures in
    # its --junit report only)
    found, problems = promtool.test_many([(str(tmp_path / "t.yml"), 1.0)], 1, str(tmp_path))
    assert problems == []
    [mismatch] = found[str(tmp_path / "t.yml")].mismatches
    assert characterize._go_duration(mismatch.time) == 2 * 86400 + 660


_RATIO_AND_FLOOR = """\
serverFiles:
  alerting_rules.yml:
    groups:
      - name: API
        rules:
          - alert: ApiErrorsHigh
            expr: EXPR
            for: 10m
          - alert: ApiDown
            expr: up{job="api"} == 0
            for: 5m
""".replace("EXPR", 'sum(rate(http_errors_total{job="api"}[5m])) / sum(rate('
            'http_requests_total{job="api"}[5m])) > 0.05 and sum(rate(http_requests_total'
            '{job="api"}[5m])) > 1')


@pytest.mark.integration
def test_a_ratio_with_a_traffic_floor_is_driven(cli, tmp_path, promtool_bin) -> None:
    """`errors / requests > N and requests > floor` crashed the whole run (IndexError), then
    was listed as "two parts of the expression read the same series": the floor holds the
    denominator at its own value and the ratio's numerator is held in proportion, so both
    comparisons are driven and pinned."""
    tpl = tmp_path / "values.tpl"
    tpl.write_text(_RATIO_AND_FLOOR)
    result = cli("characterize", "--tpl", str(tpl), "-o", str(tmp_path / "out"))
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    assert "characterized 2/2 alerts" in result.out, result.out
    text = (tmp_path / "out" / "api.test.yml").read_text()
    assert re.search(r"# ApiErrorsHigh: sum \(rate\(http_errors_total.*: just above "
                     r"\(0\.05\d*\): firing from \d+m", text), text
    assert re.search(r"# ApiErrorsHigh: sum \(rate\(http_requests_total.*> 1: just above "
                     r"\(1\.001\): firing from \d+m", text), text


@pytest.mark.integration
def test_check_fails_when_a_recorded_file_fails_promtool(cli, tmp_path, promtool_bin,
                                                          monkeypatch) -> None:
    """Up to date is not enough: files recorded wrong (as 32d11m read as 11m once wrote them)
    matched what characterize produced, and --check said ok while promtool failed them."""
    tpl = tmp_path / "values.tpl"
    tpl.write_text(_RATIO_AND_FLOOR)
    out = tmp_path / "out"
    real = characterize.test_file_text

    def recorded_wrong(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return real(*args, **kwargs).replace(
            "      exp_alerts: []\n", "      exp_alerts:\n      - exp_labels: {bogus: x}\n", 1)

    monkeypatch.setattr(characterize, "test_file_text", recorded_wrong)
    assert cli("characterize", "--tpl", str(tpl), "-o", str(out)).code == 0
    check = cli("characterize", "--tpl", str(tpl), "-o", str(out), "--check")
    assert check.code == 1, check.out
    assert re.search(rf"failed: {re.escape(str(out / 'api.test.yml'))}: \w+ at 0s: expected "
                     r"\[\{alertname='\w+', bogus='x'\}\], got none", check.out), check.out
    monkeypatch.setattr(characterize, "test_file_text", real)
    assert cli("characterize", "--tpl", str(tpl), "-o", str(out)).code == 0
    again = cli("characterize", "--tpl", str(tpl), "-o", str(out), "--check")
    assert again.code == 0 and "pass promtool test rules" in again.out


def test_a_group_with_empty_rules_is_skipped(cli, tmp_path) -> None:
    """`rules:` with nothing under it (a real exporter's file has one): exit 2 naming a temp
    file before; now there is simply nothing to record for it."""
    tpl = tmp_path / "values.tpl"
    tpl.write_text("serverFiles:\n  alerting_rules.yml:\n    groups:\n    - name: Empty\n"
                   "      rules:\n")
    result = cli("characterize", "--tpl", str(tpl), "-o", str(tmp_path / "out"))
    assert result.code == 0, result.err
    assert "characterized 0/0 alerts" in result.out


_LONG = """\
groups:
  - name: Backups
    rules:
      - alert: CpuLowForAWeek
        expr: sum by (pod) (rate(cpu_seconds_total{job="backup"}[5m])) < 0.2
        for: 7d
      - alert: BackupMissing
        expr: time() - backup_last_success_timestamp_seconds{job="backup"} > 3600
        for: 5m
      - alert: ArchiveOld
        expr: time() - archive_last_success_timestamp_seconds{job="backup"} > 86400
        for: 32d
      - alert: CpuIdleWeek
        expr: rate(node_cpu_seconds_total{job="backup", mode="idle"}[1w]) > 0.9
        for: 1d
"""


def test_interval_steps() -> None:
    """One minute while it fits; coarser while for: and keep_firing_for stay whole steps
    (samples stay a minute apart, so a range of any length keeps its samples)."""
    assert characterize.intervals(300, 0, [])[0] == 60
    assert characterize.intervals(32 * 86400, 0, [])[0] == 10800  # the first that fits
    assert characterize.intervals(86400, 0, [7 * 86400])[0] == 3600
    # a [1w] range needs samples 5m apart (promtool refuses ~10,000 in one query)
    assert characterize.intervals(86400, 0, [7 * 86400]) == (3600, 300)
    assert characterize.intervals(86400 + 60, 0, [300]) == (60, 60)  # 1d1m: whole minutes
    assert characterize.intervals(32 * 86400, 0, [600])[0] == 10800
    assert characterize.intervals(7 * 86400, 1800, [300])[0] == 1800  # keep 30m: whole


@pytest.mark.integration
def test_long_alerts_get_their_own_files_and_interval(cli, tmp_path, promtool_bin) -> None:
    """`for: 32d` and a `[1w]` range once forced ~46,000 one-minute steps on every rule of
    the group's file (10 minutes and gigabytes in promtool); each now runs alone at an
    interval that keeps its for: whole, and the group's file stays at one minute."""
    rules = tmp_path / "backups.yml"
    rules.write_text(_LONG)
    out = tmp_path / "out"
    result = cli("characterize", "--rules", str(rules), "-o", str(out))
    assert result.code == 0, result.err
    assert "characterized 4/4 alerts" in result.out, result.out
    names = sorted(p.name for p in out.iterdir())
    assert names == ["backups--archiveold.rules.yml", "backups--archiveold.test.yml",
                     "backups--cpuidleweek.rules.yml", "backups--cpuidleweek.test.yml",
                     "backups--cpulowforaweek.rules.yml", "backups--cpulowforaweek.test.yml",
                     "backups.rules.yml", "backups.test.yml"]
    # a [5m] rate under for: 7d: evaluations 30m apart, samples still a minute apart
    week = yaml.safe_load((out / "backups--cpulowforaweek.test.yml").read_text())
    assert week["evaluation_interval"] == "30m"
    assert {t["interval"] for t in week["tests"]} == {"1m"}
    alone = yaml.safe_load((out / "backups--archiveold.rules.yml").read_text())
    assert [r["alert"] for r in alone["groups"][0]["rules"]] == ["ArchiveOld"]
    tests = yaml.safe_load((out / "backups--archiveold.test.yml").read_text())
    assert tests["evaluation_interval"] == "3h"
    assert yaml.safe_load((out / "backups.test.yml").read_text())["evaluation_interval"] == "1m"
    # 32 days of firing recorded at day scale, read back right, and every file passes
    assert "ArchiveOld: time() - archive_last_success_timestamp_seconds > 86400: just above" \
        in (out / "backups--archiveold.test.yml").read_text().replace("{job=\"backup\"}", "")
    check = cli("characterize", "--rules", str(rules), "-o", str(out), "--check")
    assert check.code == 0, check.out


_THREE = """\
groups:
  - name: Queue
    rules:
      - alert: QueueDeep
        expr: queue_depth{job="q"} > 100
        for: 5m
  - name: Disk
    rules:
      - alert: DiskFull
        expr: disk_used_ratio{job="d"} > 0.9
  - name: Queue
    rules:
      - alert: QueueStuck
        expr: queue_oldest_seconds{job="q"} > 600
"""


@pytest.mark.integration
def test_shards_write_disjoint_files_whose_union_is_the_whole_run(cli, tmp_path,
                                                                  promtool_bin) -> None:
    rules = tmp_path / "three.yml"
    rules.write_text(_THREE)
    whole, first, second = tmp_path / "whole", tmp_path / "s1", tmp_path / "s2"
    assert cli("characterize", "--rules", str(rules), "-o", str(whole), "--jobs", "1").code == 0
    one = cli("characterize", "--rules", str(rules), "-o", str(first), "--shard", "1/2")
    two = cli("characterize", "--rules", str(rules), "-o", str(second), "--shard", "2/2")
    assert one.code == 0 and two.code == 0, one.err + two.err
    a = {p.name: p.read_text() for p in first.iterdir()}
    b = {p.name: p.read_text() for p in second.iterdir()}
    assert a and b and not set(a) & set(b)
    assert {**a, **b} == {p.name: p.read_text() for p in whole.iterdir()}
    # the two groups named Queue keep the names the whole run gives them
    assert sorted(a) == ["queue-2.rules.yml", "queue-2.test.yml", "queue.rules.yml",
                         "queue.test.yml"]
    # a shard written into the whole run's directory removes nothing of the other's
    again = cli("characterize", "--rules", str(rules), "-o", str(whole), "--shard", "2/2")
    assert again.code == 0 and "removed:" not in again.err
    assert cli("characterize", "--rules", str(rules), "-o", str(whole), "--check").code == 0


@pytest.mark.integration
def test_an_or_vector_default_is_driven_through(cli, tmp_path, promtool_bin) -> None:
    """`(x or on() vector(0)) > 5` ("the compared side holds a 'or'" before): x is driven,
    its missing scenarios record the default, and a default moved by one that still fails
    the comparison is equivalent (it never fires either way)."""
    result = _characterize(
        cli, tmp_path, "or.yml",
        "groups:\n- name: O\n  rules:\n  - alert: ErrorsHigh\n"
        "    expr: (sum(rate(errors_total{job=\"a\"}[5m])) or on() vector(0)) > 5\n"
        "    for: 5m\n")
    assert "characterized 1/1 alerts" in result.out, result.out
    text = (tmp_path / "out" / "o.test.yml").read_text()
    assert "firing, then the series goes missing: firing from 9m to 13m" in text


@pytest.mark.integration
def test_a_group_too_costly_for_one_file_is_cut_into_parts(cli, tmp_path, promtool_bin,
                                                           monkeypatch) -> None:
    """A 60-alert group wrote one file of 280 scenarios that took promtool 92 s (every rule
    of the group evaluated at every step of every scenario); over FILE_BUDGET its alerts go
    into parts with rule files of their own, each a fraction of the cost."""
    rules = tmp_path / "many.yml"
    rules.write_text("groups:\n- name: Many\n  rules:\n" + "".join(
        f"  - alert: Queue{i}Deep\n    expr: queue_depth{{job=\"q\", queue=\"{i}\"}} > {i + 1}\n"
        f"    for: 2m\n" for i in range(6)) + "  - record: q:sum\n    expr: sum(queue_depth)\n")
    out = tmp_path / "out"
    monkeypatch.setattr(characterize, "FILE_BUDGET", 1500)
    result = cli("characterize", "--rules", str(rules), "-o", str(out))
    assert "characterized 6/6 alerts" in result.out, result.out
    tests = sorted(p.name for p in out.glob("*.test.yml"))
    assert tests == ["many--part-2.test.yml", "many.test.yml"]
    seen = []
    for path in out.glob("*.rules.yml"):
        group = yaml.safe_load(path.read_text())["groups"][0]
        alerts = [r["alert"] for r in group["rules"] if "alert" in r]
        assert [r["record"] for r in group["rules"] if "record" in r] == ["q:sum"]
        seen += alerts
        body = (out / path.name.replace(".rules.yml", ".test.yml")).read_text()
        assert {m for m in re.findall(r"alertname: (\w+)", body)} == set(alerts)
        assert 0 < len(alerts) < 6
    assert sorted(seen) == [f"Queue{i}Deep" for i in range(6)]
    check = cli("characterize", "--rules", str(rules), "-o", str(out), "--check")
    assert check.code == 0, check.out


@pytest.mark.integration
def test_an_alert_no_input_fires_is_a_finding_not_a_recording(cli, tmp_path,
                                                              promtool_bin) -> None:
    """`... and on(pod) max by (node) (...)`: the right side never carries pod, so nothing
    ever joins; recording it as "just above: not firing" misstated the alert."""
    result = _characterize(
        cli, tmp_path, "never.yml",
        "groups:\n- name: N\n  rules:\n  - alert: NeverJoins\n"
        "    expr: errors_total{job=\"a\"} > 5 and on(pod) max by (node) "
        "(up{job=\"a\"})\n  - alert: Fine\n    expr: errors_total{job=\"a\"} > 5\n")
    assert re.search(r"never\.yml:4: NeverJoins: not characterized: never fires: none of its "
                     r"\d+ scenarios .* makes it fire", result.out), result.out
    assert "characterized 1/2 alerts" in result.out


@pytest.mark.integration
def test_parts_keep_every_definition_of_a_name_together(cli, tmp_path, promtool_bin,
                                                         monkeypatch) -> None:
    """Severity tiers (one name defined twice) kept a whole kube-prometheus group in one file
    that took promtool 23 s; now the group is cut, each name's definitions in one part."""
    rules = tmp_path / "tiers.yml"
    rules.write_text("groups:\n- name: Tiers\n  rules:\n" + "".join(
        f"  - alert: Disk{i}Full\n    expr: disk_used{{job=\"d\", disk=\"{i}\"}} > {i + 80}\n"
        f"    labels: {{severity: warning}}\n" for i in range(4)) +
        "  - alert: Disk0Full\n    expr: disk_used{job=\"d\", disk=\"0\"} > 95\n"
        "    labels: {severity: critical}\n")
    out = tmp_path / "out"
    monkeypatch.setattr(characterize, "FILE_BUDGET", 1000)
    result = cli("characterize", "--rules", str(rules), "-o", str(out))
    assert result.code == 0, result.err
    parts = sorted(out.glob("*.rules.yml"))
    assert len(parts) >= 2
    for path in parts:
        names = [r["alert"] for r in yaml.safe_load(path.read_text())["groups"][0]["rules"]]
        if "Disk0Full" in names:
            assert names.count("Disk0Full") == 2
    check = cli("characterize", "--rules", str(rules), "-o", str(out), "--check")
    assert check.code == 0, check.out


_ONCE_REFUSED = """\
groups:
  - name: Shapes
    rules:
      - alert: RestartsBurst
        expr: increase(restarts_total[5m]) > 3
      - alert: LeaderChanges
        expr: increase(leader_changes_total[10m]) > 2
        for: 5m
      - alert: FilesLow
        expr: node_filesystem_files_free / node_filesystem_files < 0.1 and node_filesystem_files > 0
      - alert: WorkersShort
        expr: puma_running_workers < puma_workers
        for: 5m
      - alert: ReplicasMismatch
        expr: kube_deployment_spec_replicas != kube_deployment_status_replicas_available
      - alert: ServerErrors
        expr: >-
          sum by (backend) (rate(http_responses_total{code="5xx"}[5m]))
          / sum by (backend) (rate(http_responses_total[5m])) * 100 > 5
      - alert: IpsUsed
        expr: sum (ipam_ips{type!="available"}) / sum (ipam_ips) > 0.9
      - alert: NotHealthChecks
        expr: >-
          sum (rate(req_total{path!~"/health|/ready"}[5m])) / sum (rate(req_total[5m])) > 0.5
      - alert: FailedShare
        expr: >-
          sum by (method) (rate(failed_total[2m])) / sum by (method) (rate(received_total[2m]))
          > 0.01
"""


def test_shapes_once_refused_are_pinned(cli, tmp_path, promtool_bin) -> None:
    """increase() compared with a literal (its 'at' case spaced so the value lands exactly on
    it), a ratio guarded by its own denominator (driven across 0), two series compared, an
    error ratio whose total counts the errors too (the rest held outside the errors'
    selector), a 0.01 ratio (its denominator held where the numerator is whole): each
    characterized (every mutant killed, > vs >= included) and the files pass promtool."""
    result = _characterize(cli, tmp_path, "shapes.yml", _ONCE_REFUSED)
    assert "characterized 9/9 alerts" in result.out, result.out
    text = (tmp_path / "out" / "shapes.test.yml").read_text()
    assert "RestartsBurst: increase(restarts_total[5m]) > 3: at (3, samples 2m30s apart)" in text
    assert "held true (its denominator near 0" not in text  # the why is not a title
    check = cli("characterize", "--rules", str(tmp_path / "shapes.yml"), "-o",
                str(tmp_path / "out"), "--check")
    assert check.code == 0, check.out


def test_a_range_of_one_sample_is_planned(cli, tmp_path, promtool_bin) -> None:
    """rate() over [1m] at one-minute samples: the exact 'at' spacing once divided by zero
    here ("could not be planned"). Prometheus 2 sees two samples in [t - 1m, t] and the alert
    is characterized; Prometheus 3's (t - 1m, t] holds one, and it never fires: either is an
    answer, a crash is not."""
    result = _characterize(
        cli, tmp_path, "one.yml",
        "groups:\n- name: One\n  rules:\n  - alert: TimeoutsOverOneSample\n"
        "    expr: rate(timeouts_total[1m]) > 0.5\n")
    assert "could not be planned" not in result.out
    assert "characterized 1/1 alerts" in result.out or "never fires" in result.out, result.out

@pytest.mark.integration
@pytest.mark.timeout(120)
def test_a_terminated_run_leaves_no_promtool_running(tmp_path, promtool_bin) -> None:
    """SIGTERM (or Ctrl-C) while promtool runs in worker threads: the command says
    "interrupted", exits 130, and every promtool it started is gone (they run in sessions
    of their own, so nothing else would end them)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    rules = tmp_path / "many.yml"
    rules.write_text("groups:\n- name: Many\n  rules:\n" + "".join(
        f"  - alert: A{i}\n    expr: rate(x{i}_total[5m]) / rate(y{i}_total[5m]) > 0.{i + 1}\n"
        f"    for: {i + 1}m\n" for i in range(60)))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    # the real promtool behind a wrapper whose test runs (in worker threads) first take their
    # time: a run that outlives the command (nothing kills it) holds the exit for 100 s
    slow = scratch / "promtool"
    slow.write_text(f"#!/bin/sh\n[ \"$1\" = test ] && sleep 100\nexec {promtool_bin} \"$@\"\n")
    slow.chmod(0o755)
    env = dict(os.environ, TMPDIR=str(scratch), PROMTOOL=str(slow))

    def ours() -> list[int]:
        found = []
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    line = handle.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "promtool" in line and str(scratch) in line:
                found.append(int(pid))
        return found

    proc = subprocess.Popen([sys.executable, "-m", "promcontract", "characterize", "--rules",
                             str(rules), "-o", str(tmp_path / "out")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ours() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert ours(), "promtool never started"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)  # not the wrapper's 100 s
    finally:
        proc.kill()
        for pid in ours():
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 130, (proc.returncode, err[-500:])
    assert "interrupted" in err
    time.sleep(0.5)
    assert ours() == []


@pytest.mark.integration
def test_each_definition_of_a_name_gets_its_own_scenarios(cli, tmp_path, promtool_bin) -> None:
    """Severity tiers: one name, a warning at 80 and a critical at 95. Each definition's
    thresholds are driven and recorded (both fire in the recordings where both hold), and
    each one's mutants are checked against all of the name's tests: both characterized
    (once, the second was listed as not characterized, its tests the first's)."""
    result = _characterize(
        cli, tmp_path, "tiers.yml",
        "groups:\n- name: Tiers\n  rules:\n"
        "  - alert: DiskFull\n    expr: disk_used{job=\"d\"} > 80\n"
        "    for: 5m\n    labels: {severity: warning}\n"
        "  - alert: DiskFull\n    expr: disk_used{job=\"d\"} > 95\n"
        "    for: 2m\n    labels: {severity: critical}\n")
    assert "characterized 2/2 alerts" in result.out, result.out
    (tests,) = (tmp_path / "out").glob("*.test.yml")
    text = tests.read_text()
    assert 'DiskFull: disk_used{job="d"} > 95: just above (95.095): firing from 2m' in text
    assert 'DiskFull: disk_used{job="d"} > 95: just below (94.905): firing from 5m' in text
    check = cli("characterize", "--rules", str(tmp_path / "tiers.yml"), "-o",
                str(tmp_path / "out"), "--check")
    assert check.code == 0, check.out


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_negative_matchers_that_let_little_or_nothing_through_never_hang(cli, tmp_path,
                                                                         promtool_bin) -> None:
    """`!~".*"` lets no value through and `!~".+"` only the missing label: looking for a
    value by lengthening "a" once never ended (a kube-prometheus alert hung characterize).
    Now the first is a reason, the second is driven with the label left out."""
    result = _characterize(
        cli, tmp_path, "neg.yml",
        "groups:\n- name: Neg\n  rules:\n"
        "  - alert: Nothing\n    expr: x{integration!~\".*\"} > 1\n"
        "  - alert: Unlabelled\n    expr: y{integration!~\".+\"} > 1\n")
    assert re.search(r"Nothing: not characterized: .*no label value gets past "
                     r"integration!~'\.\*'", result.out), result.out
    assert "characterized 1/2 alerts" in result.out, result.out
