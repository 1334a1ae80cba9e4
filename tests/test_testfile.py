"""Derived promtool tests, the oracle, and the mutation check."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from promcontract.kinds import series
from promcontract.render import group
from promcontract.runners import promtool
from promcontract.testgen import mutate, oracle, promtemplate, testfile
from promcontract.testgen import scenarios as derive
from promcontract.testgen.oracle import STALE, STEP, Scenario, Series

GENERATED = ROOT / "rules" / "generated"


def _alert(contract, name):
    return next(a for a in contract.alerts if a.name == name)


def _changed(alert, change: dict):
    """The alert with fields changed: the kind's own (threshold) and the common ones (for:)."""
    own = {k: v for k, v in change.items() if hasattr(alert.spec, k)}
    common = {k: v for k, v in change.items() if k not in own}
    return dataclasses.replace(alert.replace_spec(**own) if own else alert, **common)


LABELS = (("instance", ""), ("job", "drift-detection"))


# --- oracle, pure ---------------------------------------------------------------------------

def test_instant_honours_lookback_and_stale() -> None:
    s = Series("m", LABELS, (1.0, None, None, None, None, None, None, 2.0, STALE))
    assert oracle.instant(s, 0) == 1.0
    assert oracle.instant(s, 5 * STEP) == 1.0  # exactly 5m old still counts (promtool 2.42)
    with oracle.lookback_semantics(closed=False):
        assert oracle.instant(s, 5 * STEP) is None  # but not on 3.x: left-open window
        assert oracle.instant(s, 4 * STEP) == 1.0
    assert oracle.instant(s, 6 * STEP) is None  # older than the lookback
    assert oracle.instant(s, 7 * STEP) == 2.0
    assert oracle.instant(s, 8 * STEP) is None  # stale marker
    assert oracle.instant(s, 20 * STEP) is None


def test_for_boundary(drift_contract) -> None:
    alert = _alert(drift_contract, "DriftStacksMany")  # > 10 for 30m
    s = Scenario(alert.name, "t", (Series("drift_stack_count", LABELS, (11.0,) * 40),))
    line = oracle.timeline(alert, drift_contract, s, 39 * STEP)
    assert line[29 * STEP] == {} and line[30 * STEP] != {}


def test_value_at_threshold_does_not_fire(drift_contract) -> None:
    alert = _alert(drift_contract, "DriftStacksMany")
    s = Scenario(alert.name, "t", (Series("drift_stack_count", LABELS, (10.0,) * 40),))
    assert all(not v for v in oracle.timeline(alert, drift_contract, s, 39 * STEP).values())


def test_remembered_timelines_are_the_ones_computed(drift_contract) -> None:
    """The oracle keeps what it computed per (alert, contract, scenario) and reading: a
    shorter run is served from a longer one, a longer one is computed again, each reading
    (2.x, 3.x) has its own, and another alert is not served the first one's states."""
    alert = _alert(drift_contract, "DriftStacksMany")  # > 10 for 30m
    s = Scenario(alert.name, "t", (Series("drift_stack_count", LABELS, (11.0,) * 36),))
    untils = (45 * STEP, 20 * STEP, 60 * STEP, 45 * STEP)

    def alone(closed, until):
        oracle._cache.clear()
        with oracle.lookback_semantics(closed):
            return oracle.timeline(alert, drift_contract, s, until)

    want = {(closed, until): alone(closed, until) for closed in (True, False)
            for until in untils}
    # the readings differ once the last sample (35m) is exactly 5m old: a mix-up shows
    assert want[(True, 60 * STEP)] != want[(False, 60 * STEP)]
    oracle._cache.clear()
    for closed in (True, False, True):
        for until in untils:
            with oracle.lookback_semantics(closed):
                got = oracle.timeline(alert, drift_contract, s, until)
            assert got == want[(closed, until)]
            assert sorted(got) == list(range(0, until + 1, STEP))
    times = oracle.choose_eval_times(alert, drift_contract, s)
    slower = _changed(alert, {"for_": "40m", "for_seconds": 2400.0})
    assert oracle.timeline(slower, drift_contract, s, 60 * STEP)[35 * STEP] == {}
    assert oracle.timeline(alert, drift_contract, s, 60 * STEP)[35 * STEP] != {}
    assert oracle.choose_eval_times(slower, drift_contract, s) != times
    oracle._cache.clear()
    assert oracle.choose_eval_times(alert, drift_contract, s) == times


def test_heartbeat_absent_fires_with_job_label(drift_contract) -> None:
    alert = _alert(drift_contract, "DriftDetectionStale")
    s = Scenario(alert.name, "t", (Series("other", LABELS, (0.0,) * 40),))
    line = oracle.timeline(alert, drift_contract, s, 39 * STEP)
    # the absent branch says so in a label, so its annotations can say "never reported"
    assert list(line[30 * STEP]) == [(("absent", "true"), ("job", "drift-detection"))]


@pytest.mark.parametrize("value,text", [(95460, "1d 2h 31m 0s"), (3600, "1h 0m 0s"),
                                        (61, "1m 1s"), (5.5, "5.5s"), (0.5, "500ms"),
                                        (0, "0s")])
def test_humanize_duration(value, text) -> None:
    assert promtemplate.humanize_duration(value) == text


def test_unsupported_template_is_not_derivable(drift_contract) -> None:
    alert = dataclasses.replace(_alert(drift_contract, "DriftStacksMany"),
                                summary="{{ $value | title }}")
    contract = dataclasses.replace(drift_contract, alerts=(alert,))
    scenarios, not_derivable = derive.derive(contract)
    assert scenarios == []
    assert not_derivable == ["alert DriftStacksMany: annotation: template function 'title' "
                             "is not supported"]


def test_raw_expression_alert_is_reported_not_derivable(drift_contract, cli, workspace) -> None:
    contract = workspace / "rules" / "drift.contract.yaml"
    text = contract.read_text().replace(
        "    kind: value_above\n    metric: drift_stack_count\n    threshold: 10\n",
        "    kind: expr\n    expr: sum(drift_stack_count) > 10\n", 1)
    contract.write_text(text)
    result = cli("render")
    assert result.code == 0
    assert ("rules/drift.contract.yaml: not derivable: alert DriftStacksMany: kind expr (raw "
            "expression) is not derivable") in result.err
    test_text = (workspace / "rules" / "generated" / "drift.test.yml").read_text()
    assert "alertname: DriftStacksMany" not in test_text
    assert "alertname: DriftStackErrored" in test_text


# --- against promtool ---------------------------------------------------------------------------

@pytest.mark.integration
def test_derived_tests_pass_promtool(promtool_bin) -> None:
    result = promtool.test_rules(str(GENERATED / "drift.test.yml"))
    assert result.returncode == 0, result.output
    text = (GENERATED / "drift.test.yml").read_text()
    import yaml

    data = yaml.safe_load(text)  # only fields promtool 2.42 knows (3.x knows them too)
    assert set(data) <= {"rule_files", "evaluation_interval", "tests"}
    for test_group in data["tests"]:
        assert set(test_group) <= {"interval", "input_series", "alert_rule_test"}
        for case in test_group["alert_rule_test"]:
            assert set(case) <= {"eval_time", "alertname", "exp_alerts"}
    for alert in ("DriftDetectionStale", "DriftUnaddressed", "DriftStacksMany",
                  "DriftStackErrored"):
        assert f"alertname: {alert}" in text
    assert "stack: old" in text and "exp_annotations" in text


@pytest.mark.parametrize("name, change", [
    ("DriftStacksMany", {"threshold": 10.5, "threshold_text": "10.5"}),  # integral metric
    ("DriftStackErrored", {"threshold": 0.5, "threshold_text": "0.5"}),
    ("DriftUnaddressed", {"threshold": 90.0, "threshold_text": "90s"}),  # finer than a step
    ("DriftDetectionStale", {"threshold": 93601.0, "threshold_text": "93601s"}),
    ("DriftStacksMany", {"for_seconds": 45.0, "for_": "45s"}),  # not a whole step
    ("DriftDetectionStale", {"for_seconds": 90.0, "for_": "90s"}),
    ("DriftUnaddressed", {"for_seconds": 0.0, "for_": "0s"}),
])
def test_mutants_of_unusual_values_are_killed(drift_contract, promtool_bin, name,
                                              change) -> None:
    """Thresholds between the values an integral metric takes, time thresholds and for:
    written finer than the 1m evaluation step: the derived tests still pin them (a for: is
    moved by one evaluation step, the least difference any test can see)."""
    contract = dataclasses.replace(drift_contract, alerts=tuple(
        _changed(a, change) if a.name == name else a
        for a in drift_contract.alerts))
    single = derive.single_alert(contract, name)
    scenarios, _ = derive.derive(single)
    text = testfile.test_file(single, "one.rules.yml", scenarios)
    report = mutate.run_texts(group.render_rule_file(single), "one.rules.yml", text,
                              mutate.contract_hints(single))  # the unchanged rules pass first
    (result,) = report.alerts
    assert result.status == "clean", [(o.state, o.mutation.diff) for o in result.outcomes]
    assert result.total >= 3
    if "for_" in change:
        moved = {o.mutation.after: o.state for o in result.outcomes
                 if o.mutation.operator == "for"}
        # by one evaluation step both ways; finer moves are listed as equivalent, not run
        assert sum(state == "killed" for state in moved.values()) >= 1
        assert all(state in ("killed", "equivalent") for state in moved.values())


def test_mutate_refuses_tests_that_fail_on_the_unchanged_rules(drift_contract, workspace,
                                                                cli, promtool_bin) -> None:
    """Otherwise every mutant would count as killed: a broken test file would pass."""
    single = derive.single_alert(drift_contract, "DriftStacksMany")
    scenarios, _ = derive.derive(single)
    wrong = dataclasses.replace(single, alerts=tuple(
        a.replace_spec(threshold=12.0) for a in single.alerts))
    text = testfile.test_file(wrong, "one.rules.yml", scenarios)  # expectations for > 12
    report = mutate.run_texts(group.render_rule_file(single), "one.rules.yml", text)
    (result,) = report.alerts
    assert result.status == "baseline-failed" and result.outcomes == []
    test_file = workspace / "rules" / "generated" / "drift.test.yml"
    test_file.write_text(test_file.read_text().replace("severity: warning",
                                                       "severity: critical", 1))
    result = cli("mutate", "--contract", "rules/drift.contract.yaml")
    assert result.code == 1
    assert "tests fail on the unchanged rules" in result.err
    assert "mutants killed" not in result.out


@pytest.mark.integration
def test_stale_test_file_fails_check(workspace: Path, cli, promtool_bin) -> None:
    path = workspace / "rules" / "generated" / "drift.test.yml"
    text = path.read_text()
    changed = re.sub(r"values: 11\+0x(\d+)", r"values: 12+0x\1", text, count=1)
    assert changed != text
    path.write_text(changed)
    result = cli("render", "--check")
    assert result.code == 1
    assert "rules/generated/drift.test.yml: out of date" in result.err


def test_invariant_alert_oracle_heartbeat_only(drift_contract) -> None:
    alert = _alert(drift_contract, "DriftHeartbeatOnly")
    only = Scenario(alert.name, "t", (Series("drift_detection_last_run_timestamp", LABELS,
                                             (1000.0,) * 20),))
    line = oracle.timeline(alert, drift_contract, only, 19 * STEP)
    assert line[9 * STEP] == {} and list(line[10 * STEP]) == [(("job", "drift-detection"),)]
    both = dataclasses.replace(only, series=only.series + (
        Series("drift_stack_count", LABELS, (0.0,) * 20),))
    assert all(not v for v in oracle.timeline(alert, drift_contract, both, 19 * STEP).values())


def test_invariant_alert_oracle_names_the_stack(drift_contract) -> None:
    alert = _alert(drift_contract, "DriftFirstSeenMissing")
    a = LABELS + (("stack", "a"),)
    b = LABELS + (("stack", "b"),)
    s = Scenario(alert.name, "t", (Series("drift_stack_state", a, (1.0,) * 15),
                                   Series("drift_stack_state", b, (1.0,) * 15),
                                   Series("drift_stack_first_seen", a, (5.0,) * 15)))
    assert list(oracle.timeline(alert, drift_contract, s, 14 * STEP)[10 * STEP]) == [b]


@pytest.mark.integration
def test_hand_written_cases_of_a_raw_expression_are_run(workspace, cli, promtool_bin) -> None:
    contract = workspace / "rules" / "drift.contract.yaml"
    raw = ("    kind: expr\n    expr: sum by (job) (drift_stack_count) > 10\n"
           "    output_labels: [job]\n"
           "    cases:\n"
           "      - input_series:\n"
           "          - series: 'drift_stack_count{job=\"drift-detection\"}'\n"
           "            values: '12+0x40'\n"
           "        alert_rule_test:\n"
           "          - eval_time: 29m\n"
           "          - eval_time: 30m\n"
           "            exp_alerts:\n"
           "              - exp_labels: {job: drift-detection, severity: warning}\n"
           "                exp_annotations:\n"
           "                  summary: \"12 stacks drifted in the last run\"\n"
           "                  description: \"%s\"\n")
    text = contract.read_text()
    description = ("Drift in this many stacks at once (12). Look for a systemic cause before "
                   "fixing stacks one by one.")
    text = text.replace("    kind: value_above\n    metric: drift_stack_count\n"
                        "    threshold: 10\n", raw % description, 1)
    contract.write_text(text)
    result = cli("render")
    assert result.code == 0, result.err
    assert "not derivable: alert DriftStacksMany" in result.err
    test_text = (workspace / "rules" / "generated" / "drift.test.yml").read_text()
    assert "# DriftStacksMany: hand-written case 1 (from the contract)" in test_text
    assert promtool.test_rules(str(workspace / "rules" / "generated" / "drift.test.yml")
                               ).returncode == 0
    # A wrong hand-written expectation fails like any other test.
    contract.write_text(text.replace("12 stacks drifted", "13 stacks drifted"))
    assert cli("render").code == 0
    assert promtool.test_rules(str(workspace / "rules" / "generated" / "drift.test.yml")
                               ).returncode != 0


@pytest.mark.parametrize("contract_path", sorted((ROOT / "rules").glob("*.contract.yaml")),
                         ids=lambda p: p.name)
def test_derived_scenarios_do_what_their_titles_say(contract_path) -> None:
    """A scenario titled 'fires' must fire at an eval time, 'quiet' never, 'resolves' must
    fire and then end quiet: otherwise the test file pins less than it claims."""
    from promcontract.contract import load_contract

    contract = load_contract(str(contract_path))
    scenarios, _ = derive.derive(contract)
    assert scenarios
    for scenario in scenarios:
        alert = _alert(contract, scenario.alert)
        results = oracle.expected(alert, contract, scenario)
        firing = [bool(f) for _, f in results]
        title = scenario.title
        if "resolves" in title:
            assert any(firing) and not firing[-1], title
        elif "quiet" in title:
            assert not any(firing), title
        else:
            assert any(firing), title


@settings(max_examples=300)
@given(st.lists(st.sampled_from([None, STALE, 1.0, 2.0]), min_size=1, max_size=20),
       st.integers(0, 30), st.booleans())
def test_instant_table_agrees_with_walking_back(values, step, closed) -> None:
    """The per-step table behind ``instant`` says what the walk back over samples says."""
    s = Series("m", LABELS, tuple(values))
    with oracle.lookback_semantics(closed):
        assert oracle.instant(s, step * STEP) == series.scan(s, step * STEP)


@settings(max_examples=200)
@given(st.lists(st.lists(st.sampled_from([None, STALE, 1.0, 2.0]), min_size=1, max_size=12),
                min_size=1, max_size=3),
       st.lists(st.integers(-2 * STEP, 20 * STEP), min_size=1, max_size=6), st.booleans())
@example([[1.0]], [series.LOOKBACK], True)  # a sample exactly 5m old: the two rules differ
def test_instants_of_many_series_agree_with_the_walk_back(many, times, closed) -> None:
    """The kinds' conditions read every series at once (``instants``, per-step tables looked
    up once per lookback rule); off the step grid and before 0 it walks back. Same answers
    as ``scan`` for each series, whichever lookback rule is in force at each call."""
    chosen = [Series("m", LABELS + (("n", str(i)),), tuple(v)) for i, v in enumerate(many)]
    at = series.instants(chosen)
    for t in times:
        for rule in (closed, not closed):
            with oracle.lookback_semantics(rule):
                assert at(t) == [series.scan(s, t) for s in chosen]


def _version_disagreements(contract) -> list[str]:  # noqa: ANN001
    """Scenarios whose expectations differ between the Prometheus 2.x and 3.x readings at an
    eval time of the derived test group that checks them."""
    scenarios, _ = derive.derive(contract)
    assert scenarios
    out = []
    for shared in testfile.derived_groups(contract, scenarios):
        for scenario in shared.scenarios:  # as the group runs it: every time of the group
            alert = _alert(contract, scenario.alert)
            with oracle.lookback_semantics(closed=True):
                closed = oracle.expected(alert, contract, scenario)
            with oracle.lookback_semantics(closed=False):
                if oracle.expected(alert, contract, scenario) != closed:
                    out.append(scenario.title)
    return out


@pytest.mark.parametrize("name", ["drift", "image-scan", "db-backup"])
def test_derived_tests_hold_on_promtool_2_and_3(name, monkeypatch) -> None:
    """Prometheus 3 no longer counts a sample exactly 5m old and reordered increase()'s
    extrapolation. No derived scenario is checked on such an edge, in its own group or in
    one it shares (a time another scenario of the group needs): the expectations are the
    same under both readings, so one file serves both. Scenarios that would share a group
    otherwise (db-backup's increase scenarios) take separate groups; made to share, the
    check finds the disagreement."""
    from promcontract.contract import load_contract

    contract = load_contract(str(ROOT / "rules" / f"{name}.contract.yaml"))
    assert _version_disagreements(contract) == []
    if name == "db-backup":
        monkeypatch.setattr(testfile, "_versions_agree", lambda *_: True)
        assert _version_disagreements(contract)


def test_a_scenario_on_the_lookback_edge_tells_the_rules_apart(drift_contract) -> None:
    """The comparison above can fail: a sample exactly 5m old at a checked time."""
    alert = _alert(drift_contract, "DriftStacksMany")
    s = Scenario(alert.name, "edge", (Series("drift_stack_count", LABELS, (11.0,) * 36),),
                 (40 * STEP,))
    with oracle.lookback_semantics(closed=True):
        closed = oracle.expected(alert, drift_contract, s)
    with oracle.lookback_semantics(closed=False):
        assert oracle.expected(alert, drift_contract, s) != closed


def test_lookback_rule_follows_the_promtool_version() -> None:
    assert series.version_semantics("2.42.0+ds") == (True, False)
    assert series.version_semantics("2.53.1") == (True, True)
    assert series.version_semantics("3.5.3+ds1") == (False, True)


def test_increase_extrapolates_in_the_order_of_the_version() -> None:
    """The case the property test found on promtool 3.5.3: a counter 1..5 sampled each minute,
    seen 2m after its last sample by increase(...[6h]): 2.42 clamps to the zero point first
    (5.5), 3.x halves the distance to the start first (5.0)."""
    s = Series("m", LABELS, (1.0, 2.0, 3.0, 4.0, 5.0))
    with oracle.lookback_semantics(closed=True):
        assert series.increase_at(s, 6 * STEP, 6 * 3600) == 5.5
    with oracle.lookback_semantics(closed=False):
        assert series.increase_at(s, 6 * STEP, 6 * 3600) == 5.0


@pytest.mark.integration
def test_scenarios_share_groups_only_where_no_other_rule_joins_them(
        drift_contract, promtool_bin, tmp_path, monkeypatch) -> None:
    """An alert that keeps a label has its scenarios share test groups of up to
    SCENARIOS_PER_GROUP, numbered by the label in the alert's order. Drift's gauges are read
    by its invariants' joins (on (job)), which error on series told apart only by that label:
    a group each there. Forced to share, promtool fails the file: what the guard is for."""
    from promcontract.contract import load_contract

    image = load_contract(str(ROOT / "rules" / "image-scan.contract.yaml"))
    scenarios, _ = derive.derive(image)
    groups = [g for g in testfile.derived_groups(image, scenarios)
              if g.scenarios[0].alert == "ImageCriticalVulnerabilities"]
    shared = [g for g in groups if g.label]
    assert shared and all(g.label == series.SCENARIO_LABEL for g in shared)
    assert all(len(g.scenarios) <= testfile.SCENARIOS_PER_GROUP for g in groups)
    numbers = [dict(s.series[0].labels).get(series.SCENARIO_LABEL) for g in groups
               for s in g.scenarios]
    assert numbers[:len(shared[0].scenarios)] == [str(n) for n in
                                                  range(1, len(shared[0].scenarios) + 1)]

    drift_scenarios, _ = derive.derive(drift_contract)
    assert all(g.label is None for g in testfile.derived_groups(drift_contract,
                                                                 drift_scenarios))
    monkeypatch.setattr(testfile, "_alone", lambda *_: True)
    body, _ = testfile.contract_test_file(drift_contract, "drift.rules.yml")
    assert series.SCENARIO_LABEL in body
    (tmp_path / "drift.rules.yml").write_text(group.render_rule_file(drift_contract) + "\n")
    (tmp_path / "drift.test.yml").write_text(body)
    result = promtool.test_rules(str(tmp_path / "drift.test.yml"))
    assert result.returncode != 0 and "many-to-one" in result.output, result.output[-500:]
