"""Shared plumbing of the template lint: the template read as rule groups with line numbers,
findings, and inline disable comments. Each check lives in its own module beside this one.

Disable one check for one rule with a comment on the rule's ``- alert:`` line or on the
comment lines directly above it, giving a reason:

    # promcontract-lint: disable=absent-coverage -- covered by BackupJobMissing
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import yaml

from promcontract.durations import parse_duration
from promcontract.model.yamlsource import _Loader, mapping_value, yaml_problem
from promcontract.problems import Location, Problem, UserError
from promcontract.promql import Node, ParseError, parse
from promcontract.promql.nodes import Selector, walk
from promcontract.template import reader

DISABLE_RE = re.compile(r"#\s*promcontract-lint:\s*disable=([a-z0-9,-]+)\s*(?:--\s*(.*\S))?")


@runtime_checkable
class Check(Protocol):
    """A module of lint/ that is a check: its name (``--list``, config, SARIF rule id), one
    line of what it finds (the README's checks table, SARIF), and the check itself."""

    NAME: str
    DOC: str

    def check(self, template: Template) -> Iterable[Problem]: ...


def finding(file: str, line: int, check: str, message: str) -> Problem:
    """A lint finding: ``file:line: check: message``."""
    return Problem(Location(file, line), message, rule=check)


@dataclass
class Rule:
    name: str  # alert or record name
    kind: str  # alert | record
    expr: str
    line: int  # template line of the rule's first key
    for_seconds: float | None
    annotations: dict[str, str]
    labels: dict[str, str]
    group: str
    disabled: dict[str, str] = field(default_factory=dict)  # check -> reason
    keep_firing_seconds: float | None = None

    @property
    def tree(self) -> Node | None:
        """The expression as a PromQL tree; None when it does not parse (promtool then says
        why: no other check guesses)."""
        try:
            return parse(self.expr)
        except ParseError:
            return None


@dataclass
class Group:
    name: str
    line: int
    rules: list[Rule]
    rules_missing: bool  # `rules:` with nothing under it


@dataclass
class Template:
    path: str
    text: str
    groups: list[Group]
    scrape_interval: float | None  # global, seconds; None: the source does not set it
    # job_name -> (scrape_interval, where it is set), from serverFiles.prometheus.yml
    # scrape_configs and from the extraScrapeConfigs string
    job_intervals: dict[str, tuple[float, str]]
    rules_text: str  # alerting_rules.yml neutralised, for promtool
    rules_offset: int
    bad_disables: list[Problem]
    alertmanager: yaml.Node | None = None  # alertmanager.config, lines as in the template
    plain: str = ""  # the whole template, Terraform syntax neutralised
    config: Any = None  # the lint configuration (lint.config.LintConfig)
    kind: str = "template"  # or a rule file read with --rules: "rules", "prometheusrule"
    root: yaml.Node | None = None  # the whole file composed (Terraform syntax neutralised)
    # metric -> the scrape job whose metric_relabel_configs name it (a rename: the rule
    # reads it without job=, the job's scrape interval is still the one that counts)
    metric_jobs: dict[str, str] = field(default_factory=dict)

    @property
    def rules(self) -> list[Rule]:
        return [r for g in self.groups for r in g.rules]

    @property
    def alert_names(self) -> set[str]:
        return {r.name for r in self.rules if r.kind == "alert"}


def _compose(text: str, path: str, offset: int = 0) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise UserError(yaml_problem(exc, path, "not valid YAML after neutralising Terraform "
                                     "syntax", offset)) from None


def _scalar(node: yaml.Node | None) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return node.value
    return None


def _duration(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(str(value))
    except ValueError:
        return None


def _disables(lines: list[str], index: int, path: str, bad: list[Problem]) -> dict[str, str]:
    """Disable comments on line ``index`` (0-based) and the comment lines right above it."""
    found: dict[str, str] = {}
    candidates = [lines[index]]
    j = index - 1
    while j >= 0 and lines[j].strip().startswith("#"):
        candidates.append(lines[j])
        j -= 1
    for number, text in zip([index] + list(range(index - 1, j, -1)), candidates, strict=True):
        match = DISABLE_RE.search(text)
        if not match:
            continue
        if not match.group(2):
            bad.append(finding(path, number + 1, "disable-without-reason",
                               "a disable comment needs a reason: "
                               "# promcontract-lint: disable=CHECK -- why"))
            continue
        for check in match.group(1).split(","):
            found[check] = match.group(2)
    return found


def lint_view(source: reader.Template) -> Template:
    """What the checks read of the template (read once by ``template.reader``): its rule
    groups with line numbers and disable comments, its scrape intervals, its Alertmanager
    config. The whole file is composed first, so a YAML error anywhere is the finding."""
    root = source.root
    server = mapping_value(root, "server")
    interval = _duration(_scalar(mapping_value(mapping_value(server, "global"),
                                               "scrape_interval"))) or None
    files = mapping_value(root, "serverFiles")
    configs = mapping_value(mapping_value(files, "prometheus.yml"), "scrape_configs")
    jobs = _job_intervals(configs, "serverFiles.prometheus.yml scrape_configs")
    renamed = _renamed_metrics(configs)
    extra = mapping_value(root, "extraScrapeConfigs")
    if isinstance(extra, yaml.ScalarNode) and extra.value.strip():
        try:  # a string holding YAML (the chart appends it to scrape_configs)
            inner = yaml.compose(extra.value, Loader=_Loader)
        except yaml.YAMLError:
            inner = None
        for job, found in _job_intervals(inner, "extraScrapeConfigs").items():
            jobs.setdefault(job, found)
        for metric, job in _renamed_metrics(inner).items():
            renamed.setdefault(metric, job)
    groups: list[Group] = []
    bad: list[Problem] = []
    path = source.path
    for group in source.groups:
        name = group.name or str(_scalar(mapping_value(group.node, "name")) or "?")
        rules = [Rule(
            name=rule.name, kind=rule.kind,
            expr=str(_scalar(mapping_value(rule.node, "expr")) or ""),
            line=rule.line,
            for_seconds=_duration(_scalar(mapping_value(rule.node, "for"))),
            annotations=_str_map(mapping_value(rule.node, "annotations")),
            labels=_str_map(mapping_value(rule.node, "labels")),
            group=name,
            disabled=_disables(source.lines, rule.line - 1, path, bad),
            keep_firing_seconds=_duration(_scalar(mapping_value(rule.node, "keep_firing_for"))))
            for rule in group.rules]
        groups.append(Group(name, group.line, rules, group.rules_missing))
    return Template(path, source.text, groups, interval, jobs, source.rules_text,
                    source.rules_offset, bad, source.alertmanager, source.plain,
                    kind=source.kind, root=root, metric_jobs=renamed)


def _job_intervals(configs: yaml.Node | None, where: str) -> dict[str, tuple[float, str]]:
    out: dict[str, tuple[float, str]] = {}
    if isinstance(configs, yaml.SequenceNode):
        for item in configs.value:
            name = _scalar(mapping_value(item, "job_name"))
            own = _duration(_scalar(mapping_value(item, "scrape_interval")))
            if name and own:
                out[str(name)] = (own, where)
    return out


def _renamed_metrics(configs: yaml.Node | None) -> dict[str, str]:
    """Metric names a scrape job's ``metric_relabel_configs`` write (``target_label:
    __name__`` with a literal ``replacement``), each with the job."""
    out: dict[str, str] = {}
    if not isinstance(configs, yaml.SequenceNode):
        return out
    for item in configs.value:
        name = _scalar(mapping_value(item, "job_name"))
        relabels = mapping_value(item, "metric_relabel_configs")
        if not name or not isinstance(relabels, yaml.SequenceNode):
            continue
        for relabel in relabels.value:
            target = _scalar(mapping_value(relabel, "target_label"))
            replacement = _scalar(mapping_value(relabel, "replacement"))
            if target == "__name__" and replacement and "$" not in str(replacement):
                out.setdefault(str(replacement), str(name))
    return out


def _str_map(node: yaml.Node | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode):
                out[str(k.value)] = str(v.value)
    return out


DEFAULT_INTERVAL = 60.0  # Prometheus's global scrape_interval when none is configured


def scrape_interval_of(template: Template, tree: Node) -> tuple[float, str]:
    """The scrape interval of the data ``tree`` reads, and where it is set: the scrape job's
    own when the expression selects ``job="<job_name>"`` (an equality matcher on the label
    ``job``, from the PromQL tree: ``cronjob="x"`` is another label) of a job in
    ``serverFiles.prometheus.yml`` ``scrape_configs`` or in the ``extraScrapeConfigs`` string
    that sets one, the slowest of them when it reads several (without ``job=``, the jobs
    whose ``metric_relabel_configs`` rename a metric to one it reads); else
    ``--scrape-interval`` or the lint configuration's ``scrape_interval``; else the template's
    ``server.global.scrape_interval``; else Prometheus's default, 1m (a rule file does not say
    how its data is scraped: the source then says the interval was assumed)."""
    jobs = {m.value for node, _ in walk(tree) if isinstance(node, Selector)
            for m in node.matchers if m.name == "job" and m.op == "="}
    renamed = ""
    if not jobs and template.metric_jobs:
        jobs = {template.metric_jobs[node.name] for node, _ in walk(tree)
                if isinstance(node, Selector) and node.name in template.metric_jobs}
        renamed = ", which renames the metric (metric_relabel_configs)"
    known = [(template.job_intervals[j][0], j) for j in sorted(jobs)
             if j in template.job_intervals]
    if known:
        interval, job = max(known)
        return interval, f"scrape job {job}{renamed}, {template.job_intervals[job][1]}"
    config = template.config
    if config is not None and config.scrape_interval:
        return config.scrape_interval, "--scrape-interval or lint.scrape_interval"
    if template.scrape_interval is not None:
        return template.scrape_interval, "server.global.scrape_interval"
    return DEFAULT_INTERVAL, "assumed: Prometheus's default; set --scrape-interval"
