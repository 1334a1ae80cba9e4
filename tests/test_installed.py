"""What a user installs is what the tests test (make test-installed; .ci/run runs it).

The other tests import the package from generator/ (an editable install): a module left out
of the wheel would never show there. Here the wheel is built, installed (not editable) into a
fresh venv, and every command runs from a directory laid out like a user's repository, with
nothing of the source tree on sys.path. Then the pre-commit hooks run as a user's repository
runs them (pre-commit from PyPI), and a commit that changes a threshold is blocked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.installed

from promcontract.cli.main import COMMANDS  # noqa: E402 - the CLI's own command table


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def user_repo(where: Path) -> Path:
    """A repository laid out as a user's: contracts, generated files, docs, the template."""
    where.mkdir(parents=True)
    for part in ("rules", "docs", "stacks"):
        shutil.copytree(ROOT / part, where / part)
    return where


IGNORE = shutil.ignore_patterns(".venv", "build", ".git", "__pycache__", ".pytest_cache",
                                ".hypothesis", "*.egg-info", ".ruff_cache", "dist")


def clean_copy(dest: Path) -> Path:
    """The source tree as a fresh clone has it: no egg-info or build directory, whose
    SOURCES.txt would smuggle modules the package configuration leaves out into the wheel."""
    shutil.copytree(ROOT, dest, ignore=IGNORE)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the built wheel installed; its bin directory."""
    base = tmp_path_factory.mktemp("installed")
    dist = base / "dist"
    source = clean_copy(base / "source")
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
                 str(source)], base)
    assert built.returncode == 0, built.stderr
    [wheel] = dist.glob("promcontract-*.whl")
    venv = base / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)], base).returncode == 0
    done = run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], base)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def clean_env(bin_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def test_the_package_comes_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    proc = run([str(installed / "python"), "-c", "import promcontract, sys; "
                "print(promcontract.__file__); print(sys.path)"], tmp_path,
               clean_env(installed))
    assert proc.returncode == 0, proc.stderr
    where = proc.stdout.splitlines()[0]
    assert "site-packages" in where and str(ROOT) not in proc.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_answers_help(installed: Path, tmp_path: Path, command: str) -> None:
    proc = run([str(installed / "promcontract"), command, "--help"], tmp_path,
               clean_env(installed))
    assert proc.returncode == 0, proc.stderr
    assert "usage: promcontract" in proc.stdout and "Traceback" not in proc.stderr


def test_commands_run_from_the_installed_package(installed: Path, tmp_path: Path,
                                                 promtool_bin, pushgateway_bin,
                                                 alertmanager_bin) -> None:
    repo = user_repo(tmp_path / "repo")
    env = clean_env(installed)
    pc = str(installed / "promcontract")
    ran: set[str] = set()

    def ok(*args: str) -> subprocess.CompletedProcess:
        proc = run([pc, *args], repo, env)
        assert proc.returncode == 0, (args, proc.stdout[-2000:], proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr
        ran.add(args[0])
        return proc

    assert "unchanged: stacks/monitoring/prometheus_chart_values.tpl" in ok("render").stdout
    ok("validate")
    ok("check", "--skip-unit-tests")
    ok("lint")
    assert "tests pass against stacks/monitoring/prometheus_chart_values.tpl" in ok("routes").stdout
    for fmt, extra in (("prometheusrule", ["--namespace", "monitoring"]), ("rulefile", []),
                       ("mimir", ["--namespace", "infra"])):
        assert "Infrastructure Drift" in ok("render", "--format", fmt, *extra).stdout
    assert "| DriftStacksMany |" in ok("docs", "--contract", "rules/drift.contract.yaml").stdout
    sys.path.insert(0, str(ROOT / "tests"))
    from test_verify import GOOD

    (repo / "payload.prom").write_text(GOOD)
    assert "ok against contract 'drift'" in ok("verify", "payload.prom").stderr
    # PromQL is parsed by promql-parser, a compiled dependency: it must come with the wheel
    assert "144/144" in ok("mutate").stdout
    recorded = ok("characterize", "--group", "Image Scanning", "-o", "alerts").stdout
    assert "characterized 2/2 alerts" in recorded
    proc = run([pc, "mutate", "--rules", "alerts/image-scanning.rules.yml", "--tests",
                "alerts/image-scanning.test.yml"], repo, env)
    assert "untested" not in proc.stdout and "Traceback" not in proc.stderr
    shutil.copy(ROOT / "tests" / "fixtures" / "handwritten_values.tpl", repo / "hand.tpl")
    imported = run([pc, "import", "--tpl", "hand.tpl", "--group", "Infrastructure Drift",
                    "--check", "--job", "drift-detection"], repo, env)
    assert imported.returncode == 1 and "Traceback" not in imported.stderr  # one alert differs
    assert "import --check: 2 same, 1 differ, 1 not derivable" in imported.stdout
    ran.add("import")
    (repo / "results.txt").write_text("app 2\nnetwork 0\n")
    (repo / "previous.prom").write_text("")
    pushed = ok("push", "--results", "results.txt", "--previous", "previous.prom", "--dry-run",
                "--now", "1700000000", "--contract", "rules/drift.contract.yaml")
    assert 'drift_stack_state{stack="app"} 1.0' in pushed.stdout
    tested = ok("pusher-test", "--contract", "rules/drift.contract.yaml", "--sequences", "10",
                "--seed", "1", "--", sys.executable, "-I", "-S", "rules/generated/drift.push.py")
    assert "Traceback" not in tested.stderr
    # backtest against a real Prometheus (an empty TSDB): the bundled template's alerts
    from promcontract.runners.servers import History

    (repo / "tsdb").mkdir()
    with History(str(repo / "tsdb")) as server:
        backtested = ok("backtest", "--prometheus", server.url, "--since", "1h")
    assert "DriftStacksMany: never fired" in backtested.stdout
    # every command of the CLI's table ran for real from the wheel, not only --help
    assert ran == set(COMMANDS), set(COMMANDS) - ran


def _hooks_repo(tmp_path: Path) -> tuple[Path, str]:
    """The promcontract repository as a commit (the working tree, changes included), so a
    user's .pre-commit-config.yaml can name it with a rev."""
    hook_repo = clean_copy(tmp_path / "promcontract")
    git = ["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci"]
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                git + ["commit", "-q", "-m", "snapshot"]):
        proc = run(cmd, hook_repo)
        assert proc.returncode == 0, proc.stderr
    rev = run(["git", "rev-parse", "HEAD"], hook_repo).stdout.strip()
    return hook_repo, rev


def test_pre_commit_hooks_as_a_user_runs_them(tmp_path: Path, promtool_bin) -> None:
    import yaml

    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    assert pre_commit, "pre-commit is a test dependency (pip install -e '.[test]')"
    hook_repo, rev = _hooks_repo(tmp_path)
    hooks = [h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())]
    repo = user_repo(tmp_path / "user")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "cache"))
    env.pop("PYTHONPATH", None)
    git = ["git", "-c", "user.email=u@example.invalid", "-c", "user.name=u"]
    assert run(["git", "init", "-q"], repo).returncode == 0
    assert run(["git", "add", "-A"], repo).returncode == 0  # --all-files: the tracked ones
    for hook in hooks:  # every hook of .pre-commit-hooks.yaml, as try-repo runs it
        proc = run([pre_commit, "try-repo", str(hook_repo), hook, "--all-files"], repo, env)
        assert proc.returncode == 0, (hook, proc.stdout[-3000:], proc.stderr[-2000:])
        assert "Passed" in proc.stdout
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [
        {"repo": str(hook_repo), "rev": rev, "hooks": [{"id": h} for h in hooks]}]}))
    assert run([pre_commit, "install"], repo, env).returncode == 0
    assert run(["git", "add", "-A"], repo).returncode == 0
    first = run(git + ["commit", "-q", "-m", "contracts"], repo, env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    contract = repo / "rules" / "drift.contract.yaml"
    contract.write_text(contract.read_text().replace("threshold: 10\n", "threshold: 12\n"))
    assert run(["git", "add", "-A"], repo).returncode == 0
    blocked = run(git + ["commit", "-q", "-m", "raise the threshold"], repo, env)
    assert blocked.returncode != 0, "the check hook let a stale template through"
    said = blocked.stdout + blocked.stderr  # git runs the hook with its output on stderr
    assert "promcontract check" in said and "Failed" in said
    assert "out of date with its contract" in said
    assert run(["git", "log", "--oneline"], repo).stdout.count("\n") == 1
