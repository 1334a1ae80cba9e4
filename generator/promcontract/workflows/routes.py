"""Delivery tests: where an alert goes once it fires, proven by Alertmanager's own code.

A routing test file (``*.routes.yml``)::

    tests:
      - name: a critical alert without a team pages
        alert: {alertname: DiskFull, severity: critical}
        receivers: [pager]                        # in order (routes with continue: several)
        group_labels: {alertname: DiskFull}       # the labels of its group (group_by)
      - name: a warning is inhibited while the critical one fires
        alert: {alertname: DiskFull, severity: warning, instance: a}
        firing: [{alertname: DiskFull, severity: critical, instance: a}]
        inhibited: true
      - name: the team channel is quiet on a Saturday night
        alert: {alertname: DiskFull, team: infra}
        at: 2026-12-05T02:30:00Z                  # every route it takes is muted then
        muted: true

Routing is answered by ``amtool config routes test`` (Alertmanager's route tree), and again by
a real Alertmanager (Debian ``prometheus-alertmanager``) that holds the alerts: its API says
each alert's receivers, whether it is inhibited (``status.inhibitedBy``) and the groups it is
in (``/api/v2/alerts/groups``). The two must agree. The Alertmanager runs on 127.0.0.1 with the
config's receivers emptied (names kept), so nothing is ever sent; each test's alerts are
resolved before the next test posts its own, so no test inhibits another's. Muting at a
moment is evaluated by ``template.amtime`` on the routes amtool says the alert takes
(Alertmanager does not report muting); a test proves that evaluation against a real
Alertmanager's deliveries.
"""

from __future__ import annotations

import copy
import datetime
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import yaml

from promcontract.contract.schema import describe
from promcontract.kinds.series import SCENARIO_LABEL
from promcontract.model.contract import Route
from promcontract.model.yamlsource import (
    check_expansion,
    format_path,
    load_yaml_text,
    mapping_value,
    yaml_problem,
)
from promcontract.problems import Location, Problem, UserError
from promcontract.runners import amtool
from promcontract.runners.servers import Alertmanager
from promcontract.template import alertmanager, amtime, reader, tfeval

_LABELS = {"type": "object", "minProperties": 1,
           "propertyNames": {"pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"},
           "additionalProperties": {"type": ["string", "number", "boolean"]}}
SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["tests"],
    "properties": {"tests": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "alert": _LABELS,
            "exp_alerts_of": {
                "type": "object", "additionalProperties": False,
                "required": ["file", "alertname"],
                "properties": {"file": {"type": "string", "minLength": 1},
                               "alertname": {"type": "string", "minLength": 1}}},
            "firing": {"type": "array", "items": _LABELS},
            "receivers": {"type": "array", "minItems": 1,
                          "items": {"type": "string", "minLength": 1}},
            "inhibited": {"type": "boolean"},
            "group_labels": {**_LABELS, "minProperties": 0},
            "at": {"description": "an RFC 3339 time, for muted"},
            "muted": {"type": "boolean"},
        }}}},
}


@dataclass(frozen=True)
class RouteTest:
    file: str
    line: int
    name: str
    alert: dict[str, str]
    firing: tuple[dict[str, str], ...] = ()
    receivers: tuple[str, ...] | None = None
    inhibited: bool | None = None
    group_labels: dict[str, str] | None = None
    at: datetime.datetime | None = None
    muted: bool | None = None


@dataclass
class Result:
    test: RouteTest
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _labels(raw: dict) -> dict[str, str]:
    return {str(k): (("true" if v else "false") if isinstance(v, bool) else str(v))
            for k, v in raw.items()}


def load_tests(path: str, text: str) -> list[RouteTest]:
    """The tests of one routing test file (``UserError``, located, when it is malformed)."""
    # jsonschema takes ~0.1 s to import: only when routing tests are read.
    import jsonschema

    data, smap = load_yaml_text(text, path)
    problems = []
    for error in sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data),
                        key=lambda e: list(e.absolute_path)):
        where, message, at_key = describe(error)
        problems.append(Problem(smap.locate(where, key=at_key), message, format_path(where)))
    expanded: dict[int, list[dict[str, str]]] = {}
    if not problems:
        for index, raw in enumerate(data["tests"]):
            if ("alert" in raw) == ("exp_alerts_of" in raw):
                problems.append(Problem(smap.locate(("tests", index)), f"test "
                                        f"'{raw['name']}': give alert (its labels) or "
                                        "exp_alerts_of (a promtool test file's expected "
                                        "alerts), one of them", f"tests[{index}]"))
            elif "exp_alerts_of" in raw:
                found = _exp_alerts(path, raw["exp_alerts_of"])
                if isinstance(found, str):
                    problems.append(Problem(smap.locate(("tests", index, "exp_alerts_of")),
                                            found, f"tests[{index}].exp_alerts_of"))
                else:
                    expanded[index] = found
            if not {"receivers", "inhibited", "group_labels", "muted"} & set(raw):
                problems.append(Problem(smap.locate(("tests", index)), f"test "
                                        f"'{raw['name']}' checks nothing: give receivers, "
                                        "inhibited, group_labels or muted", f"tests[{index}]"))
            elif ("at" in raw) != ("muted" in raw):
                problems.append(Problem(smap.locate(("tests", index)), f"test "
                                        f"'{raw['name']}': at and muted go together (muted "
                                        "or not at that time)", f"tests[{index}]"))
            elif "at" in raw:
                try:
                    amtime.moment_of(raw["at"])
                except amtime.IntervalError as exc:
                    problems.append(Problem(smap.locate(("tests", index, "at")), str(exc),
                                            f"tests[{index}].at"))
    if problems:
        raise UserError(problems)
    out = []
    for index, raw in enumerate(data["tests"]):
        line = smap.locate(("tests", index)).line or 1
        for labels in expanded.get(index) or [_labels(raw["alert"])]:
            name = raw["name"] if index not in expanded else raw["name"] + " (" + ", ".join(
                f"{k}={v}" for k, v in labels.items() if k != "alertname") + ")"
            out.append(RouteTest(
                path, line, name, labels,
                tuple(_labels(f) for f in raw.get("firing", ())),
                tuple(raw["receivers"]) if "receivers" in raw else None,
                raw.get("inhibited"),
                _labels(raw["group_labels"]) if "group_labels" in raw else None,
                amtime.moment_of(raw["at"]) if "at" in raw else None, raw.get("muted")))
    return out


def _exp_alerts(routes_path: str, ref: dict[str, str]) -> list[dict[str, str]] | str:
    """Each label set a promtool test file expects ``ref['alertname']`` to carry (the file is
    relative to the routing test file, as promtool reads rule_files); a reason when none."""
    target = os.path.join(os.path.dirname(routes_path), ref["file"])
    try:
        with open(target, encoding="utf-8") as handle:
            text = handle.read(MAX_TEST_FILE_BYTES + 1)
    except OSError as exc:
        return f"exp_alerts_of: cannot read {target}: {exc.strerror}"
    if len(text) > MAX_TEST_FILE_BYTES:
        return f"exp_alerts_of: {target} is larger than {MAX_TEST_FILE_BYTES} bytes"
    try:
        load_yaml_text(text, target)  # located YAML errors, alias expansion capped
        sets = derived_label_sets(text)
    except UserError as exc:
        return f"exp_alerts_of: {exc.problems[0]}"
    except (AttributeError, TypeError, KeyError):
        return f"exp_alerts_of: {target} is not a promtool test file"
    found = [labels for labels in sets if labels["alertname"] == ref["alertname"]]
    return found or f"exp_alerts_of: {target} expects no alert named {ref['alertname']}"


MAX_TEST_FILE_BYTES = 64 * 1024 * 1024


def config_from_template(path: str, text: str, variables: dict[str, Any] | None) -> dict:
    """``alertmanager.config`` of the values template as Alertmanager gets it: the template
    evaluated as ``templatefile()`` would with ``variables`` (the stack's tfvars), or, without
    them, read with Terraform syntax neutralised (refused when a directive shapes it)."""
    if variables is not None:
        try:
            values = tfeval.evaluate(text, variables)
        except tfeval.EvalError as exc:
            line = text.count("\n", 0, exc.offset) + 1
            raise UserError(Problem(Location(path, line), str(exc))) from None
        try:
            node = yaml.compose(values, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            raise UserError(yaml_problem(exc, path, "the template evaluated with --vars is not "
                                         "YAML")) from None
        check_expansion(node, path)
        section = mapping_value(mapping_value(node, "alertmanager"), "config")
    else:
        template = reader.read(path, text)
        section = template.alertmanager
        if section is not None:
            first = section.start_mark.line
            last = reader.last_line(section, template.plain.split("\n"))
            block = "\n".join(text.split("\n")[first:last + 1])
            if "%{" in block.replace("%%{", ""):
                raise UserError(Problem(Location(path, first + 1), "alertmanager.config holds "
                                        "Terraform directives (%{ ... }): give the variables "
                                        "Terraform passes (--vars FILE, tfvars JSON)"))
    if section is None:
        raise UserError(Problem(Location(path), "no alertmanager.config in the template"))
    return alertmanager.config_data(section)


def amtool_receivers(config_path: str, labels: dict[str, str]) -> tuple[str, ...]:
    try:
        return amtool.routes_test(config_path, labels)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def run(config: dict, tests: list[RouteTest], progress: Any = None) -> list[Result]:  # noqa: ANN401
    """Each test against Alertmanager's own routing (amtool) and a real Alertmanager."""
    quiet = alertmanager.silent(config)
    text = yaml.safe_dump(quiet, sort_keys=False)
    results = [Result(t) for t in tests]
    with tempfile.TemporaryDirectory(prefix="promcontract-routes-") as tmp:
        path = os.path.join(tmp, "alertmanager.yml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        detail = amtool.config_problem(path)
        if detail is not None:
            raise UserError(f"the Alertmanager config does not load: {detail[:300]}")
        routed = {id(t): amtool_receivers(path, t.alert) for t in tests}
        timed = [r for r in results if r.test.muted is not None]
        if timed:
            nodes = RouteNodes(config, tmp)
            for result in timed:
                failure = nodes.muted_failure(result.test)
                if failure:
                    result.failures.append(failure)
        with Alertmanager(text) as server:
            for index, result in enumerate(results):
                if progress:
                    progress(f"routes: {index + 1}/{len(results)} tests")
                check_one(server, result, routed[id(result.test)])
    return results


class RouteNodes:
    """Which routes of the tree an alert takes, by Alertmanager's own matching: a copy of the
    config in which every route sends to a receiver of its own, asked of ``amtool config
    routes test``; and whether those routes are muted at a moment (``amtime``)."""

    def __init__(self, config: dict, tmp: str) -> None:
        self.intervals = amtime.named(config)
        self.nodes: list[tuple[str, dict]] = []  # (where, the route as the config has it)
        marked = copy.deepcopy(alertmanager.silent(config))

        def walk(original: Any, mine: Any, where: str) -> None:  # noqa: ANN401 - routes
            if not isinstance(original, dict) or not isinstance(mine, dict):
                return
            mine["receiver"] = f"promcontract-route-{len(self.nodes)}"
            mine.pop("mute_time_intervals", None)
            mine.pop("active_time_intervals", None)
            self.nodes.append((where, original))
            for index, pair in enumerate(zip(original.get("routes") or (),
                                             mine.get("routes") or (), strict=True)):
                walk(*pair, f"{where}.routes[{index}]")

        walk(config.get("route"), marked.get("route"), "route")
        marked["receivers"] = [{"name": f"promcontract-route-{i}"}
                               for i in range(len(self.nodes))]
        for key in ("inhibit_rules", "time_intervals", "mute_time_intervals"):
            marked.pop(key, None)
        self.path = os.path.join(tmp, "alertmanager-routes.yml")
        with open(self.path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(marked, handle, sort_keys=False)

    def taken(self, labels: dict[str, str]) -> list[tuple[str, dict]]:
        names = amtool_receivers(self.path, labels)
        return [self.nodes[int(name.rsplit("-", 1)[1])] for name in names]

    def muted_failure(self, test: RouteTest) -> str | None:
        """What is wrong with ``test``'s muted expectation (None: it holds)."""
        assert test.at is not None and test.muted is not None
        when = test.at.isoformat().replace("+00:00", "Z")
        try:
            why = [(where, amtime.quiet(node, self.intervals, test.at))
                   for where, node in self.taken(test.alert)]
        except amtime.IntervalError as exc:
            return f"muted at {when}: {exc}"
        quiet = all(reason for _, reason in why)
        if quiet == test.muted:
            return None
        if test.muted:
            loud = ", ".join(where for where, reason in why if not reason)
            return f"muted at {when}: expected yes, got no (not muted: {loud})"
        said = "; ".join(f"{where}: {reason}" for where, reason in why)
        return f"muted at {when}: expected no, got yes ({said})"


def _now(offset_s: float = 0.0) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


SETTLE_S = 0.2
SETTLE_DEADLINE_S = 5.0


def _settled(server: Alertmanager, posted: list[dict[str, str]]) -> None:
    """Wait until Alertmanager's dispatcher has grouped every posted alert (it reads them
    from its store on its own, after the POST returns)."""
    deadline = time.monotonic() + SETTLE_DEADLINE_S
    while True:
        grouped = [a.get("labels") for g in server.api("GET", "alerts/groups") or []
                   for a in g.get("alerts") or ()]
        if all(labels in grouped for labels in posted) or time.monotonic() > deadline:
            return
        time.sleep(0.02)


def check_one(server: Alertmanager, result: Result, routed: tuple[str, ...]) -> None:
    test = result.test
    posted = [test.alert, *test.firing]
    server.api("POST", "alerts", [{"labels": labels, "startsAt": _now(-60),
                                   "endsAt": _now(3600)} for labels in posted])
    try:
        _settled(server, posted)
        alerts = server.api("GET", "alerts") or []
        ours = next((a for a in alerts if a.get("labels") == test.alert), None)
        if ours is None:
            result.failures.append("Alertmanager does not hold the alert it was sent")
            return
        held = tuple(r.get("name") for r in ours.get("receivers") or ())
        if sorted(held) != sorted(routed):
            result.failures.append(f"amtool routes it to {list(routed)}, Alertmanager "
                                   f"to {list(held)}")
        if test.receivers is not None and tuple(test.receivers) != routed:
            result.failures.append(f"receivers: expected {list(test.receivers)}, got "
                                   f"{list(routed)}")
        if test.inhibited is not None:
            by = (ours.get("status") or {}).get("inhibitedBy") or []
            if bool(by) != test.inhibited:  # the inhibitor reads alerts on its own: ask again
                time.sleep(SETTLE_S)
                again = [a for a in server.api("GET", "alerts") or []
                         if a.get("labels") == test.alert]
                by = ((again[0] if again else ours).get("status") or {}).get("inhibitedBy") or []
            if bool(by) != test.inhibited:
                result.failures.append("inhibited: expected " + ("yes" if test.inhibited else
                                       "no") + ", got " + ("yes" if by else "no"))
        if test.group_labels is not None:
            groups = server.api("GET", "alerts/groups") or []
            first = routed[0] if routed else None
            found = [g for g in groups if (g.get("receiver") or {}).get("name") == first
                     and any(a.get("labels") == test.alert for a in g.get("alerts") or ())]
            got = found[0].get("labels") if found else None
            if got != test.group_labels:
                result.failures.append(f"group labels at {first}: expected "
                                       f"{test.group_labels}, got {got}")
    finally:
        server.api("POST", "alerts", [{"labels": labels, "startsAt": _now(-60),
                                       "endsAt": _now(-1)} for labels in posted])


DERIVED_HEADER = ("# Delivery tests derived by promcontract routes --derive: every label set the "
                  "contract's\n# derived promtool tests expect an alert to carry "
                  "(rules/generated/{name}.test.yml),\n# routed as the Alertmanager config "
                  "routes it today, or as the contract's route: says\n# where it has one. "
                  "Review the diff like a snapshot: a label change that moves\n# a page shows "
                  "here. Re-derive with make rules; do not edit.\n")


def derived_label_sets(test_text: str) -> list[dict[str, str]]:
    """The distinct label sets (by alert and label names) the derived promtool tests expect:
    each ``exp_labels`` with its ``alertname``, in file order, without the label that only
    tells scenarios of one test group apart (no alert carries it in a real Prometheus)."""
    data = yaml.safe_load(test_text) or {}
    out: list[dict[str, str]] = []
    seen: set[tuple] = set()
    for group in data.get("tests") or ():
        for case in group.get("alert_rule_test") or ():
            for alert in case.get("exp_alerts") or ():
                labels = {"alertname": str(case["alertname"]),
                          **{str(k): str(v) for k, v in (alert.get("exp_labels") or {}).items()
                             if str(k) != SCENARIO_LABEL}}
                key = (labels["alertname"], tuple(sorted(labels)), labels.get("severity"))
                if key not in seen:
                    seen.add(key)
                    out.append(labels)
    return out


def derive(name: str, test_text: str, config: dict,
           declared: dict[str, Route] | None = None) -> str:
    """The routing test file of one contract: each label set of its derived tests with the
    receivers amtool routes it to under ``config``, or, for an alert whose contract says
    where it goes (``route:``), what the contract says: its receivers, its group's labels,
    and one test per alert that inhibits it."""
    declared = declared or {}
    sets = derived_label_sets(test_text)
    quiet = yaml.safe_dump(alertmanager.silent(config), sort_keys=False)
    with tempfile.TemporaryDirectory(prefix="promcontract-routes-") as tmp:
        path = os.path.join(tmp, "alertmanager.yml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(quiet)
        tests = []
        for labels in sets:
            others = ", ".join(f"{k}={v}" for k, v in labels.items() if k != "alertname")
            title = f"{labels['alertname']} ({others})"
            route = declared.get(labels["alertname"])
            test: dict[str, Any] = {"name": title, "alert": labels}
            if route is not None and route.receivers:
                test["name"] = f"{title}: as its contract says"
                test["receivers"] = list(route.receivers)
            else:
                test["receivers"] = list(amtool_receivers(path, labels))
            if route is not None and route.group_by is not None:
                test["group_labels"] = {k: labels[k] for k in route.group_by if k in labels}
            tests.append(test)
            for inhibitor in route.inhibited_by if route is not None else ():
                firing = {**{k: v for k, v in labels.items() if k != "severity"},
                          **dict(inhibitor)}
                tests.append({"name": f"{title}: inhibited while {firing['alertname']} fires",
                              "alert": dict(labels), "firing": [firing], "inhibited": True})
    if not tests:
        return DERIVED_HEADER.format(name=name) + "tests: []\n"
    return DERIVED_HEADER.format(name=name) + yaml.safe_dump(
        {"tests": tests}, sort_keys=False, allow_unicode=True, width=100)
