"""Property: at every checked time, promtool's verdict equals the oracle's.

One hypothesis example is a list of scenarios checked by one promtool process; scenarios of
alerts whose expression keeps a label are batched into one test group as label-distinguished
series. A failing example shrinks to a single minimal scenario, shown as a promtool test.
"""

from __future__ import annotations

import dataclasses
import os

import pytest
from hypothesis import HealthCheck, given, settings

from conftest import CONTRACT
from promcontract.contract import load_contract
from promcontract.workflows import promcheck
from scenario_strategies import scenarios

pytestmark = pytest.mark.integration
CONTRACT_MODEL = load_contract(str(CONTRACT))
EXAMPLES = int(os.environ.get("PROMCONTRACT_PROPERTY_EXAMPLES", "60"))


@pytest.fixture(scope="module")
def workspace(promtool_bin):
    ws = promcheck.Workspace(CONTRACT_MODEL, templates=False)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def workspace_annotated(promtool_bin):
    ws = promcheck.Workspace(CONTRACT_MODEL)
    yield ws
    ws.close()


SETTINGS = dict(deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(batch=scenarios(CONTRACT_MODEL))
def test_oracle_agrees_with_promtool(workspace, batch) -> None:
    """Firing semantics: labels, thresholds, for:, gaps, stale markers."""
    verdict = workspace.check(batch)
    assert verdict.agrees, ("promtool disagrees with the oracle; the scenario as a promtool "
                            "test:\n" + verdict.report())


@settings(max_examples=max(EXAMPLES // 4, 5), **SETTINGS)
@given(batch=scenarios(CONTRACT_MODEL, max_size=3))
def test_oracle_annotations_agree_with_promtool(workspace_annotated, batch) -> None:
    """The same with the real annotations: humanizeDuration and printf on random values."""
    verdict = workspace_annotated.check(batch)
    assert verdict.agrees, ("promtool disagrees with the oracle; the scenario as a promtool "
                            "test:\n" + verdict.report())


VARIANT = dataclasses.replace(CONTRACT_MODEL, alerts=tuple(
    a.replace_spec(comparison=">=") if a.kind == "value_above" else
    a.replace_spec(when_absent="silent") if a.kind == "heartbeat_stale" else a
    for a in CONTRACT_MODEL.alerts))


@pytest.fixture(scope="module")
def workspace_variant(promtool_bin):
    ws = promcheck.Workspace(VARIANT, templates=False)
    yield ws
    ws.close()


@settings(max_examples=max(EXAMPLES // 4, 5), **SETTINGS)
@given(batch=scenarios(VARIANT))
def test_oracle_agrees_on_the_other_branches(workspace_variant, batch) -> None:
    """The same for the branches the bundled contract does not use: ``>=`` thresholds and a
    heartbeat that stays quiet when its series is absent (when_absent: silent)."""
    verdict = workspace_variant.check(batch)
    assert verdict.agrees, ("promtool disagrees with the oracle; the scenario as a promtool "
                            "test:\n" + verdict.report())


def test_a_wrong_oracle_is_caught() -> None:
    """The check can fail: with the threshold moved in the oracle only, promtool disagrees,
    and the report shows the scenario as a readable promtool test."""
    from promcontract.kinds.series import STEP, Scenario, Series

    alert = next(a for a in CONTRACT_MODEL.alerts if a.kind == "value_above")
    wrong = dataclasses.replace(CONTRACT_MODEL, alerts=tuple(
        a.replace_spec(threshold=a.spec.threshold + 1) if a.name == alert.name else a
        for a in CONTRACT_MODEL.alerts))
    labels = tuple(sorted({**dict(CONTRACT_MODEL.grouping_key), "instance": ""}.items()))
    steps = int(alert.for_seconds // STEP) + 5
    scenario = Scenario(alert.name, "just above the real threshold",
                        (Series(alert.spec.metric, labels, (alert.spec.threshold + 1,) * steps),),
                        ((steps - 1) * STEP,))
    ws = promcheck.Workspace(CONTRACT_MODEL)  # rule files from the real contract
    try:
        assert ws.check([scenario]).agrees
        ws.contract = wrong  # expectations from the wrong oracle
        verdict = ws.check([scenario])
    finally:
        ws.close()
    assert not verdict.agrees
    assert "input_series:" in verdict.report() and alert.name in verdict.output


def test_generated_scenarios_cross_the_for_boundary() -> None:
    """The property test is worth only the states it reaches: for every alert, a good share
    of generated scenarios must have the oracle firing at a checked time (a strategy that
    never holds a value through for: would compare 'not firing' with 'not firing')."""
    from scenario_strategies import derivable, draw_examples, firing_share, scenario_for

    for alert in derivable(CONTRACT_MODEL):
        drawn = draw_examples(scenario_for(alert, CONTRACT_MODEL), 100, seed=20261128)
        assert len(drawn) >= 90
        share = firing_share(alert, CONTRACT_MODEL, drawn)
        assert share >= 0.15, f"{alert.name}: only {share:.0%} of scenarios ever fire"


def test_firing_share_sees_scenarios_that_never_hold() -> None:
    """The floor above can fail: a value that flips every step never outlasts for:."""
    from promcontract.kinds.series import STEP, Scenario, Series
    from scenario_strategies import firing_share

    alert = next(a for a in CONTRACT_MODEL.alerts if a.kind == "value_above")
    labels = tuple(sorted({**dict(CONTRACT_MODEL.grouping_key), "instance": ""}.items()))
    steps = int(alert.for_seconds // STEP) + 5
    times = tuple(t * STEP for t in range(steps))
    flipping = Scenario(alert.name, "flips", (Series(alert.spec.metric, labels, tuple(
        alert.spec.threshold + (1 if i % 2 else -1) for i in range(steps))),), times)
    held = Scenario(alert.name, "held", (Series(alert.spec.metric, labels,
                                                (alert.spec.threshold + 1,) * steps),), times)
    assert firing_share(alert, CONTRACT_MODEL, [flipping] * 3) == 0.0
    assert firing_share(alert, CONTRACT_MODEL, [flipping, held]) == 0.5


# --- the kinds of the backup contract: below, equals, outside, increase, keep_firing_for ------

BACKUP = load_contract(str(CONTRACT.parent / "db-backup.contract.yaml"))


@pytest.fixture(scope="module")
def workspace_backup(promtool_bin):
    ws = promcheck.Workspace(BACKUP, templates=False)
    yield ws
    ws.close()


@settings(max_examples=max(EXAMPLES // 2, 10), **SETTINGS)
@given(batch=scenarios(BACKUP))
def test_oracle_agrees_on_the_backup_kinds(workspace_backup, batch) -> None:
    """value_below (with its absent branch), value_equals, value_outside, increase_below and
    increase_above on counters with resets, keep_firing_for: promtool says what the oracle
    says at every checked time."""
    verdict = workspace_backup.check(batch)
    assert verdict.agrees, ("promtool disagrees with the oracle; the scenario as a promtool "
                            "test:\n" + verdict.report())


@pytest.fixture(scope="module")
def workspace_backup_annotated(promtool_bin):
    ws = promcheck.Workspace(BACKUP)
    yield ws
    ws.close()


@settings(max_examples=max(EXAMPLES // 4, 5), **SETTINGS)
@given(batch=scenarios(BACKUP, max_size=3))
def test_oracle_annotations_agree_on_the_backup_kinds(workspace_backup_annotated, batch) -> None:
    """With the real annotations: increase() values through printf, humanize1024,
    humanizeDuration, and the absent branch's own text."""
    verdict = workspace_backup_annotated.check(batch)
    assert verdict.agrees, ("promtool disagrees with the oracle; the scenario as a promtool "
                            "test:\n" + verdict.report())


def test_backup_scenarios_cross_the_for_boundary() -> None:
    from scenario_strategies import derivable, draw_examples, firing_share, scenario_for

    for alert in derivable(BACKUP):
        drawn = draw_examples(scenario_for(alert, BACKUP), 100, seed=20261128)
        share = firing_share(alert, BACKUP, drawn)
        assert share >= 0.15, f"{alert.name}: only {share:.0%} of scenarios ever fire"
