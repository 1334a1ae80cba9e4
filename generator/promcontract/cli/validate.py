"""promcontract validate: schema and semantic checks of contracts."""

from __future__ import annotations

import argparse

from promcontract.cli.common import DEFAULT_CONTRACTS, contract_paths, load_contracts
from promcontract.problems import EXIT_OK

HELP = "Validate contracts against the schema and semantic rules."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("contracts", nargs="*", metavar="CONTRACT",
                   help=f"contract files (default: {DEFAULT_CONTRACTS})")


def run(args: argparse.Namespace) -> int:
    contracts = load_contracts(contract_paths(args.contracts))
    for contract in contracts:
        print(f"{contract.source}: ok: contract '{contract.name}', group '{contract.group}', "
              f"{len(contract.metrics)} metrics, {len(contract.invariants)} invariants, "
              f"{len(contract.alerts)} alerts")
    return EXIT_OK
