"""JUnit XML for CI test views, from results promcontract already has (promtool 2.42 has no
--junit of its own)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from promcontract.fileio import write_atomic


@dataclass(frozen=True)
class Case:
    classname: str
    name: str
    failure: str | None = None  # None: passed
    seconds: float = 0.0


def to_xml(suite: str, cases: list[Case]) -> str:
    failures = sum(1 for c in cases if c.failure is not None)
    root = ET.Element("testsuites", tests=str(len(cases)), failures=str(failures))
    element = ET.SubElement(root, "testsuite", name=suite, tests=str(len(cases)),
                            failures=str(failures), errors="0",
                            time=f"{sum(c.seconds for c in cases):.3f}")
    for case in cases:
        node = ET.SubElement(element, "testcase", classname=case.classname, name=case.name,
                             time=f"{case.seconds:.3f}")
        if case.failure is not None:
            failure = ET.SubElement(node, "failure", message=case.failure.split("\n")[0][:500])
            failure.text = case.failure
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def write(path: str, suite: str, cases: list[Case]) -> None:
    write_atomic(path, to_xml(suite, cases))
