"""The Alertmanager config of the values file (``alertmanager.config``): every matcher that
names an alert, wherever it is (routes at any depth, inhibit rules; ``matchers`` strings and
the older ``match`` / ``match_re`` maps), with its template line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from promcontract.model.yamlsource import mapping_value

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
