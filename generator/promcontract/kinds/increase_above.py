"""increase_above: a counter that increased by more than a number over a window:
``increase(m{job="…"}[1d]) > 0`` (a backup job's failures). Keeps every label of the counter.

The oracle computes ``increase()`` as Prometheus does (extrapolatedRate, counter resets
included; testgen.series.increase_at). The derived scenarios hold a counter at 0 and then one
jump, so that every window they are checked in starts at a zero sample: Prometheus then
extrapolates by exactly nothing, and 2.x and 3.x (whose range windows differ at the left edge)
compute the same value bit for bit. A steady increase is used where only "clearly above"
matters. When for: is longer than the window less two steps, one jump cannot be held through
it; the exact boundary then cannot be pinned the same on both versions and the tests pin what
they can (the mutation report says which mutants survive)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from promcontract.durations import parse_duration
from promcontract.kinds import base, shapes
from promcontract.kinds.series import (
    LOOKBACK,
    STEP,
    Scenario,
    Series,
    base_labels,
    increase_at,
    matches,
    steps,
)
from promcontract.model.contract import Alert, Contract
from promcontract.numbers import format_number

MAX_WINDOW = 2 * 86400.0  # derived scenarios span the window: 2d is 2,880 steps
# Derived scenarios sample every 30s and put the last zero before a jump on a half minute: a
# range window [t - w] ends at a whole minute, so no sample ever sits on its left edge, where
# 2.x (closed) and 3.x (open) windows differ; a window one minute shorter is then told apart
# on both versions (with samples on whole minutes, 3.x's window of w selects exactly what
# 2.x's window of w - 1m does).
SAMPLE = 30


def jump(metric: str, labels, lead: int, size: float, length: int) -> Series:  # noqa: ANN001
    """A counter at 0 for ``lead`` minutes (its last zero at a half minute), then ``size``,
    for ``length`` minutes in all, sampled every 30s."""
    return Series(metric, labels, (0.0,) * (2 * lead) + (float(size),) * (2 * (length - lead)),
                  SAMPLE)


@dataclass(frozen=True)
class IncreaseSpec:
    metric: str
    window: float  # seconds
    window_text: str
    threshold: float
    threshold_text: str
    comparison: str
    when_absent: str = "silent"


class IncreaseAbove(base.AlertKind):
    name = "increase_above"
    doc = "a counter increased by more than a number over a window"
    fields_doc = '`metric` (a counter), `window`, `threshold`, `comparison: ">"|">="`'
    promql_doc = '`increase(m{job="…"}[6h]) > 0`'
    properties = {"metric": base.METRIC_NAME, "window": base.DURATION, "threshold": base.NUMBER,
                  "comparison": {"enum": [">", ">="]}}
    required = ("metric", "window", "threshold")
    batchable = True
    # Range windows reach back across the border between scenarios run one after another.
    sequential_ok = False
    strict = ">"

    example = {
        "metrics": [{"name": "example_errors_total", "type": "counter", "help": "Errors.",
                     "unit": "count", "domain": {"kind": "count"}}],
        "alert": {"name": "ExampleErrors", "kind": "increase_above",
                  "metric": "example_errors_total", "window": "1h", "threshold": 3,
                  "comparison": ">=", "for": "0s"}}

    def recognise(self, shape: shapes.Shape) -> shapes.Fields | shapes.Refused | None:
        """``increase(m[W]) > N`` (``>=``; ``<``, ``<=`` and ``or absent(m)`` for
        increase_below)."""
        matrix = shapes.increase_of(shape)
        if matrix is None:
            return None
        shapes.one_selector(matrix.selector)  # refuses a subset
        if shape.op == "==":
            return shapes.Refused("an increase compared with ==")
        comparison = self.comparison_fields(shape)
        if comparison is None:
            return None
        absent = self.absent_fields(shape)
        if isinstance(absent, shapes.Refused):
            return absent
        return {"metric": matrix.selector.name, "window": shapes.seconds_text(matrix.range),
                "threshold": shapes.number(shape.value), **comparison, **absent}

    def guess_metric(self, name: str) -> shapes.Fields:
        return {"type": "counter", "unit": "count", "domain": {"kind": "count"}}

    def parse(self, raw: dict[str, Any]) -> IncreaseSpec:
        return IncreaseSpec(raw["metric"], parse_duration(raw["window"]), raw["window"],
                            float(raw["threshold"]), str(raw["threshold"]),
                            raw.get("comparison", self.strict), raw.get("when_absent", "silent"))

    def check(self, raw: dict[str, Any], ctx: base.CheckContext) -> None:
        metric = ctx.metric("metric", raw["metric"])
        if metric is not None and metric["type"] != "counter":
            ctx.add("metric", f"{self.name} needs a counter; '{metric['name']}' is declared "
                    f"type {metric['type']} (increase() of a gauge reads every drop as a "
                    "reset)")
        window = base.check_duration(raw, "window", ctx)
        if window is not None and window < 2 * STEP:
            ctx.add("window", f"window {raw['window']} holds fewer than two samples of a 1m "
                    "scrape: increase() would return nothing")
        elif window is not None and window > MAX_WINDOW:
            ctx.add("window", f"window {raw['window']} is longer than derived tests can cover "
                    "(at most 2d: they evaluate every 1m)")
        elif window is not None:
            try:
                for_ = parse_duration(str(raw.get("for", "0s")))
            except ValueError:
                for_ = None  # reported where for: is checked
            if for_ is not None and for_ > window - 2 * STEP:
                ctx.add("for", f"for: {raw['for']} is not at least 2m shorter than the window "
                        f"{raw['window']}: one increase cannot stay in the window through "
                        "for:, so derived tests cannot pin the threshold (use a window of "
                        "at least for: + 2m)")
            try:
                keep = parse_duration(str(raw.get("keep_firing_for", "0s")))
            except ValueError:
                keep = None
            if keep and keep > window - 2 * STEP:
                ctx.add("keep_firing_for", f"keep_firing_for: {raw['keep_firing_for']} is not "
                        f"at least 2m shorter than the window {raw['window']}: the alert is "
                        "kept firing until an increase has left the window again, so derived "
                        "tests cannot tell the threshold apart (use a window of at least "
                        "keep_firing_for + 2m)")
        if base.check_pinnable(raw, "threshold", ctx):
            self.check_threshold(raw, ctx)
            if not float(raw["threshold"]).is_integer():
                ctx.add("threshold", f"threshold {raw['threshold']} is not a whole number: "
                        "a counter of events increases by whole numbers, so no derived test "
                        "can tell '>' from '>=' at it (write the whole number you mean, e.g. "
                        "'>= 1' for '> 0.5')")

    def check_threshold(self, raw: dict[str, Any], ctx: base.CheckContext) -> None:
        threshold, comparison = float(raw["threshold"]), raw.get("comparison", self.strict)
        if threshold < 0 or (threshold == 0 and comparison == ">="):
            ctx.add("threshold", f"threshold {raw['threshold']} with '{comparison}': a "
                    "counter's increase is never negative, so the alert would always fire")

    def expr(self, alert: Alert, contract: Contract) -> str:
        spec = alert.spec
        return (f"increase({base.selector(contract, spec.metric)}[{spec.window_text}]) "
                f"{spec.comparison} {format_number(spec.threshold)}")

    def output_labels(self, alert: Alert, contract: Contract) -> frozenset[str]:
        return base.metric_labels(contract, alert.spec.metric)

    def holds(self, value: float, spec: IncreaseSpec) -> bool:
        return base.compares(value, spec.comparison, spec.threshold)

    def condition(self, alert: Alert, contract: Contract, series: tuple[Series, ...]
                  ) -> base.Condition:
        spec = alert.spec
        chosen = [s for s in series if matches(s, contract, spec.metric)]

        def held(t: int) -> dict:
            out = {}
            for s in chosen:
                value = increase_at(s, t, spec.window)
                if value is not None and self.holds(value, spec):
                    out[s.labels] = value
            return out
        return held

    # --- scenarios ------------------------------------------------------------------------
    def jumps(self, spec: IncreaseSpec) -> list[tuple[str, float]]:
        """(title, size) of the one-jump scenarios: the nearest whole increases below, at and
        above the threshold (a counter of events moves by whole numbers: 2.5 is pinned by
        2 and 3, and one jump reaches exactly what it holds)."""

        thr = spec.threshold
        out = []
        for title, size in (("just below", math.ceil(thr) - 1.0),
                            ("at", thr if float(thr).is_integer() else None),
                            ("just above", math.floor(thr) + 1.0)):
            if size is not None and size >= 0:
                out.append((title, size))
        return out

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        spec = alert.spec
        metric = contract.metric(spec.metric)
        labels = base_labels(contract, base.item_label(contract, spec.metric))
        for_steps, window = steps(alert.for_seconds), steps(spec.window)
        lead = 2  # minutes of zero samples before the jump
        length = lead + window + for_steps + 4
        # the increase is held while the window holds the last zero and the jump: w steps
        held_long_enough = for_steps <= window - 1
        out = []
        # Only what a scenario shows needs its length. A jump that does not hold is quiet
        # from the start: a mutant that lets it hold fires once for: has passed, so it runs
        # that long and a little more; one that holds runs until it has left the window.
        # Firing on a steady increase (across a reset, too) needs no more than for: and a few
        # steps. A window's length of steps costs every rule of the file that many
        # evaluations per scenario (a 6h window: 6h of steps).
        quiet_length = lead + for_steps + 4
        for title, size in self.jumps(spec):
            if not self.holds(size, spec):
                outcome = ": quiet"
            elif held_long_enough:
                outcome = ""
            else:
                outcome = ": quiet, it leaves the window before for: has passed"
            out.append(Scenario(alert.name, f"one increase of {format_number(size)} {title} the "
                                f"threshold ({format_number(size)} {spec.comparison} "
                                f"{format_number(spec.threshold)}?){outcome}",
                                (jump(metric.name, labels, lead, size,
                                      length if self.holds(size, spec) else quiet_length),)))
        rate = spec.threshold + 1  # per sample: the window's increase stays well above
        # an even sample count keeps the last on a half minute (see SAMPLE)
        short = tuple(float(rate * k) for k in range(2 * (for_steps + 6)))
        out.append(Scenario(alert.name, "steady increase through for: fires",
                            (Series(metric.name, labels, short, SAMPLE),)))
        reset_at = 2 * (for_steps + 3)  # once it fires
        reset = short[:reset_at] + tuple(float(rate * k) for k in range(len(short) - reset_at
                                                                          + 6))
        out.append(Scenario(alert.name, "counter reset while increasing: still counted, fires",
                            (Series(metric.name, labels, reset, SAMPLE),)))
        # what this pins is the window: the alert resolves once the last sample has left it
        gap = 2 * (window + steps(LOOKBACK) + 3)
        out.append(Scenario(alert.name, "series missing after firing (gap longer than the "
                            "window): resolves", (Series(metric.name, labels,
                                                         short + (None,) * gap, SAMPLE),)))
        return out

    def property_space(self, alert: Alert, contract: Contract) -> base.PropertySpace:
        """Increments per step (the strategy sums them into a counter; -1 is a reset)."""
        thr = alert.spec.threshold
        window = steps(alert.spec.window)
        per_step = max(thr / max(window - 1, 1), 0.0)
        near = (0.0, per_step, per_step + 1, thr, thr + 1, -1.0)
        return base.PropertySpace(near=near, usual=(0.0, per_step + 1, thr + 1), counter=True)


KIND = IncreaseAbove()
