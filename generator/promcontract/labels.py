"""Series as text: ``name{k="v",...}``, written one way everywhere (PromQL selectors, promtool
series notation, exposition lines, messages).

Label values escape exactly ``\\``, ``"`` and newline, as the exposition format, PromQL and
promtool's series notation all read them.
"""

from __future__ import annotations

import re

Labels = tuple[tuple[str, str], ...]


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def unescape_label_value(value: str) -> str:
    if "\\" not in value:
        return value
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}.get(m.group(1),
                                                                         m.group(0)), value)


def matchers(labels: Labels) -> str:
    """``k="v",k2="v2"`` (no braces)."""
    return ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels)


def format_series(name: str, labels: Labels, *, braces_when_empty: bool = False) -> str:
    """``name{k="v"}``; ``name`` alone when there are no labels (unless asked for ``{}``)."""
    if not labels and not braces_when_empty:
        return name
    return f"{name}{{{matchers(labels)}}}"
