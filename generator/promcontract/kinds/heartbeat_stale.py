"""heartbeat_stale: the job's heartbeat (a unix_seconds metric) older than a duration:
``time() - max by (job) (m{job="…"}) > 26 * 3600``, and with ``when_absent: fire`` also when
the heartbeat has no series at all (``or absent(m{job="…"})``)."""

from __future__ import annotations

from typing import Any

from promcontract.durations import format_duration, parse_duration, written_unit
from promcontract.kinds import base, shapes
from promcontract.kinds.series import (
    STALE,
    STEP,
    Scenario,
    Series,
    base_labels,
    instants,
    matches,
    steps,
)
from promcontract.model.contract import Alert, Contract

LEAD = 4  # minutes before the threshold is crossed in the derived scenarios


class HeartbeatStale(base.AlertKind):
    name = "heartbeat_stale"
    doc = "the heartbeat (unix seconds) older than a duration; optionally fires when absent"
    fields_doc = '`metric` (unix_seconds), `threshold` (duration), `when_absent: fire|silent`'
    promql_doc = ('`time() - max by (job) (m{job="…"}) > 26 * 3600` (and the absent branch when '
                  '`fire`)')
    properties = {"metric": base.METRIC_NAME, "threshold": base.DURATION, **base.ABSENT_FIELDS}
    required = ("metric", "threshold")
    time_valued = True

    example = {
        "metrics": [{"name": "example_last_success_timestamp_seconds", "type": "gauge",
                     "help": "Unix time of the last success.", "unit": "unix_seconds",
                     "domain": {"kind": "unix_seconds"}}],
        "alert": {"name": "ExampleStale", "kind": "heartbeat_stale",
                  "metric": "example_last_success_timestamp_seconds", "threshold": "26h",
                  "when_absent": "fire", "for": "30m"}}

    def recognise(self, shape: shapes.Shape) -> shapes.Fields | shapes.Refused | None:
        """``time() - max(m) > N`` or ``time() - m > N or absent(m)``: one job-wide timestamp
        (age_above takes ``time() - m > N``: an age per item)."""
        found = shapes.age_of(shape)
        if found is None:
            return None
        selector, aggregated = found
        if not (aggregated or shape.absent):
            return None
        return {"metric": selector.name, "threshold": shapes.seconds_text(shape.value),
                **self.absent_fields(shape)}

    def guess_metric(self, name: str) -> shapes.Fields:
        return {"type": "gauge", "unit": "unix_seconds", "domain": {"kind": "unix_seconds"}}

    def parse(self, raw: dict[str, Any]) -> base.ThresholdSpec:
        return base.ThresholdSpec(raw["metric"], parse_duration(raw["threshold"]),
                                  str(raw["threshold"]), ">", raw.get("when_absent", "silent"))

    def check(self, raw: dict[str, Any], ctx: base.CheckContext) -> None:
        metric = ctx.metric("metric", raw["metric"])
        try:
            if parse_duration(raw["threshold"]) <= 0:
                ctx.add("threshold", "threshold must be a positive duration")
        except ValueError as exc:
            ctx.add("threshold", str(exc))
        if metric is not None and metric["domain"]["kind"] != "unix_seconds":
            ctx.add("metric", f"{self.name} needs a unix_seconds metric; '{metric['name']}' "
                    f"has domain {metric['domain']['kind']}")
        base.check_absent_label(raw, metric, ctx)

    def expr(self, alert: Alert, contract: Contract) -> str:
        spec = alert.spec
        sel = base.selector(contract, spec.metric)
        # max by (job): one heartbeat per job whatever instance label it carries; absent()
        # of the same selector yields {job=...} too, plus absent="true" for the annotations.
        expr = f"time() - max by (job) ({sel}) > {base.seconds_literal(spec.threshold)}"
        if spec.when_absent == "fire":
            expr = f"({expr}) or {base.absent_branch(contract, spec.metric)}"
        return expr

    def absent_branch(self, alert: Alert) -> bool:
        return alert.spec.when_absent == "fire"

    def output_labels(self, alert: Alert, contract: Contract) -> frozenset[str]:
        return frozenset({"job"})

    def condition(self, alert: Alert, contract: Contract, series: tuple[Series, ...]
                  ) -> base.Condition:
        spec = alert.spec
        values_at = instants([s for s in series if matches(s, contract, spec.metric)])
        job_only = (("job", contract.job),)
        on_absent = {base.absent_labels(contract): 1.0} if spec.when_absent == "fire" else {}

        def held(t: int) -> dict:
            values = [v for v in values_at(t) if v is not None]
            if not values:
                return dict(on_absent)
            age = t - max(values)
            return {job_only: age} if age > spec.threshold else {}
        return held

    def scenarios(self, alert: Alert, contract: Contract) -> list[Scenario]:
        spec = alert.spec
        metric = contract.metric(spec.metric)
        hold = steps(alert.for_seconds) + 4
        # Ages grow by a step per evaluation and reach the threshold exactly at one (> and >=
        # told apart); a scenario just past it by 1s (and by the unit the threshold is
        # written in, when finer than a step) tells the threshold from threshold+1s.
        fine = written_unit(spec.threshold_text)
        labels = base_labels(contract, base.item_label(contract, spec.metric))
        crossing = -(spec.threshold - LEAD * STEP)  # age crosses the threshold at LEAD
        span = LEAD + hold

        def scenario(title: str, *series: Series) -> Scenario:
            return Scenario(alert.name, title, tuple(series))

        out = [scenario("heartbeat ages past the threshold",
                        Series(metric.name, labels, (crossing,) * (span + 1)))]
        for past in base.past_offsets(fine):
            out.append(scenario(f"heartbeat {format_duration(past)} past the threshold at an "
                                "evaluation: fires a step earlier",
                                Series(metric.name, labels, (crossing - past,) * (span + 1))))
        out.append(scenario("fresh heartbeat: quiet",
                            Series(metric.name, labels, (0.0,) * (span + 1))))
        if alert.keep_firing_seconds > 0:
            # a fresh heartbeat after firing (the job ran again): kept firing that long,
            # then resolved
            # (a heartbeat every minute, so its age stays 0 whatever the threshold)
            after = steps(alert.keep_firing_seconds) + 3
            fresh = tuple(float((span + 1 + k) * STEP) for k in range(after))
            out.append(scenario("fresh heartbeat after firing: kept firing for "
                                "keep_firing_for, then resolves",
                                Series(metric.name, labels, (crossing,) * (span + 1) + fresh)))
        other = base_labels(contract, {"job": contract.job + "-other"})
        fires = spec.when_absent == "fire"
        title = "heartbeat absent (only another job's)" + (
            ": fires" if fires else ": quiet (when_absent: silent)")
        out.append(scenario(title, Series(metric.name, other, (0.0,) * (span + 1))))
        out.append(scenario("heartbeat goes stale (gateway wiped): "
                            + ("fires" if fires else "quiet"),
                            Series(metric.name, labels, (0.0,) * LEAD + (STALE,) * (hold + 1))))
        return out

    def property_space(self, alert: Alert, contract: Contract) -> base.PropertySpace:
        for_steps = int(alert.for_seconds // STEP)
        last = for_steps + base.PROPERTY_SPAN_AFTER_FOR
        thr = alert.spec.threshold
        return base.PropertySpace(
            near=base.steps_values(range(-for_steps - 5, last + 6), thr),
            usual=base.steps_values(range(-for_steps - 5, 4), thr), instances=True)


KIND = HeartbeatStale()
