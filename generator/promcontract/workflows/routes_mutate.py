"""Mutation testing of an Alertmanager config: do the delivery tests notice when a route or an
inhibit rule changes?

Each mutant is the config with one change a hand edit could make:

- a matcher's value (to one no alert carries) or its operator (``=`` <-> ``!=``, ``=~`` <->
  ``!~``), on routes and on inhibit rules' source and target;
- a route's ``continue`` flipped, its receiver swapped for another one, the route deleted,
  the route moved below its next sibling;
- a label dropped from a ``group_by`` or from an inhibit rule's ``equal``; an inhibit rule
  deleted; a mute or active time interval dropped from a route.

A mutant is killed when a delivery test fails against it. Receivers come from ``amtool
config routes test`` (Alertmanager's own route tree); a mutant that survives that is run
through a real Alertmanager for the tests that check inhibition or grouping (the same check
as ``promcontract routes``, one Alertmanager reloaded per mutant). Mutants that cannot
change any delivery are equivalent and not run: two sibling routes that no alert can match
both (an equality on one label with different values) swapped, a mutant equal to the
config. A mutant Alertmanager refuses to load is reported, not counted as killed.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import yaml

from promcontract.problems import UserError
from promcontract.runners import amtool
from promcontract.runners.servers import Alertmanager
from promcontract.template import alertmanager
from promcontract.workflows import routes

MUTANT_VALUE = "promcontract-mutant"  # a label value no alert carries
_MATCHER = re.compile(r"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
_FLIP = {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}


@dataclass(frozen=True)
class Mutant:
    operator: str        # matcher-value, matcher-operator, continue, receiver, ...
    where: str           # route.routes[1].matchers[0], inhibit_rules[0].equal, ...
    diff: str            # what changed, old -> new
    config: dict[str, Any]
    equivalent: str | None = None  # why it cannot change any delivery (not run)


@dataclass
class Outcome:
    mutant: Mutant
    state: str           # killed, survived, equivalent, invalid
    detail: str = ""     # the test that killed it, or why it is invalid


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, state: str) -> int:
        return sum(o.state == state for o in self.outcomes)

    @property
    def total(self) -> int:
        """Mutants run (equivalent ones are not)."""
        return sum(o.state in ("killed", "survived", "invalid") for o in self.outcomes)

    @property
    def killed(self) -> int:
        return self.count("killed")

    @property
    def score(self) -> float:
        return 100.0 * self.killed / self.total if self.total else 100.0

    @property
    def clean(self) -> bool:
        return self.killed == self.total


# --- matchers in their three spellings --------------------------------------------------


def parse_matcher(text: str) -> tuple[str, str, str] | None:
    """``name op value`` of one ``matchers:`` entry (None: not a single matcher)."""
    found = _MATCHER.match(text)
    if not found:
        return None
    name, op, value = found.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            value = yaml.safe_load(value)  # a double-quoted YAML scalar escapes as Go does
        except yaml.YAMLError:
            return None
        if not isinstance(value, str):
            return None
    elif '"' in value or "," in value:
        return None
    return name, op, value


def format_matcher(name: str, op: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}{op}"{escaped}"'


def _matchers(node: dict, prefix: str) -> list[tuple[str, str, str, str]]:
    """(name, op, value, spelling) of a route's or an inhibit side's matchers; ``prefix`` is
    '' for a route, 'source_' or 'target_' for an inhibit rule."""
    out = []
    for index, entry in enumerate(node.get(f"{prefix}matchers") or ()):
        parsed = parse_matcher(str(entry))
        if parsed:
            out.append((*parsed, f"{prefix}matchers[{index}]"))
    for name, value in (node.get(f"{prefix}match") or {}).items():
        out.append((str(name), "=", str(value), f"{prefix}match.{name}"))
    for name, value in (node.get(f"{prefix}match_re") or {}).items():
        out.append((str(name), "=~", str(value), f"{prefix}match_re.{name}"))
    return out


def _replace_matcher(node: dict, spelling: str, name: str, op: str, value: str) -> None:
    """Put ``name op value`` where ``spelling`` was (a ``match``/``match_re`` entry whose
    operator changes moves to ``matchers``)."""
    prefix = spelling.split("match")[0]
    if spelling.startswith(f"{prefix}matchers["):
        index = int(spelling[spelling.index("[") + 1:-1])
        node[f"{prefix}matchers"][index] = format_matcher(name, op, value)
        return
    key = f"{prefix}match_re" if spelling.startswith(f"{prefix}match_re.") else f"{prefix}match"
    kept = {k: v for k, v in node[key].items() if str(k) != name}
    if kept:
        node[key] = kept
    else:
        del node[key]
    node.setdefault(f"{prefix}matchers", []).append(format_matcher(name, op, value))


def _disjoint(a: dict, b: dict) -> bool:
    """No label set matches both routes: each requires a different value of one label."""
    wanted_a = {n: v for n, op, v, _ in _matchers(a, "") if op == "="}
    return any(op == "=" and n in wanted_a and wanted_a[n] != v
               for n, op, v, _ in _matchers(b, ""))


# --- the mutants -------------------------------------------------------------------------


def _at(config: dict, path: tuple) -> Any:  # noqa: ANN401 - a node of the config
    node: Any = config
    for step in path:
        node = node[step]
    return node


def _where(path: tuple) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def mutants(config: dict[str, Any]) -> Iterator[Mutant]:
    """Every mutant of the config's route tree and inhibit rules, in config order."""
    receivers = [r.get("name") for r in config.get("receivers") or () if isinstance(r, dict)]

    def changed(path: tuple, edit: Callable[[Any], None]) -> dict:
        out = copy.deepcopy(config)
        edit(_at(out, path))
        return out

    def matcher_mutants(path: tuple, node: dict, prefix: str) -> Iterator[Mutant]:
        for name, op, value, spelling in _matchers(node, prefix):
            where = f"{_where(path)}.{spelling}"
            old = format_matcher(name, op, value)
            if value != MUTANT_VALUE:
                yield Mutant("matcher-value", where, f"{old} -> "
                             f"{format_matcher(name, op, MUTANT_VALUE)}", changed(
                                 path, lambda n, s=spelling, a=name, o=op:
                                 _replace_matcher(n, s, a, o, MUTANT_VALUE)))
            flipped = _FLIP[op]
            yield Mutant("matcher-operator", where, f"{old} -> "
                         f"{format_matcher(name, flipped, value)}", changed(
                             path, lambda n, s=spelling, a=name, o=flipped, v=value:
                             _replace_matcher(n, s, a, o, v)))

    def group_by_mutants(path: tuple, node: dict) -> Iterator[Mutant]:
        labels = node.get("group_by")
        if not isinstance(labels, list) or "..." in labels:
            return
        for label in labels:
            yield Mutant("group-by", f"{_where(path)}.group_by", f"{labels} -> "
                         f"{[x for x in labels if x != label]} (dropped {label})", changed(
                             path, lambda n, d=label: n.__setitem__(
                                 "group_by", [x for x in n["group_by"] if x != d])))

    def route_mutants(path: tuple, node: dict, inherited: str | None,
                      last: bool = True) -> Iterator[Mutant]:
        own = node.get("receiver") or inherited
        others = [r for r in receivers if r != own]
        if others:
            swap = others[0] if own not in receivers else \
                (receivers[receivers.index(own) + 1:] + receivers[:receivers.index(own)])[0]
            yield Mutant("receiver", f"{_where(path)}.receiver", f"{own} -> {swap}",
                         changed(path, lambda n, r=swap: n.__setitem__("receiver", r)))
        yield from group_by_mutants(path, node)
        for key in ("mute_time_intervals", "active_time_intervals"):
            for name in node.get(key) or ():
                yield Mutant("time-interval", f"{_where(path)}.{key}", f"dropped {name}",
                             changed(path, lambda n, k=key, d=name: n.__setitem__(
                                 k, [x for x in n[k] if x != d])))
        if len(path) > 1:  # not the root
            yield from matcher_mutants(path, node, "")
            flag = bool(node.get("continue"))
            yield Mutant("continue", f"{_where(path)}.continue", f"{flag} -> {not flag}",
                         changed(path, lambda n, v=not flag: n.__setitem__("continue", v)),
                         "the last route: no sibling after it to continue to" if last
                         else None)
        children = node.get("routes") or []
        for index, child in enumerate(children):
            if not isinstance(child, dict):
                continue
            child_path = (*path, "routes", index)
            yield from route_mutants(child_path, child, own, index + 1 == len(children))
            label = child.get("receiver") or own
            yield Mutant("route-deleted", _where(child_path), f"route to {label} deleted",
                         changed(path, lambda n, i=index: n["routes"].pop(i)))
            if index + 1 < len(children) and isinstance(children[index + 1], dict):
                after = children[index + 1]
                why = None
                if child == after:
                    why = "the two routes are the same"
                elif _disjoint(child, after):
                    why = "no alert matches both routes (one label, two values)"
                yield Mutant("route-order", _where(child_path), f"route to {label} moved "
                             f"below the next (to {after.get('receiver') or own})",
                             changed(path, lambda n, i=index: n["routes"].insert(
                                 i + 1, n["routes"].pop(i))), why)

    root = config.get("route")
    if isinstance(root, dict):
        yield from route_mutants(("route",), root, None)
    for index, rule in enumerate(config.get("inhibit_rules") or ()):
        if not isinstance(rule, dict):
            continue
        path = ("inhibit_rules", index)
        yield from matcher_mutants(path, rule, "source_")
        yield from matcher_mutants(path, rule, "target_")
        for label in rule.get("equal") or ():
            yield Mutant("equal", f"{_where(path)}.equal", f"dropped {label}", changed(
                path, lambda n, d=label: n.__setitem__(
                    "equal", [x for x in n["equal"] if x != d])))
        yield Mutant("inhibit-deleted", _where(path), "inhibit rule deleted",
                     changed(("inhibit_rules",), lambda n, i=index: n.pop(i)))


# --- running them ------------------------------------------------------------------------


def _receivers_of(path: str, label_sets: list[dict[str, str]]) -> list[tuple[str, ...]]:
    """amtool's receivers for each label set (two at a time: amtool is a process each)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda labels: routes.amtool_receivers(path, labels), label_sets))


def run(config: dict[str, Any], tests: list[routes.RouteTest],
        progress: Callable[[str], None] | None = None) -> Report:
    """Each mutant of ``config`` against ``tests``. The tests must pass on ``config`` itself
    (``routes.run`` first); a mutant is killed by the first test that fails on it."""
    started = time.monotonic()
    report = Report()
    deeper = [t for t in tests if t.inhibited is not None or t.group_labels is not None]
    keys = sorted({tuple(sorted(t.alert.items())) for t in tests if t.receivers is not None})
    all_mutants = list(mutants(config))
    with tempfile.TemporaryDirectory(prefix="promcontract-routes-mutate-") as tmp, \
            Alertmanager(_text(config)) if deeper else _Nothing() as server:
        path = os.path.join(tmp, "alertmanager.yml")
        for number, mutant in enumerate(all_mutants, 1):
            if progress:
                progress(f"routes --mutate: {number}/{len(all_mutants)} mutants")
            if mutant.equivalent or mutant.config == config:
                report.outcomes.append(Outcome(mutant, "equivalent", mutant.equivalent or
                                               "the same config"))
                continue
            text = _text(mutant.config)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            detail = amtool.config_problem(path)
            if detail is not None:
                report.outcomes.append(Outcome(mutant, "invalid", detail[:200]))
                continue
            report.outcomes.append(_verdict(mutant, path, text, tests, keys, deeper, server,
                                            tmp))
    report.seconds = time.monotonic() - started
    return report


def _verdict(mutant: Mutant, path: str, text: str, tests: list[routes.RouteTest],
             keys: list[tuple], deeper: list[routes.RouteTest],
             server: Alertmanager | None, tmp: str) -> Outcome:
    routed = dict(zip(keys, _receivers_of(path, [dict(k) for k in keys]), strict=True))
    for test in tests:
        got = routed.get(tuple(sorted(test.alert.items())))
        if test.receivers is not None and got != tuple(test.receivers):
            return Outcome(mutant, "killed", f"{test.file}:{test.line}: {test.name}")
    timed = [t for t in tests if t.muted is not None]
    if timed:
        nodes = routes.RouteNodes(mutant.config, tmp)
        for test in timed:
            if nodes.muted_failure(test):
                return Outcome(mutant, "killed", f"{test.file}:{test.line}: {test.name}")
    if deeper and server is not None:
        server.reload(text)
        for test in deeper:
            result = routes.Result(test)
            routes.check_one(server, result, routes.amtool_receivers(path, test.alert))
            if not result.ok:
                return Outcome(mutant, "killed", f"{test.file}:{test.line}: {test.name}")
    return Outcome(mutant, "survived")


def _text(config: dict[str, Any]) -> str:
    return yaml.safe_dump(alertmanager.silent(config), sort_keys=False)


class _Nothing:
    """No Alertmanager: no test needs one."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def require_passing(results: list[routes.Result]) -> None:
    """Mutants prove nothing when the tests fail on the config as it is."""
    failing = [r for r in results if not r.ok]
    if failing:
        first = failing[0]
        raise UserError(f"{first.test.file}:{first.test.line}: {first.test.name}: fails on "
                        f"the config as it is ({'; '.join(first.failures)}), so mutants would "
                        "prove nothing: fix the config or the test first")
