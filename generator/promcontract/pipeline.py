"""The steps behind ``render`` and ``check``: contracts -> outputs, compared or written.

Pure functions compute every output's new text; only ``write_outputs`` touches the disk and
it does so after everything has been computed, so bad input never leaves a file half-written.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from dataclasses import dataclass

from promcontract import promtool, splice, tfescape
from promcontract.errors import Location, Problem, UserError
from promcontract.fileio import check_writable, read_template, read_text, write_atomic
from promcontract.model import Contract

GENERATED_DIR = "rules/generated"
DOCS_DIR = "docs"


@dataclass(frozen=True)
class Output:
    path: str
    old: str | None  # None: file does not exist yet
    new: str

    @property
    def stale(self) -> bool:
        return self.old != self.new

    def diff(self) -> str:
        old = (self.old or "").splitlines(keepends=True)
        new = self.new.splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, new, f"a/{self.path}", f"b/{self.path}"))


def splice_all(contracts: list[Contract], tpl_text: str, tpl_path: str,
               notes: list[str] | None = None) -> str:
    """Every contract's group spliced into the template text, Terraform-escaped; ``notes``
    collects what the user should know (a hand-written group adopted, a block left inside a
    Terraform condition)."""
    from promcontract import render  # Jinja2 import is slow; `check` overlaps it with promtool
    text = tpl_text
    for contract in contracts:
        block = tfescape.escape(render.render_group(contract))
        text, said = splice.splice_report(text, contract.group, block, tpl_path)
        if notes is not None:
            notes += said
    return text


def terraform_problems(text: str, path: str) -> list[Problem]:
    """What Terraform's templatefile() would reject in the template, located."""
    body = text[1:] if text.startswith("\ufeff") else text
    out = []
    for offset, message in tfescape.validate(body):
        line, col = tfescape.line_col(body, offset)
        out.append(Problem(Location(path, line, col), f"Terraform template: {message}"))
    return out


def template_problems(text: str, contracts: list[Contract], path: str) -> list[Problem]:
    """Why the template, as it is, would fail `check` apart from promtool: Terraform syntax,
    and each contract's group missing, twice, nested in another block or inside a directive."""
    groups = [(c.group, c.source) for c in contracts]
    return terraform_problems(text, path) + splice.audit(text, groups, path)


def rule_file_path(contract: Contract, generated_dir: str = GENERATED_DIR) -> str:
    return os.path.join(generated_dir, f"{contract.name}.rules.yml")


def test_file_path(contract: Contract, generated_dir: str = GENERATED_DIR) -> str:
    return os.path.join(generated_dir, f"{contract.name}.test.yml")


def plan_outputs(contracts: list[Contract], tpl_path: str,
                 generated_dir: str = GENERATED_DIR, tpl_text: str | None = None,
                 notes: list[str] | None = None, docs_dir: str = DOCS_DIR,
                 splice_notes: list[str] | None = None) -> list[Output]:
    """All files ``render`` owns, with their current and intended text.

    ``notes`` collects alerts whose tests could not be derived (named, never skipped);
    ``splice_notes`` what splicing the template would do that the user should hear about.
    """
    from promcontract import derive, docs, render

    _check_directory(generated_dir, "the generated rule and test files")
    _check_directory(docs_dir, "the generated docs")
    tpl_old = read_template(tpl_path) if tpl_text is None else tpl_text
    outputs = [Output(tpl_path, tpl_old, splice_all(contracts, tpl_old, tpl_path,
                                                     splice_notes))]
    for contract in contracts:
        path = rule_file_path(contract, generated_dir)
        outputs.append(Output(path, _read_optional(path), render.render_rule_file(contract)))
        test_path = test_file_path(contract, generated_dir)
        text, not_derivable = derive.contract_test_file(contract, os.path.basename(path))
        outputs.append(Output(test_path, _read_optional(test_path), text))
        if notes is not None:
            notes += [f"{contract.source}: not derivable: {line}" for line in not_derivable]
        doc_path = os.path.join(docs_dir, f"{contract.name}.md")
        outputs.append(Output(doc_path, _read_optional(doc_path), docs.render_docs(contract)))
    return outputs


def _check_directory(path: str, what: str) -> None:
    """``path`` (or the part of it that exists) must be a directory: fail before any work."""
    probe = path
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if probe and not os.path.isdir(probe):
        raise UserError(Problem(Location(probe), f"is a file; expected a directory for {what} "
                                f"({path})"))


def prewrite_problems(outputs: list[Output], tpl_path: str) -> list[Problem]:
    """Why the new texts must not be written: they would fail `check` (Terraform template
    syntax of the template; promtool check rules on its whole alerting_rules.yml and on the
    standalone rule files)."""
    template = next(o for o in outputs if o.path == tpl_path)
    problems = terraform_problems(template.new, tpl_path)
    rules_text, offset = template_rules_text(template.new, tpl_path)
    texts = [(rules_text, tpl_path, offset)] + [
        (o.new, o.path, 0) for o in outputs if o.path.endswith(".rules.yml")]
    return problems + RuleCheck(texts).problems()


def _read_optional(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    return read_text(path)


def check_outputs_writable(outputs: list[Output]) -> None:
    """Fail (``UserError``) before any work or write when a stale output cannot be written."""
    for output in outputs:
        if not output.stale:
            continue
        directory = os.path.dirname(output.path) or "."
        if os.path.isdir(directory):
            check_writable(output.path)
        else:
            _check_directory(directory, output.path)


def write_outputs(outputs: list[Output]) -> list[Output]:
    """Write the stale outputs (only those); returns what was written."""
    stale = [o for o in outputs if o.stale]
    check_outputs_writable(outputs)  # fail before writing anything
    for output in stale:
        directory = os.path.dirname(output.path) or "."
        if not os.path.isdir(directory):
            os.makedirs(directory, exist_ok=True)
    for output in stale:
        write_atomic(output.path, output.new)
    return stale


_PROMTOOL_LOC = re.compile(r"^(?P<file>[^:\n]+): (?P<line>\d+):(?P<col>\d+): (?P<msg>.*)$")


class RuleCheck:
    """``promtool check rules`` on texts, started at once and run in the background.

    Each text is shown as the file it came from, with a line offset, so findings point at
    the user's file (the template) and not at a temp copy.
    """

    def __init__(self, texts: list[tuple[str, str, int]]):
        self._tmp = tempfile.TemporaryDirectory(prefix="promcontract-")
        self._shown: dict[str, tuple[str, int]] = {}
        paths = []
        for index, (text, shown_as, offset) in enumerate(texts):
            path = os.path.join(self._tmp.name, f"rules-{index}.yml")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            self._shown[path] = (shown_as, offset)
            paths.append(path)
        try:
            self._running = promtool.start_check_rules(*paths)
        except BaseException:
            self._tmp.cleanup()
            raise

    @property
    def seconds(self) -> float:
        return self._running.seconds

    def problems(self) -> list[Problem]:
        try:
            result = self._running.wait()
        finally:
            self._tmp.cleanup()
        if result.returncode == 0:
            return []
        problems = []
        for raw in result.output.splitlines():
            line = raw.strip()
            if not line or line.startswith(("Checking", "FAILED", "SUCCESS")):
                continue
            match = _PROMTOOL_LOC.match(line)
            if match and match.group("file") in self._shown:
                shown_as, offset = self._shown[match.group("file")]
                problems.append(Problem(
                    Location(shown_as, int(match.group("line")) + offset,
                             int(match.group("col"))),
                    "promtool check rules: " + match.group("msg")))
                continue
            message = line
            where = Location("promtool")
            for path, (shown_as, _) in self._shown.items():
                if path in message:
                    where = Location(shown_as)
                    message = message.replace(path + ": ", "").replace(path, shown_as)
            problems.append(Problem(where, "promtool check rules: " + message))
        if not problems:
            problems.append(Problem(Location("promtool"),
                                    f"promtool check rules failed: {result.output[:200]}"))
        return problems


class UnitTests:
    """``promtool test rules`` on each test file, started at once and run in the background,
    as many at a time as there are cores: each file gets its own verdict and its own time."""

    def __init__(self, paths: list[str]):
        import concurrent.futures

        self.paths = paths
        self.seconds: dict[str, float] = {}
        self.outputs: dict[str, str] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
        self._futures = {path: self._pool.submit(self._one, path) for path in paths}

    def _one(self, path: str) -> promtool.Result:
        import time

        started = time.monotonic()
        try:
            return promtool.test_rules(path)
        finally:
            self.seconds[path] = time.monotonic() - started

    def results(self) -> dict[str, list[Problem]]:
        """Problems per test file (an empty list: it passed)."""
        out: dict[str, list[Problem]] = {}
        try:
            for path, future in self._futures.items():
                result = future.result()
                self.outputs[path] = result.output
                if result.returncode == 0:
                    out[path] = []
                    continue
                parsed = promtool.parse_test_output(result.output)
                detail = "; ".join(r.describe() for r in parsed.values() if not r.ok) or \
                    promtool.test_failure_summary(result.output)
                out[path] = [Problem(Location(path), "promtool test rules failed: " + detail)]
        finally:
            self._pool.shutdown(wait=True)
        return out

    def problems(self) -> list[Problem]:
        return [p for found in self.results().values() for p in found]


def promtool_rule_problems(text: str, shown_as: str, line_offset: int = 0) -> list[Problem]:
    """``promtool check rules`` on one text; findings located in the file it came from."""
    return RuleCheck([(text, shown_as, line_offset)]).problems()


def template_rules_text(tpl_text: str, tpl_path: str) -> tuple[str, int]:
    """``alerting_rules.yml`` from the template as plain YAML, and its line offset."""
    raw, start = splice.extract_alerting_rules(tpl_text, tpl_path)
    try:
        return tfescape.neutralise(raw), start
    except tfescape.TemplateSyntaxError as exc:
        line = raw.count("\n", 0, max(exc.offset, 0)) + 1 + start
        raise UserError(Problem(Location(tpl_path, line), str(exc))) from None
