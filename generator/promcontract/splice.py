"""Put a rendered rule group into a Helm values template, byte-stable outside it.

The template is handled as lines, never re-serialised, so comments, ordering, CRLF, trailing
whitespace, a BOM and a missing final newline outside the group survive exactly. Structure
(``serverFiles: -> alerting_rules.yml: -> groups:``) is found from indentation; Terraform
directive lines (``%{ ... }``), blank lines and comments never end a block.

Ownership rules (what is ours to replace):
  * with markers: everything from ``# BEGIN promcontract group: NAME`` to its ``# END`` line;
  * without markers (first render, adopting a hand-written group): the group's ``- name:``
    item line and every line indented deeper than it, up to its last non-blank such line.
    Comment lines at or left of the item indentation, and blank lines between groups, are the
    user's (they document the next group).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from promcontract.errors import Location, Problem, UserError

BEGIN = "# BEGIN promcontract group: "
END = "# END promcontract group: "
_MARKER_RE = re.compile(r"^\s*# (BEGIN|END) promcontract group: (.*?)\s*$")
_DIRECTIVE_RE = re.compile(r"^\s*%\{.*\}\s*$")
_KEY_RE = r"^(\s*)(?:{key}|\"{key}\"|'{key}')\s*:(?:\s+(?P<rest>.*?))?\s*$"
PATH = ("serverFiles", "alerting_rules.yml", "groups")


class Line:
    """One template line; indentation and "carries structure?" are computed once."""

    __slots__ = ("text", "ending", "indent", "neutral")

    def __init__(self, text: str, ending: str):
        self.text = text  # without its line ending
        self.ending = ending  # "\n", "\r\n" or "" (last line without final newline)
        stripped = text.lstrip(" ")
        self.indent = len(text) - len(stripped)
        # Blank, comment or Terraform directive: carries no YAML structure.
        self.neutral = (not stripped.strip() or stripped.startswith("#")
                        or (stripped.startswith("%{") and bool(_DIRECTIVE_RE.match(text))))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Line) and (self.text, self.ending) == (other.text, other.ending)

    def __repr__(self) -> str:
        return f"Line({self.text!r}, {self.ending!r})"


def split_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        if nl == -1:
            lines.append(Line(text[pos:], ""))
            break
        body = text[pos:nl]
        if body.endswith("\r"):
            lines.append(Line(body[:-1], "\r\n"))
        else:
            lines.append(Line(body, "\n"))
        pos = nl + 1
    return lines


def join_lines(lines: list[Line]) -> str:
    return "".join(line.text + line.ending for line in lines)


@dataclass(frozen=True)
class GroupsList:
    """Where the ``groups:`` list of ``alerting_rules.yml`` sits in the template."""

    key_line: int  # index of the `alerting_rules.yml:` line
    groups_line: int  # index of the `groups:` line
    start: int  # first line of the list block
    end: int  # one past its last line
    item_indent: int
    step: int  # the file's own indentation step


@dataclass(frozen=True)
class Item:
    name: str | None
    start: int
    end: int  # one past the last line that belongs to the group


def _block_end(lines: list[Line], start: int, indent: int, *, seq_ok: bool = False) -> int:
    """One past the last line of the block opened by a key at ``indent`` on line start-1."""
    end = start
    i = start
    while i < len(lines):
        line = lines[i]
        if not line.neutral:
            if line.indent < indent or (
                line.indent == indent and not (seq_ok and line.text.lstrip().startswith("-"))
            ):
                break
            end = i + 1
        i += 1
    return end


def _find_key(lines: list[Line], start: int, end: int, key: str) -> tuple[int, int] | None:
    """(line index, indent) of ``key:`` among the direct children of lines[start:end]."""
    child_indent: int | None = None
    pattern = re.compile(_KEY_RE.format(key=re.escape(key)))
    for i in range(start, end):
        line = lines[i]
        if line.neutral:
            continue
        if child_indent is None:
            child_indent = line.indent
        if line.indent != child_indent:
            continue
        if pattern.match(line.text):
            return i, line.indent
    return None


def locate_groups(lines: list[Line], file: str) -> GroupsList:
    start, end, parent_indent = 0, len(lines), -1
    found: list[int] = []
    indents: list[int] = []
    for key in PATH:
        hit = _find_key(lines, start, end, key)
        if hit is None:
            where = ".".join(PATH[: len(found)]) or "the top level"
            raise UserError(Problem(Location(file, (found[-1] + 1) if found else 1, 1),
                                    f"no '{key}:' under {where}; cannot find "
                                    "serverFiles.alerting_rules.yml.groups", ".".join(PATH)))
        index, indent = hit
        rest = re.match(_KEY_RE.format(key=re.escape(key)), lines[index].text).group("rest")
        if rest and not rest.startswith("#") and rest not in ("|", "|-", "|+"):
            raise UserError(Problem(Location(file, index + 1, indent + 1),
                                    f"'{key}:' must be followed by an indented block, "
                                    f"found {rest!r} on the same line", ".".join(PATH)))
        found.append(index)
        indents.append(indent)
        parent_indent = indent
        start = index + 1
        end = _block_end(lines, start, indent, seq_ok=(key == "groups"))
    groups_line = found[-1]
    step = indents[-1] - indents[-2] if indents[-1] > indents[-2] else 2
    item_indent = None
    for i in range(start, end):
        if not lines[i].neutral:
            item_indent = lines[i].indent
            if not lines[i].text.lstrip().startswith("-"):
                raise UserError(Problem(Location(file, i + 1, item_indent + 1),
                                        "expected a list item ('- name: ...') under groups:",
                                        ".".join(PATH)))
            break
    if item_indent is None:
        item_indent = parent_indent + step
    return GroupsList(found[1], groups_line, start, end, item_indent, step)


_NAME_RE = re.compile(r"^\s*(?:-\s+)?name\s*:\s*(?P<value>.*?)\s*$")


def _scalar(text: str) -> str:
    text = re.sub(r"\s+#.*$", "", text)
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return str(value) if value is not None else ""


def list_items(lines: list[Line], groups: GroupsList) -> list[Item]:
    items: list[Item] = []
    starts = [i for i in range(groups.start, groups.end)
              if not lines[i].neutral and lines[i].indent == groups.item_indent
              and lines[i].text.lstrip().startswith("-")]
    # Deeper-indented comments after the last group still belong to it: look past the list's
    # last structural line, up to the next one.
    after = next((i for i in range(groups.end, len(lines)) if not lines[i].neutral), len(lines))
    for n, start in enumerate(starts):
        limit = starts[n + 1] if n + 1 < len(starts) else after
        end = start + 1
        name: str | None = None
        for i in range(start, limit):
            line = lines[i]
            if i > start and not line.neutral and line.indent <= groups.item_indent:
                break
            if i > start and line.text.strip() and line.text.lstrip().startswith("#") \
                    and line.indent <= groups.item_indent:
                break
            if line.text.strip() and not _DIRECTIVE_RE.match(line.text):
                end = i + 1
            match = _NAME_RE.match(line.text)
            if name is None and match and (i == start or line.indent == groups.item_indent + 2
                                           or line.indent == groups.item_indent + groups.step):
                name = _scalar(match.group("value"))
        items.append(Item(name, start, end))
    return items


def _markers(lines: list[Line], group: str) -> tuple[list[int], list[int]]:
    begins, ends = [], []
    for i, line in enumerate(lines):
        match = _MARKER_RE.match(line.text)
        if match and match.group(2) == group:
            (begins if match.group(1) == "BEGIN" else ends).append(i)
    return begins, ends


def indent_block(block: str, indent: int) -> list[str]:
    """Lines of ``block`` (rendered at column 0) moved to the list's item indentation.

    Inside the group the rendered 2-space step is kept: YAML only needs it consistent within
    the block, and keys under ``- `` must sit 2 columns right of the dash whatever the file's
    step is.
    """
    out = []
    for raw in block.split("\n"):
        out.append(" " * indent + raw if raw.strip() else "")
    while out and out[-1] == "":
        out.pop()
    return out


def splice(text: str, group: str, block: str, file: str) -> str:
    """Return ``text`` with the group ``group`` replaced by (or appended as) ``block``.

    ``block`` is the group rendered at column 0 (from ``- name:``), without markers.
    """
    bom = text.startswith("\ufeff")
    body = text[1:] if bom else text
    lines = split_lines(body)
    groups = locate_groups(lines, file)
    newline = lines[groups.groups_line].ending or (
        "\r\n" if any(line.ending == "\r\n" for line in lines) else "\n")
    begins, ends = _markers(lines, group)
    items = [item for item in list_items(lines, groups) if item.name == group]
    new = [BEGIN + group] + block.split("\n") + [END + group]
    new_lines = indent_block("\n".join(new), groups.item_indent)

    if begins or ends:
        _check_markers(begins, ends, group, file, groups)
        start, end = begins[0], ends[0] + 1
        outside = [it for it in items if not (start <= it.start < end)]
        if outside:
            raise UserError(Problem(Location(file, outside[0].start + 1, 1),
                                    f"group '{group}' is also defined outside its "
                                    f"promcontract markers (lines {start + 1}-{end})", "groups"))
    elif len(items) > 1:
        raise UserError(Problem(Location(file, items[1].start + 1, 1),
                                f"group '{group}' is defined twice (also line "
                                f"{items[0].start + 1}); cannot tell which to replace", "groups"))
    elif items:
        start, end = items[0].start, items[0].end
    else:
        # Append after the last group's own lines (the user's trailing comments stay after).
        existing = list_items(lines, groups)
        start = end = existing[-1].end if existing else groups.groups_line + 1
    last_ending = lines[end - 1].ending if end > start else (
        lines[start - 1].ending if start > 0 else newline)
    replacement = [Line(text_, newline) for text_ in new_lines]
    if end > start:
        replacement[-1] = Line(replacement[-1].text, last_ending)
        result = lines[:start] + replacement + lines[end:]
    else:
        before = lines[:start]
        if before and before[-1].ending == "":
            # Appending after a last line that had no final newline: that line needs one;
            # the file keeps having no final newline.
            before[-1] = Line(before[-1].text, newline)
            replacement[-1] = Line(replacement[-1].text, "")
        result = before + replacement + lines[start:]
    return ("\ufeff" if bom else "") + join_lines(result)


def _check_markers(begins: list[int], ends: list[int], group: str, file: str,
                   groups: GroupsList) -> None:
    def fail(line: int, message: str) -> None:
        raise UserError(Problem(Location(file, line + 1, 1), message, "markers"))

    if len(begins) > 1:
        fail(begins[1], f"duplicate BEGIN marker for group '{group}' (first on line "
             f"{begins[0] + 1})")
    if len(ends) > 1:
        fail(ends[1], f"duplicate END marker for group '{group}' (first on line {ends[0] + 1})")
    if not ends:
        fail(begins[0], f"BEGIN marker for group '{group}' has no END marker")
    if not begins:
        fail(ends[0], f"END marker for group '{group}' has no BEGIN marker")
    if ends[0] < begins[0]:
        fail(ends[0], f"END marker for group '{group}' comes before its BEGIN marker "
             f"(line {begins[0] + 1})")
    for index in (begins[0], ends[0]):
        if not (groups.groups_line < index < max(groups.end, ends[0] + 1)):
            fail(index, f"marker for group '{group}' is outside "
                 "serverFiles.alerting_rules.yml.groups")


def extract_alerting_rules(text: str, file: str) -> tuple[str, int]:
    """The ``alerting_rules.yml`` value as its own YAML text, and its first line's number.

    Line N of the returned text is line N + offset of the template, so tools' line numbers map
    back. The caller neutralises Terraform syntax.
    """
    body = text[1:] if text.startswith("\ufeff") else text
    lines = split_lines(body)
    groups = locate_groups(lines, file)
    key_indent = lines[groups.key_line].indent
    start = groups.key_line + 1
    end = _block_end(lines, start, key_indent)
    content = [line for line in lines[start:end] if not line.neutral]
    dedent = min((line.indent for line in content), default=0)
    out = []
    for line in lines[start:end]:
        out.append(line.text[dedent:] if line.text[:dedent].strip() == "" else line.text.lstrip())
    return "\n".join(out) + "\n", start
