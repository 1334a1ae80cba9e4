"""promcontract push: the reference pusher."""

from __future__ import annotations

import argparse
import math
import sys
import time

from promcontract.cli.common import (
    network_options,
    network_policy,
    one_contract,
    pushable,
    say,
)
from promcontract.payload import gateway, pusher
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK, UserError
from promcontract.runners.fileio import read_text

HELP = ("Reference pusher: read terraform plan results ('<stack> <exit code>' per line), "
        "keep drift streaks, verify the payload, and replace the group with one PUT "
        "(after one GET of the previous group).")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", required=True, metavar="FILE", help="results file")
    p.add_argument("--gateway", metavar="URL", help="Pushgateway base URL (not needed with "
                   "--dry-run --previous)")
    p.add_argument("--contract", action="append", metavar="C", help="contract file")
    p.add_argument("--job", metavar="J", help="job to push under (default: the contract's)")
    p.add_argument("--now", type=float, metavar="UNIX", help="run time (default: now)")
    p.add_argument("--dry-run", action="store_true", help="print the verified payload; no PUT")
    p.add_argument("--previous", metavar="FILE",
                   help="the gateway's /metrics saved in FILE, instead of a GET")
    p.add_argument("--attempts", type=int, default=4, help="tries per request (default: 4)")
    p.add_argument("--backoff", type=float, default=0.25,
                   help="first retry delay in seconds, doubled each time (default: 0.25)")
    network_options(p)


def run(args: argparse.Namespace) -> int:


    if args.gateway is None and not (args.dry_run and args.previous):
        raise UserError("--gateway URL is required (only --dry-run --previous FILE works "
                        "without a gateway)")
    if args.gateway is not None:
        gateway.check_url(args.gateway)
    policy = network_policy(args, attempts=args.attempts, backoff_s=args.backoff)
    if args.now is not None and not (math.isfinite(args.now) and args.now >= 0):
        raise UserError(f"--now must be unix seconds (a finite number >= 0), got {args.now}")
    contract = one_contract(args.contract, pushable).with_job(args.job)
    text = read_text(args.results)
    previous = read_text(args.previous) if args.previous else None
    now = args.now if args.now is not None else time.time()
    try:
        outcome = pusher.push(contract, text, args.results, args.gateway, now,
                              dry_run=args.dry_run, policy=policy, log=say,
                              previous_text=previous)
    except pusher.PushFailed as exc:
        for line in str(exc).splitlines():
            say(f"push: {line}")
        return EXIT_CHECK_FAILED
    if args.dry_run:
        sys.stdout.write(outcome.payload)
        say(f"dry run: payload for {len(outcome.states)} stacks verified, not sent")
    return EXIT_OK
