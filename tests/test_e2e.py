"""End to end: pushed data reaches the rules in a real Prometheus and raises the alerts the
contract says, with the expected labels and annotation text; the others stay quiet.

A real Pushgateway and a real Prometheus (Debian packages) on 127.0.0.1, free ports, temp
storage; the rules are the template's whole alerting_rules.yml, extracted as `check` does.
Long for: durations are promtool's business: here an alert counts once pending or firing.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from conftest import TEMPLATE, require_binary
from promcontract.payload import gateway, pusher
from promcontract.payload import text004 as exposition
from promcontract.problems import ToolMissing, UserError
from promcontract.runners.servers import Prometheus, Pushgateway, free_port
from promcontract.template import reader
from promcontract.testgen import oracle

pytestmark = pytest.mark.integration
HOUR = 3600


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


@pytest.fixture(scope="module")
def stack(drift_contract):
    require_binary("prometheus")
    require_binary("prometheus-pushgateway", "pushgateway")
    rules = reader.read(str(TEMPLATE), TEMPLATE.read_text()).rules_text
    with Pushgateway() as pgw, Prometheus(rules, pgw.url) as prom:
        yield pgw, prom


def _ours(drift_contract) -> set[str]:
    return {a.name for a in drift_contract.alerts}


def wait_for_alerts(prom, names: set[str], expected: set[str], timeout: float = 20.0):
    """Poll until the group's active alerts are exactly ``expected``; return them."""
    deadline = time.monotonic() + timeout
    last: list[dict] = []
    while time.monotonic() < deadline:
        alerts = [a for a in _get(prom.url + "/api/v1/alerts")["data"]["alerts"]
                  if a["labels"]["alertname"] in names]
        last = alerts
        if {a["labels"]["alertname"] for a in alerts} == expected:
            return alerts
        time.sleep(0.5)
    got = sorted({a["labels"]["alertname"] for a in last})
    raise AssertionError(f"alerts after {timeout:.0f}s: {got}, expected {sorted(expected)}")


def check_alert(alert: dict, contract, extra_labels: dict[str, str]) -> None:
    spec = next(a for a in contract.alerts if a.name == alert["labels"]["alertname"])
    assert alert["state"] in ("pending", "firing")
    expected_labels = {"alertname": spec.name, "severity": spec.severity, **extra_labels}
    assert alert["labels"] == expected_labels
    value = float(alert["value"])
    labels = {k: v for k, v in alert["labels"].items()}
    predicted = dict(oracle.annotations(spec, tuple(sorted(labels.items())), value, contract))
    assert alert["annotations"]["summary"] == predicted["summary"]


def test_rules_are_healthy(stack, drift_contract) -> None:
    _, prom = stack
    deadline = time.monotonic() + 20
    while True:
        groups = _get(prom.url + "/api/v1/rules")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if rules and all(r.get("lastEvaluation", "").startswith("2") and
                         not r["lastEvaluation"].startswith("0001") for r in rules):
            break
        assert time.monotonic() < deadline, "rules were not evaluated in 20s"
        time.sleep(0.5)
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert bad == []
    ours = next(g for g in groups if g["name"] == drift_contract.group)
    assert {r["name"] for r in ours["rules"]} == _ours(drift_contract)


def test_alerts_follow_the_pushed_state(stack, drift_contract) -> None:
    pgw, prom = stack
    names = _ours(drift_contract)
    job = {"job": drift_contract.job}
    now = time.time()
    gateway.delete_group(pgw.url, drift_contract.grouping_key)

    # Eleven stacks drifting for 100 h, one errored, the last run 27 h ago.
    drifting = [f"stack-{i}" for i in range(11)]
    results = "".join(f"{s} 2\n" for s in drifting)
    pusher.push(drift_contract, results, "r", pgw.url, now - 100 * HOUR)
    pusher.push(drift_contract, results + "broken 1\n", "r", pgw.url, now - 27 * HOUR)
    alerts = wait_for_alerts(prom, names, {"DriftDetectionStale", "DriftUnaddressed",
                                           "DriftStacksMany", "DriftStackErrored"})
    by_name: dict[str, list[dict]] = {}
    for alert in alerts:
        by_name.setdefault(alert["labels"]["alertname"], []).append(alert)
    check_alert(by_name["DriftDetectionStale"][0], drift_contract, job)
    assert sorted(a["labels"]["stack"] for a in by_name["DriftUnaddressed"]) == sorted(drifting)
    for alert in by_name["DriftUnaddressed"]:
        check_alert(alert, drift_contract, {**job, "stack": alert["labels"]["stack"]})
    check_alert(by_name["DriftStacksMany"][0], drift_contract, job)
    assert by_name["DriftStacksMany"][0]["annotations"]["summary"] == \
        "11 stacks drifted in the last run"
    check_alert(by_name["DriftStackErrored"][0], drift_contract, job)

    # The heartbeat-only push of the real incident: the invariant alert names it.
    gateway.put_group(pgw.url, drift_contract.grouping_key,
                      "# TYPE drift_detection_last_run_timestamp gauge\n"
                      f"drift_detection_last_run_timestamp {int(now)}\n")
    alerts = wait_for_alerts(prom, names, {"DriftHeartbeatOnly"})
    check_alert(alerts[0], drift_contract, job)

    # A POST of an all-clean run keeps the old first_seen: the stale-first_seen alert fires.
    pusher.push(drift_contract, "app 2\n", "r", pgw.url, now)
    clean = pusher.render_payload(
        drift_contract, pusher.next_states(pusher.parse_results("app 0\n", "r"), {}, now,
                                           pusher.roles(drift_contract)),
        now, pusher.roles(drift_contract))
    clean = "".join(line + "\n" for line in clean.splitlines()
                    if "first_seen" not in line and "age_hours" not in line)
    req = urllib.request.Request(pgw.url + gateway.group_path(drift_contract.grouping_key),
                                 data=clean.encode(), method="POST")
    urllib.request.urlopen(req, timeout=5).close()
    group = gateway.select_group(exposition.parse(gateway.fetch_metrics(pgw.url)),
                                 drift_contract.grouping_key)
    assert group.samples("drift_stack_first_seen"), "POST should have kept first_seen"
    alerts = wait_for_alerts(prom, names, {"DriftStaleFirstSeen"})
    check_alert(alerts[0], drift_contract, {**job, "stack": "app"})

    # A clean, fresh, consistent push: the group is quiet.
    pusher.push(drift_contract, "app 0\nnet 0\n", "r", pgw.url, now)
    wait_for_alerts(prom, names, set())


def test_start_failures_name_the_server(pushgateway_bin) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(UserError) as info:
            with Pushgateway(port=port, binary=pushgateway_bin):
                pass
        assert time.monotonic() - started < 20
    message = str(info.value)
    assert message.startswith("promcontract: pushgateway exited at start")
    assert "address already in use" in message
    with pytest.raises(ToolMissing) as missing:
        Prometheus("groups: []\n", f"http://127.0.0.1:{free_port()}",
                   binary="/nonexistent/prometheus").start()
    assert "prometheus: cannot start /nonexistent/prometheus" in str(missing.value)
