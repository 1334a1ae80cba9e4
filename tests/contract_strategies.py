"""Contracts a user could write, drawn at random: every alert kind x comparison x domain x
threshold x for: x keep_firing_for x when_absent. Used by tests/test_pinning.py (>= 200 in
make test) and bench/run.py (>= 2,000).

Each drawn contract has one metric and one alert, so a failure shrinks to the alert that
shows it. The property: a contract validate accepts gets derived tests that kill every
non-equivalent mutant of its rule; otherwise validate refuses it in one line naming the
field. ``judge`` runs a batch of drawn contracts through validate, render, derive and one
``mutate`` run (a few promtool processes for the whole batch).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field

import yaml
from hypothesis import strategies as st

# Domains as the contract writes them (the YAML ``domain:``), by name.
DOMAINS = {
    "range": {"kind": "range", "min": -1000},
    "range-min0": {"kind": "range", "min": 0},
    "range-max100": {"kind": "range", "min": -100, "max": 100},
    "range-0-100": {"kind": "range", "min": 0, "max": 100},
    "ratio": {"kind": "range", "min": 0, "max": 1},
    "range-int": {"kind": "range", "min": 0, "integer": True},
    "count": {"kind": "count"},
    "enum3": {"kind": "enum", "values": {0: "ok", 1: "degraded", 2: "failing"}},
    "enum2": {"kind": "enum", "values": {0: "down", 1: "up"}},
    "unix": {"kind": "unix_seconds"},
}

# Which domains each kind is drawn with (others are refused by validate, as they should be,
# and are drawn now and then to see that they are refused in one line).
KIND_DOMAINS = {
    "value_above": ["range", "range-min0", "range-max100", "range-0-100", "ratio",
                    "range-int", "count", "enum3"],
    "value_below": ["range", "range-min0", "range-max100", "range-0-100", "ratio",
                    "range-int", "count", "enum3"],
    "value_equals": ["enum3", "enum2", "range-int", "count", "ratio"],
    "value_outside": ["range", "range-min0", "range-0-100", "ratio", "range-int", "count"],
    "increase_above": ["count"],
    "increase_below": ["count"],
    "heartbeat_stale": ["unix"],
    "age_above": ["unix"],
}
COMPARISONS = {"value_above": [">", ">="], "value_below": ["<", "<="],
               "increase_above": [">", ">="], "increase_below": ["<", "<="]}
ABSENT = ("value_below", "increase_below", "heartbeat_stale")
FOR = ["0s", "1m", "5m", "30m", "2h"]
KEEP = [None, None, "1m", "10m"]


def _bounds(domain: dict) -> tuple[float | None, float | None]:
    kind = domain["kind"]
    if kind == "enum":
        values = sorted(domain["values"])
        return float(values[0]), float(values[-1])
    if kind in ("count", "unix_seconds"):
        return 0.0, None
    return domain.get("min"), domain.get("max")


@st.composite
def _number(draw, domain: dict) -> float | int:  # noqa: ANN001
    """A threshold: interior, at a bound, one precision step from a bound, tiny, huge, or a
    fraction with many digits."""
    low, high = _bounds(domain)
    integral = domain["kind"] in ("count", "enum") or domain.get("integer")
    shape = draw(st.sampled_from(["interior", "at-low", "at-high", "step-low", "step-high",
                                  "tiny", "huge", "digits", "small-int"]))
    step = 1 if integral else draw(st.sampled_from([1, 0.1, 0.001]))
    if shape == "at-low" and low is not None:
        value = low
    elif shape == "at-high" and high is not None:
        value = high
    elif shape == "step-low" and low is not None:
        value = low + step
    elif shape == "step-high" and high is not None:
        value = high - step
    elif shape == "tiny":
        value = draw(st.sampled_from([1e-6, 0.0001, 0.001]))
    elif shape == "huge":
        value = draw(st.sampled_from([1e9, 1e12, 123456789]))
    elif shape == "digits":
        value = draw(st.sampled_from([0.123456789, 3.14159, 0.995, 99.95, 12.5]))
    elif shape == "small-int":
        value = draw(st.integers(0, 12))
    else:
        lo = low if low is not None else -50.0
        hi = high if high is not None else 1000.0
        value = draw(st.sampled_from([lo + (hi - lo) * f for f in (0.25, 0.5, 0.9)]))
    if integral:
        value = int(round(value))
    value = round(value, 9)
    return int(value) if float(value).is_integer() and abs(value) < 1e15 else value


@dataclass
class Drawn:
    """One drawn contract: its YAML text and what was drawn (for the failure message)."""

    text: str
    kind: str
    summary: dict = field(default_factory=dict)


@st.composite
def contracts(draw, index: int = 0, kinds: list[str] | None = None) -> Drawn:  # noqa: ANN001
    kind = draw(st.sampled_from(kinds or sorted(KIND_DOMAINS)))
    domain_name = draw(st.sampled_from(KIND_DOMAINS[kind]))
    domain = DOMAINS[domain_name]
    labelled = draw(st.booleans())
    metric_type = "counter" if kind.startswith("increase") else "gauge"
    unit = {"unix": "unix_seconds", "count": "count"}.get(domain_name, "ratio")
    metric = {"name": "prop_value", "type": metric_type, "help": "A drawn metric.",
              "unit": unit, "domain": domain}
    if labelled:
        metric["labels"] = ["item"]
    alert: dict = {"name": "PropAlert", "kind": kind, "metric": "prop_value",
                   "for": draw(st.sampled_from(FOR)), "severity": "warning",
                   "summary": "drawn", "rationale": "drawn"}
    keep = draw(st.sampled_from(KEEP))
    if keep:
        alert["keep_firing_for"] = keep
    if kind in COMPARISONS:
        alert["comparison"] = draw(st.sampled_from(COMPARISONS[kind]))
    if kind in ("value_above", "value_below"):
        alert["threshold"] = draw(_number(domain))
    if kind in ("increase_above", "increase_below"):  # an increase may be fractional
        alert["threshold"] = draw(st.one_of(_number(domain), st.sampled_from([0.5, 2.5, 9.99])))
    if kind.startswith("increase"):
        alert["window"] = draw(st.sampled_from(["5m", "10m", "30m", "1h"]))
    if kind == "value_equals":
        alert["value"] = draw(_number(domain))
    if kind == "value_outside":
        a, b = draw(_number(domain)), draw(_number(domain))
        alert["min"], alert["max"] = min(a, b), max(a, b)
    if kind in ("heartbeat_stale", "age_above"):
        alert["threshold"] = draw(st.sampled_from(["90s", "10m", "1h", "26h", "2d"]))
    if kind in ABSENT:
        when = draw(st.sampled_from(["silent", "fire"]))
        alert["when_absent"] = when
        if when == "fire" and labelled:
            alert["absent_summary"] = "absent"
    data = {"contract": f"prop-{index}", "group": f"Prop {index}",
            "push": {"grouping_key": {"job": f"prop-{index}"}, "cadence": "1m"},
            "metrics": [metric], "alerts": [alert]}
    summary = {k: v for k, v in alert.items() if k not in ("summary", "rationale",
                                                             "severity", "name", "metric")}
    summary["domain"] = domain_name
    summary["labelled"] = labelled
    # libyaml's emitter where PyYAML has it: the pure-Python one was a sixth of bench
    # pinning's own time
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return Drawn(yaml.dump(data, Dumper=dumper, sort_keys=False), kind, summary)


def batches(size: int, kinds: list[str] | None = None, least: int = 1
            ) -> st.SearchStrategy[list[Drawn]]:
    """Lists of ``least`` to ``size`` drawn contracts, each with its own id (drawn at that
    length: a filter on the length would draw and throw away most lists)."""
    return st.integers(least, size).flatmap(lambda n: st.tuples(
        *[contracts(i, kinds) for i in range(n)]).map(list))


@dataclass
class Verdict:
    refused: list[tuple[Drawn, list[str]]] = field(default_factory=list)  # one line each
    not_derivable: list[tuple[Drawn, list[str]]] = field(default_factory=list)
    survivors: list[tuple[Drawn, list[str]]] = field(default_factory=list)
    baseline: list[tuple[Drawn, str]] = field(default_factory=list)
    accepted: int = 0
    killed: int = 0
    total: int = 0

    @property
    def holds(self) -> bool:
        """Every accepted contract pinned: no survivor, nothing underivable, the unchanged
        rules pass their tests."""
        return not (self.survivors or self.not_derivable or self.baseline)

    def describe(self) -> str:
        lines = []
        for drawn, what in self.survivors:
            lines.append(f"{drawn.summary}: survived {what}")
        for drawn, what in self.not_derivable:
            lines.append(f"{drawn.summary}: not derivable {what}")
        for drawn, what in self.baseline:
            lines.append(f"{drawn.summary}: tests fail on the unchanged rule: {what}")
        return "\n".join(lines)


def judge(batch: list[Drawn]) -> Verdict:
    """Validate, render, derive and mutate every contract of ``batch`` (one mutate run)."""
    from promcontract.contract.load import parse_contract
    from promcontract.problems import UserError
    from promcontract.render.writers import Dirs, rulefile, testfile
    from promcontract.testgen import mutate

    verdict = Verdict()
    with tempfile.TemporaryDirectory(prefix="promcontract-pinning-") as tmp:
        dirs = Dirs(tmp, tmp)
        rules, tests, hints, owner = [], [], {}, {}
        for drawn in batch:
            try:
                contract = parse_contract(drawn.text, os.path.join(tmp, f"c{len(rules)}.yaml"))
            except UserError as exc:
                verdict.refused.append((drawn, [str(p) for p in exc.problems]))
                continue
            notes: list[str] = []
            rule_path, rule_text = rulefile.generated(contract, dirs, notes)
            test_path, test_text = testfile.generated(contract, dirs, notes)
            if notes:
                verdict.not_derivable.append((drawn, notes))
                continue
            verdict.accepted += 1
            for path, text in ((rule_path, rule_text), (test_path, test_text)):
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
            rules.append(rule_path)
            tests.append(test_path)
            hints[os.path.realpath(rule_path)] = mutate.contract_hints(contract)
            owner[os.path.realpath(rule_path)] = drawn
        if not rules:
            return verdict
        report = mutate.run(rules, tests, hints)
    for alert in report.alerts:
        drawn = owner[os.path.realpath(alert.rule.file)]
        if alert.baseline:
            verdict.baseline.append((drawn, alert.baseline))
            continue
        verdict.killed += alert.killed
        verdict.total += alert.total
        survived = [f"[{o.mutation.operator}] {o.mutation.diff}" for o in alert.outcomes
                    if o.state in ("survived", "invalid", "untested")]
        if survived:
            verdict.survivors.append((drawn, survived))
    return verdict
