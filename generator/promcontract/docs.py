"""Contract -> Markdown: the metric table and the alert table, for people reading docs/."""

from __future__ import annotations

import os

from promcontract import promql, render
from promcontract.model import Contract


def _md(text: str) -> str:
    """One table cell: single line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _md_code(text: str) -> str:
    return _md(text).replace("`", "'")


def render_docs(contract: Contract) -> str:
    env = render._env()
    env.filters.setdefault("md", _md)
    env.filters.setdefault("md_code", _md_code)
    alerts = [render.RenderedRule(a, promql.alert_expr(a, contract), ()) for a in
              contract.alerts]
    exceptions = [(m.name, e) for m in contract.metrics for e in m.lint_exceptions]
    key = ", ".join(f"`{k}={v}`" for k, v in contract.grouping_key)
    return env.get_template("docs.md.j2").render(
        contract=contract, alerts=alerts, exceptions=exceptions, grouping_key=key,
        source=os.path.basename(contract.source)).rstrip("\n") + "\n"
