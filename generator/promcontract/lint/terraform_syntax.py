"""terraform-syntax: what Terraform's templatefile() rejects, anywhere in the template (it reads
YAML comments too): an interpolation that is not an expression (`${...}`), an unknown
directive, `%{ if }`/`%{ for }` that do not nest. (An unterminated `${` stops lint earlier,
exit 2: the template cannot be read at all.)"""

from __future__ import annotations

from collections.abc import Iterator

from promcontract.lint.base import Template, finding
from promcontract.problems import Problem
from promcontract.template import tfescape

NAME = "terraform-syntax"
# One line of the README's checks table (workflows/readme.py writes it from here).
DOC = ("what Terraform's `templatefile()` rejects anywhere in the file, YAML comments "
       'included')


def check(template: Template) -> Iterator[Problem]:
    if template.kind != "template":
        return  # a rule file read with --rules is not a Terraform template
    body = template.text[1:] if template.text.startswith("\ufeff") else template.text
    for offset, message in tfescape.validate(body):
        line, _ = tfescape.line_col(body, offset)
        yield finding(template.path, line, NAME, message)
