"""promcontract docs: Markdown for people (the same as `render --format docs`)."""

from __future__ import annotations

import argparse

from promcontract.cli.common import contract_paths, emit, load_contracts
from promcontract.render.writers import Options, docs
from promcontract.runners.fileio import check_writable

HELP = ("Markdown for people: the metric table and the alert table of each contract "
        "(make rules also writes docs/<contract>.md).")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--contract", action="append", metavar="C", help="contract file")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")


def run(args: argparse.Namespace) -> int:

    if args.output:
        check_writable(args.output)
    contracts = load_contracts(contract_paths(args.contract))
    return emit(args.output, docs.render(contracts, Options()))
