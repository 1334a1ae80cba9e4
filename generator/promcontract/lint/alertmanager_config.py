"""alertmanager-config: what `amtool check-config` (Debian prometheus-alertmanager) rejects in
the values file's `alertmanager.config`: an undefined receiver, a bad matcher, an unknown
field. Terraform interpolations are resolved to placeholders first (a URL-valued one to
https://terraform.invalid/), and `templates:` file globs are left out (they name files on
the Alertmanager's disk, not beside the values file)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import yaml

from promcontract.lint.base import Template, finding
from promcontract.problems import Problem, one_line
from promcontract.runners import amtool
from promcontract.template.tfescape import PLACEHOLDER

NAME = "alertmanager-config"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('what `amtool check-config` (Debian `prometheus-alertmanager`) rejects in '
       '`alertmanager.config` (Terraform interpolations stood in for; URL-valued ones by '
       '`https://terraform.invalid/`)')


def _resolved(value: Any, key: str = "") -> Any:  # noqa: ANN401 - any YAML value
    if isinstance(value, dict):
        return {k: _resolved(v, str(k)) for k, v in value.items() if k != "templates"}
    if isinstance(value, list):
        return [_resolved(v, key) for v in value]
    if isinstance(value, str) and PLACEHOLDER in value and "url" in key.lower():
        return "https://terraform.invalid/"
    return value


def check(template: Template) -> Iterator[Problem]:
    if template.alertmanager is None:
        return
    data = yaml.load(yaml.serialize(template.alertmanager), Loader=yaml.SafeLoader)
    line = template.alertmanager.start_mark.line + 1
    with tempfile.TemporaryDirectory(prefix="promcontract-amtool-") as tmp:
        path = os.path.join(tmp, "alertmanager.yml")
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(_resolved(data), handle, sort_keys=False)
        code, said = amtool.check_config(path)
    if code != 0:
        detail = said.replace(f"Checking '{path}'", "").replace(path, "alertmanager.yml")
        detail = " ".join(part.strip() for part in detail.splitlines() if part.strip()
                          and not part.startswith("amtool: error: failed to validate"))
        yield finding(template.path, line, NAME,
                      f"amtool check-config rejects alertmanager.config: {one_line(detail)}")
