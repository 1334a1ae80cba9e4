"""promcontract lint: checks over every alert group of a values template."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from promcontract import __version__, lint
from promcontract.cli.common import DEFAULT_TPL, positive_duration, say
from promcontract.lint import config, output
from promcontract.problems import EXIT_CHECK_FAILED, EXIT_OK
from promcontract.runners.fileio import read_template, read_text, write_atomic
from promcontract.template import reader

HELP = ("Lint every alert group of a values template (not only the rendered ones) and its "
        "Alertmanager config. Findings: 'file:line: check: message'. Disable a check for one "
        "rule with '# promcontract-lint: disable=CHECK -- reason' on or above its '- alert:' "
        "line; for the repository in .promcontract.yaml (lint: disable, severity, "
        "external_alerts, require_labels, require_annotations, severity_values). Exit 1 when "
        "a finding is an error (warnings do not fail).")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tpl", default=DEFAULT_TPL, metavar="T",
                   help=f"values template (default: {DEFAULT_TPL})")
    p.add_argument("--config", metavar="F",
                   help="lint configuration (default: ./.promcontract.yaml when present)")
    p.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text",
                   help="text (default), json, sarif (SARIF 2.1.0 for code scanning) or "
                        "github (workflow commands that annotate a pull request)")
    p.add_argument("--rules", nargs="+", metavar="FILE",
                   help="lint these Prometheus rule files or PrometheusRule manifests (kind "
                        "found from the content) instead of the template")
    p.add_argument("--scrape-interval", metavar="D", type=positive_duration,
                   help="the global scrape interval of the rules' data (e.g. 30s), for "
                        "for-scrape-interval; overrides .promcontract.yaml's "
                        "lint.scrape_interval and the template's "
                        "server.global.scrape_interval (default: those, else Prometheus's "
                        "default 1m, said as assumed)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    p.add_argument("--list", action="store_true", help="list the checks and exit")


def run(args: argparse.Namespace) -> int:

    if args.list:
        for check in lint.CHECKS:
            print(f"{check.NAME}: {check.DOC}")
        return EXIT_OK
    settings = config.load(args.config, lint.NAMES)
    if args.scrape_interval:
        settings = dataclasses.replace(settings, scrape_interval=args.scrape_interval)
    if args.rules:
        findings = []
        for path in args.rules:
            text = read_text(path)
            findings += lint.run(path, text, settings, source=reader.read_rules(path, text))
        where = f"{len(args.rules)} rule file(s)"
    else:
        text = read_template(args.tpl)
        findings = lint.run(args.tpl, text, settings)
        where = args.tpl
    if args.format == "json":
        report = output.as_json(findings)
    elif args.format == "sarif":
        report = output.sarif(findings, [(c.NAME, c.DOC) for c in lint.CHECKS], __version__)
    elif args.format == "github":
        report = output.github(findings)
    else:
        report = output.text(findings)
    if args.output:
        write_atomic(args.output, report)
    else:
        sys.stdout.write(report)
    errors = sum(f.severity != "warning" for f in findings)
    enabled = len([c for c in lint.CHECKS if c.NAME not in settings.disable])
    if errors:
        say(f"{where}: {len(findings)} finding(s), {errors} error(s)")
        return EXIT_CHECK_FAILED
    say(f"{where}: lint ok ({enabled} checks" + (f", {len(findings)} warning(s))"
                                                     if findings else ")"))
    return EXIT_OK
