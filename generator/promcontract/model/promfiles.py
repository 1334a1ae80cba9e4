"""Prometheus rule files and promtool test files, read and written back as promtool reads them.

Mutation and characterization rewrite a user's files (one alert kept, one expression
changed) into a temp dir. A round trip through Python types would change what promtool sees:
YAML 1.1 reads ``code: 0x1F`` as 31 and ``values: 1e3`` as a float, while promtool's Go
decoder gives a string field the scalar's own text. So every scalar is kept as
:class:`Verbatim`: a ``str`` with its resolved tag and style, written back exactly as it was
read. Values the engine sets itself (a mutated ``expr``) are plain ``str``.
"""

from __future__ import annotations

import functools
import glob
import io
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from promcontract.durations import parse_duration
from promcontract.model.yamlsource import check_expansion, yaml_problem
from promcontract.model.yamlsource import read_text as read_user_text
from promcontract.problems import Location, Problem, UserError

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Verbatim(str):
    """A scalar as written: its text, YAML tag, style and line."""

    tag: str
    style: str | None
    line: int
    col: int

    def __new__(cls, value: str, tag: str, style: str | None, line: int, col: int
                ) -> Verbatim:
        self = super().__new__(cls, value)
        self.tag, self.style, self.line, self.col = tag, style, line, col
        return self


class Node(dict):
    """A mapping with the position it started at."""

    line: int = 1
    col: int = 1


class Seq(list):
    line: int = 1
    col: int = 1


def _represent_verbatim(dumper: yaml.SafeDumper, value: Verbatim) -> yaml.Node:
    return dumper.represent_scalar(value.tag, str(value), style=value.style)


def _represent_node(dumper: yaml.SafeDumper, value: Node) -> yaml.Node:
    return dumper.represent_dict(value.items())


def _represent_seq(dumper: yaml.SafeDumper, value: Seq) -> yaml.Node:
    return dumper.represent_list(value)


class _Out(_Dumper):  # type: ignore[misc, valid-type]
    def ignore_aliases(self, data: Any) -> bool:  # noqa: ANN401 - any YAML value
        return True  # write repeated values out in full: no anchors in generated files

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:  # noqa: ANN401
        # The emitter asks twice per scalar which tag its text would read as; the answer
        # depends on the text alone (no path resolvers here), and the texts repeat.
        if kind is yaml.ScalarNode:
            return _scalar_tag(value, implicit)
        return super().resolve(kind, value, implicit)


_RESOLVER = yaml.resolver.Resolver()


@functools.lru_cache(maxsize=1 << 16)
def _scalar_tag(value: str, implicit: tuple[bool, bool]) -> str:
    return _RESOLVER.resolve(yaml.ScalarNode, value, implicit)


_Out.add_representer(Verbatim, _represent_verbatim)
_Out.add_representer(Node, _represent_node)
_Out.add_representer(Seq, _represent_seq)


def _build(node: yaml.Node) -> Any:  # noqa: ANN401 - any YAML value
    mark = node.start_mark
    if isinstance(node, yaml.ScalarNode):
        style = node.style if node.style in ("'", '"', "|", ">") else None
        return Verbatim(node.value, node.tag, style, mark.line + 1, mark.column + 1)
    if isinstance(node, yaml.SequenceNode):
        out = Seq(_build(item) for item in node.value)
    else:
        out = Node()
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                merged = _build(value)
                for item in merged if isinstance(merged, list) else [merged]:
                    if isinstance(item, dict):
                        for k, v in item.items():
                            out.setdefault(k, v)
                continue
            out[_build(key)] = _build(value)
    out.line, out.col = mark.line + 1, mark.column + 1
    return out


def load(path: str, what: str) -> Any:  # noqa: ANN401 - any YAML value
    """The YAML document in ``path`` (``what`` names it in errors), scalars verbatim."""
    text = read_user_text(path)
    if "\0" in text:
        raise UserError(Problem(Location(path), "NUL byte in a text file"))
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise UserError(yaml_problem(exc, path)) from None
    except RecursionError:
        raise UserError(Problem(Location(path, 1, 1), "YAML nested too deeply")) from None
    finally:
        loader.dispose()
    if node is None:
        raise UserError(Problem(Location(path, 1, 1), f"file is empty: expected {what}"))
    check_expansion(node, path)
    try:
        return _build(node)
    except RecursionError:
        raise UserError(Problem(Location(path, 1, 1), "YAML nested too deeply")) from None


def dump(data: Any) -> str:  # noqa: ANN401 - any YAML value
    """``data`` as YAML, the text ``yaml.dump(data, Dumper=_Out, sort_keys=False,
    allow_unicode=True, width=1 << 20)`` writes (tested), without PyYAML's representer for
    mappings, lists and kept scalars: it dispatched on every node and was most of mutate's
    own time. Other values go through the representer as before."""
    stream = io.StringIO()
    dumper = _Out(stream, sort_keys=False, allow_unicode=True, width=1 << 20)
    try:
        dumper.open()
        dumper.serialize(_node(dumper, data))
        dumper.close()
    finally:
        dumper.dispose()
    return stream.getvalue()


_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


def _node(dumper: Any, value: Any) -> yaml.Node:  # noqa: ANN401
    """The node the representer would make for ``value`` (block style throughout)."""
    if isinstance(value, Verbatim):
        return yaml.ScalarNode(value.tag, str(value), style=value.style)
    if isinstance(value, dict):
        return yaml.MappingNode(_MAP, [(_node(dumper, k), _node(dumper, v))
                                       for k, v in value.items()], flow_style=False)
    if isinstance(value, list):
        return yaml.SequenceNode(_SEQ, [_node(dumper, v) for v in value], flow_style=False)
    return dumper.represent_data(value)


_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("int", "float", "bool", "null"))
# what a YAML double-quoted scalar may not hold raw and JSON's escaping leaves raw (DEL, C1
# controls, line/paragraph separators, BOM, surrogates), and what a plain scalar in a flow
# collection may not hold
_NOT_QUOTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")
_NOT_PLAIN = re.compile(r"[,\[\]{}#&*!|>'\"%@`\s]|^$|:")
# a string dump writes plain that a flow collection can hold plain (a decoder may read it as
# a number, bool or null, as it reads dump's text); any other string reads the same quoted
_WORD = re.compile(r"(?:[A-Za-z0-9_.~+]|-(?=[A-Za-z0-9_.]))[A-Za-z0-9_.+~-]*\Z")


class _NotFlow(Exception):
    pass


def dump_flow(data: Any) -> str:  # noqa: ANN401 - any YAML value
    """``data`` as YAML flow collections (JSON-like), for files only promtool reads (mutate's
    temp files): several times faster to write than :func:`dump`, and read by promtool as the
    text :func:`dump` writes. A scalar is written plain where dump writes it plain and it is
    one word (``1e3`` is a string to PyYAML but a number to promtool's decoder: it stays
    plain), a number, bool or null as its own text, any other string double-quoted (the same
    string: Go's decoder gives a string field the scalar's text, quoted or not); anything else
    (other tags, characters a quoted scalar cannot hold) makes it :func:`dump` the whole
    document."""
    out: list[str] = []
    try:
        _flow(data, out)
    except _NotFlow:
        return dump(data)
    out.append("\n")
    return "".join(out)


def _flow(value: Any, out: list[str]) -> None:  # noqa: ANN401
    if isinstance(value, str):
        tag, style = (value.tag, value.style) if isinstance(value, Verbatim) else (_STR_TAG,
                                                                                   None)
        # the same scalars recur (keys, names, labels): each is resolved once, the short ones
        # kept (20,000 of up to 1,000 characters: 20 MB at the very most)
        text = (_flow_scalar if len(value) > 1_000 else _flow_scalar_kept)(str(value), tag,
                                                                           style)
        if text is None:
            raise _NotFlow
        out.append(text)
    elif isinstance(value, dict):
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            if n:
                out.append(", ")
            _flow(key, out)
            out.append(": ")
            _flow(item, out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for n, item in enumerate(value):
            if n:
                out.append(", ")
            _flow(item, out)
        out.append("]")
    elif value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(value))
    else:  # floats and anything else: as PyYAML writes them
        raise _NotFlow


def _flow_scalar(value: str, tag: str, style: str | None) -> str | None:
    """A scalar's flow text, or None where only :func:`dump` writes it as promtool reads it."""
    if tag == _STR_TAG:
        if style is None and _WORD.match(value) and \
                _scalar_tag(value, (True, False)) == _STR_TAG:
            # plain, as dump writes it: "1e3" is a string to PyYAML, a number to Go
            return str(value)
        if _NOT_QUOTABLE.search(value):
            return None
        return json.dumps(str(value), ensure_ascii=False)
    if tag in _PLAIN_TAGS and not _NOT_PLAIN.search(value):
        return str(value)
    if tag in _PLAIN_TAGS and value == "":
        return "null"
    return None


_flow_scalar_kept = functools.lru_cache(maxsize=20_000)(_flow_scalar)


def where(path: str, value: Any) -> Location:  # noqa: ANN401
    return Location(path, getattr(value, "line", None), getattr(value, "col", None))


def _want(path: str, value: Any, kind: type, what: str) -> Any:  # noqa: ANN401
    if not isinstance(value, kind):
        shown = {dict: "a mapping", list: "a list", str: "a string"}[kind]
        raise UserError(Problem(where(path, value), f"{what} must be {shown}"))
    return value


# --- rule files ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertRule:
    """One alerting rule of a rule file, where it is."""

    file: str  # the path as given
    group: int
    index: int
    name: str
    expr: str
    for_: str | None
    keep_firing_for: str | None
    line: int

    @functools.cached_property
    def key(self) -> tuple[str, int, int]:  # asked often: realpath once
        return (os.path.realpath(self.file), self.group, self.index)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class RuleFile:
    path: str
    data: Node
    alerts: list[AlertRule] = field(default_factory=list)


def load_rules(path: str) -> RuleFile:
    """A Prometheus rule file (``groups: [{name, rules: [...]}]``)."""
    data = load(path, "a rule file (groups: ...)")
    _want(path, data, dict, "a rule file")
    groups = data.get("groups")
    if groups is None:
        raise UserError(Problem(where(path, data), "a rule file needs groups: (groups)"))
    _want(path, groups, list, "groups")
    out = RuleFile(path, data)
    for g, group in enumerate(groups):
        _want(path, group, dict, f"groups[{g}]")
        rules = group.get("rules") or Seq()
        _want(path, rules, list, f"groups[{g}].rules")
        for i, rule in enumerate(rules):
            _want(path, rule, dict, f"groups[{g}].rules[{i}]")
            if "alert" not in rule:
                continue
            expr = rule.get("expr")
            if not isinstance(expr, str) or not isinstance(rule["alert"], str):
                raise UserError(Problem(where(path, rule), "an alerting rule needs alert: and "
                                        f"expr: strings (groups[{g}].rules[{i}])"))
            out.alerts.append(AlertRule(
                path, g, i, str(rule["alert"]), str(expr),
                str(rule["for"]) if rule.get("for") not in (None, "") else None,
                str(rule["keep_firing_for"]) if rule.get("keep_firing_for") not in (None, "")
                else None, getattr(rule, "line", 1)))
    return out


# --- promtool test files ----------------------------------------------------------------------

@dataclass
class TestFile:
    path: str
    data: Node
    rule_paths: list[str]  # resolved like promtool: relative to the test file, globs expanded
    evaluation_interval: float  # seconds

    def alertnames(self) -> set[str]:
        names = set()
        for group in self.data.get("tests") or ():
            for case in (group.get("alert_rule_test") or ()) if isinstance(group, dict) else ():
                if isinstance(case, dict) and case.get("alertname") is not None:
                    names.add(str(case["alertname"]))
        return names


def load_tests(path: str) -> TestFile:
    """A ``promtool test rules`` file (2.x or 3.x fields; the ones not read here are kept)."""

    data = load(path, "a promtool test file (rule_files:, tests:)")
    _want(path, data, dict, "a promtool test file")
    rule_files = data.get("rule_files") or Seq()
    _want(path, rule_files, list, "rule_files")
    base = os.path.dirname(os.path.abspath(path))
    resolved: list[str] = []
    for entry in rule_files:
        _want(path, entry, str, "each of rule_files")
        pattern = entry if os.path.isabs(entry) else os.path.join(base, entry)
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches or not all(os.path.isfile(m) for m in matches):
            raise UserError(Problem(where(path, entry), f"rule file {entry} not found "
                                    f"(relative to {os.path.dirname(path) or '.'}) "
                                    "(rule_files)"))
        resolved += matches
    interval = data.get("evaluation_interval")
    try:
        seconds = parse_duration(str(interval)) if interval not in (None, "") else 60.0
    except ValueError as exc:
        raise UserError(Problem(where(path, interval), f"{exc} (evaluation_interval)")) \
            from None
    tests = data.get("tests") or Seq()
    _want(path, tests, list, "tests")
    for index, group in enumerate(tests):
        _want(path, group, dict, f"tests[{index}]")
        cases = group.get("alert_rule_test") or Seq()
        _want(path, cases, list, f"tests[{index}].alert_rule_test")
        for number, case in enumerate(cases):
            _want(path, case, dict, f"tests[{index}].alert_rule_test[{number}]")
    return TestFile(path, data, resolved, seconds)


def group_cost(group: Any, interval: float, alertname: str | None = None  # noqa: ANN401
               ) -> float | None:
    """Evaluation steps promtool runs for a test group: up to its latest eval time (None:
    ``alertname`` is given and the group does not test it)."""

    if not isinstance(group, dict):
        return 1.0
    cases = [c for c in group.get("alert_rule_test") or () if isinstance(c, dict)]
    if alertname is not None:
        cases = [c for c in cases if str(c.get("alertname")) == alertname]
        if not cases:
            return None
    cases += [c for c in group.get("promql_expr_test") or () if isinstance(c, dict)] \
        if alertname is None else []
    latest = 0.0
    for case in cases:
        try:
            latest = max(latest, parse_duration(str(case.get("eval_time") or "0s")))
        except ValueError:
            pass
    return 1 + latest / interval
