"""promcontract backtest against a real Prometheus holding generated history (blocks written by
`promtool tsdb create-blocks-from openmetrics`), checked against `promtool test rules` on the
same series: the episodes backtest finds say, at every evaluation time, exactly the alerts
promtool says are firing."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import require_binary

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))

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


# --- 30 days of drift-detection history ----------------------------------------------------

from history import DAY, RUN, drift_samples  # noqa: E402 - tests/fixtures, on the path above


@pytest.fixture(scope="module")
def drift_month(tmp_path_factory, promtool_bin):
    """A real Prometheus serving 30 days of the drift job's history; (url, t0)."""
    from promcontract.runners.servers import History

    prometheus = require_binary("prometheus")
    from history import write_blocks

    tmp = tmp_path_factory.mktemp("drift-month")
    t0 = (int(time.time()) // DAY - 32) * DAY
    (tmp / "data").mkdir()
    write_blocks(drift_samples(t0, 30), str(tmp / "data"), str(tmp), promtool_bin)
    with History(str(tmp / "data"), binary=prometheus) as server:
        yield server.url, t0


@pytest.mark.timeout(600)
def test_a_month_of_drift_history_gives_the_planned_episodes(cli, drift_month,
                                                             tmp_path) -> None:
    """backtest of the bundled contract over 30 days: each planned event fires its alert
    exactly when for: says, resolves when the data says (a change: the next evaluation; a
    series gone: once the 5m lookback no longer reaches its last sample), and the alerts that
    check the job's consistency never fire on consistent data."""
    import json

    url, t0 = drift_month
    start, end = t0 + DAY, t0 + 30 * DAY - 60  # a day in: every series has its first push
    result = cli("backtest", "--prometheus", url, "--contract", "rules/drift.contract.yaml",
                 "--start", str(start), "--end", str(end), "--format", "json")
    assert result.code == 0, result.err
    got = {a["alert"]: [(e["labels"].get("stack"), e["start"], e["end"])
                        for e in a["episodes_list"]] for a in json.loads(result.out)["alerts"]}
    run = [t0 + d * DAY + RUN for d in range(31)]  # the pushes; seen from the next minute
    seen = [r + 30 for r in run]
    expected = {
        # 72h after s03 was first seen (run of day 3), for 1h; its first_seen series stops at
        # the run of day 9: last sample 01:59:30, out of the 5m lookback from 02:05
        "DriftUnaddressed": [("s03", seen[3] + 72 * 3600 + 3600, seen[9] + 4 * 60)],
        "DriftStacksMany": [(None, seen[12] + 1800, seen[14])],
        "DriftStackErrored": [(None, seen[25] + 7200, seen[26])],
        # last run on day 19 (value: its time); 26h later, then for 30m; the run of day 22
        "DriftDetectionStale": [(None, seen[19] + 26 * 3600 + 1800, seen[22])],
    }
    for name in ("DriftCountMismatch", "DriftStackSeriesMissing", "DriftFirstSeenMissing",
                 "DriftStaleFirstSeen", "DriftHeartbeatOnly"):
        expected[name] = []
    assert got == expected


@pytest.mark.timeout(600)
def test_against_another_version_lists_what_the_change_does_and_draws_it(
        cli, drift_month, tmp_path) -> None:
    """--against a rule file with DriftStacksMany at `> 11` for 1h and DriftStackErrored at
    `> 1`: the first episode shifts by 30m, the second is removed; -o writes one SVG per
    alert whose firing band sits where the episode is, and an index page."""
    import json
    import xml.etree.ElementTree as ET

    from promcontract.contract import load_contract
    from promcontract.render import group

    url, t0 = drift_month
    start, end = t0 + 10 * DAY, t0 + 27 * DAY
    now = tmp_path / "now.yml"
    now.write_text(group.render_rule_file(load_contract("rules/drift.contract.yaml")))
    before = tmp_path / "before.yml"
    text = now.read_text()
    changed = text.replace("drift_stack_count{job=\"drift-detection\"} > 10\n        for: 30m",
                           "drift_stack_count{job=\"drift-detection\"} > 11\n        for: 1h")
    changed = changed.replace("drift_error_count{job=\"drift-detection\"} > 0",
                              "drift_error_count{job=\"drift-detection\"} > 1")
    assert changed.count("> 11") == 1 and changed.count("> 1\n") == 1
    before.write_text(changed)
    args = ("backtest", "--prometheus", url, "--rules", str(now), "--against", str(before),
            "--start", str(start), "--end", str(end))
    out = tmp_path / "pictures"
    text_run = cli(*args, "-o", str(out))
    as_json = cli(*args, "--format", "json")
    markdown = cli(*args, "--format", "markdown")
    assert text_run.code == 0 and as_json.code == 0 and markdown.code == 0, text_run.err
    alerts = {a["alert"]: a for a in json.loads(as_json.out)["alerts"]}
    many = alerts["DriftStacksMany"]["against"]
    assert (many["shifted"], many["added"], many["removed"]) == (1, 0, 0)
    (moved,) = many["shifted_list"]
    assert moved["now"]["start"] - moved["before"]["start"] == -1800
    assert moved["now"]["end"] == moved["before"]["end"]
    errored = alerts["DriftStackErrored"]["against"]
    assert (errored["added"], errored["removed"], errored["shifted"]) == (1, 0, 0)
    assert re.search(r"DriftStacksMany: 1 episode\(s\).*; against \S+before\.yml: 1 shifted "
                     r"\(\S+ start -30m end same\), 0 unchanged", text_run.out), text_run.out
    assert "DriftStackErrored" in markdown.out and "+1 added" in markdown.out
    assert markdown.out.splitlines()[2].startswith("| alert | where | episodes |")

    # the same change as a git revision: the committed file is the old version
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "alerts.yml").write_text(changed)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "alerts.yml"], check=True)
    subprocess.run([*git, "commit", "-qm", "before"], check=True)
    (repo / "alerts.yml").write_text(now.read_text())
    by_revision = cli("backtest", "--prometheus", url, "--rules", str(repo / "alerts.yml"),
                      "--against", "HEAD", "--start", str(start), "--end", str(end),
                      "--format", "json")
    assert by_revision.code == 0, by_revision.err
    revised = {a["alert"]: a["against"] for a in json.loads(by_revision.out)["alerts"]}
    assert {k: {f: v for f, v in a.items() if f != "where"} for k, a in revised.items()} == \
        {k: {f: v for f, v in a["against"].items() if f != "where"} for k, a in alerts.items()}

    pictures = sorted(out.glob("*.svg"))
    assert len(pictures) == 9 and (out / "index.html").is_file()
    ns = {"s": "http://www.w3.org/2000/svg"}
    svg = ET.parse(next(p for p in pictures if "DriftStacksMany" in p.name)).getroot()
    episode = alerts["DriftStacksMany"]["episodes_list"][0]
    band = svg.find(".//s:rect[@class='firing now']", ns)
    old_band = svg.find(".//s:rect[@class='firing before']", ns)
    assert band is not None and old_band is not None
    assert float(band.get("data-start")) == episode["start"]
    plot = svg.find(".//s:rect[@class='plot']", ns)
    left, width = float(plot.get("x")), float(plot.get("width"))

    def x(t: float) -> float:
        return left + (t - start) / (end - start) * width

    assert abs(float(band.get("x")) - x(episode["start"])) < 0.1
    assert abs(float(band.get("x")) + float(band.get("width")) - x(episode["end"])) < 0.1
    assert float(old_band.get("x")) > float(band.get("x"))  # for: 1h starts 30m later
    assert {t.get("data-value") for t in svg.findall(".//s:line", ns)
            if "threshold" in (t.get("class") or "")} == {"10", "11"}
    assert svg.findall(".//s:polyline[@class='series']", ns)
    page = (out / "index.html").read_text()
    assert all(p.name in page for p in pictures)


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG (what Chromium
    writes for a screenshot)."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    channels = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytes(
        width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (
            stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) \
                    & 255
        rows.append(bytes(line))
        previous = bytes(line)
    return width, height, [bytes(r) for r in rows]


def _firing_pixels(png: bytes) -> int:
    """How many pixels of a screenshot are the firing band's red (#d62728)."""
    width, _, rows = _png_pixels(png)
    channels = len(rows[0]) // width
    return sum(1 for row in rows for x in range(0, len(row), channels)
               if abs(row[x] - 0xd6) < 6 and abs(row[x + 1] - 0x27) < 6
               and abs(row[x + 2] - 0x28) < 6)


def _screenshot(page: Path, out: Path) -> bytes:
    from promcontract.runners.process import run_bounded

    chromium = require_binary("chromium", "chromium-browser")
    # its own process group, killed whole when it ends or times out (chromium forks helpers)
    run_bounded([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                 f"--user-data-dir={out.parent / 'chromium-profile'}",
                 "--window-size=1000,4000", f"--screenshot={out}", page.as_uri()],
                timeout=120)
    assert out.is_file(), "chromium wrote no screenshot"
    return out.read_bytes()


@pytest.mark.timeout(600)
def test_the_index_page_shows_the_pictures_in_a_browser(cli, drift_month, tmp_path) -> None:
    """Headless Chromium opens the index page offline and draws each firing band: the
    screenshot holds more of its red than the legends' squares alone could (10x10 each), about
    as much as the bands' rectangles cover; the same page with the pictures missing shows
    none (so the check can fail)."""
    import xml.etree.ElementTree as ET

    url, t0 = drift_month
    out = tmp_path / "pictures"
    result = cli("backtest", "--prometheus", url, "--contract", "rules/drift.contract.yaml",
                 "--start", str(t0 + 10 * DAY), "--end", str(t0 + 16 * DAY), "-o", str(out))
    assert result.code == 0, result.err
    pictures = list(out.glob("*.svg"))
    bands = sum(float(r.get("width")) * float(r.get("height"))
                for p in pictures for r in ET.parse(p).getroot().iter(
                    "{http://www.w3.org/2000/svg}rect") if r.get("class") == "firing now")
    assert bands > 1000  # DriftStacksMany fires for two of the six days
    shown = _firing_pixels(_screenshot(out / "index.html", tmp_path / "shot.png"))
    legends = 100 * len(pictures)
    assert shown >= legends + 0.9 * bands, (shown, legends, bands)
    for svg in pictures:
        svg.unlink()
    assert _firing_pixels(_screenshot(out / "index.html", tmp_path / "empty.png")) == 0


def test_against_and_output_mistakes_are_one_line_before_any_query(cli, tmp_path) -> None:
    """A revision git does not know, a file against two sources, two sources at once, an
    output that is a file: one line, exit 2, before anything is asked of the server (the
    endpoint here answers nothing)."""
    rules = tmp_path / "r.yml"
    rules.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n")
    other = tmp_path / "o.yml"
    other.write_text(rules.read_text())
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    base = ("backtest", "--prometheus", "http://127.0.0.1:9", "--since", "1h")
    for argv, words in [
        (("--rules", str(rules), "--against", "no-such-rev"), "git show"),
        (("--rules", str(rules), "--against=--upload-pack=x"), "neither a file nor"),
        (("--rules", str(rules), str(other), "--against", str(other)), "one source file"),
        (("--rules", str(rules), "--contract", "rules/drift.contract.yaml"), "give one"),
        (("--rules", str(rules), "-o", str(other)), "not a directory"),
    ]:
        result = cli(*base, *argv)
        assert result.code == 2 and len(result.err_lines) == 1 and words in result.err, \
            (argv, result.err)
    assert other.read_text() == rules.read_text()  # the file named as output is untouched
