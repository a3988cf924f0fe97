"""Every number in the .mdl is declared (issue 21, item 5): a lever, an assumption with range and
source, or a named constant of model/parameters.yaml; equations carry no number but 0 and 1 and
no initial stock is typed into an INTEG. Read through PySD's abstract model (sim.model)."""

from __future__ import annotations

import pytest

from sim.errors import ParameterError
from sim.model.declarations.parameters import Parameters, parse_parameters
from sim.model.equations.declared import check_model_declared
from tests.inline_mdl import control_section


def test_the_model_declares_every_number():
    problems = check_model_declared()
    assert not problems, "undeclared numbers in the .mdl:\n" + "\n".join(problems)


TINY = """{UTF-8}
birth rate= 0.1 ~ 1/Year ~ |
births= people * birth rate ~ people/Year ~ |
people= INTEG(births - deaths, 100) ~ people ~ |
deaths= people / 70 ~ people/Year ~ |
"""


def test_an_undeclared_constant_and_typed_numbers_are_named(tmp_path):
    path = tmp_path / "tiny.mdl"
    path.write_text(TINY + control_section(10), encoding="utf-8")
    problems = check_model_declared(path, Parameters({}, {}, {}, None, {}))
    text = "\n".join(problems)
    assert "'birth rate': a constant" in text
    assert "'people': number(s) 100" in text
    assert "'deaths': number(s) 70" in text
    assert "'births'" not in text


def test_a_declared_constant_passes(tmp_path):
    path = tmp_path / "tiny.mdl"
    path.write_text(TINY.replace("INTEG(births - deaths, 100)", "INTEG(births - deaths, 0)")
                    .replace("people / 70", "people") + control_section(10), encoding="utf-8")
    params = parse_parameters({"constants": {"birth_rate": {
        "variable": "birth rate", "unit": "1/Year", "reason": "definition"}}}, tmp_path / "p.yaml")
    assert check_model_declared(path, params) == []


@pytest.mark.parametrize("entry, says", [
    ({"variable": "x", "unit": "Year"}, "'reason' is missing"),
    ({"variable": "x", "unit": "Year", "reason": "r", "kind": "guess"}, "allowed: constant, table"),
])
def test_a_bad_constant_declaration_is_one_clear_error(tmp_path, entry, says):
    with pytest.raises(ParameterError, match=says):
        parse_parameters({"constants": {"x": entry}}, tmp_path / "p.yaml")
