"""promcontract backtest: how often each alert would have fired over real history."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import textwrap
import time

from promcontract.cli.common import DEFAULT_TPL, StatusLine, positive_duration
from promcontract.durations import format_duration, parse_duration
from promcontract.problems import EXIT_OK, UserError
from promcontract.runners import http
from promcontract.runners.fileio import read_template, read_text
from promcontract.template import reader
from promcontract.workflows import backtest

HELP = ("Backtest: evaluate each alert's expression over a range of real history with the "
        "Prometheus HTTP API (query_range; the server's engine does the PromQL, so it works "
        "against Prometheus, Thanos Query or Mimir), run the alert states (for:, "
        "keep_firing_for) as Prometheus does, and print each alert's firing episodes: how "
        "many, the time firing, the first and last, the longest.")
EPILOG = """\
examples:
  promcontract backtest --prometheus http://prometheus:9090 --since 30d
  promcontract backtest --prometheus https://mimir/prometheus --header 'X-Scope-OrgID: ops' \\
      --rules alerts.yml --start 2026-11-01T00:00:00Z --end 2026-12-01T00:00:00Z --format json
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = textwrap.fill(HELP, 79)
    p.epilog = EPILOG
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--prometheus", required=True, metavar="URL",
                   help="a Prometheus-API endpoint (Prometheus, Thanos Query, Mimir)")
    p.add_argument("--since", type=positive_duration, metavar="D",
                   help="the range: the last D up to now (default: 7d)")
    p.add_argument("--start", metavar="T", help="the range's start (RFC 3339 or unix seconds)")
    p.add_argument("--end", metavar="T", help="the range's end (default: now)")
    p.add_argument("--step", type=positive_duration, default=60.0, metavar="D",
                   help="evaluation interval (default: 1m)")
    p.add_argument("--tpl", default=DEFAULT_TPL, metavar="T",
                   help=f"the values template whose alerts to backtest (default: {DEFAULT_TPL})")
    p.add_argument("--rules", nargs="+", metavar="FILE",
                   help="rule files or PrometheusRule manifests instead of the template")
    p.add_argument("--group", action="append", metavar="NAME", help="only this group")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--header", action="append", default=[], metavar="'K: V'",
                   help="an HTTP header for every query (auth, X-Scope-OrgID)")
    p.add_argument("--timeout", type=positive_duration, default=60.0, metavar="D",
                   help="the deadline of each query (default: 1m)")
    p.add_argument("--max-bytes", type=int, default=256 * 1024 * 1024, metavar="N",
                   help="the largest answer read (default: 256 MiB)")


def _moment(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{what} {text!r}: not RFC 3339 (2026-11-01T00:00:00Z) or unix "
                        "seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def _headers(given: list[str]) -> dict[str, str]:
    out = {}
    for item in given:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise UserError(f"--header {item!r}: not 'Name: value'")
        out[name.strip()] = value.strip()
    return out


def _iso(t: float | None) -> str:
    if t is None:
        return "-"
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def run(args: argparse.Namespace) -> int:
    http.check_url(args.prometheus, "--prometheus")
    if args.since is not None and args.start is not None:
        raise UserError("--since and --start are two ways to give the range; give one")
    end = _moment(args.end, "--end") if args.end else time.time()
    start = _moment(args.start, "--start") if args.start else \
        end - (args.since if args.since is not None else parse_duration("7d"))
    end = start + ((end - start) // args.step) * args.step
    if end <= start:
        raise UserError("the range is empty: --end must come after --start")
    if args.rules:
        rules = [r for path in args.rules for r in backtest.rules_of(
            [g for g in reader.read_rules(path, read_text(path)).groups
             if not args.group or g.name in args.group], path)]
    else:
        template = reader.read(args.tpl, read_template(args.tpl))
        rules = backtest.rules_of([g for g in template.groups
                                   if not args.group or g.name in args.group], args.tpl)
    if not rules:
        raise UserError("no alerting rules to backtest (check --group)")
    progress = StatusLine()
    api = backtest.Api(args.prometheus, _headers(args.header), args.timeout, args.max_bytes)
    started = time.monotonic()
    results = backtest.run(api, rules, start, end, args.step, progress)
    progress.clear()
    summaries = [r.summary(end) for r in results]
    if args.format == "json":
        json.dump({"start": start, "end": end, "step": args.step, "alerts": [
            {**s, "episodes_list": [{"labels": dict(e.labels), "start": e.start,
                                     "end": e.end} for e in r.episodes]}
            for s, r in zip(summaries, results, strict=True)]}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return EXIT_OK
    print(f"backtest {_iso(start)} .. {_iso(end)} every {format_duration(args.step)}, "
          f"{len(rules)} alerts, {sum(r.queries for r in results)} queries, "
          f"{time.monotonic() - started:.1f}s")
    for s in summaries:
        if not s["episodes"]:
            print(f"{s['where']}: {s['alert']}: never fired")
            continue
        print(f"{s['where']}: {s['alert']}: {s['episodes']} episode(s), firing "
              f"{format_duration(s['firing_seconds'])} in all, first {_iso(s['first'])}, "
              f"last until {_iso(s['last'])}, longest {format_duration(s['longest_seconds'])}")
    return EXIT_OK
