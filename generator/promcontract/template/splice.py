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

Where a group that is not in the template yet goes (never inside another group's block, never
inside a Terraform ``%{ if }`` / ``%{ for }``, where it would vanish when the condition is
false): just above a line ``# promcontract: new groups`` when the list has one; otherwise after
the last group of the list that is outside every block and directive (after the whole block,
for a promcontract block); when there is none, first in the list. A template with no such
place is refused with a message that says how to add the anchor.

Names are compared after Terraform un-escaping (``$${`` reads ``${``), and marker comments are
written escaped: Terraform evaluates YAML comments too.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

import yaml

from promcontract.problems import Location, Problem, UserError
from promcontract.template import tfescape

BEGIN = "# BEGIN promcontract group: "
END = "# END promcontract group: "
ANCHOR = "# promcontract: new groups"
_MARKER_RE = re.compile(
    r"^\s*# (BEGIN|END) promcontract group: (.*?)(?:\s+\[contract: ([^\]\s]+)\])?\s*$")
# The BEGIN marker names the contract that owns the block, so a contract whose group is
# renamed replaces its own block (instead of leaving the old one deployed beside the new).
OWNER = " [contract: {}]"
_ANCHOR_RE = re.compile(r"^\s*# promcontract: new groups\b")


def is_marker(line: str) -> bool:
    """A BEGIN/END marker or the new-groups anchor: promcontract's lines, not the user's."""
    return bool(_MARKER_RE.match(line) or _ANCHOR_RE.match(line))

_DIRECTIVE_RE = re.compile(r"^\s*%\{.*\}\s*$")
_KEY_RE = r"^(\s*)(?:{key}|\"{key}\"|'{key}')\s*:(?:\s+(?P<rest>.*?))?\s*$"
PATH = ("serverFiles", "alerting_rules.yml", "groups")
ANCHOR_HINT = (f"add a line '{ANCHOR}' at the groups' indentation where new groups belong, "
               "outside every promcontract block and Terraform %{ if }/%{ for }")


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
    name: str | None  # as Terraform renders it ($${ read as ${)
    start: int
    end: int  # one past the last line that belongs to the group


@dataclass(frozen=True)
class Block:
    """A promcontract block: the BEGIN marker line to the END marker line (inclusive)."""

    name: str
    begin: int
    end: int  # index of the END line
    contract: str | None = None  # the owner named on the BEGIN line (older markers: none)

    def contains(self, index: int) -> bool:
        return self.begin < index < self.end


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
                name = _scalar(tfescape.unescape(match.group("value")))
        items.append(Item(name, start, end))
    return items


@dataclass
class Layout:
    """What the splice and the audit need to know about a template, computed once."""

    file: str
    lines: list[Line]
    groups: GroupsList
    items: list[Item]
    markers: list[tuple[int, str, str]]  # (line index, BEGIN|END, group name)
    blocks: list[Block]
    depth: list[int]  # open Terraform directives before each line index (len(lines) + 1)
    opened: list[int | None]  # innermost open directive's line before each line index
    anchors: list[int]
    problems: list[Problem] = field(default_factory=list)  # unpaired or crossed markers

    def enclosing(self, index: int, exclude: Block | None = None) -> Block | None:
        """The block whose inside holds line ``index`` (another than ``exclude``)."""
        for block in self.blocks:
            if block is not exclude and block.contains(index):
                return block
        return None


def analyse(text: str, file: str) -> Layout:
    """The template's groups list, its blocks, anchors and Terraform directive nesting."""
    body = text[1:] if text.startswith("\ufeff") else text
    lines = split_lines(body)
    groups = locate_groups(lines, file)
    items = list_items(lines, groups)
    markers: list[tuple[int, str, str]] = []
    owners: dict[int, str] = {}
    anchors: list[int] = []
    for i, line in enumerate(lines):
        match = _MARKER_RE.match(line.text)
        if match:
            markers.append((i, match.group(1), tfescape.unescape(match.group(2))))
            if match.group(1) == "BEGIN" and match.group(3):
                owners[i] = match.group(3)
        elif _ANCHOR_RE.match(line.text):
            anchors.append(i)
    blocks: list[Block] = []
    problems: list[Problem] = []
    stack: list[tuple[int, str]] = []
    for index, kind, name in markers:
        if kind == "BEGIN":
            stack.append((index, name))
            continue
        if stack and stack[-1][1] == name:
            begin, _ = stack.pop()
            blocks.append(Block(name, begin, index, owners.get(begin)))
        elif any(n == name for _, n in stack):
            # closes a block that is not the innermost: the markers cross
            inner = stack[-1]
            problems.append(Problem(Location(file, index + 1, 1),
                                    f"END marker for group '{name}' closes its block while the "
                                    f"block of group '{inner[1]}' (line {inner[0] + 1}) is still "
                                    "open: the markers cross", "markers"))
            while stack and stack[-1][1] != name:
                stack.pop()
            begin, _ = stack.pop()
            blocks.append(Block(name, begin, index, owners.get(begin)))
    depth, opened = _directive_depth(body, lines, file)
    return Layout(file, lines, groups, items, markers, blocks, depth, opened, anchors, problems)


def _directive_depth(body: str, lines: list[Line], file: str
                     ) -> tuple[list[int], list[int | None]]:
    starts = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line.text) + len(line.ending)
    try:
        found = tfescape.directives(body)
    except tfescape.TemplateSyntaxError as exc:
        line, col = tfescape.line_col(body, max(exc.offset, 0))
        raise UserError(Problem(Location(file, line, col), str(exc))) from None
    change: dict[int, list[str]] = {}
    for directive in found:
        index = bisect.bisect_right(starts, directive.start) - 1
        change.setdefault(index, []).append(directive.keyword)
    depth = [0] * (len(lines) + 1)
    opened: list[int | None] = [None] * (len(lines) + 1)
    stack: list[int] = []
    for i in range(len(lines)):
        depth[i] = len(stack)
        opened[i] = stack[-1] if stack else None
        for keyword in change.get(i, ()):
            if keyword in ("if", "for"):
                stack.append(i)
            elif keyword in ("endif", "endfor") and stack:
                stack.pop()
    depth[len(lines)] = len(stack)
    opened[len(lines)] = stack[-1] if stack else None
    return depth, opened


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


def splice(text: str, group: str, block: str, file: str, contract: str | None = None) -> str:
    """Return ``text`` with the group ``group`` replaced by (or inserted as) ``block``."""
    return splice_report(text, group, block, file, contract)[0]


def splice_report(text: str, group: str, block: str, file: str,
                  contract: str | None = None) -> tuple[str, list[str]]:
    """``splice``, and a line per thing the user should know (a hand-written group that was
    replaced, what it held that is gone, a block left inside a Terraform condition).

    ``block`` is the group rendered at column 0 (from ``- name:``), Terraform-escaped, without
    markers; ``group`` is the group's name as Terraform renders it; ``contract`` the id of the
    contract that owns it, written on the BEGIN marker: a block of that contract under another
    name (its group was renamed) is replaced, not left beside the new one.
    """
    bom = text.startswith("\ufeff")
    layout = analyse(text, file)
    lines = layout.lines
    notes: list[str] = []
    newline = lines[layout.groups.groups_line].ending or (
        "\r\n" if any(line.ending == "\r\n" for line in lines) else "\n")
    found_as = group
    if contract is not None and not any(name == group for _, _, name in layout.markers):
        renamed = [b for b in layout.blocks if b.contract == contract]
        if len(renamed) == 1:
            found_as = renamed[0].name
            notes.append(f"{file}:{renamed[0].begin + 1}: the block of contract '{contract}' "
                         f"was group '{found_as}'; renamed to '{group}'")
    begins = [i for i, kind, name in layout.markers if name == found_as and kind == "BEGIN"]
    ends = [i for i, kind, name in layout.markers if name == found_as and kind == "END"]
    items = [item for item in layout.items if item.name == group]
    escaped = tfescape.escape(group)
    owner = OWNER.format(contract) if contract is not None else ""
    new = [BEGIN + escaped + owner] + block.rstrip("\n").split("\n") + [END + escaped]
    new_lines = indent_block("\n".join(new), layout.groups.item_indent)

    if begins or ends:
        _check_markers(begins, ends, found_as, file, layout.groups)
        if layout.problems:
            raise UserError(layout.problems[0])
        start, end = begins[0], ends[0] + 1
        own = next((b for b in layout.blocks if b.begin == start), None)
        if own is None:
            raise UserError(Problem(Location(file, start + 1, 1), f"the markers of group "
                                    f"'{group}' do not pair up with the others", "markers"))
        _refuse_nesting(layout, own)
        outside = [it for it in items if not (start <= it.start < end)]
        if outside:
            raise UserError(Problem(Location(file, outside[0].start + 1, 1),
                                    f"group '{group}' is also defined outside its "
                                    f"promcontract markers (lines {start + 1}-{end})", "groups"))
        strangers = [it for it in layout.items
                     if start < it.start < end and it.name not in (group, found_as)]
        if strangers:
            raise UserError(Problem(Location(file, strangers[0].start + 1, 1),
                                    f"group '{strangers[0].name}' sits inside the promcontract "
                                    f"block of group '{group}' (lines {start + 1}-{end}): a "
                                    "render would delete it; move it out of the block",
                                    "groups"))
        if layout.depth[start]:
            notes.append(_in_directive_note(layout, group, start))
    elif len(items) > 1:
        raise UserError(Problem(Location(file, items[1].start + 1, 1),
                                f"group '{group}' is defined twice (also line "
                                f"{items[0].start + 1}); cannot tell which to replace", "groups"))
    elif items:
        start, end = items[0].start, items[0].end
        holder = layout.enclosing(start)
        if holder is not None:
            raise UserError(Problem(Location(file, start + 1, 1),
                                    f"group '{group}' sits inside the promcontract block of "
                                    f"group '{holder.name}' (lines {holder.begin + 1}-"
                                    f"{holder.end + 1}); move it out before rendering", "groups"))
        if layout.depth[start] != layout.depth[end]:
            raise UserError(Problem(Location(file, start + 1, 1),
                                    f"hand-written group '{group}' (lines {start + 1}-{end}) "
                                    "opens or closes a Terraform directive; replacing it would "
                                    "unbalance the template", "groups"))
        notes.append(_adoption_note(layout, group, start, end))
        if layout.depth[start]:
            notes.append(_in_directive_note(layout, group, start))
    else:
        start = end = _insertion_point(layout, group)
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
    return ("\ufeff" if bom else "") + join_lines(result), notes


def _insertion_point(layout: Layout, group: str) -> int:
    """Where a group that is not in the template yet goes (see the module docstring)."""
    file, groups = layout.file, layout.groups
    if len(layout.anchors) > 1:
        raise UserError(Problem(Location(file, layout.anchors[1] + 1, 1),
                                f"second '{ANCHOR}' line (first on line "
                                f"{layout.anchors[0] + 1}); keep one", "groups"))
    if layout.anchors:
        anchor = layout.anchors[0]
        if not groups.groups_line < anchor < _list_limit(layout):
            raise UserError(Problem(Location(file, anchor + 1, 1),
                                    f"'{ANCHOR}' is outside serverFiles.alerting_rules.yml."
                                    "groups", "groups"))
        holder = layout.enclosing(anchor)
        if holder is not None:
            raise UserError(Problem(Location(file, anchor + 1, 1),
                                    f"'{ANCHOR}' is inside the promcontract block of group "
                                    f"'{holder.name}' (lines {holder.begin + 1}-"
                                    f"{holder.end + 1}): a render of that group would delete "
                                    "what is placed there; move the anchor out", "groups"))
        if layout.depth[anchor]:
            raise UserError(Problem(Location(file, anchor + 1, 1),
                                    f"'{ANCHOR}' is inside the Terraform directive of line "
                                    f"{layout.opened[anchor] + 1}: a group placed there "
                                    "vanishes when its condition is false; move the anchor "
                                    "out", "groups"))
        return anchor
    candidates = [groups.groups_line + 1]
    for block in layout.blocks:
        candidates.append(block.end + 1)
    for item in layout.items:
        candidates.append(item.end)
    safe = [c for c in candidates if layout.depth[c] == 0
            and not any(b.begin < c <= b.end for b in layout.blocks)]
    if not safe:
        where = layout.opened[groups.groups_line + 1]
        detail = (f" (the list is inside the Terraform directive of line {where + 1})"
                  if where is not None else "")
        raise UserError(Problem(Location(file, groups.groups_line + 1, 1),
                                f"no place for new group '{group}' outside promcontract blocks "
                                f"and Terraform directives{detail}; {ANCHOR_HINT}", "groups"))
    return max(safe)


def _list_limit(layout: Layout) -> int:
    """The first structural line after the groups list (an anchor must come before it)."""
    end = layout.groups.end
    return next((i for i in range(end, len(layout.lines)) if not layout.lines[i].neutral),
                len(layout.lines))


def _refuse_nesting(layout: Layout, own: Block) -> None:
    holder = layout.enclosing(own.begin, exclude=own)
    if holder is not None:
        raise UserError(Problem(Location(layout.file, own.begin + 1, 1),
                                f"the block of group '{own.name}' is inside the block of group "
                                f"'{holder.name}' (lines {holder.begin + 1}-{holder.end + 1}): "
                                f"a render of '{holder.name}' would delete it; move its "
                                "BEGIN..END lines out of that block", "markers"))
    for other in layout.blocks:
        if other is not own and own.contains(other.begin):
            raise UserError(Problem(Location(layout.file, other.begin + 1, 1),
                                    f"the block of group '{other.name}' is inside the block of "
                                    f"group '{own.name}' (lines {own.begin + 1}-{own.end + 1}): "
                                    f"a render of '{own.name}' would delete it; move its "
                                    "BEGIN..END lines out of that block", "markers"))


def _adoption_note(layout: Layout, group: str, start: int, end: int) -> str:
    lines = layout.lines[start:end]
    comments = sum(1 for line in lines if line.text.lstrip().startswith("#"))
    directives = sum(1 for line in lines if _DIRECTIVE_RE.match(line.text))
    dropped = f"{comments} comment line{'s' if comments != 1 else ''}"
    if directives:
        dropped += f" and {directives} Terraform directive line{'s' if directives != 1 else ''}"
    return (f"{layout.file}:{start + 1}: adopted the hand-written group '{group}' (lines "
            f"{start + 1}-{end}, {end - start} lines): replaced by the rendered group, dropping "
            f"{dropped}; `git diff {layout.file}` shows what was there")


def _in_directive_note(layout: Layout, group: str, start: int) -> str:
    where = layout.opened[start]
    return (f"{layout.file}:{start + 1}: warning: group '{group}' is inside the Terraform "
            f"directive of line {where + 1} ({layout.lines[where].text.strip()}): it is "
            "deployed only when that condition holds; `promcontract check` fails until its "
            "block is moved out")


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


def audit(text: str, groups: list[tuple[str, str]], file: str) -> list[Problem]:
    """What `check` fails on, per contract group (name, contract file): the group missing
    from the template, present twice, its block inside another block (or another inside it),
    or inside a Terraform directive (deployed only when a condition holds)."""
    layout = analyse(text, file)
    problems = list(layout.problems)
    for group, source in groups:
        blocks = [b for b in layout.blocks if b.name == group]
        items = [it for it in layout.items if it.name == group]
        begins = [i for i, kind, name in layout.markers if name == group and kind == "BEGIN"]
        where = f"group '{group}' of {source}"
        if not blocks and not items and not begins:
            problems.append(Problem(Location(file, layout.groups.groups_line + 1, 1),
                                    f"{where} is not in the template: its alerts are not "
                                    "deployed; run make rules (promcontract render)", "groups"))
            continue
        if len(begins) > 1 or len(items) > 1:
            second = (begins[1] if len(begins) > 1 else items[1].start) + 1
            problems.append(Problem(Location(file, second, 1),
                                    f"{where} is in the template twice (first on line "
                                    f"{(begins or [items[0].start])[0] + 1})", "groups"))
        # where the group starts: its block, or a hand-written item outside its block
        starts = [(b.begin, b) for b in blocks] + [
            (it.start, None) for it in items if not any(b.begin < it.start < b.end
                                                       for b in blocks)]
        for start, own in starts:
            holder = layout.enclosing(start, exclude=own)
            if holder is not None:
                problems.append(Problem(Location(file, start + 1, 1),
                                        f"{where} is inside the block of group "
                                        f"'{holder.name}' (lines {holder.begin + 1}-"
                                        f"{holder.end + 1}): the next render of "
                                        f"'{holder.name}' deletes it", "groups"))
        first = blocks[0].begin if blocks else items[0].start if items else begins[0]
        if layout.depth[first]:
            opened = layout.opened[first]
            problems.append(Problem(Location(file, first + 1, 1),
                                    f"{where} is inside the Terraform directive of line "
                                    f"{opened + 1} ({layout.lines[opened].text.strip()}): it "
                                    "is deployed only when that condition holds; move its block "
                                    "out of the directive", "groups"))
    problems.sort(key=lambda p: (p.location.line or 0, p.message))
    return problems


def orphan_blocks(text: str, groups: set[str], file: str,
                  contracts: set[str] | None = None) -> list[Block]:
    """promcontract blocks no contract renders: its owner (named on the BEGIN line) is not
    among ``contracts``, or, for a block of older markers without an owner, its group is
    not among ``groups``."""
    layout = analyse(text, file)
    return [b for b in layout.blocks
            if (b.contract not in contracts if b.contract is not None and contracts is not None
                else b.name not in groups)]


def remove_blocks(text: str, blocks: list[Block]) -> str:
    """``text`` without the lines of ``blocks`` (BEGIN..END inclusive); all else byte-kept."""
    bom = text.startswith("\ufeff")
    body = text[1:] if bom else text
    lines = split_lines(body)
    drop = {i for b in blocks for i in range(b.begin, b.end + 1)}
    kept = [line for i, line in enumerate(lines) if i not in drop]
    if kept and lines and lines[-1].ending == "" and kept[-1].ending != "":
        kept[-1] = Line(kept[-1].text, "")  # the file still ends without a newline
    return ("\ufeff" if bom else "") + join_lines(kept)


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


def template_rules_text(tpl_text: str, tpl_path: str) -> tuple[str, int]:
    """``alerting_rules.yml`` from the template as plain YAML, and its line offset."""
    raw, start = extract_alerting_rules(tpl_text, tpl_path)
    try:
        return tfescape.neutralise(raw), start
    except tfescape.TemplateSyntaxError as exc:
        line = raw.count("\n", 0, max(exc.offset, 0)) + 1 + start
        raise UserError(Problem(Location(tpl_path, line), str(exc))) from None
