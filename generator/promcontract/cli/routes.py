"""promcontract routes: delivery tests through Alertmanager's own routing and a real
Alertmanager (receivers, inhibition, grouping)."""

from __future__ import annotations

import argparse
import glob
import json
import os
import textwrap
import time

from promcontract.cli.common import (
    DEFAULT_TPL,
    GENERATED_DIR,
    StatusLine,
    contract_paths,
    load_contracts,
    say,
)
from promcontract.model.yamlsource import load_yaml_text
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK, UserError
from promcontract.runners import junit
from promcontract.runners.fileio import check_writable, read_template, read_text, write_all
from promcontract.template import alertmanager
from promcontract.workflows import routes, routes_mutate

HELP = ("Delivery tests: for each routing test (an alert's labels, the alerts firing beside "
        "it), check where Alertmanager sends it (receivers in order, by `amtool config routes "
        "test`), whether it is inhibited and the labels of its group (by a real Alertmanager "
        "on 127.0.0.1 that holds the alerts; its receivers are emptied, nothing is sent), and "
        "whether it is muted at a given time (its routes' time intervals). The "
        "config is the values template's alertmanager.config, evaluated with the variables "
        "Terraform passes (--vars), or an alertmanager.yml (--config).")
EPILOG = """\
test file (*.routes.yml):
  tests:
    - name: a critical alert without a team pages
      alert: {alertname: DiskFull, severity: critical}
      receivers: [pager]
      group_labels: {alertname: DiskFull}
    - name: the warning is inhibited while the critical one fires
      alert: {alertname: DiskFull, severity: warning}
      firing: [{alertname: DiskFull, severity: critical}]
      inhibited: true
    - name: the team channel is quiet on a Saturday night
      alert: {alertname: DiskFull, team: infra}
      at: 2026-12-05T02:30:00Z        # RFC 3339; every route it takes is muted then
      muted: true

examples:
  promcontract routes                                  # the bundled template, rules/*.routes.yml
  promcontract routes --config alertmanager.yml tests/delivery.routes.yml --junit routes.xml
"""
DEFAULT_TESTS = ("rules/*.routes.yml", "rules/generated/*.routes.yml")
VARS_EXAMPLE = "example.tfvars.json"  # beside the template: what the stack passes


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = textwrap.fill(HELP, 79)
    p.epilog = EPILOG
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("tests", nargs="*", metavar="TESTS",
                   help="routing test files (default: " + ", ".join(DEFAULT_TESTS) + ")")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--tpl", default=DEFAULT_TPL, metavar="T",
                        help=f"values template holding alertmanager.config (default: "
                             f"{DEFAULT_TPL})")
    source.add_argument("--config", metavar="F", help="an alertmanager.yml instead")
    p.add_argument("--vars", metavar="FILE",
                   help="the template's variables as Terraform passes them (tfvars JSON; "
                        f"default: {VARS_EXAMPLE} beside the template when there is one)")
    p.add_argument("--junit", metavar="F", help="JUnit XML: one case per test")
    p.add_argument("--derive", action="store_true",
                   help="first write rules/generated/<contract>.routes.yml: every label set "
                        "the contract's derived promtool tests expect, with the receivers the "
                        "config routes it to today (make rules does)")
    p.add_argument("--mutate", action="store_true",
                   help="also change the config one edit at a time (matcher values and "
                        "operators, continue, receivers, route order, deleted routes, group_by "
                        "and inhibit rules' equal labels) and require the tests to fail on "
                        "each change; prints the score like mutate (exit 1 below 100%%)")
    p.add_argument("--show-equivalent", action="store_true",
                   help="with --mutate: also print each mutant not run, with its reason")
    p.add_argument("--check", action="store_true",
                   help="with --derive: write nothing; exit 1 when a derived file is stale "
                        "(a label or route change moved an alert)")


def _variables(args: argparse.Namespace) -> dict | None:
    path = args.vars
    if path is None:
        beside = os.path.join(os.path.dirname(args.tpl) or ".", VARS_EXAMPLE)
        path = beside if os.path.isfile(beside) else None
    if path is None:
        return None
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}:1:1: tfvars JSON must be an object of variables")
    return data


def _derive(config: dict, check: bool) -> int:
    """Write (or with ``check`` compare) each contract's derived routing tests."""
    changed = []
    for path, contract in zip(paths := contract_paths(None), load_contracts(paths), strict=True):
        name = os.path.basename(path).removesuffix(".contract.yaml")
        tests = os.path.join(GENERATED_DIR, f"{name}.test.yml")
        if not os.path.isfile(tests):
            raise UserError(f"{tests}: missing: run promcontract render first")
        target = os.path.join(GENERATED_DIR, f"{name}.routes.yml")
        declared = {a.name: a.route for a in contract.alerts if a.route is not None}
        text = routes.derive(name, read_text(tests), config, declared)
        current = read_text(target) if os.path.isfile(target) else None
        if current != text:
            changed.append((target, text))
    if check:
        for target, _ in changed:
            print(f"stale: {target}")
        if changed:
            say("derived delivery tests are stale: run make rules (promcontract routes "
                "--derive), review the diff, commit")
            return EXIT_CHECK_FAILED
        return EXIT_OK
    write_all(changed, replaces_input={target for target, _ in changed})  # re-derived
    for target, _ in changed:
        say(f"wrote: {target}")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.check and not args.derive:
        raise UserError("--check goes with --derive")
    if args.junit:
        check_writable(args.junit)
    if args.config:
        data, _ = load_yaml_text(read_text(args.config), args.config)
        config = alertmanager.config_data(data)
        where = args.config
    else:
        config = routes.config_from_template(args.tpl, read_template(args.tpl), _variables(args))
        where = args.tpl
    if args.derive:
        code = _derive(config, args.check)
        if code != EXIT_OK:
            return code
    paths = args.tests or sorted({p for pattern in DEFAULT_TESTS for p in glob.glob(pattern)})
    if not paths:
        raise UserError("no routing tests: give TESTS, or write rules/*.routes.yml")
    tests = [t for path in paths for t in routes.load_tests(path, read_text(path))]
    progress = StatusLine()
    started = time.monotonic()
    results = routes.run(config, tests, progress)
    progress.clear()
    for result in results:
        test = result.test
        if result.ok:
            print(f"{test.file}:{test.line}: {test.name}: ok")
        for failure in result.failures:
            print(f"{test.file}:{test.line}: {test.name}: {failure}")
    passed = sum(r.ok for r in results)
    print(f"routes: {passed}/{len(results)} tests pass against {where} "
          f"({time.monotonic() - started:.1f}s)")
    if args.junit:
        junit.write(args.junit, "promcontract routes",
                    [junit.Case(r.test.file, r.test.name, "; ".join(r.failures) or None,
                                kind="delivery") for r in results])
    if passed != len(results):
        say(f"{len(results) - passed} delivery test(s) fail")
        return EXIT_CHECK_FAILED
    if args.mutate:
        prefix = "" if args.config else "alertmanager.config."
        return _mutate(config, tests, where, prefix, progress, args)
    return EXIT_OK


def _mutate(config: dict, tests: list, where: str, prefix: str, progress,  # noqa: ANN001
            args: argparse.Namespace) -> int:
    report = routes_mutate.run(config, tests, progress)
    progress.clear()
    for outcome in report.outcomes:
        m = outcome.mutant
        if outcome.state == "survived":
            print(f"{where}: {prefix}{m.where}: SURVIVED [{m.operator}] {m.diff}")
        elif outcome.state == "invalid":
            print(f"{where}: {prefix}{m.where}: INVALID [{m.operator}] {m.diff} "
                  f"({outcome.detail})")
        elif outcome.state == "equivalent" and args.show_equivalent:
            print(f"{where}: {prefix}{m.where}: equivalent [{m.operator}] "
                  f"{m.diff}: {outcome.detail}")
    equivalent = report.count("equivalent")
    parts = [f"config mutants killed: {report.killed}/{report.total} ({report.score:.1f}%)"]
    if equivalent:
        parts.append(f"{equivalent} equivalent (not run; --show-equivalent lists why)")
    parts.append(f"{report.seconds:.1f}s")
    print("; ".join(parts))
    if args.junit:
        junit.write(args.junit, "promcontract routes",
                    [junit.Case(t.file, t.name, None, kind="delivery") for t in tests]
                    + [junit.Case(where, f"[{o.mutant.operator}] {o.mutant.where}: "
                                  f"{o.mutant.diff}", None if o.state == "killed" else
                                  f"{o.state}: {o.detail or 'no delivery test fails on it'}",
                                  kind="config-mutant")
                       for o in report.outcomes if o.state != "equivalent"])
    if not report.clean:
        say(f"{report.total - report.killed} config mutant(s) not killed: the delivery tests "
            "do not notice these edits; add tests that pin them")
        return EXIT_CHECK_FAILED
    return EXIT_OK
