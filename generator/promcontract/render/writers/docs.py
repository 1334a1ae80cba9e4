"""Markdown per contract: its metric table and its alert table, for people reading docs/."""

from __future__ import annotations

import os

from promcontract import kinds
from promcontract.model.contract import Contract
from promcontract.problems import UserError
from promcontract.render import group

NAME = "docs"
needs_namespace = False


def _md(text: str) -> str:
    """One table cell: single line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _md_code(text: str) -> str:
    return _md(text).replace("`", "'")


def render_docs(contract: Contract) -> str:
    env = group._env()
    env.filters.setdefault("md", _md)
    env.filters.setdefault("md_code", _md_code)
    alerts = [group.RenderedRule(a, kinds.of(a).expr(a, contract), ()) for a in
              contract.alerts]
    exceptions = [(m.name, e) for m in contract.metrics for e in m.lint_exceptions]
    key = ", ".join(f"`{k}={v}`" for k, v in contract.grouping_key)
    return env.get_template("docs.md.j2").render(
        contract=contract, alerts=alerts, exceptions=exceptions, grouping_key=key,
        source=os.path.basename(contract.source)).rstrip("\n") + "\n"


def check_options(options) -> None:  # noqa: ANN001 - Options, see writers/__init__

    if options.name or options.labels or options.namespace:
        raise UserError("--namespace, --name and --label do not apply to --format docs")


def render(contracts, options) -> str:  # noqa: ANN001 - Options, see writers/__init__
    return "\n".join(render_docs(c) for c in contracts)


def generated(contract, dirs, notes: list[str]) -> tuple[str, str]:  # noqa: ANN001
    return os.path.join(dirs.docs, f"{contract.name}.md"), render_docs(contract)
