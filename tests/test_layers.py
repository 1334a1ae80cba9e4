"""The package reads top-down: every folder imports only from floors below it (imports inside
functions included), and no import hides inside a function except an optional heavy
dependency, with a comment saying so. The floors are docs/architecture.md's."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "generator" / "promcontract"
ARCHITECTURE = PACKAGE.parent.parent / "docs" / "architecture.md"

# Lowest first. "(top)" is the package's own modules: problems, numbers, durations, labels,
# inputs. A folder may import from its own floor (its own files) and any floor below.
FLOORS = ("(top)", "promql", "model", "runners", "kinds", "contract", "template", "payload",
          "testgen", "render", "lint", "workflows", "cli")

# Third-party modules slow to import and needed by few commands: imported where used, so
# `promcontract --help` and the light commands stay fast.
LAZY = {"promql_parser", "jsonschema", "sarif_pydantic", "hypothesis"}


def _module(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _folder(module: str) -> str:
    """The floor a module (or a name imported from it) is on."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] == "__main__":
        return "cli"  # ``python -m promcontract``: the command line's entry point
    return parts[1] if len(parts) > 1 and parts[1] in FLOORS else "(top)"


def imports(package: Path = PACKAGE) -> list[tuple[str, str, int, bool]]:
    """(importing module, imported promcontract module, line, inside a function)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        module = _module(path, package)
        here = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_function: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                in_function |= {id(n) for n in ast.walk(node)} - {id(node)}
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = here.split(".")[:len(here.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                found.append((module, name, node.lineno, id(node) in in_function))
    return found


def violations(edges: list[tuple[str, str, int, bool]]) -> list[str]:
    out = []
    for module, name, line, _ in edges:
        if not name.startswith("promcontract"):
            continue
        source, target = _folder(module), _folder(name)
        if FLOORS.index(target) > FLOORS.index(source):
            out.append(f"{module}:{line}: {source} imports upward from {target} ({name})")
    return sorted(set(out))


def hidden(package: Path = PACKAGE) -> list[str]:
    """Imports inside functions that are not a LAZY dependency with a comment."""
    out = []
    for module, name, line, inside in imports(package):
        if not inside:
            continue
        path = package.parent / (module.replace(".", "/") + ".py")
        if not path.exists():
            path = package.parent / module.replace(".", "/") / "__init__.py"
        text = path.read_text(encoding="utf-8").splitlines()
        above = line - 2  # a comment on the line, or above its block of lazy imports
        while above > 0 and text[above].strip().startswith(("import ", "from ")):
            above -= 1
        commented = "#" in text[line - 1] or text[above].strip().startswith("#")
        if name.split(".")[0] not in LAZY or not commented:
            out.append(f"{module}:{line}: import {name} inside a function")
    return sorted(set(out))


def test_no_folder_imports_upward() -> None:
    assert violations(imports()) == []


def test_no_import_hides_in_a_function() -> None:
    assert hidden() == []


def test_the_floors_are_the_documented_ones() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    positions = [text.find(f"`{f}`") for f in FLOORS]
    assert -1 not in positions, dict(zip(FLOORS, positions, strict=True))
    assert positions == sorted(positions), "docs/architecture.md lists the floors out of order"


@pytest.mark.parametrize("source, line", [
    ("from promcontract.render import group\n", 1),
    ("def f():\n    from promcontract.cli import main\n", 2),
])
def test_the_checks_fail_on_an_upward_or_hidden_import(tmp_path, source, line) -> None:
    package = tmp_path / "promcontract"
    (package / "kinds").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "kinds" / "__init__.py").write_text("")
    (package / "kinds" / "bad.py").write_text(source)
    found = violations(imports(package))
    assert found and found[0].startswith(f"promcontract.kinds.bad:{line}: kinds imports upward")
    if line == 2:
        assert hidden(package)[0] == ("promcontract.kinds.bad:2: import promcontract.cli "
                                      "inside a function")
