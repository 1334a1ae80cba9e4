"""Load a contract file: YAML (located) -> JSON Schema -> semantic checks -> frozen model.

Every problem is reported as ``file:line:col: message (field.path)``; the model is only built
when there are none, so generators never see an invalid contract and never re-read YAML.
"""

from __future__ import annotations

import os

from promcontract.contract import schema
from promcontract.contract.build import build
from promcontract.contract.validate import schema_problems, semantic_problems
from promcontract.model.contract import Contract
from promcontract.model.yamlsource import load_yaml_text, read_text
from promcontract.problems import Location, Problem, UserError
from promcontract.runners import cache


def load_contract(path: str) -> Contract:
    """Read, validate and build the contract at ``path``; ``UserError`` on any defect."""
    return parse_contract(read_text(path), path)


def parse_contract(text: str, file: str) -> Contract:
    if text.startswith("\ufeff"):
        text = text[1:]
    data, smap = load_yaml_text(text, file)
    marker = cache.marker(schema.text(), text)
    if marker is None or not os.path.exists(marker):
        problems = schema_problems(data, smap)
        if problems:
            raise UserError(problems)
        cache.remember(marker)
    problems = semantic_problems(data, smap)
    if problems:
        raise UserError(problems)
    return build(data, file, smap)


def load_contracts(paths: list[str]) -> list[Contract]:
    """Load several contracts, reporting every file's problems before giving up."""
    contracts: list[Contract] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            contracts.append(load_contract(path))
        except UserError as exc:
            problems.extend(exc.problems)
    if problems:
        raise UserError(problems)
    groups: dict[str, str] = {}
    metric_owner: dict[str, str] = {}
    for contract in contracts:
        if contract.group in groups:
            problems.append(Problem(
                Location(contract.source, 1, 1), f"group '{contract.group}' is also rendered by "
                f"{groups[contract.group]}", "group"))
        groups.setdefault(contract.group, contract.source)
        for metric in contract.metrics:
            if metric.name in metric_owner:
                problems.append(Problem(
                    Location(contract.source, 1, 1), f"metric '{metric.name}' is also declared by "
                    f"{metric_owner[metric.name]}", "metrics"))
            metric_owner.setdefault(metric.name, contract.source)
    if problems:
        raise UserError(problems)
    return contracts
