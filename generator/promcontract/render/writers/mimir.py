"""A Mimir/Cortex ruler namespace file (``namespace:`` around ``groups:``), as
``mimirtool rules load`` accepts it."""

from __future__ import annotations

import os

from promcontract.problems import UserError
from promcontract.render import group as group_render

NAME = "mimir"
needs_namespace = True


def check_options(options) -> None:  # noqa: ANN001 - Options, see writers/__init__
    """A Mimir ruler namespace is any text (written YAML-quoted); --name and --label have no
    place in the file, so they are refused rather than ignored."""

    if options.name or options.labels:
        raise UserError("--name and --label apply to --format prometheusrule only")


def render(contracts, options) -> str:  # noqa: ANN001 - Options, see writers/__init__
    groups = "\n".join(group_render.render_group(c) for c in contracts)
    return group_render.template("mimir.yaml.j2").render(
        namespace=options.namespace, groups=groups,
        sources=[" ".join(os.path.basename(c.source).split()) for c in contracts]) + "\n"
