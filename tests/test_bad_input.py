"""Bad input found by trying every command: each is one line, exit 2, nothing written, and
quick. Also: total deadlines on HTTP, writes through symlinks, render refusing what check
would reject, and what adopting a hand-written group says."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, TEMPLATE

CONTRACT_TEXT = (ROOT / "rules" / "drift.contract.yaml").read_text()


def _contract_with(workspace: Path, old: str, new: str) -> None:
    assert old in CONTRACT_TEXT, old
    (workspace / "rules" / "drift.contract.yaml").write_text(CONTRACT_TEXT.replace(old, new, 1))


ALIAS_BOMB = "".join(
    [f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}" if i else '"lol"'] * 9) + "]\n"
     for i in range(9)])


@pytest.mark.parametrize("case,old,new,message", [
    ("for-overflow", "for: 30m", "for: 99999999999999y", r":\d+:\d+: duration out of range: "
     r"99999999999999y .*\(alerts\[0\]\.for\)$"),
    ("for-10y", "for: 30m", "for: 10y", r"for: 10y is longer than derived tests can cover"),
    ("threshold-2^53", "threshold: 10\n", "threshold: 9007199254740993\n",
     r"threshold 9007199254740993 cannot be pinned by any test"),
    ("threshold-inf", "threshold: 10\n", "threshold: .inf\n", r"threshold inf cannot be pinned"),
])
def test_contract_values_no_test_can_handle(case, old, new, message, workspace: Path,
                                            cli) -> None:
    _contract_with(workspace, old, new)
    before = (workspace / TEMPLATE.relative_to(ROOT)).read_bytes()
    started = time.monotonic()
    result = cli("render")
    assert time.monotonic() - started < 10
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert re.search(message, result.err_lines[0]), result.err_lines[0]
    assert (workspace / TEMPLATE.relative_to(ROOT)).read_bytes() == before


@pytest.mark.parametrize("written", ["1e6", "1.0e6", "1e+6"])
def test_yaml_1_2_floats_are_numbers(written: str, workspace: Path, cli) -> None:
    _contract_with(workspace, "threshold: 10\n", f"threshold: {written}\n")
    result = cli("validate")
    assert result.code == 0, result.err


def test_alias_bomb_is_refused_quickly(workspace: Path, cli) -> None:
    (workspace / "rules" / "drift.contract.yaml").write_text(ALIAS_BOMB)
    started = time.monotonic()
    result = cli("validate")
    assert time.monotonic() - started < 5
    assert result.code == 2 and len(result.err_lines) == 1
    assert "YAML aliases expand this document beyond" in result.err


@pytest.mark.parametrize("command", [["characterize", "-o", "out"], ["import", "--group", "G",
                                                                       "-o", "g.yaml"]])
def test_alias_bomb_in_a_template_is_refused_at_its_line(command, tmp_path: Path, cli,
                                                         monkeypatch) -> None:
    """characterize and import read alerting_rules.yml as YAML nodes: a bomb there is refused
    at its line in the template (it was found only later, in a temp copy of the group)."""
    monkeypatch.chdir(tmp_path)
    bomb = "".join(f"          {line}\n" for line in ALIAS_BOMB.splitlines())
    (tmp_path / "bomb.tpl").write_text(
        "serverFiles:\n  alerting_rules.yml:\n    groups:\n      - name: G\n        junk:\n"
        + bomb + "        rules:\n          - alert: A\n            expr: up == 0\n")
    result = cli(command[0], "--tpl", "bomb.tpl", *command[1:])
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert re.match(r"bomb\.tpl:\d+:\d+: YAML aliases expand this document beyond",
                    result.err_lines[0]), result.err
    line = int(result.err_lines[0].split(":")[1])
    assert "&x" in (tmp_path / "bomb.tpl").read_text().splitlines()[line - 1]
    assert not (tmp_path / "out").exists() and not (tmp_path / "g.yaml").exists()


def test_generated_dir_that_is_a_file(workspace: Path, cli) -> None:
    generated = workspace / "rules" / "generated"
    for child in generated.iterdir():
        child.unlink()
    generated.rmdir()
    generated.write_text("not a directory\n")
    contract = workspace / "rules" / "drift.contract.yaml"
    contract.write_text(contract.read_text().replace("threshold: 10\n", "threshold: 11\n"))
    before = (workspace / TEMPLATE.relative_to(ROOT)).read_bytes()
    result = cli("render")
    assert result.code == 2
    assert result.err_lines == ["rules/generated: is a file; expected a directory for the "
                                "generated rule and test files (rules/generated)"]
    assert (workspace / TEMPLATE.relative_to(ROOT)).read_bytes() == before


@pytest.mark.parametrize("command", ["lint", "render", "check"])
def test_nul_byte_in_the_template(command: str, workspace: Path, cli) -> None:
    tpl = workspace / TEMPLATE.relative_to(ROOT)
    text = tpl.read_text()
    tpl.write_text(text.replace("scrape_timeout: 10s", "scrape_timeout: 10s\0", 1))
    result = cli(command)
    line = text[: text.index("scrape_timeout: 10s")].count("\n") + 1
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith(f"{tpl.relative_to(workspace)}:{line}:")
    assert "NUL byte" in result.err


def test_infinite_timestamp_in_a_payload(tmp_path: Path, cli, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    from test_verify import GOOD, NOW

    payload = tmp_path / "p.prom"
    payload.write_text(GOOD.replace(f"drift_detection_last_run_timestamp {NOW}",
                                    "drift_detection_last_run_timestamp +Inf"))
    result = cli("verify", "--no-lint", str(payload))
    assert result.code == 1, result.err
    assert re.search(r"p\.prom:\d+: domain: drift_detection_last_run_timestamp = inf is outside "
                     r"its domain", result.out), result.out


@pytest.mark.parametrize("args,message", [
    (["verify", "--gateway", "notaurl"], "--gateway 'notaurl' is not an http(s) URL"),
    (["verify", "--gateway", "http://[::1"], "--gateway 'http://[::1' is not a valid URL"),
    (["push", "--results", "RESULTS", "--gateway", "http://127.0.0.1:9", "--now", "inf"],
     "--now must be unix seconds (a finite number >= 0), got inf"),
    (["push", "--results", "RESULTS", "--gateway", "http://127.0.0.1:9", "--timeout", "-1"],
     "--timeout must be a positive number of seconds, got -1.0"),
    (["push", "--results", "RESULTS", "--gateway", "notaurl"],
     "--gateway 'notaurl' is not an http(s) URL"),
    (["push", "--results", "RESULTS", "--gateway", "ftp://127.0.0.1/x"],
     "--gateway 'ftp://127.0.0.1/x' is not an http(s) URL"),
    (["push", "--results", "RESULTS", "--gateway", "http://127.0.0.1:9", "--attempts", "0"],
     "--attempts must be at least 1, got 0"),
    (["pusher-test", "--sequences", "0", "--", "true"], "--sequences must be at least 1, got 0"),
    (["pusher-test", "--sequences", "-1", "--", "true"],
     "--sequences must be at least 1, got -1"),
])
def test_bad_command_line_values(args, message, cli, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    results = tmp_path / "results.txt"
    results.write_text("app 2\n")
    started = time.monotonic()
    result = cli(*[str(results) if a == "RESULTS" else a for a in args])
    assert time.monotonic() - started < 5
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith(f"promcontract: {message}"), result.err


@pytest.mark.parametrize("fake", ["/bin/false", "/bin/true"])
def test_a_binary_that_is_not_promtool_is_refused(fake: str, workspace: Path, cli,
                                                  monkeypatch) -> None:
    """/bin/true as $PROMTOOL once made check say "pass promtool check rules"."""
    monkeypatch.setenv("PROMTOOL", fake)
    result = cli("check")
    assert result.code == 2
    assert f"{fake} --version does not answer as promtool does" in result.err
    assert "pass" not in result.out


def test_a_binary_that_is_not_amtool_is_refused(workspace: Path, cli, monkeypatch) -> None:
    from promcontract.runners import amtool

    amtool.version.cache_clear()
    monkeypatch.setenv("AMTOOL", "/bin/true")
    result = cli("lint")
    amtool.version.cache_clear()
    assert result.code == 2, result.out + result.err
    assert "/bin/true --version does not answer as amtool does" in result.err


def test_promtool_that_says_nothing(workspace: Path, cli, monkeypatch, tmp_path: Path,
                                    promtool_bin: str) -> None:
    fake = tmp_path / "promtool"
    fake.write_text(f'#!/bin/sh\n[ "$1" = --version ] && exec {promtool_bin} --version\n'
                    "exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PROMTOOL", str(fake))
    result = cli("check")
    assert result.code == 2
    assert f"promtool ({fake}) failed with no output (exit 1)" in result.err


@pytest.mark.timeout(30)
@pytest.mark.parametrize("hangs_on", ["--version", "check"])
def test_a_promtool_that_hangs_is_killed_with_its_children(
        hangs_on: str, workspace: Path, cli, monkeypatch, tmp_path: Path,
        promtool_bin: str) -> None:
    """A wrapper whose child sleeps keeps the pipes open after the wrapper is killed: render
    once hung well past its timeout. The whole process group goes."""
    from promcontract.runners import promtool

    fake = tmp_path / "promtool"
    version = "sleep 600" if hangs_on == "--version" else f"exec {promtool_bin} --version"
    fake.write_text(f'#!/bin/sh\nif [ "$1" = --version ]; then {version}; fi\n'
                    "sleep 600\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PROMTOOL", str(fake))
    monkeypatch.setattr(promtool, "TIMEOUT_S", 1.0)
    monkeypatch.setattr(promtool, "VERSION_TIMEOUT_S", 1.0)
    promtool.version.cache_clear()
    contract = workspace / "rules" / "drift.contract.yaml"
    contract.write_text(contract.read_text().replace("threshold: 10", "threshold: 11", 1))
    started = time.monotonic()
    result = cli("render")
    took = time.monotonic() - started
    promtool.version.cache_clear()
    assert result.code == 2, result.err
    if hangs_on == "--version":
        assert "--version did not answer within 1s" in result.err
    else:
        assert "timed out after" in result.err
    assert took < 15
    leftover = subprocess.run(["pgrep", "-f", f"{fake}"], capture_output=True, text=True)
    assert leftover.stdout.strip() == "", leftover.stdout


# --- HTTP: every exchange has a total deadline ------------------------------------------------

class Trickle:
    """A server that answers one byte every ``every`` seconds, forever."""

    def __init__(self, every: float = 0.4):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.every = every
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.drip, args=(conn,), daemon=True).start()

    def drip(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000:
                if self.stop.is_set():
                    return
                conn.sendall(bytes([byte]))
                time.sleep(self.every)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def trickle():
    server = Trickle()
    yield server
    server.close()


# --timeout is the whole command's network time, retries and backoff included; the
# pytest timeout bounds the call itself, so a regression hangs no run.

@pytest.mark.timeout(10)
def test_verify_gateway_gives_up_at_its_deadline(trickle, cli, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    started = time.monotonic()
    result = cli("verify", "--gateway", trickle.url, "--timeout", "1.5")
    took = time.monotonic() - started
    assert result.code == 2
    assert "no complete answer within the --timeout of 1.5s" in result.err
    assert took < 1.5 + 1.5  # one budget for every attempt (was 4 x 1.5 s per attempt)


@pytest.mark.timeout(10)
def test_push_gives_up_at_its_deadline(trickle, cli, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    results = tmp_path / "results.txt"
    results.write_text("app 2\n")
    started = time.monotonic()
    result = cli("push", "--results", str(results), "--gateway", trickle.url, "--timeout", "1",
                 "--attempts", "4", "--backoff", "0")
    took = time.monotonic() - started
    assert result.code == 1
    assert "failed after 1 attempt: timeout: no complete answer within the --timeout of 1s" \
        in result.err
    assert took < 1 + 1.5


@pytest.mark.timeout(15)
def test_import_gateway_has_a_total_deadline(trickle, cli, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    started = time.monotonic()
    result = cli("import", "--group", "Infrastructure Drift", "--gateway", trickle.url,
                 "--timeout", "1", "--check")
    took = time.monotonic() - started
    assert result.code == 2, result.err
    assert "cannot read /metrics" in result.err and "--timeout of 1s" in result.err
    assert took < 1 + 1.5


@pytest.mark.timeout(15)
def test_retries_share_one_deadline(cli, monkeypatch, tmp_path: Path) -> None:
    """A server that answers 503 at once: retries with backoff stop when --timeout is up."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy")
            finally:
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    monkeypatch.chdir(ROOT)
    results = tmp_path / "results.txt"
    results.write_text("app 2\n")
    started = time.monotonic()
    try:
        result = cli("push", "--results", str(results), "--gateway",
                     f"http://127.0.0.1:{server.getsockname()[1]}", "--timeout", "1.5",
                     "--attempts", "50", "--backoff", "0.4")
    finally:
        stop.set()
        server.close()
    took = time.monotonic() - started
    assert result.code == 1
    assert "HTTP 503" in result.err
    assert took < 1.5 + 1.0  # 50 attempts with doubling backoff would take minutes


class Endless(Trickle):
    """A server whose answer never ends, sent as fast as the socket takes it."""

    def drip(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
            chunk = b"x 1\n" * 16384
            while not self.stop.is_set():
                conn.sendall(chunk)
        except OSError:
            pass
        finally:
            conn.close()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("command", ["verify", "push", "import"])
def test_an_endless_answer_is_cut_at_max_bytes(command: str, cli, monkeypatch,
                                               tmp_path: Path) -> None:
    server = Endless()
    monkeypatch.chdir(ROOT)
    results = tmp_path / "results.txt"
    results.write_text("app 2\n")
    argv = {"verify": ["verify", "--gateway", server.url],
            "push": ["push", "--results", str(results), "--gateway", server.url],
            "import": ["import", "--group", "Infrastructure Drift", "--check",
                       "--gateway", server.url]}[command]
    try:
        result = cli(*argv, "--max-bytes", "1000000", "--timeout", "20")
    finally:
        server.close()
    assert result.code in (1, 2), result.err
    assert "answer longer than 1000000 bytes (the --max-bytes cap)" in result.err, result.err
    assert len(result.err_lines) == 1


def test_credentials_in_urls_never_appear_in_messages(cli, monkeypatch, tmp_path: Path) -> None:
    from promcontract.runners.servers import free_port

    monkeypatch.chdir(ROOT)
    results = tmp_path / "results.txt"
    results.write_text("app 2\n")
    url = f"http://alice:s3cret@127.0.0.1:{free_port()}"
    for argv in (["push", "--results", str(results), "--gateway", url, "--timeout", "1"],
                 ["verify", "--gateway", url, "--timeout", "1"],
                 ["verify", "--gateway", "http://alice:s3cret@[::1", "--timeout", "1"],
                 ["import", "--group", "x", "--check", "--gateway", url, "--timeout", "1"]):
        result = cli(*argv)
        assert result.code in (1, 2), result.err
        assert "s3cret" not in result.err + result.out, argv
        assert "alice" not in result.err + result.out, argv


# --- writes, render refusals, adoption ------------------------------------------------------

def test_render_writes_through_a_symlink(workspace: Path, cli) -> None:
    real = workspace / "elsewhere" / "values.tpl"
    real.parent.mkdir()
    tpl = workspace / TEMPLATE.relative_to(ROOT)
    real.write_text(tpl.read_text())
    tpl.unlink()
    tpl.symlink_to(real)
    _contract_with(workspace, "threshold: 10\n", "threshold: 12\n")
    result = cli("render")
    assert result.code == 0, result.err
    assert tpl.is_symlink() and tpl.resolve() == real.resolve()
    assert 'drift_stack_count{job="drift-detection"} > 12' in real.read_text()
    assert not list(real.parent.glob(".*.tmp")) and not list(tpl.parent.glob(".*.tmp"))


@pytest.mark.integration
def test_render_writes_nothing_that_check_would_reject(workspace: Path, cli,
                                                       promtool_bin) -> None:
    _contract_with(workspace, 'summary: "Drift detection has not reported for {{ $value | '
                   'humanizeDuration }}"', 'summary: "Drift detection {{ $value "')
    before = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}
    result = cli("render")
    assert result.code == 1
    assert "render: nothing written: the result would fail promcontract check" in result.err
    assert re.search(r"prometheus_chart_values\.tpl: promtool check rules: .*DriftDetectionStale"
                     r".*annotation \"summary\"", result.err), result.err
    assert {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()} == before


def test_adopting_a_hand_written_group_says_what_it_replaced(workspace: Path, cli,
                                                             promtool_bin) -> None:
    tpl = workspace / TEMPLATE.relative_to(ROOT)
    handwritten = (ROOT / "tests" / "fixtures" / "handwritten_values.tpl").read_text()
    tpl.write_text(handwritten)
    start = handwritten.index("      - name: Infrastructure Drift")
    line = handwritten[:start].count("\n") + 1
    group_text = handwritten[start:handwritten.index("\n\n", start)]
    comments = sum(1 for raw in group_text.splitlines() if raw.strip().startswith("#"))
    result = cli("render")
    assert result.code == 0, result.err
    message = (f"stacks/monitoring/prometheus_chart_values.tpl:{line}: adopted the hand-written "
               f"group 'Infrastructure Drift' (lines {line}-")
    notes = [raw for raw in result.err_lines if raw.startswith(message)]
    assert len(notes) == 1, result.err
    assert f"dropping {comments} comment line" in notes[0]
    assert "git diff" in notes[0]
    assert cli("render").err_lines == []  # said once: the next render has markers


@pytest.mark.parametrize("env,names,module", [
    ("PROMTOOL", ("promtool",), "promtool"), ("AMTOOL", ("amtool",), "amtool"),
    ("PUSHGATEWAY", ("prometheus-pushgateway", "pushgateway"), "servers"),
    ("PROMETHEUS", ("prometheus",), "servers")])
def test_every_binary_is_found_by_one_rule(tmp_path: Path, monkeypatch, env, names,
                                           module) -> None:
    """promtool, amtool, the Pushgateway and Prometheus: $ENV names the binary (a path, or a
    name on PATH); a $ENV that is no executable file, or nothing on PATH, is one line that
    says how to install it. (The servers took any $ENV unchecked and failed later, at start.)"""
    from promcontract.problems import ToolMissing
    from promcontract.runners import amtool, promtool, servers

    def find() -> str:
        if module == "servers":
            package = "prometheus" if env == "PROMETHEUS" else "prometheus-pushgateway"
            return servers.find_binary(names, env, package)
        return {"promtool": promtool, "amtool": amtool}[module].find()

    tool = tmp_path / "bin" / names[-1]
    tool.parent.mkdir()
    tool.write_text(f"#!/bin/sh\necho '{names[0]}, version 9.9.9'\n")  # answers --version
    monkeypatch.setenv("PATH", str(tool.parent))
    monkeypatch.delenv(env, raising=False)
    with pytest.raises(ToolMissing, match=f": {names[0]} not found on PATH; install Debian's"):
        find()  # not executable: not found
    tool.chmod(0o755)
    assert find() == str(tool)
    monkeypatch.setenv(env, names[-1])  # a name, looked up on PATH
    assert find() == str(tool)
    monkeypatch.setenv(env, str(tmp_path / "nowhere"))
    with pytest.raises(ToolMissing, match=f": {env}=.*nowhere is not an executable file; "
                                          "install Debian's"):
        find()


def test_promtool_runs_under_a_soft_memory_limit(tmp_path, monkeypatch) -> None:
    """One promtool process runs many test files; at GOGC=400 alone a chunk of the corpus's
    mutant files grew to 2.1 GB. Each run gets GOMEMLIMIT (512 MiB unless the caller set
    it), one core and GOGC=400 unless set. (A fake promtool that prints its environment.)"""
    from promcontract.runners import promtool

    fake = tmp_path / "promtool"
    fake.write_text('#!/bin/sh\necho "$GOMEMLIMIT $GOMAXPROCS $GOGC"\n')
    fake.chmod(0o755)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.delenv("GOMAXPROCS", raising=False)
    out = promtool.Running(["test", "rules"], binary=str(fake)).wait().stdout
    assert out.split() == ["512MiB", "1", "400"]
    monkeypatch.setenv("GOMEMLIMIT", "2GiB")
    out = promtool.Running(["test", "rules"], binary=str(fake)).wait().stdout
    assert out.split()[0] == "2GiB"
