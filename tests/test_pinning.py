"""Every contract validate accepts gets derived tests that pin it, or validate refuses it in
one line naming the field: a property over drawn contracts (tests/contract_strategies.py),
not over the three bundled ones the engine was first tuned on.

A drawn contract is rendered, its tests derived, and its rule mutated (literals, strictness,
for: and keep_firing_for by a step, range windows, label drops, and/or); every non-equivalent
mutant must be killed. Contracts are judged in batches, one mutate run (a few promtool
processes) per batch. A failure shrinks to the smallest batch, and the contract in it, that
still fails; counterexamples found while building this are kept below as regression cases.
"""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

import contract_strategies as cs

pytestmark = pytest.mark.integration

EXAMPLES = 6  # batches of 34 to 40: >= 204 contracts drawn in make test (counted below)
_seen = {"drawn": 0, "accepted": 0}


def _assert_pinned(verdict: cs.Verdict) -> None:
    assert verdict.holds, "derived tests leave these unpinned:\n" + verdict.describe()
    for _drawn, problems in verdict.refused:
        for line in problems:
            assert "\n" not in line, line
            assert re.search(r":\d+:\d+: .+ \([a-z_.\[\]0-9]+\)$", line), line


@pytest.mark.timeout(900)
def test_every_accepted_contract_is_pinned(promtool_bin) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(cs.batches(40, least=34))
    def check(batch: list[cs.Drawn]) -> None:
        verdict = cs.judge(batch)
        _seen["drawn"] += len(batch)
        _seen["accepted"] += verdict.accepted
        _assert_pinned(verdict)

    check()
    assert _seen["drawn"] >= 200, _seen
    assert _seen["accepted"] >= 120, _seen  # most draws are contracts a user could write


# Counterexamples the property found while it was built, each a contract that validate took
# and whose derived tests let a mutant live (the survivor named beside it).
REGRESSIONS = [
    # 0.995 on [0, 1]: "just above" was 1.005, no value of the metric: nothing ever fired
    ("value_above", {"kind": "range", "min": 0, "max": 1},
     {"threshold": 0.995, "for": "5m"}),
    # min 0: "just below" 0.001 was negative; the free-space alert never fired
    ("value_below", {"kind": "range", "min": 0}, {"threshold": 0.001, "for": "5m"}),
    # >= 3 -> >= 2: the quiet jump of 2 was checked only before its for: could elapse
    ("increase_above", {"kind": "count"},
     {"threshold": 3, "comparison": ">=", "window": "30m", "for": "5m"}),
    # <= 5 -> < 5 and -> <= 4: the jump of 5 changed nothing the tests looked at
    ("increase_below", {"kind": "count"},
     {"threshold": 5, "comparison": "<=", "window": "15m", "for": "5m"}),
    ("increase_below", {"kind": "count"}, {"threshold": 2, "window": "10m", "for": "5m"}),
    # an unlabelled age_above had two series with one label set: its tests failed as written
    ("age_above", {"kind": "unix_seconds"}, {"threshold": "1h", "for": "5m"}),
    # keep_firing_for +- 1m: the heartbeat never came back, so nothing was kept firing
    ("heartbeat_stale", {"kind": "unix_seconds"},
     {"threshold": "10m", "for": "0s", "keep_firing_for": "10m", "when_absent": "fire"}),
    # <= 0 on a 0/1/2 state with keep_firing_for: the firing value was "just below", None
    ("value_below", {"kind": "enum", "values": {0: "ok", 1: "degraded", 2: "failing"}},
     {"threshold": 0, "comparison": "<=", "for": "0s", "keep_firing_for": "1m"}),
    # min 1e-6 on a domain from 0: "just below min" was negative
    ("value_outside", {"kind": "range", "min": 0}, {"min": 1e-06, "max": 1, "for": "1m"}),
]


def _regression(index: int, kind: str, domain: dict, fields: dict) -> cs.Drawn:
    metric = {"name": "prop_value", "type": "counter" if kind.startswith("increase")
              else "gauge", "help": "h", "unit": "count", "domain": domain}
    alert = {"name": "PropAlert", "kind": kind, "metric": "prop_value", "severity": "warning",
             "summary": "s", "rationale": "r", **fields}
    data = {"contract": f"reg-{index}", "group": f"Reg {index}",
            "push": {"grouping_key": {"job": f"reg-{index}"}, "cadence": "1m"},
            "metrics": [metric], "alerts": [alert]}
    return cs.Drawn(yaml.safe_dump(data, sort_keys=False), kind, {"regression": index, **fields})


def test_the_regression_contracts_are_pinned(promtool_bin) -> None:
    batch = [_regression(i, *case) for i, case in enumerate(REGRESSIONS)]
    verdict = cs.judge(batch)
    assert verdict.accepted == len(REGRESSIONS), [str(p) for _, p in verdict.refused]
    _assert_pinned(verdict)


@pytest.mark.parametrize("fields, field, words", [
    ({"kind": "increase_above", "threshold": 0, "comparison": ">=", "window": "10m"},
     "threshold", "never negative, so the alert would always fire"),
    ({"kind": "increase_above", "threshold": 5, "window": "5m", "for": "30m"}, "for",
     "is not at least 2m shorter than the window 5m"),
    ({"kind": "increase_below", "threshold": 5, "window": "10m", "keep_firing_for": "10m"},
     "keep_firing_for", "is not at least 2m shorter than the window 10m"),
    ({"kind": "value_above", "threshold": 1}, "threshold", "would never fire"),
    ({"kind": "increase_above", "threshold": 0.5, "window": "10m"}, "threshold",
     "is not a whole number"),
])
def test_what_cannot_be_pinned_is_refused_in_one_line(fields, field, words) -> None:
    kind = fields["kind"]
    domain = {"kind": "count"} if kind.startswith("increase") else \
        {"kind": "range", "min": 0, "max": 1}
    base = {"for": "5m", **{k: v for k, v in fields.items() if k != "kind"}}
    verdict_batch = [_regression(0, kind, domain, base)]
    verdict = cs.judge(verdict_batch)
    assert verdict.accepted == 0
    [(_, problems)] = verdict.refused
    assert any(words in p and p.endswith(f"(alerts[0].{field})") for p in problems), problems


def test_the_property_fails_when_a_kind_forgets_its_domain(promtool_bin,
                                                             monkeypatch) -> None:
    """The check can fail: value_above choosing "just above" as threshold + 1% without
    looking at the domain (as it once did) has no firing scenario for 0.995 on [0, 1], and
    the property reports the for: and threshold mutants that then survive."""
    from promcontract.kinds import base, value_above

    def weakened(self, alert, contract):  # noqa: ANN001, ANN202
        thr = alert.spec.threshold
        domain = contract.metric(alert.spec.metric).domain
        delta = base.nearby(thr)
        return tuple(v if domain.contains(v) else None for v in (thr - delta, thr, thr + delta))

    monkeypatch.setattr(value_above.ValueAbove, "near_values", weakened)
    batch = [_regression(0, "value_above", {"kind": "range", "min": 0, "max": 1},
                         {"threshold": 0.995, "for": "5m"})]
    verdict = cs.judge(batch)
    assert verdict.accepted == 1
    assert not verdict.holds
    survived = [s for _, found in verdict.survivors for s in found]
    assert any(s.startswith("[for]") for s in survived), verdict.describe()
