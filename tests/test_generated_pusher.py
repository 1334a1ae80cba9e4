"""The generated, dependency-free pusher (rules/generated/drift.push.py) and the harness's
process hygiene: what a job's CI image runs with nothing installed."""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from promcontract.payload import gateway
from promcontract.payload.harness import Harness, PusherError, command_pusher, run_sequences

PUSH_PY = ROOT / "rules" / "generated" / "drift.push.py"
ISOLATED = [sys.executable, "-I", "-S", str(PUSH_PY)]  # no site-packages, no PYTHONPATH


def run_push(*args: str, env: dict | None = None, timeout: float = 60
             ) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("RESULTS_FILE", "PUSHGATEWAY_URL", "NOW", "PUSH_JOB", "PYTHONPATH")}
    return subprocess.run(ISOLATED + list(args), env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def test_it_is_python_3_8_and_standard_library_only() -> None:
    tree = ast.parse(PUSH_PY.read_text(), feature_version=(3, 8))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


@pytest.mark.parametrize("text, code, words", [
    ("", 2, "no stacks in the results file: refusing to push"),
    ("app\n", 2, ":1:1: expected '<stack> <exit code>'"),
    ("app 3\n", 2, ":1:5: unknown exit code '3'"),
    ("app 0\napp 2\n", 2, ":2:1: stack 'app' appears twice (also line 1)"),
])
def test_bad_results_are_one_line_exit_2(tmp_path, text, code, words) -> None:
    results = tmp_path / "results.txt"
    results.write_text(text)
    proc = run_push("--results", str(results), "--gateway", "http://127.0.0.1:9")
    assert proc.returncode == code and words in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_dry_run_with_a_saved_previous_needs_no_gateway(tmp_path, drift_contract) -> None:
    previous = tmp_path / "metrics.txt"
    previous.write_text('drift_stack_first_seen{instance="",job="drift-detection",stack="app"} '
                        "1.699e+09\n")
    results = tmp_path / "results.txt"
    results.write_text('app 2\nsay "hi" 1\nnetwork 0\n')
    proc = run_push("--results", str(results), "--previous", str(previous), "--dry-run",
                    "--now", "1700000000")
    assert proc.returncode == 0, proc.stderr
    assert 'drift_stack_first_seen{stack="app"} 1.699e+09' in proc.stdout
    assert 'drift_stack_state{stack="say \\"hi\\""} 2' in proc.stdout
    # the reference pusher's payload for the same input: the same samples
    from promcontract.payload import pusher

    reference = pusher.push(drift_contract, results.read_text(), str(results), None,
                            1_700_000_000, dry_run=True, lint=False,
                            previous_text=previous.read_text())
    assert proc.stdout == reference.payload  # byte for byte


def test_reference_dry_run_with_previous_and_empty_results(tmp_path, cli, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    previous = tmp_path / "metrics.txt"
    previous.write_text("")
    results = tmp_path / "results.txt"
    results.write_text("app 2\n")
    ok = cli("push", "--results", str(results), "--previous", str(previous), "--dry-run",
             "--now", "1700000000", "--contract", "rules/drift.contract.yaml")
    assert ok.code == 0 and 'drift_stack_first_seen{stack="app"} 1.7e+09' in ok.out
    results.write_text("\n")
    empty = cli("push", "--results", str(results), "--gateway", "http://127.0.0.1:9",
                "--contract", "rules/drift.contract.yaml")
    assert empty.code == 2 and "no stacks in the results file: refusing to push" in empty.err
    without = cli("push", "--results", str(results), "--contract", "rules/drift.contract.yaml")
    assert without.code == 2 and "--gateway URL is required" in without.err


@pytest.mark.integration
def test_gateway_down_and_400_are_exit_1_in_one_line(tmp_path, pushgateway) -> None:
    from promcontract.runners.servers import free_port

    results = tmp_path / "results.txt"
    results.write_text("app 2\n")
    started = time.monotonic()
    down = run_push("--results", str(results), "--gateway",
                    f"http://127.0.0.1:{free_port()}", "--deadline", "3")
    assert down.returncode == 1 and "gave up after" in down.stderr
    assert time.monotonic() - started < 20
    refused = run_push("--results", str(results), "--gateway", pushgateway.url, "--job",
                       "a/b")  # a job name with a slash: base64 form, accepted
    assert refused.returncode == 0, refused.stderr


@pytest.mark.integration
def test_generated_pusher_passes_200_sequences(pushgateway, drift_contract, tmp_path) -> None:
    """`pusher-test -- python3 -I -S rules/generated/drift.push.py`, as CI runs it."""
    h = Harness(drift_contract, pushgateway.url, command_pusher(ISOLATED), str(tmp_path),
                job="generated-pusher")
    failure = run_sequences(h, 200, seed=7)
    assert failure is None, failure.report() if failure else ""
    assert h.sequences >= 200


@pytest.mark.integration
def test_check_fails_when_the_generated_pusher_is_stale(workspace, cli, promtool_bin) -> None:
    path = workspace / "rules" / "generated" / "drift.push.py"
    path.write_text(path.read_text().replace("one PUT", "one put"))
    result = cli("check", "--skip-unit-tests")
    assert result.code == 1 and "drift.push.py" in result.out + result.err


# --- process hygiene ------------------------------------------------------------------------

def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def test_run_timeout_kills_the_whole_process_group(tmp_path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    script = tmp_path / "hang.sh"
    script.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pidfile}\nsleep 300\n")
    script.chmod(0o755)
    pusher = command_pusher([str(script)], timeout_s=1.0)
    with pytest.raises(PusherError, match="process group was killed"):
        pusher("http://127.0.0.1:9", str(tmp_path / "r.txt"), 1, "job")
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), "the pusher's background sleep survived the timeout"


@pytest.mark.integration
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_gateway_proxy_and_removes_the_work_dir(sig, pushgateway_bin,
                                                               tmp_path) -> None:
    script = tmp_path / "slow.sh"
    script.write_text("#!/bin/sh\nsleep 30\n")
    script.chmod(0o755)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "generator"))
    # SIGINT as Ctrl-C delivers it: a shell that starts commands in the background (as CI
    # runners may) makes them ignore SIGINT, and Python then installs no handler for it
    proc = subprocess.Popen([sys.executable, "-m", "promcontract", "pusher-test", "--contract",
                             str(ROOT / "rules" / "drift.contract.yaml"), "--", str(script)],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                            cwd=tmp_path,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    line = proc.stderr.readline()
    found = re.search(r"\(pid (\d+)\).*work dir (\S+);", line)
    assert found, line
    gateway_pid, work = int(found.group(1)), found.group(2)
    time.sleep(1.0)  # the pusher is running
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    deadline = time.monotonic() + 10
    while _alive(gateway_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(gateway_pid), "the Pushgateway outlived pusher-test"
    assert not os.path.exists(work), "the work dir was left behind"
    proc.stderr.close()
    proc.stdout.close()


def test_gateway_group_path_matches_the_generated_one() -> None:
    """The harness and the generated pusher agree on where the group lives."""
    namespace: dict = {}
    exec(compile(PUSH_PY.read_text(), str(PUSH_PY), "exec"), namespace)  # noqa: S102
    for job in ("drift-detection", "a/b", "with space"):
        assert namespace["group_path"](job) == gateway.group_path((("job", job),))


# --- the generated pusher and `promcontract push` are one pusher ----------------------------

def _load_generated():
    import importlib.util

    spec = importlib.util.spec_from_file_location("generated_push", PUSH_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_in_process(call) -> tuple[int, str]:  # noqa: ANN001
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = call()
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
    return code, out.getvalue()


_PIECES = ["a", "b", "app", "say \"hi\"", "x\\y", "é", " ", "  ", "\t", "\xa0", "\u2028",
           "\x85", "\x0b", "\r", "0", "1", "2", "3", "-1", "02", "+1"]


@st.composite
def _results_text(draw) -> str:  # noqa: ANN001
    """Mostly well-formed files whose stack names hold odd characters (quotes, backslashes,
    NBSP, Unicode line breaks, inner blanks), with now and then a line only one reading
    might accept (trailing blanks, NBSP before the code, a bad code, a blank line)."""
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 14)) < 14:
            edge = st.sampled_from(["a", "b", "app", "é", '"', "\\", "0", "-"])
            stack = draw(edge) + draw(st.lists(st.sampled_from(_PIECES), max_size=3).map(
                "".join)) + draw(edge)
            if draw(st.integers(0, 2)) == 0:
                stack = stack[:1]
            sep = draw(st.sampled_from([" ", "\t", "  ", " \t"] * 4 + ["\xa0"]))
            code = draw(st.sampled_from(["0", "1", "2"] * 5 + ["1 ", "3", "02"]))
            lines.append(f"{stack}{sep}{code}")
        else:
            lines.append(draw(st.lists(st.sampled_from(_PIECES), max_size=5).map("".join)))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=_results_text(), now=st.sampled_from(
    ["1700000000"] * 6 + ["1699000000.5", "0", "1e9", "inf", "nan", "-1", "abc", "1_000"]))
def test_push_and_the_generated_pusher_print_the_same_payload_or_both_refuse(text: str,
                                                                               now: str) -> None:
    import tempfile

    from promcontract.cli import main

    generated = _load_generated()
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.txt"
        results.write_bytes(text.encode("utf-8"))
        previous = Path(tmp) / "previous.txt"
        previous.write_text('drift_stack_first_seen{instance="",job="drift-detection",'
                            'stack="a"} 1.699e+09\n'
                            'drift_stack_first_seen{instance="",job="other",stack="b"} 5\n')
        args = ["--results", str(results), "--previous", str(previous), "--dry-run",
                "--now", now]
        ours, ours_out = _run_in_process(lambda: main(
            ["push", *args, "--contract", str(ROOT / "rules" / "drift.contract.yaml")]))
        theirs, theirs_out = _run_in_process(lambda: generated.main(args))
    assert (ours == 0) == (theirs == 0), (ours, theirs, text, now)
    if ours == 0:
        assert ours_out == theirs_out


def test_the_property_sees_a_difference_in_parsing(monkeypatch) -> None:
    """The check can fail: the generated pusher's old rule (split at the last run of any
    whitespace, NBSP included) accepts a line push refuses."""
    import re as re_

    generated = _load_generated()
    monkeypatch.setattr(generated, "LINE", re_.compile(r"^(?P<stack>.*\S)\s+(?P<code>\S+)$"))
    code, _ = _run_in_process(lambda: generated.main(
        ["--results", "/dev/null", "--dry-run", "--previous", "/dev/null"]))
    assert code == 2
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "r.txt"
        results.write_text("app\xa02\n")
        empty = Path(tmp) / "p.txt"
        empty.write_text("")
        args = ["--results", str(results), "--previous", str(empty), "--dry-run", "--now", "5"]
        from promcontract.cli import main

        ours, _ = _run_in_process(lambda: main(
            ["push", *args, "--contract", str(ROOT / "rules" / "drift.contract.yaml")]))
        theirs, _ = _run_in_process(lambda: generated.main(args))
    assert ours == 2 and theirs == 0  # the property's assertion would fail here


def test_the_generated_pusher_is_executable() -> None:
    assert os.stat(PUSH_PY).st_mode & 0o111 == 0o111


@pytest.mark.parametrize("args, words", [
    (["--now", "inf"], "NOW must be unix seconds (a finite number >= 0), got 'inf'"),
    (["--now", "nan"], "NOW must be unix seconds (a finite number >= 0), got 'nan'"),
    (["--gateway", "http://[::1"], "is not a valid URL"),
    (["--gateway", "http://alice:s3cret@127.0.0.1:9", "--deadline", "1"], "http://***@"),
])
def test_the_generated_pusher_refuses_in_one_line(args, words, tmp_path) -> None:
    results = tmp_path / "results.txt"
    results.write_text("app 2\n")
    base = ["--results", str(results)]
    if "--gateway" not in args:
        base += ["--gateway", "http://127.0.0.1:9"]
    proc = run_push(*base, *args)
    assert proc.returncode in (1, 2) and words in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "s3cret" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
