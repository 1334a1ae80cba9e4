"""Rule outputs beyond the Helm template, one small writer per target format.

Each format module has NAME, ``needs_namespace`` and ``render(contracts, options) -> str``;
adding a format touches this folder only.
"""

from __future__ import annotations

from dataclasses import dataclass

from promcontract.outputs import mimir, prometheusrule, rulefile


@dataclass(frozen=True)
class Options:
    namespace: str | None = None
    name: str | None = None
    labels: tuple[tuple[str, str], ...] = ()


FORMATS = {m.NAME: m for m in (prometheusrule, rulefile, mimir)}

__all__ = ["FORMATS", "Options"]
