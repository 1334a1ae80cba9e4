"""The subset of Prometheus' alert templates that derived tests need to predict annotations.

Supported: literal text; ``{{ $value }}``; ``{{ $labels.x }}`` and ``{{ index $labels "x" }}``;
``{{ $value | f }}`` with f in humanize, humanize1024, humanizeDuration, humanizePercentage,
``printf "%.Nf"``; ``{{ printf "%.Nf" $value }}``; ``{{ if $labels.x }}...{{ else }}...
{{ end }}``; the ``{{-`` / ``-}}`` trim markers. The functions follow Prometheus'
template/template.go and Go's fmt, value for value (a property test compares them with real
promtool over floats including 0, negatives, 1e±N, NaN and ±Inf). Anything else raises
``Unsupported``: the alert's annotations then cannot be predicted, and the caller says so by
name.
"""

from __future__ import annotations

import math
import re

_ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)


class Unsupported(ValueError):
    pass


def _exponent(mantissa: str, exponent: int) -> str:
    """Go writes exponents with at least two digits and a sign: 1e+06, 1.5e-07."""
    return f"{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def _special(value: float) -> str | None:
    """How Go's fmt writes NaN and the infinities in %v, %g and %f."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return None


def go_float(value: float) -> str:
    """Go's %v for float64: strconv's shortest digits, in %e form when the exponent is below
    -4 or at least 6 (1e+06, 1.234567e+06, 123456, 1e-05), else plain."""
    special = _special(value)
    if special is not None:
        return special
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    digits = repr(abs(value))
    mantissa, _, exp_text = digits.partition("e")
    exponent = int(exp_text) if exp_text else 0
    int_part, _, frac = mantissa.partition(".")
    frac = frac.rstrip("0")
    all_digits = (int_part + frac).lstrip("0")
    if int_part.strip("0"):
        point = len(int_part.lstrip("0")) + exponent
    else:
        point = exponent - (len(frac) - len(frac.lstrip("0")))
    sig = all_digits.rstrip("0") or "0"
    sign = "-" if value < 0 else ""
    exp10 = point - 1
    if exp10 < -4 or exp10 >= 6:
        return sign + _exponent(sig[0] + ("." + sig[1:] if len(sig) > 1 else ""), exp10)
    if point <= 0:
        return f"{sign}0.{'0' * -point}{sig}"
    if point >= len(sig):
        return f"{sign}{sig}{'0' * (point - len(sig))}"
    return f"{sign}{sig[:point]}.{sig[point:]}"


def _g(value: float, precision: int = 4) -> str:
    """Go's %.<precision>g (Python's rounding of the exact value is Go's; only NaN, the
    infinities and the exponent's form differ)."""
    special = _special(value)
    if special is not None:
        return special
    text = f"{value:.{precision}g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        text = _exponent(mantissa, int(exp))
    return text


def _f(value: float, digits: int) -> str:
    """Go's %.<digits>f."""
    special = _special(value)
    return special if special is not None else f"{value:.{digits}f}"


def humanize_duration(value: float) -> str:
    """Prometheus' humanizeDuration (template/template.go)."""
    if math.isnan(value) or math.isinf(value):
        return _g(value)
    if value == 0:
        return f"{_g(value)}s"
    if abs(value) >= 1:
        sign = "-" if value < 0 else ""
        v = abs(value)
        if v >= 2.0 ** 63:
            # int64(v) of a float beyond int64 is implementation-defined in Go
            raise Unsupported("humanizeDuration of a value of 2^63 seconds or more")
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
        return f"{sign}{_g(v)}s"
    return _small(value) + "s"


def _small(value: float) -> str:
    """A value below 1 with an SI prefix (m, u, n, ...), as both humanize functions do."""
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(value) >= 1:
            break
        prefix = p
        value *= 1000
    return f"{_g(value)}{prefix}"


def humanize(value: float) -> str:
    """Prometheus' humanize (SI prefixes, 4 significant digits)."""
    if value == 0 or math.isnan(value) or math.isinf(value):
        return _g(value)
    if abs(value) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(value) < 1000:
                break
            prefix = p
            value /= 1000
        return f"{_g(value)}{prefix}"
    return _small(value)


def humanize1024(value: float) -> str:
    """Prometheus' humanize1024 (IEC prefixes)."""
    if abs(value) <= 1 or math.isnan(value) or math.isinf(value):
        return _g(value)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(value) < 1024:
            break
        prefix = p
        value /= 1024
    return f"{_g(value)}{prefix}"


def humanize_percentage(value: float) -> str:
    """Prometheus' humanizePercentage: %.4g of value * 100, and a percent sign."""
    return f"{_g(value * 100)}%"


def _printf(fmt: str, value: float) -> str:
    match = re.fullmatch(r"%\.(\d+)f", fmt)
    if not match:
        raise Unsupported(f"printf format {fmt!r} is not supported")
    return _f(value, int(match.group(1)))


FUNCTIONS = {"humanizeDuration": humanize_duration, "humanize": humanize,
             "humanize1024": humanize1024, "humanizePercentage": humanize_percentage}


def _label(expr: str, labels: dict[str, str]) -> str | None:
    m = re.fullmatch(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)", expr) or \
        re.fullmatch(r'index\s+\$labels\s+"([^"]*)"', expr)
    if m:
        # $labels is a map[string]string: a missing key renders as "".
        return labels.get(m.group(1), "")
    return None


def _value(expr: str, value: float, labels: dict[str, str]) -> str:
    label = _label(expr, labels)
    if label is not None:
        return label
    m = re.fullmatch(r'printf\s+"([^"]*)"\s+\$value', expr)
    if m:
        return _printf(m.group(1), value)
    parts = [p.strip() for p in expr.split("|")]
    if parts[0] != "$value":
        raise Unsupported(f"template action {{{{ {expr} }}}} is not supported")
    if len(parts) == 1:
        return go_float(value)
    if len(parts) != 2:
        raise Unsupported(f"template pipeline {{{{ {expr} }}}} is not supported")
    func = parts[1]
    if func in FUNCTIONS:
        return FUNCTIONS[func](value)
    m = re.fullmatch(r'printf\s+"([^"]*)"', func)
    if m:
        return _printf(m.group(1), value)
    raise Unsupported(f"template function {func!r} is not supported")


def render(template: str, value: float, labels: dict[str, str]) -> str:
    """``template`` expanded as Prometheus does for an alert with these labels and value."""
    out: list[str] = []
    stack: list[tuple[bool, bool]] = []  # (branch taken, emitting before this if)
    emitting = True
    pos = 0
    for match in _ACTION.finditer(template):
        text = template[pos:match.start()]
        if match.group(1):  # {{- trims the whitespace before
            text = text.rstrip()
        if emitting:
            out.append(text)
        pos = match.end()
        if match.group(3):  # -}} trims the whitespace after
            rest = template[pos:]
            pos += len(rest) - len(rest.lstrip())
        action = match.group(2).strip()
        if action.startswith("if "):
            condition = _label(action[3:].strip(), labels)
            if condition is None:
                raise Unsupported(f"template action {{{{ {action} }}}} is not supported")
            stack.append((bool(condition), emitting))
            emitting = emitting and bool(condition)
        elif action == "else":
            if not stack:
                raise Unsupported("{{ else }} without {{ if }}")
            taken, outer = stack[-1]
            emitting = outer and not taken
        elif action == "end":
            if not stack:
                raise Unsupported("{{ end }} without {{ if }}")
            emitting = stack.pop()[1]
        elif emitting:  # Go evaluates only the branch it takes
            out.append(_value(action, value, labels))
    if stack:
        raise Unsupported("{{ if }} without {{ end }}")
    tail = template[pos:]
    if emitting:
        out.append(tail)
    return "".join(out)
