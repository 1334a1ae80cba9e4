"""Mutation testing: the operators, their equivalence proofs, and the engine against promtool
(contract mode and --rules/--tests over hand-written files)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from promcontract.model import promfiles
from promcontract.promql import parse, text
from promcontract.render import group
from promcontract.runners import promtool
from promcontract.testgen import mutate, operators, testfile
from promcontract.testgen import scenarios as derive

GENERATED = ROOT / "rules" / "generated"


def _by_operator(expr: str, for_: str | None = None, keep: str | None = None,
                 hints: operators.Hints | None = None) -> dict[str, list[operators.Mutation]]:
    out: dict[str, list[operators.Mutation]] = {}
    for m in operators.mutations(expr, for_, keep, 60.0, hints):
        out.setdefault(m.operator, []).append(m)
    return out


# --- operators, pure -------------------------------------------------------------------------

def test_each_operator_changes_what_it_names() -> None:
    found = _by_operator(
        '(time() - max by (job) (hb{job="j"}) > 26 * 3600) or '
        'label_replace(absent(hb{job="j"}), "absent", "true", "", "")', "30m", "10m")
    exprs = {op: {m.expr for m in ms} for op, ms in found.items()}
    assert 'time() - max by (job) (hb{job="j"}) > 27 * 3600' in \
        {e.split(" or ")[0].strip("()") for e in exprs["literal"]}
    assert any("> 93601" in e for e in exprs["constant"])
    assert any("> 93599" in e for e in exprs["constant"])
    assert any(">= 26 * 3600" in e for e in exprs["strictness"])
    assert {e.split(" 3600) ")[1].split(" ")[0] for e in exprs["set-operator"]} == {"and",
                                                                                     "unless"}
    assert exprs["absent-branch"] == {'(time() - max by (job) (hb{job="j"}) > 26 * 3600)'}
    assert any("max by () (" in e for e in exprs["matching-label"])
    assert {m.for_ for m in found["for"]} == {"29m", "31m"}
    assert {m.keep_firing_for for m in found["keep_firing_for"]} == {"9m", "11m"}


def test_state_constants_move_to_the_neighbouring_enum_values() -> None:
    hints = operators.Hints({"s": (0.0, 1.0, 2.0, 5.0)})
    assert {m.after for m in _by_operator("s == 2", hints=hints)["state"]} == {"s == 1",
                                                                              "s == 5"}
    assert {m.after for m in _by_operator("s != 0", hints=hints)["state"]} == {"s != 1"}
    # without a contract: one below and one above
    assert {m.after for m in _by_operator("s == 2")["state"]} == {"s == 1", "s == 3"}
    assert "literal" not in _by_operator("s == 2")  # the state operator moves that number


def test_fallback_zero_becomes_one() -> None:
    found = _by_operator('c != on(job) (count by (job) (s == 1) or on(job) 0 * max by (job) '
                         '(c))')
    assert [m.after for m in found["fallback"]] == ["1 * max by (job) (c)"]


def test_ranges_and_offsets_move_by_their_largest_unit() -> None:
    found = _by_operator("increase(c[30m] offset 1h) > 0")
    assert {m.after for m in found["range"]} == {
        "increase(c[29m] offset 1h)", "increase(c[31m] offset 1h)",
        "c[30m] offset 59m", "c[30m] offset 1h1m"}
    one = _by_operator("rate(c[1m]) > 0")["range"]  # never a zero range
    assert [m.after for m in one] == ["rate(c[59s])", "rate(c[1m1s])"]


def test_an_alert_without_for_gets_one() -> None:
    assert [(m.before, m.after) for m in _by_operator("x > 1")["for"]] == [("for: 0s",
                                                                           "for: 1m")]


def test_every_mutant_of_every_generated_rule_parses_back_and_differs() -> None:
    seen = 0
    for path in sorted(GENERATED.glob("*.rules.yml")):
        for rule in promfiles.load_rules(str(path)).alerts:
            original = parse(rule.expr)
            for m in operators.mutations(rule.expr, rule.for_, rule.keep_firing_for, 60.0):
                assert text(parse(m.expr)) == m.expr
                assert m.diff and "->" in m.diff
                changed = parse(m.expr) != original or (m.for_, m.keep_firing_for) != (
                    rule.for_, rule.keep_firing_for)
                assert changed, m
                seen += 1
    assert seen > 100


# --- equivalence: proven where it holds, never where it does not ------------------------------

def _equivalent(expr: str, operator: str, after: str,
                hints: operators.Hints | None = None) -> str:
    ms = [m for m in _by_operator(expr, hints=hints)[operator] if after in m.after]
    assert len(ms) == 1, [m.after for m in _by_operator(expr, hints=hints)[operator]]
    return ms[0].equivalent


def test_dropping_a_label_every_series_pins_from_a_set_operator_is_equivalent() -> None:
    reason = _equivalent('a{job="j"} unless on(job, stack) b{job="j"}', "matching-label",
                         "on(stack)")
    assert 'job="j"' in reason


@pytest.mark.parametrize("expr, after", [
    ('a{job="j"} unless on(job, stack) b{job=~"j|k"}', "on(stack)"),  # may differ
    ('a{job="j"} unless on(job, stack) b{job="k"}', "on(stack)"),  # other value
    ('a{job="j"} unless on(job, stack) b{job="j"}', "on(job)"),  # stack varies
    ('a{job="j"} != on(job) b{job="j"}', "on()"),  # one-to-one keeps only on() labels
    ('a{job="j"} unless on(job) sum(b{job="j"})', "on()"),  # sum() drops job
])
def test_dropping_a_label_that_may_differ_is_not_equivalent(expr, after) -> None:
    assert _equivalent(expr, "matching-label", after) == ""


def test_strictness_flip_is_equivalent_only_for_whole_numbers_against_a_fraction() -> None:
    hints = operators.Hints(integral=frozenset({"count_metric"}))
    assert _equivalent("count_metric > 10.5", "strictness", ">=", hints)
    assert _equivalent("count(x) > 2.5", "strictness", ">=")
    assert _equivalent("count_metric > 10", "strictness", ">=", hints) == ""
    assert _equivalent("other_metric > 10.5", "strictness", ">=", hints) == ""


def test_negative_fallback_is_equivalent_only_against_the_same_series() -> None:
    same = 'c != on(job) (count by (job) (s == 1) or on(job) 0 * max by (job) (c))'
    assert "x != -x" in _equivalent(same, "literal", "-1 *")
    other = ('(c + d) != on(job) (count by (job) (s) or on(job) 0 * max by (job) (c))')
    assert _equivalent(other, "literal", "-1 *") == ""


def test_for_values_between_two_evaluations_are_equivalent() -> None:
    found = {m.after: m.equivalent for m in _by_operator("x > 1", "45s")["for"]}
    assert found["for: 44s"] and found["for: 46s"]
    assert not found["for: 0s"] and not found["for: 105s"]


# --- rule and test files, read and written back as promtool reads them ------------------------

def test_scalars_are_written_back_as_written(tmp_path: Path) -> None:
    source = textwrap.dedent("""\
        rule_files: [r.yml]
        evaluation_interval: 1m
        fuzzy_compare: true
        tests:
          - interval: 1m
            input_series:
              - series: 'm{code="0x1F"}'
                values: 1e3 2e3
            alert_rule_test:
              - eval_time: 0
                alertname: A
                exp_alerts:
                  - exp_labels: {code: 0x1F, n: 010, f: 1.50, q: '7'}
        """)
    (tmp_path / "r.yml").write_text("groups: []\n")
    path = tmp_path / "t.yml"
    path.write_text(source)
    dumped = promfiles.dump(promfiles.load_tests(str(path)).data)
    for kept in ("values: 1e3 2e3", "code: 0x1F", "n: 010", "f: 1.50", "q: '7'",
                 "fuzzy_compare: true", "eval_time: 0"):
        assert kept in dumped, dumped
    assert yaml.safe_load(dumped) == yaml.safe_load(source)


_ODD = textwrap.dedent("""\
    a: 'single ''quoted'''
    b: "double\\ttab \\u00e9 \\\\ back"
    c: |
      block
      text
    d: >-
      folded
      text
    e: [1, 0x1F, 1.50, ~, true, '', "x: y", -.inf, 1e3]
    f: {k: v, "q k": 1e3, 7: seven}
    g:
    h: ünïcödé 😀
    i: '- not a list'
    """)


def _dump_cases(tmp_path: Path, odd: str, extra: list) -> list:
    """Values to write: ``odd`` read as a file, every rule and test file of the repository,
    and ``extra``."""
    (tmp_path / "odd.yml").write_text(odd)
    files = [tmp_path / "odd.yml", *ROOT.glob("rules/**/*.yml"),
             *ROOT.glob("tests/fixtures/**/*.yml")]
    values = [promfiles.load(str(f), "YAML") for f in files] + extra
    assert len(values) > 15
    return values


def test_dump_writes_what_pyyaml_writes(tmp_path: Path) -> None:
    """promfiles.dump builds the nodes itself (faster than PyYAML's representer); its text
    is PyYAML's, byte for byte, for every rule and test file of the repository and for
    values of every style and type (quoted, block, flow, unicode, empty, numbers, null)."""

    class Reference(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
        def ignore_aliases(self, data):  # noqa: ANN001, ANN202
            return True

    Reference.add_representer(promfiles.Verbatim, promfiles._represent_verbatim)
    Reference.add_representer(promfiles.Node, promfiles._represent_node)
    Reference.add_representer(promfiles.Seq, promfiles._represent_seq)
    for value in _dump_cases(tmp_path, _ODD + "j: 2026-01-01\n", [
            {"plain": "m > 1", "n": 1, "none": None, "list": [1.5, True, "a: b"],
             "multi": "l1\nl2\n", "empty": ""}, [], {}, "top", 3]):
        assert promfiles.dump(value) == yaml.dump(
            value, Dumper=Reference, sort_keys=False, allow_unicode=True, width=1 << 20)


def test_flow_dump_reads_as_the_block_dump(tmp_path: Path) -> None:
    """promfiles.dump_flow (mutate's temp files) reads as the same values as dump writes,
    for every rule and test file of the repository and scalars of every style and type; it
    writes flow (no fallback to dump) for all of these, and falls back where a flow
    collection could not hold a scalar as it was."""
    values = _dump_cases(tmp_path, _ODD, [
        {"plain": "m > 1", "n": 1, "none": None, "list": [True, "a: b", "2"],
         "multi": "l1\nl2\n", "empty": ""}, [], {}, "top", 3])
    for value in values:
        flow = promfiles.dump_flow(value)
        assert flow != promfiles.dump(value) or not isinstance(value, dict) or not value
        assert yaml.safe_load(flow) == yaml.safe_load(promfiles.dump(value))
    for source in ("t: 2026-01-01", "t: 12:30", "t: !custom x", 'd: "del\\x7f"'):
        (tmp_path / "fall.yml").write_text(source)
        value = promfiles.load(str(tmp_path / "fall.yml"), "YAML")
        assert promfiles.dump_flow(value) == promfiles.dump(value)
    assert promfiles.dump_flow({"f": 1.5}) == promfiles.dump({"f": 1.5})


def test_flow_dump_tells_apart_scalars_of_one_text() -> None:
    """dump_flow resolves each scalar once (text, tag, style): the same text written as an
    int, a quoted string and a plain string keeps each its own flow text, in any order; a
    scalar only dump can write makes every document holding it fall back; a long scalar is
    written the same every time."""
    def scalar(tag: str | None, style: str | None = None) -> object:
        return "12" if tag is None else promfiles.Verbatim("12", f"tag:yaml.org,2002:{tag}",
                                                          style, 1, 1)

    values = {"int": (scalar("int"), "12"), "quoted": (scalar("str", "'"), '"12"'),
              "python": (scalar(None), '"12"')}
    for order in (("int", "quoted", "python"), ("quoted", "python", "int"),
                  ("python", "int", "quoted")):
        data = {name: values[name][0] for name in order}
        assert promfiles.dump_flow(data) == "{" + ", ".join(
            f"{name}: {values[name][1]}" for name in order) + "}\n"
        assert yaml.safe_load(promfiles.dump_flow(data)) == yaml.safe_load(
            promfiles.dump(data))
    odd = promfiles.Verbatim("del\x7f", "tag:yaml.org,2002:str", '"', 1, 1)
    long = "m > " + "1" * 2000  # not kept: resolved again each time, the same
    for _ in range(2):
        assert promfiles.dump_flow({"d": odd}) == promfiles.dump({"d": odd})
        assert promfiles.dump_flow({"l": long}) == '{l: "' + long + '"}\n'


@pytest.mark.integration
def test_promtool_reads_flow_dumped_files_as_the_block_ones(tmp_path: Path, promtool_bin
                                                            ) -> None:
    """The bundled derived tests and their rule files, written by dump_flow: promtool passes
    them as it passes the originals, and reports the same failure when one expectation is
    changed; so does a file with numbers where promtool wants numbers (quoted, promtool
    would refuse them)."""
    own = tmp_path / "own"
    own.mkdir()
    (own / "numbers.rules.yml").write_text(
        "groups:\n- name: g\n  limit: 10\n  rules:\n  - record: r\n    expr: vector(1000)\n"
        "  - alert: A\n    expr: m > r\n")
    (own / "numbers.test.yml").write_text(
        "rule_files: [numbers.rules.yml]\nevaluation_interval: 1m\ntests:\n- interval: 1m\n"
        "  input_series:\n  - series: m\n    values: 0 0 2e3 2e3\n  promql_expr_test:\n"
        "  - expr: r\n    eval_time: 1m\n    exp_samples:\n    - labels: r\n      value: 1e3\n"
        "  alert_rule_test:\n  - eval_time: 3m\n    alertname: A\n    exp_alerts: [{}]\n")
    for test_path in [*sorted(ROOT.glob("rules/generated/*.test.yml")),
                      own / "numbers.test.yml"]:
        test = promfiles.load_tests(str(test_path))
        outputs = {}
        for kind, dump in (("flow", promfiles.dump_flow), ("block", promfiles.dump)):
            where = tmp_path / kind / test_path.stem
            where.mkdir(parents=True)
            for rule_path in test.rule_paths:
                (where / Path(rule_path).name).write_text(
                    dump(promfiles.load(rule_path, "rules")))
            data = promfiles.Node(test.data)
            (where / "t.yml").write_text(dump(data))
            group = promfiles.Node(data["tests"][0])
            group["alert_rule_test"] = promfiles.Seq(group["alert_rule_test"])
            group["alert_rule_test"][-1] = promfiles.Node(group["alert_rule_test"][-1],
                                                          eval_time="1m")
            changed = promfiles.Node(data, tests=promfiles.Seq([group, *data["tests"][1:]]))
            (where / "changed.yml").write_text(dump(changed))
            # by path, not from the directory: PROMTOOL may be a relative path
            passed = subprocess.run([promtool_bin, "test", "rules", str(where / "t.yml")],
                                    capture_output=True, text=True, check=False)
            assert passed.returncode == 0, passed.stdout + passed.stderr
            failed = subprocess.run([promtool_bin, "test", "rules",
                                     str(where / "changed.yml")],
                                    capture_output=True, text=True, check=False)
            assert failed.returncode == 1
            outputs[kind] = (failed.stdout + failed.stderr).replace(str(where), "")
        assert outputs["flow"] == outputs["block"] and "FAILED" in outputs["flow"]


# --- against promtool ---------------------------------------------------------------------------

def _weakened(name: str, drop: tuple[str, ...]) -> tuple[str, str, operators.Hints, int]:
    """The bundled contract's rule file and its derived tests without the scenarios whose
    titles start with ``drop`` (and how many were dropped)."""
    from promcontract.contract import load_contract

    contract = load_contract(str(ROOT / "rules" / f"{name}.contract.yaml"))
    scenarios, _ = derive.derive(contract)
    kept = [s for s in scenarios if not s.title.startswith(drop)]
    return (group.render_rule_file(contract),
            testfile.test_file(contract, "x.rules.yml", kept),
            mutate.contract_hints(contract), len(scenarios) - len(kept))


WEAK = [  # (contract, alert, scenario titles to drop, operator, a text of the survivor)
    ("drift", "DriftStacksMany", ("at the threshold",), "literal", "> 9"),
    ("drift", "DriftStacksMany", ("at the threshold",), "strictness", ">= 10"),
    ("drift", "DriftDetectionStale", ("heartbeat 1s past",), "constant", "93601"),
    ("drift", "DriftCountMismatch", ("count matches with stacks in every other state",),
     "state", "== 0"),
    ("drift", "DriftCountMismatch", ("count above zero with no stack",), "set-operator",
     "and on(job) 0 *"),
    ("drift", "DriftCountMismatch", ("count above zero with no stack",), "fallback",
     "1 * max by (job)"),
    ("drift", "DriftStaleFirstSeen", ("only a stack in another state",), "matching-label",
     "and on(job) ("),
    ("drift", "DriftDetectionStale", ("heartbeat absent", "heartbeat goes stale"),
     "absent-branch", "> 26 * 3600)"),
    # which side of a window or keep_firing_for the weakened tests lose differs between
    # promtool 2.x and 3.x (the lookback edge): either mutant shows the weakness
    ("db-backup", "DbWalArchivingStopped", ("firing, then one increase",), "range",
     ("[29m]", "[31m]")),
    ("drift", "DriftStaleFirstSeen", ("a stack in that state still has",), "for",
     "for: 9m"),
    ("db-backup", "DbBackupRepoFailing", ("series goes stale after firing",),
     "keep_firing_for", ("keep_firing_for: 29m", "keep_firing_for: 31m")),
]


@pytest.mark.integration
@pytest.mark.parametrize("name, alert, drop, operator, survivor", WEAK,
                         ids=[f"{w[3]}-{w[1]}" for w in WEAK])
def test_each_operator_kills_a_planted_weak_test(promtool_bin, name, alert, drop, operator,
                                                 survivor) -> None:
    """Without the derived case that pins it, the operator's mutant survives and is named;
    with every case (test_every_mutant_of_the_bundled_contracts_is_killed) it dies."""
    rules, tests, hints, dropped = _weakened(name, drop)
    assert dropped >= len(drop)
    report = mutate.run_texts(rules, "x.rules.yml", tests, hints, only=alert)
    (result,) = report.alerts
    assert result.status == "survivors"
    alive = [o.mutation for o in result.outcomes if o.state == "survived"]
    texts = survivor if isinstance(survivor, tuple) else (survivor,)
    assert any(m.operator == operator and any(t in m.after for t in texts) for m in alive), \
        [(m.operator, m.diff) for m in alive]
    assert result.killed > 0  # the rest still die: the weak test is weak, not broken


@pytest.mark.integration
def test_every_mutant_of_the_bundled_contracts_is_killed(cli, monkeypatch, promtool_bin) -> None:
    monkeypatch.chdir(ROOT)
    result = cli("mutate", "--show-equivalent")
    assert result.code == 0, result.out
    assert "SURVIVED" not in result.out and "INVALID" not in result.out
    total = equivalent = 0
    for path in sorted(GENERATED.glob("*.rules.yml")):
        for rule in promfiles.load_rules(str(path)).alerts:
            for m in operators.mutations(rule.expr, rule.for_, rule.keep_firing_for, 60.0):
                if m.operator == "state":
                    continue  # the contract moves these to enum neighbours: counted below
                total += not m.equivalent
    found = re.search(r"^mutants killed: (\d+)/(\d+) \(100\.0%\); (\d+) equivalent", result.out,
                      re.M)
    assert found, result.out
    killed, run, equivalent = (int(x) for x in found.groups())
    assert killed == run and run >= total and equivalent == result.out.count("  equivalent [")
    assert "DriftCountMismatch: 10/10 killed" in result.out


HANDWRITTEN_RULES = """\
groups:
  - name: hand
    rules:
      - record: job:queue_depth:max
        expr: max by (job) (queue_depth)
      - alert: QueueDeep          # pinned at its boundary
        expr: job:queue_depth:max > 100
        for: 5m
        labels: {severity: page}
      - alert: ErrorsHigh         # tested, but far from its threshold
        expr: errors_total > 10
        for: 5m
      - alert: NobodyTestsMe
        expr: up == 0
"""

HANDWRITTEN_TESTS = """\
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'queue_depth{job="q", instance="a"}'
        values: '100x10'
      - series: 'queue_depth{job="q", instance="b"}'
        values: '50x10'
    alert_rule_test:
      - {eval_time: 10m, alertname: QueueDeep, exp_alerts: []}
  - interval: 1m
    input_series:
      - series: 'queue_depth{job="q", instance="a"}'
        values: '101x10'
    alert_rule_test:
      - {eval_time: 4m, alertname: QueueDeep, exp_alerts: []}
      - eval_time: 5m
        alertname: QueueDeep
        exp_alerts:
          - exp_labels: {job: q, severity: page}
  - interval: 1m
    input_series:
      - series: 'errors_total{job="e"}'
        values: '500x20'
    alert_rule_test:
      - eval_time: 20m
        alertname: ErrorsHigh
        exp_alerts:
          - exp_labels: {job: e}
    promql_expr_test:
      - expr: errors_total
        eval_time: 1m
        exp_samples:
          - labels: 'errors_total{job="e"}'
            value: 500
"""


@pytest.fixture
def handwritten(tmp_path: Path) -> tuple[Path, Path]:
    rules, tests = tmp_path / "rules.yml", tmp_path / "rules.test.yml"
    rules.write_text(HANDWRITTEN_RULES)
    tests.write_text(HANDWRITTEN_TESTS)
    return rules, tests


def _digest(*paths: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


@pytest.mark.integration
def test_rules_and_tests_mode_finds_untested_and_loose_alerts(cli, handwritten, tmp_path,
                                                              promtool_bin) -> None:
    rules, tests = handwritten
    before = _digest(rules, tests)
    junit = tmp_path / "mutants.xml"
    result = cli("mutate", "--rules", str(rules), "--tests", str(tests), "--junit", str(junit))
    assert result.code == 1, result.out + result.err
    assert _digest(rules, tests) == before  # the user's files are never touched
    lines = result.out.splitlines()
    assert any(re.search(r"rules\.yml:\d+: NobodyTestsMe: untested", line) for line in lines)
    deep = next(line for line in lines if ": QueueDeep: " in line)
    killed, total = (int(x) for x in re.search(r"(\d+)/(\d+) killed", deep).groups())
    assert killed == total and total >= 5  # pinned at 100 / 101 and at for: 5m
    loose = next(line for line in lines if ": ErrorsHigh: " in line)
    killed, total = (int(x) for x in re.search(r"(\d+)/(\d+) killed", loose).groups())
    assert killed < total
    survivors = "\n".join(line for line in lines if line.startswith("  SURVIVED"))
    assert "errors_total > 11" in survivors and "errors_total >= 10" in survivors
    assert "for: 4m" in survivors  # it only checks at 20m: for: is not pinned either
    assert re.search(r"^mutants killed: \d+/\d+ \(\d+\.\d%\); 1 untested alerts", result.out,
                     re.M)

    from junitparser import JUnitXml

    cases = {case.name.split(" ")[0]: case for suite in JUnitXml.fromfile(str(junit))
             for case in suite}
    assert set(cases) == {"QueueDeep", "ErrorsHigh", "NobodyTestsMe"}
    assert cases["QueueDeep"].is_passed
    assert not cases["ErrorsHigh"].is_passed and not cases["NobodyTestsMe"].is_passed
    assert "errors_total > 11" in cases["ErrorsHigh"].result[0].message

    gate = cli("mutate", "--rules", str(rules), "--tests", str(tests), "--min-score", "0")
    assert gate.code == 0
    gate = cli("mutate", "--rules", str(rules), "--tests", str(tests), "--min-score", "99.9")
    assert gate.code == 1
    only = cli("mutate", "--rules", str(rules), "--tests", str(tests), "--alert", "QueueDeep")
    assert only.code == 0, only.out
    assert "ErrorsHigh" not in only.out


@pytest.mark.integration
def test_a_test_that_fails_unchanged_rules_is_reported_not_mutated(cli, handwritten,
                                                                    promtool_bin) -> None:
    rules, tests = handwritten
    tests.write_text(HANDWRITTEN_TESTS.replace("{job: q, severity: page}",
                                               "{job: q, severity: ticket}"))
    result = cli("mutate", "--rules", str(rules), "--tests", str(tests))
    assert result.code == 1
    line = next(line for line in result.out.splitlines() if ": QueueDeep: " in line)
    assert "its tests fail on the unchanged rule" in line and "severity" in line
    assert "SURVIVED" not in line


@pytest.mark.integration
def test_a_mutant_promtool_cannot_load_is_invalid_not_killed(tmp_path, handwritten,
                                                             promtool_bin) -> None:
    rules, tests = handwritten
    loaded = promfiles.load_rules(str(rules))
    test = promfiles.load_tests(str(tests))
    rule = next(a for a in loaded.alerts if a.name == "QueueDeep")
    batch = mutate._Batch(str(tmp_path / "work"), {str(rules.resolve()): loaded}, 1)
    (tmp_path / "work").mkdir()
    broken = operators.Mutation("literal", "100", "x", "job:queue_depth:max > ", "5m", None)
    fine = operators.Mutation("literal", "100", "101", "job:queue_depth:max > 101", "5m", None)
    jobs = [batch.job(rule, m, [test], None, None) for m in (broken, fine)]
    verdicts = batch.run(jobs, None)
    assert verdicts[jobs[0]][0] == "invalid", verdicts[jobs[0]]
    assert verdicts[jobs[1]][0] == "killed", verdicts[jobs[1]]


@pytest.mark.integration
@pytest.mark.parametrize("source", ["handwritten", "bundled"])
def test_merged_mutants_get_the_verdicts_they_get_one_by_one(source, handwritten, monkeypatch,
                                                              promtool_bin) -> None:
    """All mutants of an alert share one file (renamed copies); each copy's verdict must be
    the one its mutant gets alone, and a killed mutant is told with the alert's own name."""
    if source == "handwritten":
        rules, tests = [str(p) for p in handwritten]
        hints = None
    else:
        rules, tests = str(GENERATED / "drift.rules.yml"), str(GENERATED / "drift.test.yml")
        hints = operators.Hints({})

    def verdicts(report: mutate.Report) -> list[tuple[str, str, str]]:
        return [(a.rule.name, o.mutation.diff, o.state) for a in report.alerts
                for o in a.outcomes]

    merged = mutate.run([rules], [tests], hints)
    assert all(mutate.MERGED_SUFFIX not in o.detail for a in merged.alerts
               for o in a.outcomes)
    assert any(o.state == "killed" for a in merged.alerts for o in a.outcomes)
    monkeypatch.setattr(mutate, "_mergeable", lambda context, rule: False)
    alone = mutate.run([rules], [tests], hints)
    assert verdicts(merged) == verdicts(alone)


def test_rules_that_read_alerts_are_not_merged(tmp_path) -> None:
    path = tmp_path / "r.yml"
    path.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: m > 1\n"
                    "  - alert: B\n    expr: ALERTS{alertname=\"A\"} == 1\n")
    loaded = promfiles.load_rules(str(path))
    context = {str(path.resolve()): loaded}
    assert not mutate._mergeable(context, loaded.alerts[0])
    path.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: m > 1\n"
                    "    annotations: {summary: '{{ $labels.alertname }}'}\n")
    loaded = promfiles.load_rules(str(path))
    assert not mutate._mergeable({str(path.resolve()): loaded}, loaded.alerts[0])
    path.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: m > 1\n")
    loaded = promfiles.load_rules(str(path))
    assert mutate._mergeable({str(path.resolve()): loaded}, loaded.alerts[0])


def _queue_deep(tmp_path: Path, handwritten, workers: int) -> tuple:  # noqa: ANN001
    """A mutate job runner on the handwritten rules, their QueueDeep alert and its tests."""
    rules, tests = handwritten
    loaded = promfiles.load_rules(str(rules))
    rule = next(a for a in loaded.alerts if a.name == "QueueDeep")
    (tmp_path / "work").mkdir()
    batch = mutate._Batch(str(tmp_path / "work"), {str(rules.resolve()): loaded}, workers)
    return batch, rule, promfiles.load_tests(str(tests))


@pytest.mark.integration
def test_a_merged_file_promtool_cannot_load_is_run_one_by_one(tmp_path, handwritten,
                                                              promtool_bin) -> None:
    batch, rule, test = _queue_deep(tmp_path, handwritten, 1)
    broken = operators.Mutation("literal", "100", "x", "job:queue_depth:max > ", "5m", None)
    fine = operators.Mutation("literal", "100", "101", "job:queue_depth:max > 101", "5m", None)
    job = batch.merged(rule, [broken, fine], [test], None)
    assert batch.run_merged([("k", job)], None) == {"k": [None]}
    job = batch.merged(rule, [fine], [test], None)
    outcome = batch.run_merged([("k", job)], None)["k"][0]
    assert outcome is not None and outcome[0] == "" and outcome[1][0][0] == "killed"
    assert "QueueDeep at" in outcome[1][0][1] and mutate.MERGED_SUFFIX not in outcome[1][0][1]


@pytest.mark.integration
def test_follow_up_jobs_run_while_others_still_run(tmp_path, handwritten, promtool_bin
                                                   ) -> None:
    """run_merged hands each alert's outcome to ``then`` as its files are read, and the
    job ``then`` returns runs in the same pool: its outcome comes back second, per key,
    whether one promtool runs at a time or two; an alert goes on for as long as ``then``
    returns a job."""
    batch, rule, test = _queue_deep(tmp_path, handwritten, 2)
    killed = operators.Mutation("literal", "100", "101", "job:queue_depth:max > 101", "5m",
                                None)
    same = operators.Mutation("literal", "100", "100.0", "job:queue_depth:max > 100.0",
                              "5m", None)
    seen = []

    def then(key, outcome):
        seen.append(key)
        rounds = {"a": 2, "b": 3, "c": 1}[key]
        return batch.merged(rule, [same, killed], [test], None) if seen.count(
            key) < rounds else None

    for workers in (1, 2):
        batch.workers = workers
        seen.clear()
        made = ((key, batch.merged(rule, [killed, same], [test], None)) for key in "abc")
        outcomes = batch.run_merged(made, None, then)
        assert {k: len(v) for k, v in outcomes.items()} == {"a": 2, "b": 3, "c": 1}
        first = {k: v[0] for k, v in outcomes.items()}
        second = {k: v[1] for k, v in outcomes.items() if len(v) > 1}
        assert sorted(seen) == ["a", "a", "b", "b", "b", "c"] and outcomes["b"][2] == second["b"]
        assert all(first[k] == ("", [("killed", first["a"][1][0][1]),
                                     ("survived", "promtool test rules passed")]) for k in first)
        assert set(second) == {"a", "b"}
        assert all(second[k][1][0][0] == "survived" and second[k][1][1][0] == "killed"
                   for k in second)


def _pool_files(tmp_path: Path, pairs: int) -> list[str]:
    """``pairs`` times two test files of one always-firing rule: one failing, one passing."""
    (tmp_path / "r.yml").write_text("groups:\n- name: g\n  rules:\n  - alert: A\n"
                                    "    expr: vector(1)\n")
    paths = []
    for n, expected in enumerate(["[]", "[{exp_labels: {}}]"] * pairs):
        path = tmp_path / f"t{n}.yml"
        path.write_text("rule_files: [r.yml]\nevaluation_interval: 1m\ntests:\n"
                        "- interval: 1m\n  input_series: []\n  alert_rule_test:\n"
                        f"  - eval_time: 1m\n    alertname: A\n    exp_alerts: {expected}\n")
        paths.append(str(path))
    return paths


def _drain(pool, after_first) -> tuple[list, dict]:  # noqa: ANN001 - a TestPool, a callable
    """The chunks and the results ``pool`` hands back (none with a problem), calling
    ``after_first()`` once the first chunk is back."""
    chunks: list = []
    found: dict = {}
    for chunk, results, problems in pool.finished():
        assert problems == []
        chunks.append(chunk)
        found.update(results)
        if len(chunks) == 1:
            after_first()
    return chunks, found


@pytest.mark.integration
def test_the_test_pool_hands_back_every_chunk(tmp_path, promtool_bin, monkeypatch) -> None:
    """promtool.TestPool: chunks queued while others ran are handed back too, one chunk per
    process where asked, each file read per file; a chunk whose run raises comes back as a
    problem instead of leaving the caller waiting."""
    paths = _pool_files(tmp_path, 3)
    with promtool.TestPool(2, str(tmp_path)) as pool:
        pool.add([(p, 1.0) for p in paths[:2]], 1)
        chunks, found = _drain(pool, lambda: pool.add([(p, 1.0) for p in paths[2:]]))
    assert chunks[0] == paths[:2] and len(chunks) == 5  # then 4 files in 4 chunks
    assert sorted(found) == sorted(paths) and pool.processes == len(chunks)
    assert [found[p].ok for p in paths] == [False, True] * 3
    assert found == promtool.test_many([(p, 1.0) for p in paths], 2, str(tmp_path))[0]

    def broken(self, chunk):
        raise OSError("no such file")

    monkeypatch.setattr(promtool.TestPool, "_run", broken)
    with promtool.TestPool(2, str(tmp_path)) as pool:
        pool.add([(p, 1.0) for p in paths])
        handed = list(pool.finished())
    assert sum(len(chunk) for chunk, _, _ in handed) == len(paths)
    assert all(problems == ["promtool test rules: no such file"] for _, _, problems in handed)


@pytest.mark.integration
def test_offered_files_share_processes_and_all_come_back(tmp_path, promtool_bin) -> None:
    """promtool.TestPool.offer: a worker takes its share of what is offered by then, the
    waiting cost over the workers (here 2 workers, 4 files offered at once: 2 files, then 1
    of the 2 left, then the last); files offered while the only worker runs wait and share
    its next process; every file comes back read as test_many reads it."""
    paths = _pool_files(tmp_path, 4)
    with promtool.TestPool(2, str(tmp_path)) as pool:
        pool.offer([(p, 1.0) for p in paths[:4]])
        chunks = [sorted(chunk) for chunk, _, _ in pool.finished()]
    assert sorted(chunks) == [paths[0:2], paths[2:3], paths[3:4]] and pool.processes == 3
    with promtool.TestPool(1, str(tmp_path)) as pool:
        pool.offer([(paths[0], 1.0)])

        def more() -> None:
            pool.offer([(p, 1.0) for p in paths[1:5]])
            pool.offer([(p, 1.0) for p in paths[5:]])

        chunks, found = _drain(pool, more)
    assert chunks == [paths[:1], paths[1:]] and pool.processes == 2
    assert found == promtool.test_many([(p, 1.0) for p in paths], 2, str(tmp_path))[0]
    assert [found[p].ok for p in paths] == [False, True] * 4


@pytest.mark.integration
def test_promtool_keeps_its_temporary_files_in_the_pool_scratch_dir(tmp_path, promtool_bin,
                                                                   monkeypatch) -> None:
    """promtool test rules opens a TSDB per test group under TMPDIR, and one killed by its
    timeout leaves it behind: a pool's promtool makes it in the pool's scratch directory
    (removed by its owner), not in the system's temporary directory."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (tmp_path / "r.yml").write_text("groups:\n- name: g\n  rules:\n  - alert: A\n"
                                    "    expr: vector(1)\n")
    slow = tmp_path / "slow.yml"  # millions of evaluations: killed long before the end
    slow.write_text("rule_files: [r.yml]\nevaluation_interval: 1m\ntests:\n"
                    "- interval: 1m\n  input_series: []\n  alert_rule_test:\n"
                    "  - eval_time: 100000h\n    alertname: A\n    exp_alerts: []\n")
    running = promtool.Running(["test", "rules", str(slow)], merge=True, timeout=1.5,
                               tmpdir=str(scratch))
    with pytest.raises(promtool.ToolMissing, match="timed out"):
        running.wait()
    assert list(scratch.iterdir()), "the killed promtool's TSDB is not in the scratch dir"

    given: list = []
    real = promtool.Running

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        given.append(kwargs.get("tmpdir"))
        return real(*args, **kwargs)

    monkeypatch.setattr(promtool, "Running", spy)
    paths = _pool_files(tmp_path, 2)
    found, problems = promtool.test_many([(p, 1.0) for p in paths], 2, str(scratch))
    assert problems == [] and sorted(found) == sorted(paths)
    assert given and set(given) == {str(scratch)}


@pytest.mark.integration
def test_each_round_runs_the_next_group_on_the_mutants_left(monkeypatch, promtool_bin
                                                              ) -> None:
    """An alert's merged rounds run its test groups one each, the cheapest first, every
    group exactly once, each round with the mutants the one before left alive; the verdicts
    are the ones each mutant gets alone (see the test above)."""
    rules, tests = str(GENERATED / "drift.rules.yml"), str(GENERATED / "drift.test.yml")
    seen: dict[str, list[tuple[int, dict]]] = {}
    left: dict[str, list[int]] = {}  # per alert and round: the mutants it left alive
    original, outcome = mutate._Batch.merged, mutate._Batch._outcome

    def spy(self, rule, found, covering, records, selection=None):
        seen.setdefault(rule.name, []).append((len(found), selection))
        return original(self, rule, found, covering, records, selection)

    def read(self, job, results):
        found = outcome(self, job, results)
        left.setdefault(self.clones[job][0], []).append(
            sum(state == "survived" for state, _ in found[1]))
        return found

    monkeypatch.setattr(mutate._Batch, "merged", spy)
    monkeypatch.setattr(mutate._Batch, "_outcome", read)
    report = mutate.run([rules], [tests], operators.Hints({}))
    assert report.clean and report.killed == report.total
    test = promfiles.load_tests(tests)
    many = 0
    for alert in report.alerts:
        rounds = seen[alert.rule.name]
        costs = {index: mutate._group_cost(group, alert.rule.name, test.evaluation_interval)
                 for index, group in enumerate(test.data["tests"])}
        naming = sorted(index for index, cost in costs.items() if cost is not None)
        ran = [index for _, selection in rounds for index in sorted(selection[0])]
        assert sorted(ran) == naming, alert.rule.name
        counts = [count for count, _ in rounds]
        assert counts[0] == alert.total and counts[1:] == left[alert.rule.name][:-1]
        assert all(len(selection[0]) == 1 for count, selection in rounds if count)
        assert [costs[i] for i in ran[:len(rounds) - 1]] == sorted(
            costs[i] for i in ran[:len(rounds) - 1])
        many += len(rounds) > 2
    assert many, "no alert ran more than two rounds: the test shows nothing"


@pytest.mark.integration
def test_the_unchanged_rule_runs_on_the_groups_left_once_every_mutant_died(tmp_path,
                                                                          promtool_bin
                                                                          ) -> None:
    """The cheapest group kills every mutant; the groups left still run the unchanged rule
    (in one round) and a failure there is reported as the tests failing the rule."""
    rules, tests = tmp_path / "r.yml", tmp_path / "t.yml"
    rules.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: m > 1\n")
    group = ("- interval: 1m\n  input_series:\n  - {{series: 'm{{s=\"a\"}}', values: '2x40'}}\n"
             "  - {{series: 'm{{s=\"b\"}}', values: '1x40'}}\n  alert_rule_test:\n"
             "  - {{eval_time: {at}, alertname: A, exp_alerts: {exp}}}\n")
    fires = "[{exp_labels: {s: a}}]"
    tests.write_text("rule_files: [r.yml]\nevaluation_interval: 1m\ntests:\n"
                     + group.format(at="0m", exp=fires) + group.format(at="5m", exp=fires)
                     + group.format(at="30m", exp="[{exp_labels: {s: b}}]"))
    report = mutate.run([str(rules)], [str(tests)], operators={"literal"})
    assert "A at 30m" in report.alerts[0].baseline, report.alerts[0]
    tests.write_text(tests.read_text().replace("{s: b}", "{s: a}"))
    report = mutate.run([str(rules)], [str(tests)], operators={"literal"})
    assert not report.alerts[0].baseline and report.alerts[0].total >= 2
    assert report.killed == report.total


def test_usage_errors_are_one_line(cli, handwritten) -> None:
    rules, tests = handwritten
    for args, words in [(("--rules", str(rules)), "go together"),
                        (("--rules", str(rules), "--tests", str(tests), "--contract", "x"),
                         "two modes"),
                        (("--rules", str(rules), "--tests", str(tests), "--min-score", "120"),
                         "percentage"),
                        (("--rules", str(rules), "--tests", str(tests), "--alert", "Nope"),
                         "no alerting rule named Nope")]:
        result = cli("mutate", *args)
        assert result.code == 2, (args, result.err)
        assert len(result.err_lines) == 1 and words in result.err, result.err
    tests.write_text("rule_files: [missing.yml]\ntests: []\n")
    result = cli("mutate", "--rules", str(rules), "--tests", str(tests))
    assert result.code == 2 and re.match(r"^\S+rules\.test\.yml:1:\d+: rule file missing\.yml "
                                         r"not found", result.err), result.err


@pytest.mark.parametrize("template, plain", [
    ("{{ $labels.job }} is down", True),
    ("{{ if $labels.absent }}gone{{ else }}{{ .Labels.instance }}{{ end }}", True),
    ("{{- $externalLabels.cluster -}}: {{ printf \"%.1f\" 1.5 }}", True),
    ("no template at all", True),
    ("at {{ $value }}", False),
    ("{{ humanize .Value }}", False),
    ("{{ . }}", False),
    ("{{ with query \"up\" }}{{ . | first | value }}{{ end }}", False),
    ("{{ $job := $labels.job }}{{ $job }}", False),
])
def test_copies_drop_only_annotations_that_print_nothing_but_labels(template, plain) -> None:
    assert mutate.labels_only(template) is plain


def _literal_verdict(tmp_path: Path, rule: str, group: str, mutant: str):  # noqa: ANN202
    """A function giving the state of the literal mutant ``mutant`` of the one alert
    ``rule`` (a rules list entry) against one test group (``group``: its input series on)."""
    rules = tmp_path / "r.yml"
    rules.write_text("groups:\n- name: g\n  rules:\n  " + rule)
    tests = tmp_path / "t.yml"
    tests.write_text("rule_files: [r.yml]\nevaluation_interval: 1m\ntests:\n"
                     "- interval: 1m\n  input_series:\n  " + group)

    def verdict() -> str:
        report = mutate.run([str(rules)], [str(tests)], operators=frozenset({"literal"}))
        return next(o.state for a in report.alerts for o in a.outcomes
                    if o.mutation.expr == mutant)
    return verdict


@pytest.mark.integration
def test_a_mutant_told_apart_only_by_its_annotation_is_still_killed(tmp_path, monkeypatch,
                                                                    promtool_bin) -> None:
    """Merged copies carry no annotations only where those print labels alone. Here the
    annotation prints $value and nothing else tells the mutant (x * 3 > 1) from the rule
    (x * 2 > 1): the copy must keep it, and dropping it lets the mutant survive."""
    verdict = _literal_verdict(
        tmp_path, "- alert: Doubled\n    expr: x * 2 > 1\n"
        "    annotations: {summary: 'at {{ $value }}'}\n",
        "- series: x\n    values: 2x5\n  alert_rule_test:\n  - eval_time: 2m\n"
        "    alertname: Doubled\n    exp_alerts:\n    - exp_annotations: {summary: at 4}\n",
        "x * 3 > 1")

    assert verdict() == "killed"
    monkeypatch.setattr(mutate, "labels_only", lambda template: True)
    assert verdict() == "survived"


def _static(rule_yaml: str, series: str, expr_extra: str = "") -> frozenset[str]:
    """The labels merged copies of alert A leave out (one mutant: A's expression)."""
    import os
    import tempfile

    from promcontract.model import promfiles
    from promcontract.testgen.operators import Mutation

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "r.yml").write_text(rule_yaml)
        (Path(tmp) / "t.yml").write_text(
            "rule_files: [r.yml]\ntests:\n- input_series:\n  - series: '" + series
            + "'\n    values: 1\n  alert_rule_test:\n  - eval_time: 0m\n    alertname: A\n")
        rules = promfiles.load_rules(os.path.join(tmp, "r.yml"))
        rule = rules.alerts[0]
        mutant = Mutation("literal", "", "", rule.expr + expr_extra, rule.for_, None)
        return mutate._static_labels({os.path.realpath(rules.path): rules}, rule,
                                     [("A__pcm0", mutant)],
                                     [promfiles.load_tests(os.path.join(tmp, "t.yml"))])


def test_copies_leave_out_only_labels_nothing_else_can_set() -> None:
    """A constant label of the alert's, not named by an input series, an expression or a
    recording rule, is left out of the copies; each of those keeps it."""
    alert = ("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: m > 1\n"
             "    labels: {severity: page, team: '{{ $labels.t }}'}\n")
    assert _static(alert, 'm{job="x"}') == {"severity"}
    assert _static(alert, 'm{severity="low"}') == frozenset()
    assert _static(alert, "m", ' or label_replace(m, "severity", "x", "", "")') == frozenset()
    assert _static(alert + "  - record: r\n    expr: m\n    labels: {severity: x}\n",
                   "m") == frozenset()
    assert _static(alert.replace("m > 1", "sum by (severity) (m) > 1"), "m") == frozenset()


@pytest.mark.integration
def test_a_label_an_input_series_carries_stays_on_the_copies(tmp_path, monkeypatch,
                                                             promtool_bin) -> None:
    """The rule sets severity: page over the series' severity="low". The test does not pin
    the threshold (the value is far above it), so m > 11 survives. Left out of the copies,
    severity would come from the series and every copy would differ: a false kill."""
    verdict = _literal_verdict(
        tmp_path, "- alert: A\n    expr: m > 10\n    labels: {severity: page}\n",
        "- series: m{severity=\"low\"}\n    values: 100x5\n  alert_rule_test:\n"
        "  - eval_time: 2m\n    alertname: A\n    exp_alerts:\n"
        "    - exp_labels: {severity: page}\n", "m > 11")

    assert verdict() == "survived"
    monkeypatch.setattr(mutate, "_static_labels", lambda *_: frozenset({"severity"}))
    assert verdict() == "killed"


@pytest.mark.parametrize("expr, equivalent", [
    ('sum by (i) (rate(x{code=~"5.."}[5m])) / sum by (i) (rate(x[5m])) * 100 > 5 '
     'and sum by (i) (rate(x[5m])) > 0', True),
    ('increase(x{code="500"}[10m]) / increase(x[10m]) > 0.1 and increase(x[10m]) > 0', True),
    ('(sum by (z) (rate(x{s=~"4.."}[15m])) / on (z) sum by (z) (rate(x[15m]))) * 100 > 5 '
     'and sum by (z) (rate(x[15m])) > 0', True),
    ('100 * sum by (j) (rate(x{s="500"}[5m])) / sum by (j) (rate(x[5m])) > 20 '
     'and sum by (j) (rate(x[5m])) > 0', True),
    ('sum by (j) (rate(x{s="4xx"}[1m]) * 100) / sum by (j) (rate(x[1m])) > 5 '
     'and sum by (j) (rate(x[1m])) > 0', True),
    # on() names fewer labels than the grouping: pairs one total with many parts
    ('sum by (z, k) (rate(x{s="5"}[5m])) / on (z) group_left sum by (z) (rate(x[5m])) > 1 '
     'and sum by (z) (rate(x[5m])) > 0', False),
    # the total holds a different function: its zero says nothing of the part
    ('sum(rate(x{s="5"}[5m])) / sum(increase(x[5m])) > 1 and sum(increase(x[5m])) > 0',
     False),
    # independent numerator: at d = 0 the ratio is +Inf where n > 0, and the mutant fires
    ("used / max_bytes > 0.9 and max_bytes > 0", False),
    ('rate(e[5m]) / rate(t[5m]) > 0.1 and rate(t[5m]) > 0', False),
    # another branch could hold where d = 0; on() pairs across groups
    ('(sum(rate(x{code="500"}[5m])) / sum(rate(x[5m])) > 0.1 or up == 0) '
     'and sum(rate(x[5m])) > 0', False),
    ('sum(rate(x{code="500"}[5m])) / sum(rate(x[5m])) > 0.1 and on() sum(rate(x[5m])) > 0',
     False),
])
def test_a_zero_guard_beside_a_part_of_its_own_total_is_equivalent(expr, equivalent) -> None:
    found = [m for m in operators.mutations(expr, "5m", None, 60, operators.Hints())
             if m.operator in ("strictness", "literal") and "0/0" in m.equivalent]
    assert bool(found) is equivalent, [m.diff for m in found]
    if equivalent:
        assert sorted(m.operator for m in found) == ["literal", "strictness"]


@pytest.mark.integration
@pytest.mark.parametrize("expr", [
    'sum by (i) (rate(x{code=~"5.."}[5m])) / sum by (i) (rate(x[5m])) * 100 > 5 '
    'and sum by (i) (rate(x[5m])) > 0',
    '(100 * sum by (i) (rate(x{code="500"}[3m])) / on (i) sum by (i) (rate(x[3m]))) > 5 '
    'and sum by (i) (rate(x[3m])) > 0',
    'increase(x{code="500"}[10m]) / increase(x[10m]) > 0.1 and increase(x[10m]) > 0',
])
def test_the_zero_guard_equivalence_holds_in_promtool(expr, tmp_path, promtool_bin) -> None:
    """The mutants called equivalent above select exactly what the rule selects, at every
    minute of series that stop, start, reset and stay flat (so the total's rate is 0 in some
    windows): promtool finds nothing in (mutant unless rule) nor in (rule unless mutant)."""
    found = [m for m in operators.mutations(expr, "5m", None, 60, operators.Hints())
             if "0/0" in m.equivalent]
    assert len(found) == 2
    series = [
        ('x{i="a",code="200"}', "0+0x30 0+10x30"), ('x{i="a",code="500"}', "0+0x40 0+3x20"),
        ('x{i="b",code="200"}', "0+0x60"), ('x{i="b",code="500"}', "0+0x60"),
        ('x{i="c",code="200"}', "0+5x20 0+5x20 100+0x20"),
        ('x{i="c",code="500"}', "0+1x10 10+0x50"),
        ('x{i="d",code="500"}', "0+2x30 _x10 60+2x20")]
    cases = []
    for mutant in found:
        for a, b in ((mutant.expr, expr), (expr, mutant.expr)):
            cases += [{"expr": f"({a}) unless ({b})", "eval_time": f"{k}m", "exp_samples": []}
                      for k in range(0, 61)]
    cases.append({"expr": f"count({expr}) > bool 0", "eval_time": "50m",
                  "exp_samples": [{"labels": "{}", "value": 1}]})  # the rule does fire
    (tmp_path / "r.yml").write_text("groups: []\n")
    (tmp_path / "t.yml").write_text(yaml.safe_dump({
        "rule_files": ["r.yml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [{"series": s, "values": v}
                                                      for s, v in series],
                   "promql_expr_test": cases}]}))
    proc = subprocess.run([promtool_bin, "test", "rules", str(tmp_path / "t.yml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
