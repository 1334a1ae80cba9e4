"""Safe YAML loading that remembers where every value came from.

The contract is loaded once, with ``yaml.safe_load`` semantics, and every mapping key and
value keeps its line and column so that schema and semantic errors can point at the exact
place in the user's file. Duplicate keys, which PyYAML silently accepts (last one wins), are
rejected here because a duplicated threshold would otherwise be lost without a word.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from promcontract.errors import Location, Problem, UserError

# The C loader is ~10x faster; both are "safe" (no arbitrary object construction).
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Positions of values (and of mapping keys) by their path in the document."""

    file: str
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> Location:
        """Location of ``path``; falls back to the nearest enclosing node that exists."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                line, col = table[probe]
                return Location(self.file, line, col)
            if probe in self.values:
                line, col = self.values[probe]
                return Location(self.file, line, col)
            probe = probe[:-1]
        line, col = self.values.get((), (1, 1))
        return Location(self.file, line, col)


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _walk(node: yaml.Node, path: Path, smap: SourceMap, problems: list[Problem]) -> None:
    smap.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                first = seen[key].start_mark.line + 1
                problems.append(
                    Problem(
                        Location(smap.file, key_node.start_mark.line + 1,
                                 key_node.start_mark.column + 1),
                        f"duplicate key '{key}' (first defined on line {first})",
                        format_path(path + (key,)),
                    )
                )
                continue
            seen[key] = key_node
            child = path + (key,)
            smap.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, child, smap, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), smap, problems)


def load_yaml_text(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document; raise ``UserError`` with a located message on any defect."""
    smap = SourceMap(file)
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
            what = exc.problem or exc.context or "invalid YAML"
            raise UserError(Problem(loc, f"YAML syntax error: {what}")) from None
        except yaml.YAMLError as exc:
            raise UserError(Problem(Location(file, 1, 1), f"YAML error: {exc}")) from None
        if node is None:
            raise UserError(Problem(Location(file, 1, 1), "file is empty: expected a contract"))
        problems: list[Problem] = []
        _walk(node, (), smap, problems)
        if problems:
            raise UserError(problems)
        try:
            data = loader.construct_document(node)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
            raise UserError(Problem(loc, f"YAML error: {exc.problem}")) from None
    finally:
        loader.dispose()
    return data, smap


def read_text(path: str) -> str:
    """Read a UTF-8 text file; unreadable or non-UTF-8 input is a located user error."""
    try:
        # Permission bits count even for root, who can read anything: "unreadable" means it.
        if os.path.isfile(path) and os.stat(path).st_mode & 0o444 == 0:
            raise PermissionError(13, "Permission denied")
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise UserError(Problem(Location(path), "file not found")) from None
    except IsADirectoryError:
        raise UserError(Problem(Location(path), "is a directory, expected a file")) from None
    except OSError as exc:
        raise UserError(Problem(Location(path), f"cannot read: {exc.strerror}")) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserError(
            Problem(Location(path, line, col), f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})")
        ) from None
