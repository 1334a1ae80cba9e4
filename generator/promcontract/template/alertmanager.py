"""The Alertmanager config as Alertmanager gets it, read once for lint and routes: from the
values template's ``alertmanager.config`` (Terraform syntax neutralised) or from a plain
alertmanager.yml.

What the chart removes before it writes alertmanager.yml is removed here too: the key
``enabled`` (prometheus-community's alertmanager chart reads ``config.enabled`` and writes
the rest; amtool rejects it as an unknown field, and that one error hid every real one).
``templates:`` globs name files on the Alertmanager's disk and are left out. A Terraform
interpolation stands in as its placeholder, a URL-valued one as https://terraform.invalid/.
"""

from __future__ import annotations

from typing import Any

import yaml

from promcontract.template.tfescape import PLACEHOLDER

CHART_KEYS = ("enabled",)  # top-level keys of alertmanager.config that only the chart reads


def config_data(node: yaml.Node | Any) -> dict[str, Any]:  # noqa: ANN401 - a YAML node or data
    """The config as plain data, ready for amtool or Alertmanager: chart keys and
    ``templates`` out, interpolations stood in for."""
    data = yaml.load(yaml.serialize(node), Loader=yaml.SafeLoader) \
        if isinstance(node, yaml.Node) else node
    if not isinstance(data, dict):
        return {}
    return _resolved({k: v for k, v in data.items() if k not in CHART_KEYS})


def _resolved(value: Any, key: str = "") -> Any:  # noqa: ANN401 - any YAML value
    if isinstance(value, dict):
        return {k: _resolved(v, str(k)) for k, v in value.items() if k != "templates"}
    if isinstance(value, list):
        return [_resolved(v, key) for v in value]
    if isinstance(value, str) and PLACEHOLDER in value and "url" in key.lower():
        return "https://terraform.invalid/"
    return value


def silent(config: dict[str, Any]) -> dict[str, Any]:
    """The config with every receiver's integrations removed (names kept): routing,
    grouping and inhibition unchanged, and nothing is ever sent anywhere."""
    out = dict(config)
    out["receivers"] = [{"name": r.get("name")} for r in config.get("receivers") or ()
                        if isinstance(r, dict)]
    out.pop("global", None)  # only integration defaults (SMTP, Slack URLs, ...) live there
    return out
