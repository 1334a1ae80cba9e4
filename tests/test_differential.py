"""The strict checker is never laxer than Go: near-valid payloads (tests/differential.py) go to
``promcontract verify``'s format check and to the real Go parsers (promtool check metrics, a
Pushgateway PUT). Whatever Go rejects, we reject; whatever only we reject is a rule in the
documented list differential.STRICTER."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import differential


@pytest.mark.integration
def test_never_laxer_than_go(pushgateway, promtool_bin) -> None:
    seen = {"examples": 0, "go_rejects": 0, "stricter": 0}

    @settings(max_examples=500, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(differential.payloads())
    def check(payload: str) -> None:
        seen["examples"] += 1
        rejected, why = differential.go_rejects(payload, pushgateway.url)
        found = differential.ours(payload)
        if rejected:
            seen["go_rejects"] += 1
            assert found, f"Go rejects ({why}) what we accept:\n{payload}"
        elif found:
            seen["stricter"] += 1
            extra = found - set(differential.STRICTER)
            assert not extra, f"rules {sorted(extra)} reject what Go accepts:\n{payload}"

    check()
    assert seen["examples"] >= 500
    assert seen["go_rejects"] > 50  # the mutations reach Go's errors, not only ours
