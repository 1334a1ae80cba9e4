"""Command line: argument parsing, exit codes and messages; each command is a module of this
package (its arguments and its ``run``), imported with the parser and light until run.

Exit codes: 0 success, 1 a check failed (stale output, promtool finding, contract
violation), 2 bad input or a missing tool. Every message is one line; user mistakes never
print a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from promcontract import __version__, inputs
from promcontract.cli.common import say
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK, UserError
from promcontract.runners import process, promtool

# Command name -> module in this package, in the order --help lists them.
COMMANDS = {"validate": "validate", "render": "render", "docs": "docs", "verify": "verify",
            "push": "push", "pusher-test": "pusher_harness", "mutate": "mutate",
            "characterize": "characterize", "import": "import_group", "lint": "lint",
            "check": "check", "routes": "routes", "backtest": "backtest"}


class _Parser(argparse.ArgumentParser):
    """Usage mistakes in one line, like every other message (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _Version(argparse.Action):
    """``--version``: ours, and which promtool (found via $PROMTOOL or PATH) in which version."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001

        try:
            binary = promtool.find()
            tool = f"promtool {promtool.version(binary)} ({binary})"
        except UserError as exc:
            tool = str(exc.problems[0].message)
        print(f"promcontract {__version__}; {tool}")
        parser.exit(EXIT_OK)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="promcontract",
        description="Metric contracts for pushed Prometheus metrics: render alert rules into a "
                    "Terraform-templated Helm values file, check them, and verify pushers.",
        epilog="Exit codes: 0 ok, 1 a check failed, 2 bad input or missing tool.",
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show promcontract's version and the promtool it uses")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_Parser)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"promcontract.cli.{module_name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(func=module.run)
    return parser


# Arguments that name files a command reads: no output of the same run may replace one
# (``lint -o <template>`` once emptied the template it had just read).
INPUT_ARGS = ("contract", "tpl", "config", "rules", "tests", "payload", "results", "previous",
              "vars")


def note_inputs(args: argparse.Namespace) -> None:
    inputs.reset()
    for name in INPUT_ARGS:
        value = getattr(args, name, None)
        if isinstance(value, str):
            inputs.note(value)
        elif isinstance(value, list):
            inputs.note(*[v for v in value if isinstance(v, str)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    note_inputs(args)
    try:
        with process.stopped_by_signals():
            return args.func(args)
    except UserError as exc:
        for problem in exc.problems:
            say(str(problem))
        return exc.exit_code
    except KeyboardInterrupt:
        process.kill_all()  # promtool and amtool runs still going in worker threads
        say("interrupted")
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_CHECK_FAILED


if __name__ == "__main__":
    sys.exit(main())
