"""A plain Prometheus rule file (``groups: [...]``): what Thanos Ruler and Prometheus load."""

from __future__ import annotations

from promcontract import render as group_render

NAME = "rulefile"
needs_namespace = False


def check_options(options) -> None:  # noqa: ANN001 - Options, see outputs/__init__
    from promcontract.errors import UserError

    if options.name or options.labels or options.namespace:
        raise UserError("--namespace, --name and --label do not apply to --format rulefile")


def render(contracts, options) -> str:  # noqa: ANN001 - Options, see outputs/__init__
    return group_render.render_rules(contracts)
