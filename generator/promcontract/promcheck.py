"""Oracle vs promtool: compile scenarios into test files, run one promtool process.

Used by the property tests and the benchmark. Expected alerts in the files come from the
oracle (oracle.expected), so promtool passing means it agrees with the oracle at every
checked time.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from promcontract import derive, oracle, promtool, render
from promcontract.model import Contract


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
        self.lookback_closed = oracle.lookback_closed_for(promtool.version())
        self._tmp = tempfile.TemporaryDirectory(prefix="promcontract-oracle-")
        self.dir = self._tmp.name
        for alert in contract.alerts:
            if alert.kind in ("expr", "invariant"):
                continue
            path = os.path.join(self.dir, f"{alert.name}.rules.yml")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(render.render_rule_file(
                    derive.single_alert(contract, alert.name, templates)))
        self._counter = 0

    def close(self) -> None:
        self._tmp.cleanup()

    def check(self, scenarios: list[oracle.Scenario], *, batch: bool = True) -> Verdict:
        """One promtool process for all ``scenarios``."""
        with oracle.lookback_semantics(self.lookback_closed):
            if batch:
                files = derive.batch_files(self.contract, scenarios, self.templates)
            else:
                files = {f"{s.alert}-{i}": derive.test_file(
                    derive.single_alert(self.contract, s.alert, self.templates),
                    f"{s.alert}.rules.yml", [s]) for i, s in enumerate(scenarios)}
        paths = []
        self._counter += 1
        for name, text in files.items():
            path = os.path.join(self.dir, f"t{self._counter}-{name}.test.yml")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            paths.append(path)
        result = promtool.run(["test", "rules", *paths])
        for path in paths:
            os.unlink(path)
        return Verdict(result.returncode == 0, result.output, files)
