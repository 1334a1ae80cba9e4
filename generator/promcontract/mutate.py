"""Mutation check: the derived tests must fail on every off-by-one rule.

Each threshold and each ``for:`` of the standalone rule file is moved by one unit of how it is
written in the contract (26h -> 25h and 27h; 10 -> 9 and 11; 30m -> 29m and 31m; a for:
finer than the evaluation step by one step: 45s -> 0s and 105s). promtool
runs the unchanged test file against each mutant; a mutant that passes has survived, and the
tests do not pin that value. The tests must pass on the unchanged rules first.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from promcontract import derive, promtool, render
from promcontract.model import Contract


@dataclass(frozen=True)
class Mutant:
    description: str
    killed: bool
    detail: str = ""


class BaselineFailed(Exception):
    """The tests fail on the rules as they are: no mutant result would mean anything."""


def run(contract: Contract, test_text: str, rule_file_name: str,
        only: str | None = None) -> list[Mutant]:
    """Mutants of every alert (or of the alert named ``only``), each run through promtool.

    The unchanged rules run first: if the tests fail on them, every mutant would count as
    killed, so that raises BaselineFailed (with promtool's output) instead.
    """
    cases = [("unchanged rules", contract)] + [
        (label, mutated) for label, mutated in derive.mutants(contract)
        if only is None or label.startswith(f"{only}:")]
    with tempfile.TemporaryDirectory(prefix="promcontract-mutants-") as tmp:

        def one(index: int) -> Mutant:
            label, mutated = cases[index]
            folder = os.path.join(tmp, str(index))
            os.mkdir(folder)
            with open(os.path.join(folder, rule_file_name), "w", encoding="utf-8") as handle:
                handle.write(render.render_rule_file(mutated))
            test_path = os.path.join(folder, "tests.yml")
            with open(test_path, "w", encoding="utf-8") as handle:
                handle.write(test_text)
            result = promtool.test_rules(test_path)
            return Mutant(label, result.returncode != 0,
                          result.output if result.returncode != 0
                          else "promtool test rules passed")

        with ThreadPoolExecutor(max_workers=2) as pool:
            baseline, *mutants = pool.map(one, range(len(cases)))
    if baseline.killed:
        raise BaselineFailed(baseline.detail)
    return mutants
