"""Safe YAML loading that remembers where every value came from.

The contract is loaded once, with ``yaml.safe_load`` semantics, and every mapping key and
value keeps its line and column so that schema and semantic errors can point at the exact
place in the user's file. Duplicate keys, which PyYAML silently accepts (last one wins), are
rejected here because a duplicated threshold would otherwise be lost without a word.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any

import yaml

from promcontract import inputs
from promcontract.problems import Location, Problem, UserError

# The C loader is ~10x faster; both are "safe" (no arbitrary object construction).
_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loading, with YAML 1.2 floats: ``1e6``, ``1.0e6`` and ``1e+6`` are numbers (YAML
    1.1, which pyyaml follows, reads a float only with a dot and a signed exponent)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))

# Aliases are expanded by construction: a few lines can stand for billions of nodes (a
# "billion laughs" document). Documents expanding beyond this are refused before that.
MAX_NODES = 200_000

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


def mapping_value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node under scalar ``key`` of a mapping node; None for anything else."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def check_expansion(node: yaml.Node, file: str, limit: int = MAX_NODES,
                    line_offset: int = 0) -> None:
    """Refuse a document whose aliases expand to more than ``limit`` nodes, or refer to
    themselves, before anything walks or constructs it (in time linear in its size).
    ``line_offset``: lines of ``file`` above the document (one embedded in a template)."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in open_:
            raise UserError(Problem(Location(file, n.start_mark.line + 1 + line_offset,
                                             n.start_mark.column + 1),
                                    "a YAML alias refers to the node that contains it "
                                    "(recursive document)"))
        open_.add(key)
        total = 1
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += size(k) + size(v)
        elif isinstance(n, yaml.SequenceNode):
            for item in n.value:
                total += size(item)
        open_.discard(key)
        sizes[key] = min(total, limit + 1)
        if total > limit:
            raise UserError(Problem(Location(file, n.start_mark.line + 1 + line_offset,
                                             n.start_mark.column + 1),
                                    f"YAML aliases expand this document beyond {limit:,} "
                                    "nodes (an alias bomb?); refused"))
        return sizes[key]

    size(node)


def yaml_problem(exc: yaml.YAMLError, file: str, prefix: str = "YAML syntax error",
                 line_offset: int = 0) -> Problem:
    """One located problem for PyYAML's ``exc`` (its mark shifted by ``line_offset`` lines,
    for YAML cut out of a larger file)."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Problem(Location(file, 1 + line_offset, 1), f"YAML error: {exc}")
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or exc.context or "invalid YAML"
    loc = (Location(file, mark.line + 1 + line_offset, mark.column + 1) if mark
           else Location(file))
    return Problem(loc, f"{prefix}: {what}")


def load_yaml_text(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document; raise ``UserError`` with a located message on any defect."""
    smap = SourceMap(file)
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise UserError(yaml_problem(exc, file)) from None
        except yaml.reader.ReaderError as exc:
            code = ord(exc.character) if isinstance(exc.character, str) else exc.character
            raise UserError(Problem(offset_location(text, file, exc.position),
                                    f"character U+{code:04X} is not allowed in YAML (a NUL "
                                    "byte or another control character)")) from None
        except yaml.YAMLError as exc:
            raise UserError(yaml_problem(exc, file)) from None
        if node is None:
            raise UserError(Problem(Location(file, 1, 1), "file is empty: expected a contract"))
        check_expansion(node, file)
        problems: list[Problem] = []
        _walk(node, (), smap, problems)
        if problems:
            raise UserError(problems)
        try:
            data = loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise UserError(yaml_problem(exc, file, "YAML error")) from None
    except RecursionError:
        raise UserError(Problem(Location(file, 1, 1), "YAML nested too deeply")) from None
    finally:
        loader.dispose()
    return data, smap


def offset_location(text: str, file: str, offset: int) -> Location:
    line = text.count("\n", 0, offset) + 1
    return Location(file, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def nul_problem(text: str, file: str) -> Problem | None:
    """A NUL byte (no text format here allows one; YAML and Terraform refuse it)."""
    index = text.find("\0")
    if index == -1:
        return None
    return Problem(offset_location(text, file, index), "NUL byte in a text file")


# The largest file promcontract reads (templates, contracts, payloads, results): a real
# 4,945-line values file is ~0.2 MB; a file many times that is a mistake (a log, a device, a
# disk image) and reading it whole would only exhaust memory.
MAX_FILE_BYTES = 64 * 1024 * 1024


def limit_text(limit: int | None = None) -> str:
    limit = MAX_FILE_BYTES if limit is None else limit
    return f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit}-byte"


def read_bytes_capped(handle, limit: int | None = None) -> bytes | None:  # noqa: ANN001
    """At most ``limit`` bytes from a binary stream; None when there are more."""
    limit = MAX_FILE_BYTES if limit is None else limit
    data = handle.read(limit + 1)
    return None if len(data) > limit else data


def read_text(path: str, *, is_input: bool = True) -> str:
    """Read a UTF-8 text file; unreadable or non-UTF-8 input is a located user error.

    Only a regular file of at most ``MAX_FILE_BYTES`` is read: ``/dev/zero`` or a FIFO would
    hold the run forever (a FIFO's open() blocks until a writer comes), an endless or huge
    file would exhaust memory. Every file read is noted as an input (``inputs``), so no output
    of the same run replaces it, unless ``is_input`` is false (an output's old content, read
    to compare).
    """
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise UserError(Problem(Location(path), "is not a regular file (a device, FIFO or "
                                    "socket); expected a file"))
        if st.st_size > MAX_FILE_BYTES:
            raise UserError(Problem(Location(path), f"file is {st.st_size} bytes, over the "
                                    f"{limit_text()} limit; not read"))
        # Permission bits count even for root, who can read anything: "unreadable" means it.
        if st.st_mode & 0o444 == 0:
            raise PermissionError(13, "Permission denied")
        with open(path, "rb") as handle:
            raw = read_bytes_capped(handle)
        if raw is None:  # it grew while we read it
            raise UserError(Problem(Location(path), f"file is over the {limit_text()} limit; "
                                    "not read"))
    except FileNotFoundError:
        raise UserError(Problem(Location(path), "file not found")) from None
    except IsADirectoryError:
        raise UserError(Problem(Location(path), "is a directory, expected a file")) from None
    except OSError as exc:
        raise UserError(Problem(Location(path), f"cannot read: {exc.strerror}")) from None
    if is_input:
        inputs.note(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserError(
            Problem(Location(path, line, col), f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})")
        ) from None
