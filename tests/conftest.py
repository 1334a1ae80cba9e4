"""Shared fixtures: the repository's files, the CLI, and the real binaries.

Binaries (promtool, prometheus, pushgateway) are the real ones from Debian's packages. When
one is missing the tests that need it are skipped, except under CI=true where a missing
binary is a failure: CI must never go green by skipping them.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Validation markers go to a fresh dir per test session, not the user's ~/.cache.
import tempfile  # noqa: E402

os.environ["PROMCONTRACT_CACHE_DIR"] = tempfile.mkdtemp(prefix="promcontract-test-cache-")
sys.path.insert(0, str(ROOT / "generator"))

from promcontract.cli import main  # noqa: E402

CONTRACT = ROOT / "rules" / "drift.contract.yaml"
TEMPLATE = ROOT / "stacks" / "monitoring" / "prometheus_chart_values.tpl"


def require_binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    package = ("prometheus-pushgateway" if "pushgateway" in names[0] else
               "prometheus-alertmanager" if names[0] == "amtool" else
               "chromium" if names[0] == "chromium" else "prometheus")
    message = f"{names[0]} not found on PATH (Debian package: {package})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def promtool_bin() -> str:
    explicit = os.environ.get("PROMTOOL")  # the promtool promcontract itself will run
    if explicit and os.access(explicit, os.X_OK):
        return explicit
    return require_binary("promtool")


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the bundled contracts, template and generated files in a temp dir, which is
    the cwd: a repository in the state `make rules` leaves (nothing stale, nothing orphaned)."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "stacks" / "monitoring").mkdir(parents=True)
    for contract in sorted((ROOT / "rules").glob("*.contract.yaml")):
        shutil.copy(contract, tmp_path / "rules" / contract.name)
    shutil.copy(TEMPLATE, tmp_path / "stacks" / "monitoring" / TEMPLATE.name)
    shutil.copy(TEMPLATE.parent / "example.tfvars.json", tmp_path / "stacks" / "monitoring")
    shutil.copytree(ROOT / "rules" / "generated", tmp_path / "rules" / "generated")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def amtool_bin() -> str:
    explicit = os.environ.get("AMTOOL")
    if explicit and os.access(explicit, os.X_OK):
        return explicit
    return require_binary("amtool")


@pytest.fixture(scope="session")
def alertmanager_bin() -> str:
    return require_binary("prometheus-alertmanager", "alertmanager")


@pytest.fixture(scope="session")
def pushgateway_bin() -> str:
    return require_binary("prometheus-pushgateway", "pushgateway")


@pytest.fixture(scope="session")
def pushgateway(pushgateway_bin: str):
    """A real Pushgateway on 127.0.0.1 (own persistence file), shared by a session."""
    from promcontract.runners.servers import Pushgateway

    with Pushgateway(binary=pushgateway_bin) as pgw:
        yield pgw


@pytest.fixture(scope="session")
def drift_contract():
    from promcontract.contract import load_contract

    return load_contract(str(CONTRACT))
