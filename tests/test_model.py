"""The plan model: loads, runs every scenario, stays non-negative, conserves money, and
declares a unit and a source for every constant."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sim import paths
from sim.model.declarations.parameters import load_parameters
from sim.model.declarations.targets import load_targets
from sim.model.equations.mdl import load_abstract_model
from sim.scenarios import list_scenarios, load_scenario

CONTROLS = {"INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER"}
SCENARIOS = [p.stem for p in list_scenarios()]
INDICATORS = load_targets().indicators
SOURCE_TAG = re.compile(r"plan|data|literature|assumption|calibrat|history|definition|"
                        r"行动计划|unit conversion", re.I)



@pytest.fixture(scope="module")
def scenario_runs(simulator):
    return {sid: simulator.run(load_scenario(sid)) for sid in SCENARIOS}


def test_default_scenarios_exist():
    assert {"baseline", "plan", "budget-squeeze", "equity-shift"} <= set(SCENARIOS)


def test_indicator_and_stock_names(simulator):
    names = set(simulator.info.index)
    declared = load_targets()
    assert set(INDICATORS) | set(declared.reported_indicators) <= names
    for d in declared.derived:   # every model variable a derived outcome names exists
        assert {*d.add, *d.subtract, *([d.variable] if d.variable else [])} <= names, d.id


def test_every_lever_and_assumption_names_a_model_variable(simulator):
    params = load_parameters()
    names = set(simulator.info.index)
    for pid, p in [*params.levers.items(), *params.assumptions.items()]:
        assert p.py_name in names, f"{pid}: variable '{p.variable}' not in the model"


@pytest.mark.parametrize("sid", SCENARIOS)
def test_runs_finite_and_non_negative(scenario_runs, simulator, sid):
    ds = scenario_runs[sid]
    assert ds.time.values[0] == 2012 and ds.time.values[-1] == 2035
    stocks = [v for v, k in simulator.info["kind"].items() if k == "stock" and v in ds]
    assert stocks, "no stocks reported"
    for v in [*INDICATORS, *stocks]:
        vals = ds[v].values
        assert np.isfinite(vals).all(), v
        assert (vals >= -1e-9).all(), f"{v} negative in {sid}: min {vals.min()}"


def test_every_variable_has_units_and_every_constant_a_source():
    model = load_abstract_model(paths.MODEL_FILE)
    missing_units, missing_source = [], []
    for section in model.sections:
        for el in section.elements:
            if not (el.units or "").strip():
                missing_units.append(el.name)
            is_const = all(type(c.ast).__name__ in ("int", "float") for c in el.components)
            if is_const and el.name not in CONTROLS and not SOURCE_TAG.search(
                    el.documentation or ""):
                missing_source.append(el.name)
    assert not missing_units, f"variables without units: {missing_units}"
    assert not missing_source, f"constants without a source comment: {missing_source}"


def test_plan_beats_baseline(scenario_runs):
    for ind in INDICATORS:
        b = float(scenario_runs["baseline"][ind].sel(time=2028).item())
        p = float(scenario_runs["plan"][ind].sel(time=2028).item())
        assert p > b, f"{ind}: plan {p} not above baseline {b}"
