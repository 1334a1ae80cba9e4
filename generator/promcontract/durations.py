"""Prometheus duration strings (``26h``, ``1h30m``) to seconds and back.

Same grammar as Prometheus' ``model.ParseDuration``: units y, w, d, h, m, s, ms in that order,
each at most once, integers only.
"""

from __future__ import annotations

import re

# Prometheus stores durations as int64 nanoseconds (model.ParseDuration refuses more).
MAX_MILLIS = (2**63 - 1) // 1_000_000
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
    millis = 0
    for value, (_, factor) in zip(match.groups(), _UNITS, strict=True):
        if value is not None:
            millis += int(value) * round(factor * 1000)
    if millis > MAX_MILLIS:
        raise ValueError(f"duration out of range: {text} (Prometheus durations end at about "
                         "292y, the largest int64 of nanoseconds)")
    return millis / 1000


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


def written_unit(text: str) -> float:
    """Seconds in the smallest unit ``text`` is written in: 26h -> 3600, 1h30m -> 60."""
    for unit, factor in reversed(_UNITS):
        if text.endswith(unit) and not (unit == "s" and text.endswith("ms")):
            return float(factor)
    return 1.0


def in_unit_of(seconds: float, written: str) -> str:
    """``seconds`` in the unit ``written`` uses (25h rather than 1d1h), when it is whole."""
    unit = written_unit(written)
    # the units format_duration writes, so a value never reads differently from one it prints
    name = next((name for name, factor in _UNITS if factor == unit and name in "dhms"), None)
    if name is not None and unit >= 1 and seconds % unit == 0:
        return f"{int(seconds // unit)}{name}"
    return format_duration(seconds)
