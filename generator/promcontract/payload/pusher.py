"""The reference pusher: terraform plan results -> one verified payload -> one PUT.

Roles are read from the contract's invariants, not hard-coded: the state metric and its
counts (count_equals_state), the streak start (present_for_states on a unix_seconds metric),
the age (age_floor) and the heartbeat (age_floor's reference).

Streak rule: a clean run ends a streak; an errored run says nothing about drift, so it carries
first_seen forward; the first drift after a clean run (or after the stack was absent) starts a
new streak at that run's time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from promcontract.model.contract import Contract
from promcontract.payload import gateway, text004
from promcontract.payload.verify import verify_payload
from promcontract.problems import Location, Problem, UserError

# terraform plan -detailed-exitcode: 0 no changes, 1 error, 2 changes present.
EXIT_CODE_MEANING = {0: "clean", 1: "error", 2: "drift"}
# One results line: the stack (everything before the last field), blanks
# or tabs, the exit code. The generated pusher is rendered with this very pattern.
LINE_PATTERN = r"^(?P<stack>.*\S)[ \t]+(?P<code>\S+)$"
_LINE = re.compile(LINE_PATTERN)


@dataclass(frozen=True)
class Roles:
    state: str
    item_label: str
    state_values: dict[str, int]  # meaning (clean/drift/error) -> state value
    counts: dict[int, str]  # state value -> count metric
    first_seen: str
    age: str
    age_unit_s: float
    heartbeat: str


def roles(contract: Contract) -> Roles:
    by_kind: dict[str, list] = {}
    for inv in contract.invariants:
        by_kind.setdefault(inv.kind, []).append(inv)
    try:
        counts = {inv.spec.state: inv.spec.count for inv in by_kind["count_equals_state"]}
        state = by_kind["count_equals_state"][0].spec.state_metric
        age_inv = by_kind["age_floor"][0]
        state_metric = contract.metric(state)
        meanings = {meaning: value for value, meaning in state_metric.domain.states}
        values = {m: meanings[m] for m in ("clean", "drift", "error")}
        (item_label,) = state_metric.labels
    except (KeyError, IndexError, ValueError):
        raise UserError(Problem(Location(contract.source), "the reference pusher needs a state "
                                "metric with one label and states clean/drift/error, "
                                "count_equals_state and age_floor invariants")) from None
    age = age_inv.spec
    return Roles(state, item_label, values, counts, age.since, age.metric, age.unit_seconds,
                 age.reference)


@dataclass(frozen=True)
class StackResult:
    stack: str
    exit_code: int
    line: int


def parse_results(text: str, source: str) -> list[StackResult]:
    """``<stack> <exit code>`` per line; the stack name is everything before the last field."""
    results: list[StackResult] = []
    seen: dict[str, int] = {}
    problems: list[Problem] = []
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip():
            continue
        match = _LINE.match(line)
        if not match:
            problems.append(Problem(Location(source, lineno, 1), "expected '<stack> <exit code>'"
                                    f", got {line[:60]!r}"))
            continue
        stack, code = match.group("stack"), match.group("code")
        if code not in ("0", "1", "2"):
            problems.append(Problem(Location(source, lineno, match.start("code") + 1),
                                    f"unknown exit code {code!r} for stack {stack!r} "
                                    "(terraform plan -detailed-exitcode gives 0, 1 or 2)"))
            continue
        if stack in seen:
            problems.append(Problem(Location(source, lineno, 1), f"stack {stack!r} appears "
                                    f"twice (also line {seen[stack]})"))
            continue
        seen[stack] = lineno
        results.append(StackResult(stack, int(code), lineno))
    if problems:
        raise UserError(problems)
    if not results:
        raise UserError(Problem(Location(source), "no stacks in the results file: refusing to "
                                "push (a run that planned nothing is a broken job, not zero "
                                "drift; a fresh heartbeat would hide it)"))
    return results


@dataclass(frozen=True)
class StackState:
    stack: str
    state: int
    first_seen: float | None
    age: int | None


def next_states(results: list[StackResult], previous_first_seen: dict[str, float], now: float,
                r: Roles) -> list[StackState]:
    out = []
    for result in results:
        meaning = EXIT_CODE_MEANING[result.exit_code]
        previous = previous_first_seen.get(result.stack)
        if previous is not None and previous > now:
            previous = None  # a streak cannot start in the future: start afresh
        if meaning == "clean":
            first_seen = None
        elif meaning == "error":
            first_seen = previous
        else:
            first_seen = previous if previous is not None else now
        age = None if first_seen is None else math.floor((now - first_seen) / r.age_unit_s)
        out.append(StackState(result.stack, r.state_values[meaning], first_seen, age))
    return out


def previous_first_seen(group: text004.Parsed, r: Roles) -> dict[str, float]:
    """first_seen per stack from the group the gateway holds, matched on the label value
    (never on a line prefix: the gateway adds and sorts labels)."""
    out = {}
    for sample in group.samples(r.first_seen):
        stack = sample.label(r.item_label)
        if stack is not None:
            out[stack] = sample.value
    return out


def render_payload(contract: Contract, states: list[StackState], now: float, r: Roles) -> str:
    registry = CollectorRegistry(auto_describe=False)
    gauges = {m.name: Gauge(m.name, m.help, list(m.labels), registry=registry)
              for m in contract.metrics}
    for s in states:
        gauges[r.state].labels(s.stack).set(s.state)
        if s.first_seen is not None:
            gauges[r.first_seen].labels(s.stack).set(s.first_seen)
            gauges[r.age].labels(s.stack).set(s.age)
    for value, metric in r.counts.items():
        gauges[metric].set(sum(1 for s in states if s.state == value))
    gauges[r.heartbeat].set(now)
    return generate_latest(registry).decode("utf-8")


@dataclass(frozen=True)
class PushOutcome:
    payload: str
    states: list[StackState]
    sent: bool


def push(contract: Contract, results_text: str, results_source: str, base_url: str | None,
         now: float, *, dry_run: bool = False,
         policy: gateway.RetryPolicy = gateway.DEFAULT_POLICY, lint: bool = True,
         log=lambda message: None, previous_text: str | None = None) -> PushOutcome:
    """One GET of the previous group (or ``previous_text``: a saved /metrics), one verified
    PUT of the new one."""

    r = roles(contract)
    results = parse_results(results_text, results_source)
    if previous_text is not None:
        whole = text004.parse(previous_text, "previous")
    else:
        try:
            whole = text004.parse(gateway.fetch_metrics(base_url, policy))
        except gateway.GatewayError as exc:
            raise PushFailed(f"cannot read the previous group, nothing pushed: {exc}") \
                from None
    previous = previous_first_seen(gateway.select_group(whole, contract.grouping_key), r)
    states = next_states(results, previous, now, r)
    payload = render_payload(contract, states, now, r)
    report = verify_payload(contract, payload, "payload", lint=lint)
    if not report.ok:
        raise PushFailed("payload violates the contract, nothing pushed:\n"
                         + "\n".join(report.lines()))
    if dry_run:
        return PushOutcome(payload, states, False)
    try:
        gateway.put_group(base_url, contract.grouping_key, payload, policy)
    except gateway.GatewayError as exc:
        raise PushFailed(f"push failed; the gateway keeps its previous group: {exc}") from None
    log(f"pushed {len(states)} stacks to {gateway.redact(base_url)} (one PUT)")
    return PushOutcome(payload, states, True)


class PushFailed(Exception):
    """The push did not happen (exit 1); the message says why."""
