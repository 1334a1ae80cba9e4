"""Nothing a user gives is overwritten, lost or held: no output replaces an input, two renders
at once both land, a render writes all its files or none, special and huge files are refused.

Each test here failed on the code before the guarantee it checks was built.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT

TPL = "stacks/monitoring/prometheus_chart_values.tpl"


def _digest(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (temp files included, so a stray one shows)."""
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and ".pytest" not in str(p)}


# --- 1. outputs never replace inputs -------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["lint", "-o", TPL],
    ["render", "--format", "rulefile", "-o", TPL],
    ["docs", "-o", "rules/drift.contract.yaml"],
    ["check", "--skip-unit-tests", "--junit", TPL],
    ["lint", "-o", "tpl-link"],        # a symlink to the template
    ["docs", "-o", "contract-hard"],   # a hard link to the contract
    ["render", "--format", "docs", "-o", "./rules/../rules/drift.contract.yaml"],
])
def test_an_output_that_is_an_input_is_refused(argv: list[str], workspace: Path, cli) -> None:
    os.symlink(TPL, workspace / "tpl-link")
    os.link(workspace / "rules" / "drift.contract.yaml", workspace / "contract-hard")
    before = _digest(workspace)
    result = cli(*argv)
    assert result.code == 2, result.err
    assert "is an input of this command" in result.err, result.err
    assert "refusing to overwrite it" in result.err
    assert len(result.err_lines) == 1, result.err
    assert _digest(workspace) == before


def test_mutate_junit_onto_a_test_file_it_runs_is_refused(workspace: Path, cli) -> None:
    """mutate reads the generated rule and test files through promtool, not itself."""
    before = _digest(workspace)
    result = cli("mutate", "--alert", "DriftStackErrored", "--junit",
                 "rules/generated/drift.test.yml")
    assert result.code == 2, result.err
    assert "rules/generated/drift.test.yml: is an input of this command" in result.err
    assert _digest(workspace) == before


def test_an_output_elsewhere_is_still_written(workspace: Path, cli) -> None:
    result = cli("docs", "-o", "out.md")
    assert result.code == 0, result.err
    assert "# Infrastructure Drift" in (workspace / "out.md").read_text()


# --- 2. concurrent renders ------------------------------------------------------------------

def _new_contract(workspace: Path, index: int) -> None:
    text = (ROOT / "rules" / "image-scan.contract.yaml").read_text()
    text = text.replace("contract: image-scan", f"contract: scan-{index}")
    text = text.replace("group: Image Scanning", f"group: Scan {index}")
    text = text.replace("image_scan_", f"scan{index}_").replace("image-scan", f"scan-{index}")
    for alert in ("ImageScanStale", "ImageVulnerabilitiesCritical"):
        text = text.replace(alert, f"{alert}{index}")
    (workspace / "rules" / f"scan-{index}.contract.yaml").write_text(text)


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_parallel_renders_of_new_contracts_keep_every_group(workspace: Path,
                                                            promtool_bin: str) -> None:
    count = 4
    for index in range(count):
        _new_contract(workspace, index)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "generator"))
    procs = [subprocess.Popen([sys.executable, "-m", "promcontract", "render", "--contract",
                               f"rules/scan-{index}.contract.yaml"], cwd=workspace, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for index in range(count)]
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        assert f"wrote: {TPL}" in out, out + err
    text = (workspace / TPL).read_text()
    for index in range(count):
        assert text.count(f"# BEGIN promcontract group: Scan {index} [contract: scan-{index}]"
                          "\n") == 1, index
    assert "# BEGIN promcontract group: Infrastructure Drift" in text
    assert not [p for p in (workspace / "stacks" / "monitoring").iterdir()
                if p.name.endswith(".tmp")]


def test_the_template_lock_waits_then_gives_up(workspace: Path) -> None:
    """A lock held elsewhere: the second taker waits, then fails in one line (no hang)."""
    from promcontract.problems import UserError
    from promcontract.runners.fileio import locked

    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, sys, time
        f = open({str(workspace / TPL)!r}, "rb")
        fcntl.flock(f, fcntl.LOCK_EX)
        print("held", flush=True)
        time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match="locked by another promcontract process for "
                                            "over 0.3s"):
            with locked(TPL, wait_s=0.3):
                pass
    finally:
        holder.kill()
        holder.wait()
    with locked(TPL, wait_s=0.3):  # free again
        pass


# --- 3. all or nothing ----------------------------------------------------------------------

def _make_stale(workspace: Path) -> None:
    contract = workspace / "rules" / "drift.contract.yaml"
    contract.write_text(contract.read_text().replace("threshold: 10", "threshold: 11", 1))


@pytest.mark.integration
@pytest.mark.parametrize("failure", ["enospc-third", "interrupt-second", "rename-fails"])
def test_a_render_that_fails_writes_nothing(failure: str, workspace: Path, cli,
                                            monkeypatch: pytest.MonkeyPatch,
                                            promtool_bin: str) -> None:
    _make_stale(workspace)
    before = _digest(workspace)
    calls = {"fsync": 0, "replace": 0}
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls["fsync"] += 1
        if failure == "enospc-third" and calls["fsync"] == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if failure == "interrupt-second" and calls["fsync"] == 2:
            raise KeyboardInterrupt
        real_fsync(fd)

    def replace(src, dst) -> None:  # noqa: ANN001
        calls["replace"] += 1
        if failure == "rename-fails" and calls["replace"] == 3:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    result = cli("render")
    assert result.code in (2, 130), result.err
    if failure != "interrupt-second":
        assert "nothing was written" in result.err, result.err
    assert _digest(workspace) == before  # every original kept, no stray temp file
    assert calls["fsync"] >= 2


def test_an_over_long_contract_id_is_refused_by_validate(workspace: Path, cli) -> None:
    contract = workspace / "rules" / "drift.contract.yaml"
    contract.write_text(contract.read_text().replace("contract: drift", "contract: " + "d" * 64))
    result = cli("validate", str(contract))
    assert result.code == 2
    assert "rules/drift.contract.yaml:7:11:" in result.err and "(contract)" in result.err


def test_write_all_refuses_a_file_name_over_the_limit_before_writing(tmp_path: Path) -> None:
    from promcontract.problems import UserError
    from promcontract.runners.fileio import write_all

    kept = tmp_path / "kept.txt"
    kept.write_text("old")
    with pytest.raises(UserError, match=r"x{300}: cannot write: File name too long; nothing "
                                        "was written"):  # the file that failed, named
        write_all([(str(kept), "new"), (str(tmp_path / ("x" * 300)), "y")])
    assert kept.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]


@pytest.mark.parametrize("group,why", [
    (" Padded", "starts or ends with whitespace"),
    ("Trailing ", "starts or ends with whitespace"),
    ("X # END promcontract group: Y", "holds marker text"),
    ("# BEGIN", "holds marker text"),
])
def test_group_names_that_markers_cannot_hold_are_refused(group: str, why: str,
                                                          workspace: Path, cli) -> None:
    contract = workspace / "rules" / "drift.contract.yaml"
    contract.write_text(contract.read_text().replace("group: Infrastructure Drift",
                                                     f"group: {group!r}"))
    result = cli("validate", str(contract))
    assert result.code == 2, result.err
    assert why in result.err and "(group)" in result.err


# --- 5. render never writes what check rejects ---------------------------------------------

@pytest.mark.integration
def test_render_refuses_to_adopt_a_group_inside_a_terraform_condition(
        workspace: Path, cli, promtool_bin: str) -> None:
    """A hand-written group of the contract's name inside ``%{ if }`` once was adopted with
    a warning (exit 0), and then `check` failed on what render had written."""
    tpl = workspace / TPL
    text = tpl.read_text()
    start = text.index("      # BEGIN promcontract group: Infrastructure Drift")
    end = text.index("      # END promcontract group: Infrastructure Drift\n") + len(
        "      # END promcontract group: Infrastructure Drift\n")
    hand = textwrap.indent(textwrap.dedent("""\
        - name: Infrastructure Drift
          rules:
            - alert: DriftStacksMany
              expr: drift_stack_count > 10
        """), "      ")
    text = text[:start] + text[end:]
    text = text.replace("%{ endif ~}\n", hand + "%{ endif ~}\n", 1)
    tpl.write_text(text)
    before = _digest(workspace)
    result = cli("render", "--contract", "rules/drift.contract.yaml")
    assert result.code == 1, result.err
    assert "inside the Terraform directive" in result.err
    assert "nothing written: the result would fail promcontract check" in result.err
    assert _digest(workspace) == before


# --- 8. special and huge files --------------------------------------------------------------

@pytest.mark.parametrize("command", ["validate", "verify"])
def test_devices_and_fifos_are_refused_at_once(command: str, tmp_path: Path, cli) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        result = cli(command, path)
        assert result.code == 2, result.err
        assert f"{path}: is not a regular file" in result.err


def test_a_file_over_the_size_cap_is_refused(tmp_path: Path, cli,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from promcontract.model import yamlsource

    monkeypatch.setattr(yamlsource, "MAX_FILE_BYTES", 1000)
    big = tmp_path / "big.contract.yaml"
    big.write_text("# x\n" * 300)
    result = cli("validate", str(big))
    assert result.code == 2
    assert "file is 1200 bytes, over the 1000-byte limit; not read" in result.err


def test_verify_stdin_is_capped(monkeypatch: pytest.MonkeyPatch, cli) -> None:
    import io

    from promcontract.model import yamlsource

    monkeypatch.setattr(yamlsource, "MAX_FILE_BYTES", 100)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a 1\n" * 100)))
    result = cli("verify", "-")
    assert result.code == 2
    assert "-: payload is over the" in result.err
