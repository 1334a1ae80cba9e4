"""for-scrape-interval: a `for:` shorter than twice the scrape interval of the data lets one
late or failed scrape decide the alert (a single sample flips it). The interval is the scrape
job's own when the expression selects `job="<job_name>"` (an equality matcher on the label
`job`, read from the PromQL tree: `cronjob="x"` is another label) of a job in
`serverFiles.prometheus.yml` `scrape_configs` or in the `extraScrapeConfigs` string that sets
one, the slowest of them when it reads several; else the global `scrape_interval`."""

from __future__ import annotations

from collections.abc import Iterator

from promcontract.durations import format_duration
from promcontract.lint.base import Template, finding
from promcontract.problems import Problem
from promcontract.promql.nodes import Selector, walk

NAME = "for-scrape-interval"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('a `for:` shorter than twice the scrape interval of the job the alert reads '
       '(`job="x"`, from `serverFiles.prometheus.yml` `scrape_configs` or the '
       '`extraScrapeConfigs` string; the slowest when it reads several; else '
       '`server.global.scrape_interval`)')


def check(template: Template) -> Iterator[Problem]:
    for rule in template.rules:
        if rule.kind != "alert" or rule.for_seconds is None or NAME in rule.disabled:
            continue
        tree = rule.tree
        if tree is None:
            continue
        jobs = {m.value for node, _ in walk(tree) if isinstance(node, Selector)
                for m in node.matchers if m.name == "job" and m.op == "="}
        known = [(template.job_intervals[j][0], j) for j in sorted(jobs)
                 if j in template.job_intervals]
        if known:
            interval, job = max(known)
            source = f"scrape job {job}, {template.job_intervals[job][1]}"
        else:
            interval, source = template.scrape_interval, "server.global.scrape_interval"
        if rule.for_seconds < 2 * interval:
            yield finding(template.path, rule.line, NAME,
                          f"alert '{rule.name}': for: {format_duration(rule.for_seconds)} is "
                          f"shorter than twice the scrape interval "
                          f"({format_duration(interval)}, {source})")
