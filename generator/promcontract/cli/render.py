"""promcontract render: every contract's group into the template, and the files each contract
owns (rule file, derived test file, docs page); or, with --format, all groups as one document
for another rule engine."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from promcontract.cli.common import contract_options, contract_paths, emit, load_contracts, say
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK, UserError
from promcontract.render import plan, writers
from promcontract.runners.fileio import check_writable, locked, refuse_input

if TYPE_CHECKING:
    from promcontract.render.plan import Output

HELP = ("Render each contract's alert group into the template (between marker comments) "
        "and into rules/generated/. Files already up to date are not rewritten; nothing is "
        "written that promcontract check would reject.")
FORMAT_ORDER = ("prometheusrule", "rulefile", "mimir", "docs")


def add_arguments(p: argparse.ArgumentParser) -> None:
    contract_options(p)
    p.add_argument("--check", action="store_true",
                   help="write nothing; print a unified diff and exit 1 when anything is stale")
    p.add_argument("--prune", action="store_true",
                   help="also remove what no contract renders any more: promcontract blocks "
                        "of deleted contracts in the template, and their generated rule, "
                        "test, pusher and docs files (needs every contract: no --contract)")
    p.add_argument("--format", default="template", metavar="F",
                   help="template (default: splice into --tpl and write rules/generated, "
                        "docs/), or to stdout/-o: prometheusrule (monitoring.coreos.com/v1), "
                        "rulefile (plain rule file, e.g. Thanos Ruler), mimir (mimirtool rules "
                        "load namespace file), docs (Markdown)")
    p.add_argument("--namespace", metavar="NS",
                   help="namespace of the PrometheusRule / Mimir ruler namespace (required)")
    p.add_argument("--name", metavar="N", help="PrometheusRule name (default: <contracts>-rules)")
    p.add_argument("--label", action="append", metavar="K=V",
                   help="PrometheusRule label (repeatable), e.g. release=prometheus")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")


def parse_labels(values: list[str] | None) -> tuple[tuple[str, str], ...]:
    out = []
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--label expects k=v, got {item!r}")
        out.append((key, value))
    return tuple(out)


def run_format(args: argparse.Namespace) -> int:

    formats = writers.formats()
    fmt = formats.get(args.format)
    if fmt is None:
        shown = sorted(formats, key=lambda n: FORMAT_ORDER.index(n)
                       if n in FORMAT_ORDER else len(FORMAT_ORDER))
        raise UserError(f"unknown format {args.format!r} (choose from template, "
                        f"{', '.join(shown)})")
    if fmt.needs_namespace and not args.namespace:
        raise UserError(f"--format {args.format} needs --namespace")
    options = writers.Options(args.namespace, args.name, parse_labels(args.label))
    fmt.check_options(options)
    if args.output:
        check_writable(args.output)
    contracts = load_contracts(contract_paths(args.contract))
    return emit(args.output, fmt.render(contracts, options))


def run(args: argparse.Namespace) -> int:

    if args.format != "template":
        if args.check:
            raise UserError("--check applies to --format template only")
        return run_format(args)
    if args.output or args.namespace or args.name or args.label:
        raise UserError("-o/--namespace/--name/--label apply to --format prometheusrule, "
                        "rulefile, mimir or docs")
    if args.prune and args.contract:
        raise UserError("--prune removes what none of the contracts renders: run it over every "
                        "contract (without --contract)")
    contracts = load_contracts(contract_paths(args.contract))
    if args.check:
        return report_stale(_plan(args, contracts)[0])
    # Read, splice and write the template under one lock: two renders adding different
    # contracts at once must both land (the second reads what the first wrote).
    with locked(args.tpl):
        outputs, splice_notes = _plan(args, contracts)
        orphans = plan.Orphans([], [])
        if not args.contract:
            orphans = plan.find_orphans(contracts, outputs, outputs[0].new, args.tpl,
                                        args.generated_dir)
        if args.prune:
            outputs = plan.prune(outputs, orphans)
            for path in orphans.files:
                refuse_input(path)
        else:
            for problem in orphans.problems(args.tpl, note=True):
                say(str(problem))
        if any(o.stale for o in outputs):
            plan.check_outputs_writable(outputs)
            # Never write what `check` would reject: `make rules && terragrunt apply` ships it.
            problems = plan.prewrite_problems(outputs, args.tpl, contracts)
            if problems:
                for problem in problems:
                    say(str(problem))
                say(f"render: nothing written: the result would fail promcontract check "
                    f"({len(problems)} problem(s) above)")
                return EXIT_CHECK_FAILED
        written = plan.write_outputs(outputs)
        if args.prune:
            for block in orphans.blocks:
                say(f"{args.tpl}:{block.begin + 1}: pruned the block of group '{block.name}'")
            for path in orphans.files:
                os.unlink(path)
                print(f"removed: {path}")
    if outputs[0] in written:
        for note in splice_notes:
            if ": warning: " not in note:
                say(note)
    for output in outputs:
        state = "wrote" if output in written else "unchanged"
        print(f"{state}: {output.path}")
    return EXIT_OK


def _plan(args: argparse.Namespace, contracts: list) -> tuple[list[Output], list[str]]:

    notes: list[str] = []
    splice_notes: list[str] = []
    outputs = plan.plan_outputs(contracts, args.tpl, args.generated_dir, notes=notes,
                                splice_notes=splice_notes)
    for note in notes + [n for n in splice_notes if ": warning: " in n]:
        say(note)
    return outputs, splice_notes


def report_stale(outputs: list[Output], tell: Callable[[str], None] = say) -> int:
    stale = [o for o in outputs if o.stale]
    for output in stale:
        sys.stdout.write(output.diff())
    for output in stale:
        what = ("missing" if output.old is None else "out of date with its contract"
                if output.old != output.new else "not executable (a generated script)")
        tell(f"{output.path}: {what}; run `make rules` (promcontract render)")
    return EXIT_CHECK_FAILED if stale else EXIT_OK
