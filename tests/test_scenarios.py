"""Scenario loading: inheritance, values, and every validation error path."""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.model.declarations.parameters import load_parameters
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


def test_inherited_series_keeps_parent_trajectory_before_its_first_year(tiny_parameters,
                                                                         write_scenario):
    """Issue 9 item 9: a series set in a file that extends another keeps the *parent's*
    trajectory before its first year (not the baseline's), then follows its own points."""
    from sim.scenarios.inputs import lever_trajectory
    from sim.scenarios.loader import Inherited

    write_scenario("baseline.yaml", BASE)
    write_scenario("plan.yaml", """\
        name: {zh: 计划, en: Plan}
        extends: baseline.yaml
        levers:
          fiscal_budget: {2024: 12, 2028: 20}
          budget_multiplier: {2024: 2}
          hte_first_award: 10
        """)
    p = write_scenario("child.yaml", """\
        name: {zh: 子, en: Child}
        extends: plan.yaml
        levers:
          fiscal_budget: {2026: 30}
          budget_multiplier: {2020: 3}
        """)
    sc = load_scenario(p)
    assert sc.levers["fiscal_budget"] == Inherited({2024: 12.0, 2028: 20.0}, {2026: 30.0})
    # a child series starting no later than the parent's replaces it whole
    assert sc.levers["budget_multiplier"] == {2020: 3.0}
    params = load_parameters()
    times = np.arange(2020, 2030.01, 0.25)
    base = np.full(times.shape, 1.0)
    traj = lever_trajectory(params.levers["fiscal_budget"], sc.levers["fiscal_budget"], times,
                            base)
    at = dict(zip(times.tolist(), traj.tolist(), strict=True))
    assert at[2023.75] == 1.0                       # before the plan: the baseline
    assert at[2024.0] == 12.0                       # the plan's 2024 value, not the baseline's
    assert at[2025.0] == pytest.approx(14.0)        # the plan's interpolation 12 -> 20
    assert at[2025.75] == pytest.approx(15.5)
    assert at[2026.0] == 30.0 and at[2029.0] == 30.0  # the child's value from 2026, held
    # a grandchild layers on top in turn
    g = write_scenario("grandchild.yaml", """\
        name: {zh: 孙, en: Grandchild}
        extends: child.yaml
        levers:
          fiscal_budget: {2028: 40}
        """)
    gtraj = lever_trajectory(params.levers["fiscal_budget"], load_scenario(g).levers[
        "fiscal_budget"], times, base)
    gat = dict(zip(times.tolist(), gtraj.tolist(), strict=True))
    assert gat[2024.0] == 12.0 and gat[2027.0] == 30.0 and gat[2028.0] == 40.0


def test_inherited_constant_parent_kept_before_child_series(tiny_parameters, write_scenario):
    from sim.scenarios.inputs import lever_trajectory

    write_scenario("baseline.yaml", BASE)
    write_scenario("plan.yaml", "name: {zh: 计划, en: Plan}\nlevers:\n  fiscal_budget: 50\n")
    p = write_scenario("child.yaml", "name: {zh: 子, en: Child}\nextends: plan.yaml\n"
                                     "levers:\n  fiscal_budget: {2026: 30}\n")
    params = load_parameters()
    times = np.arange(2020, 2030.01, 1.0)
    traj = lever_trajectory(params.levers["fiscal_budget"], load_scenario(p).levers[
        "fiscal_budget"], times, np.full(times.shape, 1.0))
    assert traj.tolist() == [50.0] * 6 + [30.0] * 5


def test_code_overrides_layer_like_extends(tiny_parameters, write_scenario):
    """Levers given in code (sim.run(..., levers=...)) follow the same inheritance rule."""
    from sim.scenarios.loader import Inherited, apply_overrides

    write_scenario("plan.yaml", "name: {zh: 计划, en: Plan}\nlevers:\n"
                                "  fiscal_budget: {2024: 12}\n")
    sc = load_scenario("plan")
    lev, _ = apply_overrides(sc, {"fiscal_budget": {2026: 30}}, None, load_parameters())
    assert lev["fiscal_budget"] == Inherited({2024: 12.0}, {2026: 30.0})


def test_a_plan_value_set_in_the_parent_is_kept_in_the_real_model(tmp_path, simulator):
    """The issue's example: extends plan.yaml and sets rd_reward_cap from 2025; 2024 keeps the
    plan's 500, not the baseline's value."""
    from sim import paths

    child = tmp_path / "child.yaml"
    child.write_text(f"name: {{zh: 子, en: Child}}\nextends: {paths.SCENARIO_DIR / 'plan.yaml'}\n"
                     "levers:\n  rd_reward_cap: {2025: 1000}\n", encoding="utf-8")
    sim = simulator
    lever = sim.parameters.levers["rd_reward_cap"]
    series = sim.inputs(load_scenario(child))[lever.py_name]
    base = sim.default_values(None, None)[lever.py_name]
    assert series.loc[2023.0] == base[sim.step_times() == 2023.0][0]   # the .mdl before 2024
    assert series.loc[2024.0] == 500.0 and series.loc[2024.5] == 500.0
    assert series.loc[2025.0] == 1000.0 and series.loc[2030.0] == 1000.0


def test_an_edit_is_read_again_even_within_one_clock_tick(tiny_parameters, write_scenario):
    """A loaded scenario is reused while its files keep mtime and size; a file hashed while
    young is hashed again, so an edit of the same size in the same tick is still seen, and a
    settled file is checked by its mtime and size (an edit moves the mtime)."""
    import os

    path = write_scenario("tick.yaml", BASE.replace("on trend", "on trend A"))
    first = load_scenario(path)
    assert load_scenario(path) is first
    st = path.stat()
    path.write_text(BASE.replace("on trend", "on trend B"), encoding="utf-8")  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same mtime
    second = load_scenario(path)
    assert second.description == "on trend B"
    old = st.st_mtime_ns - 10**10  # settled: modified 10 s before it is hashed
    os.utime(path, ns=(old, old))
    assert load_scenario(path).description == "on trend B"
    path.write_text(BASE.replace("on trend", "on trend C"), encoding="utf-8")
    assert load_scenario(path).description == "on trend C"


@pytest.mark.parametrize("text, expected", [
    ("name: {zh: 甲, en: Equity fund doubled, R&D rewards cut}\n",
     "a comma inside {...} splits the value: quote it, e.g. en: \"Equity fund doubled, R&D "
     "rewards cut\""),
    ("name: {zh: 甲, en: Plan: cut}\n", "a colon inside {...} splits the value: quote it"),
])
def test_a_value_split_inside_braces_names_the_likely_cause(tmp_path, text, expected):
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    assert expected in _err(path)


def test_the_shares_sum_is_checked_when_the_file_is_loaded(tmp_path):
    from sim.scenarios.constraints import value_at

    path = tmp_path / "mine.yaml"
    path.write_text("name: {zh: 甲, en: Mine}\nextends: plan.yaml\nlevers:\n"
                    "  equity_fund_share: {2025: 0.24}\n", encoding="utf-8")
    msg = _err(path)            # before any model is compiled or run
    assert "equity_fund_share=0.24" in msg and "sum to 1.12 in 2025" in msg
    assert "constraints.allocation_shares" in msg
    path.write_text("name: {zh: 甲, en: Mine}\nextends: plan.yaml\nlevers:\n"
                    "  equity_fund_share: {2025: 0.24}\n  industry_share: {2025: 0.26}\n",
                    encoding="utf-8")
    assert load_scenario(path).levers["equity_fund_share"].over == {2025: 0.24}
    assert value_at({2027: 250, 2029: 500}, 2028) == 250 and value_at({2027: 250}, 2026) is None
    assert value_at({2024: 0.0, 2026: 1.0}, 2025, linear=True) == 0.5


@pytest.mark.parametrize("levers, assumptions", [
    ({"fiscal_budget": {2026: 30.0}}, None),                 # over the scenario's series
    ({"fiscal_budget": {2015: 5.0, 2026: 30.0}}, None),      # from before the scenario's start
    ({"budget_multiplier": 0.8, "hte_first_award": 20.0}, None),
    ({"rd_tax_deduction": {2025: 1.2}}, None),               # a lever the scenario leaves out
    ({"industry_share": {2025: 0.3}}, {"crowding_in": np.array([0.1, 0.2, 0.3])}),
])
def test_overrides_reuse_the_scenarios_inputs_with_the_same_values(levers, assumptions):
    from sim.api import simulator

    sim = simulator()
    plan = load_scenario("plan")
    fast = sim.inputs(plan, levers, assumptions)
    from sim.scenarios.inputs import scenario_inputs
    from sim.scenarios.loader import apply_overrides

    lev, ass = apply_overrides(plan, levers, assumptions, sim.parameters)   # the long way
    full = scenario_inputs(lev, {**sim.calibrated, **ass}, sim.parameters, sim.step_times(),
                           sim.default_values(None, None))
    assert set(fast) == set(full)
    for k, v in full.items():
        np.testing.assert_array_equal(np.asarray(fast[k], float), np.asarray(v, float), k)
