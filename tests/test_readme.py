"""The README's kinds, checks and formats tables are the plug-ins' own text (make readme), and
plug-ins are found one way (promcontract.plugins), each against its declared interface."""

from __future__ import annotations

import types

import pytest

from conftest import ROOT
from promcontract import kinds, lint, plugins
from promcontract.kinds.base import KindModule
from promcontract.lint.base import Check
from promcontract.render import writers
from promcontract.workflows import readme

README = ROOT / "README.md"


def test_the_readme_tables_are_the_plug_ins_own_text() -> None:
    text = README.read_text(encoding="utf-8")
    assert readme.refresh(text) == text, "README tables are stale: run make readme"


def test_a_new_plug_in_shows_up_in_its_table(monkeypatch) -> None:
    text = README.read_text(encoding="utf-8")
    fake = types.SimpleNamespace(NAME="fake-check", DOC="a thing | with a pipe",
                                 check=lambda template: [])
    monkeypatch.setattr(lint, "CHECKS", lint.CHECKS + (fake,))
    fresh = readme.refresh(text)
    assert fresh != text and "| `fake-check` | a thing \\| with a pipe |" in fresh
    with pytest.raises(ValueError, match="checks table"):
        readme.refresh(text.replace("<!-- end of generated checks -->", ""))


def test_every_folder_is_discovered_one_way() -> None:
    assert {m.KIND.name for m in plugins.discover(kinds, KindModule, kinds.HELPERS)} == \
        set(kinds.alert_kinds()) | set(kinds.invariant_kinds())
    assert plugins.discover(lint, Check, lint.HELPERS) == list(lint.CHECKS)
    assert set(writers.writers()) == {"docs", "mimir", "prometheusrule", "pusherfile",
                                      "rulefile", "testfile", "timelines"}
    assert set(writers.formats()) < set(writers.writers())


def test_a_module_without_the_interface_is_an_error_not_skipped(tmp_path, monkeypatch) -> None:
    package = tmp_path / "fakeplugins"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "good.py").write_text("NAME = 'good'\nDOC = 'ok'\ndef check(template):\n"
                                     "    return []\n")
    (package / "bad.py").write_text("NAME = 'bad'\n")  # no DOC, no check
    monkeypatch.syspath_prepend(str(tmp_path))
    import fakeplugins

    with pytest.raises(TypeError, match=r"fakeplugins\.bad .* does not provide Check"):
        plugins.discover(fakeplugins, Check)
    assert [m.NAME for m in plugins.discover(fakeplugins, Check, {"bad"})] == ["good"]
