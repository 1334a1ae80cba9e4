"""for-scrape-interval: a `for:` shorter than twice the scrape interval of the data lets one
late or failed scrape decide the alert (a single sample flips it). The interval is the
template's `server.global.scrape_interval`, or the scrape job's own when the expression
selects `job="<job_name>"` of a scrape config that sets one."""

from __future__ import annotations

import re
from collections.abc import Iterator

from promcontract.durations import format_duration
from promcontract.lint.base import Template, finding
from promcontract.problems import Problem

NAME = "for-scrape-interval"
DOC = "A for: shorter than twice the scrape interval read from the same template."
_JOB = re.compile(r'job\s*=\s*"([^"]+)"')


def check(template: Template) -> Iterator[Problem]:
    for group in template.groups:
        for rule in group.rules:
            if rule.kind != "alert" or rule.for_seconds is None or NAME in rule.disabled:
                continue
            interval = template.scrape_interval
            source = "server.global.scrape_interval"
            for job in _JOB.findall(rule.expr):
                if job in template.job_intervals:
                    interval = template.job_intervals[job]
                    source = f"scrape job {job}"
            if rule.for_seconds < 2 * interval:
                yield finding(template.path, rule.line, NAME,
                              f"alert '{rule.name}': for: {format_duration(rule.for_seconds)}"
                              f" is shorter than twice the scrape interval "
                              f"({format_duration(interval)}, {source})")
