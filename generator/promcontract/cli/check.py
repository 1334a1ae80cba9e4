"""promcontract check: the CI lint step. Contracts valid, every output up to date, the
template's groups deployed once each and valid Terraform, promtool check rules on the whole
alerting_rules.yml and the rule files, promtool test rules on the derived tests."""

from __future__ import annotations

import argparse
import glob
import os
import time

from promcontract import inputs
from promcontract.cli.common import contract_options, contract_paths, load_contracts, say
from promcontract.cli.render import report_stale
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK, UserError
from promcontract.render import plan
from promcontract.runners import checks, junit
from promcontract.runners.fileio import check_writable, read_template, read_text
from promcontract.template import reader

HELP = ("CI lint step: validate, render --check, the template's structure and Terraform "
        "syntax, promtool check rules on the rendered groups and on the whole "
        "alerting_rules.yml of the template, and promtool test rules on the derived tests.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    contract_options(p)
    p.add_argument("--junit", metavar="FILE",
                   help="also write the results as JUnit XML (for CI test views)")
    p.add_argument("--skip-unit-tests", action="store_true",
                   help="leave out promtool test rules (seconds) for a quick pre-commit check")


def run(args: argparse.Namespace) -> int:


    if args.junit:
        check_writable(args.junit)
    log: list[str] = []  # everything said, for the JUnit system-out

    def tell(message: str) -> None:
        log.append(message)
        say(message)

    # One promtool process checks the template's whole alerting_rules.yml and the generated
    # rule files on disk; it starts first and runs on the other core while contracts are
    # validated and rendered. (A generated file that differs from its contract is reported
    # stale below, so checking the file on disk loses nothing.)
    tpl_text = read_template(args.tpl)
    template = reader.read(args.tpl, tpl_text)
    to_check = [(template.rules_text, args.tpl, template.rules_offset)]
    for path in sorted(glob.glob(os.path.join(args.generated_dir, "*.rules.yml"))):
        to_check.append((read_text(path), path, 0))
    promtool_check = checks.RuleCheck(to_check)
    test_files = [] if args.skip_unit_tests else sorted(
        glob.glob(os.path.join(args.generated_dir, "*.test.yml")))
    inputs.note(*test_files)  # read by promtool: --junit must not replace one
    unit_tests = checks.UnitTests(test_files)
    planned = time.monotonic()
    contracts = load_contracts(contract_paths(args.contract))
    tell(f"validated {len(contracts)} contract(s)")
    notes: list[str] = []
    # A group missing, twice, nested in another block or inside a Terraform condition: its
    # alerts are not deployed as the contract says. Found first: splicing would refuse some.
    structure = plan.template_problems(tpl_text, contracts, args.tpl)
    try:
        outputs = plan.plan_outputs(contracts, args.tpl, args.generated_dir,
                                        tpl_text=tpl_text, notes=notes)
    except UserError:
        if not structure:
            raise
        outputs = []  # the problems below say why the template cannot be spliced
    planned = time.monotonic() - planned
    for note in notes:
        tell(note)
    status = report_stale(outputs, tell)
    for problem in structure:
        tell(str(problem))
    if structure:
        status = EXIT_CHECK_FAILED
    orphans = None
    if not args.contract:  # every contract: what none of them renders any more is stale
        orphans = plan.find_orphans(contracts, outputs, tpl_text, args.tpl, args.generated_dir)
        for problem in orphans.problems(args.tpl):
            tell(str(problem))
            status = EXIT_CHECK_FAILED
    rule_problems = promtool_check.problems()
    per_test_file = unit_tests.results()
    test_problems = [p for found in per_test_file.values() for p in found]
    for problem in rule_problems + test_problems:
        tell(str(problem))
    if rule_problems or test_problems:
        status = EXIT_CHECK_FAILED
    if status == EXIT_OK:
        tests = "the derived unit tests were skipped" if args.skip_unit_tests else \
            "the derived unit tests pass"
        message = (f"ok: {len(contracts)} contract(s); {args.tpl} and {args.generated_dir} are "
                   f"up to date, pass promtool check rules, and {tests}")
        log.append(message)
        print(message)
    if args.junit:
        # A step that checks several files at once (planning, one promtool check rules) has
        # its time split evenly over their cases, so the cases add up to the suite's time.
        cases = [junit.Case("render", o.path, None if not o.stale else
                            f"{o.path}: out of date with its contract; run make rules\n"
                            + o.diff(), planned / max(len(outputs), 1), "stale")
                 for o in outputs]
        cases.append(junit.Case("template", args.tpl, "\n".join(str(p) for p in structure)
                                or None, 0.0, "template"))
        share = promtool_check.seconds / len(to_check)
        for _, shown, _ in to_check:
            found = [str(p) for p in rule_problems if p.location.file in (shown, "promtool")]
            cases.append(junit.Case("promtool check rules", shown,
                                    "\n".join(found) if found else None, share,
                                    "promtool-check-rules"))
        for path in test_files:
            found = per_test_file.get(path, [])
            detail = "\n".join(str(p) for p in found)
            if found:
                detail += "\n\n" + unit_tests.outputs.get(path, "")
            cases.append(junit.Case("promtool test rules", path, detail or None,
                                    unit_tests.seconds.get(path, 0.0), "promtool-test-rules"))
        junit.write(args.junit, "promcontract check", cases, "\n".join(log) + "\n")
    return status
