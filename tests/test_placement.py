"""Never lose an alert: where new groups go, and what `check` says when a group is not
deployed (missing, twice, inside another block, inside a Terraform condition)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from promcontract.problems import UserError
from promcontract.template import splice, tfescape

HEAD = "serverFiles:\n  alerting_rules.yml:\n    groups:\n"
TAIL = "  prometheus.yml:\n    rule_files: [a]\n"


def hand(name: str) -> str:
    return (f"      - name: {name}\n        rules:\n          - alert: {name}Down\n"
            f"            expr: up{{job=\"{name.lower()}\"}} == 0\n")


def block_text(name: str, version: int = 1) -> str:
    return (f"- name: {name}\n  rules:\n    - alert: {name}Alert\n"
            f"      expr: vector({version})\n")


def third_contract(workspace: Path) -> Path:
    """A third contract (a copy of image-scan under other names), as a user would add one."""
    text = (ROOT / "rules" / "image-scan.contract.yaml").read_text()
    for old, new in (("image-scan", "third"), ("Image Scanning", "Third Group"),
                     ("image_scan", "third"), ("ImageScanStale", "ThirdStale"),
                     ("ImageCritical", "ThirdCritical")):
        text = text.replace(old, new)
    path = workspace / "rules" / "third.contract.yaml"
    path.write_text(text)
    shutil.copy(ROOT / "rules" / "image-scan.contract.yaml", workspace / "rules")
    return path


# --- where a new group goes ------------------------------------------------------------------

def test_new_group_goes_above_the_anchor() -> None:
    text = (HEAD + hand("A") + "      # promcontract: new groups\n" + "%{ if flag ~}\n"
            + hand("B") + "%{ endif ~}\n" + TAIL)
    result = splice.splice(text, "C", block_text("C"), "t.tpl")
    lines = result.splitlines()
    assert lines.index("      # END promcontract group: C") + 1 == \
        lines.index("      # promcontract: new groups")
    again = splice.splice(result, "D", block_text("D"), "t.tpl")
    assert again.index("group: C") < again.index("group: D") < again.index("new groups")


def test_new_group_goes_after_the_last_group_outside_blocks_and_directives() -> None:
    """The layout of the reported loss: the list ends with a promcontract block inside a
    Terraform %{ if }. The new group goes after the last group outside both."""
    text = (HEAD + hand("A") + "      # BEGIN promcontract group: X\n" + hand("X")
            + "      # END promcontract group: X\n" + hand("Certs") + "\n%{ if flag ~}\n"
            + hand("Backups") + "      # BEGIN promcontract group: Y\n" + hand("Y")
            + "      # END promcontract group: Y\n%{ endif ~}\n" + TAIL)
    result = splice.splice(text, "C", block_text("C"), "t.tpl")
    assert result == text.replace(hand("Certs"), hand("Certs") + "      # BEGIN promcontract "
                                  "group: C\n" + "".join("      " + line + "\n" for line in
                                                         block_text("C").splitlines())
                                  + "      # END promcontract group: C\n")
    layout = splice.analyse(result, "t.tpl")
    mine = next(b for b in layout.blocks if b.name == "C")
    assert layout.depth[mine.begin] == 0 and layout.enclosing(mine.begin, mine) is None


def test_new_group_goes_after_a_block_not_into_it() -> None:
    text = HEAD + "      # BEGIN promcontract group: X\n" + hand("X") + \
        "      # END promcontract group: X\n" + TAIL
    result = splice.splice(text, "C", block_text("C"), "t.tpl")
    assert result.index("# END promcontract group: X") < result.index("# BEGIN promcontract "
                                                                       "group: C")


def test_first_in_the_list_when_every_group_is_conditional() -> None:
    text = HEAD + "%{ if flag ~}\n" + hand("A") + "%{ endif ~}\n" + TAIL
    result = splice.splice(text, "C", block_text("C"), "t.tpl")
    assert result.startswith(HEAD + "      # BEGIN promcontract group: C\n")


@pytest.mark.parametrize("text,message", [
    ("serverFiles:\n  alerting_rules.yml:\n%{ if flag ~}\n    groups:\n" + hand("A")
     + "%{ endif ~}\n", r"t.tpl:4:1: no place for new group 'C' .* inside the Terraform "
     r"directive of line 3\); add a line '# promcontract: new groups'"),
    (HEAD + hand("A") + "%{ if flag ~}\n      # promcontract: new groups\n%{ endif ~}\n",
     r"t.tpl:\d+:1: '# promcontract: new groups' is inside the Terraform directive of line 8"),
    (HEAD + "      # BEGIN promcontract group: X\n      # promcontract: new groups\n"
     + hand("X") + "      # END promcontract group: X\n",
     r"t.tpl:5:1: '# promcontract: new groups' is inside the promcontract block of group 'X'"),
    (HEAD + "      # promcontract: new groups\n" + hand("A") + "      # promcontract: new "
     "groups\n", r"t.tpl:\d+:1: second '# promcontract: new groups' line \(first on line 4\)"),
])
def test_no_safe_place_is_refused(text: str, message: str) -> None:
    with pytest.raises(UserError) as info:
        splice.splice(text, "C", block_text("C"), "t.tpl")
    assert re.search(message, str(info.value)), str(info.value)


@pytest.mark.parametrize("text,message", [
    (HEAD + "      # BEGIN promcontract group: Y\n" + "      # BEGIN promcontract group: C\n"
     + hand("C") + "      # END promcontract group: C\n" + hand("Y")
     + "      # END promcontract group: Y\n",
     r"t.tpl:5:1: the block of group 'C' is inside the block of group 'Y' \(lines 4-15\)"),
    (HEAD + "      # BEGIN promcontract group: C\n" + hand("C") + hand("Mine")
     + "      # END promcontract group: C\n",
     r"group 'Mine' sits inside the promcontract block of group 'C'"),
])
def test_render_refuses_what_it_would_delete(text: str, message: str) -> None:
    with pytest.raises(UserError) as info:
        splice.splice(text, "C", block_text("C"), "t.tpl")
    assert re.search(message, str(info.value)), str(info.value)


def test_names_are_compared_as_terraform_renders_them() -> None:
    """A group named with '${' is written escaped, markers included, and found again."""
    name = "Cost ${team}"
    block = tfescape.escape(block_text(name))
    once = splice.splice(HEAD + hand("A") + TAIL, name, block, "t.tpl")
    assert "# BEGIN promcontract group: Cost $${team}" in once
    assert tfescape.validate(once) == []
    assert splice.splice(once, name, block, "t.tpl") == once
    adopted = HEAD + "      - name: Cost $${team}\n        rules: []\n" + TAIL
    result = splice.splice(adopted, name, block, "t.tpl")
    assert result.count("- name: Cost $${team}") == 1


# --- property: add, remove, re-render; nothing lost, nothing nested, nothing else changed ---

def _strip_blocks(text: str) -> str:
    return re.sub(r"(?ms)^ *# BEGIN promcontract group: (.*?)$.*?^ *# END promcontract group: "
                  r"\1\n", "", text)


@st.composite
def templates(draw) -> str:
    """A values template: hand-written groups, some inside %{ if } / %{ for }, comments and
    blank lines between them, some promcontract blocks already there, maybe the anchor."""
    parts = [HEAD]
    names = iter(f"H{i}" for i in range(100))
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["hand", "if", "for", "comment", "blank", "block"]))
        if kind == "hand":
            parts.append(hand(next(names)))
        elif kind == "if":
            parts.append("%{ if flag ~}\n" + hand(next(names)) + "%{ endif ~}\n")
        elif kind == "for":
            parts.append("%{ for k, v in m ~}\n" + hand(next(names)) + "%{ endfor ~}\n")
        elif kind == "comment":
            parts.append("      # a comment about the next group, $${not a variable}\n")
        elif kind == "blank":
            parts.append("\n")
        else:  # a block of a contract that no longer exists (it must survive untouched)
            name = next(names)
            parts.append(f"      # BEGIN promcontract group: {name}\n" + hand(name)
                         + f"      # END promcontract group: {name}\n")
    if draw(st.booleans()):
        position = draw(st.integers(1, len(parts)))
        parts.insert(position, "      # promcontract: new groups\n")
    parts.append(TAIL)
    return "".join(parts)


OPERATIONS = st.lists(st.tuples(st.sampled_from(["add", "remove", "render"]),
                                st.sampled_from(["C0", "C1", "C2", "C3"]),
                                st.integers(1, 3)), max_size=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=templates(), operations=OPERATIONS)
def test_every_contract_group_is_present_exactly_once(template: str, operations) -> None:
    assert tfescape.validate(template) == []
    active: dict[str, int] = {}
    text = template
    for op, name, version in operations:
        if op == "remove":
            active.pop(name, None)  # its block stays: render no longer touches it
            continue
        if op == "add" or name in active:
            active[name] = version
        for group, current in sorted(active.items()):  # what `make rules` does
            text = splice.splice(text, group, block_text(group, current), "t.tpl")
    layout = splice.analyse(text, "t.tpl")
    for group, version in active.items():
        mine = [b for b in layout.blocks if b.name == group]
        assert len(mine) == 1, (group, text)
        assert [it.name for it in layout.items].count(group) == 1
        assert layout.depth[mine[0].begin] == 0, text  # never inside a Terraform condition
        assert f"vector({version})" in "".join(
            line.text for line in layout.lines[mine[0].begin:mine[0].end])
    for block in layout.blocks:  # blocks never nested
        assert layout.enclosing(block.begin, block) is None
    assert _strip_blocks(text) == _strip_blocks(template)  # nothing outside blocks changed
    assert tfescape.validate(text) == []
    assert splice.audit(text, [(g, "c") for g in active], "t.tpl") == []


# --- check: a group that is not deployed fails it ---------------------------------------------

@pytest.mark.integration
def test_third_contract_deploys_and_check_sees_a_lost_group(workspace: Path, cli,
                                                           promtool_bin) -> None:
    third_contract(workspace)
    assert cli("render").code == 0
    tpl = workspace / "stacks" / "monitoring" / "prometheus_chart_values.tpl"
    text = tpl.read_text()
    layout = splice.analyse(text, "t")
    third = next(b for b in layout.blocks if b.name == "Third Group")
    assert layout.depth[third.begin] == 0 and layout.enclosing(third.begin, third) is None
    assert cli("check").code == 0
    # The loss as it happened: the group's block deleted by a later render of another block.
    start = text.index("      # BEGIN promcontract group: Third Group")
    end = text.index("# END promcontract group: Third Group\n") + len(
        "# END promcontract group: Third Group\n")
    tpl.write_text(text[:start] + text[end:])
    result = cli("check")
    assert result.code == 1
    assert re.search(r"prometheus_chart_values\.tpl:\d+:1: group 'Third Group' of "
                     r"rules/third\.contract\.yaml is not in the template: its alerts are not "
                     r"deployed", result.err), result.err


@pytest.mark.parametrize("change,message", [
    ("twice", r":(\d+):1: group 'Image Scanning' of rules/image-scan\.contract\.yaml is in the "
              r"template twice"),
    ("nested", r":(\d+):1: group 'Image Scanning' of rules/image-scan\.contract\.yaml is inside "
               r"the block of group 'Infrastructure Drift'"),
    ("conditional", r":(\d+):1: group 'Image Scanning' of rules/image-scan\.contract\.yaml is "
                    r"inside the Terraform directive of line \d+ \(%\{ if enable_backup_alerts "
                    r"~\}\)"),
])
def test_check_fails_when_a_group_is_not_deployed_once(change: str, message: str,
                                                      workspace: Path, cli) -> None:
    shutil.copy(ROOT / "rules" / "image-scan.contract.yaml", workspace / "rules")
    tpl = workspace / "stacks" / "monitoring" / "prometheus_chart_values.tpl"
    text = tpl.read_text()
    start = text.index("      # BEGIN promcontract group: Image Scanning")
    end = text.index("# END promcontract group: Image Scanning\n") + len(
        "# END promcontract group: Image Scanning\n")
    block = text[start:end]
    rest = text[:start] + text[end:]
    if change == "twice":
        text = rest.replace("      # promcontract: new groups", block + block
                            + "      # promcontract: new groups", 1)
    elif change == "nested":
        text = rest.replace("      # END promcontract group: Infrastructure Drift\n",
                            block + "      # END promcontract group: Infrastructure Drift\n")
    else:
        text = rest.replace("%{ endif ~}\n", block + "%{ endif ~}\n")
    tpl.write_text(text)
    result = cli("check", "--skip-unit-tests")
    assert result.code == 1, result.err
    match = re.search(message, result.err)
    assert match, result.err
    assert text.splitlines()[int(match.group(1)) - 1].strip() == \
        "# BEGIN promcontract group: Image Scanning [contract: image-scan]"


def test_a_deleted_contract_fails_check_until_pruned(workspace: Path, cli,
                                                    promtool_bin) -> None:
    """Deleting a contract left its block deployed and its files in place while check said
    "up to date". Now check names each orphan (exit 1); render notes them and writes nothing
    of them; render --prune removes them, and check passes again."""
    (workspace / "rules" / "image-scan.contract.yaml").unlink()
    tpl = workspace / "stacks" / "monitoring" / "prometheus_chart_values.tpl"
    result = cli("check", "--skip-unit-tests")
    assert result.code == 1, result.err
    assert re.search(r"prometheus_chart_values\.tpl:\d+:1: the promcontract block of group "
                     r"'Image Scanning' \(contract 'image-scan'\) is rendered by no contract: "
                     r"its alerts stay deployed; remove it with promcontract render --prune",
                     result.err), result.err
    for name in ("rules/generated/image-scan.rules.yml", "rules/generated/image-scan.test.yml",
                 "docs/image-scan.md"):
        assert f"{name}: generated for a contract that no longer exists" in result.err
    before = tpl.read_bytes()
    noted = cli("render")
    assert noted.code == 0 and "note: the promcontract block of group 'Image Scanning'" in \
        noted.err
    assert tpl.read_bytes() == before
    assert cli("render", "--prune", "--contract", "rules/drift.contract.yaml").code == 2
    pruned = cli("render", "--prune")
    assert pruned.code == 0, pruned.err
    assert "Image Scanning" not in tpl.read_text()
    assert "removed: rules/generated/image-scan.test.yml" in pruned.out
    assert not (workspace / "docs" / "image-scan.md").exists()
    assert (workspace / "docs" / "drift.md").exists()
    assert cli("check", "--skip-unit-tests").code == 0


def test_a_renamed_group_replaces_its_own_block(workspace: Path, cli, promtool_bin) -> None:
    """Renaming a contract's group left the old block deployed beside the new one (the
    alerts twice), render silent and check passing."""
    contract = workspace / "rules" / "image-scan.contract.yaml"
    contract.write_text(contract.read_text().replace("group: Image Scanning",
                                                     "group: Image Scans"))
    tpl = workspace / "stacks" / "monitoring" / "prometheus_chart_values.tpl"
    result = cli("render")
    assert result.code == 0, result.err
    text = tpl.read_text()
    assert "group: Image Scanning" not in text and text.count("- name: Image Scans") == 1
    assert "# BEGIN promcontract group: Image Scans [contract: image-scan]" in text
    assert "was group 'Image Scanning'; renamed to 'Image Scans'" in result.err
    assert cli("check", "--skip-unit-tests").code == 0
