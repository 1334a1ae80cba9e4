"""What several commands share: where contracts and templates are by default, how one contract
is chosen, how output is written, and saying things on stderr."""

from __future__ import annotations

import argparse
import glob
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from promcontract.contract import load_contracts as load
from promcontract.durations import parse_duration
from promcontract.payload import gateway, pusher
from promcontract.problems import EXIT_OK, UserError
from promcontract.runners.fileio import write_atomic

if TYPE_CHECKING:
    from promcontract.model.contract import Contract

DEFAULT_CONTRACTS = "rules/*.contract.yaml"
DEFAULT_TPL = "stacks/monitoring/prometheus_chart_values.tpl"
GENERATED_DIR = "rules/generated"  # render.writers.Dirs.generated (imports kept lazy)


def positive_duration(text: str) -> float:
    """An argparse type: a Prometheus duration above zero (``30s``, ``1m30s``), in seconds."""
    try:
        value = parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration (like 30s or 1m): {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a duration above zero")
    return value


def say(message: str) -> None:
    print(message, file=sys.stderr)


def load_contracts(paths: list[str]) -> list[Contract]:
    # jsonschema takes ~0.1 s to import; `check` starts promtool before paying for it.

    return load(paths)


def contract_paths(given: Sequence[str] | None) -> list[str]:
    if given:
        return list(given)
    found = sorted(glob.glob(DEFAULT_CONTRACTS))
    if not found:
        raise UserError(f"no contracts given and none found at {DEFAULT_CONTRACTS} "
                        f"(run from the repository root or pass --contract)")
    return found


def one_contract(given: Sequence[str] | None,
                 usable: Callable[[Contract], bool] | None = None) -> Contract:
    """The contract a command works on: the one given, or the only one that ``usable``
    accepts among the bundled ones."""
    contracts = load_contracts(contract_paths(given))
    if len(contracts) > 1 and usable is not None:
        contracts = [c for c in contracts if usable(c)] or contracts
    if len(contracts) != 1:
        names = ", ".join(c.source for c in contracts)
        raise UserError(f"{len(contracts)} contracts fit ({names}); choose one with --contract")
    return contracts[0]


def pushable(contract: Contract) -> bool:
    """The reference pusher knows the contract's roles (state, counts, streak, heartbeat)."""

    try:
        pusher.roles(contract)
    except UserError:
        return False
    return True


def emit(output: str | None, text: str) -> int:
    """Write ``text`` to ``output`` atomically, or to stdout."""

    if output:
        write_atomic(output, text)
        say(f"wrote: {output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def contract_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--contract", action="append", metavar="C",
                   help=f"contract file (repeatable; default: {DEFAULT_CONTRACTS})")
    p.add_argument("--tpl", default=DEFAULT_TPL, metavar="T",
                   help=f"Helm values template to splice into (default: {DEFAULT_TPL})")
    p.add_argument("--generated-dir", default=GENERATED_DIR, metavar="DIR",
                   help="where standalone rule files go (default: %(default)s)")


def network_options(p: argparse.ArgumentParser) -> None:
    """``--timeout`` and ``--max-bytes``: every command that talks HTTP has both."""
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds the command's whole network time may take: every request, "
                        "answer, retry and backoff together (default: 10)")
    p.add_argument("--max-bytes", type=int, default=64 * 1024 * 1024, metavar="N",
                   help="largest answer read from a server, in bytes (default: 64 MiB)")


def network_policy(args: argparse.Namespace, **retry: float):  # noqa: ANN201
    """The started RetryPolicy of ``network_options`` (and ``retry``: attempts, backoff_s);
    its clock runs from here, so ``--timeout`` bounds everything after."""

    policy = gateway.RetryPolicy(timeout_s=args.timeout, max_bytes=args.max_bytes, **retry)
    if policy.problems():
        raise UserError(policy.problems()[0])
    return policy.started()


class StatusLine:
    """One progress line on stderr, rewritten in place, only when stderr is a terminal
    (logs and pipes get nothing); ``clear()`` removes it before the report."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def __call__(self, message: str) -> None:
        if self.tty:
            sys.stderr.write(f"\r\033[K{message}")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
