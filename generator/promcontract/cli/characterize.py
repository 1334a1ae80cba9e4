"""promcontract characterize: record what every hand-written alert does, as promtool tests."""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import textwrap

from promcontract.cli.common import DEFAULT_TPL, StatusLine, say
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK, UserError
from promcontract.runners import junit, promtool
from promcontract.runners.fileio import check_writable, read_text, refuse_input, write_all
from promcontract.workflows import characterize
from promcontract.workflows.characterize import HEADER

HELP = ("Characterization tests for the hand-written alerts of a values template: for each "
        "alert, scenarios that cross every threshold, for: and keep_firing_for edge (and "
        "the series going missing or stale), recorded by running promtool, written per group "
        "as DIR/<group>.rules.yml and DIR/<group>.test.yml (an alert whose for: or ranges "
        "need a coarser evaluation interval alone in DIR/<group>--<alert>.*.yml); then "
        "mutation testing proves each "
        "file pins its alerts. Prints each alert it could not characterize with the reason, "
        "and 'characterized N/M alerts'. The template is never modified.")

EPILOG = """\
workflow: characterize once, review the recorded behaviour like a snapshot, commit DIR, and
run `promcontract characterize --check -o DIR` in CI (exit 1 when the files no longer match
the template; it records again but does not run the mutants).

examples:
  promcontract characterize --tpl stacks/monitoring/prometheus_chart_values.tpl -o tests/alerts
  promcontract characterize -o tests/alerts --group "Node Exporter" --group Postgres
  promcontract characterize -o tests/alerts --check
"""


def add_arguments(p: argparse.ArgumentParser) -> None:

    p.description = textwrap.fill(HELP, 79)
    p.epilog = EPILOG
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--tpl", default=DEFAULT_TPL, metavar="T",
                   help=f"the Helm values template (default: {DEFAULT_TPL})")
    p.add_argument("--rules", nargs="+", metavar="FILE",
                   help="characterize these Prometheus rule files or PrometheusRule manifests "
                        "(kind found from the content) instead of the template")
    p.add_argument("--group", action="append", metavar="NAME",
                   help="only this alert group (repeatable)")
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="directory for <group>.rules.yml and <group>.test.yml")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when the files in DIR are stale")
    p.add_argument("--junit", metavar="F", help="JUnit XML: one case per alert")
    p.add_argument("--jobs", type=_positive, metavar="N",
                   help="promtool processes at once (default: the CPUs)")
    p.add_argument("--shard", type=_shard, metavar="K/N",
                   help="only the groups K, K+N, K+2N, ... (1-based, in source order): a CI "
                        "matrix of N machines each runs one K; the shards write disjoint "
                        "files whose union is the whole run's")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number above 0: {text!r}")
    return int(text)


def _shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise argparse.ArgumentTypeError(f"not K/N with 1 <= K <= N: {text!r}")
    return int(match.group(1)), int(match.group(2))


def run(args: argparse.Namespace) -> int:

    out_dir = args.output
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise UserError(f"{out_dir}: exists and is not a directory (-o)")
    if args.junit:
        check_writable(args.junit)
    progress = StatusLine()
    result = characterize.run(args.tpl, out_dir, args.group, workers=args.jobs,
                              progress=progress, prove=not args.check, rules=args.rules,
                              shard=args.shard or (1, 1))
    progress.clear()
    files = {os.path.join(out_dir, name): text for group in result.groups
             for name, text in group.files().items()}
    # another shard's files, or other groups' with --group, are not stale here
    ours = _ours(out_dir) - set(files) if not args.group and not args.shard else set()
    where = " ".join(args.rules) if args.rules else args.tpl
    again = f"--rules {where}" if args.rules else f"--tpl {where}"
    source = {id(a): g.source or args.tpl for g in result.groups for a in g.alerts}
    if args.check:
        stale = [path for path, text in files.items() if _read(path) != text]
        for path in stale:
            print(f"stale: {path}" if os.path.exists(path) else f"missing: {path}")
        for path in sorted(ours):
            print(f"stale: {path} (its group is no longer in {where})")
        if stale or ours:
            say(f"characterization tests in {out_dir} are stale: run promcontract characterize "
                f"{again} -o {out_dir}, review the diff, commit")
            return EXIT_CHECK_FAILED
        failing = _failing_files([p for p in files if p.endswith(".test.yml")])
        for path, why in failing:
            print(f"failed: {path}: {why}")
        if failing:
            say(f"{len(failing)} recorded test file(s) in {out_dir} fail promtool test rules: "
                "the rules no longer behave as recorded")
            return EXIT_CHECK_FAILED
        print(f"ok: {len(result.groups)} group(s) in {out_dir} match {where} and pass "
              "promtool test rules")
        return EXIT_OK
    os.makedirs(out_dir, exist_ok=True)
    changed = [(path, text) for path, text in files.items() if _read(path) != text]
    write_all(changed)  # all or none
    for path, _ in changed:
        say(f"wrote: {path}")
    for path in sorted(ours):
        refuse_input(path)
        os.unlink(path)
        say(f"removed: {path} (its group is no longer in {where})")
    done = 0
    for alert in result.alerts:
        if alert.status == "characterized":
            done += 1
        else:
            print(f"{source[id(alert)]}:{alert.line}: {alert.name}: not characterized: "
                  f"{alert.why}")
    total = len(result.alerts)
    share = 100.0 * done / total if total else 100.0
    print(f"characterized {done}/{total} alerts ({share:.0f}%) in {len(result.groups)} "
          f"group(s), {result.seconds:.0f}s")
    if args.junit:

        cases = [junit.Case(source[id(alert)], alert.name, None if alert.status == "characterized"
                            else alert.why, kind="not-characterized") for alert in result.alerts]
        junit.write(args.junit, "promcontract characterize", cases)
    return EXIT_OK


def _failing_files(tests: list[str]) -> list[tuple[str, str]]:
    """The recorded test files promtool fails, with why: up to date is not enough, each must
    still pass (a recorded time read wrong once wrote files that failed while --check said
    ok)."""


    with tempfile.TemporaryDirectory(prefix="promcontract-characterize-check-") as scratch:
        results, problems = promtool.test_many([(path, 1.0) for path in tests],
                                               os.cpu_count() or 1, scratch)
    failing = [(path, results[path].describe()) for path in tests
               if path in results and not results[path].ok]
    failing += [(path, "; ".join(problems) or "promtool said nothing about it")
                for path in tests if path not in results]
    return failing


def _read(path: str) -> str | None:
    """An output's current text (None: missing or unreadable); never a device or FIFO."""

    try:
        return read_text(path, is_input=False)
    except UserError:
        return None


def _ours(out_dir: str) -> set[str]:
    """Files in ``out_dir`` that characterize wrote (they start with its header)."""

    found = set()
    if not os.path.isdir(out_dir):
        return found
    for name in os.listdir(out_dir):
        path = os.path.join(out_dir, name)
        if name.endswith((".rules.yml", ".test.yml")):
            text = _read(path) or ""
            if text.startswith(HEADER) or "Written by promcontract characterize" in \
                    text[:400]:
                found.add(path)
    return found
