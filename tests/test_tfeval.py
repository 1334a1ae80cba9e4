"""template/tfeval.py gives what Terraform's templatefile() gives, on the bundled template
and on the strip-marker and iteration cases values templates use (checked against
`terraform console` where terraform is installed; required under CI=true)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import TEMPLATE
from promcontract.template import tfeval
from test_terraform import _bundled_vars, templatefile

VARS = {"team_channels": {"infra": "#i", "data": "#d"}, "urls": ["a", "b"], "on": True,
        "off": False, "n": 26, "name": "x"}

CASES = [
    "routes:\n%{ for team, channel in team_channels ~}\n  - receiver: ${team}\n"
    "    channel: \"${channel}\"\n%{ endfor ~}\n  - receiver: pager\n",
    "list:\n%{ for url in urls ~}\n  - ${url}\n%{ endfor ~}\nend\n",
    "a: 1\n%{ if on ~}\nb: ${n}\n%{ else ~}\nb: 0\n%{ endif ~}\nc: 3\n",
    "%{ if !off }x%{ endif } and %{ if off }y%{ else }z%{ endif }\n",
    "keep $${literal} and %%{ this } and ${name}\n",
    "left   %{~ if on } strip%{ endif }\n",
    "inline ${ name } spaced\n  %{~ for u in urls ~}  [${u}]  %{~ endfor ~}  \nend\n",
    "foo\n%{~ if on }x%{ endif }\nbar  \n\n  %{~ if on }y%{ endif ~}  \n\n z\n",
    "x: ${n}\n%{ for i, u in urls ~}\n- ${i}: ${u}\n%{ endfor }\ntail\n",
]


def test_refusals_name_the_expression() -> None:
    with pytest.raises(tfeval.EvalError, match=r"\$\{n \* 3600\} is an expression"):
        tfeval.evaluate("a: ${n * 3600}\n", VARS)
    with pytest.raises(tfeval.EvalError, match="the variable missing has no value"):
        tfeval.evaluate("a: ${missing}\n", VARS)
    with pytest.raises(tfeval.EvalError, match="without %{ endfor }"):
        tfeval.evaluate("%{ for u in urls }x\n", VARS)


@pytest.mark.integration
def test_agrees_with_terraform(tmp_path: Path) -> None:
    paths = []
    for index, case in enumerate(CASES):
        path = tmp_path / f"case{index}.tpl"
        path.write_text(case)
        paths.append(path)
    results = templatefile(paths, VARS, tmp_path)
    for case, expected in zip(CASES, results, strict=True):
        assert expected is not None, case
        assert tfeval.evaluate(case, VARS) == expected, case


@pytest.mark.integration
@pytest.mark.parametrize("flag", [True, False])
def test_the_bundled_template_as_terraform_writes_it(flag: bool, tmp_path: Path) -> None:
    [expected] = templatefile([TEMPLATE], _bundled_vars(flag), tmp_path)
    assert expected is not None
    assert tfeval.evaluate(TEMPLATE.read_text(), _bundled_vars(flag)) == expected
