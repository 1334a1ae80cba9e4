"""One reader of the values template: its alert groups with their lines and comments, the
standalone text of each group, its marker blocks, the whole file with Terraform syntax
neutralised, and the Alertmanager config. lint, characterize, import, check and render read
the template through this object, so a file is understood the same way by all of them.

Lines are the template's own (1-based) everywhere. The alert groups come from
``serverFiles.alerting_rules.yml`` cut out of the template (``splice.extract_alerting_rules``)
and neutralised, so a group can be read even where another part of the file is not YAML; the
whole file is composed only when asked (``root``: lint's scrape intervals and Alertmanager
config).

Comments attach to what they precede: a block of full-line comments belongs to the group or
rule that starts on the next content line (an empty ``#`` line is a paragraph break); a
comment after content on a line belongs to the rule (or group) that line is in. So a group's
header comment never becomes the previous group's last alert's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import yaml

from promcontract.model.yamlsource import _Loader, check_expansion, mapping_value, yaml_problem
from promcontract.problems import Location, Problem, UserError
from promcontract.template import splice, tfescape


@dataclass
class Rule:
    """One rule of a group, where it is."""

    index: int  # position in the group's rules
    name: str  # alert or record name ("?" when neither)
    kind: str  # alert | record
    line: int  # template line of its first key
    node: yaml.Node  # its YAML node (marks relative to the alerting rules text)
    comments: list[str] = field(default_factory=list)  # attached comment lines ("" = break)

    @property
    def data(self) -> Any:  # noqa: ANN401 - the rule as plain YAML values
        return _plain(self.node)


@dataclass
class Group:
    """One alert group of ``alerting_rules.yml``."""

    name: str | None  # None when the item has no string name
    line: int  # template line of the group's first key
    first: int  # first line of its comment block above (== line when none)
    end: int  # last content line of the group
    node: yaml.Node
    rules: list[Rule]
    rules_missing: bool  # `rules:` absent, null or []
    text: str  # its lines as in alerting_rules.yml (comment block above kept)
    comments: list[str] = field(default_factory=list)  # the group's own ("" = break)

    @property
    def data(self) -> Any:  # noqa: ANN401
        return _plain(self.node)

    @property
    def alerts(self) -> list[Rule]:
        return [r for r in self.rules if r.kind == "alert"]

    def rule_file(self) -> str:
        """The group alone, as a rule file promtool loads."""
        return "groups:\n" + self.text + "\n"


@dataclass
class Template:
    """A values template, read once: each part is parsed when first asked for, so a caller
    meets the same errors in the same order as it reads (lint: the whole file first)."""

    path: str
    text: str  # as given
    kind = "template"  # a values template; RuleFile: "rules" or "prometheusrule"

    @property
    def body(self) -> str:
        """The text without a byte order mark."""
        return self.text[1:] if self.text.startswith("\ufeff") else self.text

    @functools.cached_property
    def lines(self) -> list[str]:
        return self.body.split("\n")

    @functools.cached_property
    def plain(self) -> str:
        """The whole template with Terraform syntax neutralised (lines kept)."""
        try:
            return tfescape.neutralise(self.body)
        except tfescape.TemplateSyntaxError as exc:
            line = self.body.count("\n", 0, max(exc.offset, 0)) + 1
            raise UserError(Problem(Location(self.path, line), str(exc))) from None

    @functools.cached_property
    def root(self) -> yaml.Node | None:
        """The whole neutralised template as a YAML node tree (lines as in the template)."""
        try:
            root = yaml.compose(self.plain, Loader=_Loader)
        except yaml.YAMLError as exc:
            raise UserError(yaml_problem(exc, self.path, "not valid YAML after neutralising "
                                         "Terraform syntax")) from None
        check_expansion(root, self.path)
        return root

    @property
    def alertmanager(self) -> yaml.MappingNode | None:
        """``alertmanager.config`` as the template holds it."""
        node = mapping_value(mapping_value(self.root, "alertmanager"), "config")
        return node if isinstance(node, yaml.MappingNode) else None

    @functools.cached_property
    def _rules(self) -> tuple[str, int]:
        return splice.template_rules_text(self.body, self.path)

    @property
    def rules_text(self) -> str:
        """``alerting_rules.yml`` neutralised; its line N is the template's N + rules_offset."""
        return self._rules[0]

    @property
    def rules_offset(self) -> int:
        return self._rules[1]

    @functools.cached_property
    def groups(self) -> list[Group]:
        """The alert groups, in template order."""
        return _groups(self.path, self.rules_text, self.rules_offset)

    @functools.cached_property
    def layout(self) -> splice.Layout:
        """Where the groups list is, and promcontract's marker blocks."""
        return splice.analyse(self.text, self.path)

    def group(self, name: str) -> Group:
        for found in self.groups:
            if found.name == name:
                return found
        raise UserError(Problem(Location(self.path), f"no alert group named {name!r} in "
                                "alerting_rules.yml"))


class RuleFile(Template):
    """A plain Prometheus rule file (``groups:``) or a PrometheusRule manifest
    (``spec.groups``), read like a template: no Terraform syntax, no Alertmanager config."""

    def __init__(self, path: str, text: str, kind: str):
        super().__init__(path, text)
        self.kind = kind

    @functools.cached_property
    def plain(self) -> str:
        return self.body

    @functools.cached_property
    def _rules(self) -> tuple[str, int]:
        """The rule file as promtool reads it; for a PrometheusRule, ``spec.groups`` moved to
        the top (every other line blanked, so line numbers stay the manifest's)."""
        if self.kind != "prometheusrule":
            return self.body, 0
        root = yaml.compose(self.body, Loader=_Loader)
        spec = mapping_value(root, "spec")
        item = next(((k, v) for k, v in getattr(spec, "value", ()) if _scalar(k) == "groups"),
                    None)
        if item is None:
            raise UserError(Problem(Location(self.path, 1, 1), "the PrometheusRule has no "
                                    "spec.groups"))
        key, value = item
        lines = self.body.split("\n")
        column = key.start_mark.column
        # From the key to the last line of its value (the sequence may be indentless: its
        # `- name:` items at the key's own column, as kube-prometheus writes them).
        first, last = key.start_mark.line, max(key.start_mark.line, last_line(value, lines))
        out = []
        for number, line in enumerate(lines):
            if first <= number <= last:
                out.append(line[column:] if line[:column].strip() == "" else line.strip())
            else:
                out.append("")
        return "\n".join(out), 0

    @functools.cached_property
    def groups(self) -> list[Group]:
        what = "the PrometheusRule" if self.kind == "prometheusrule" else "the rule file"
        return _groups(self.path, self.rules_text, 0, ("groups",), what)

    @property
    def alertmanager(self) -> yaml.MappingNode | None:
        return None

    @functools.cached_property
    def layout(self) -> splice.Layout:
        raise UserError(Problem(Location(self.path), "a rule file has no promcontract blocks: "
                                "render writes into a values template (--tpl)"))


def read_rules(path: str, text: str) -> RuleFile:
    """A rule file, its kind found from its content: ``groups:`` at the top (Prometheus,
    Thanos, Mimir) or ``kind: PrometheusRule`` with ``spec.groups`` (prometheus-operator)."""
    body = text[1:] if text.startswith("\ufeff") else text
    try:
        root = yaml.compose(body, Loader=_Loader)
    except yaml.composer.ComposerError:
        raise UserError(Problem(Location(path, 1, 1), "several YAML documents: give one rule "
                                "file or PrometheusRule per file")) from None
    except yaml.YAMLError as exc:
        raise UserError(yaml_problem(exc, path)) from None
    if mapping_value(root, "groups") is not None:
        return RuleFile(path, text, "rules")
    if _scalar(mapping_value(root, "kind")) == "PrometheusRule":
        return RuleFile(path, text, "prometheusrule")
    raise UserError(Problem(Location(path, 1, 1), "not a Prometheus rule file (groups:) nor a "
                            "PrometheusRule manifest (kind: PrometheusRule, spec.groups)"))


def read(path: str, text: str) -> Template:
    """``text``, the template at ``path``, to be read (parts are parsed on first use, each
    failure a ``UserError`` with a located problem)."""
    return Template(path, text)


def _groups(path: str, rules_text: str, offset: int, keys: tuple[str, ...] = ("groups",),
            what: str = "alerting_rules.yml") -> list[Group]:
    try:
        root = yaml.compose(rules_text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise UserError(yaml_problem(exc, path, f"{what} is not YAML", offset)) from None
    check_expansion(root, path, line_offset=offset)
    parent, groups_node = None, root
    for key in keys:
        parent, groups_node = groups_node, mapping_value(groups_node, key)
    if groups_node is None or (isinstance(groups_node, yaml.ScalarNode)
                               and groups_node.value in ("", "~", "null")):
        return []  # `groups:` with nothing under it: no groups
    if not isinstance(groups_node, yaml.SequenceNode):
        raise UserError(Problem(Location(path, offset + 1), f"{what} has no groups: list"))
    lines = rules_text.split("\n")
    groups: list[Group] = []
    # comments between `groups:` and the first item are the first group's
    previous_end = next((k.start_mark.line + 1 for k, v in parent.value if v is groups_node),
                        groups_node.start_mark.line)
    for item in groups_node.value:
        start, end = item.start_mark.line, last_line(item, lines)
        while end > start and (not lines[end].strip() or lines[end].lstrip().startswith("#")):
            end -= 1
        first = start
        while first > previous_end and lines[first - 1].lstrip().startswith("#"):
            first -= 1
        previous_end = end + 1
        name = _scalar(mapping_value(item, "name"))
        rules_node = mapping_value(item, "rules")
        missing = rules_node is None or (
            isinstance(rules_node, yaml.ScalarNode) and rules_node.value in ("", "~", "null")
        ) or (isinstance(rules_node, yaml.SequenceNode) and not rules_node.value)
        rules = []
        if isinstance(rules_node, yaml.SequenceNode):
            for index, rnode in enumerate(rules_node.value):
                alert = _scalar(mapping_value(rnode, "alert"))
                record = _scalar(mapping_value(rnode, "record"))
                rules.append(Rule(index, str(alert or record or "?"),
                                  "alert" if alert else "record",
                                  rnode.start_mark.line + 1 + offset, rnode))
        group = Group(name if isinstance(name, str) else None, start + 1 + offset,
                      first + 1 + offset, end + 1 + offset, item, rules, missing,
                      "\n".join(lines[first:end + 1]))
        _attach_comments(group, lines, offset)
        groups.append(group)
    return groups


def _attach_comments(group: Group, lines: list[str], offset: int) -> None:
    """Each comment line of ``group`` to the group or the rule it belongs to (module doc)."""
    starts = {rule.line - 1 - offset: rule for rule in group.rules}
    ends = [(rule.line - 1 - offset, last_line(rule.node, lines)) for rule in group.rules]
    pending: list[str] = []
    for index in range(group.first - 1 - offset, group.end - offset):
        text = lines[index]
        stripped = text.strip()
        if stripped.startswith("#"):
            comment = stripped[1:].strip()
            if not _ours(stripped):
                pending.append(comment)
            continue
        if not stripped:
            continue
        owner: Group | Rule = starts.get(index) or next(
            (starts[s] for s, e in ends if s <= index <= e), group)
        if pending:
            target = owner if index in starts or index == group.line - 1 - offset else group
            target.comments.extend(_paragraphs(pending))
            pending = []
        hash_at = comment_start(text)
        if hash_at is not None:
            comment = text[hash_at + 1:].strip()
            if comment and not _ours(text[hash_at:]):
                owner.comments.append(comment)
    if pending:
        group.comments.extend(_paragraphs(pending))


def _ours(comment: str) -> bool:
    """promcontract's own comments (block markers, the anchor, lint disables) say nothing
    about the alerts."""
    text = comment.strip()
    return bool(splice.is_marker(text)) or text[1:].strip().startswith("promcontract-lint:")


def _paragraphs(comments: list[str]) -> list[str]:
    """Comment lines with runs of empty ones made one paragraph break, none at the ends."""
    out: list[str] = []
    for comment in comments:
        if comment or (out and out[-1]):
            out.append(comment)
    while out and not out[-1]:
        out.pop()
    return out


def last_line(node: yaml.Node, lines: list[str]) -> int:
    """The 0-based last line holding ``node``: its end mark points past it, often at the
    start of the next item's line (column 0, or the next ``-`` of a sequence)."""
    end = node.end_mark.line
    if end > node.start_mark.line and (end >= len(lines) or
                                       not lines[end][:node.end_mark.column].strip()):
        end -= 1
    return end


def comment_start(line: str) -> int | None:
    """Where a YAML comment starts on ``line`` (a # at the start or after a blank, outside
    quotes), or None."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
            continue
        if char in "\"'" and (index == 0 or line[index - 1] in " :[{,-"):
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return index
    return None


def _scalar(node: yaml.Node | None) -> Any:  # noqa: ANN401
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _plain(node: yaml.Node) -> Any:  # noqa: ANN401
    """A node as plain values (safe construction of the node alone)."""
    return yaml.safe_load(yaml.serialize(node))
