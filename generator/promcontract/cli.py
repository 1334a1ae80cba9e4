"""Command line: argument parsing, exit codes and messages. The work is done elsewhere.

Exit codes: 0 success, 1 a check failed (stale output, promtool finding, contract
violation), 2 bad input or a missing tool. Every message is one line; user mistakes never
print a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from promcontract import __version__
from promcontract.errors import EXIT_CHECK_FAILED, EXIT_OK, UserError
from promcontract.fileio import check_writable, read_template, read_text, write_atomic

if TYPE_CHECKING:
    from promcontract import pipeline
    from promcontract.model import Contract

DEFAULT_CONTRACTS = "rules/*.contract.yaml"
DEFAULT_TPL = "stacks/monitoring/prometheus_chart_values.tpl"
GENERATED_DIR = "rules/generated"  # same as pipeline.GENERATED_DIR (kept lazy: see below)


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


def _labels(values: list[str] | None) -> tuple[tuple[str, str], ...]:
    out = []
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--label expects k=v, got {item!r}")
        out.append((key, value))
    return tuple(out)


def cmd_render_format(args: argparse.Namespace) -> int:
    from promcontract import outputs

    fmt = outputs.FORMATS.get(args.format)
    if fmt is None:
        raise UserError(f"unknown format {args.format!r} (choose from template, "
                        f"{', '.join(outputs.FORMATS)})")
    if fmt.needs_namespace and not args.namespace:
        raise UserError(f"--format {args.format} needs --namespace")
    options = outputs.Options(args.namespace, args.name, _labels(args.label))
    fmt.check_options(options)
    if args.output:
        check_writable(args.output)
    contracts = load_contracts(_contract_paths(args.contract))
    return _emit(args.output, fmt.render(contracts, options))


def _emit(output: str | None, text: str) -> int:
    """Write ``text`` to ``output`` atomically, or to stdout."""
    if output:
        write_atomic(output, text)
        _say(f"wrote: {output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    from promcontract import docs

    if args.output:
        check_writable(args.output)
    contracts = load_contracts(_contract_paths(args.contract))
    return _emit(args.output, "\n".join(docs.render_docs(c) for c in contracts))


def cmd_render(args: argparse.Namespace) -> int:
    from promcontract import pipeline  # imports are lazy: verify/push start faster

    if args.format != "template":
        if args.check:
            raise UserError("--check applies to --format template only")
        return cmd_render_format(args)
    if args.output or args.namespace or args.name or args.label:
        raise UserError("-o/--namespace/--name/--label apply to --format prometheusrule, "
                        "rulefile or mimir")
    contracts = load_contracts(_contract_paths(args.contract))
    notes: list[str] = []
    splice_notes: list[str] = []
    outputs = pipeline.plan_outputs(contracts, args.tpl, args.generated_dir, notes=notes,
                                    splice_notes=splice_notes)
    for note in notes + [n for n in splice_notes if ": warning: " in n]:
        _say(note)
    if args.check:
        return _report_stale(outputs)
    if any(o.stale for o in outputs):
        pipeline.check_outputs_writable(outputs)
        # Never write what `check` would reject: `make rules && terragrunt apply` ships it.
        problems = pipeline.prewrite_problems(outputs, args.tpl)
        if problems:
            for problem in problems:
                _say(str(problem))
            _say(f"render: nothing written: the result would fail promcontract check "
                 f"({len(problems)} problem(s) above)")
            return EXIT_CHECK_FAILED
    written = pipeline.write_outputs(outputs)
    if outputs[0] in written:
        for note in splice_notes:
            if ": warning: " not in note:
                _say(note)
    for output in outputs:
        state = "wrote" if output in written else "unchanged"
        print(f"{state}: {output.path}")
    return EXIT_OK


def _report_stale(outputs: list[pipeline.Output], say: Callable[[str], None] = _say) -> int:
    stale = [o for o in outputs if o.stale]
    for output in stale:
        sys.stdout.write(output.diff())
    for output in stale:
        what = "missing" if output.old is None else "out of date with its contract"
        say(f"{output.path}: {what}; run `make rules` (promcontract render)")
    return EXIT_CHECK_FAILED if stale else EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    import time

    from promcontract import (
        junit,
        pipeline,  # imports are lazy: verify/push start faster
        splice,
    )

    if args.junit:
        check_writable(args.junit)
    log: list[str] = []  # everything said, for the JUnit system-out

    def say(message: str) -> None:
        log.append(message)
        _say(message)

    # One promtool process checks the template's whole alerting_rules.yml and the generated
    # rule files on disk; it starts first and runs on the other core while contracts are
    # validated and rendered. (A generated file that differs from its contract is reported
    # stale below, so checking the file on disk loses nothing.)
    tpl_text = read_template(args.tpl)
    rules_text, offset = pipeline.template_rules_text(tpl_text, args.tpl)
    to_check = [(rules_text, args.tpl, offset)]
    for path in sorted(glob.glob(os.path.join(args.generated_dir, "*.rules.yml"))):
        to_check.append((read_text(path), path, 0))
    promtool_check = pipeline.RuleCheck(to_check)
    test_files = [] if args.skip_unit_tests else sorted(
        glob.glob(os.path.join(args.generated_dir, "*.test.yml")))
    unit_tests = pipeline.UnitTests(test_files)
    planned = time.monotonic()
    contracts = load_contracts(_contract_paths(args.contract))
    say(f"validated {len(contracts)} contract(s)")
    notes: list[str] = []
    # A group missing, twice, nested in another block or inside a Terraform condition: its
    # alerts are not deployed as the contract says. Found first: splicing would refuse some.
    structure = pipeline.template_problems(tpl_text, contracts, args.tpl)
    try:
        outputs = pipeline.plan_outputs(contracts, args.tpl, args.generated_dir,
                                        tpl_text=tpl_text, notes=notes)
    except UserError:
        if not structure:
            raise
        outputs = []  # the problems below say why the template cannot be spliced
    planned = time.monotonic() - planned
    for note in notes:
        say(note)
    status = _report_stale(outputs, say)
    for problem in structure:
        say(str(problem))
    if structure:
        status = EXIT_CHECK_FAILED
    if not args.contract:  # every bundled contract: a block nobody renders is worth a word
        for note in splice.orphan_blocks(tpl_text, {c.group for c in contracts}, args.tpl):
            say(note)
    rule_problems = promtool_check.problems()
    per_test_file = unit_tests.results()
    test_problems = [p for found in per_test_file.values() for p in found]
    for problem in rule_problems + test_problems:
        say(str(problem))
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


def _one_contract(given: Sequence[str] | None, usable=None) -> Contract:  # noqa: ANN001
    """The contract a command works on: the one given, or the only one that ``usable``
    accepts among the bundled ones."""
    contracts = load_contracts(_contract_paths(given))
    if len(contracts) > 1 and usable is not None:
        contracts = [c for c in contracts if usable(c)] or contracts
    if len(contracts) != 1:
        names = ", ".join(c.source for c in contracts)
        raise UserError(f"{len(contracts)} contracts fit ({names}); choose one with --contract")
    return contracts[0]


def _pushable(contract: Contract) -> bool:
    from promcontract import pusher

    try:
        pusher.roles(contract)
    except UserError:
        return False
    return True


def _declares(text: str):  # noqa: ANN202 - returns a predicate
    """Contracts declaring the first metric the payload mentions."""
    import re

    match = re.search(r"^(?:# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)", text, re.M)
    first = match.group(1) if match else ""
    return lambda c: any(m.name == first for m in c.metrics)


def cmd_verify(args: argparse.Namespace) -> int:
    from promcontract import promtool, verify

    if args.gateway:
        from promcontract import gateway

        if args.payload:
            raise UserError("give a payload file or --gateway, not both")
        gateway.check_url(args.gateway)
        if not (args.timeout > 0 and math.isfinite(args.timeout)):
            raise UserError(f"--timeout must be a positive number of seconds, got "
                            f"{args.timeout}")
        contract = _one_contract(args.contract, (lambda c: c.job == args.job) if args.job
                                 else _pushable)
        if args.job:
            contract = dataclasses.replace(contract, grouping_key=tuple(
                (k, args.job if k == "job" else v) for k, v in contract.grouping_key))
        policy = gateway.RetryPolicy(timeout_s=args.timeout)
        try:
            report = verify.verify_gateway(contract, args.gateway, lint=not args.no_lint,
                                           policy=policy)
        except gateway.GatewayError as exc:
            raise UserError(str(exc)) from None
    else:
        source = args.payload or "-"
        if source == "-":
            data = sys.stdin.buffer.read()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UserError(f"-: payload is not valid UTF-8 (byte {exc.start})") from None
        else:
            text = read_text(source)
        # promtool's lint needs only the text: start it before loading the contract.
        running = None
        if not args.no_lint:
            running = promtool.start_check_metrics(path=source) if source != "-" else \
                promtool.start_check_metrics(text)
        contract = _one_contract(args.contract, _declares(text))
        report = verify.verify_payload(contract, text, "payload" if source == "-" else source,
                                       lint=not args.no_lint, running=running)
    for line in report.lines():
        print(line)
    if args.verbose:
        for note in report.accepted:
            _say(f"lint exception: {note}")
    if report.findings:
        _say(f"{report.source}: {len(report.findings)} finding(s) against contract "
             f"'{contract.name}'")
        return EXIT_CHECK_FAILED
    _say(f"{report.source}: ok against contract '{contract.name}'"
         + (f" ({len(report.accepted)} lint finding(s) accepted by the contract)"
            if report.accepted else ""))
    return EXIT_OK


def cmd_push(args: argparse.Namespace) -> int:
    import time

    from promcontract import gateway, pusher

    gateway.check_url(args.gateway)
    policy = gateway.RetryPolicy(attempts=args.attempts, backoff_s=args.backoff,
                                 timeout_s=args.timeout)
    if policy.problems():
        raise UserError(policy.problems()[0])
    if args.now is not None and not (math.isfinite(args.now) and args.now >= 0):
        raise UserError(f"--now must be unix seconds (a finite number >= 0), got {args.now}")
    contract = _one_contract(args.contract, _pushable)
    if args.job:
        contract = dataclasses.replace(contract, grouping_key=tuple(
            (k, args.job if k == "job" else v) for k, v in contract.grouping_key))
    text = read_text(args.results)
    now = args.now if args.now is not None else time.time()
    try:
        outcome = pusher.push(contract, text, args.results, args.gateway, now,
                              dry_run=args.dry_run, policy=policy, log=_say)
    except pusher.PushFailed as exc:
        for line in str(exc).splitlines():
            _say(f"push: {line}")
        return EXIT_CHECK_FAILED
    if args.dry_run:
        sys.stdout.write(outcome.payload)
        _say(f"dry run: payload for {len(outcome.states)} stacks verified, not sent")
    return EXIT_OK


def cmd_pusher_test(args: argparse.Namespace) -> int:
    from promcontract import harness, services

    if args.sequences < 1:
        raise UserError(f"--sequences must be at least 1, got {args.sequences}")
    if not (math.isfinite(args.run_timeout) and args.run_timeout > 0):
        raise UserError(f"--run-timeout must be a positive number of seconds, got "
                        f"{args.run_timeout}")
    contract = _one_contract(args.contract, _pushable)
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd and not args.builtin:
        raise UserError("give the pusher command after --, e.g. "
                        "promcontract pusher-test -- ./push.sh (or --builtin)")
    pusher_fn = harness.builtin_pusher(contract) if args.builtin else \
        harness.command_pusher(cmd, args.run_timeout)
    with services.Pushgateway() as pgw, harness.tempdir() as work:
        _say(f"pusher-test: Pushgateway at {pgw.url}; {args.sequences} sequences")
        h = harness.Harness(contract, pgw.url, pusher_fn, work, job=args.job)
        failure = harness.run_sequences(h, args.sequences, args.seed, harness.main_progress)
    if failure is not None:
        print(f"pusher-test: FAILED ({h.sequences} sequences run, including shrinking)")
        print(failure.report())
        return EXIT_CHECK_FAILED
    print(f"pusher-test: ok: {h.sequences} run sequences passed")
    return EXIT_OK


def cmd_mutate(args: argparse.Namespace) -> int:
    from promcontract import (
        mutate,
        pipeline,  # imports are lazy: verify/push start faster
    )

    contracts = load_contracts(_contract_paths(args.contract))
    killed = total = 0
    for contract in contracts:
        test_path = pipeline.test_file_path(contract, args.generated_dir)
        rule_path = pipeline.rule_file_path(contract, args.generated_dir)
        test_text = read_text(test_path)
        try:
            results = mutate.run(contract, test_text, os.path.basename(rule_path))
        except mutate.BaselineFailed as failed:
            from promcontract import promtool

            _say(f"{test_path}: the tests fail on the unchanged rules, so mutants would prove "
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


def cmd_lint(args: argparse.Namespace) -> int:
    from promcontract import lint

    if args.list:
        for check in lint.CHECKS:
            print(f"{check.NAME}: {check.DOC}")
        return EXIT_OK
    text = read_template(args.tpl)
    findings = lint.run(args.tpl, text)
    for finding in findings:
        print(finding)
    if findings:
        _say(f"{args.tpl}: {len(findings)} finding(s)")
        return EXIT_CHECK_FAILED
    _say(f"{args.tpl}: lint ok ({len(lint.CHECKS)} checks)")
    return EXIT_OK


class _Version(argparse.Action):
    """``--version``: ours, and which promtool (found via $PROMTOOL or PATH) in which version."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001
        from promcontract import promtool

        try:
            binary = promtool.find()
            tool = f"promtool {promtool.version(binary)} ({binary})"
        except UserError as exc:
            tool = str(exc.problems[0].message)
        print(f"promcontract {__version__}; {tool}")
        parser.exit(EXIT_OK)


class _Parser(argparse.ArgumentParser):
    """Usage mistakes in one line, like every other message (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


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
        p.add_argument("--generated-dir", default=GENERATED_DIR, metavar="DIR",
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
    p.add_argument("--format", default="template", metavar="F",
                   help="template (default: splice into --tpl and write rules/generated, "
                        "docs/), or to stdout/-o: prometheusrule (monitoring.coreos.com/v1), "
                        "rulefile (plain rule file, e.g. Thanos Ruler), mimir (mimirtool rules "
                        "load namespace file)")
    p.add_argument("--namespace", metavar="NS",
                   help="namespace of the PrometheusRule / Mimir ruler namespace (required)")
    p.add_argument("--name", metavar="N", help="PrometheusRule name (default: <contracts>-rules)")
    p.add_argument("--label", action="append", metavar="K=V",
                   help="PrometheusRule label (repeatable), e.g. release=prometheus")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")

    p = add("docs", cmd_docs,
            "Markdown for people: the metric table and the alert table of each contract "
            "(make rules also writes docs/<contract>.md).")
    p.add_argument("--contract", action="append", metavar="C", help="contract file")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")

    p = add("verify", cmd_verify,
            "Check a payload (file or - for stdin) or a live Pushgateway group against the "
            "contract: strict text format 0.0.4, declared metrics/types/labels/domains, "
            "invariants, and promtool check metrics lint minus declared exceptions. "
            "Findings: 'payload:LINE: rule: message'.")
    p.add_argument("payload", nargs="?", metavar="PAYLOAD", help="payload file, or - for stdin")
    p.add_argument("--contract", action="append", metavar="C", help="contract file")
    p.add_argument("--gateway", metavar="URL", help="verify the group a Pushgateway holds")
    p.add_argument("--job", metavar="J", help="job of the group (default: the contract's)")
    p.add_argument("--no-lint", action="store_true", help="skip promtool check metrics")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds the whole read of the gateway may take (default: 10)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show lint findings accepted by the contract, with their reasons")

    p = add("push", cmd_push,
            "Reference pusher: read terraform plan results ('<stack> <exit code>' per line), "
            "keep drift streaks, verify the payload, and replace the group with one PUT "
            "(after one GET of the previous group).")
    p.add_argument("--results", required=True, metavar="FILE", help="results file")
    p.add_argument("--gateway", required=True, metavar="URL", help="Pushgateway base URL")
    p.add_argument("--contract", action="append", metavar="C", help="contract file")
    p.add_argument("--job", metavar="J", help="job to push under (default: the contract's)")
    p.add_argument("--now", type=float, metavar="UNIX", help="run time (default: now)")
    p.add_argument("--dry-run", action="store_true", help="print the verified payload; no PUT")
    p.add_argument("--attempts", type=int, default=4, help="tries per request (default: 4)")
    p.add_argument("--backoff", type=float, default=0.25,
                   help="first retry delay in seconds, doubled each time (default: 0.25)")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds one whole HTTP exchange may take, answer included "
                        "(default: 10)")

    p = add("pusher-test", cmd_pusher_test,
            "Contract-test a pusher command against a real Pushgateway over generated run "
            "sequences. CMD gets PUSHGATEWAY_URL, RESULTS_FILE, NOW and PUSH_JOB in its "
            "environment; exit 1 with the shrunk failing sequence when it breaks the contract.")
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    p.add_argument("--contract", action="append", metavar="C", help="contract file")
    p.add_argument("--sequences", type=int, default=100, help="run sequences (default: 100)")
    p.add_argument("--seed", type=int, help="seed for reproducible sequences")
    p.add_argument("--job", metavar="J", help="PUSH_JOB (default: the contract's job)")
    p.add_argument("--builtin", action="store_true",
                   help="test the reference pusher in-process instead of a command")
    p.add_argument("--run-timeout", type=float, default=60.0, metavar="S",
                   help="seconds one pusher run may take (default: 60)")

    p = add("mutate", cmd_mutate,
            "Mutation check: move each threshold and for: of the rule file by one unit either "
            "way (a for: by at least one 1m evaluation step) and run the derived tests on each "
            "mutant, after checking they pass on the unchanged rules; exit 1 unless all are "
            "killed.")
    contract_opts(p)

    p = add("lint", cmd_lint,
            "Lint every alert group of a values template (not only the rendered ones). "
            "Findings: 'file:line: check: message'. Disable a check for one rule with "
            "'# promcontract-lint: disable=CHECK -- reason' on or above its '- alert:' line.")
    p.add_argument("--tpl", default=DEFAULT_TPL, metavar="T",
                   help=f"values template (default: {DEFAULT_TPL})")
    p.add_argument("--list", action="store_true", help="list the checks and exit")

    p = add("check", cmd_check,
            "CI lint step: validate, render --check, promtool check rules on the rendered "
            "groups and on the whole alerting_rules.yml of the template, and promtool test "
            "rules on the derived tests.")
    contract_opts(p)
    p.add_argument("--junit", metavar="FILE",
                   help="also write the results as JUnit XML (for CI test views)")
    p.add_argument("--skip-unit-tests", action="store_true",
                   help="leave out promtool test rules (seconds) for a quick pre-commit check")
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
