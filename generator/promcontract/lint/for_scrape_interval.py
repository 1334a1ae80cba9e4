"""for-scrape-interval: a `for:` no longer than the scrape interval of the data lets one late
or failed scrape decide the alert: two evaluations `for:` apart can read the same single sample
(a scrape that comes late by a second leaves the previous one in place). A `for:` above one
interval (1.5x is enough) needs two samples.

The interval is found by ``lint.base.scrape_interval_of``: the scrape job's own, else the
configured or template global one, else Prometheus's default (said as assumed).

Not a finding: an expression with a window in it (`rate(x[5m])`, `changes(x[1h])`,
`max_over_time(...)`, subqueries), alone or next to an instant capacity or guard
(`rate(bytes[5m]) / link_speed > 0.8`): the window decides, one sample cannot flip it, and a
`for: 0` on an event over a window (`increase(failures[10m]) > 0`) is the design. Nor one that
compares with `time()` (`time() - last_success > 3600`, `time() - start < 60`) or reads an
uptime (`mysql_global_status_uptime < 60`, `sysUpTime / 100 < 300`: the time since a start):
the timestamp holds for the window it is compared with, whatever `for:` says."""

from __future__ import annotations

from collections.abc import Iterator

from promcontract.durations import format_duration
from promcontract.lint.base import Template, finding, scrape_interval_of
from promcontract.problems import Problem
from promcontract.promql.nodes import Call, Matrix, Node, Selector, Subquery, walk

NAME = "for-scrape-interval"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('a `for:` no longer than the scrape interval of the job the alert reads (`job="x"`, '
       'from `serverFiles.prometheus.yml` `scrape_configs` or the `extraScrapeConfigs` '
       'string, or the job whose `metric_relabel_configs` renames a metric it reads; the '
       'slowest when it reads several; else `--scrape-interval`, '
       '`server.global.scrape_interval`, or Prometheus\'s default 1m), on an expression that '
       'reads samples directly (windows, `time()` comparisons and uptimes are not findings)')


def reads_samples(tree: Node) -> bool:
    """Whether a single sample decides ``tree``: it reads instant selectors only (no range:
    matrix selector or subquery) and does not compare with ``time()``. A range next to an
    instant read (``rate(bytes[5m]) / link_speed``, ``max_over_time(t[10m]) >= trip``) is
    decided by the window; the instant side is a capacity or a guard."""
    nodes = [node for node, _ in walk(tree)]
    if any(isinstance(n, (Matrix, Subquery)) or (isinstance(n, Call) and n.func == "time")
           or (isinstance(n, Selector) and "uptime" in (n.name or "").lower())
           for n in nodes):
        return False
    return any(isinstance(n, Selector) for n in nodes)


def check(template: Template) -> Iterator[Problem]:
    for rule in template.rules:
        if rule.kind != "alert" or rule.for_seconds is None or NAME in rule.disabled:
            continue
        tree = rule.tree
        if tree is None or not reads_samples(tree):
            continue
        interval, source = scrape_interval_of(template, tree)
        if rule.for_seconds <= interval:
            yield finding(template.path, rule.line, NAME,
                          f"alert '{rule.name}': for: {format_duration(rule.for_seconds)} is "
                          f"not longer than the scrape interval "
                          f"({format_duration(interval)}, {source}): one late or failed "
                          "scrape can decide it")
