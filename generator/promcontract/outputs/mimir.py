"""A Mimir/Cortex ruler namespace file (``namespace:`` around ``groups:``), as
``mimirtool rules load`` accepts it."""

from __future__ import annotations

import os

from promcontract import render as group_render

NAME = "mimir"
needs_namespace = True


def render(contracts, options) -> str:  # noqa: ANN001 - Options, see outputs/__init__
    groups = "\n".join(group_render.render_group(c) for c in contracts)
    return group_render.template("mimir.yaml.j2").render(
        namespace=options.namespace, groups=groups,
        sources=[os.path.basename(c.source) for c in contracts]) + "\n"
