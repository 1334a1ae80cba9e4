"""Lint findings as text, JSON, SARIF 2.1.0 or GitHub workflow commands.

SARIF is built with sarif-pydantic's object model (the SARIF 2.1.0 schema as pydantic models,
serialised with its camelCase names), not with hand-written dicts: each result has ruleId,
level, message.text and a physicalLocation (artifactLocation.uri, region.startLine); the run's
tool.driver.rules carry each check's help text.
"""

from __future__ import annotations

import json
import os

from promcontract.problems import Problem


def text(findings: list[Problem]) -> str:
    lines = []
    for f in findings:
        shown = str(f)
        if f.severity == "warning":
            prefix = f"{f.location}: {f.rule}: "
            shown = prefix + "(warning) " + shown[len(prefix):]
        lines.append(shown)
    return "\n".join(lines) + ("\n" if lines else "")


def as_json(findings: list[Problem]) -> str:
    return json.dumps([{"file": f.location.file, "line": f.location.line, "check": f.rule,
                        "severity": f.severity, "message": f.message} for f in findings],
                      indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(findings: list[Problem]) -> str:
    """``::error file=F,line=N,title=CHECK::message`` (``::warning`` for warnings): GitHub
    Actions turns each into an annotation on the pull request's diff."""
    lines = []
    for f in findings:
        command = "warning" if f.severity == "warning" else "error"
        props = f"file={_escape_property(f.location.file)}"
        if f.location.line:
            props += f",line={f.location.line}"
        props += f",title={_escape_property(f.rule or 'promcontract')}"
        lines.append(f"::{command} {props}::{_escape_data(f.message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def sarif(findings: list[Problem], checks: list[tuple[str, str]], version: str) -> str:
    # sarif-pydantic loads pydantic (~0.15 s): only for --format sarif.
    from sarif_pydantic import (
        ArtifactLocation,
        Level,
        Location,
        Message,
        PhysicalLocation,
        Region,
        ReportingConfiguration,
        ReportingDescriptor,
        Result,
        Run,
        Sarif,
        Tool,
        ToolDriver,
    )

    names = [name for name, _ in checks]
    extra = sorted({f.rule for f in findings if f.rule and f.rule not in names})
    rules = [ReportingDescriptor(id=name, name=name, short_description=Message(text=doc),
                                 help=Message(text=doc),
                                 default_configuration=ReportingConfiguration(level="error"))
             for name, doc in checks + [(name, name) for name in extra]]
    index = {rule.id: i for i, rule in enumerate(rules)}
    results = []
    for f in findings:
        region = Region(start_line=f.location.line) if f.location.line else None
        uri = f.location.file.replace(os.sep, "/")
        results.append(Result(
            rule_id=f.rule, rule_index=index.get(f.rule),
            level=Level.WARNING if f.severity == "warning" else Level.ERROR,
            message=Message(text=f.message),
            locations=[Location(physical_location=PhysicalLocation(
                artifact_location=ArtifactLocation(uri=uri), region=region))]))
    log = Sarif(version="2.1.0",
                schema_uri="https://json.schemastore.org/sarif-2.1.0.json",
                runs=[Run(tool=Tool(driver=ToolDriver(
                    name="promcontract-lint", version=version,
                    information_uri="https://github.com/", rules=rules)),
                    results=results)])
    return json.dumps(log.model_dump(by_alias=True, exclude_none=True, mode="json"),
                      indent=2) + "\n"
