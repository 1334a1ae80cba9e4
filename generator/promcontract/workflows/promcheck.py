"""Oracle vs promtool: compile scenarios into test files, run one promtool process.

Used by the property tests and the benchmark. Expected alerts in the files come from the
oracle (oracle.expected), so promtool passing means it agrees with the oracle at every
checked time.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from promcontract import kinds
from promcontract.kinds import series
from promcontract.model.contract import Contract
from promcontract.render import group
from promcontract.runners import promtool
from promcontract.testgen import testfile
from promcontract.testgen.scenarios import single_alert


@dataclass(frozen=True)
class Verdict:
    agrees: bool
    output: str
    files: dict[str, str]  # test file name -> text, for the report

    def report(self) -> str:
        parts = [f"--- {name}\n{text}" for name, text in self.files.items()]
        return "\n".join(parts) + "\n--- promtool\n" + self.output


class Workspace:
    """A temp dir holding one rule file per alert, written once and reused.

    With ``templates=False`` the rules carry no annotations and no labels of their own
    (see derive.single_alert) and the checks are about firing semantics only (the series'
    labels, thresholds, for:, gaps, staleness), which is much faster through promtool; the
    rules' labels and annotation text are pinned by the derived tests and the e2e test.
    """

    def __init__(self, contract: Contract, templates: bool = True):
        self.contract = contract
        self.templates = templates
        self.semantics = series.version_semantics(promtool.version())
        self._tmp = tempfile.TemporaryDirectory(prefix="promcontract-oracle-")
        self.dir = self._tmp.name
        for alert in contract.alerts:
            kind = kinds.of(alert)
            if not (kind.derivable and kind.user_facing):
                continue
            path = os.path.join(self.dir, f"{alert.name}.rules.yml")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(group.render_rule_file(single_alert(contract, alert.name,
                                                                 templates)))
        self._counter = 0

    def close(self) -> None:
        self._tmp.cleanup()

    def check(self, scenarios: list[series.Scenario], *, batch: bool = True,
              processes: int | None = None) -> Verdict:
        """All ``scenarios`` through promtool. Batched: each alert's scenarios dealt into
        ``processes`` parts (default: one per core), one promtool process per part, started
        as soon as its files are written, so Python writes the next part while promtool
        runs. Unbatched: one file per
        scenario, one promtool process for all (the baseline the benchmark compares with)."""
        processes = processes or os.cpu_count() or 1
        self._counter += 1
        paths: list[str] = []
        files: dict[str, str] = {}

        def write(name: str, text: str) -> str:
            path = os.path.join(self.dir, f"t{self._counter}-{name}.test.yml")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            paths.append(path)
            files[name] = text
            return path

        try:
            with series.lookback_semantics(*self.semantics):
                if not batch:
                    for i, s in enumerate(scenarios):
                        write(f"{s.alert}-{i}", testfile.test_file(
                            single_alert(self.contract, s.alert, self.templates),
                            f"{s.alert}.rules.yml", [s]))
                    result = promtool.test_rules(*paths)
                    return Verdict(result.returncode == 0, result.output, files)
                running = []
                lane: list[str] = []
                current = 0
                for part, name, text in testfile.iter_batch_files(
                        self.contract, scenarios, self.templates, parts=processes):
                    if part != current and lane:
                        running.append(promtool.Running(["test", "rules", *lane], merge=True))
                        lane, current = [], part
                    lane.append(write(name, text))
                if lane:
                    running.append(promtool.Running(["test", "rules", *lane], merge=True))
            results = [r.wait() for r in running]
            return Verdict(all(r.returncode == 0 for r in results),
                           "\n".join(r.output for r in results if r.returncode != 0), files)
        finally:
            for path in paths:
                os.unlink(path)
