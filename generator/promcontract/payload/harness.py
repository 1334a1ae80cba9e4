"""pusher-test: contract-test any pusher command against a real Pushgateway.

The harness starts a Pushgateway, generates run sequences (hypothesis), and for each run writes
a results file and calls the pusher with, in its environment:

    PUSHGATEWAY_URL  http://127.0.0.1:<port>
    RESULTS_FILE     path of a file with lines "<stack> <terraform plan exit code>"
    NOW              unix seconds of this run (use it as the run's time)
    PUSH_JOB         the job name to push under (grouping key job=<PUSH_JOB>)

After each run it reads the group back and checks it against the contract (as
`promcontract verify --gateway`) and against the streak rule across runs. The first failing
sequence is shrunk to a minimal one and reported with expected and actual series.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from promcontract.contract.model import Contract, format_number
from promcontract.labels import format_series
from promcontract.payload import gateway, text004, verify
from promcontract.payload.pusher import EXIT_CODE_MEANING, Roles, roles

# Names that break naive pushers: quoting, escaping, path separators, unicode, spaces.
STACK_POOL = ("app", "network", "db/prod", "edge 1", 'say "hi"', "back\\slash", "ünï-stack")
START = 1_700_000_000


@dataclass(frozen=True)
class Run:
    now: int
    results: tuple[tuple[str, int], ...]  # (stack, terraform exit code)

    def results_text(self) -> str:
        return "".join(f"{stack} {code}\n" for stack, code in self.results)


Series = tuple[str, str | None]  # (metric, item label value or None)


@dataclass(frozen=True)
class Failure:
    runs: tuple[Run, ...]
    failed_run: int  # 1-based
    defects: tuple[str, ...]
    expected: tuple[str, ...]
    actual: tuple[str, ...]

    def report(self) -> str:
        out = ["minimal failing run sequence:"]
        for index, run in enumerate(self.runs, start=1):
            out.append(f"  run {index}: NOW={run.now}  RESULTS_FILE:")
            out += [f"    {line}" for line in run.results_text().splitlines()] or ["    (empty)"]
        out.append(f"  after run {self.failed_run}:")
        out += [f"    defect: {d}" for d in self.defects]
        out.append("    expected series:")
        out += [f"      {s}" for s in self.expected] or ["      (none)"]
        out.append("    actual series:")
        out += [f"      {s}" for s in self.actual] or ["      (none)"]
        return "\n".join(out)


class SequenceFailed(Exception):
    def __init__(self, failure: Failure):
        super().__init__(failure.report())
        self.failure = failure


def expected_after(runs: tuple[Run, ...], index: int, r: Roles) -> dict[Series, float]:
    """What the group must hold after run ``index`` (0-based), by the streak rule alone."""
    previous: dict[str, int] = {}  # first_seen after the previous run, stacks in it only
    series: dict[Series, float] = {}
    for run in runs[: index + 1]:
        series = {}
        current: dict[str, int] = {}
        for stack, code in run.results:
            meaning = EXIT_CODE_MEANING[code]
            if meaning == "drift":
                first = previous.get(stack, run.now)
            elif meaning == "error":
                first = previous.get(stack)
            else:
                first = None
            series[(r.state, stack)] = r.state_values[meaning]
            if first is not None:
                current[stack] = first
                series[(r.first_seen, stack)] = first
                series[(r.age, stack)] = math.floor((run.now - first) / r.age_unit_s)
        for value, metric in r.counts.items():
            series[(metric, None)] = sum(1 for k, v in series.items()
                                         if k[0] == r.state and v == value)
        series[(r.heartbeat, None)] = run.now
        previous = current
    return series


def _show(series: Series, value: float | None, r: Roles) -> str:
    metric, item = series
    shown = "(absent)" if value is None else format_number(value)
    return f"{format_series(metric, ((r.item_label, item),) if item is not None else ())} " \
        f"{shown}"


def diagnose(expected: dict[Series, float], actual: dict[Series, float], run: Run,
             r: Roles) -> list[str]:
    """Name the defect behind a difference, in the pusher author's terms."""
    defects = []
    per_item = {r.state, r.first_seen, r.age}
    if {k[0] for k in actual} == {r.heartbeat} and len({k[0] for k in expected}) > 1:
        defects.append(f"heartbeat-only push: the group holds only {r.heartbeat}; counts and "
                       "per-stack series are missing, and the staleness alert stays quiet "
                       "because the heartbeat looks fine")
    elif any(k[0] in per_item for k in expected) and not any(k[0] in per_item for k in actual):
        defects.append("no per-stack series in the group: only "
                       + (", ".join(sorted({k[0] for k in actual})) or "nothing")
                       + " was pushed (heartbeat-only push? counts and per-stack series "
                       "must be in every push)")
    lookup = ("the gateway writes it as "
              f'{r.first_seen}{{instance="",job="...",{r.item_label}="..."}}: match on the '
              "label value, not on a line prefix")
    for key, value in sorted(expected.items(), key=str):
        got = actual.get(key)
        if key[0] != r.first_seen or got == value:
            continue
        carried = value != run.now  # the streak started in an earlier run
        if carried and got == run.now:
            defects.append(f"first_seen of stack {key[1]!r} was reset to NOW during a streak "
                           f"that started at {value}: the pusher did not find the previous "
                           f"first_seen ({lookup})")
        elif carried and got is None:
            defects.append(f"first_seen of stack {key[1]!r} ({value}) was not carried into "
                           f"this run: the pusher did not find the previous first_seen "
                           f"({lookup})")
        elif got is not None:
            defects.append(f"first_seen of stack {key[1]!r} is {format_number(got)}, "
                           f"the streak rule gives {value}")
    stale = [k for k in actual if k not in expected]
    if stale:
        shown = ", ".join(_show(k, actual[k], r) for k in sorted(stale, key=str)[:3])
        defects.append(f"stale series survived this run: {shown} (the push did not replace "
                       "the whole group: POST keeps families missing from the body; push "
                       "with PUT)")
    missing = [k for k in expected if k not in actual and k[0] not in per_item]
    if missing:
        defects.append("missing: " + ", ".join(k[0] for k in sorted(missing, key=str)))
    missing_items = [k for k in expected if k not in actual and k[0] in per_item]
    if missing_items and not defects:
        defects.append("missing per-stack series: " + ", ".join(
            _show(k, expected[k], r) for k in sorted(missing_items, key=str)[:3]))
    wrong = [k for k in expected if k in actual and actual[k] != expected[k]
             and k[0] != r.first_seen]
    for key in sorted(wrong, key=str)[:3]:
        defects.append(f"{_show(key, actual[key], r)}: expected {format_number(expected[key])}")
    return defects


Pusher = Callable[[str, str, int, str], None]  # (gateway url, results file, now, job)


def command_pusher(cmd: list[str], timeout_s: float = 60.0) -> Pusher:
    def run(url: str, results_file: str, now: int, job: str) -> None:
        env = dict(os.environ, PUSHGATEWAY_URL=url, RESULTS_FILE=results_file, NOW=str(now),
                   PUSH_JOB=job)
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                  timeout=timeout_s, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise PusherError(f"pusher did not finish within {timeout_s:g}s") from None
        except OSError as exc:
            raise PusherError(f"cannot run {cmd[0]}: {exc.strerror}") from None
        if proc.returncode != 0:
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
            raise PusherError(f"pusher exited {proc.returncode}: {tail}")
    return run


class PusherError(Exception):
    pass


class Harness:
    def __init__(self, contract: Contract, url: str, pusher: Pusher, workdir: str,
                 job: str | None = None):
        self.job = job or contract.job
        self.contract = contract.with_job(self.job)
        self.roles = roles(self.contract)
        self.url, self.pusher, self.workdir = url, pusher, workdir
        self.sequences = 0

    def actual(self) -> tuple[dict[Series, float], list[str]]:
        whole = text004.parse(gateway.fetch_metrics(self.url))
        group = gateway.select_group(whole, self.contract.grouping_key)
        findings = [str(f) for f in verify.verify(self.contract, group, gateway=True,
                                                  source="gateway")]
        series: dict[Series, float] = {}
        for name, fam in group.families.items():
            if name in gateway.GATEWAY_FAMILIES:
                continue
            for sample in fam.samples:
                series[(name, sample.label(self.roles.item_label))] = sample.value
        return series, findings

    def run_sequence(self, runs: tuple[Run, ...]) -> Failure | None:
        self.sequences += 1
        gateway.delete_group(self.url, self.contract.grouping_key)
        results_file = os.path.join(self.workdir, "results.txt")
        for index, run in enumerate(runs):
            with open(results_file, "w", encoding="utf-8") as handle:
                handle.write(run.results_text())
            expected = expected_after(runs, index, self.roles)
            try:
                self.pusher(self.url, results_file, run.now, self.job)
            except PusherError as exc:
                return Failure(runs[: index + 1], index + 1, (str(exc),),
                               self._shown(expected), ())
            actual, findings = self.actual()
            if actual != expected or findings:
                defects = diagnose(expected, actual, run, self.roles)
                defects += [f"contract: {f}" for f in findings[:5]]
                return Failure(runs[: index + 1], index + 1, tuple(defects),
                               self._shown(expected), self._shown(actual))
        return None

    def _shown(self, series: dict[Series, float]) -> tuple[str, ...]:
        return tuple(_show(k, v, self.roles) for k, v in sorted(series.items(), key=str))


def run_sequences(harness: Harness, count: int, seed: int | None = None,
                  progress: Callable[[str], None] = lambda m: None) -> Failure | None:
    """Drive ``count`` generated sequences; the first failure comes back shrunk."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    run_strategy = st.tuples(
        st.integers(1, 120 * 3600),  # seconds since the previous run
        st.dictionaries(st.sampled_from(STACK_POOL), st.sampled_from([0, 1, 2]), max_size=5),
    )
    sequences = st.lists(run_strategy, min_size=1, max_size=6).map(_to_runs)

    @settings(max_examples=count, database=None, deadline=None, verbosity=Verbosity.quiet,
              suppress_health_check=list(HealthCheck),
              phases=[Phase.generate, Phase.shrink])
    @given(sequences)
    def prop(runs: tuple[Run, ...]) -> None:
        failure = harness.run_sequence(runs)
        if harness.sequences % 25 == 0:
            progress(f"pusher-test: {harness.sequences} sequences run")
        if failure is not None:
            raise SequenceFailed(failure)

    if seed is not None:
        prop = hseed(seed)(prop)
    try:
        prop()
    except SequenceFailed as exc:
        return exc.failure
    return None


def _to_runs(raw: list[tuple[int, dict[str, int]]]) -> tuple[Run, ...]:
    now = START
    runs = []
    for gap, results in raw:
        now += gap
        runs.append(Run(now, tuple(sorted(results.items()))))
    return tuple(runs)


def builtin_pusher(contract: Contract) -> Pusher:
    """The reference pusher called in-process (same code as `promcontract push`)."""
    from promcontract.payload import pusher

    def run(url: str, results_file: str, now: int, job: str) -> None:
        local = contract.with_job(job)
        with open(results_file, encoding="utf-8") as handle:
            text = handle.read()
        try:
            pusher.push(local, text, results_file, url, now, lint=False)
        except pusher.PushFailed as exc:
            raise PusherError(str(exc)) from None
    return run


def main_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def tempdir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="promcontract-harness-")
