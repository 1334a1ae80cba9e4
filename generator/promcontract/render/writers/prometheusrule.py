"""A prometheus-operator ``monitoring.coreos.com/v1`` PrometheusRule manifest."""

from __future__ import annotations

import os

from promcontract.problems import UserError
from promcontract.render import group as group_render
from promcontract.render.writers import k8s

NAME = "prometheusrule"
needs_namespace = True


def check_options(options) -> None:  # noqa: ANN001 - Options, see writers/__init__
    """Metadata the API server would reject: refused with the rule it breaks (exit 2)."""
    if options.name is not None and not k8s.is_subdomain(options.name):
        raise UserError(f"--name {options.name!r} is not a valid PrometheusRule name: it must "
                        f"be {k8s.SUBDOMAIN_RULE}")
    if not k8s.is_label(options.namespace or ""):
        raise UserError(f"--namespace {options.namespace!r} is not a valid namespace: it must "
                        f"be {k8s.LABEL_RULE}")
    keys = [key for key, _ in options.labels]
    for key, value in options.labels:
        if keys.count(key) > 1:
            raise UserError(f"--label {key!r} is given {keys.count(key)} times; give each "
                            "label once")
        if not k8s.is_label_key(key):
            raise UserError(f"--label {key + '=' + value!r}: {key!r} is not a valid label "
                            f"key: it must be {k8s.KEY_RULE}")
        if not k8s.is_label_value(value):
            raise UserError(f"--label {key + '=' + value!r}: {value!r} is not a valid label "
                            f"value: it must be {k8s.VALUE_RULE}")


def render(contracts, options) -> str:  # noqa: ANN001 - Options, see writers/__init__
    groups = "\n".join(group_render.render_group(c) for c in contracts)
    name = options.name or k8s.name_from([c.name for c in contracts] + ["rules"])
    if not k8s.is_subdomain(name):
        raise UserError(f"no valid PrometheusRule name can be made from the contract ids "
                        f"({name!r}); give one with --name")
    return group_render.template("prometheusrule.yaml.j2").render(
        name=name, namespace=options.namespace, labels=options.labels, groups=groups,
        sources=[" ".join(os.path.basename(c.source).split()) for c in contracts]) + "\n"
