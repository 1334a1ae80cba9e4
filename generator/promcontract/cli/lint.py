"""promcontract lint: checks over every alert group of a values template."""

from __future__ import annotations

import argparse

from promcontract.cli.common import DEFAULT_TPL, say
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK

HELP = ("Lint every alert group of a values template (not only the rendered ones). "
        "Findings: 'file:line: check: message'. Disable a check for one rule with "
        "'# promcontract-lint: disable=CHECK -- reason' on or above its '- alert:' line.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tpl", default=DEFAULT_TPL, metavar="T",
                   help=f"values template (default: {DEFAULT_TPL})")
    p.add_argument("--list", action="store_true", help="list the checks and exit")


def run(args: argparse.Namespace) -> int:
    from promcontract import lint
    from promcontract.runners.fileio import read_template

    if args.list:
        for check in lint.CHECKS:
            print(f"{check.NAME}: {check.DOC}")
        return EXIT_OK
    text = read_template(args.tpl)
    findings = lint.run(args.tpl, text)
    for finding in findings:
        print(finding)
    if findings:
        say(f"{args.tpl}: {len(findings)} finding(s)")
        return EXIT_CHECK_FAILED
    say(f"{args.tpl}: lint ok ({len(lint.CHECKS)} checks)")
    return EXIT_OK
