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
import signal
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from promcontract.labels import format_series
from promcontract.model.contract import Contract
from promcontract.numbers import format_number
from promcontract.payload import gateway, pusher, text004, verify
from promcontract.payload.pusher import EXIT_CODE_MEANING, Roles, roles
from promcontract.payload.verify import verify_payload

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
    actual_values: tuple[tuple[Series, float], ...] = ()  # the group after the failing run

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


AMBIGUOUS = "(errored stack without first_seen: lookup or carry? needs a probe)"


def diagnose(expected: dict[Series, float], actual: dict[Series, float], run: Run,
             r: Roles, lookup_works: bool | None = None) -> list[str]:
    """Name the defect behind a difference in the gateway's state, in the pusher author's
    terms (what went over the wire is checked before this, by ``wire_defects``)."""
    defects = []
    per_item = {r.state, r.first_seen, r.age}
    codes = dict(run.results)
    if {k[0] for k in actual} == {r.heartbeat} and len({k[0] for k in expected}) > 1:
        defects.append(f"heartbeat-only push: the group holds only {r.heartbeat}; counts and "
                       "per-stack series are missing, and the staleness alert stays quiet "
                       "because the heartbeat looks fine")
    elif any(k[0] in per_item for k in expected) and not any(k[0] in per_item for k in actual):
        defects.append("no per-stack series in the group: only "
                       + (", ".join(sorted({k[0] for k in actual})) or "nothing")
                       + " was pushed (heartbeat-only push? counts and per-stack series "
                       "must be in every push)")
    clean_extra = sorted((k for k in actual if k[0] in (r.first_seen, r.age)
                          and EXIT_CODE_MEANING.get(codes.get(k[1], -1)) == "clean"), key=str)
    for stack in sorted({k[1] for k in clean_extra}, key=str):
        sent = " and ".join(_show(k, actual[k], r) for k in clean_extra if k[1] == stack)
        defects.append(f"stack {stack!r} is clean in this run, yet the group holds {sent}: a "
                       f"clean run ends the streak, so a clean stack has no {r.first_seen} and "
                       f"no {r.age}")
    lookup = ("the gateway writes it as "
              f'{r.first_seen}{{instance="",job="...",{r.item_label}="..."}}: match on the '
              "label value, not on a line prefix")
    carried_wrong, errored_missing = [], []
    for key, value in sorted(expected.items(), key=str):
        got = actual.get(key)
        if key[0] != r.first_seen or got == value:
            continue
        meaning = EXIT_CODE_MEANING.get(codes.get(key[1], -1))
        carried = value != run.now  # the streak started in an earlier run
        if meaning == "error" and got is None:
            errored_missing.append((key, value))
        elif carried:
            carried_wrong.append((key, value, got))
        elif got is not None:
            defects.append(f"{r.first_seen} of stack {key[1]!r} is {format_number(got)}, "
                           f"the streak rule gives {value}")
    if errored_missing and not carried_wrong and lookup_works is None:
        # only errored stacks carry a streak in this run: a lookup that never finds the
        # previous first_seen and a pusher that drops it for errors look the same here
        defects.append(AMBIGUOUS)
    elif errored_missing and not carried_wrong and not lookup_works:
        carried_wrong = [(k, v, None) for k, v in errored_missing]
        errored_missing = []
    if errored_missing and not carried_wrong:
        for key, value in errored_missing:
            defects.append(f"stack {key[1]!r} errored in this run and the group has no "
                           f"{r.first_seen} for it: an error says nothing about drift, so "
                           f"the streak carries on: push its {r.first_seen} ({value}) and "
                           f"{r.age} again (the lookup of the previous value works: it "
                           "finds it for a drifted stack)")
    for key, value, got in carried_wrong + [(k, v, None) for k, v in errored_missing
                                            if carried_wrong]:
        if got == run.now:
            defects.append(f"{r.first_seen} of stack {key[1]!r} was reset to NOW during a "
                           f"streak that started at {value}: the pusher did not find the "
                           f"previous {r.first_seen} ({lookup})")
        elif got is None:
            defects.append(f"{r.first_seen} of stack {key[1]!r} ({value}) was not carried "
                           f"into this run: the pusher did not find the previous "
                           f"{r.first_seen} ({lookup})")
        else:
            defects.append(f"{r.first_seen} of stack {key[1]!r} is {format_number(got)}, "
                           f"the streak rule gives {value}")
    stale = [k for k in actual if k not in expected and k not in clean_extra]
    if stale:
        shown = ", ".join(_show(k, actual[k], r) for k in sorted(stale, key=str)[:3])
        defects.append(f"series the streak rule does not give after this run: {shown}")
    missing = [k for k in expected if k not in actual and k[0] not in per_item]
    if missing:
        defects.append("missing: " + ", ".join(k[0] for k in sorted(missing, key=str)))
    missing_items = [k for k in expected if k not in actual and k[0] in per_item
                     and k[0] != r.first_seen]
    if missing_items and not defects:
        defects.append("missing per-stack series: " + ", ".join(
            _show(k, expected[k], r) for k in sorted(missing_items, key=str)[:3]))
    wrong = [k for k in expected if k in actual and actual[k] != expected[k]
             and k[0] != r.first_seen]
    for key in sorted(wrong, key=str)[:3]:
        defects.append(f"{_show(key, actual[key], r)}: expected {format_number(expected[key])}")
    return defects


def wire_defects(exchanges: list, contract: Contract, pushed_ok: bool) -> list[str]:
    """What went over the wire, in the order it matters: an answer that is not 2xx, then the
    method and path of the push, then its body against the contract."""


    for e in exchanges:
        if e.status >= 300:
            answer = " ".join(e.answer.decode("utf-8", "replace").split())[:300]
            hidden = " and the pusher exited 0 (it does not check the status: e.g. curl -f)" \
                if pushed_ok else ""
            return [f"the gateway answered {e.status} to {e.method} {e.path}: "
                    f"{answer or '(no body)'}{hidden}"]
    pushes = [e for e in exchanges if e.method in ("PUT", "POST")]
    if not pushes:
        return ["the pusher sent nothing to the gateway (no PUT)"] if pushed_ok else []
    want = gateway.group_path(contract.grouping_key)
    out = []
    for e in pushes:
        if e.method == "POST":
            out.append(f"POST {e.path}: POST adds to the group and keeps families missing "
                       f"from the body (a {'stale'} series survives the next run); replace "
                       "the whole group with PUT")
        if urllib.parse.unquote(e.path.split("?")[0]) != urllib.parse.unquote(want):
            out.append(f"{e.method} {e.path}: the contract's group is {want} (grouping key "
                       + ", ".join(f"{k}={v}" for k, v in contract.grouping_key) + ")")
    if len(pushes) > 1:
        out.append(f"{len(pushes)} pushes in one run: push the whole group in one PUT (a "
                   "second PUT replaces the first)")
    if out:
        return out
    body = pushes[-1].body.decode("utf-8", "replace")
    r = roles(contract)
    report = verify_payload(contract, body, "payload", lint=False)
    families = set(report.parsed.families) if report.parsed is not None else set()
    if families == {r.heartbeat}:
        return [f"heartbeat-only push: the payload holds only {r.heartbeat}; counts and "
                "per-stack series are missing, and the staleness alert stays quiet because "
                "the heartbeat looks fine (every push carries the whole group)"]
    lines = body.split("\n")
    for finding in report.findings[:2]:
        line = finding.location.line or 0
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        out.append(f"payload line {line}: {finding.rule}: {finding.message}"
                   + (f" ({text!r})" if text else ""))
    return out


Pusher = Callable[[str, str, int, str], None]  # (gateway url, results file, now, job)


def command_pusher(cmd: list[str], timeout_s: float = 60.0) -> Pusher:
    """The pusher command in its own process group: on a timeout the whole group is killed
    (a hung curl or sleep it started goes too), never left behind."""

    def run(url: str, results_file: str, now: int, job: str) -> None:
        env = dict(os.environ, PUSHGATEWAY_URL=url, RESULTS_FILE=results_file, NOW=str(now),
                   PUSH_JOB=job)
        try:
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise PusherError(f"cannot run {cmd[0]}: {exc.strerror}") from None
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)
            proc.communicate()
            raise PusherError(f"pusher did not finish within {timeout_s:g}s (its process "
                              "group was killed)") from None
        except BaseException:
            _kill_group(proc, signal.SIGKILL)
            proc.communicate()
            raise
        finally:
            _kill_group(proc, signal.SIGKILL)  # grandchildren it left running
        if proc.returncode != 0:
            tail = " | ".join((err or out).strip().splitlines()[-3:])
            raise PusherError(f"pusher exited {proc.returncode}: {tail}")
    return run


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class PusherError(Exception):
    pass


class Harness:
    """Runs sequences against a real gateway; the pusher talks to it through ``proxy`` (a
    recording proxy), the harness reads the gateway directly."""

    def __init__(self, contract: Contract, url: str, pusher: Pusher, workdir: str,
                 job: str | None = None, proxy=None):  # noqa: ANN001 - a proxy.Proxy
        self.job = job or contract.job
        self.contract = contract.with_job(self.job)
        self.roles = roles(self.contract)
        self.url, self.pusher, self.workdir = url, pusher, workdir
        self.proxy = proxy
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
        target = self.proxy.url if self.proxy is not None else self.url
        for index, run in enumerate(runs):
            with open(results_file, "w", encoding="utf-8") as handle:
                handle.write(run.results_text())
            expected = expected_after(runs, index, self.roles)
            if self.proxy is not None:
                self.proxy.take()
            error = None
            try:
                self.pusher(target, results_file, run.now, self.job)
            except PusherError as exc:
                error = str(exc)
            wire = wire_defects(self.proxy.take(), self.contract, error is None) \
                if self.proxy is not None else []
            if error is not None:
                return Failure(runs[: index + 1], index + 1, tuple(wire + [error]),
                               self._shown(expected), ())
            actual, findings = self.actual()
            if wire or actual != expected or findings:
                found = diagnose(expected, actual, run, self.roles)
                if AMBIGUOUS in found:
                    works = self._lookup_works(runs[: index + 1])
                    found = diagnose(expected, actual, run, self.roles, lookup_works=works)
                # the first thing that is wrong: what went over the wire explains the state
                defects = wire or found + [f"contract: {f}" for f in findings[:5]]
                return Failure(runs[: index + 1], index + 1, tuple(defects),
                               self._shown(expected), self._shown(actual),
                               tuple(sorted(actual.items(), key=str)))
        return None

    def _lookup_works(self, runs: tuple[Run, ...]) -> bool:
        """A probe: the same runs, but the errored stacks of the last one drifted instead.
        If the pusher then carries their first_seen, its lookup works (and it drops the
        streak for errors); if not, the lookup never finds the previous value."""
        last = runs[-1]
        errored = {s for s, c in last.results if EXIT_CODE_MEANING[c] == "error"}
        probe = runs[:-1] + (Run(last.now, tuple((s, 2 if s in errored else c)
                                                 for s, c in last.results)),)
        gateway.delete_group(self.url, self.contract.grouping_key)
        results_file = os.path.join(self.workdir, "results.txt")
        target = self.proxy.url if self.proxy is not None else self.url
        try:
            for run in probe:
                with open(results_file, "w", encoding="utf-8") as handle:
                    handle.write(run.results_text())
                self.pusher(target, results_file, run.now, self.job)
            actual, _ = self.actual()
        except PusherError:
            return False
        finally:
            if self.proxy is not None:
                self.proxy.take()
        expected = expected_after(probe, len(probe) - 1, self.roles)
        return all(actual.get((self.roles.first_seen, s)) ==
                   expected.get((self.roles.first_seen, s)) for s in errored)

    def _shown(self, series: dict[Series, float]) -> tuple[str, ...]:
        return tuple(_show(k, v, self.roles) for k, v in sorted(series.items(), key=str))


def _kind(failure: Failure) -> str:
    """What a failure is about, to keep it while shrinking (its first defect's words)."""
    first = failure.defects[0] if failure.defects else ""
    return " ".join(w for w in first.split()[:4] if not any(c.isdigit() for c in w))


def minimise(harness: Harness, failure: Failure) -> Failure:
    """Drop the stacks and runs that do not matter: each removal is kept when the sequence
    still fails the same way."""
    kind = _kind(failure)
    best = failure
    changed = True
    while changed:
        changed = False
        stacks = sorted({s for run in best.runs for s, _ in run.results})
        for stack in stacks:
            runs = tuple(Run(r.now, tuple(x for x in r.results if x[0] != stack))
                         for r in best.runs)
            if any(not r.results for r in runs):
                continue
            got = harness.run_sequence(runs)
            if got is not None and _kind(got) == kind:
                best, changed = got, True
                break
        if changed:
            continue
        for drop in range(len(best.runs) - 1):
            runs = best.runs[:drop] + best.runs[drop + 1:]
            got = harness.run_sequence(runs)
            if got is not None and _kind(got) == kind:
                best, changed = got, True
                break
    return best


def run_sequences(harness: Harness, count: int, seed: int | None = None,
                  progress: Callable[[str], None] = lambda m: None) -> Failure | None:
    """Drive ``count`` generated sequences; the first failure comes back shrunk."""
    # hypothesis takes ~0.25 s to import: only when pusher-test generates sequences.
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    run_strategy = st.tuples(
        st.integers(1, 120 * 3600),  # seconds since the previous run
        # at least one stack: a results file with none is refused (a broken job)
        st.dictionaries(st.sampled_from(STACK_POOL), st.sampled_from([0, 1, 2]), min_size=1,
                        max_size=5),
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
        return minimise(harness, exc.failure)
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
