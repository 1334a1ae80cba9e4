"""make bench: speed figures measured in one run, printed, never asserted.

Each measure prints its figures and, where the issue asks, ratios to a baseline measured in
the same run on the same input (this machine is shared and noisy: compare within a run).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
sys.path.insert(0, str(ROOT / "generator"))

from bigtemplate import make_template  # noqa: E402

PROMCONTRACT = [sys.executable, "-m", "promcontract"]


def wall(cmd: list[str], repeat: int, **kwargs) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1, 3):
            raise SystemExit(f"{cmd} failed: {proc.stderr[-500:]}")
    return times


def bench_check() -> None:
    """`promcontract check` on a generated 5,000-line / 300-rule template (target <= 0.4 s)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "rules").mkdir()
        shutil.copy(ROOT / "rules" / "drift.contract.yaml", work / "rules")
        tpl = work / "values.tpl"
        tpl.write_text(make_template(), encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=str(ROOT / "generator"))
        subprocess.run(PROMCONTRACT + ["render", "--tpl", str(tpl)], cwd=work, env=env,
                       check=True, capture_output=True)
        lines = tpl.read_text().count("\n")
        rules = tpl.read_text().count("- alert:")
        times = wall(PROMCONTRACT + ["check", "--tpl", str(tpl)], 7, cwd=work, env=env)
        rules_file = work / "extracted.yml"
        from promcontract import pipeline

        text, _ = pipeline.template_rules_text(tpl.read_text(), str(tpl))
        rules_file.write_text(text)
        promtool_times = wall(["promtool", "check", "rules", str(rules_file)], 7)
        python_times = wall([sys.executable, "-c", "pass"], 7)
    med, pmed = statistics.median(times), statistics.median(promtool_times)
    print(f"check: template {lines} lines, {rules} rules; promcontract check median "
          f"{med:.3f} s (min {min(times):.3f}, target <= 0.4 s)")
    print(f"check: same run, promtool check rules alone on the extracted rules median "
          f"{pmed:.3f} s; bare python start {statistics.median(python_times):.3f} s; "
          f"ratio check/promtool {med / pmed:.2f}")


def main() -> None:
    measures = {"check": bench_check}
    extra = getattr(sys.modules[__name__], "EXTRA_MEASURES", {})
    measures.update(extra)
    chosen = sys.argv[1:] or list(measures)
    for name in chosen:
        measures[name]()


if __name__ == "__main__":
    main()
