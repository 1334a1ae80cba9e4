"""promcontract verify: a payload, or the group a live Pushgateway holds, against the contract."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from promcontract.cli.common import network_options, network_policy, one_contract, pushable, say
from promcontract.model.yamlsource import limit_text, read_bytes_capped
from promcontract.payload import gateway, verify
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK, UserError
from promcontract.runners import promtool
from promcontract.runners.fileio import read_text

if TYPE_CHECKING:
    from promcontract.model.contract import Contract

HELP = ("Check a payload (file or - for stdin) or a live Pushgateway group against the "
        "contract: strict text format 0.0.4, declared metrics/types/labels/domains, "
        "invariants, and promtool check metrics lint minus declared exceptions. "
        "Findings: 'payload:LINE: rule: message'.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("payload", nargs="?", metavar="PAYLOAD", help="payload file, or - for stdin")
    p.add_argument("--contract", action="append", metavar="C", help="contract file")
    p.add_argument("--gateway", metavar="URL", help="verify the group a Pushgateway holds")
    p.add_argument("--job", metavar="J", help="job of the group (default: the contract's)")
    p.add_argument("--no-lint", action="store_true", help="skip promtool check metrics")
    network_options(p)
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show lint findings accepted by the contract, with their reasons")


def declares(text: str) -> Callable[[Contract], bool]:
    """Contracts declaring the first metric the payload mentions."""
    match = re.search(r"^(?:# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)", text, re.M)
    first = match.group(1) if match else ""
    return lambda c: any(m.name == first for m in c.metrics)


def run(args: argparse.Namespace) -> int:

    if args.gateway:

        if args.payload:
            raise UserError("give a payload file or --gateway, not both")
        gateway.check_url(args.gateway)
        policy = network_policy(args)
        contract = one_contract(args.contract, (lambda c: c.job == args.job) if args.job
                                else pushable).with_job(args.job)
        try:
            report = verify.verify_gateway(contract, args.gateway, lint=not args.no_lint,
                                           policy=policy)
        except gateway.GatewayError as exc:
            raise UserError(str(exc)) from None
    else:
        source = args.payload or "-"
        if source == "-":

            data = read_bytes_capped(sys.stdin.buffer)
            if data is None:
                raise UserError(f"-: payload is over the {limit_text()} limit; not read")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UserError(f"-: payload is not valid UTF-8 (byte {exc.start})") from None
        else:
            text = read_text(source)
        # promtool's lint needs only the text: start it before loading the contract.
        running = None
        if not args.no_lint:
            running = promtool.start_check_metrics(path=source) if source != "-" else \
                promtool.start_check_metrics(text)
        contract = one_contract(args.contract, declares(text))
        report = verify.verify_payload(contract, text, "payload" if source == "-" else source,
                                       lint=not args.no_lint, running=running)
    for line in report.lines():
        print(line)
    if args.verbose:
        for note in report.accepted:
            say(f"lint exception: {note}")
    if report.findings:
        say(f"{report.source}: {len(report.findings)} finding(s) against contract "
            f"'{contract.name}'")
        return EXIT_CHECK_FAILED
    say(f"{report.source}: ok against contract '{contract.name}'"
        + (f" ({len(report.accepted)} lint finding(s) accepted by the contract)"
           if report.accepted else ""))
    return EXIT_OK
