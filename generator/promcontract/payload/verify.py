"""Payload verification: strict format, the contract, and promtool's metric lint.

``verify_payload`` checks text a pusher is about to send; ``verify_gateway`` checks the group
a live Pushgateway holds (one GET). Both report Problems ``source:LINE: rule: message``. The
contract part (``verify``) checks declared metrics, types, labels and domains here and asks
each invariant's kind for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING

from promcontract import kinds
from promcontract.labels import Labels, format_series, matchers
from promcontract.model.contract import GATEWAY_LABELS, Contract, Metric
from promcontract.numbers import format_number
from promcontract.payload import gateway, text004
from promcontract.payload.gateway import GATEWAY_FAMILIES
from promcontract.payload.text004 import Family, Parsed, Sample
from promcontract.problems import Location, Problem
from promcontract.runners import promtool

if TYPE_CHECKING:
    from promcontract.payload import gateway


@dataclass
class Report:
    source: str
    findings: list[Problem]
    accepted: list[str] = field(default_factory=list)  # lint findings excused, with reasons
    parsed: Parsed | None = None

    @property
    def ok(self) -> bool:
        return not self.findings

    def lines(self) -> list[str]:
        return [str(f) for f in self.findings]


# --- the contract ---------------------------------------------------------------------------

def verify(contract: Contract, parsed: Parsed, *, gateway: bool = False,
           source: str = "payload") -> list[Problem]:
    """Findings of ``parsed`` against ``contract`` (declared metrics, types, labels, domains,
    invariants). With ``gateway``, the labels the Pushgateway adds are expected too."""

    findings: list[Problem] = []

    def add(line: int, rule: str, message: str) -> None:
        findings.append(Problem(Location(source, line), message, rule=rule))

    declared = {m.name: m for m in contract.metrics}
    extra_labels = set(GATEWAY_LABELS) | {k for k, _ in contract.grouping_key} if gateway \
        else set()
    keyed: dict[str, dict[Labels, Sample]] = {}
    for name, fam in parsed.families.items():
        if gateway and name in GATEWAY_FAMILIES:
            continue
        metric = declared.get(name)
        if metric is None:
            add(fam.first_line, "unknown-metric", f"{name} is not declared in contract "
                f"'{contract.name}'")
            continue
        if fam.type != metric.type:
            shown = fam.type or "no TYPE line (untyped)"
            add(fam.type_line or fam.first_line, "type",
                f"{name} is {shown}; the contract declares {metric.type}")
        keyed[name] = _check_series(metric, fam, extra_labels, add)
    for metric in contract.metrics:
        if not metric.labels and not keyed.get(metric.name):
            add(_end_line(parsed), "missing-metric",
                f"{metric.name} is missing (every payload must carry it)")
    for invariant in contract.invariants:
        kinds.invariant_kind(invariant.kind).verify(
            invariant, keyed, lambda line, message, rule=invariant.name: add(line, rule,
                                                                             message))
    _check_orphans(contract, keyed, add)
    findings.sort(key=lambda f: f.line)
    return findings


def _end_line(parsed: Parsed) -> int:
    last = 1
    for fam in parsed.families.values():
        for sample in fam.samples[-1:]:
            last = max(last, sample.line)
    return last


def _check_series(metric: Metric, fam: Family, extra: set[str], add) -> dict[Labels, Sample]:
    expected = tuple(sorted(set(metric.labels) | extra))
    keep = frozenset(metric.labels)
    contains = _domain_check(metric)
    by_key: dict[Labels, Sample] = {}
    first = itemgetter(0)
    for sample in fam.samples:
        labels = sample.labels
        names = tuple(map(first, labels))  # labels are sorted by name
        if names != expected:
            have = set(names)
            missing, unexpected = sorted(set(expected) - have), sorted(have - set(expected))
            parts = []
            if missing:
                parts.append("missing " + ", ".join(missing))
            if unexpected:
                parts.append("unexpected " + ", ".join(unexpected))
            add(sample.line, "labels", f"{sample.name} has labels {{{', '.join(names)}}}: "
                f"{'; '.join(parts)} (declared: {', '.join(metric.labels) or 'none'})")
            continue
        if not contains(sample.value):
            add(sample.line, "domain", f"{format_series(sample.name, labels)} = "
                f"{format_number(sample.value)} is outside its domain "
                f"({metric.domain.describe()})")
        key = labels if not extra else tuple(kv for kv in labels if kv[0] in keep)
        if key in by_key:
            # In gateway mode the same series can come from two groups (another instance
            # pushed under the same job): the rules would see it twice.
            shown = format_series(sample.name, key)
            add(sample.line, "duplicate-series", f"{shown} appears more than once"
                + (f" (also line {by_key[key].line})" if extra else ""))
            continue
        by_key[key] = sample
    return by_key


def _domain_check(metric: Metric):  # noqa: ANN202 - returns a predicate
    """A fast membership test for the metric's domain (called once per sample)."""
    domain = metric.domain
    if domain.kind == "enum":
        allowed = frozenset(float(v) for v, _ in domain.states)
        return allowed.__contains__
    # finite only (see Domain.contains): v - v == 0 is false for NaN and the infinities
    low, high, integral = domain.low, domain.high, domain.integral
    if integral:
        return lambda v: low <= v <= high and v.is_integer()
    return lambda v: low <= v <= high and v - v == 0


def _check_orphans(contract: Contract, keyed: dict[str, dict[Labels, Sample]], add) -> None:
    """Per-item series whose item is not reported by the state metric (left from a run)."""
    state_metrics = {inv.spec.state_metric for inv in contract.invariants
                     if hasattr(inv.spec, "state_metric")}
    for state_name in sorted(state_metrics):
        state_metric = contract.metric(state_name)
        states = keyed.get(state_name, {})
        for metric in contract.metrics:
            if metric.name == state_name or metric.labels != state_metric.labels:
                continue
            for key, sample in keyed.get(metric.name, {}).items():
                if key not in states:
                    add(sample.line, "orphan-series", f"{format_series(metric.name, key)} has "
                        f"no {format_series(state_name, key)}: a series left from an earlier "
                        "run?")


# --- payloads and gateways ----------------------------------------------------------------------

def lint_findings(contract: Contract, parsed: Parsed, result: promtool.Result,
                  source: str = "payload") -> tuple[list[Problem], list[str]]:
    """promtool check metrics output, minus the exceptions the contract declares."""
    findings, accepted = [], []
    exceptions = {m.name: m.lint_exceptions for m in contract.metrics}
    for raw in result.output.splitlines():
        line = raw.strip()
        if not line:
            continue
        name, _, message = line.partition(" ")
        fam = parsed.families.get(name)
        where = (fam.type_line or fam.help_line or fam.first_line) if fam else 1
        excuse = next((e for e in exceptions.get(name, ()) if e.finding in message), None)
        if excuse is not None:
            accepted.append(f"{name}: {message} (accepted: {' '.join(excuse.reason.split())})")
            continue
        if result.returncode not in (0, 3) and fam is None:
            findings.append(Problem(Location(source, 1), line, rule="promtool-lint"))
            continue
        findings.append(Problem(Location(source, where), f"{name} {message}",
                                rule="promtool-lint"))
    return findings, accepted


def verify_payload(contract: Contract, text: str, source: str = "payload", *,
                   lint: bool = True, running: promtool.Running | None = None) -> Report:
    """``running``: a ``promtool check metrics`` the caller already started on ``text``."""
    if running is None and lint:
        running = promtool.start_check_metrics(text)
    parsed = text004.parse(text, source)
    findings = list(parsed.findings)
    findings += verify(contract, parsed, source=source)
    accepted: list[str] = []
    if running is not None:
        result = running.wait()
        if not parsed.findings:  # on a malformed payload promtool only repeats the syntax error
            lint_list, accepted = lint_findings(contract, parsed, result, source)
            findings += lint_list
    findings.sort(key=lambda f: f.line)
    return Report(source, findings, accepted, parsed)


def group_text(parsed: Parsed, drop: set[str]) -> str:
    """A group as exposition text without the gateway's labels (what the pusher sent)."""
    out = []
    for name, fam in parsed.families.items():
        if fam.help is not None:
            help_text = fam.help.replace("\\", "\\\\").replace("\n", "\\n")
            out.append(f"# HELP {name} {help_text}")
        if fam.type is not None:
            out.append(f"# TYPE {name} {fam.type}")
        for s in fam.samples:
            labels = tuple((k, v) for k, v in s.labels if k not in drop)
            out.append(f"{format_series(s.name, labels)} {repr(s.value)}")
    return "\n".join(out) + "\n" if out else ""


def verify_gateway(contract: Contract, base_url: str, *, lint: bool = True,
                   policy: gateway.RetryPolicy | None = None) -> Report:
    """The checks of ``verify_payload`` on the group the gateway holds for the contract's
    grouping key, plus the gateway's own verdict on the last push."""

    source = gateway.redact(base_url.rstrip("/") + "/metrics")
    text = gateway.fetch_metrics(base_url, policy or gateway.DEFAULT_POLICY)
    whole = text004.parse(text, source)
    group = gateway.select_group(whole, contract.grouping_key)
    findings = list(whole.findings)
    key = matchers(contract.grouping_key)
    if not group.families:
        findings.append(Problem(Location(source, 1), f"the gateway holds no group {{{key}}}",
                                rule="missing-group"))
        return Report(source, findings, [], group)
    findings += verify(contract, group, gateway=True, source=source)
    push_ok = group.samples("push_time_seconds")
    push_failed = group.samples("push_failure_time_seconds")
    if push_ok and push_failed and push_failed[0].value > push_ok[0].value:
        findings.append(Problem(Location(source, push_failed[0].line),
                                f"the last push to group {{{key}}} failed "
                                f"(push_failure_time_seconds {push_failed[0].value:.0f} > "
                                f"push_time_seconds {push_ok[0].value:.0f}); the gateway "
                                "still serves the previous push", rule="push-failed"))
    accepted: list[str] = []
    if lint:
        drop = {"instance", "job"} | {k for k, _ in contract.grouping_key}
        sent = Parsed({n: f for n, f in group.families.items()
                       if n not in gateway.GATEWAY_FAMILIES}, [])
        result = promtool.check_metrics(group_text(sent, drop))
        lint_list, accepted = lint_findings(contract, sent, result, source)
        findings += lint_list
    findings.sort(key=lambda f: f.line)
    return Report(source, findings, accepted, group)
