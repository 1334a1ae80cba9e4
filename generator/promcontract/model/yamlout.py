"""YAML text out: scalars that read back exactly as written, and a block-style emitter.

Rule files come from Jinja2 templates with ``scalar`` as their quoting filter; promtool test
files (thousands of scenarios in a property-test batch) come from ``block``, which writes
the same layout as ``yaml.dump(..., sort_keys=False, default_flow_style=False)`` without its
per-node representer cost (a 1,000-scenario batch: ~1 s of pyyaml, most of the Python time).
"""

from __future__ import annotations

import functools
import json
import re

import yaml

_PLAIN_BAD_START = "!&*{}[]|>'\"%@`#,?:-"
# Characters YAML does not allow raw, or reads as line breaks (NEL, LS, PS) or a BOM; JSON
# leaves them unescaped, so a double-quoted scalar escapes them itself.
_NOT_RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff"
                      "\ufffe\uffff]")


_RESOLVER = yaml.resolver.Resolver()
_STR = "tag:yaml.org,2002:str"


def _escape(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


@functools.lru_cache(maxsize=8192)
def scalar(value: object) -> str:
    """``value`` as a YAML scalar: plain when that reads back identically, else double-quoted.

    Double-quoted YAML is a superset of JSON strings, so ``json.dumps`` gives a safe form
    once the characters YAML treats specially are escaped too.
    """
    text = str(value)
    plain_ok = (
        bool(text)
        and text == text.strip()
        and (text[0] not in _PLAIN_BAD_START
             or text[0] == "-" and text[1:2] not in ("", " ", "-"))  # -5 yes, "- x" no
        and ": " not in text
        and " #" not in text
        and not any(ch in text for ch in "\n\t\r")
        and not text.endswith(":")
        and not _NOT_RAW.search(text)
    )
    # what is left to decide is the implicit type: 1e5, yes, null, 0x1f, <<, = are not text
    if plain_ok and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR:
        return text
    return _NOT_RAW.sub(_escape, json.dumps(text, ensure_ascii=False))


def _inline(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        # YAML 1.1 (pyyaml) reads a float only with a dot: 1e-05 would come back a string
        return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def block(value: object, indent: str = "") -> list[str]:
    """Block-style YAML lines for nested dicts and lists of str, int, float, bool or None;
    keys in the dicts' order, sequences in mappings not indented (as pyyaml writes them)."""
    if isinstance(value, dict) and value:
        lines = []
        for key, item in value.items():
            head = f"{indent}{scalar(key)}:"
            if isinstance(item, (dict, list)) and item:
                lines.append(head)
                lines += block(item, indent if isinstance(item, list) else indent + "  ")
            else:
                lines.append(f"{head} {_inline(item)}")
        return lines
    if isinstance(value, list) and value:
        lines = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = block(item, indent + "  ")
                inner[0] = f"{indent}- {inner[0][len(indent) + 2:]}"
                lines += inner
            else:
                lines.append(f"{indent}- {_inline(item)}")
        return lines
    return [indent + _inline(value)]


__all__ = ["scalar", "block"]
