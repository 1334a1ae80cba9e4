"""alertmanager-config: what `amtool check-config` (Debian prometheus-alertmanager) rejects in
the values file's `alertmanager.config`: an undefined receiver, a bad matcher, an unknown
field. The config is read as the chart writes it (``template.alertmanager``: the chart's own
key `enabled` removed, interpolations stood in for, `templates:` globs left out)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import yaml

from promcontract.lint.base import Template, finding
from promcontract.problems import Problem, one_line
from promcontract.runners import amtool
from promcontract.template import alertmanager

NAME = "alertmanager-config"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ('what `amtool check-config` (Debian `prometheus-alertmanager`) rejects in '
       '`alertmanager.config` (Terraform interpolations stood in for; URL-valued ones by '
       '`https://terraform.invalid/`)')


def check(template: Template) -> Iterator[Problem]:
    if template.alertmanager is None:
        return
    data = alertmanager.config_data(template.alertmanager)
    line = template.alertmanager.start_mark.line + 1
    with tempfile.TemporaryDirectory(prefix="promcontract-amtool-") as tmp:
        path = os.path.join(tmp, "alertmanager.yml")
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(data, handle, sort_keys=False)
        code, said = amtool.check_config(path)
    if code != 0:
        detail = said.replace(f"Checking '{path}'", "").replace(path, "alertmanager.yml")
        detail = " ".join(part.strip() for part in detail.splitlines() if part.strip()
                          and not part.startswith("amtool: error: failed to validate"))
        yield finding(template.path, line, NAME,
                      f"amtool check-config rejects alertmanager.config: {one_line(detail)}")
