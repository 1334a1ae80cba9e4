"""The README's tables of alert kinds, lint checks and output formats, written from the
plug-ins' own text (a kind's ``fields_doc``/``promql_doc``, a check's ``DOC``, a writer's
docstring), so adding a plug-in documents it and the README cannot drift from the code.

``python -m promcontract.workflows.readme README.md`` rewrites the tables in place (between
their markers); ``tests/test_readme.py`` fails when they are stale. Nothing outside the
markers is touched.
"""

from __future__ import annotations

import re
import sys

from promcontract import kinds, lint
from promcontract.render import writers
from promcontract.runners.fileio import write_atomic

BEGIN = "<!-- generated from the plug-ins (make readme): {name} -->"
END = "<!-- end of generated {name} -->"


def _first_sentence(doc: str | None) -> str:
    """A docstring's first sentence, its reST ``literals`` as Markdown `code`."""
    text = " ".join((doc or "").split()).replace("``", "`")
    match = re.match(r"(.+?\.)(\s|$)", text)
    return (match.group(1) if match else text).rstrip(".")


def _cell(text: str) -> str:
    """``text`` as one Markdown table cell: a ``|`` inside would end the cell."""
    return " ".join(text.split()).replace("|", "\\|")


def tables() -> dict[str, str]:
    """Table name -> Markdown table."""
    kind_rows = [f"| `{k.name}` | {_cell(k.fields_doc)} | {_cell(k.promql_doc)} |"
                 for k in kinds.alert_kinds().values() if k.user_facing]
    check_rows = [f"| `{c.NAME}` | {_cell(c.DOC)} |" for c in lint.CHECKS]
    format_rows = [f"| `{name}` | {_cell(_first_sentence(w.__doc__))} |"
                   for name, w in writers.formats().items()]
    return {
        "kinds": "| kind | fields | PromQL rendered |\n|---|---|---|\n" + "\n".join(kind_rows),
        "checks": "| check | finds |\n|---|---|\n" + "\n".join(check_rows),
        "formats": "| format | writes |\n|---|---|\n" + "\n".join(format_rows),
    }


def refresh(text: str) -> str:
    """``text`` with every marked table replaced by its generated form; ``ValueError`` when a
    table's markers are missing."""
    for name, table in tables().items():
        begin, end = BEGIN.format(name=name), END.format(name=name)
        start, stop = text.find(begin), text.find(end)
        if start < 0 or stop < start:
            raise ValueError(f"README: no '{begin}' ... '{end}' around the {name} table")
        text = text[:start + len(begin)] + "\n" + table + "\n" + text[stop:]
    return text


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m promcontract.workflows.readme README.md", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as handle:
        text = handle.read()
    try:
        new = refresh(text)
    except ValueError as exc:
        print(f"{argv[0]}: {exc}", file=sys.stderr)
        return 2
    if new != text:
        write_atomic(argv[0], new)
        print(f"{argv[0]}: tables rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
