"""Numbers written as people and PromQL write them."""

from __future__ import annotations


def format_number(value: float) -> str:
    """A number as people (and PromQL, and promtool's series notation) read it: 10, not
    10.0; repr() for fractions, huge values, NaN and infinities."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
