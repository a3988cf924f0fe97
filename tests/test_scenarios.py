"""Scenario loading: inheritance, values, and every validation error path."""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.model.parameters import load_parameters
from sim.scenarios import load_scenario
from sim.scenarios.inputs import series_trajectory

BASE = """\
name: {zh: 基准, en: Baseline}
description: on trend
levers: {}
"""


def _err(path_or_ref) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path_or_ref)
    return str(info.value)


def test_extends_merges_and_overrides(tiny_parameters, write_scenario):
    write_scenario("baseline.yaml", BASE)
    write_scenario("plan.yaml", """\
        name: {zh: 计划, en: Plan}
        extends: baseline.yaml
        levers:
          fiscal_budget: {2026: 15, 2024: 12}
          hte_first_award: 10
        assumptions:
          crowding_in: 0.3
        """)
    p = write_scenario("squeeze.yaml", """\
        name: {zh: 压缩, en: Squeeze}
        extends: plan.yaml
        levers:
          budget_multiplier: {2025: 0.7}
        """)
    sc = load_scenario(p)
    assert sc.id == "squeeze"
    assert sc.levers["fiscal_budget"] == {2024: 12.0, 2026: 15.0}
    assert list(sc.levers["fiscal_budget"]) == [2024, 2026]
    assert sc.levers["hte_first_award"] == 10.0
    assert sc.levers["budget_multiplier"] == {2025: 0.7}
    assert sc.assumptions == {"crowding_in": 0.3}
    assert load_scenario("baseline").levers == {}


@pytest.mark.parametrize("text, expected", [
    ("levers: [1, 2\n", "malformed YAML at line"),
    ("- a\n- b\n", "expected a mapping"),
    (BASE + "lever: {}\n", "lever: unknown key; did you mean 'levers'?"),
    ("name: Plan\n", "name: 'Plan' is not allowed"),
    ("name: {zh: 计划}\n", "name:"),
    ("name: {zh: a, en: b, fr: c}\n", "name.fr: unknown key"),
    (BASE.replace("description: on trend\n", "") + "description: [1]\n", "is not text"),
    (BASE + "description: again\n", "duplicate key 'description'"),
    ("name: {zh: a, en: b}\nlevers:\n  fiscal_budgte: 3\n",
     "levers.fiscal_budgte: unknown lever; did you mean 'fiscal_budget'?"),
    ("name: {zh: a, en: b}\nlevers:\n  crowding_in: 0.2\n",
     "it is an assumption: put it under 'assumptions'"),
    ("name: {zh: a, en: b}\nlevers:\n  hte_first_award: -5\n",
     "levers.hte_first_award: -5 is outside the allowed range [0, 100]"),
    ("name: {zh: a, en: b}\nlevers:\n  hte_first_award: lots\n",
     "levers.hte_first_award: 'lots' is not a number"),
    ("name: {zh: a, en: b}\nlevers:\n  hte_first_award: {2024: 5}\n",
     "is a year-by-year series but this lever is a constant"),
    ("name: {zh: a, en: b}\nlevers:\n  fiscal_budget: {1999: 5}\n",
     "year 1999 is not allowed; years are integers from 2012 to 2035"),
    ("name: {zh: a, en: b}\nlevers:\n  fiscal_budget: {2024: -1}\n",
     "levers.fiscal_budget.2024: -1 is outside the allowed range [0, 500]"),
    ("name: {zh: a, en: b}\nlevers:\n  fiscal_budget: {}\n", "empty series"),
    ("name: {zh: a, en: b}\nlevers: 3\n", "levers: expected a mapping"),
    ("name: {zh: a, en: b}\nassumptions:\n  crowding_inn: 0.1\n",
     "assumptions.crowding_inn: unknown assumption; did you mean 'crowding_in'?"),
    ("name: {zh: a, en: b}\nassumptions:\n  crowding_in: 9\n",
     "assumptions.crowding_in: 9 is outside the allowed range [-0.5, 1.5]"),
    ("name: {zh: a, en: b}\nassumptions:\n  fiscal_budget: 9\n",
     "it is a lever: put it under 'levers'"),
    ("name: {zh: a, en: b}\nextends: nowhere.yaml\n", "nowhere.yaml: scenario file not found"),
    ("name: {zh: a, en: b}\nextends: 5\n", "extends: 5 is not a file name"),
])
def test_validation_messages(tiny_parameters, write_scenario, text, expected):
    path = write_scenario("bad.yaml", text)
    msg = _err(path)
    assert expected in msg
    assert str(path) in msg or "nowhere.yaml" in msg
    assert "\n" not in msg


def test_missing_file_suggests_known(tiny_parameters, write_scenario):
    write_scenario("baseline.yaml", BASE)
    msg = _err("baselin")
    assert "scenario file not found" in msg and "did you mean 'baseline'" in msg


def test_circular_extends(tiny_parameters, write_scenario):
    write_scenario("a.yaml", "name: {zh: a, en: a}\nextends: b.yaml\n")
    write_scenario("b.yaml", "name: {zh: b, en: b}\nextends: a.yaml\n")
    assert "circular chain a.yaml -> b.yaml -> a.yaml" in _err("a")


def test_series_trajectory_linear_and_step(tiny_parameters):
    params = load_parameters()
    times = np.arange(2020, 2030.01, 0.5)
    base = np.full(times.shape, 1.0)
    lin = series_trajectory(params.levers["fiscal_budget"], {2024: 12, 2026: 16}, times, base)
    assert lin[times < 2024].tolist() == [1.0] * int((times < 2024).sum())
    assert lin[times == 2025][0] == pytest.approx(14.0)
    assert lin[times == 2029.5][0] == 16.0          # held after the last point
    step = series_trajectory(params.levers["budget_multiplier"], {2025: 0.7, 2027: 0.5},
                             times, base)
    assert step[times == 2026.5][0] == 0.7
    assert step[times == 2027][0] == 0.5
    assert step[times == 2024.5][0] == 1.0


def test_with_levers_validates(tiny_parameters, write_scenario):
    write_scenario("baseline.yaml", BASE)
    sc = load_scenario("baseline")
    assert sc.with_levers({"hte_first_award": 7}).levers == {"hte_first_award": 7.0}
    with pytest.raises(ScenarioError, match="outside the allowed range"):
        sc.with_levers({"hte_first_award": 700})
