"""promcontract backtest against a real Prometheus holding generated history (blocks written by
`promtool tsdb create-blocks-from openmetrics`), checked against `promtool test rules` on the
same series: the episodes backtest finds say, at every evaluation time, exactly the alerts
promtool says are firing."""

from __future__ import annotations

import random
import re
import subprocess
import time

import pytest
import yaml

from conftest import require_binary

pytestmark = pytest.mark.integration

STEPS = 60  # evaluations a minute apart


def _case(rng: random.Random, i: int) -> tuple[str, float, float, list[float | None]]:
    """(expression, for, keep_firing_for, values) of case i: a gauge with gaps, and a rule on
    it of one of several shapes."""
    values: list[float | None] = []
    level = rng.randint(0, 10)
    gap = 0
    for _ in range(STEPS):
        if gap:
            gap -= 1
            values.append(None)
            continue
        if rng.random() < 0.04:
            gap = rng.randint(1, 8)  # shorter and longer than the 5m lookback
        level = max(0, min(12, level + rng.choice((-2, -1, 0, 0, 1, 2))))
        values.append(float(level))
    c = rng.randint(2, 9)
    m = f'bt_{i}{{case="{i}"}}'
    expr = rng.choice([f"{m} > {c}", f"{m} >= {c}", f"{m} < {c}",
                       f"max by (case) ({m}) > {c}", f"{m} > {c} and {m} < {c + 3}",
                       f"absent({m})", f"{m} > {c} unless {m} == {c + 2}"])
    for_s = rng.choice((0, 0, 60, 120, 300))
    keep_s = rng.choice((0, 0, 0, 120))
    return expr, float(for_s), float(keep_s), values


def _notation(values: list[float | None]) -> str:
    return " ".join("_" if v is None else f"{v:g}" for v in values)


@pytest.mark.timeout(600)
def test_backtest_episodes_are_what_promtool_says(tmp_path, promtool_bin) -> None:
    """300 drawn cases (gauges with gaps shorter and longer than the lookback; comparisons,
    aggregations, and/unless, absent(); for: and keep_firing_for): one real Prometheus serves
    their history, backtest evaluates them through its API, and promtool, given the same
    series, must find exactly the episodes' alerts firing at each of the 60 evaluations."""
    from promcontract.runners.servers import History
    from promcontract.workflows import backtest

    prometheus = require_binary("prometheus")
    rng = random.Random(20261206)
    cases = [_case(rng, i) for i in range(300)]
    t0 = (int(time.time()) // 3600 - 6) * 3600  # six hours ago, on the hour
    lines = []
    for i, (_, _, _, values) in enumerate(cases):
        lines.append(f"# TYPE bt_{i} gauge")
        lines += [f'bt_{i}{{case="{i}"}} {v:g} {t0 + k * 60}'
                  for k, v in enumerate(values) if v is not None]
    (tmp_path / "history.om").write_text("\n".join(lines) + "\n# EOF\n")
    blocks = tmp_path / "data"
    subprocess.run([promtool_bin, "tsdb", "create-blocks-from", "openmetrics",
                    str(tmp_path / "history.om"), str(blocks)], check=True,
                   capture_output=True, timeout=120)
    rules = [backtest.AlertRule(f"Case{i}", expr, for_s, keep_s, (("severity", "warning"),),
                                f"cases:{i}") for i, (expr, for_s, keep_s, _) in
             enumerate(cases)]
    end = t0 + (STEPS - 1) * 60
    times = [float(t0 + k * 60) for k in range(STEPS)]
    with History(str(blocks), binary=prometheus) as server:
        api = backtest.Api(server.url, {}, 30.0, 64 * 1024 * 1024)
        results = backtest.run(api, rules, t0, end, 60.0)
        # the check fails on the defect it is for: keep_firing_for ignored
        kept = next(r for r in results if r.rule.keep_s and r.episodes)
        held, _ = backtest.evaluate(api, kept.rule, t0, end, 60.0)
        forgetful = backtest.AlertRule(kept.rule.name, kept.rule.expr, kept.rule.for_s, 0.0,
                                       kept.rule.labels, "")
    assert sum(len(r.episodes) for r in results) > 100  # the cases fire, and often

    # promtool on the same series: every alert at every evaluation
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "cases", "rules": [
        {"alert": r.name, "expr": r.expr, "for": f"{int(r.for_s)}s",
         **({"keep_firing_for": f"{int(r.keep_s)}s"} if r.keep_s else {}),
         "labels": dict(r.labels)} for r in rules]}]}, sort_keys=False))
    checks = []
    for result in results:
        for k in range(STEPS):
            t = t0 + k * 60
            firing = sorted((dict((a, b) for a, b in e.labels if a != "alertname")
                             for e in result.episodes
                             if e.start <= t and (e.end is None or t < e.end)),
                            key=lambda labels: sorted(labels.items()))
            checks.append({"eval_time": f"{k}m", "alertname": result.rule.name,
                           "exp_alerts": [{"exp_labels": labels} for labels in firing]})
    series = [{"series": f'bt_{i}{{case="{i}"}}', "values": _notation(values)}
              for i, (_, _, _, values) in enumerate(cases)]
    (tmp_path / "t.yml").write_text(yaml.safe_dump({
        "rule_files": ["rules.yml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": checks}]},
        sort_keys=False))
    proc = subprocess.run([promtool_bin, "test", "rules", str(tmp_path / "t.yml")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]

    assert backtest.episodes(forgetful, held, times) != kept.episodes  # (and so promtool
    # would fail on the episodes of a backtest that forgot keep_firing_for)


@pytest.mark.parametrize("argv, words", [
    (["--prometheus", "ftp://x"], "--prometheus"),
    (["--prometheus", "http://127.0.0.1:9", "--since", "1h", "--start", "0"], "give one"),
    (["--prometheus", "http://127.0.0.1:9", "--start", "yesterday"], "not RFC 3339"),
    (["--prometheus", "http://127.0.0.1:9", "--header", "nocolon"], "not 'Name: value'"),
])
def test_bad_arguments_are_one_line(cli, argv, words) -> None:
    result = cli("backtest", *argv)
    assert result.code == 2 and len(result.err_lines) == 1 and words in result.err, result.err


def test_an_unreachable_endpoint_is_one_line_exit_2(cli, tmp_path) -> None:
    from promcontract.runners.servers import free_port

    rules = tmp_path / "r.yml"
    rules.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n")
    result = cli("backtest", "--prometheus", f"http://127.0.0.1:{free_port()}", "--rules",
                 str(rules), "--since", "1h", "--timeout", "5s")
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert "127.0.0.1" in result.err


def test_a_query_the_server_rejects_is_one_line(cli, tmp_path) -> None:
    from promcontract.runners.servers import History

    prometheus = require_binary("prometheus")
    rules = tmp_path / "r.yml"
    rules.write_text("groups:\n- name: g\n  rules:\n  - alert: Bad\n    expr: sum(up\n")
    (tmp_path / "data").mkdir()
    with History(str(tmp_path / "data"), binary=prometheus) as server:
        result = cli("backtest", "--prometheus", server.url, "--rules", str(rules),
                     "--since", "1h")
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert re.search(r"r\.yml:4: Bad: the server refused the query: .*parse error", result.err)


def test_the_command_prints_each_alerts_episodes(cli, tmp_path, promtool_bin) -> None:
    """One gauge above 5 from minute 10 to minute 29 and again from 40 to 44: `for: 5m` makes
    two episodes (15m and 0m: the second never holds long enough, so one), printed per alert;
    --format json carries each episode."""
    from promcontract.runners.servers import History

    prometheus = require_binary("prometheus")
    t0 = (int(time.time()) // 3600 - 3) * 3600
    values = [9 if 10 <= k < 30 or 40 <= k < 45 else 1 for k in range(60)]
    (tmp_path / "h.om").write_text("# TYPE load gauge\n" + "".join(
        f'load{{job="x"}} {v} {t0 + k * 60}\n' for k, v in enumerate(values)) + "# EOF\n")
    subprocess.run([promtool_bin, "tsdb", "create-blocks-from", "openmetrics",
                    str(tmp_path / "h.om"), str(tmp_path / "data")], check=True,
                   capture_output=True, timeout=120)
    rules = tmp_path / "r.yml"
    rules.write_text("groups:\n- name: g\n  rules:\n  - alert: LoadHigh\n"
                     "    expr: load > 5\n    for: 5m\n  - alert: Never\n    expr: load > 50\n")
    with History(str(tmp_path / "data"), binary=prometheus) as server:
        args = ("backtest", "--prometheus", server.url, "--rules", str(rules),
                "--start", str(t0), "--end", str(t0 + 59 * 60))
        text = cli(*args)
        as_json = cli(*args, "--format", "json")
    assert text.code == 0, text.err
    assert re.search(r"r\.yml:4: LoadHigh: 1 episode\(s\), firing 15m in all, first "
                     r"\S+, last until \S+, longest 15m", text.out), text.out
    assert re.search(r"r\.yml:\d+: Never: never fired", text.out), text.out
    data = __import__("json").loads(as_json.out)
    (episode,) = data["alerts"][0]["episodes_list"]
    assert (episode["start"], episode["end"]) == (t0 + 15 * 60, t0 + 30 * 60)
    assert episode["labels"] == {"alertname": "LoadHigh", "job": "x"}


def test_a_chunk_refused_as_too_large_is_split_and_asked_again() -> None:
    """A server that refuses more than 500 points a query (as Thanos or Mimir may, below
    Prometheus's 11,000): backtest splits each chunk until it is answered, and says so in one
    line when even MIN_CHUNK_POINTS is refused. (A fake server: the limit is its own.)"""
    import http.server
    import json
    import threading
    import urllib.parse

    from promcontract.problems import UserError
    from promcontract.workflows import backtest

    asked: list[int] = []
    limit = [500]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            start, end, step = (float(q[k][0]) for k in ("start", "end", "step"))
            points = int(round((end - start) / step)) + 1
            asked.append(points)
            if points > limit[0]:
                body = {"status": "error", "errorType": "bad_data",
                        "error": "exceeded maximum resolution of 500 points per timeseries"}
                code = 400
            else:
                body = {"status": "success", "data": {"resultType": "matrix", "result": [
                    {"metric": {"job": "x"}, "values": [[start + k * step, "1"]
                                                        for k in range(points)]}]}}
                code = 200
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = backtest.Api(f"http://127.0.0.1:{server.server_address[1]}", {}, 10.0, 1 << 24)
        rule = backtest.AlertRule("A", "up", 0.0, 0.0, (), "r.yml:1")
        held, queries = backtest.evaluate(api, rule, 0.0, 1999 * 60.0, 60.0)
        assert len(held) == 2000 and sorted(set(asked)) == [500, 1000, 2000] and queries == 4
        limit[0] = 10
        with pytest.raises(UserError) as info:
            backtest.evaluate(api, rule, 0.0, 1999 * 60.0, 60.0)
        assert "the server refused the query (split down to" in str(info.value)
    finally:
        server.shutdown()
        server.server_close()
