"""What Terraform's ``templatefile()`` makes of a template, for the forms values templates use:
``${name}`` (a variable or a loop variable), ``%{ for k, v in name ~}`` / ``%{ for v in name }``
... ``%{ endfor }``, ``%{ if name }`` / ``%{ if !name }`` ... ``%{ else }`` ... ``%{ endif }``,
the escapes ``$${`` and ``%%{``, and the ``~`` strip markers. Anything else (an arithmetic
expression, a function call) is refused by name: give the rendered file instead.

Used where a config must be read as Alertmanager gets it (``promcontract routes``: the bundled
template's ``%{ for team, channel in team_channels }`` routes). A test compares it with
``terraform console`` on the bundled template and on tricky cases.

Terraform's own behaviour, observed with ``terraform console`` and kept here: a map is
iterated in key order; it reads a literal one line at a time, and a strip marker trims the
whitespace of the adjacent line only: ``~}`` the spaces and the newline after the sequence
(the next line keeps its indentation), ``%{~`` the whitespace at the end of the line before
it (its newline too when nothing else is on it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from promcontract.template.tfescape import TemplateSyntaxError, scan

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class EvalError(ValueError):
    """The template cannot be evaluated here; ``offset`` says where."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


@dataclass
class _Node:
    kind: str  # text | interp | for | if
    value: str = ""  # text, or the interpolated name
    offset: int = 0
    names: tuple[str, ...] = ()  # for: the loop variables
    source: str = ""  # for: the collection; if: the condition
    body: list[_Node] = field(default_factory=list)
    other: list[_Node] = field(default_factory=list)  # if: the else branch


def evaluate(text: str, variables: dict[str, Any]) -> str:
    """``templatefile()`` of ``text`` with ``variables`` (``EvalError`` where it cannot)."""
    try:
        tokens = list(scan(text))
    except TemplateSyntaxError as exc:
        raise EvalError(str(exc), exc.offset) from None
    pieces: list[tuple[str, str, int, bool, bool]] = []  # (kind, content, offset, ltrim, rtrim)
    pos = 0
    for token in tokens:
        if token.start > pos:
            pieces.append(("text", text[pos:token.start], pos, False, False))
        raw = text[token.start:token.end]
        if token.kind == "escape":
            pieces.append(("text", raw[1:], token.start, False, False))
        else:
            inner = raw[2:-1]
            ltrim, rtrim = inner.startswith("~"), inner.endswith("~")
            inner = inner[1:] if ltrim else inner
            inner = inner[:-1] if rtrim else inner
            pieces.append((token.kind, inner.strip(), token.start, ltrim, rtrim))
        pos = token.end
    if pos < len(text):
        pieces.append(("text", text[pos:], pos, False, False))
    _strip(pieces)
    nodes, rest = _parse(pieces, 0, ())
    if rest < len(pieces):
        raise EvalError(f"unexpected %{{ {pieces[rest][1]} }}", pieces[rest][2])
    out: list[str] = []
    _run(nodes, dict(variables), out)
    return "".join(out)


def _strip(pieces: list[tuple[str, str, int, bool, bool]]) -> None:
    for index, (kind, _, _, ltrim, rtrim) in enumerate(pieces):
        if kind == "text":
            continue
        if ltrim and index > 0 and pieces[index - 1][0] == "text":
            k, content, offset, a, b = pieces[index - 1]
            pieces[index - 1] = (k, _trim_left_of(content), offset, a, b)
        if rtrim and index + 1 < len(pieces) and pieces[index + 1][0] == "text":
            k, content, offset, a, b = pieces[index + 1]
            pieces[index + 1] = (k, re.sub(r"\A[ \t]*\r?\n?", "", content), offset, a, b)


def _trim_left_of(content: str) -> str:
    """What ``%{~`` leaves of the text before it: Terraform reads a literal one line at a time
    (each line with its newline), and trims the whitespace at the end of the last one only:
    ``foo\n`` -> ``foo``, ``a\n\n  `` -> ``a\n\n``."""
    cut = content.rfind("\n", 0, len(content) - 1) + 1 if content.endswith("\n") else \
        content.rfind("\n") + 1
    return content[:cut] + content[cut:].rstrip()


def _parse(pieces: list, index: int, until: tuple[str, ...]) -> tuple[list[_Node], int]:
    nodes: list[_Node] = []
    while index < len(pieces):
        kind, content, offset, _, _ = pieces[index]
        if kind == "text":
            nodes.append(_Node("text", content, offset))
            index += 1
            continue
        if kind == "interp":
            if not _NAME.fullmatch(content):
                raise EvalError(f"${{{content}}} is an expression this reader does not "
                                "evaluate (only ${name})", offset)
            nodes.append(_Node("interp", content, offset))
            index += 1
            continue
        keyword = content.split(None, 1)[0] if content else ""
        if keyword in until:
            return nodes, index
        if keyword == "for":
            match = re.fullmatch(r"for\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\s+"
                                 r"([A-Za-z_][\w-]*)", content)
            if not match:
                raise EvalError(f"%{{ {content} }} is not 'for x in name' or 'for k, v in "
                                "name'", offset)
            body, index = _parse(pieces, index + 1, ("endfor",))
            if index >= len(pieces):
                raise EvalError("%{ for } without %{ endfor }", offset)
            names = tuple(n for n in match.group(1, 2) if n)
            nodes.append(_Node("for", "", offset, names, match.group(3), body))
            index += 1
            continue
        if keyword == "if":
            match = re.fullmatch(r"if\s+(!?)\s*([A-Za-z_][\w-]*)", content)
            if not match:
                raise EvalError(f"%{{ {content} }} is a condition this reader does not "
                                "evaluate (only 'if name' or 'if !name')", offset)
            body, index = _parse(pieces, index + 1, ("else", "endif"))
            other: list[_Node] = []
            if index < len(pieces) and pieces[index][1].split()[0] == "else":
                other, index = _parse(pieces, index + 1, ("endif",))
            if index >= len(pieces):
                raise EvalError("%{ if } without %{ endif }", offset)
            nodes.append(_Node("if", "", offset, (), match.group(1) + match.group(2), body,
                               other))
            index += 1
            continue
        raise EvalError(f"unexpected %{{ {content} }}", offset)
    return nodes, index


def _value(scope: dict[str, Any], name: str, offset: int) -> Any:  # noqa: ANN401
    if name not in scope:
        raise EvalError(f"the variable {name} has no value (give it in --vars)", offset)
    return scope[name]


def _text(value: Any, offset: int) -> str:  # noqa: ANN401 - a Terraform value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, int, float)):
        return str(value)
    raise EvalError("a list or map cannot be interpolated as text", offset)


def _run(nodes: list[_Node], scope: dict[str, Any], out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.value)
        elif node.kind == "interp":
            out.append(_text(_value(scope, node.value, node.offset), node.offset))
        elif node.kind == "for":
            collection = _value(scope, node.source, node.offset)
            if isinstance(collection, dict):
                items = sorted(collection.items())  # Terraform iterates a map in key order
            elif isinstance(collection, list):
                items = list(enumerate(collection))
            else:
                raise EvalError(f"{node.source} is not a list or a map", node.offset)
            for key, value in items:
                inner = dict(scope)
                if len(node.names) == 2:
                    inner[node.names[0]], inner[node.names[1]] = key, value
                else:
                    inner[node.names[0]] = value
                _run(node.body, inner, out)
        else:  # if
            negate = node.source.startswith("!")
            flag = _value(scope, node.source.lstrip("!"), node.offset)
            if not isinstance(flag, bool):
                raise EvalError(f"{node.source.lstrip('!')} is not a bool", node.offset)
            _run(node.body if flag != negate else node.other, scope, out)
