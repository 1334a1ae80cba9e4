"""promcontract pusher-test: contract-test any pusher command against a real Pushgateway."""

from __future__ import annotations

import argparse
import math

from promcontract.cli.common import one_contract, pushable, say
from promcontract.labels import format_series
from promcontract.payload import harness
from promcontract.payload.proxy import Proxy
from promcontract.payload.pusher import Roles
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK, UserError
from promcontract.render import timeline
from promcontract.runners import process, servers
from promcontract.runners.fileio import check_writable, write_atomic

NAME = "pusher-test"
HELP = ("Contract-test a pusher command against a real Pushgateway over generated run "
        "sequences. CMD gets PUSHGATEWAY_URL, RESULTS_FILE, NOW and PUSH_JOB in its "
        "environment; exit 1 with the shrunk failing sequence when it breaks the contract.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    p.add_argument("--contract", action="append", metavar="C", help="contract file")
    p.add_argument("--sequences", type=int, default=100, help="run sequences (default: 100)")
    p.add_argument("--seed", type=int, help="seed for reproducible sequences")
    p.add_argument("--job", metavar="J", help="PUSH_JOB (default: the contract's job)")
    p.add_argument("--builtin", action="store_true",
                   help="test the reference pusher in-process instead of a command")
    p.add_argument("--run-timeout", type=float, default=60.0, metavar="S",
                   help="seconds one pusher run may take (default: 60)")
    p.add_argument("--timeline", default="pusher-test-failure.svg", metavar="FILE",
                   help="where to draw the failing sequence, run by run, when there is one "
                        "(default: pusher-test-failure.svg)")


def _label(series: harness.Series, r: Roles) -> str:
    metric, item = series
    return format_series(metric, ((r.item_label, item),) if item is not None else ())


def failure_picture(failure: harness.Failure, r: Roles) -> timeline.Picture:
    """The failing sequence drawn: what the group must hold after each run (timestamps left
    out: they would flatten the rest), what it held after the failing one (dots), a mark per
    run, and the defect at the failing run."""
    runs = failure.runs
    times = [float(run.now) for run in runs]
    gap = max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0) or 60.0
    start, end = times[0] - gap / 2, times[-1] + gap / 2
    clocks = {r.heartbeat, r.first_seen}
    lines: dict[str, list[tuple[float, float]]] = {}
    for index, run in enumerate(runs):
        for series, value in harness.expected_after(runs, index, r).items():
            if series[0] not in clocks:
                lines.setdefault(f"expected {_label(series, r)}", []).append(
                    (float(run.now), float(value)))
    for series, value in failure.actual_values:
        if series[0] not in clocks:
            lines[f"actual {_label(series, r)}"] = [(times[-1], float(value))]
    defect = failure.defects[0] if failure.defects else "failed"
    picture = timeline.Picture(
        f"pusher-test: the minimal failing sequence ({len(runs)} runs)",
        f"after run {failure.failed_run}: {defect}"[:150], start, end, gap,
        lines=lines, marks=times, key=True)
    picture.strips.append(timeline.Strip(f"run {failure.failed_run}: {defect}"[:140], firing=[
        timeline.Span(times[-1] - gap / 4, times[-1] + gap / 4)], side="defect"))
    return picture


def run(args: argparse.Namespace) -> int:

    if args.sequences < 1:
        raise UserError(f"--sequences must be at least 1, got {args.sequences}")
    if not (math.isfinite(args.run_timeout) and args.run_timeout > 0):
        raise UserError(f"--run-timeout must be a positive number of seconds, got "
                        f"{args.run_timeout}")
    contract = one_contract(args.contract, pushable)
    check_writable(args.timeline)
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd and not args.builtin:
        raise UserError("give the pusher command after --, e.g. "
                        "promcontract pusher-test -- ./push.sh (or --builtin)")
    pusher_fn = harness.builtin_pusher(contract) if args.builtin else \
        harness.command_pusher(cmd, args.run_timeout)

    with process.stopped_by_signals(), servers.Pushgateway() as pgw, Proxy(pgw.url) as proxy, \
            harness.tempdir() as work:
        pid = pgw.proc.pid if pgw.proc is not None else "?"
        say(f"pusher-test: Pushgateway at {pgw.url} (pid {pid}), the pusher talks to it "
            f"through a recording proxy at {proxy.url}; work dir {work}; "
            f"{args.sequences} sequences")
        h = harness.Harness(contract, pgw.url, pusher_fn, work, job=args.job, proxy=proxy)
        failure = harness.run_sequences(h, args.sequences, args.seed, harness.main_progress)
    if failure is not None:
        print(f"pusher-test: FAILED ({h.sequences} sequences run, including shrinking)")
        print(failure.report())
        write_atomic(args.timeline, timeline.svg(failure_picture(failure, h.roles)))
        print(f"pusher-test: the failing sequence, run by run: {args.timeline}")
        return EXIT_CHECK_FAILED
    print(f"pusher-test: ok: {h.sequences} run sequences passed")
    return EXIT_OK
