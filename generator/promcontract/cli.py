"""Command line: argument parsing, exit codes and messages. The work is done elsewhere.

Exit codes: 0 success, 1 a check failed (stale output, promtool finding, contract
violation), 2 bad input or a missing tool. Every message is one line; user mistakes never
print a traceback.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections.abc import Callable, Sequence

from promcontract import __version__, pipeline
from promcontract.errors import EXIT_CHECK_FAILED, EXIT_OK, UserError
from promcontract.fileio import read_text

DEFAULT_CONTRACTS = "rules/*.contract.yaml"
DEFAULT_TPL = "stacks/monitoring/prometheus_chart_values.tpl"


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def load_contracts(paths: list[str]):  # noqa: ANN201 - lazy import, see below
    # jsonschema takes ~0.1 s to import; `check` starts promtool before paying for it.
    from promcontract.contract import load_contracts as load

    return load(paths)


def _contract_paths(given: Sequence[str] | None) -> list[str]:
    if given:
        return list(given)
    found = sorted(glob.glob(DEFAULT_CONTRACTS))
    if not found:
        raise UserError(f"no contracts given and none found at {DEFAULT_CONTRACTS} "
                        f"(run from the repository root or pass --contract)")
    return found


def cmd_validate(args: argparse.Namespace) -> int:
    contracts = load_contracts(_contract_paths(args.contracts))
    for contract in contracts:
        print(f"{contract.source}: ok: contract '{contract.name}', group '{contract.group}', "
              f"{len(contract.metrics)} metrics, {len(contract.invariants)} invariants, "
              f"{len(contract.alerts)} alerts")
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    contracts = load_contracts(_contract_paths(args.contract))
    outputs = pipeline.plan_outputs(contracts, args.tpl, args.generated_dir)
    if args.check:
        return _report_stale(outputs)
    written = pipeline.write_outputs(outputs)
    for output in outputs:
        state = "wrote" if output in written else "unchanged"
        print(f"{state}: {output.path}")
    return EXIT_OK


def _report_stale(outputs: list[pipeline.Output]) -> int:
    stale = [o for o in outputs if o.stale]
    for output in stale:
        sys.stdout.write(output.diff())
    for output in stale:
        what = "missing" if output.old is None else "out of date with its contract"
        _say(f"{output.path}: {what}; run `make rules` (promcontract render)")
    return EXIT_CHECK_FAILED if stale else EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    # One promtool process checks the template's whole alerting_rules.yml and the generated
    # rule files on disk; it starts first and runs on the other core while contracts are
    # validated and rendered. (A generated file that differs from its contract is reported
    # stale below, so checking the file on disk loses nothing.)
    tpl_text = read_text(args.tpl)
    rules_text, offset = pipeline.template_rules_text(tpl_text, args.tpl)
    to_check = [(rules_text, args.tpl, 0 + offset)]
    for path in sorted(glob.glob(os.path.join(args.generated_dir, "*.rules.yml"))):
        to_check.append((read_text(path), path, 0))
    promtool_check = pipeline.RuleCheck(to_check)
    contracts = load_contracts(_contract_paths(args.contract))
    _say(f"validated {len(contracts)} contract(s)")
    outputs = pipeline.plan_outputs(contracts, args.tpl, args.generated_dir, tpl_text=tpl_text)
    status = _report_stale(outputs)
    problems = promtool_check.problems()
    for problem in problems:
        _say(str(problem))
    if problems:
        status = EXIT_CHECK_FAILED
    if status == EXIT_OK:
        print(f"ok: {len(contracts)} contract(s); {args.tpl} and {args.generated_dir} are up "
              "to date and pass promtool check rules")
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promcontract",
        description="Metric contracts for pushed Prometheus metrics: render alert rules into a "
                    "Terraform-templated Helm values file, check them, and verify pushers.",
        epilog="Exit codes: 0 ok, 1 a check failed, 2 bad input or missing tool.",
    )
    parser.add_argument("--version", action="version",
                        version=f"promcontract {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], text: str
            ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(func=func)
        return p

    def contract_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--contract", action="append", metavar="C",
                       help=f"contract file (repeatable; default: {DEFAULT_CONTRACTS})")
        p.add_argument("--tpl", default=DEFAULT_TPL, metavar="T",
                       help=f"Helm values template to splice into (default: {DEFAULT_TPL})")
        p.add_argument("--generated-dir", default=pipeline.GENERATED_DIR, metavar="DIR",
                       help="where standalone rule files go (default: %(default)s)")

    p = add("validate", cmd_validate, "Validate contracts against the schema and semantic rules.")
    p.add_argument("contracts", nargs="*", metavar="CONTRACT",
                   help=f"contract files (default: {DEFAULT_CONTRACTS})")

    p = add("render", cmd_render,
            "Render each contract's alert group into the template (between marker comments) "
            "and into rules/generated/. Files already up to date are not rewritten.")
    contract_opts(p)
    p.add_argument("--check", action="store_true",
                   help="write nothing; print a unified diff and exit 1 when anything is stale")

    p = add("check", cmd_check,
            "CI lint step: validate, render --check, and promtool check rules on the rendered "
            "groups and on the whole alerting_rules.yml of the template.")
    contract_opts(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        for problem in exc.problems:
            _say(str(problem))
        return exc.exit_code
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_CHECK_FAILED


if __name__ == "__main__":
    sys.exit(main())
