"""A plain Prometheus rule file (``groups: [...]``): what Thanos Ruler and Prometheus load;
`make rules` writes one per contract (rules/generated/<contract>.rules.yml)."""

from __future__ import annotations

import os

from promcontract.problems import UserError
from promcontract.render import group

NAME = "rulefile"
needs_namespace = False


def check_options(options) -> None:  # noqa: ANN001 - Options, see writers/__init__

    if options.name or options.labels or options.namespace:
        raise UserError("--namespace, --name and --label do not apply to --format rulefile")


def render(contracts, options) -> str:  # noqa: ANN001 - Options, see writers/__init__
    return group.render_rules(contracts)


def path(contract, dirs) -> str:  # noqa: ANN001
    return os.path.join(dirs.generated, f"{contract.name}.rules.yml")


def generated(contract, dirs, notes: list[str]) -> tuple[str, str]:  # noqa: ANN001
    return path(contract, dirs), group.render_rule_file(contract)
