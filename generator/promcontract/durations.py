"""Prometheus duration strings (``26h``, ``1h30m``) to seconds and back.

Same grammar as Prometheus' ``model.ParseDuration``: units y, w, d, h, m, s, ms in that order,
each at most once, integers only.
"""

from __future__ import annotations

import re

_UNITS = (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60),
          ("s", 1), ("ms", 0.001))
_RE = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?"
                 r"(?:(\d+)ms)?$")


def parse_duration(text: str) -> float:
    """Seconds in ``text``; ``ValueError`` with the reason when it is not a duration."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"not a duration: {text!r} (expected e.g. 30m, 26h, 1h30m)")
    match = _RE.match(text)
    if not match or not any(match.groups()):
        raise ValueError(f"not a duration: {text!r} (expected e.g. 30m, 26h, 1h30m)")
    total = 0.0
    for value, (_, factor) in zip(match.groups(), _UNITS, strict=True):
        if value is not None:
            total += int(value) * factor
    return total


def format_duration(seconds: float) -> str:
    """Shortest Prometheus duration for ``seconds`` (as Prometheus prints them, no y/w)."""
    if seconds == 0:
        return "0s"
    millis = round(seconds * 1000)
    out = ""
    for unit, factor in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1), ("ms", 0.001)):
        unit_ms = round(factor * 1000)
        count, millis = divmod(millis, unit_ms)
        if count:
            out += f"{count}{unit}"
    return out
