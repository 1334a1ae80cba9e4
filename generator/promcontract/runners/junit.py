"""JUnit XML for CI test views, from results promcontract already has (promtool 2.42 has no
--junit of its own).

What CI servers read: ``testsuite`` with ``tests``/``failures``/``errors``/``time`` that add up
over its ``testcase`` elements; each case its own ``time`` and, when it failed, a ``failure``
with ``message`` (one line) and ``type``; the whole run's output in ``system-out``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from promcontract.runners.fileio import write_atomic


@dataclass(frozen=True)
class Case:
    classname: str
    name: str
    failure: str | None = None  # None: passed
    seconds: float = 0.0
    kind: str = "failure"  # the failure's type, e.g. stale, promtool-test-rules


# Characters XML 1.0 cannot hold at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def to_xml(suite: str, cases: list[Case], output: str = "") -> str:
    failures = sum(1 for c in cases if c.failure is not None)
    total = sum(c.seconds for c in cases)
    root = ET.Element("testsuites", name=suite, tests=str(len(cases)), failures=str(failures),
                      errors="0", time=f"{total:.3f}")
    element = ET.SubElement(root, "testsuite", name=suite, tests=str(len(cases)),
                            failures=str(failures), errors="0", skipped="0",
                            time=f"{total:.3f}")
    for case in cases:
        node = ET.SubElement(element, "testcase", classname=_text(case.classname),
                             name=_text(case.name), time=f"{case.seconds:.3f}")
        if case.failure is not None:
            first = case.failure.split("\n", 1)[0]
            failure = ET.SubElement(node, "failure", message=_text(first[:500]),
                                    type=case.kind)
            failure.text = _text(case.failure)
    out = ET.SubElement(element, "system-out")
    out.text = _text(output)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def write(path: str, suite: str, cases: list[Case], output: str = "") -> None:
    write_atomic(path, to_xml(suite, cases, output))
