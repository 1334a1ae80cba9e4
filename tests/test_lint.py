"""promcontract lint: each check fires on its defect and stays quiet otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import TEMPLATE
from promcontract import lint
from promcontract.lint.config import LintConfig
from promcontract.problems import Problem, UserError
from promcontract.template import reader

HEAD = """\
server:
  global:
    scrape_interval: 30s
serverFiles:
  prometheus.yml:
    scrape_configs:
      - job_name: fast
        scrape_interval: 5m
  alerting_rules.yml:
    groups:
"""


def rule(name: str, expr: str, for_: str = "10m", summary: str = "s", extra: str = "") -> str:
    return (f"{extra}          - alert: {name}\n            expr: {expr}\n"
            f"            for: {for_}\n            annotations:\n"
            f"              summary: \"{summary}\"\n")


def group(name: str, *rules: str) -> str:
    return f"      - name: {name}\n        rules:\n" + "".join(rules)


def findings(text: str, check: str | None = None) -> list[Problem]:
    found = lint.run("t.tpl", text)
    return [f for f in found if check is None or f.rule == check]


QUIET = HEAD + group("g", rule("A", "up == 0"))

def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1


# check -> (template, (anchor, occurrence) of the expected line, message)
CASES = {
    "empty-group": (HEAD + "      - name: empty\n        rules:\n"
                    + group("g", rule("A", "up == 0")),
                    ("- name: empty", 1), "group 'empty' has no rules"),
    "duplicate-alert": (HEAD + group("g", rule("A", "up == 0"), rule("A", "up == 1")),
                        ("- alert: A", 2), "alert 'A' is defined twice in group 'g' (first on "
                        "line 13)"),
    "aggregated-label": (HEAD + group("g", rule("A", "max(drift_stack_age_hours) > 72",
                                                summary="{{ $labels.stack }}")),
                         ("- alert: A", 1), "annotation summary uses $labels.stack but the "
                         "expression does not keep it (keeps: no labels)"),
    "absent-coverage": (HEAD + group("g", rule("A", "time() - max(last_run_ts) > 3600")),
                        ("- alert: A", 1), "watches the heartbeat last_run_ts but nothing fires "
                        "when last_run_ts is absent"),
    "for-scrape-interval": (HEAD + group("g", rule("A", "up == 0", for_="30s")),
                            ("- alert: A", 1), "for: 30s is not longer than the scrape "
                            "interval (30s, server.global.scrape_interval)"),
    "promtool": (HEAD + group("g", rule("A", "up ==")), ("expr: up ==", 1),
                 "could not parse expression"),
    "terraform-syntax": (HEAD.replace("server:", "# see ${...}\nserver:")
                         + group("g", rule("A", "up == 0")), ("${...}", 1),
                         "not an expression: unexpected '...'"),
}


@pytest.mark.parametrize("check", sorted(CASES))
def test_check_fires(check: str, promtool_bin) -> None:
    text, anchor, message = CASES[check]
    line = line_of(text, *anchor)
    found = findings(text, check)
    assert len(found) == 1, found
    assert found[0].line == line and message in found[0].message, str(found[0])
    assert str(found[0]).startswith(f"t.tpl:{line}: {check}: ")


def test_quiet_template(promtool_bin) -> None:
    assert findings(QUIET) == []


@pytest.mark.parametrize("expr", [
    "time() - max(last_run_ts) > 3600 or absent(last_run_ts)",
    "(time() - last_run_ts > 3600) unless on() x",
])
def test_absent_coverage_quiet_when_covered(expr: str) -> None:
    text = HEAD + group("g", rule("A", expr), rule("B", "absent(x) and absent(last_run_ts)"))
    assert findings(text, "absent-coverage") == []


def test_aggregated_label_quiet_when_kept() -> None:
    text = HEAD + group("g", rule("A", "max by (stack) (age) > 72",
                                  summary="{{ $labels.stack }}"),
                        rule("B", "age > 72", summary="{{ $labels.stack }}"))
    assert findings(text, "aggregated-label") == []


def test_for_uses_the_jobs_own_interval() -> None:
    text = HEAD + group("g", rule("A", 'up{job="fast"} == 0', for_="5m"),
                        rule("B", 'up{job="other"} == 0', for_="1m"))
    found = findings(text, "for-scrape-interval")
    assert [f.line for f in found] == [line_of(text, "- alert: A")]
    assert "(5m, scrape job fast, serverFiles.prometheus.yml scrape_configs)" in found[0].message


def test_a_rule_file_says_the_interval_it_assumed() -> None:
    text = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 1m\n" \
           "  - alert: B\n    expr: up == 0\n    for: 90s\n"
    source = reader.read_rules("r.yml", text)
    found = lint.run("r.yml", text, only={"for-scrape-interval"}, source=source)
    assert [(f.line, f.message) for f in found] == [
        (4, "alert 'A': for: 1m is not longer than the scrape interval (1m, assumed: "
            "Prometheus's default; set --scrape-interval): one late or failed scrape can "
            "decide it")]
    fast = LintConfig(scrape_interval=15.0)
    assert lint.run("r.yml", text, fast, only={"for-scrape-interval"}, source=source) == []


def test_inline_disable_with_reason() -> None:
    disabled = rule("A", "time() - max(last_run_ts) > 3600",
                    extra="          # promcontract-lint: disable=absent-coverage -- the job "
                          "is watched elsewhere\n")
    assert findings(HEAD + group("g", disabled), "absent-coverage") == []
    without_reason = rule("A", "time() - max(last_run_ts) > 3600",
                          extra="          # promcontract-lint: disable=absent-coverage\n")
    found = findings(HEAD + group("g", without_reason))
    assert {f.rule for f in found} == {"disable-without-reason", "absent-coverage"}


def test_yaml_error_after_neutralising_is_exit_2(tmp_path: Path, cli) -> None:
    bad = tmp_path / "bad.tpl"
    bad.write_text(HEAD + "      - name: g\n        rules:\n  - bad: [\n")
    result = cli("lint", "--tpl", str(bad))
    assert result.code == 2
    line = line_of(bad.read_text(), "  - bad: [")
    assert result.err_lines[0].startswith(f"{bad}:{line}:"), result.err
    assert "not valid YAML after neutralising" in result.err


def test_bundled_template_is_clean_and_cli(cli, promtool_bin, amtool_bin,
                                          tmp_path: Path) -> None:
    result = cli("lint", "--tpl", str(TEMPLATE))
    assert result.code == 0, result.out
    bad = tmp_path / "bad.tpl"
    bad.write_text(CASES["duplicate-alert"][0])
    result = cli("lint", "--tpl", str(bad))
    assert result.code == 1
    line = line_of(CASES["duplicate-alert"][0], "- alert: A", 2)
    assert result.out.startswith(f"{bad}:{line}: duplicate-alert: ")
    listed = cli("lint", "--list")
    assert listed.code == 0 and len(listed.out.splitlines()) == len(lint.CHECKS)


def test_handwritten_drift_group_is_flagged(promtool_bin) -> None:
    """The hand-written group of the real system: its heartbeat alert had no absent cover."""
    from conftest import ROOT

    text = (ROOT / "tests" / "fixtures" / "handwritten_values.tpl").read_text()
    found = [f for f in findings(text) if "Drift" in f.message]
    assert [f.rule for f in found] == ["absent-coverage"]


def test_template_syntax_error_is_exit_2() -> None:
    with pytest.raises(UserError) as info:
        lint.run("t.tpl", HEAD + "      - name: ${oops\n")
    assert f"t.tpl:{line_of(HEAD + '      - name: ${oops', '${oops')}" in str(info.value)


@pytest.mark.parametrize("rules", ["rules: []", "rules:", "rules: ~"])
def test_empty_group_in_every_spelling(rules: str) -> None:
    text = HEAD + f"      - name: empty\n        {rules}\n" + group("g", rule("A", "up == 0"))
    found = findings(text, "empty-group")
    assert [f.line for f in found] == [line_of(text, "- name: empty")], found
