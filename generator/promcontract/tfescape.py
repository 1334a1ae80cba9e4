"""Terraform template syntax, in one place.

Terraform ``templatefile()`` treats exactly two sequences as special: ``${`` (interpolation)
and ``%{`` (directive). Their literal forms are ``$${`` and ``%%{``. A lone ``$`` or ``%``,
Prometheus' ``{{ $value }}`` and ``printf "%.0f"`` pass through untouched.
"""

from __future__ import annotations

import re

# What an interpolation becomes when a template is neutralised into plain YAML: a plain
# scalar that is valid wherever a value may stand.
PLACEHOLDER = "TF_INTERPOLATION"


class TemplateSyntaxError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def escape(text: str) -> str:
    """Make ``text`` come out of ``templatefile()`` exactly as it is."""
    return text.replace("${", "$${").replace("%{", "%%{")


def unescaped_sequences(text: str) -> list[int]:
    """Offsets of ``${`` / ``%{`` that Terraform would treat as template syntax."""
    return [m.start() for m in _scan(text) if m.kind in ("interp", "directive")]


class _Token:
    __slots__ = ("kind", "start", "end")

    def __init__(self, kind: str, start: int, end: int):
        self.kind, self.start, self.end = kind, start, end


_SPECIAL = re.compile(r"\$\$\{|%%\{|\$\{|%\{")


def _close(text: str, start: int) -> int:
    """Index just past the ``}`` closing a template sequence opened before ``start``."""
    depth = 1
    i = start
    quote = False
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise TemplateSyntaxError("unterminated template sequence (no closing '}')", start - 2)


def _scan(text: str):
    pos = 0
    while True:
        match = _SPECIAL.search(text, pos)
        if not match:
            return
        seq = match.group(0)
        if seq in ("$${", "%%{"):
            yield _Token("escape", match.start(), match.end())
            pos = match.end()
            continue
        end = _close(text, match.end())
        yield _Token("interp" if seq == "${" else "directive", match.start(), end)
        pos = end


def neutralise(text: str) -> str:
    """Turn a Terraform template into the YAML it stands for, keeping line numbers.

    Documented rule: a line holding only directives/interpolations (``%{ for k, v in m ~}``,
    ``${indent(4, extra)}``) becomes an empty line; any other interpolation becomes the plain
    word ``TF_INTERPOLATION``; other directives vanish; ``$${`` and ``%%{`` become ``${`` and
    ``%{``. Newlines inside a sequence are kept so line N of the result is line N of the input.
    """
    out: list[str] = []
    pos = 0
    tokens = list(_scan(text))
    lone = _lone_lines(text, tokens)
    for token in tokens:
        out.append(text[pos:token.start])
        body = text[token.start:token.end]
        if token.kind == "escape":
            out.append(body[1:])
        elif token.start in lone:
            out.append("\n" * body.count("\n"))
        elif token.kind == "interp":
            out.append(PLACEHOLDER + "\n" * body.count("\n"))
        else:
            out.append("\n" * body.count("\n"))
        pos = token.end
    out.append(text[pos:])
    result = "".join(out)
    # Lines that held only template sequences may keep their indentation: strip it.
    return re.sub(r"(?m)^[ \t]+$", "", result) if lone else result


def _lone_lines(text: str, tokens: list[_Token]) -> set[int]:
    """Start offsets of sequences that, with others, are all there is on their line(s)."""
    lone: set[int] = set()
    by_line: dict[int, list[_Token]] = {}
    for token in tokens:
        if token.kind == "escape":
            continue
        line_start = text.rfind("\n", 0, token.start) + 1
        by_line.setdefault(line_start, []).append(token)
    for line_start, line_tokens in by_line.items():
        last = line_tokens[-1]
        line_end = text.find("\n", last.end)
        line_end = len(text) if line_end == -1 else line_end
        rest = text[line_start:line_end]
        for token in line_tokens:
            rest = rest.replace(text[token.start:token.end], "", 1)
        if not rest.strip():
            lone.update(t.start for t in line_tokens)
    return lone
