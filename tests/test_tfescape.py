"""Terraform template escaping and neutralising."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promcontract.template import tfescape


def terraform_unescape(text: str) -> str:
    """What templatefile() makes of a template with no interpolations: $${ -> ${, %%{ -> %{.

    Independent of tfescape's scanner: a left-to-right reading of the two escapes.
    """
    out, i = [], 0
    while i < len(text):
        if text.startswith("$${", i) or text.startswith("%%{", i):
            out.append(text[i + 1:i + 3])
            i += 3
        else:
            assert not text.startswith("${", i) and not text.startswith("%{", i), \
                f"unescaped template sequence at {i}: {text!r}"
            out.append(text[i])
            i += 1
    return "".join(out)


@given(st.text(alphabet=st.sampled_from(list("${}%ab \n\"")), max_size=40))
def test_escape_roundtrips_through_terraform(text: str) -> None:
    escaped = tfescape.escape(text)
    assert tfescape.unescaped_sequences(escaped) == []
    assert terraform_unescape(escaped) == text


@pytest.mark.parametrize("text", ["{{ $value | humanizeDuration }}", 'printf "%.0f"', "100%",
                                  "$labels", "{{ $labels.stack }}"])
def test_prometheus_templates_pass_through(text: str) -> None:
    assert tfescape.escape(text) == text


def test_neutralise_keeps_line_numbers_and_undoes_escapes() -> None:
    text = ("a: ${var.x}\n%{ for k, v in m ~}\n  - ${k}: \"${v}\"\n%{ endfor ~}\n"
            "r: '$${1}'\np: '%%{x}'\n    ${indent(4, yamlencode(extra))}\nz: 1\n")
    out = tfescape.neutralise(text)
    assert out.count("\n") == text.count("\n")
    assert out.split("\n") == [
        "a: TF_INTERPOLATION", "", "  - TF_INTERPOLATION: \"TF_INTERPOLATION\"", "",
        "r: '${1}'", "p: '%{x}'", "", "z: 1", ""]


def test_neutralise_handles_nested_braces_and_strings() -> None:
    text = 'x: ${jsonencode({a = "}"})} y\n'
    assert tfescape.neutralise(text) == "x: TF_INTERPOLATION y\n"


def test_unterminated_sequence_is_reported() -> None:
    with pytest.raises(tfescape.TemplateSyntaxError) as info:
        tfescape.neutralise("a: 1\nb: ${oops\n")
    assert info.value.offset == 8
