"""Terraform template syntax, in one place.

Terraform ``templatefile()`` treats exactly two sequences as special: ``${`` (interpolation)
and ``%{`` (directive). Their literal forms are ``$${`` and ``%%{``. A lone ``$`` or ``%``,
Prometheus' ``{{ $value }}`` and ``printf "%.0f"`` pass through untouched.

``validate`` says what ``templatefile()`` would reject before Terraform is ever run: an
interpolation whose content is not an expression (``${...}`` in a YAML comment is one: YAML
comments mean nothing to Terraform), an unterminated sequence, and directives that do not
nest (``%{ if }`` / ``%{ else }`` / ``%{ endif }``, ``%{ for }`` / ``%{ endfor }``). The
test suite checks that it agrees with Terraform on a corpus of tricky templates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# What an interpolation becomes when a template is neutralised into plain YAML: a plain
# scalar that is valid wherever a value may stand.
PLACEHOLDER = "TF_INTERPOLATION"


class TemplateSyntaxError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def escape(text: str, keep: tuple[str, ...] = ()) -> str:
    """Make ``text`` come out of ``templatefile()`` exactly as it is, except the
    interpolations ``${name}`` of the variables in ``keep``: those stay live."""
    out = text.replace("${", "$${").replace("%{", "%%{")
    for name in keep:
        out = re.sub(r"(?<!\$)\$\$\{" + re.escape(name) + r"\}", "${" + name + "}", out)
    return out


def unescape(text: str) -> str:
    """What ``templatefile()`` makes of text holding no template sequences: ``$${`` ->
    ``${``, ``%%{`` -> ``%{`` (read left to right, as Terraform does)."""
    return _ESCAPES.sub(lambda m: m.group(0)[1:], text)


_ESCAPES = re.compile(r"\$\$\{|%%\{")


def unescaped_sequences(text: str) -> list[int]:
    """Offsets of ``${`` / ``%{`` that Terraform would treat as template syntax."""
    return [m.start for m in scan(text) if m.kind in ("interp", "directive")]


@dataclass(frozen=True)
class Token:
    kind: str  # escape | interp | directive
    start: int
    end: int  # one past the closing brace


_SPECIAL = re.compile(r"\$\$\{|%%\{|\$\{|%\{")


# An HCL heredoc inside a sequence (``${ <<EOT`` newline ... ``EOT``): its body is a string.
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_-]*)\r?\n")


def _heredoc_end(text: str, start: int) -> int:
    """Index just past the line that ends the heredoc opened at ``start`` (or ``len(text)``
    when it never ends: the caller's check then fails on what follows)."""
    match = _HEREDOC.match(text, start)
    assert match is not None
    end = re.compile(rf"^[ \t]*{re.escape(match.group(1))}[ \t]*(?:\r?\n|$)", re.M)
    found = end.search(text, match.end())
    return found.end() if found else len(text)


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
            elif ch == "\n":
                break  # a quoted string cannot span lines: the sequence is broken
        elif ch == '"':
            quote = True
        elif text.startswith("/*", i):  # an HCL block comment: its braces and quotes are text
            close = text.find("*/", i + 2)
            if close == -1:
                break
            i = close + 2
            continue
        elif ch == "<" and _HEREDOC.match(text, i):
            i = _heredoc_end(text, i)
            continue
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise TemplateSyntaxError("unterminated template sequence (no closing '}'): write $${ "
                              "or %%{ for a literal ${ or %{", start - 2)


def scan(text: str) -> Iterator[Token]:
    """The template sequences of ``text`` in order (``TemplateSyntaxError`` when one of them
    is never closed)."""
    pos = 0
    while True:
        match = _SPECIAL.search(text, pos)
        if not match:
            return
        seq = match.group(0)
        if seq in ("$${", "%%{"):
            yield Token("escape", match.start(), match.end())
            pos = match.end()
            continue
        end = _close(text, match.end())
        yield Token("interp" if seq == "${" else "directive", match.start(), end)
        pos = end


_scan = scan  # the name other modules used


def neutralise(text: str) -> str:
    """Turn a Terraform template into the YAML it stands for, keeping line numbers.

    Documented rule: a line holding only directives/interpolations (``%{ for k, v in m ~}``,
    ``${indent(4, extra)}``) becomes an empty line; any other interpolation becomes the plain
    word ``TF_INTERPOLATION``; other directives vanish; ``$${`` and ``%%{`` become ``${`` and
    ``%{``. Newlines inside a sequence are kept so line N of the result is line N of the input.
    """
    out: list[str] = []
    pos = 0
    tokens = list(scan(text))
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


def _lone_lines(text: str, tokens: list[Token]) -> set[int]:
    """Start offsets of sequences that, with others, are all there is on their line(s)."""
    lone: set[int] = set()
    by_line: dict[int, list[Token]] = {}
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


# --- validation: what templatefile() rejects ------------------------------------------------

@dataclass(frozen=True)
class Directive:
    """One ``%{ ... }`` directive: its keyword and where it is."""

    keyword: str  # if | else | endif | for | endfor
    start: int
    end: int
    text: str


def directives(text: str) -> list[Directive]:
    """The directives of ``text`` in order (their expressions are not checked here)."""
    out = []
    for token in scan(text):
        if token.kind != "directive":
            continue
        body = _strip_markers(text[token.start + 2:token.end - 1])
        keyword = body.split(None, 1)[0] if body.split() else ""
        out.append(Directive(keyword, token.start, token.end, text[token.start:token.end]))
    return out


def _strip_markers(body: str) -> str:
    """The content of a sequence without its ``~`` whitespace-strip markers."""
    body = body[1:] if body.startswith("~") else body
    body = body[:-1] if body.endswith("~") else body
    return body.strip()


def validate(text: str, variables: frozenset[str] | None = None) -> list[tuple[int, str]]:
    """(offset, message) for everything ``templatefile()`` would reject in ``text``.

    ``variables``: the names the template is called with; when given, an interpolation or
    directive reading another top-level name is reported too (Terraform fails on those,
    also inside YAML comments).
    """
    problems: list[tuple[int, str]] = []
    try:
        tokens = list(scan(text))
    except TemplateSyntaxError as exc:
        return [(exc.offset, str(exc))]
    stack: list[tuple[str, int, bool, frozenset[str]]] = []  # (kind, offset, else seen, locals)
    for token in tokens:
        if token.kind == "escape":
            continue
        raw = text[token.start + 2:token.end - 1]
        body = _strip_markers(raw)
        scope = frozenset().union(*(s[3] for s in stack)) if stack else frozenset()
        try:
            if token.kind == "interp":
                if not body:
                    raise _HclError("empty interpolation ${}: write $${} for a literal ${")
                names = _Expr(body).parse_all()
                _check_names(names, variables, scope)
                continue
            keyword, _, rest = body.partition(" ")
            rest = rest.strip()
            if keyword == "if":
                if not rest:
                    raise _HclError("%{ if } needs a condition")
                _check_names(_Expr(rest).parse_all(), variables, scope)
                stack.append(("if", token.start, False, frozenset()))
            elif keyword == "for":
                bound, names = _for_header(rest)
                _check_names(names, variables, scope)
                stack.append(("for", token.start, False, bound))
            elif keyword == "else":
                if rest:
                    raise _HclError("%{ else } takes nothing after 'else'")
                if not stack or stack[-1][0] != "if":
                    raise _HclError("%{ else } without an open %{ if }")
                if stack[-1][2]:
                    raise _HclError("second %{ else } for one %{ if }")
                stack[-1] = ("if", stack[-1][1], True, stack[-1][3])
            elif keyword in ("endif", "endfor"):
                if rest:
                    raise _HclError(f"%{{ {keyword} }} takes nothing after '{keyword}'")
                want = keyword[3:]
                if not stack:
                    raise _HclError(f"%{{ {keyword} }} without an open %{{ {want} }}")
                if stack[-1][0] != want:
                    other = text.count("\n", 0, stack[-1][1]) + 1
                    raise _HclError(f"%{{ {keyword} }} closes the %{{ {stack[-1][0]} }} of "
                                    f"line {other}: directives must nest")
                stack.pop()
            else:
                shown = keyword or body
                raise _HclError(f"unknown template directive %{{ {shown} }} (if, else, endif, "
                                "for, endfor); write %%{ for a literal %{")
        except _HclError as exc:
            problems.append((token.start, str(exc)))
    for kind, offset, _, _ in stack:
        problems.append((offset, f"%{{ {kind} }} is never closed by %{{ end{kind} }}"))
    problems.sort()
    return problems


def _check_names(names: set[str], variables: frozenset[str] | None,
                 scope: frozenset[str]) -> None:
    if variables is None:
        return
    unknown = sorted(n for n in names if n not in variables and n not in scope)
    if unknown:
        raise _HclError(f"unknown template variable '{unknown[0]}' (templatefile() fails on "
                        "names it is not given, also inside YAML comments)")


def _for_header(rest: str) -> tuple[frozenset[str], set[str]]:
    match = re.match(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*(?:,\s*([A-Za-z_][A-Za-z0-9_-]*)\s*)?in\s",
                     rest + " ")
    if not match:
        raise _HclError("%{ for } must read 'for NAME in EXPR' or 'for KEY, VALUE in EXPR'")
    expr = rest[match.end():].strip()
    if not expr:
        raise _HclError("%{ for ... in } needs a collection after 'in'")
    bound = frozenset(n for n in match.groups() if n)
    return bound, _Expr(expr).parse_all()


class _HclError(Exception):
    pass


# A small HCL expression grammar: enough to tell an expression from text that is not one.
_HCL_TOKEN = re.compile(r"""
    (?P<ws>\s+|/\*.*?\*/)
  | (?P<heredoc><<-?[A-Za-z_][A-Za-z0-9_-]*\r?\n)
  | (?P<num>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*(?:::[A-Za-z_][A-Za-z0-9_-]*)*)
  | (?P<str>")
  | (?P<op>\.\.\.|=>|==|!=|<=|>=|&&|\|\||[-+*/%!<>?:.,\[\](){}=])
""", re.X)
_BINARY = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"))


_ESCAPE = re.compile(r'\\(?:[nrt"\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})')


def _check_string(inner: str) -> None:
    """A quoted HCL string: only the escapes HCL knows (``\\n \\r \\t \\" \\\\``,
    ``\\uNNNN``, ``\\UNNNNNNNN``), and its content is itself a template (``"%{ endif }"``
    inside ``${ }`` is a directive without its ``if``)."""
    pos = inner.find("\\")
    while pos != -1:
        if not _ESCAPE.match(inner, pos):
            raise _HclError(f"invalid escape {inner[pos:pos + 2]!r} in a quoted string (HCL "
                            "knows \\n \\r \\t \\\" \\\\ \\uNNNN \\UNNNNNNNN)")
        pos = inner.find("\\", pos + (6 if inner[pos + 1] == "u" else
                                        10 if inner[pos + 1] == "U" else 2))
    if "${" in inner or "%{" in inner:
        nested = validate(inner)
        if nested:
            raise _HclError(f"in a quoted string (a template of its own): {nested[0][1]}")


class _Expr:
    """Recursive-descent check of one HCL expression; collects the top-level names read."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = self._lex(text)
        self.i = 0
        self.names: set[str] = set()

    def _lex(self, text: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            match = _HCL_TOKEN.match(text, pos)
            if not match:
                raise _HclError(f"not an expression: unexpected {text[pos:pos + 12]!r}")
            kind = match.lastgroup
            if kind == "str":
                end = self._string_end(text, match.end())
                _check_string(text[pos + 1:end - 1])
                out.append(("str", text[pos:end]))
                pos = end
                continue
            if kind == "heredoc":
                end = _heredoc_end(text, pos)
                if end == len(text) and not re.search(r"\n[ \t]*[A-Za-z_][A-Za-z0-9_-]*[ \t]*$",
                                                      text[pos:]):
                    raise _HclError("not an expression: a heredoc that never ends")
                out.append(("str", text[pos:end]))
                pos = end
                continue
            if kind != "ws":
                out.append((kind, match.group(kind)))
            pos = match.end()
        return out

    @staticmethod
    def _string_end(text: str, pos: int) -> int:
        depth = 0
        while pos < len(text):
            ch = text[pos]
            if ch == "\\":
                pos += 2
                continue
            if ch == "\n":
                break
            if text.startswith(("$${", "%%{"), pos):
                pos += 3
                continue
            if text.startswith(("${", "%{"), pos):
                depth += 1
                pos += 2
                continue
            if ch == "}" and depth:
                depth -= 1
            elif ch == '"' and not depth:
                return pos + 1
            pos += 1
        raise _HclError("not an expression: unterminated string")

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def at(self, value: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[1] == value and tok[0] in ("op", "ident")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise _HclError("not an expression: it ends too early"
                            + (f" (expected {value!r})" if value else ""))
        if value is not None and tok[1] != value:
            raise _HclError(f"not an expression: expected {value!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse_all(self) -> set[str]:
        if not self.tokens:
            raise _HclError("not an expression: nothing inside")
        self.expr()
        if self.peek() is not None:
            raise _HclError(f"not an expression: unexpected {self.peek()[1]!r}")
        return self.names

    def expr(self) -> None:
        self.binary(0)
        if self.at("?"):
            self.take("?")
            self.expr()
            self.take(":")
            self.expr()

    def binary(self, level: int) -> None:
        if level == len(_BINARY):
            self.unary()
            return
        self.binary(level + 1)
        while self.peek() is not None and self.peek()[0] == "op" \
                and self.peek()[1] in _BINARY[level]:
            self.take()
            self.binary(level + 1)

    def unary(self) -> None:
        if self.at("-") or self.at("!"):
            self.take()
            self.unary()
            return
        self.primary()
        self.postfix()

    def postfix(self) -> None:
        while True:
            if self.at("."):
                self.take(".")
                tok = self.take()
                if tok[0] not in ("ident", "num") and tok[1] != "*":
                    raise _HclError(f"not an expression: '.' followed by {tok[1]!r}")
            elif self.at("["):
                self.take("[")
                if self.at("*"):
                    self.take("*")
                else:
                    self.expr()
                self.take("]")
            else:
                return

    def primary(self) -> None:
        tok = self.take()
        kind, value = tok
        if kind in ("num", "str"):
            return
        if kind == "ident":
            if self.at("("):
                self.call()
            elif value not in ("true", "false", "null"):
                self.names.add(value)
            return
        if value == "(":
            self.expr()
            self.take(")")
            return
        if value == "[":
            self.collection("]")
            return
        if value == "{":
            self.collection("}")
            return
        raise _HclError(f"not an expression: unexpected {value!r}")

    def call(self) -> None:
        self.take("(")
        while not self.at(")"):
            self.expr()
            if self.at("..."):
                self.take("...")
                break
            if not self.at(","):
                break
            self.take(",")
        self.take(")")

    def collection(self, close: str) -> None:
        if self.at("for"):
            self.for_expr(close)
            return
        while not self.at(close):
            if self.peek() is None:
                raise _HclError(f"not an expression: {close!r} missing")
            following = self.peek(1)
            if close == "}" and self.peek()[0] == "ident" and following is not None \
                    and following[1] in ("=", ":"):
                self.take()  # a bare object key is a literal name, not a variable
            else:
                self.expr()
            if close == "}":
                if not (self.at("=") or self.at(":")):
                    raise _HclError("not an expression: object item needs '=' or ':'")
                self.take()
                self.expr()
            if self.at(","):
                self.take(",")
            elif not self.at(close):
                raise _HclError(f"not an expression: expected ',' or {close!r}")
        self.take(close)

    def for_expr(self, close: str) -> None:
        self.take("for")
        bound = {self.take()[1]}
        if self.at(","):
            self.take(",")
            bound.add(self.take()[1])
        self.take("in")
        self.expr()
        self.take(":")
        outer = self.names
        self.names = set()
        self.expr()
        if close == "}":
            self.take("=>")
            self.expr()
            if self.at("..."):
                self.take("...")
        if self.at("if"):
            self.take("if")
            self.expr()
        self.names = outer | (self.names - bound)
        self.take(close)


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
