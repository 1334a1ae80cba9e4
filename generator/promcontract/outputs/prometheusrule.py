"""A prometheus-operator ``monitoring.coreos.com/v1`` PrometheusRule manifest."""

from __future__ import annotations

import os

from promcontract import render as group_render

NAME = "prometheusrule"
needs_namespace = True


def render(contracts, options) -> str:  # noqa: ANN001 - Options, see outputs/__init__
    groups = "\n".join(group_render.render_group(c) for c in contracts)
    name = options.name or "-".join(c.name for c in contracts) + "-rules"
    return group_render.template("prometheusrule.yaml.j2").render(
        name=name, namespace=options.namespace, labels=options.labels, groups=groups,
        sources=[os.path.basename(c.source) for c in contracts]) + "\n"
