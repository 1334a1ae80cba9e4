"""promcontract backtest: how often each alert would have fired over real history."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import textwrap
import time

from promcontract.cli.common import DEFAULT_TPL, StatusLine, positive_duration
from promcontract.contract import parse_contract
from promcontract.durations import format_duration, parse_duration
from promcontract.problems import EXIT_OK, UserError
from promcontract.render import group, timeline
from promcontract.runners import http
from promcontract.runners.fileio import read_template, read_text, write_all
from promcontract.template import reader
from promcontract.workflows import backtest

HELP = ("Backtest: evaluate each alert's expression over a range of real history with the "
        "Prometheus HTTP API (query_range; the server's engine does the PromQL, so it works "
        "against Prometheus, Thanos Query or Mimir), run the alert states (for:, "
        "keep_firing_for) as Prometheus does, and print each alert's firing episodes: how "
        "many, the time firing, the first and last, the longest.")
EPILOG = """\
With --against, the same alerts of another version (a git revision of the same files, or
another file) are backtested too, and each alert lists the episodes the change adds, removes
and shifts. With -o DIR, one SVG per alert (its series against the threshold, pending and
firing spans per alert series, the other version overlaid) and an index.html that opens
offline are written to DIR.

examples:
  promcontract backtest --prometheus http://prometheus:9090 --since 30d
  promcontract backtest --prometheus http://prometheus:9090 --contract rules/drift.contract.yaml \\
      --against HEAD~1 --since 30d -o backtest/
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
    p.add_argument("--contract", metavar="C",
                   help="the alerts a contract renders, instead of the template")
    p.add_argument("--group", action="append", metavar="NAME", help="only this group")
    p.add_argument("--against", metavar="REV|FILE",
                   help="compare with another version: a git revision of the same files, or "
                        "another file of the same kind (with one source file)")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="write one SVG timeline per alert and an index.html here")
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


def _sources(args: argparse.Namespace) -> tuple[str, list[str]]:
    given = [k for k in ("rules", "contract") if getattr(args, k)]
    if len(given) > 1:
        raise UserError("--rules and --contract are two sources; give one")
    if args.rules:
        return "rules", list(args.rules)
    if args.contract:
        return "contract", [args.contract]
    return "tpl", [args.tpl]


def _rules_of(kind: str, path: str, text: str, groups: list[str] | None
              ) -> list[backtest.AlertRule]:
    """The alerting rules of one source file's ``text`` (``kind``: tpl, rules, contract)."""
    if kind == "contract":
        contract = parse_contract(text, path)
        rendered = group.render_rule_file(contract)
        found = reader.read_rules(path, rendered).groups
    elif kind == "rules":
        found = reader.read_rules(path, text).groups
    else:
        found = reader.read(path, text).groups
    return backtest.rules_of([g for g in found if not groups or g.name in groups], path)


def _read(kind: str, path: str) -> str:
    return read_template(path) if kind == "tpl" else read_text(path)


REVISION = re.compile(r"^[\w./@{}~^:-]+$")


def _at_revision(revision: str, path: str) -> str:
    """``path`` as it was at git ``revision``."""
    if not REVISION.match(revision) or revision.startswith("-"):
        raise UserError(f"--against {revision!r}: neither a file nor a git revision")
    real = os.path.realpath(path)
    try:
        proc = subprocess.run(["git", "-C", os.path.dirname(real), "show",
                               f"{revision}:./{os.path.basename(real)}"],
                              capture_output=True, timeout=60, check=False)
    except FileNotFoundError:
        raise UserError(f"--against {revision}: git is not installed") from None
    except subprocess.TimeoutExpired:
        raise UserError(f"--against {revision}: git show took over 60 s") from None
    if proc.returncode != 0:
        why = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["failed"])[0]
        raise UserError(f"--against {revision}: {path}: git show: {why}")
    try:
        return proc.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"--against {revision}: {path}: not UTF-8 text") from None


def _against(args: argparse.Namespace, kind: str, paths: list[str]
             ) -> tuple[str, list[backtest.AlertRule]]:
    """What --against names: (how to show it, its alerting rules)."""
    other = args.against
    if os.path.exists(other):
        if len(paths) != 1:
            raise UserError(f"--against {other}: a file compares with one source file; "
                            f"{len(paths)} were given (use a git revision)")
        return other, _rules_of(kind, other, _read(kind, other), args.group)
    rules = []
    for path in paths:
        rules += _rules_of(kind, path, _at_revision(other, path), args.group)
    return other, rules


def _file_name(k: int, name: str) -> str:
    return f"{k + 1:03d}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)[:80]}.svg"


def _line(summary: dict) -> str:
    if not summary["episodes"]:
        return "never fired"
    return (f"{summary['episodes']} episode(s), firing "
            f"{format_duration(summary['firing_seconds'])} in all, first "
            f"{_iso(summary['first'])}, last until {_iso(summary['last'])}, longest "
            f"{format_duration(summary['longest_seconds'])}")


def _change_line(change: backtest.Change | None, now: backtest.Result | None,
                 before: backtest.Result | None) -> str:
    if now is None:
        return "only before the change (removed)"
    if before is None:
        return "new with the change"
    assert change is not None
    if not (change.added or change.removed or change.shifted):
        return f"unchanged ({change.unchanged} episode(s) the same)" if change.unchanged \
            else "unchanged (never fired in either)"
    parts = []
    if change.added:
        parts.append(f"+{len(change.added)} added")
    if change.removed:
        parts.append(f"-{len(change.removed)} removed")
    if change.shifted:
        moves = ", ".join(
            f"{_iso(old.start)} start {_delta(new.start - old.start)} end "
            f"{_delta(_end(new) - _end(old))}" for old, new in change.shifted[:3])
        more = f", and {len(change.shifted) - 3} more" if len(change.shifted) > 3 else ""
        parts.append(f"{len(change.shifted)} shifted ({moves}{more})")
    parts.append(f"{change.unchanged} unchanged")
    return ", ".join(parts)


def _end(e: backtest.Episode) -> float:
    return e.end if e.end is not None else float("inf")


def _delta(seconds: float) -> str:
    if seconds != seconds or abs(seconds) == float("inf"):
        return "open"
    if seconds == 0:
        return "same"
    return ("+" if seconds > 0 else "-") + format_duration(abs(seconds))


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
    kind, paths = _sources(args)
    rules = [r for path in paths for r in _rules_of(kind, path, _read(kind, path), args.group)]
    if not rules:
        raise UserError("no alerting rules to backtest (check --group)")
    against, old_rules = _against(args, kind, paths) if args.against else (None, [])
    out_dir = None
    if args.output:
        out_dir = os.path.abspath(args.output)
        if os.path.exists(out_dir) and not os.path.isdir(out_dir):
            raise UserError(f"-o {args.output}: exists and is not a directory")
        if not os.path.isdir(os.path.dirname(out_dir)):
            raise UserError(f"-o {args.output}: its parent directory does not exist")
    progress = StatusLine()
    api = backtest.Api(args.prometheus, _headers(args.header), args.timeout, args.max_bytes)
    started = time.monotonic()
    draw = out_dir is not None
    results = backtest.run(api, rules, start, end, args.step, progress, draw=draw)
    before = backtest.run(api, old_rules, start, end, args.step, progress, draw=draw) \
        if against else []
    progress.clear()
    rows = backtest.pair(results, before) if against else [(r, None) for r in results]
    changes = [backtest.compare(now.episodes, old.episodes, end)
               if now is not None and old is not None else None for now, old in rows]
    queries = sum(r.queries for r in results + before)
    head = (f"backtest {_iso(start)} .. {_iso(end)} every {format_duration(args.step)}, "
            f"{len(rules)} alerts{f' against {against}' if against else ''}, {queries} "
            f"queries, {time.monotonic() - started:.1f}s")
    if out_dir is not None:
        _write_pictures(out_dir, head, rows, changes, start, end, args.step, against)
    if args.format == "json":
        _print_json(rows, changes, start, end, args.step, against)
    elif args.format == "markdown":
        _print_markdown(head, rows, changes, end, against)
    else:
        print(head)
        for (now, old), change in zip(rows, changes, strict=True):
            shown = now or old
            assert shown is not None
            line = _line(now.summary(end)) if now is not None else "-"
            if against:
                line += f"; against {against}: {_change_line(change, now, old)}"
            print(f"{shown.rule.where}: {shown.rule.name}: {line}")
        if out_dir is not None:
            print(f"pictures: {os.path.join(args.output, 'index.html')}")
    return EXIT_OK


def _episode(e: backtest.Episode) -> dict:
    return {"labels": dict(e.labels), "start": e.start, "end": e.end}


def _print_json(rows, changes, start: float, end: float, step: float,  # noqa: ANN001
                against: str | None) -> None:
    alerts = []
    for (now, old), change in zip(rows, changes, strict=True):
        shown = now or old
        entry = {**(now.summary(end) if now is not None else
                    {"alert": shown.rule.name, "where": shown.rule.where, "episodes": None}),
                 "episodes_list": [_episode(e) for e in now.episodes] if now else []}
        if against:
            entry["against"] = {
                "where": old.rule.where if old is not None else None,
                "episodes_list": [_episode(e) for e in old.episodes] if old else [],
                **({**change.summary(),
                    "added_list": [_episode(e) for e in change.added],
                    "removed_list": [_episode(e) for e in change.removed],
                    "shifted_list": [{"before": _episode(a), "now": _episode(b)}
                                     for a, b in change.shifted]} if change else
                   {"only": "before" if now is None else "now"})}
        alerts.append(entry)
    json.dump({"start": start, "end": end, "step": step, "against": against,
               "alerts": alerts}, sys.stdout, indent=1)
    sys.stdout.write("\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _print_markdown(head: str, rows, changes, end: float,  # noqa: ANN001
                    against: str | None) -> None:
    print(f"**{_cell(head)}**\n")
    columns = ["alert", "where", "episodes", "firing", "first", "last until", "longest"]
    if against:
        columns.append(f"against {against}")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for (now, old), change in zip(rows, changes, strict=True):
        shown = now or old
        if now is not None:
            s = now.summary(end)
            cells = [s["alert"], s["where"], str(s["episodes"]),
                     format_duration(s["firing_seconds"]), _iso(s["first"]), _iso(s["last"]),
                     format_duration(s["longest_seconds"])]
        else:
            cells = [shown.rule.name, shown.rule.where, "-", "-", "-", "-", "-"]
        if against:
            cells.append(_change_line(change, now, old))
        print("| " + " | ".join(_cell(c) for c in cells) + " |")


def _write_pictures(out_dir: str, head: str, rows, changes,  # noqa: ANN001
                    start: float, end: float, step: float, against: str | None) -> None:
    """One SVG per alert and index.html, all written or none."""
    files, entries = [], []
    for k, ((now, old), change) in enumerate(zip(rows, changes, strict=True)):
        shown = now or old
        line = _line(now.summary(end)) if now is not None else "only before the change"
        if against:
            line += f"; against {against}: {_change_line(change, now, old)}"
        name = _file_name(k, shown.rule.name)
        picture = backtest.picture(now, old, start, end, step, line)
        files.append((os.path.join(out_dir, name), timeline.svg(picture)))
        entries.append((f"{shown.rule.name} ({shown.rule.where})", line, name))
    files.append((os.path.join(out_dir, "index.html"),
                  timeline.index_html("promcontract backtest", head, entries)))
    os.makedirs(out_dir, exist_ok=True)
    write_all(files)
