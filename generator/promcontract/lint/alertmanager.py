"""The Alertmanager config of the values file (``alertmanager.config``): every matcher that
names an alert, wherever it is (routes at any depth, inhibit rules; ``matchers`` strings and
the older ``match`` / ``match_re`` maps), with its template line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from promcontract.model.yamlsource import mapping_value
from promcontract.promql.labels import fixed, result_labels
from promcontract.promql.nodes import Aggregate, Binary, Call, Selector, String, walk
from promcontract.template.tfescape import PLACEHOLDER

_MATCHER = re.compile(r'^\s*\{?\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*\}?\s*$')


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # = != =~ !~
    value: str
    line: int
    where: str  # route, inhibit_rules[0].source_matchers, ...


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return inner.encode().decode("unicode_escape") if "\\" in inner else inner
    return value


def _from(node: yaml.Node | None, where: str) -> Iterator[Matcher]:
    """Matchers of one matcher-bearing object (a route or one side of an inhibit rule)."""
    for key in ("matchers", "source_matchers", "target_matchers"):
        items = mapping_value(node, key)
        if isinstance(items, yaml.SequenceNode):
            for item in items.value:
                if not isinstance(item, yaml.ScalarNode):
                    continue
                for part in _split(item.value):
                    found = _MATCHER.match(part)
                    if found:
                        yield Matcher(found.group(1), found.group(2), _unquote(found.group(3)),
                                      item.start_mark.line + 1, f"{where}.{key}")
    for key, op in (("match", "="), ("match_re", "=~"), ("source_match", "="),
                    ("source_match_re", "=~"), ("target_match", "="),
                    ("target_match_re", "=~")):
        items = mapping_value(node, key)
        if isinstance(items, yaml.MappingNode):
            for k, v in items.value:
                if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode):
                    yield Matcher(k.value, op, v.value, v.start_mark.line + 1, f"{where}.{key}")


def _split(text: str) -> list[str]:
    """``{a="x", b=~"y,z"}`` into its matchers (commas inside quotes kept)."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    parts, current, quoted = [], "", ""
    for char in text:
        if quoted:
            current += char
            if char == quoted:
                quoted = ""
            continue
        if char in "\"'":
            quoted = char
        if char == "," and not quoted:
            parts.append(current)
            current = ""
            continue
        current += char
    return [p for p in parts + [current] if p.strip()]


def matchers(config: yaml.Node | None) -> list[Matcher]:
    out: list[Matcher] = []

    def route(node: yaml.Node | None, where: str) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        out.extend(_from(node, where))
        children = mapping_value(node, "routes")
        if isinstance(children, yaml.SequenceNode):
            for index, child in enumerate(children.value):
                route(child, f"{where}.routes[{index}]")

    route(mapping_value(config, "route"), "route")
    rules = mapping_value(config, "inhibit_rules")
    if isinstance(rules, yaml.SequenceNode):
        for index, rule in enumerate(rules.value):
            out.extend(_from(rule, f"inhibit_rules[{index}]"))
    return out


# --- the route tree and inhibit rules, and what the alerts of the file can carry -----------


@dataclass(frozen=True)
class Route:
    where: str
    line: int
    receiver: str | None  # its own, else its parent's (None: the config names none)
    matchers: tuple[Matcher, ...]  # its own
    path: tuple[Matcher, ...]  # its own and every ancestor's: what an alert must satisfy


def routes(config: yaml.Node | None) -> list[Route]:
    """Every route of the tree, root first, depth first, with the matchers of its path."""
    out: list[Route] = []

    def walk(node: yaml.Node | None, where: str, above: tuple[Matcher, ...],
             inherited: str | None) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        own = tuple(_from(node, where))
        receiver = mapping_value(node, "receiver")
        name = receiver.value if isinstance(receiver, yaml.ScalarNode) else inherited
        out.append(Route(where, node.start_mark.line + 1, name, own, above + own))
        children = mapping_value(node, "routes")
        if isinstance(children, yaml.SequenceNode):
            for index, child in enumerate(children.value):
                walk(child, f"{where}.routes[{index}]", above + own, name)

    walk(mapping_value(config, "route"), "route", (), None)
    return out


@dataclass(frozen=True)
class Inhibit:
    where: str
    line: int
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]


def inhibit_rules(config: yaml.Node | None) -> list[Inhibit]:
    out = []
    rules = mapping_value(config, "inhibit_rules")
    if isinstance(rules, yaml.SequenceNode):
        for index, rule in enumerate(rules.value):
            if isinstance(rule, yaml.MappingNode):
                found = list(_from(rule, f"inhibit_rules[{index}]"))
                out.append(Inhibit(f"inhibit_rules[{index}]", rule.start_mark.line + 1,
                                   tuple(m for m in found if ".source_" in m.where),
                                   tuple(m for m in found if ".target_" in m.where)))
    return out


ANY_VALUE = None  # a label the alert may carry with a value the file does not fix


@dataclass(frozen=True)
class Alert:
    """What one alert of the file (or one declared elsewhere) can carry: ``labels`` maps a
    label to its one value, or to ANY_VALUE when the value is not known; a label not in it is
    absent (empty, as Alertmanager matches it)."""

    name: str
    line: int
    labels: dict[str, str | None]


def series_labels(template: Any) -> set[str]:  # noqa: ANN401 - a lint.base.Template
    """Label names a series an expression reads may carry, as far as the file says: ``job``
    and ``instance`` (every scrape sets them), every label an expression names (matchers,
    by/without/on/ignoring, label_replace targets), labels read by annotations
    (``$labels.x``), scrape configs' target labels and static labels, ``external_labels``
    and the lint config's ``external_labels``. A label named nowhere in the file reaches a
    series only from an exporter of its own accord."""
    names: set[str] = {"job", "instance"}
    names |= set(getattr(template.config, "external_labels", ()) or ())
    for rule in template.rules:
        for text in rule.annotations.values():
            names |= {a or b for a, b in _LABEL_READ.findall(text)}
        tree = rule.tree
        if tree is not None:
            names |= _named_in(tree)
    names |= _config_labels(getattr(template, "root", None), getattr(template, "alertmanager",
                                                                    None))
    return names


def known_labels(template: Any) -> set[str]:  # noqa: ANN401 - a lint.base.Template
    """Label names some alert of the file may carry: ``series_labels``, ``alertname`` and
    every rule's ``labels:``."""
    names = series_labels(template) | {"alertname"}
    for rule in template.rules:
        names |= set(rule.labels)
    return names


_LABEL_READ = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)|\.Labels\.([a-zA-Z_][a-zA-Z0-9_]*)")


def _named_in(tree: Any) -> set[str]:  # noqa: ANN401 - a promql Node
    out: set[str] = set()
    for node, _ in walk(tree):
        if isinstance(node, Selector):
            out |= {m.name for m in node.matchers if m.name != "__name__"}
        elif isinstance(node, Aggregate):
            out |= set(node.labels)
        elif isinstance(node, Binary):
            out |= set(node.labels) | set(node.group_labels)
        elif isinstance(node, Call) and node.func in ("label_replace", "label_join") and \
                len(node.args) > 1 and isinstance(node.args[1], String):
            out.add(node.args[1].value)
    return out


def _config_labels(root: yaml.Node | None, skip: yaml.Node | None) -> set[str]:
    """``target_label`` values, keys of ``labels`` / ``external_labels`` maps, anywhere in the
    file but the Alertmanager config and the rules (and in the extraScrapeConfigs string)."""
    out: set[str] = set()

    def visit(node: yaml.Node | None) -> None:
        if node is None or node is skip:
            return
        if isinstance(node, yaml.MappingNode):
            keys = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
            if keys & {"alert", "record"}:
                return  # a rule: its labels are its own, its expression is read as PromQL
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name == "target_label" and isinstance(value, yaml.ScalarNode):
                    out.add(value.value)
                elif name in ("labels", "external_labels") and \
                        isinstance(value, yaml.MappingNode):
                    out.update(k.value for k, _ in value.value if isinstance(k, yaml.ScalarNode))
                elif name == "extraScrapeConfigs" and isinstance(value, yaml.ScalarNode):
                    try:
                        visit(yaml.compose(value.value, Loader=yaml.SafeLoader))
                    except yaml.YAMLError:
                        pass
                visit(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                visit(item)

    visit(root)
    return out


def alerts(template: Any) -> list[Alert]:  # noqa: ANN401 - a lint.base.Template
    """Every alert of the file with what it can carry, then each alert declared elsewhere
    (``lint.external_alerts``: its name, any other label)."""
    universe = series_labels(template)
    out = []
    for rule in template.rules:
        if rule.kind != "alert":
            continue
        labels: dict[str, str | None] = {}
        tree = rule.tree
        if tree is None:
            labels.update({name: ANY_VALUE for name in universe})
        else:
            kept = result_labels(tree)
            for name in universe:
                if kept.known is not None and name not in kept.known:
                    continue
                if kept.known is None and name in kept.excluded:
                    continue
                labels[name] = ANY_VALUE
            for name, value in fixed(tree).items():
                if name in labels:
                    labels[name] = value
        for name, value in rule.labels.items():
            labels[name] = ANY_VALUE if "{{" in value or PLACEHOLDER in value else value
        labels["alertname"] = rule.name
        out.append(Alert(rule.name, rule.line, labels))
    every = known_labels(template)
    for name in getattr(template.config, "external_alerts", ()) or ():
        out.append(Alert(name, 0, {**{n: ANY_VALUE for n in every}, "alertname": name}))
    return out


def may_match(alert: Alert, matchers: tuple[Matcher, ...] | list[Matcher],
              every_label: bool = False) -> bool:
    """Whether some alert the rule can raise satisfies every matcher (an unknown value may;
    ``every_label``: a label the alert does not carry is taken as unknown too)."""
    for m in matchers:
        if PLACEHOLDER in m.value:
            continue
        value = alert.labels.get(m.label, ANY_VALUE if every_label else "")
        if m.label not in alert.labels and not every_label:
            value = ""
        if value is ANY_VALUE:
            continue
        if not matches(m, value):
            return False
    return True


def matches(m: Matcher, value: str) -> bool:
    if m.op in ("=", "!="):
        return (value == m.value) == (m.op == "=")
    try:
        found = re.fullmatch(m.value, value) is not None
    except re.error:
        return True  # amtool check-config reports a broken regex
    return found == (m.op == "=~")


def shown(matchers: tuple[Matcher, ...] | list[Matcher]) -> str:
    return ", ".join(f'{m.label}{m.op}"{m.value}"' for m in matchers)
