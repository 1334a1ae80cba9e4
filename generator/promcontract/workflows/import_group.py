"""A contract from a hand-written alert group (``promcontract import``), nothing lost.

Each alert is recognised as a kind where its PromQL tree is one (``m > N``, ``m < N``,
``m == N``, ``m < A or m > B``, ``time() - m > N`` with or without ``max``/``or absent(m)``,
``increase(m[W]) > N`` / ``< N``), else kept verbatim as ``kind: expr``. The group's comment
lines (the incident history such groups carry) become the contract's description and each
alert's rationale; annotations and labels a contract cannot hold are listed, never silently
dropped. Then the proof: the derived tests of the imported contract run against the ORIGINAL
hand-written rules (their summary and description as the contract has them), so "same" means
the old rules meet the new contract; a failure is classified (threshold or for:, labels,
absent behaviour) from the scenario that shows it.
"""

from __future__ import annotations

import os
import re
import tempfile
import textwrap
from dataclasses import dataclass, field
from typing import Any

import yaml

from promcontract import kinds
from promcontract.contract.load import parse_contract
from promcontract.durations import parse_duration
from promcontract.kinds import shapes
from promcontract.payload import text004
from promcontract.problems import Location, Problem, UserError
from promcontract.promql import ParseError, parse, text
from promcontract.promql import labels as plabels
from promcontract.promql.nodes import (
    Selector,
    walk,
)
from promcontract.render import group
from promcontract.runners import promtool
from promcontract.template import reader, tfescape
from promcontract.template.tfescape import PLACEHOLDER
from promcontract.testgen import scenarios as derive
from promcontract.testgen import testfile

SEVERITIES = ("critical", "warning", "info")
_LABEL_REF = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)|index\s+\$labels\s+\"([^\"]+)\"")


def _kept(expr: str) -> list[str] | None:
    """The labels the expression's result is known to be limited to (None: any)."""
    try:
        kept = plabels.result_labels(parse(expr))
    except ParseError:
        return None
    if kept.scalar:
        return []
    return sorted(kept.known - {"__name__"}) if kept.known is not None else None


@dataclass
class ImportedAlert:
    name: str
    line: int
    kind: str
    spec: dict[str, Any]
    changes: list[str] = field(default_factory=list)  # what rendering changes
    verdict: str = ""  # same | differs (...) | not derivable


@dataclass
class Imported:
    contract: dict[str, Any]
    alerts: list[ImportedAlert]
    notes: list[str]
    rules_text: str  # the hand-written group as a standalone rule file
    job_guessed: bool = False  # the grouping key's job from the group name, not the rules

    def text(self, header: str) -> str:
        body = yaml.safe_dump(self.contract, sort_keys=False, allow_unicode=True, width=92,
                              default_flow_style=False)
        return header + body


def recognise(expr: str) -> tuple[str, dict[str, Any], str]:
    """(kind, kind fields, why it is expr) for one hand-written expression: every kind is
    asked (``AlertKind.recognise``); the first that takes it wins, a kind's refusal is the
    reason when none takes it."""
    try:
        shape = shapes.Shape.of(parse(expr))
    except ParseError as exc:
        return "expr", {}, f"does not parse ({exc})"
    refusal = ""
    try:
        for kind in kinds.alert_kinds().values():
            found = kind.recognise(shape)
            if isinstance(found, shapes.Refused):
                refusal = refusal or found.reason
            elif found is not None:
                return kind.name, found, ""
    except shapes.Subset as exc:
        return "expr", {}, str(exc)
    if refusal:
        return "expr", {}, refusal
    if shape.op is None:
        return "expr", {}, "not a comparison with a constant"
    return "expr", {}, "the compared side is not one metric"


# --- the group's text, its comments -------------------------------------------------------------

def _text(comments: list[str]) -> str:
    """Comment lines as prose: lines joined, an empty comment line a paragraph break."""
    paragraphs = " ".join(c if c else "\n\n" for c in comments).split(" \n\n ")
    return "\n\n".join(p.strip() for p in paragraphs if p.strip())


# --- the import ----------------------------------------------------------------------------------

def import_group(tpl: str, tpl_text: str, name: str, job: str | None = None,
                 payload: str | None = None, cadence: str = "5m",
                 source: reader.Template | None = None,
                 variables: dict[str, str] | None = None) -> Imported:
    """The contract for group ``name`` of the template ``tpl`` (or of ``source``, a template
    or rule file already read). ``variables``: the values of the Terraform variables its
    rules interpolate (``--var``)."""
    source = source or reader.read(tpl, tpl_text)
    found = source.group(name)
    job_given, guessed = job, False
    if not found.alerts:
        raise UserError(Problem(Location(tpl, found.line), f"group '{name}' has no alerting "
                                "rules to import"))
    group_line, rules_text = found.line, found.rule_file()
    first_line: dict[str, int] = {}
    for entry in found.alerts:
        earlier = first_line.setdefault(entry.name, entry.line)
        if earlier != entry.line:
            # tiers of one alert (severity warning and critical at two thresholds): a
            # contract names each alert once, and its derived tests expect by name
            raise UserError(Problem(Location(tpl, entry.line), f"alert '{entry.name}' is "
                                    f"defined twice in group '{name}' (first on line "
                                    f"{earlier}): a contract names each alert once; import "
                                    "cannot write this group (rename one of them first)"))
    rules = [r.data for r in found.alerts]
    written = [_as_written(source, r, tpl) for r in found.alerts]
    originals = [w[0] for w in written]
    used_variables: dict[str, str] = {}
    for entry, (_, names) in zip(found.alerts, written, strict=True):
        for var in names:
            if var not in (variables or {}):
                raise UserError(Problem(Location(tpl, entry.line), f"alert '{entry.name}' "
                                        f"reads the Terraform variable ${{{var}}}: give --var "
                                        f"{var}=VALUE (the value Terraform passes; standalone "
                                        "rule files and tests use it)"))
            used_variables[var] = (variables or {})[var]
    records = [r.data for r in found.rules if r.kind == "record"]
    notes = []
    if records:
        notes.append(f"{len(records)} recording rule(s) of the group are not part of a "
                     "contract: rendering the group drops them; move them to another group "
                     "first (" + ", ".join(str(r["record"]) for r in records) + ")")
    jobs = set()
    for rule in rules:
        try:
            tree = parse(str(rule["expr"]))
        except ParseError:
            continue
        jobs |= {m.value for n, _ in walk(tree) if isinstance(n, Selector)
                 for m in n.matchers if m.name == "job" and m.op == "="}
    if job is None:
        if len(jobs) > 1:
            # the rules' own job= matchers disagree: a guess would render selectors that
            # match nothing for some of them
            raise UserError(Problem(Location(tpl, group_line), f"the alerts of group '{name}' "
                                    f"select {len(jobs)} jobs ({', '.join(sorted(jobs))}): "
                                    "give --job to choose the grouping key"))
        guessed = False
        if len(jobs) == 1:
            job = jobs.pop()
        else:
            guessed = True
            job = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "job"
            notes.append(f"grouping key job={job}: the alerts select no job; give --job to "
                         "choose")
    families = _families(payload)
    metrics: dict[str, dict[str, Any]] = {}
    imported: list[ImportedAlert] = []
    for entry, rule, original in zip(found.alerts, rules, originals, strict=True):
        imported.append(_alert(original or rule, entry.line, entry.comments, metrics, families,
                               job, neutral=rule if original else None))
    description = _text(found.comments) or f"Imported from the hand-written group " \
                                           f"'{name}' of {os.path.basename(tpl)}."
    contract = {
        "contract": re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "imported",
        "group": name,
        "description": description,
        "push": {"grouping_key": {"job": job}, "cadence": cadence},
        "metrics": list(metrics.values()),
        "alerts": [a.spec for a in imported],
    }
    if used_variables:
        contract["terraform_variables"] = {k: _scalar_value(v) for k, v in
                                           sorted(used_variables.items())}
    _domains(metrics, imported)
    guessed = [m["name"] for m in metrics.values() if m["name"] not in families]
    if guessed:
        notes.append(f"type, help, unit and domain of {', '.join(guessed)} are guesses (no "
                     "payload named them): review them, or give --payload / --gateway")
    notes.append(f"push cadence {cadence}: set how often the job pushes")
    return Imported(contract, imported, notes, rules_text,
                    job_guessed=job_given is None and guessed)


def _domains(metrics: dict[str, dict[str, Any]], alerts: list[ImportedAlert]) -> None:
    """Ranges wide enough for every threshold the alerts compare the metric with."""
    for metric in metrics.values():
        if metric["domain"]["kind"] != "range":
            continue
        low = 0.0
        for alert in alerts:
            spec = alert.spec
            if spec.get("metric") != metric["name"]:
                continue
            for key in ("threshold", "value", "min", "max"):
                v = spec.get(key)
                if not isinstance(v, (int, float)):
                    continue
                if v < 0:
                    low = min(low, v * 2 - 1)
                # `< 0` (days until a certificate expires, below zero once expired) needs
                # values under the threshold in the domain, or validate says it never fires
                if v <= low and (key in ("min", "value") or spec["kind"].endswith("_below")):
                    low = min(low, v - max(1.0, abs(v)))
        metric["domain"] = {"kind": "range", "min": shapes.number(low)}


def _families(payload: str | None) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """name -> (type, help, labels) from a payload or a gateway's /metrics."""
    if not payload:
        return {}

    parsed = text004.parse(payload, "payload")
    out = {}
    for fam_name, fam in parsed.families.items():
        labels = sorted({k for s in fam.samples for k, _ in s.labels
                         if k not in ("job", "instance")})
        out[fam_name] = (fam.type or "gauge", fam.help or "", tuple(labels))
    return out


def _metric(name: str, kind: str, families: dict, metrics: dict) -> None:
    if name in metrics:
        return
    known = families.get(name)
    guess = (kinds.alert_kind(kind).guess_metric(name) if kind in kinds.alert_kinds()
             else kinds.alert_kind("value_above").guess_metric(name))
    entry: dict[str, Any] = {
        "name": name,
        "type": known[0] if known else guess["type"],
        "help": (known[1] if known and known[1] else
                 f"{name} (imported: describe what it measures)"),
    }
    if known and known[2]:
        entry["labels"] = list(known[2])
    entry["unit"], entry["domain"] = guess["unit"], guess["domain"]
    metrics[name] = entry


def _alert(rule: dict, line: int, comments: list[str], metrics: dict, families: dict,
           job: str, neutral: dict | None = None) -> ImportedAlert:
    """``rule`` as written; ``neutral``: the same with Terraform interpolations stood in for
    (read for its metrics and labels), when it holds any: such an alert stays expr, its
    ``${name}`` kept for the template."""
    name = str(rule["alert"])
    expr = str(rule["expr"])
    parsed = str((neutral or rule)["expr"])
    kind, fields, why = recognise(expr)
    if neutral is not None:
        kind, fields, why = "expr", {}, "it interpolates a Terraform variable"
    unpinnable = _unpinnable(kind, fields, rule)
    if unpinnable:  # a kind validate would refuse: keep the alert as written
        kind, fields, why = "expr", {}, unpinnable
    labels = {str(k): str(v) for k, v in (rule.get("labels") or {}).items()}
    annotations = {str(k): str(v) for k, v in (rule.get("annotations") or {}).items()}
    # the labels the summary and description read: the metric carries them (a typed kind
    # keeps the metric's labels), unless the rule's own expression drops them
    used = set()
    for key in ("summary", "description"):
        used |= {a or b for a, b in _LABEL_REF.findall(annotations.get(key, ""))}
    used -= set(labels)
    kept = _kept(parsed)
    if kind != "expr" and kept is not None and used - set(kept):
        kind, fields, why = "expr", {}, "its annotations use labels the expression drops"
    changes: list[str] = []
    severity = labels.pop("severity", None)
    if severity not in SEVERITIES:
        changes.append(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}: "
                       "imported as warning")
        severity = "warning"
    rationale = _text(comments) or "Imported from a hand-written rule; say why it exists."
    spec: dict[str, Any] = {"name": name, "kind": kind, **fields,
                            "for": str(rule.get("for") or "0s"), "severity": severity}
    if rule.get("keep_firing_for"):
        spec["keep_firing_for"] = str(rule["keep_firing_for"])
    spec["summary"] = annotations.pop("summary", f"{name} is firing")
    if "description" in annotations:
        spec["description"] = annotations.pop("description")
    if labels:
        spec["labels"] = labels
    for key, value in sorted(annotations.items()):
        rationale += f" (annotation {key} of the hand-written rule: {value})"
        changes.append(f"annotation {key} is not rendered (kept in the rationale)")
    spec["rationale"] = rationale
    if kind == "expr":
        spec["expr"] = expr
        try:
            names = sorted({n.name for n, _ in walk(parse(parsed))
                            if isinstance(n, Selector) and n.name and n.name != PLACEHOLDER})
        except ParseError:
            names = []
        spec["metrics"] = names
        if kept is not None:
            dropped = sorted(used - set(kept))
            if dropped:
                changes.append(f"its annotations use $labels.{', $labels.'.join(dropped)} "
                               "but the expression drops them (they render <no value>); "
                               "output_labels lists them so the contract loads: fix the "
                               "expression or the annotation")
            spec["output_labels"] = sorted(set(kept) | set(dropped))
        else:
            spec["output_labels"] = sorted(used)
        for metric in names:
            _metric(metric, kind, families, metrics)
        changes.append(f"kept as kind expr ({why}): not derivable, rendered verbatim")
    else:
        own = used - {"job", "instance"}  # target labels, not the metric's
        if kind == "age_above" and not used - {"job"} and \
                not (families.get(fields["metric"]) or ((), (), ()))[2]:
            kind = spec["kind"] = "heartbeat_stale"  # one series per job: a heartbeat
        _metric(fields["metric"], kind, families, metrics)
        entry = metrics[fields["metric"]]
        if own and fields["metric"] not in families:
            entry["labels"] = sorted(set(entry.get("labels", ())) | own)
    if "summary" not in (rule.get("annotations") or {}):
        changes.append("no summary: a placeholder summary is rendered")
    return ImportedAlert(name, line, kind, spec, changes)


def _as_written(source: reader.Template, rule: reader.Rule, tpl: str
                ) -> tuple[dict | None, list[str]]:
    """The rule as the template writes it, Terraform interpolations and all, and the
    variables it interpolates, when it holds any (None otherwise: the neutral reading is the
    rule); escapes (``$${``) are read as Terraform writes them out."""
    if source.kind != "template" or "${" not in source.text:
        return None, []
    lines = source.body.split("\n")
    start = rule.node.start_mark.line + source.rules_offset
    end = reader.last_line(rule.node, source.rules_text.split("\n")) + source.rules_offset
    chunk = lines[start:end + 1]
    if not any("${" in line or "%{" in line for line in chunk):
        return None, []
    if any("%{" in line.replace("%%{", "") for line in chunk):
        raise UserError(Problem(Location(tpl, rule.line), f"alert '{rule.name}' holds a "
                                "Terraform directive (%{ ... }): import cannot keep it"))
    first = chunk[0]
    dash = first.index("- ") if first.lstrip().startswith("- ") else -1
    if dash >= 0:
        chunk[0] = first[:dash] + "  " + first[dash + 2:]
    try:
        data = yaml.safe_load(textwrap.dedent("\n".join(chunk)))
    except yaml.YAMLError:
        return None, []
    if not isinstance(data, dict):
        return None, []
    names = _interpolated(data)
    for var in names:
        if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", var):
            raise UserError(Problem(Location(tpl, rule.line), f"alert '{rule.name}' "
                                    f"interpolates the Terraform expression ${{{var}}}: a "
                                    "contract keeps only ${name} of a variable"))
    if not names:
        return None, []
    return _unescaped(data), names


def _interpolated(rule: dict | None) -> list[str]:
    """The ${...} interpolations in the rule's expression, labels and annotations."""
    if not rule:
        return []
    texts = [str(rule.get("expr", ""))]
    for key in ("labels", "annotations"):
        texts += [str(v) for v in (rule.get(key) or {}).values()]
    found = set()
    for value in texts:  # the one scanner of Terraform sequences
        try:
            found |= {value[t.start + 2:t.end - 1].strip("~").strip()
                      for t in tfescape.scan(value) if t.kind == "interp"}
        except tfescape.TemplateSyntaxError:
            continue
    return sorted(found)


def _unescaped(value: Any) -> Any:  # noqa: ANN401 - YAML values
    """Text as Terraform writes it out (``$${`` -> ``${``, ``%%{`` -> ``%{``), interpolations
    kept: the contract's text is literal but for its terraform_variables."""
    if isinstance(value, dict):
        return {k: _unescaped(v) for k, v in value.items()}
    if isinstance(value, str):
        return tfescape.unescape(value)
    return value


def _scalar_value(text: str) -> Any:  # noqa: ANN401 - a number when it is one
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def _unpinnable(kind: str, fields: dict[str, Any], rule: dict) -> str:
    """Why the increase kinds' derived tests could not pin this rule (validate refuses it
    then), or "": import never writes a contract its own validate refuses."""
    if not kind.startswith("increase_"):
        return ""
    if not float(fields["threshold"]).is_integer():
        return "an increase compared with a fractional threshold"
    try:
        window = parse_duration(fields["window"])
        spans = [parse_duration(str(rule.get(key) or "0s")) for key in ("for",
                                                                         "keep_firing_for")]
    except ValueError:
        return ""
    if any(span > window - 120 for span in spans):
        return "for: or keep_firing_for is not 2m shorter than the increase window"
    return ""


# --- the proof ---------------------------------------------------------------------------------

def prove(imported: Imported, source: str, workers: int | None = None) -> None:
    """Runs the imported contract's derived tests against the hand-written rules; sets each
    alert's verdict and notes what rendering changes in its expression."""

    contract = parse_contract(imported.text(""), source)
    rendered = {a.name: group.alert_expr(a, contract) for a in contract.alerts}
    data = yaml.safe_load(imported.rules_text)
    # the hand-written rules, their summary/description as the contract has them: what is
    # compared is when they fire and with which labels
    by_name = {a["name"]: a for a in imported.contract["alerts"]}
    for rule in data["groups"][0].get("rules") or ():
        spec = by_name.get(rule.get("alert"))
        if spec is None:
            continue
        rule["annotations"] = {"summary": spec["summary"],
                               **({"description": spec["description"]}
                                  if "description" in spec else {})}
        rule.setdefault("labels", {})["severity"] = spec["severity"]
    scenarios, _ = derive.derive(contract)
    files: list[tuple[str, float]] = []
    owner: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="promcontract-import-") as tmp:
        with open(os.path.join(tmp, "original.rules.yml"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(data, handle, sort_keys=False, allow_unicode=True)
        for index, scenario in enumerate(scenarios):
            path = os.path.join(tmp, f"s{index}.test.yml")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(testfile.test_file(contract, "original.rules.yml", [scenario]))
            files.append((path, 1.0))
            owner[path] = (scenario.alert, scenario.title)
        results, problems = promtool.test_many(files, workers or os.cpu_count() or 1, tmp)
    failures: dict[str, list[str]] = {}
    for path, (alert, title) in owner.items():
        found = results.get(path)
        if found is None:
            failures.setdefault(alert, []).append(f"not run ({problems[:1]})")
        elif not found.ok:
            failures.setdefault(alert, []).append(_classify(title, found))
    for alert in imported.alerts:
        if alert.kind == "expr":
            alert.verdict = "not derivable (kind expr, rendered verbatim)"
            continue
        original = next(str(r["expr"]) for r in data["groups"][0]["rules"]
                        if r.get("alert") == alert.name)
        if _normal(original) != _normal(rendered[alert.name]):
            alert.changes.append(f"expression {original!r} is rendered as "
                                 f"{rendered[alert.name]!r}")
        kinds = sorted(set(failures.get(alert.name, ())))
        moved = _selector_change(original, rendered[alert.name], imported.job_guessed)
        if moved:
            # the derived tests feed series of the contract's job, which both rules see; a
            # series of another job only the hand-written rule sees: not the same alert
            kinds.append(f"selector ({moved})")
        if kinds:
            alert.verdict = "differs: " + "; ".join(kinds)
        else:
            alert.verdict = "same: the derived tests pass on the hand-written rule"


def _selector_change(original: str, rendered: str, guessed: bool) -> str:
    """How the rendered rule's job matchers select other series than the hand-written
    rule's (``""``: the same): another job, or a job guessed from the group name where the
    hand-written rule selects any (a job given with --job, or read from the group's other
    rules, narrows it on purpose)."""
    def jobs(expr: str) -> list[tuple[str, str]]:
        try:
            tree = parse(expr)
        except ParseError:
            return []
        return sorted({(n.name or "", next((f'{m.op}"{m.value}"' for m in n.matchers
                                             if m.name == "job"), "any job"))
                       for n, _ in walk(tree) if isinstance(n, Selector)})
    before, after = jobs(original), jobs(rendered)
    if before == after:
        return ""
    def shown(name: str, job: str) -> str:
        return f"{name}{{job{job}}}" if job != "any job" else f"{name} of any job"

    changed = [f"renders {shown(name, new)} where the hand-written rule selects "
               f"{shown(name, old)}" + (" (the job is guessed from the group name: give "
                                        "--job)" if old == "any job" else "")
               for (name, old), (_, new) in zip(before, after, strict=False)
               if old != new and (old != "any job" or guessed)]
    if not changed:
        return ""
    return "; ".join(changed) or "the rendered rule selects other series"


def _normal(expr: str) -> str:
    try:
        return text(parse(expr))
    except ParseError:
        return expr


def _classify(title: str, found: Any) -> str:  # noqa: ANN401 - a promtool.FileResult
    lowered = title.lower()
    if found.errors and not found.mismatches:
        return f"promtool cannot run it ({found.errors[0][:120]})"
    if "absent" in lowered or "stale" in lowered or "wiped" in lowered:
        return f"absent behaviour ({title})"
    for mismatch in found.mismatches or ():
        if mismatch.expected and mismatch.got:
            exp = {k for k, _ in mismatch.expected[0].labels}
            got = {k for k, _ in mismatch.got[0].labels}
            if exp != got or mismatch.expected[0].labels != mismatch.got[0].labels:
                return (f"labels (the contract's rule gives {sorted(exp)}, the hand-written "
                        f"one {sorted(got)})")
    return f"threshold or for: ({title})"


def check_written(path: str) -> None:
    if os.path.exists(path):
        raise UserError(Problem(Location(path), "exists; give --force to replace it, or -o "
                                "another path"))
