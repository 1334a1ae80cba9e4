"""Contract model -> rule group text (YAML), from the Jinja2 template in templates/.

Templates hold the text; this module holds the decisions (expressions come from each alert's
kind, quoting from ``yamlout.scalar``). Output is deterministic: the same contract gives the
same bytes.
"""

from __future__ import annotations

import functools
import os
import textwrap
from dataclasses import dataclass

import jinja2

from promcontract import kinds
from promcontract.kinds import annotation_templates
from promcontract.model import yamlout
from promcontract.model.contract import Alert, Contract

_COMMENT_WIDTH = 86


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("promcontract.render", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # YAML, not HTML; quoting is done by yamlout.scalar
        keep_trailing_newline=False,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["yaml_str"] = yamlout.scalar
    return env


@dataclass(frozen=True)
class RenderedRule:
    alert: Alert
    expr: str
    comment: tuple[str, ...]
    annotations: tuple[tuple[str, str], ...] = ()


def _comment(alert: Alert) -> tuple[str, ...]:
    keep = f", keep firing {alert.keep_firing_for}" if alert.keep_firing_for else ""
    head = f"{alert.name} (for {alert.for_}{keep}): "
    text = head + " ".join(alert.rationale.split())
    return tuple(textwrap.wrap(text, _COMMENT_WIDTH, break_long_words=False,
                               break_on_hyphens=False))


def alert_expr(alert: Alert, contract: Contract) -> str:
    return kinds.of(alert).expr(alert, contract)


def render_group(contract: Contract, live: bool = False) -> str:
    """The group as YAML text starting at ``- name:`` in column 0, no trailing newline. The
    contract's Terraform variables (``${name}``) are replaced by their values, or with
    ``live`` left as written for the values template (``tfescape.escape(..., keep=...)``)."""
    rules = [RenderedRule(a, alert_expr(a, contract), _comment(a),
                          annotation_templates(a, contract)) for a in contract.alerts]
    text = _env().get_template("group.yaml.j2").render(
        contract=contract, rules=rules, source=os.path.basename(contract.source))
    if not live:
        for name, value in contract.terraform_variables:
            text = text.replace("${" + name + "}", value)
    return text.strip("\n")


def render_rule_file(contract: Contract) -> str:
    """A standalone Prometheus rule file (``groups: [...]``) holding just this group."""
    return render_rules([contract])


def render_rules(contracts: list[Contract]) -> str:
    """A Prometheus rule file with the groups of ``contracts``."""
    text = "\n".join(render_group(c) for c in contracts)
    body = "\n".join("  " + line if line else line for line in text.split("\n"))
    return f"groups:\n{body}\n"


def template(name: str) -> jinja2.Template:
    return _env().get_template(name)
