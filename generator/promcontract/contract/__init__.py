"""The contract: load (YAML with positions), validate (schema and semantics), build the model
(promcontract.model.contract)."""

from __future__ import annotations

from promcontract.contract.load import load_contract, load_contracts, parse_contract

__all__ = ["load_contract", "load_contracts", "parse_contract"]
