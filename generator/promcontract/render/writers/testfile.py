"""The derived promtool test file of a contract (rules/generated/<contract>.test.yml), which
`make rules` keeps fresh beside its rule file. Alerts that cannot be derived are named in
``notes`` ("not derivable"), never skipped silently."""

from __future__ import annotations

import os

from promcontract.render.writers import rulefile
from promcontract.testgen import testfile

NAME = "testfile"


def path(contract, dirs) -> str:  # noqa: ANN001
    return os.path.join(dirs.generated, f"{contract.name}.test.yml")


def generated(contract, dirs, notes: list[str]) -> tuple[str, str]:  # noqa: ANN001
    text, not_derivable = testfile.contract_test_file(
        contract, os.path.basename(rulefile.path(contract, dirs)))
    notes += [f"{contract.source}: not derivable: {line}" for line in not_derivable]
    return path(contract, dirs), text
