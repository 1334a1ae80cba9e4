"""The steps behind ``render`` and ``check``: contracts -> outputs, compared or written.

Pure functions compute every output's new text; only ``write_outputs`` touches the disk and
it does so after everything has been computed, so bad input never leaves a file half-written.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass

from promcontract.model.contract import Contract
from promcontract.problems import Location, Problem, UserError
from promcontract.render import group
from promcontract.render.writers import Dirs, per_contract
from promcontract.runners.checks import RuleCheck
from promcontract.runners.fileio import check_writable, read_template, read_text, write_all
from promcontract.template import reader, splice, tfescape

GENERATED_DIR = Dirs.generated
DOCS_DIR = Dirs.docs


@dataclass(frozen=True)
class Output:
    path: str
    old: str | None  # None: file does not exist yet
    new: str
    # A generated script (``#!`` first) is written executable; one that is not is stale.
    old_executable: bool = True

    @property
    def executable(self) -> bool:
        return self.new.startswith("#!")

    @property
    def stale(self) -> bool:
        return self.old != self.new or (self.executable and not self.old_executable)

    def diff(self) -> str:
        old = (self.old or "").splitlines(keepends=True)
        new = self.new.splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, new, f"a/{self.path}", f"b/{self.path}"))


def splice_all(contracts: list[Contract], tpl_text: str, tpl_path: str,
               notes: list[str] | None = None) -> str:
    """Every contract's group spliced into the template text, Terraform-escaped; ``notes``
    collects what the user should know (a hand-written group adopted, a block left inside a
    Terraform condition)."""

    text = tpl_text
    for contract in contracts:
        block = tfescape.escape(group.render_group(contract, live=True),
                                keep=tuple(name for name, _ in contract.terraform_variables))
        text, said = splice.splice_report(text, contract.group, block, tpl_path, contract.name)
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


def plan_outputs(contracts: list[Contract], tpl_path: str,
                 generated_dir: str = GENERATED_DIR, tpl_text: str | None = None,
                 notes: list[str] | None = None, docs_dir: str = DOCS_DIR,
                 splice_notes: list[str] | None = None) -> list[Output]:
    """All files ``render`` owns, with their current and intended text: the template, then
    per contract what each per-contract writer makes.

    ``notes`` collects alerts whose tests could not be derived (named, never skipped);
    ``splice_notes`` what splicing the template would do that the user should hear about.
    """
    _check_directory(generated_dir, "the generated rule and test files")
    _check_directory(docs_dir, "the generated docs")
    dirs = Dirs(generated_dir, docs_dir)
    tpl_old = read_template(tpl_path) if tpl_text is None else tpl_text
    outputs = [Output(tpl_path, tpl_old, splice_all(contracts, tpl_old, tpl_path,
                                                     splice_notes))]
    said: list[str] = []
    for contract in contracts:
        for writer in per_contract():
            made = writer.generated(contract, dirs, said)
            if made is None:  # not an output of this contract (a pusher needs push roles)
                continue
            path, text = made
            outputs.append(Output(path, _read_optional(path), text, _is_executable(path)))
    if notes is not None:
        notes += said
    return outputs


# Files a writer makes, by directory: a file of these names that no current contract makes,
# and that says it was made by promcontract, is an orphan (its contract was deleted).
_OWNED = {"generated": (".rules.yml", ".test.yml", ".push.py"),
          "docs": (".md", ".scenarios.svg")}


@dataclass(frozen=True)
class Orphans:
    """What a render of every contract no longer makes: blocks in the template and files."""

    blocks: list[splice.Block]
    files: list[str]

    def problems(self, tpl_path: str, *, note: bool = False) -> list[Problem]:
        """What check fails on; with ``note``, the same as render's notes."""
        lead = "note: " if note else ""
        out = []
        for block in self.blocks:
            owner = f" (contract '{block.contract}')" if block.contract else ""
            out.append(Problem(Location(tpl_path, block.begin + 1, 1),
                               f"{lead}the promcontract block of group '{block.name}'{owner} is "
                               "rendered by no contract: its alerts stay deployed; remove it "
                               "with promcontract render --prune", "groups"))
        for path in self.files:
            out.append(Problem(Location(path), f"{lead}generated for a contract that no longer "
                               "exists; remove it with promcontract render --prune"))
        return out


def find_orphans(contracts: list[Contract], outputs: list[Output], tpl_text: str,
                 tpl_path: str, generated_dir: str = GENERATED_DIR,
                 docs_dir: str = DOCS_DIR) -> Orphans:
    """Blocks of ``tpl_text`` and files in the output directories that none of ``contracts``
    (which must be all of them) renders."""
    blocks = splice.orphan_blocks(tpl_text, {c.group for c in contracts}, tpl_path,
                                  {c.name for c in contracts})
    expected = {os.path.realpath(o.path) for o in outputs}
    files = []
    for directory, suffixes in ((generated_dir, _OWNED["generated"]),
                                (docs_dir, _OWNED["docs"])):
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if (not name.endswith(suffixes) or os.path.realpath(path) in expected
                    or not os.path.isfile(path) or os.path.islink(path)):
                continue
            try:
                with open(path, "rb") as handle:
                    head = handle.read(600).decode("utf-8", "replace")
            except OSError:
                continue
            if "by promcontract" in head and "promcontract characterize" not in head:
                files.append(path)
    return Orphans(blocks, files)


def prune(outputs: list[Output], orphans: Orphans) -> list[Output]:
    """``outputs`` with the orphan blocks taken out of the template's new text (``orphans``
    found on that text: ``find_orphans(..., outputs[0].new, ...)``)."""
    if not orphans.blocks:
        return outputs
    template = outputs[0]
    return [Output(template.path, template.old,
                   splice.remove_blocks(template.new, orphans.blocks),
                   template.old_executable)] + outputs[1:]


def _check_directory(path: str, what: str) -> None:
    """``path`` (or the part of it that exists) must be a directory: fail before any work."""
    probe = path
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if probe and not os.path.isdir(probe):
        raise UserError(Problem(Location(probe), f"is a file; expected a directory for {what} "
                                f"({path})"))


def prewrite_problems(outputs: list[Output], tpl_path: str,
                      contracts: list[Contract] | None = None) -> list[Problem]:
    """Why the new texts must not be written: they would fail `check` (the template's
    structure for every contract's group and its Terraform template syntax, the same audit
    `check` runs; promtool check rules on its whole alerting_rules.yml and on the standalone
    rule files)."""
    template = next(o for o in outputs if o.path == tpl_path)
    if contracts is not None:
        problems = template_problems(template.new, contracts, tpl_path)
    else:
        problems = terraform_problems(template.new, tpl_path)
    spliced = reader.read(tpl_path, template.new)
    texts = [(spliced.rules_text, tpl_path, spliced.rules_offset)] + [
        (o.new, o.path, 0) for o in outputs if o.path.endswith(".rules.yml")]
    return problems + RuleCheck(texts).problems()


def _is_executable(path: str) -> bool:
    try:
        return os.stat(path).st_mode & 0o111 == 0o111
    except OSError:
        return False


def _read_optional(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    return read_text(path, is_input=False)  # an output's old text, compared, then replaced


def check_outputs_writable(outputs: list[Output]) -> None:
    """Fail (``UserError``) before any work or write when a stale output cannot be written,
    or when an output other than the template is an input (a contract, the template)."""
    for output in outputs:
        if not output.stale:
            continue
        directory = os.path.dirname(output.path) or "."
        if os.path.isdir(directory):
            check_writable(output.path, replaces_input=output is outputs[0])
        else:
            _check_directory(directory, output.path)


def write_outputs(outputs: list[Output]) -> list[Output]:
    """Write the stale outputs (only those), all or none; returns what was written.

    The first output is the template, which render reads and rewrites; any other output
    that is the same file as an input (a contract, the template) is refused."""
    stale = [o for o in outputs if o.stale]
    check_outputs_writable(outputs)  # fail before writing anything
    made: list[str] = []
    try:
        for output in stale:
            directory = os.path.dirname(output.path) or "."
            if not os.path.isdir(directory):
                os.makedirs(directory)
                made.append(directory)
        write_all([(o.path, o.new) for o in stale], replaces_input={outputs[0].path},
                  executable={o.path for o in stale if o.executable})
    except BaseException as exc:
        for directory in reversed(made):  # nothing half-made either
            try:
                os.removedirs(directory)
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise UserError(Problem(Location(made[-1] if made else "."), f"cannot create "
                                    f"the directory: {exc.strerror}; nothing was written")
                            ) from None
        raise
    return stale


__all__ = ["Output", "Orphans", "find_orphans", "prune", "splice_all", "terraform_problems",
           "template_problems", "plan_outputs",
           "prewrite_problems", "check_outputs_writable", "write_outputs"]
