"""promcontract mutate: every off-by-one threshold and for: must fail the derived tests."""

from __future__ import annotations

import argparse
import os

from promcontract.cli.common import contract_options, contract_paths, load_contracts, say
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK

HELP = ("Mutation check: move each threshold and for: of the rule file by one unit either "
        "way (a for: by at least one 1m evaluation step) and run the derived tests on each "
        "mutant, after checking they pass on the unchanged rules; exit 1 unless all are "
        "killed.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    contract_options(p)


def run(args: argparse.Namespace) -> int:
    from promcontract.render.writers import Dirs, rulefile, testfile
    from promcontract.runners import promtool
    from promcontract.runners.fileio import read_text
    from promcontract.testgen import mutate

    contracts = load_contracts(contract_paths(args.contract))
    dirs = Dirs(args.generated_dir)
    killed = total = 0
    for contract in contracts:
        test_path = testfile.path(contract, dirs)
        rule_path = rulefile.path(contract, dirs)
        test_text = read_text(test_path)
        try:
            results = mutate.run(contract, test_text, os.path.basename(rule_path))
        except mutate.BaselineFailed as failed:
            say(f"{test_path}: the tests fail on the unchanged rules, so mutants would prove "
                "nothing; run make rules, then promcontract check ("
                f"{promtool.test_failure_summary(str(failed), 300)})")
            return EXIT_CHECK_FAILED
        for mutant in results:
            state = "killed" if mutant.killed else "SURVIVED"
            print(f"{test_path}: {state}: {mutant.description}")
        killed += sum(m.killed for m in results)
        total += len(results)
    print(f"mutants killed: {killed}/{total}")
    return EXIT_OK if killed == total else EXIT_CHECK_FAILED
