"""make corpus: lint, characterize and import over the public rule corpus (rule files written by
other people: ../shared/corpus, or $PROMCONTRACT_CORPUS), never copied into this repository.

Prints: crashes (must be 0), lint findings per check and their precision against the labels
committed in tests/fixtures/corpus_lint.yml (a finding not labelled there, or a labelled one
gone, fails), characterized N/M with time and peak memory, promtool time of the slowest written
test file (every written file must pass promtool), import typed/expr counts (every contract
import writes must validate). characterize mutation-tests what it records (a survivor is an
alert's reason, not a recorded test). Exit 1 when a floor is missed, 0 otherwise; "skipped"
(exit 0) when there is no corpus.

    python bench/corpus.py [--corpus DIR] [--out DIR] [--only lint,characterize,import]
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))

from promcontract.template import reader  # noqa: E402

PROMCONTRACT = [sys.executable, "-m", "promcontract"]
LABELS = ROOT / "tests" / "fixtures" / "corpus_lint.yml"
PRECISION_FLOOR = 0.95
STEPS = ("lint", "characterize", "import")


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.suffix in (".yml", ".yaml"))


def run(cmd: list[str], timeout: float = 3600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def crashed(proc: subprocess.CompletedProcess) -> bool:
    """A crash: a traceback, or an exit code the CLI never uses (0 ok, 1 check, 2 input)."""
    return proc.returncode not in (0, 1, 2) or "Traceback (most recent call last)" in proc.stderr


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.crashes: list[str] = []
        self.figures: dict[str, object] = {}

    def fail(self, message: str) -> None:
        self.failures.append(message)
        print(f"  FAIL: {message}", flush=True)


def lint(files: list[Path], corpus: Path, out: Path, report: Report,
         labels_path: Path = LABELS) -> None:
    print("lint", flush=True)
    start = time.perf_counter()
    target = out / "lint.json"
    proc = run(PROMCONTRACT + ["lint", "--rules", *map(str, files), "--format", "json",
                               "-o", str(target)])
    seconds = time.perf_counter() - start
    if crashed(proc) or proc.returncode == 2:
        report.crashes.append(f"lint: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
        return
    found = json.loads(target.read_text())
    got = {f"{Path(f['file']).resolve().relative_to(corpus)}:{f['line']}: {f['check']}: "
           f"{f['message']}": f for f in found}
    labelled = {item["finding"]: item
                for item in yaml.safe_load(labels_path.read_text())["findings"]}
    per_check: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for key, finding in got.items():
        item = labelled.get(key)
        if item is not None:
            per_check[finding["check"]][0 if item["label"] else 1] += 1
    print(f"  {len(found)} findings in {seconds:.1f} s on {len(files)} files")
    for check, (true, false) in sorted(per_check.items()):
        print(f"  {check}: {true + false} ({true} true, {false} false)")
    new, gone = sorted(set(got) - set(labelled)), sorted(set(labelled) - set(got))
    for key in new[:10]:
        print(f"  unlabelled: {key}")
    for key in gone[:10]:
        print(f"  labelled but gone: {key}")
    if new or gone:
        report.fail(f"lint: {len(new)} unlabelled finding(s), {len(gone)} labelled finding(s) "
                    f"gone: review them and label them in {labels_path}")
    true = sum(t for t, _ in per_check.values())
    judged = sum(t + f for t, f in per_check.values())
    precision = true / judged if judged else 1.0
    print(f"  precision: {true}/{judged} = {precision:.1%} (floor {PRECISION_FLOOR:.0%})")
    if precision < PRECISION_FLOOR:
        report.fail(f"lint precision {precision:.1%} is below {PRECISION_FLOOR:.0%}")
    report.figures["lint"] = {"findings": len(found), "seconds": round(seconds, 1),
                              "precision": round(precision, 4),
                              "per_check": {k: v for k, v in per_check.items()}}


def promtool_test(path: Path) -> tuple[Path, float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run([os.environ.get("PROMTOOL", "promtool"), "test", "rules", path.name],
                          capture_output=True, text=True, cwd=path.parent, timeout=600)
    return path, time.perf_counter() - start, proc.returncode, proc.stdout[-400:]


def characterize(files: list[Path], out: Path, report: Report, jobs: int) -> None:
    print("characterize", flush=True)
    target = out / "characterize"
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    proc = run(PROMCONTRACT + ["characterize", "--rules", *map(str, files), "-o", str(target)])
    seconds = time.perf_counter() - start
    # ru_maxrss of waited-for children: the largest process so far (characterize itself)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if crashed(proc) or proc.returncode == 2:
        report.crashes.append(f"characterize: exit {proc.returncode}: "
                              f"{proc.stderr.strip()[-300:]}")
        return
    (out / "characterize.log").write_text(proc.stdout + proc.stderr)
    summary = re.search(r"characterized (\d+)/(\d+) alerts", proc.stdout + proc.stderr)
    done, total = (int(summary.group(1)), int(summary.group(2))) if summary else (0, 0)
    print(f"  characterized {done}/{total} alerts ({done / max(total, 1):.0%}) in "
          f"{seconds:.0f} s, peak memory {peak_mb:.0f} MB (one process)")
    written = sorted(target.glob("*.test.yml"))
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(promtool_test, written))
    failed = [(p, o) for p, _, code, o in results if code != 0]
    slowest = max(results, key=lambda r: r[1]) if results else None
    if slowest:
        print(f"  {len(written)} test files written; slowest in promtool: "
              f"{slowest[0].name} {slowest[1]:.1f} s; {len(failed)} fail promtool")
    for path, output in failed[:5]:
        print(f"  promtool fails {path.name}: {output.strip()[-200:]}")
    if failed:
        report.fail(f"characterize: {len(failed)} written test file(s) fail promtool")
    report.figures["characterize"] = {
        "characterized": done, "alerts": total, "seconds": round(seconds, 1),
        "peak_mb": round(peak_mb), "files": len(written),
        "slowest_file": slowest[0].name if slowest else None,
        "slowest_seconds": round(slowest[1], 2) if slowest else None}


def _import_one(job: tuple[Path, str, Path]) -> tuple[subprocess.CompletedProcess, str | None]:
    path, group, target = job
    cmd = PROMCONTRACT + ["import", "--rules", str(path), "--group", group, "-o", str(target),
                          "--force"]
    proc = run(cmd, timeout=600)
    asked = re.search(r"select \d+ jobs \(([^,)]+)", proc.stderr)
    if proc.returncode == 2 and asked:  # the rules' job= matchers disagree: take the first
        proc = run(cmd + ["--job", asked.group(1)], timeout=600)
        return proc, asked.group(1)
    return proc, None


def import_groups(files: list[Path], out: Path, report: Report, jobs: int) -> None:
    print("import", flush=True)
    target = out / "import"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    work = []
    for path in files:
        source = reader.read_rules(str(path), path.read_text())
        for group in source.groups:
            if group.alerts:
                work.append((path, group.name, target / f"{len(work):03d}.contract.yaml"))
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(_import_one, work))
    seconds = time.perf_counter() - start
    kinds: collections.Counter[str] = collections.Counter()
    refused = []
    for (path, group, _), (proc, _job) in zip(work, results, strict=True):
        if crashed(proc):
            report.crashes.append(f"import {path.name} {group}: exit {proc.returncode}: "
                                  f"{proc.stderr.strip()[-300:]}")
        elif proc.returncode == 2:
            refused.append(proc.stderr.strip().splitlines()[0] if proc.stderr.strip() else "")
        kinds.update(re.findall(r"^\S+:\d+: .*?: imported as (\w+)", proc.stdout, re.M))
    written = sorted(target.glob("*.contract.yaml"))
    invalid = [p for p in written
               if run(PROMCONTRACT + ["validate", str(p)], timeout=120).returncode != 0]
    typed = sum(n for k, n in kinds.items() if k != "expr")
    print(f"  {len(work)} groups: {len(written)} contracts written, {len(refused)} refused, "
          f"{len(invalid)} written but invalid; {seconds:.0f} s")
    print(f"  alerts: {typed} typed, {kinds['expr']} expr ("
          + ", ".join(f"{k} {n}" for k, n in kinds.most_common() if k != "expr") + ")")
    reasons = collections.Counter(re.sub(r"^.*?:\d+(:\d+)?: ", "", r)[:90] for r in refused)
    for reason, count in reasons.most_common(5):
        print(f"  refused {count}x: {reason}")
    if invalid:
        report.fail(f"import: {len(invalid)} written contract(s) fail validate: "
                    + ", ".join(p.name for p in invalid[:5]))
    report.figures["import"] = {"groups": len(work), "written": len(written),
                                "refused": len(refused), "invalid": len(invalid),
                                "typed": typed, "expr": kinds["expr"],
                                "seconds": round(seconds, 1)}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=os.environ.get("PROMCONTRACT_CORPUS",
                                                      str(ROOT.parent / "shared" / "corpus")))
    p.add_argument("--out", default=str(ROOT / "build" / "corpus"))
    p.add_argument("--only", default=",".join(STEPS),
                   help="comma-separated steps: " + ", ".join(STEPS))
    p.add_argument("--jobs", type=int, default=2, help="parallel promtool / import runs")
    p.add_argument("--labels", default=str(LABELS), help="the labelled lint findings")
    args = p.parse_args(argv)
    corpus = Path(args.corpus).resolve()
    if not corpus.is_dir():
        print(f"make corpus: skipped: no corpus at {corpus} (set PROMCONTRACT_CORPUS)")
        return 0
    steps = [s for s in args.only.split(",") if s]
    unknown = set(steps) - set(STEPS)
    if unknown:
        p.error(f"unknown step(s): {', '.join(sorted(unknown))}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = corpus_files(corpus)
    print(f"corpus: {corpus} ({len(files)} rule files)", flush=True)
    report = Report()
    if "lint" in steps:
        lint(files, corpus, out, report, Path(args.labels))
    if "characterize" in steps:
        characterize(files, out, report, args.jobs)
    if "import" in steps:
        import_groups(files, out, report, args.jobs)
    print(f"crashes: {len(report.crashes)}")
    for crash in report.crashes:
        print(f"  {crash}")
    if report.crashes:
        report.fail(f"{len(report.crashes)} crash(es)")
    (out / "corpus.json").write_text(json.dumps({**report.figures,
                                                 "crashes": report.crashes,
                                                 "failures": report.failures}, indent=2))
    if report.failures:
        print("make corpus: FAILED: " + "; ".join(report.failures))
        return 1
    print("make corpus: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
