"""The contract: load (YAML with positions), validate (schema and semantics), model.

``load_contract`` and friends are looked up on first use: the kinds import the model, and
loading imports the kinds, so this package must not import its loader eagerly.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_contract", "load_contracts", "parse_contract"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from promcontract.contract import load

        return getattr(load, name)
    raise AttributeError(name)
