"""The derived scenarios drawn: per contract one SVG (docs/<contract>.scenarios.svg) with a
timeline per scenario of the derived tests, what its input series do, and when the tests
expect the alert pending and firing, with the evaluations they check marked."""

from __future__ import annotations

import math
import os

from promcontract import kinds
from promcontract.kinds.series import STALE, STEP
from promcontract.labels import format_series
from promcontract.model.contract import Contract
from promcontract.promql.plotted import plotted, selected_metric
from promcontract.render import timeline
from promcontract.testgen import oracle
from promcontract.testgen.scenarios import derive
from promcontract.testgen.testfile import derived_groups

NAME = "timelines"


def pictures(contract: Contract) -> list[timeline.Picture]:
    """A picture per derived scenario, in the order of the derived test file, each as its
    test group runs it (its series with the label that tells it apart from the others of
    the group, checked at every eval time of the group)."""
    scenarios, _ = derive(contract)
    out = []
    for scenario in (s for group in derived_groups(contract, scenarios)
                     for s in group.scenarios):
        alert = contract.alert(scenario.alert)
        kind = kinds.of(alert)
        times_checked = sorted(scenario.eval_times)
        until = max(times_checked) + 2 * STEP
        times = list(range(0, until + 1, STEP))
        firing_at = oracle.timeline(alert, contract, scenario, until)
        held_at = kind.condition(alert, contract, scenario.series)
        firing = {t: set(firing_at[t]) for t in times}
        waiting = {t: {i for i in held_at(t) if i not in firing[t]} for t in times}
        plot = plotted(kind.expr(alert, contract))
        metric = selected_metric(plot.series)
        lines = {}
        for series in scenario.series:
            points = [(k * series.interval, float(v)) for k, v in enumerate(series.values)
                      if v is not None and v != STALE and math.isfinite(float(v))
                      and k * series.interval <= until]
            lines[series.selector()] = points
        threshold = plot.threshold if metric is not None and any(
            s.metric == metric for s in scenario.series) else None
        picture = timeline.Picture(
            f"{alert.name}: {scenario.title}",
            (f"for: {alert.for_} · the derived test checks the alerts at each mark"
             + ("" if threshold is not None else f" · condition: {plot.series}"))[:150],
            0.0, float(until), float(STEP), lines=lines, threshold=threshold,
            marks=[float(t) for t in times_checked], clock=False, plot_height=110)
        strips: dict[tuple, timeline.Strip] = {}
        for kind_name, spans in (("firing", timeline.spans(firing, times)),
                                 ("pending", timeline.spans(waiting, times))):
            for identity, found in spans.items():
                labels = oracle.alert_labels(alert, identity)
                strip = strips.setdefault(labels, timeline.Strip(
                    format_series("", labels, braces_when_empty=True), side="alert"))
                getattr(strip, kind_name).extend(found)
        picture.strips = list(strips.values())
        if not picture.strips:
            picture.strips.append(timeline.Strip("never pending or firing", side="alert"))
        out.append(picture)
    return out


def render_svg(contract: Contract) -> str:
    source = os.path.basename(contract.source)
    return timeline.stack(pictures(contract), f"Drawn from {source} by promcontract (make "
                          "rules): every derived test scenario. Do not edit.")


def generated(contract, dirs, notes: list[str]) -> tuple[str, str] | None:  # noqa: ANN001
    return os.path.join(dirs.docs, f"{contract.name}.scenarios.svg"), render_svg(contract)
