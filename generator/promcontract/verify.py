"""Payload verification: strict format, the contract, and promtool's metric lint.

``verify_payload`` checks text a pusher is about to send; ``verify_gateway`` checks the group
a live Pushgateway holds (one GET). Both return findings as ``source:LINE: rule: message``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from promcontract import exposition, promtool
from promcontract.exposition import Finding, Parsed
from promcontract.model import Contract

if TYPE_CHECKING:
    from promcontract import gateway


@dataclass
class Report:
    source: str
    findings: list[Finding]
    accepted: list[str] = field(default_factory=list)  # lint findings excused, with reasons
    parsed: Parsed | None = None

    @property
    def ok(self) -> bool:
        return not self.findings

    def lines(self) -> list[str]:
        return [f.format(self.source) for f in self.findings]


def lint_findings(contract: Contract, parsed: Parsed, result: promtool.Result
                  ) -> tuple[list[Finding], list[str]]:
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
            findings.append(Finding(1, "promtool-lint", line))
            continue
        findings.append(Finding(where, "promtool-lint", f"{name} {message}"))
    return findings, accepted


def verify_payload(contract: Contract, text: str, source: str = "payload", *,
                   lint: bool = True, running: promtool.Running | None = None) -> Report:
    """``running``: a ``promtool check metrics`` the caller already started on ``text``."""
    if running is None and lint:
        running = promtool.start_check_metrics(text)
    parsed = exposition.parse(text)
    findings = list(parsed.findings)
    findings += exposition.verify(contract, parsed)
    accepted: list[str] = []
    if running is not None:
        result = running.wait()
        if not parsed.findings:  # on a malformed payload promtool only repeats the syntax error
            lint_list, accepted = lint_findings(contract, parsed, result)
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
            out.append(f"{exposition.format_series(s.name, labels)} {repr(s.value)}")
    return "\n".join(out) + "\n" if out else ""


def verify_gateway(contract: Contract, base_url: str, *, lint: bool = True,
                   policy: gateway.RetryPolicy | None = None) -> Report:
    """The checks of ``verify_payload`` on the group the gateway holds for the contract's
    grouping key, plus the gateway's own verdict on the last push."""
    from promcontract import gateway  # urllib.request is slow to import; payloads skip it

    source = base_url.rstrip("/") + "/metrics"
    text = gateway.fetch_metrics(base_url, policy or gateway.DEFAULT_POLICY)
    whole = exposition.parse(text)
    group = gateway.select_group(whole, contract.grouping_key)
    findings = list(whole.findings)
    key = ",".join(f'{k}="{v}"' for k, v in contract.grouping_key)
    if not group.families:
        findings.append(Finding(1, "missing-group", f"the gateway holds no group {{{key}}}"))
        return Report(source, findings, [], group)
    findings += exposition.verify(contract, group, gateway=True)
    push_ok = group.samples("push_time_seconds")
    push_failed = group.samples("push_failure_time_seconds")
    if push_ok and push_failed and push_failed[0].value > push_ok[0].value:
        findings.append(Finding(push_failed[0].line, "push-failed",
                                f"the last push to group {{{key}}} failed "
                                f"(push_failure_time_seconds {push_failed[0].value:.0f} > "
                                f"push_time_seconds {push_ok[0].value:.0f}); the gateway "
                                "still serves the previous push"))
    accepted: list[str] = []
    if lint:
        drop = {"instance", "job"} | {k for k, _ in contract.grouping_key}
        sent = Parsed({n: f for n, f in group.families.items()
                       if n not in ("push_time_seconds", "push_failure_time_seconds")}, [])
        result = promtool.check_metrics(group_text(sent, drop))
        lint_list, accepted = lint_findings(contract, sent, result)
        findings += lint_list
    findings.sort(key=lambda f: f.line)
    return Report(source, findings, accepted, group)
