"""promcontract import: a contract from a hand-written alert group, nothing lost."""

from __future__ import annotations

import argparse
import os
import re
import textwrap

from promcontract.cli.common import DEFAULT_TPL, network_options, network_policy, say
from promcontract.payload import gateway
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK, UserError
from promcontract.runners.fileio import read_template, read_text, write_atomic
from promcontract.template import reader
from promcontract.workflows import import_group as imports

HELP = ("Write a contract from a hand-written alert group of the template: alerts recognised "
        "as kinds where their expression is one (else kind expr with the original text), the "
        "group's comments kept as description and rationale, metrics from the selectors "
        "(types and labels from --payload FILE or --gateway URL). Then run the contract's "
        "derived tests against the ORIGINAL rules and report, per alert, same or how it "
        "differs, and what rendering the contract would change. --check writes nothing "
        "(exit 1 when an alert differs).")


def add_arguments(p: argparse.ArgumentParser) -> None:

    p.description = textwrap.fill(HELP, 79)
    p.add_argument("--tpl", default=DEFAULT_TPL, metavar="T",
                   help=f"the Helm values template (default: {DEFAULT_TPL})")
    p.add_argument("--rules", metavar="FILE",
                   help="read the group from this Prometheus rule file or PrometheusRule "
                        "manifest (kind found from the content) instead of the template")
    p.add_argument("--group", required=True, metavar="NAME", help="the hand-written group")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="where the contract goes (default: rules/<group>.contract.yaml)")
    p.add_argument("--job", metavar="J",
                   help="grouping key job (default: the job the selectors name)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--payload", metavar="FILE",
                        help="a payload (or a gateway's /metrics) giving types, HELP, labels")
    source.add_argument("--gateway", metavar="URL", help="read them from a live Pushgateway")
    network_options(p)
    p.add_argument("--cadence", default="5m", metavar="D",
                   help="how often the job pushes (default: 5m)")
    p.add_argument("--var", action="append", metavar="NAME=VALUE", type=_variable,
                   help="the value of a Terraform variable the rules interpolate (${NAME} "
                        "stays live in the template; standalone rule files and tests use "
                        "VALUE); repeatable")
    p.add_argument("--check", action="store_true",
                   help="write nothing; report same/differs per alert (exit 1 on differs)")
    p.add_argument("--force", action="store_true", help="replace an existing contract file")


def _variable(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name) or not value:
        raise argparse.ArgumentTypeError(f"not NAME=VALUE: {text!r}")
    return name, value


def run(args: argparse.Namespace) -> int:

    origin = args.rules or args.tpl
    if args.rules:
        text = read_text(args.rules)
        source = reader.read_rules(args.rules, text)
    else:
        text = read_template(args.tpl)
        source = reader.read(args.tpl, text)
    payload = None
    if args.payload:
        payload = read_text(args.payload)
    elif args.gateway:

        gateway.check_url(args.gateway)
        try:
            payload = gateway.fetch_metrics(args.gateway, network_policy(args))
        except gateway.GatewayError as exc:
            raise UserError(f"{gateway.redact(args.gateway)}: cannot read /metrics: {exc}"
                            ) from None
    result = imports.import_group(origin, text, args.group, args.job, payload,
                                  args.cadence, source=source, variables=dict(args.var or ()))
    slug = result.contract["contract"]
    output = args.output or os.path.join("rules", f"{slug}.contract.yaml")
    if not args.check and not args.force:
        imports.check_written(output)
    header = (f"# Metric contract imported by promcontract from the hand-written group "
              f"'{args.group}' of {os.path.basename(origin)}.\n# Review it: the metrics' "
              "help, units and domains are guesses unless a payload gave them.\n")
    text = result.text(header)
    imports.prove(result, output)
    differs = 0
    for alert in result.alerts:
        print(f"{origin}:{alert.line}: {alert.name}: imported as {alert.kind}; "
              f"{alert.verdict}")
        differs += alert.verdict.startswith("differs")
        for change in alert.changes:
            print(f"  rendering changes: {change}")
    for note in result.notes:
        print(f"note: {note}")
    same = sum(a.verdict.startswith("same") for a in result.alerts)
    summary = (f"{same} same, {differs} differ, {len(result.alerts) - same - differs} not "
               "derivable (kind expr)")
    if args.check:
        print(f"import --check: {summary}")
        return EXIT_CHECK_FAILED if differs else EXIT_OK
    write_atomic(output, text)
    say(f"wrote: {output} ({len(result.alerts)} alerts: {summary}; review it, then make "
        "rules)")
    return EXIT_OK
