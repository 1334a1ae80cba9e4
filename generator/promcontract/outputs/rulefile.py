"""A plain Prometheus rule file (``groups: [...]``): what Thanos Ruler and Prometheus load."""

from __future__ import annotations

from promcontract import render as group_render

NAME = "rulefile"
needs_namespace = False


def render(contracts, options) -> str:  # noqa: ANN001 - Options, see outputs/__init__
    return group_render.render_rules(contracts)
