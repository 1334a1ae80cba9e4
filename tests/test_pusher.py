"""The reference pusher: results parsing, the streak rule, and pushes to a real gateway."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CONTRACT, ROOT
from fault_proxy import FaultProxy
from promcontract.payload import gateway, pusher
from promcontract.payload import text004 as exposition
from promcontract.payload.harness import Harness, builtin_pusher, command_pusher, run_sequences
from promcontract.problems import UserError

NOW = 1_700_000_000
FAST = gateway.RetryPolicy(attempts=3, backoff_s=0.05, timeout_s=2.0)


# --- results file ---------------------------------------------------------------------------

def test_parse_results_accepts_spaces_and_unicode() -> None:
    results = pusher.parse_results("app 2\nedge 1 0\r\nünï/stack 1\n\n", "r.txt")
    assert [(r.stack, r.exit_code) for r in results] == [("app", 2), ("edge 1", 0),
                                                          ("ünï/stack", 1)]


@pytest.mark.parametrize("text,message", [
    ("app 3\n", r"r.txt:1:5: unknown exit code '3' for stack 'app'"),
    ("app\n", r"r.txt:1:1: expected '<stack> <exit code>'"),
    ("app 2\nnet 0\napp 0\n", r"r.txt:3:1: stack 'app' appears twice \(also line 1\)"),
    ("ok 0\napp two\n", r"r.txt:2:5: unknown exit code 'two'"),
])
def test_parse_results_rejects_bad_lines(text: str, message: str) -> None:
    import re

    with pytest.raises(UserError) as info:
        pusher.parse_results(text, "r.txt")
    assert re.match(message, str(info.value.problems[0])), str(info.value.problems[0])


# --- streak rule (pure) ---------------------------------------------------------------------

def test_streak_rule(drift_contract) -> None:
    r = pusher.roles(drift_contract)
    res = pusher.parse_results("new 2\nold 2\nerr 1\nerrnew 1\nclean 0\n", "r")
    prev = {"old": NOW - 80 * 3600, "err": NOW - 5000, "clean": NOW - 100}
    states = {s.stack: s for s in pusher.next_states(res, prev, NOW, r)}
    assert (states["new"].state, states["new"].first_seen, states["new"].age) == (1, NOW, 0)
    assert (states["old"].first_seen, states["old"].age) == (NOW - 80 * 3600, 80)
    assert (states["err"].state, states["err"].first_seen, states["err"].age) == (2, NOW - 5000, 1)
    assert states["errnew"].first_seen is None
    assert states["clean"].first_seen is None and states["clean"].state == 0


def test_payload_is_rendered_by_prometheus_client_and_verifies(drift_contract,
                                                               promtool_bin) -> None:
    from promcontract.payload.verify import verify_payload

    r = pusher.roles(drift_contract)
    states = pusher.next_states(pusher.parse_results('a 2\nb 0\nc "q" 1\n', "r"), {}, NOW, r)
    payload = pusher.render_payload(drift_contract, states, NOW, r)
    assert "# HELP drift_stack_state" in payload and "# TYPE drift_stack_state gauge" in payload
    assert verify_payload(drift_contract, payload).ok


# --- against the real Pushgateway -----------------------------------------------------------

def _group(url: str, contract) -> exposition.Parsed:
    return gateway.select_group(exposition.parse(gateway.fetch_metrics(url)),
                                contract.grouping_key)


@pytest.fixture
def fresh(pushgateway, drift_contract):
    gateway.delete_group(pushgateway.url, drift_contract.grouping_key)
    return pushgateway


@pytest.mark.integration
def test_drift_clean_drift_gives_fresh_first_seen(fresh, drift_contract) -> None:
    """The POST regression: a clean run must remove first_seen, so new drift starts anew."""
    url = fresh.url
    pusher.push(drift_contract, "app 2\n", "r", url, NOW)
    pusher.push(drift_contract, "app 2\n", "r", url, NOW + 3600)
    first = _group(url, drift_contract).samples("drift_stack_first_seen")
    assert [s.value for s in first] == [NOW]
    pusher.push(drift_contract, "app 0\n", "r", url, NOW + 7200)
    assert _group(url, drift_contract).samples("drift_stack_first_seen") == []
    pusher.push(drift_contract, "app 2\n", "r", url, NOW + 10800)
    group = _group(url, drift_contract)
    assert [s.value for s in group.samples("drift_stack_first_seen")] == [NOW + 10800]
    assert [s.value for s in group.samples("drift_stack_age_hours")] == [0]


@pytest.mark.integration
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(names=st.lists(st.text(st.characters(blacklist_categories=("Cs",),
                                            blacklist_characters="\x00"),
                              min_size=1, max_size=12)
                      .map(lambda s: s.strip()).filter(bool)
                      | st.sampled_from(['say "hi"', "back\\slash", "line\nbreak", "a b",
                                         "db/prod", "ünï 漢字"]),
                      min_size=1, max_size=5, unique=True))
def test_stack_names_round_trip_through_the_gateway(names, pushgateway, drift_contract) -> None:
    r = pusher.roles(drift_contract)
    results = [pusher.StackResult(name, 2, i + 1) for i, name in enumerate(names)]
    states = pusher.next_states(results, {}, NOW, r)
    payload = pusher.render_payload(drift_contract, states, NOW, r)
    gateway.put_group(pushgateway.url, drift_contract.grouping_key, payload)
    group = _group(pushgateway.url, drift_contract)
    assert sorted(s.label("stack") for s in group.samples("drift_stack_state")) == sorted(names)
    assert pusher.previous_first_seen(group, r) == {name: NOW for name in names}


@pytest.mark.integration
def test_two_requests_per_run_whatever_the_stack_count(fresh, drift_contract) -> None:
    for count in (10, 10_000):
        with FaultProxy(fresh.url) as proxy:
            text = "".join(f"stack-{i} {i % 3}\n" for i in range(count))
            pusher.push(drift_contract, text, "r", proxy.url, NOW, lint=False)
            assert dict(proxy.counts) == {"GET": 1, "PUT": 1}, count


@pytest.mark.integration
@pytest.mark.parametrize("fault", ["500", "slow", "down"])
def test_gateway_failures_retry_boundedly_and_keep_state(fault, fresh, drift_contract) -> None:
    pusher.push(drift_contract, "app 2\n", "r", fresh.url, NOW)
    before = _group(fresh.url, drift_contract).samples("drift_stack_state")
    proxy = FaultProxy(fresh.url)
    if fault == "500":
        proxy.fail_methods["PUT"] = 500
    elif fault == "slow":
        proxy.delay_s = 3.0  # longer than FAST.timeout_s
    with proxy:
        url = proxy.url
        if fault == "down":
            from promcontract.runners.servers import free_port

            url = f"http://127.0.0.1:{free_port()}"  # nobody listens there
        with pytest.raises(pusher.PushFailed) as info:
            pusher.push(drift_contract, "app 0\nnew 2\n", "r", url, NOW + 3600, policy=FAST,
                        lint=False)
    if fault == "slow":
        # --timeout is the whole budget: the one GET that used it up is not retried
        assert "after 1 attempt: timeout: no complete answer within the --timeout of 2s" in \
            str(info.value)
        assert (proxy.counts["GET"], proxy.counts["PUT"]) == (1, 0)
    else:
        assert "after 3 attempts" in str(info.value)
    if fault == "500":
        assert (proxy.counts["GET"], proxy.counts["PUT"]) == (1, 3)
    assert _group(fresh.url, drift_contract).samples("drift_stack_state") == before


@pytest.mark.integration
def test_push_cli_bad_results_push_nothing(fresh, drift_contract, tmp_path, cli,
                                           monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    results = tmp_path / "results.txt"
    for content in (b"app 7\n", b"app\n", b"app 2\napp 0\n", b"app\xff 2\n"):
        results.write_bytes(content)
        result = cli("push", "--results", str(results), "--gateway", fresh.url,
                     "--now", str(NOW))
        assert result.code == 2, content
        assert result.err.startswith(f"{results}:1:") or result.err.startswith(f"{results}:2:")
        assert len(result.err_lines) == 1
        assert _group(fresh.url, drift_contract).families == {}


@pytest.mark.integration
def test_verify_gateway_reports_failed_push(fresh, drift_contract, cli, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    pusher.push(drift_contract, "app 2\n", "r", fresh.url, NOW)
    assert cli("verify", "--gateway", fresh.url).code == 0
    # A push the gateway refuses (a sample with a timestamp) marks the group failed.
    with pytest.raises(gateway.GatewayError):
        gateway.put_group(fresh.url, drift_contract.grouping_key,
                          "drift_clean_count 1 1700000000000\n")
    result = cli("verify", "--gateway", fresh.url)
    assert result.code == 1
    assert "push-failed: the last push to group" in result.out


# --- pusher-test harness ----------------------------------------------------------------------

@pytest.mark.integration
def test_reference_pusher_passes_200_sequences(pushgateway, drift_contract, tmp_path) -> None:
    h = Harness(drift_contract, pushgateway.url, builtin_pusher(drift_contract), str(tmp_path),
                job="harness-builtin")
    assert run_sequences(h, 200, seed=1) is None
    assert h.sequences >= 200


@pytest.mark.integration
def test_reference_pusher_command_passes(pushgateway, drift_contract, tmp_path,
                                        monkeypatch) -> None:
    """The same, through the CMD interface (a process per run, so fewer sequences)."""
    script = tmp_path / "push.sh"
    script.write_text("#!/bin/sh\nexec \"$PYTHON\" -m promcontract push --contract "
                      f"'{CONTRACT}' --results \"$RESULTS_FILE\" --gateway \"$PUSHGATEWAY_URL\" "
                      "--now \"$NOW\" --job \"$PUSH_JOB\"\n")
    script.chmod(0o755)
    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "generator"))
    h = Harness(drift_contract, pushgateway.url, command_pusher([str(script)]), str(tmp_path),
                job="harness-cmd")
    assert run_sequences(h, 8, seed=2) is None


# Each broken pusher and the message it must get first (the first defect of the report): the
# harness sees the wire (a recording proxy) before it reads the gateway's state.
BAD_PUSHERS = {
    "literal_lookup_pusher.sh": "the pusher did not find the previous drift_stack_first_seen",
    "post_pusher.sh": "POST /metrics/job/drift-detection: POST adds to the group and keeps "
                      "families missing from the body",
    "heartbeat_only_pusher.sh": "heartbeat-only push",
    # an age series for a clean stack, pushed with PUT on an empty gateway: not "POST"
    "clean_age_pusher.sh": "clean_stack_has_no_first_seen",
    # a quote the pusher does not escape: the gateway answers 400 and curl -s hides it
    "no_escape_pusher.sh": "the gateway answered 400 to PUT /metrics/job/drift-detection",
    # a correct label-aware lookup, but errored stacks lose first_seen: not "the lookup"
    "error_drop_pusher.sh": "errored in this run and the group has no drift_stack_first_seen",
}
WRONG = {  # what each must not be told
    "clean_age_pusher.sh": "POST",
    "no_escape_pusher.sh": "heartbeat-only",
    "error_drop_pusher.sh": "did not find the previous",
    "literal_lookup_pusher.sh": "errored in this run",
}


@pytest.mark.integration
@pytest.mark.parametrize("script", sorted(BAD_PUSHERS))
def test_pusher_test_fails_each_broken_pusher(script, pushgateway_bin, tmp_path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "generator"))
    proc = subprocess.run(
        [sys.executable, "-m", "promcontract", "pusher-test", "--sequences", "60", "--seed",
         "5", "--timeline", str(tmp_path / "failure.svg"), "--",
         str(ROOT / "tests" / "pushers" / script)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "minimal failing run sequence:" in proc.stdout
    # the sequence drawn: a mark per run, the defect at the failing one
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    drawn = ET.parse(tmp_path / "failure.svg").getroot()
    runs = [int(n) for n in re.findall(r"run \d+: NOW=(\d+)", proc.stdout)]
    assert [float(m.get("data-t")) for m in drawn.iter(ns + "line")
            if m.get("class") == "mark"] == [float(n) for n in runs]
    (band,) = [r for r in drawn.iter(ns + "rect") if r.get("class") == "firing now"]
    assert float(band.get("data-start")) < runs[-1] < float(band.get("data-end"))
    assert f"pusher-test: the failing sequence, run by run: {tmp_path / 'failure.svg'}" \
        in proc.stdout
    first = next(line for line in proc.stdout.splitlines() if "defect:" in line)
    assert BAD_PUSHERS[script] in first, proc.stdout
    if script in WRONG:
        assert WRONG[script] not in proc.stdout, proc.stdout
    assert "expected series:" in proc.stdout and "actual series:" in proc.stdout
    # shrinking keeps only the stacks that matter: one stack shows each of these defects
    stacks = {line.strip().rsplit(" ", 1)[0] for line in proc.stdout.splitlines()
              if line.startswith("    ") and not line.startswith("    defect")
              and not line.startswith("    expected") and not line.startswith("    actual")
              and line.strip()[-1:] in "012" and not line.startswith("      ")}
    assert len(stacks) <= 1, proc.stdout


@pytest.mark.integration
def test_pusher_test_passes_a_correct_shell_pusher(pushgateway, drift_contract, tmp_path) -> None:
    script = ROOT / "tests" / "pushers" / "good_shell_pusher.sh"
    h = Harness(drift_contract, pushgateway.url, command_pusher([str(script)]), str(tmp_path),
                job="harness-shell")
    failure = run_sequences(h, 40, seed=4)
    assert failure is None, failure.report() if failure else ""


@pytest.mark.integration
def test_push_cli_gateway_down_exits_1(tmp_path, cli, monkeypatch) -> None:
    from promcontract.runners.servers import free_port

    monkeypatch.chdir(ROOT)
    results = tmp_path / "results.txt"
    results.write_text("app 2\n")
    url = f"http://127.0.0.1:{free_port()}"
    result = cli("push", "--results", str(results), "--gateway", url, "--attempts", "2",
                 "--backoff", "0.01", "--timeout", "1")
    assert result.code == 1
    assert result.err_lines[0].startswith("push: cannot read the previous group, nothing "
                                          "pushed: GET ")
    assert "failed after 2 attempts" in result.err


@pytest.mark.integration
def test_verify_gateway_reports_a_missing_group(fresh, cli, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = cli("verify", "--gateway", fresh.url)
    assert result.code == 1
    assert result.out.startswith(f"{fresh.url}/metrics:1: missing-group: the gateway holds no "
                                 'group {job="drift-detection"}'), result.out


@pytest.mark.integration
@pytest.mark.parametrize("script,timeout,defect", [
    ("echo 'cannot reach the gateway' >&2; exit 3", 30.0,
     "pusher exited 3: cannot reach the gateway"),
    ("sleep 30", 0.5, "pusher did not finish within 0.5s"),
])
def test_a_pusher_that_fails_or_hangs_is_reported(script, timeout, defect, pushgateway,
                                                  drift_contract, tmp_path) -> None:
    import time

    path = tmp_path / "pusher.sh"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    h = Harness(drift_contract, pushgateway.url, command_pusher([str(path)], timeout),
                str(tmp_path), job="harness-broken")
    started = time.monotonic()
    failure = run_sequences(h, 3, seed=1)
    assert failure is not None
    assert time.monotonic() - started < 20
    assert failure.defects and failure.defects[0].startswith(defect), failure.defects
