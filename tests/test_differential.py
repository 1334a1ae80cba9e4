"""The strict checker is never laxer than Go: near-valid payloads (tests/differential.py) go to
``promcontract verify``'s format check and to the real Go parsers (promtool check metrics, a
Pushgateway PUT). Whatever Go rejects, we reject; whatever only we reject is a rule in the
documented list differential.STRICTER."""

from __future__ import annotations

import pytest
from hypothesis import Phase

import differential


def _never_laxer(url: str, examples: int, **overrides: object) -> dict[str, int]:
    seen = {"examples": 0, "go_rejects": 0, "stricter": 0}

    @differential.over_payloads(examples, **overrides)
    def check(payload: str) -> None:
        seen["examples"] += 1
        verdict = differential.judge(payload, url)
        assert not verdict.laxer, f"Go rejects ({verdict.why}) what we accept:\n{payload}"
        missed = verdict.missed_class
        assert missed is None, (f"Go rejects for class {missed} ({verdict.why}) and we "
                                f"miss it (our findings: {sorted(verdict.ours)}):\n{payload}")
        assert not verdict.undocumented, \
            f"rules {sorted(verdict.undocumented)} reject what Go accepts:\n{payload}"
        seen["go_rejects"] += verdict.go_rejects
        if verdict.go_class:
            seen[f"class:{verdict.go_class}"] = seen.get(f"class:{verdict.go_class}", 0) + 1
        seen["stricter"] += bool(verdict.ours) and not verdict.go_rejects

    check()
    return seen


@pytest.mark.integration
def test_never_laxer_than_go(pushgateway, promtool_bin) -> None:
    seen = _never_laxer(pushgateway.url, 500)
    assert seen["examples"] >= 500
    assert seen["go_rejects"] > 50  # the mutations reach Go's errors, not only ours
    reached = {k[6:] for k in seen if k.startswith("class:")}
    assert {"second-type", "second-help", "timestamp", "value", "escape",
            "duplicate-series"} <= reached, seen


@pytest.mark.integration
@pytest.mark.parametrize("defect,message", [
    ("misses one rule", "what we accept"),  # Go rejects it, we no longer do
    ("invents a rule", "reject what Go accepts"),  # a strictness nobody documented
])
def test_the_differential_check_fails_on_the_defects_it_exists_for(
        defect, message, pushgateway, promtool_bin, monkeypatch) -> None:
    real = differential.ours

    def broken(payload: str) -> set[str]:
        found = real(payload)
        if defect == "misses one rule":
            return found - {"bad-escape", "syntax", "duplicate-series"}
        return found | {"made-up-rule"}

    monkeypatch.setattr(differential, "ours", broken)
    with pytest.raises(AssertionError, match=message):
        _never_laxer(pushgateway.url, 500, phases=[Phase.explicit, Phase.generate])


# Every rule that catches a class of Go's rejections: without it, the check must fail.
# (family-not-contiguous and final-newline only ever add to another rule's finding here;
# label-name's reserved "__" names are parsed by Go, a documented strictness of ours.)
ENFORCED = sorted(set().union(*(rules for _, _, rules in differential.CLASSES))
                  - {"family-not-contiguous", "final-newline", "label-name"})


@pytest.mark.integration
@pytest.mark.parametrize("rule", ENFORCED)
def test_the_check_fails_without_any_one_rule(rule: str, pushgateway, promtool_bin,
                                              monkeypatch) -> None:
    """One rule at a time removed from our checker: the 500 payloads (Go's verdicts
    remembered from the test above) must show a class we then miss."""
    real = differential.ours
    monkeypatch.setattr(differential, "ours", lambda payload: real(payload) - {rule})
    with pytest.raises(AssertionError, match="we miss it|what we accept"):
        _never_laxer(pushgateway.url, 500, phases=[Phase.explicit, Phase.generate])
