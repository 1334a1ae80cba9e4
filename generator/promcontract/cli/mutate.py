"""promcontract mutate: every small mistake in an alerting rule must fail its tests."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

from promcontract import inputs
from promcontract.cli.common import contract_options, contract_paths, load_contracts, say
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK, UserError
from promcontract.render.writers import Dirs, rulefile, testfile
from promcontract.runners import junit
from promcontract.runners.fileio import check_writable
from promcontract.testgen import mutate

HELP = ("Mutation testing of alerting rules: change each rule in one small way (a number by "
        "one, > to >=, and to unless, a label dropped from on(), for: by one evaluation "
        "step, ...) and run its promtool tests against each change; a change no test "
        "notices has survived. Without --rules: the contracts' generated rule files and "
        "derived tests. With --rules/--tests: any rule files against any promtool test files "
        "(alerts no test names are reported as untested). Exit 1 when a mutant survives or "
        "an alert is untested (or, with --min-score, when the killed share is below it).")

EPILOG = """\
operators: literal (+-1), constant (a compared constant expression +-1, e.g. 1s of an age),
strictness (> >=, < <=), state (== v to the neighbouring values), set-operator (and/or/unless),
matching-label (one label dropped from on/ignoring/by/without), absent-branch (dropped),
fallback (0 * -> 1 *), range (a range or offset +-1 unit), for / keep_firing_for (+-1
evaluation step and +-1 written unit). Equivalent mutants are listed with the reason.
Your files are never changed: mutants live in a temp dir.

examples:
  promcontract mutate
  promcontract mutate --rules alerts/*.yml --tests tests/*.test.yml --junit mutants.xml
  promcontract mutate --rules alerts.yml --tests alerts.test.yml --min-score 90
"""


def add_arguments(p: argparse.ArgumentParser) -> None:

    p.description = textwrap.fill(HELP, 79)
    p.epilog = EPILOG
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    contract_options(p)
    p.add_argument("--rules", nargs="+", metavar="FILE",
                   help="Prometheus rule files whose alerts to mutate (with --tests)")
    p.add_argument("--tests", nargs="+", metavar="FILE",
                   help="promtool test files to run against each mutant (with --rules)")
    p.add_argument("--alert", metavar="NAME", help="mutate only this alert")
    p.add_argument("--min-score", type=_percent, metavar="P",
                   help="pass when at least P%% of the mutants run are killed, instead of "
                        "requiring every one (untested alerts' mutants count as not killed)")
    p.add_argument("--junit", metavar="F", help="write a JUnit XML report (one case per alert)")
    p.add_argument("--show-equivalent", action="store_true",
                   help="also print each equivalent mutant with its reason")


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not a percentage between 0 and 100")
    return value


def run(args: argparse.Namespace) -> int:

    if bool(args.rules) != bool(args.tests):
        raise UserError("--rules and --tests go together: the rule files to mutate and the "
                        "promtool test files to run against them")
    if args.rules and args.contract:
        raise UserError("--contract and --rules/--tests are two modes; give one")
    if args.junit:

        check_writable(args.junit)
    progress = _progress if sys.stderr.isatty() else None
    if args.rules:
        report = mutate.run(args.rules, args.tests, None, args.alert, progress)
    else:
        report = _contract_report(args, progress)
        if report is None:
            return EXIT_CHECK_FAILED
    if progress:
        sys.stderr.write("\r\033[K")
    if not report.alerts:
        if args.alert:
            raise UserError(f"no alerting rule named {args.alert} in the rule files")
        say("no alerting rules in the given rule files: nothing was tested")
        return EXIT_CHECK_FAILED
    _print(report, args.show_equivalent)
    if args.junit:
        _junit(args.junit, report)
    if args.min_score is not None:
        return EXIT_OK if report.score >= args.min_score else EXIT_CHECK_FAILED
    return EXIT_OK if report.clean else EXIT_CHECK_FAILED


def _contract_report(args: argparse.Namespace, progress):  # noqa: ANN001, ANN202
    """The report over the contracts' generated files (None: their tests fail as they are,
    said on stderr)."""

    contracts = load_contracts(contract_paths(args.contract))
    dirs = Dirs(args.generated_dir)
    rules, tests, hints = [], [], {}
    for contract in contracts:
        rule_path, test_path = rulefile.path(contract, dirs), testfile.path(contract, dirs)
        for path in (rule_path, test_path):
            if not os.path.isfile(path):
                raise UserError(f"{path}: file not found; run make rules (promcontract render) "
                                "first")
        inputs.note(rule_path, test_path)  # read by promtool: no --junit may replace them
        rules.append(rule_path)
        tests.append(test_path)
        hints[os.path.realpath(rule_path)] = mutate.contract_hints(contract)
    report = mutate.run(rules, tests, hints, args.alert, progress)
    failed = [a for a in report.alerts if a.status == "baseline-failed"]
    if failed:
        for alert in failed:
            say(f"{alert.rule.where}: {alert.rule.name}: the tests fail on the unchanged rules, "
                "so mutants would prove nothing; run make rules, then promcontract check "
                f"({alert.baseline})")
        return None
    return report


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rmutate: {done}/{total} mutant test files run")
    sys.stderr.flush()


def _print(report, show_equivalent: bool) -> None:  # noqa: ANN001 - a mutate.Report
    equivalent = 0
    for alert in report.alerts:
        rule = alert.rule
        status = alert.status
        if status == "untested":
            print(f"{rule.where}: {rule.name}: untested (no alert_rule_test names it; "
                  f"{alert.total} mutants unchecked)")
            continue
        if status == "unparsed":
            print(f"{rule.where}: {rule.name}: expression not mutated: {alert.unparsed}")
            continue
        if status == "baseline-failed":
            print(f"{rule.where}: {rule.name}: its tests fail on the unchanged rule "
                  f"(alone with the recording rules it reads), so no mutant was run: "
                  f"{alert.baseline}")
            continue
        eq = alert.count("equivalent")
        equivalent += eq
        note = f", {eq} equivalent" if eq else ""
        print(f"{rule.where}: {rule.name}: {alert.killed}/{alert.total} killed{note}")
        for outcome in alert.outcomes:
            m = outcome.mutation
            if outcome.state in ("survived", "invalid"):
                word = "SURVIVED" if outcome.state == "survived" else "INVALID"
                extra = f" ({outcome.detail})" if outcome.state == "invalid" else ""
                print(f"  {word} [{m.operator}] {m.diff}{extra}")
            elif outcome.state == "equivalent" and show_equivalent:
                print(f"  equivalent [{m.operator}] {m.diff}: {outcome.detail}")
    untested = sum(a.status == "untested" for a in report.alerts)
    parts = [f"mutants killed: {report.killed}/{report.total} ({report.score:.1f}%)"]
    if equivalent:
        parts.append(f"{equivalent} equivalent (not run; --show-equivalent lists why)")
    if untested:
        parts.append(f"{untested} untested alerts")
    parts.append(f"{report.processes} promtool runs, {report.seconds:.1f}s")
    print("; ".join(parts))


def _junit(path: str, report) -> None:  # noqa: ANN001 - a mutate.Report

    cases = []
    for alert in report.alerts:
        rule = alert.rule
        failure = None
        if alert.status == "untested":
            failure = "no alert_rule_test names this alert"
        elif alert.status == "baseline-failed":
            failure = f"its tests fail on the unchanged rule: {alert.baseline}"
        elif alert.status == "unparsed":
            failure = f"expression not mutated: {alert.unparsed}"
        elif alert.status == "survivors":
            alive = [f"[{o.mutation.operator}] {o.mutation.diff}" for o in alert.outcomes
                     if o.state in ("survived", "invalid")]
            failure = f"{len(alive)} of {alert.total} mutants not killed: " + "; ".join(alive)
        cases.append(junit.Case(rule.file, f"{rule.name} ({alert.killed}/{alert.total} "
                                "mutants killed)", failure, kind=alert.status))
    junit.write(path, "promcontract mutate", cases)
