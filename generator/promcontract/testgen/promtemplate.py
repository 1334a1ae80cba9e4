"""The subset of Prometheus' alert templates that derived tests need to predict annotations.

Supported: literal text and ``{{ $value }}``, ``{{ $labels.x }}``, ``{{ $value | f }}`` with
f in humanizeDuration, humanize, humanizePercentage, ``printf "%.Nf"``, and
``{{ printf "%.Nf" $value }}``. Anything else raises ``NotDerivable``: the alert's annotations
then cannot be predicted and the caller says so by name.
"""

from __future__ import annotations

import math
import re

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)


class NotDerivable(ValueError):
    pass


def go_float(value: float) -> str:
    """Go's %v for float64 (strconv 'g', shortest): 95400, 1.5, 1e+21, 1e-05, NaN, +Inf."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    digits = repr(value)
    mantissa, _, exp_text = digits.partition("e")
    exponent = int(exp_text) if exp_text else 0
    sign = "-" if mantissa.startswith("-") else ""
    mantissa = mantissa.lstrip("-")
    int_part, _, frac = mantissa.partition(".")
    frac = frac.rstrip("0")
    all_digits = (int_part + frac).lstrip("0")
    # decimal exponent of the first significant digit
    if int_part.strip("0"):
        point = len(int_part.lstrip("0")) + exponent
    else:
        point = exponent - (len(frac) - len(frac.lstrip("0")))
    sig = all_digits.rstrip("0") or "0"
    exp10 = point - 1
    if exp10 < -4 or exp10 >= 21:
        body = sig[0] + ("." + sig[1:] if len(sig) > 1 else "")
        return f"{sign}{body}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{sig}"
    if point >= len(sig):
        return f"{sign}{sig}{'0' * (point - len(sig))}"
    return f"{sign}{sig[:point]}.{sig[point:]}"


def _g4(value: float) -> str:
    """Go's %.4g."""
    text = f"{value:.4g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{exp[0]}{int(exp[1:]):02d}"
    return text


def humanize_duration(value: float) -> str:
    """Prometheus' humanizeDuration (template/template.go)."""
    if math.isnan(value) or math.isinf(value):
        return _g4(value)
    if value == 0:
        return f"{_g4(value)}s"
    if abs(value) >= 1:
        sign = "-" if value < 0 else ""
        v = abs(value)
        duration = int(v)
        seconds = duration % 60
        minutes = (duration // 60) % 60
        hours = (duration // 3600) % 24
        days = duration // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    return _small(value) + "s"


def _small(value: float) -> str:
    """A value below 1 with an SI prefix (m, u, n, ...), as both humanize functions do."""
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(value) >= 1:
            break
        prefix = p
        value *= 1000
    return f"{_g4(value)}{prefix}"


def humanize(value: float) -> str:
    """Prometheus' humanize (SI prefixes, 4 significant digits)."""
    if value == 0 or math.isnan(value) or math.isinf(value):
        return _g4(value)
    if abs(value) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(value) < 1000:
                break
            prefix = p
            value /= 1000
        return f"{_g4(value)}{prefix}"
    return _small(value)


def _printf(fmt: str, value: float) -> str:
    match = re.fullmatch(r"%\.(\d+)f", fmt)
    if not match:
        raise NotDerivable(f"printf format {fmt!r} is not supported")
    return f"{value:.{int(match.group(1))}f}"


def render(template: str, value: float, labels: dict[str, str]) -> str:
    def action(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        m = re.fullmatch(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)", expr)
        if m:
            # $labels is a map[string]string: a missing key renders as "".
            return labels.get(m.group(1), "")
        m = re.fullmatch(r'printf\s+"([^"]*)"\s+\$value', expr)
        if m:
            return _printf(m.group(1), value)
        parts = [p.strip() for p in expr.split("|")]
        if parts[0] != "$value":
            raise NotDerivable(f"template action {{{{ {expr} }}}} is not supported")
        if len(parts) == 1:
            return go_float(value)
        if len(parts) != 2:
            raise NotDerivable(f"template pipeline {{{{ {expr} }}}} is not supported")
        func = parts[1]
        if func == "humanizeDuration":
            return humanize_duration(value)
        if func == "humanize":
            return humanize(value)
        if func == "humanizePercentage":
            return humanize(value * 100) + "%"
        m = re.fullmatch(r'printf\s+"([^"]*)"', func)
        if m:
            return _printf(m.group(1), value)
        raise NotDerivable(f"template function {func!r} is not supported")

    return _ACTION.sub(action, template)
