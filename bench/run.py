"""make bench: speed figures measured in one run, printed, never asserted.

Each measure prints its figures and, where the issue asks, ratios to a baseline measured in
the same run on the same input (this machine is shared and noisy: compare within a run).
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
sys.path.insert(0, str(ROOT / "generator"))

from bigtemplate import make_template  # noqa: E402

PROMCONTRACT = [sys.executable, "-m", "promcontract"]


def wall(cmd: list[str], repeat: int, **kwargs) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1, 3):
            raise SystemExit(f"{cmd} failed: {proc.stderr[-500:]}")
    return times


def bench_check() -> None:
    """`promcontract check` on a generated 5,000-line / 300-rule template (target <= 0.4 s)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "rules").mkdir()
        shutil.copy(ROOT / "rules" / "drift.contract.yaml", work / "rules")
        tpl = work / "values.tpl"
        tpl.write_text(make_template(), encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=str(ROOT / "generator"))
        subprocess.run(PROMCONTRACT + ["render", "--tpl", str(tpl)], cwd=work, env=env,
                       check=True, capture_output=True)
        lines = tpl.read_text().count("\n")
        rules = tpl.read_text().count("- alert:")
        times = wall(PROMCONTRACT + ["check", "--tpl", str(tpl)], 5, cwd=work, env=env)
        quick = wall(PROMCONTRACT + ["check", "--skip-unit-tests", "--tpl", str(tpl)], 7,
                     cwd=work, env=env)
        rules_file = work / "extracted.yml"
        from promcontract.template import reader

        text = reader.read(str(tpl), tpl.read_text()).rules_text
        rules_file.write_text(text)
        promtool_times = wall(["promtool", "check", "rules", str(rules_file)], 7)
        unit_times = wall(["promtool", "test", "rules",
                           str(work / "rules" / "generated" / "drift.test.yml")], 3)
        python_times = wall([sys.executable, "-c", "pass"], 7)
    med, pmed = statistics.median(times), statistics.median(promtool_times)
    umed = statistics.median(unit_times)
    qmed = statistics.median(quick)
    print(f"check: template {lines} lines, {rules} rules; promcontract check --skip-unit-tests "
          f"(validate, render --check, promtool check rules) median {qmed:.3f} s "
          f"(min {min(quick):.3f}, target <= 0.4 s)")
    print(f"check: same run, full check with the derived unit tests median {med:.3f} s; "
          f"promtool test rules on the derived tests alone {umed:.3f} s")
    print(f"check: same run, promtool check rules alone on the extracted rules median "
          f"{pmed:.3f} s; bare python start {statistics.median(python_times):.3f} s; "
          f"ratio check --skip-unit-tests/promtool {qmed / pmed:.2f}")


def _big_payload(stacks: int) -> str:
    from promcontract.contract import load_contract
    from promcontract.payload import pusher

    contract = load_contract(str(ROOT / "rules" / "drift.contract.yaml"))
    r = pusher.roles(contract)
    now = 1_700_000_000
    results = pusher.parse_results("".join(f"stack-{i} {i % 3}\n" for i in range(stacks)), "b")
    previous = {f"stack-{i}": now - 3600 * (i % 200) for i in range(stacks)}
    states = pusher.next_states(results, previous, now, r)
    return pusher.render_payload(contract, states, now, r)


def bench_verify() -> None:
    """`promcontract verify` on a 10,000-stack payload, whole process (target <= 0.3 s)."""
    payload = _big_payload(10_000)
    samples = sum(1 for line in payload.splitlines() if line and not line.startswith("#"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "payload.prom"
        path.write_text(payload)
        env = dict(os.environ, PYTHONPATH=str(ROOT / "generator"))
        cmd = PROMCONTRACT + ["verify", str(path), "--contract",
                              str(ROOT / "rules" / "drift.contract.yaml")]
        times = wall(cmd, 7, env=env)
        promtool_times = []
        for _ in range(7):
            start = time.perf_counter()
            subprocess.run(["promtool", "check", "metrics"], input=payload, text=True,
                           capture_output=True)
            promtool_times.append(time.perf_counter() - start)
    from prometheus_client.parser import text_string_to_metric_families

    from promcontract.payload import text004 as exposition

    lax, strict = [], []
    for _ in range(5):
        start = time.perf_counter()
        list(text_string_to_metric_families(payload))
        lax.append(time.perf_counter() - start)
        start = time.perf_counter()
        exposition.parse(payload)
        strict.append(time.perf_counter() - start)
    med, pmed = statistics.median(times), statistics.median(promtool_times)
    print(f"verify: 10,000 stacks, {samples} samples; promcontract verify (whole process, incl. "
          f"promtool lint) median {med:.3f} s (min {min(times):.3f}, target <= 0.3 s)")
    print(f"verify: same run, promtool check metrics median {pmed:.3f} s; ratio verify/promtool "
          f"{med / pmed:.2f}")
    print(f"verify: in-process parse only: strict {statistics.median(strict):.3f} s, "
          f"prometheus_client lax parser {statistics.median(lax):.3f} s")


def bench_push_requests() -> None:
    """HTTP requests per push for 10 and 10,000 stacks (one GET + one PUT expected)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fault_proxy import FaultProxy
    from promcontract.contract import load_contract
    from promcontract.payload import pusher
    from promcontract.runners.servers import Pushgateway

    contract = load_contract(str(ROOT / "rules" / "drift.contract.yaml"))
    with Pushgateway() as pgw:
        for stacks in (10, 10_000):
            with FaultProxy(pgw.url) as proxy:
                text = "".join(f"stack-{i} {i % 3}\n" for i in range(stacks))
                start = time.perf_counter()
                pusher.push(contract, text, "bench", proxy.url, 1_700_000_000, lint=False)
                took = time.perf_counter() - start
                print(f"push: {stacks} stacks: {sum(proxy.counts.values())} HTTP requests "
                      f"({dict(proxy.counts)}), {took:.3f} s in-process")


def bench_oracle() -> None:
    """Scenarios verified per second through real promtool: (a) one promtool process per
    scenario, (b) batched (label-distinguished series in one test group per alert where the
    expression keeps labels; one promtool process per core). Target: (b) >= 1,000/s and
    >= 25x (a)."""
    import json
    import random

    sys.path.insert(0, str(ROOT / "tests"))
    from promcontract.contract import load_contract
    from promcontract.workflows import promcheck
    from scenario_strategies import derivable, draw_examples, scenario_for

    contract = load_contract(str(ROOT / "rules" / "drift.contract.yaml"))
    strategies = [scenario_for(a, contract) for a in derivable(contract)]
    # a fixed pool: each alert's share drawn with a fixed seed, then shuffled the same way
    per = 1000 // len(strategies)
    pool = [s for index, strategy in enumerate(strategies)
            for s in draw_examples(strategy, per, seed=11 + index)]
    random.Random(11).shuffle(pool)
    # Firing semantics only (rules without annotations), as the main property test checks.
    ws = promcheck.Workspace(contract, templates=False)
    annotated = promcheck.Workspace(contract)
    try:
        naive = pool[:40]
        start = time.perf_counter()
        for scenario in naive:
            assert ws.check([scenario], batch=False).agrees
        naive_rate = len(naive) / (time.perf_counter() - start)
        start = time.perf_counter()
        verdict = ws.check(pool, batch=True)
        batched_rate = len(pool) / (time.perf_counter() - start)
        assert verdict.agrees, verdict.output[:2000]
        start = time.perf_counter()
        assert annotated.check(pool, batch=True).agrees
        annotated_rate = len(pool) / (time.perf_counter() - start)
        per_alert = {}
        for name in sorted({s.alert for s in pool}):
            subset = [s for s in pool if s.alert == name]
            start = time.perf_counter()
            assert ws.check(subset, batch=True).agrees
            per_alert[name] = len(subset) / (time.perf_counter() - start)
        from promcontract.testgen.scenarios import can_batch

        labelled = [s for s in pool
                    if can_batch(next(a for a in contract.alerts if a.name == s.alert))]
        start = time.perf_counter()
        assert ws.check(labelled, batch=True).agrees
        labelled_rate = len(labelled) / (time.perf_counter() - start)
        floors = _floors(ws, contract, pool)
    finally:
        ws.close()
        annotated.close()
    kinds = {}
    for scenario in pool:
        kinds[scenario.alert] = kinds.get(scenario.alert, 0) + 1
    print(f"oracle: {len(pool)} generated scenarios {kinds}")
    print(f"oracle: (a) one promtool process per scenario: {naive_rate:.1f} scenarios/s "
          f"(over {len(naive)})")
    print(f"oracle: (b) batched, one promtool process per core ({os.cpu_count()}): "
          f"{batched_rate:.1f} scenarios/s; "
          f"speedup {batched_rate / naive_rate:.1f}x (targets: >= 1000/s, >= 25x)")
    print(f"oracle: (b) with the real annotations expanded by promtool at every evaluation: "
          f"{annotated_rate:.1f} scenarios/s")
    print("oracle: (b) per alert, batched alone: " + ", ".join(
        f"{name} {rate:.0f}/s" for name, rate in per_alert.items())
        + " (label-distinguished series share promtool's evaluation steps; the heartbeat's "
        "max by (job) forces scenarios into sequence, one step each)")
    print(f"oracle: (b) the {len(labelled)} scenarios of alerts that keep a label (all "
          f"label-distinguished), batched alone: {labelled_rate:.1f} scenarios/s")
    print("\n".join(floors))
    print(json.dumps({"scenarios_per_s": round(batched_rate, 1),
                      "naive_scenarios_per_s": round(naive_rate, 1),
                      "speedup": round(batched_rate / naive_rate, 1)}))


def _timed_promtool(path: Path) -> float:
    """Best of three wall times of ``promtool test rules path`` (which must pass), started as
    the batches start it (promtool.Running: its GOMAXPROCS and GOGC)."""
    from promcontract.runners import promtool

    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = promtool.Running(["test", "rules", str(path)], merge=True).wait()
        best = min(best, time.perf_counter() - start)
        assert result.returncode == 0, result.output
    return best


def _floor_file(ws, contract, alert, series: list, steps: int) -> Path:
    """A promtool test file of one scenario checked once, at its last step, written by the
    same code as the property tests' batches (rules of the workspace: no templates)."""
    from promcontract.kinds.series import STEP, Scenario
    from promcontract.testgen import testfile
    from promcontract.testgen.scenarios import single_alert

    path = Path(ws.dir) / f"floor-{alert.name}-{len(series)}-{steps}.test.yml"
    scenario = Scenario(alert.name, "floor", tuple(series), (steps * STEP,))
    path.write_text(testfile.test_file(single_alert(contract, alert.name, templates=False),
                                     f"{alert.name}.rules.yml", [scenario]))
    return path


def _floors(ws, contract, pool) -> list[str]:
    """The least promtool time the pool needs, from costs measured in this run.

    Scenarios in sequence (the heartbeat): promtool's time per evaluation step of that rule
    (one series, 2,000 steps, less a 1-step run) times the steps the pool's heartbeat
    scenarios take. Label-distinguished scenarios: promtool's time per series per step (500
    quiet series over 100 steps, less a 1-step run) times series x steps of each alert's test
    group (its length is its longest scenario's). Both leave out every other cost (firing
    alerts, checks, Python), so they are lower bounds.
    """
    from promcontract.kinds.series import STEP, Series
    from promcontract.testgen.scenarios import can_batch

    alerts = {a.name: a for a in contract.alerts}
    job = (("job", contract.job),)
    heart = next(a for a in contract.alerts if a.kind == "heartbeat_stale")  # in sequence

    def fresh(steps: int) -> Path:  # a heartbeat pushed every step: never stale
        beat = Series(heart.spec.metric, job, tuple(float(i * STEP) for i in range(steps + 1)))
        return _floor_file(ws, contract, heart, [beat], steps)

    per_step = (_timed_promtool(fresh(2000)) - _timed_promtool(fresh(1))) / 1999
    mine = [s for s in pool if s.alert == heart.name]
    # in sequence each scenario takes its own steps plus one (stale markers, separator)
    steps = sum(max(len(series.values) for series in s.series) + 1 for s in mine)
    least = steps * per_step

    quiet = next(a for a in contract.alerts if a.kind == "value_above")

    def below(steps: int) -> Path:  # 500 series just below the threshold: nothing fires
        many = [Series(quiet.spec.metric, job + (("n", str(i)),),
                       (quiet.spec.threshold - 1,) * steps)
                for i in range(500)]
        return _floor_file(ws, contract, quiet, many, steps - 1)

    per_series_step = (_timed_promtool(below(100)) - _timed_promtool(below(1))) / (500 * 99)
    labelled = [s for s in pool if can_batch(alerts[s.alert])]
    work = 0
    for name in {s.alert for s in labelled}:
        group = [s for s in labelled if s.alert == name]
        length = max(max(s.eval_times) for s in group) // STEP + 1
        work += sum(len(s.series) for s in group) * length
    least_labelled = work * per_series_step
    return [
        f"oracle: floor, in sequence: promtool {per_step * 1e6:.0f} us per evaluation step of "
        f"{heart.name} (max by (job): one alert at a time, so its scenarios run in sequence; "
        f"to fire one needs >= {int(heart.for_seconds // STEP) + 1} steps); the pool's "
        f"{len(mine)} such scenarios take {steps} steps = {least:.2f} s at least: at most "
        f"{len(mine) / least:.0f} of them/s",
        f"oracle: floor, label-distinguished: promtool {per_series_step * 1e6:.1f} us per "
        f"series per step; the pool's {len(labelled)} such scenarios make {work} series-steps "
        f"= {least_labelled:.2f} s at least: at most {len(labelled) / least_labelled:.0f} of "
        "them/s",
        f"oracle: floor, whole pool: {least + least_labelled:.2f} s of promtool at least, so "
        f"at most {len(pool) / (least + least_labelled):.0f} scenarios/s through one promtool "
        "process, even with no Python time"]


def bench_mutate() -> None:
    """`promcontract mutate` over the bundled contracts against one `promtool test rules` of
    their derived test files (target <= 3x), and `make check` as CI runs it (target
    <= 10 s on 2 cores). Same run, same files."""
    tests = sorted(str(p) for p in (ROOT / "rules" / "generated").glob("*.test.yml"))
    promtool_times = wall(["promtool", "test", "rules", *tests], 3, cwd=ROOT)
    mutate_times = wall(PROMCONTRACT + ["mutate"], 3, cwd=ROOT,
                        env=dict(os.environ, PYTHONPATH=str(ROOT / "generator")))
    check_times = wall(["make", "-s", "check"], 2, cwd=ROOT)
    one, mut = statistics.median(promtool_times), statistics.median(mutate_times)
    proc = subprocess.run(PROMCONTRACT + ["mutate"], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT / "generator")))
    summary = proc.stdout.strip().splitlines()[-1]
    print(f"mutate: {summary}")
    print(f"mutate: median {mut:.2f} s; one promtool test rules over the {len(tests)} derived "
          f"test files median {one:.2f} s; ratio {mut / one:.2f}x (target <= 3x) "
          f"on {os.cpu_count()} cores")
    print(f"mutate: make check median {statistics.median(check_times):.2f} s "
          f"(min {min(check_times):.2f}; target <= 10 s on 2 cores)")


def bench_characterize() -> None:
    """`promcontract characterize` on a realistic ~300-alert, ~40-group template (every shape
    of tests/fixtures/realistic.py). Targets: >= 60% of alerts characterized, <= 120 s on 2
    cores."""
    from realistic import make_realistic_template

    with tempfile.TemporaryDirectory() as tmp:
        tpl = Path(tmp) / "values.tpl"
        tpl.write_text(make_realistic_template(), encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=str(ROOT / "generator"))
        start = time.perf_counter()
        proc = subprocess.run(PROMCONTRACT + ["characterize", "--tpl", str(tpl), "-o",
                                              str(Path(tmp) / "out")],
                              capture_output=True, text=True, env=env, cwd=tmp)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        check = subprocess.run(PROMCONTRACT + ["characterize", "--tpl", str(tpl), "-o",
                                               str(Path(tmp) / "out"), "--check"],
                               capture_output=True, text=True, env=env, cwd=tmp)
        check_seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"characterize failed: {proc.stderr[-500:]}")
    last = proc.stdout.strip().splitlines()[-1]
    print(f"characterize: {last}")
    print(f"characterize: whole run {seconds:.1f} s (target <= 120 s on {os.cpu_count()} "
          f"cores; target >= 60% characterized); --check {check_seconds:.1f} s "
          f"(exit {check.returncode})")


def bench_differential() -> None:
    """The strict format check against the real Go parsers (promtool check metrics, a
    Pushgateway PUT) on 10,000 near-valid payloads: every Go rejection must be ours too; what
    only we reject is counted by rule (each in the documented list)."""
    import collections

    sys.path.insert(0, str(ROOT / "tests"))
    import differential
    from promcontract.runners.servers import Pushgateway

    counts = {"examples": 0, "go_rejects": 0, "laxer": 0}
    stricter: collections.Counter = collections.Counter()
    classes: collections.Counter = collections.Counter()
    missed: collections.Counter = collections.Counter()
    start = time.perf_counter()
    with Pushgateway() as pgw:
        @differential.over_payloads(10_000)
        def check(payload: str) -> None:
            counts["examples"] += 1
            verdict = differential.judge(payload, pgw.url)
            counts["go_rejects"] += verdict.go_rejects
            counts["laxer"] += verdict.laxer
            if verdict.go_rejects:
                classes[verdict.go_class or "unclassified"] += 1
                if verdict.missed_class:
                    missed[verdict.missed_class] += 1
            if not verdict.go_rejects:
                stricter.update(verdict.ours)

        check()
    seconds = time.perf_counter() - start
    print(f"differential: {counts['examples']} payloads in {seconds:.0f} s; Go rejects "
          f"{counts['go_rejects']}; we accept one of those: {counts['laxer']} (must be 0)")
    print("differential: Go's rejections by class (missed by us): " + ", ".join(
        f"{name} {n} ({missed.get(name, 0)})" for name, n in classes.most_common())
        + f"; missed in all: {sum(missed.values())} (must be 0)")
    undocumented = {r: n for r, n in stricter.items() if r not in differential.STRICTER}
    print("differential: rejected only by us, by rule: " + (", ".join(
        f"{rule} {n}" for rule, n in stricter.most_common()) or "none")
        + f"; undocumented: {undocumented or 'none'}")


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its ended children so far."""
    me, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def bench_pinning() -> None:
    """Issue 22's property at scale: >= 2,000 drawn contracts validated, rendered, derived and
    mutation-checked (batches of up to 40, one mutate run each); prints the count, the killed
    share, contracts per second (target >= 20/s) and the largest generated test file's size
    and promtool time (bundled contracts: target < 2 s)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from hypothesis import HealthCheck, given, settings

    import contract_strategies as cs

    totals = {"drawn": 0, "accepted": 0, "refused": 0, "killed": 0, "total": 0, "failing": 0}
    cpu_before = _cpu()
    start = time.perf_counter()

    @settings(max_examples=60, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(cs.batches(40, least=34))
    def run(batch: list) -> None:
        verdict = cs.judge(batch)
        totals["drawn"] += len(batch)
        totals["accepted"] += verdict.accepted
        totals["refused"] += len(verdict.refused)
        totals["killed"] += verdict.killed
        totals["total"] += verdict.total
        totals["failing"] += len(verdict.survivors) + len(verdict.baseline) + len(
            verdict.not_derivable)

    run()
    seconds = time.perf_counter() - start
    ours, tools = (after - before for after, before in zip(_cpu(), cpu_before, strict=True))
    share = 100.0 * totals["killed"] / max(totals["total"], 1)
    print(f"pinning: {totals['drawn']} drawn contracts ({totals['accepted']} accepted, "
          f"{totals['refused']} refused by validate) in {seconds:.0f} s = "
          f"{totals['drawn'] / seconds:.1f} contracts/s (target >= 20/s); mutants killed "
          f"{totals['killed']}/{totals['total']} ({share:.2f}%); contracts with a survivor: "
          f"{totals['failing']} (must be 0)")
    # The machine is shared: the CPU the run got tells a slow minute from slower code.
    print(f"pinning: CPU {ours + tools:.0f} s (Python {ours:.0f} s, promtool {tools:.0f} s) = "
          f"{totals['drawn'] / (ours + tools):.1f} contracts per CPU second; the run had "
          f"{(ours + tools) / seconds:.2f} of {os.cpu_count()} cores on average")
    largest = max((ROOT / "rules" / "generated").glob("*.test.yml"),
                  key=lambda p: p.stat().st_size)
    timings = []
    for _ in range(3):
        begin = time.perf_counter()
        subprocess.run(["promtool", "test", "rules", str(largest)], capture_output=True,
                       check=False, cwd=ROOT)
        timings.append(time.perf_counter() - begin)
    print(f"pinning: largest bundled test file {largest.name}: {largest.stat().st_size} bytes, "
          f"promtool test rules median {sorted(timings)[1]:.2f} s (target < 2 s)")


def bench_backtest() -> None:
    """Issue 26: 300 alerts x 30 days at 1m against a local Prometheus (target <= 60 s, memory
    bounded), next to the naive way (one instant query per alert and step), measured in the
    same run on a slice and extrapolated (the whole of it would be 13 million queries)."""
    import random
    import resource
    import urllib.parse

    from history import write_blocks

    from promcontract.runners import http
    from promcontract.runners.servers import History
    from promcontract.workflows import backtest

    day, days, series_count = 86400, 30, 50
    t0 = (int(time.time()) // day - days - 2) * day
    rng = random.Random(26)

    def samples():
        for k in range(series_count):
            level = 50.0
            for minute in range(days * 1440):
                level = min(100.0, max(0.0, level + rng.uniform(-2, 2)))
                yield "bench_load", f'job="bench",instance="i{k}"', round(level, 1), \
                    float(t0 + minute * 60 + 30)

    with tempfile.TemporaryDirectory(prefix="promcontract-bench-") as tmp:
        (Path(tmp) / "data").mkdir()
        begin = time.perf_counter()
        count = write_blocks(samples(), str(Path(tmp) / "data"), tmp)
        built = time.perf_counter() - begin
        shapes = ['bench_load{{instance="i{k}"}} > {c}', 'bench_load{{instance="i{k}"}} < {c}',
                  'max by (job) (bench_load{{instance="i{k}"}}) > {c}',
                  'avg_over_time(bench_load{{instance="i{k}"}}[10m]) > {c}',
                  'bench_load{{instance="i{k}"}} > {c} and bench_load{{instance="i{k}"}} < 95',
                  'delta(bench_load{{instance="i{k}"}}[15m]) > {d}']
        rules = [backtest.AlertRule(f"Bench{n}", shapes[n % len(shapes)].format(
            k=n % series_count, c=rng.randint(55, 80), d=rng.randint(5, 15)),
            float(rng.choice((0, 300, 900))), float(rng.choice((0, 0, 600))), (), f"bench:{n}")
            for n in range(300)]
        start, end = t0 + day, t0 + (days + 1) * day - 60
        with History(str(Path(tmp) / "data")) as server:
            api = backtest.Api(server.url, {}, 60.0, 256 * 1024 * 1024)
            begin = time.perf_counter()
            results = backtest.run(api, rules, start, end, 60.0)
            seconds = time.perf_counter() - begin
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            # the naive way: one instant query per evaluation, on the first alert for 6 hours
            steps = 360
            begin = time.perf_counter()
            for k in range(steps):
                query = urllib.parse.urlencode({"query": rules[0].expr,
                                                "time": f"{start + k * 60:.3f}"})
                http.exchange("GET", f"{server.url}/api/v1/query?{query}", None, 30.0, {},
                              1 << 24)
            naive_one = (time.perf_counter() - begin) / steps
    evaluations = int((end - start) // 60) + 1
    episodes = sum(len(r.episodes) for r in results)
    naive = naive_one * evaluations * len(rules)
    print(f"backtest: history {count} samples ({series_count} series x {days} days at 1m) "
          f"written as blocks in {built:.0f} s")
    print(f"backtest: {len(rules)} alerts x {days} days at 1m ({evaluations} evaluations "
          f"each): {seconds:.1f} s (target <= 60 s), {sum(r.queries for r in results)} "
          f"query_range calls, {episodes} episodes; peak memory of this process "
          f"{peak:.0f} MB")
    print(f"backtest: same run, one instant query per step: {naive_one * 1000:.2f} ms each "
          f"(measured on {steps}), so {naive:.0f} s for the same work "
          f"({naive / seconds:.0f}x slower)")


def main() -> None:
    measures = {"pinning": bench_pinning, "check": bench_check, "verify": bench_verify,
                "push": bench_push_requests,
                "oracle": bench_oracle, "mutate": bench_mutate,
                "characterize": bench_characterize, "differential": bench_differential,
                "backtest": bench_backtest}
    chosen = sys.argv[1:] or list(measures)
    # Measure the steady state of an installed package: its bytecode compiled once, as pip
    # does on install. The package is installed editable and PYTHONDONTWRITEBYTECODE may be
    # set, in which case every timed process would otherwise recompile the changed modules.
    import compileall

    compileall.compile_dir(str(ROOT / "generator" / "promcontract"), quiet=1)
    for name in chosen:
        measures[name]()


if __name__ == "__main__":
    main()
