"""Validation battery of the plan model (after Sterman, Business Dynamics, ch. 21).

Dimensional consistency, extreme conditions, integration error and the behaviour checks of
model/checks.yaml, on model/qingdao_st_plan.mdl and every scenario in scenarios/. Extreme
conditions are lever overrides (model/parameters.yaml ids) on the plan scenario from 2024.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim import paths
from sim.analysis.diagnostics.checks import evaluate_checks, model_stocks
from sim.analysis.diagnostics.units import check_units
from sim.model.declarations.checkspec import load_checks
from sim.scenarios import list_scenarios, load_scenario

INDICATORS = ["tech_firms", "rd_expenditure", "platforms", "tech_contract_turnover",
              "tech_brokers"]
YEAR = 2028
SCENARIOS = [p.stem for p in list_scenarios()]

# case id -> (lever overrides on the plan scenario, {variable: expected sign of 2028 change})
# sign -1: strictly lower than the plan; +1: strictly higher; "<=" / ">=": not higher / lower
EXTREMES = {
    "zero budget": ({"budget_multiplier": {2024: 0}},
                    {"tech_firms": -1, "platforms": -1, "rd_expenditure": -1,
                     "tech_contract_turnover": "<=", "tech_brokers": "<=",
                     "portfolio_at_cost": -1}),
    "ten times budget": ({"budget_multiplier": {2024: 10}},
                         {"tech_firms": +1, "platforms": +1, "rd_expenditure": +1,
                          "tech_contract_turnover": ">=", "tech_brokers": ">="}),
    # no broker supply at all from 2024: neither funded nor market training
    "no brokers": ({"broker_training_places": {2024: 0}},
                   {"tech_brokers": -1, "tech_contract_turnover": -1},
                   {"market_broker_training": 0.0}),
    "no funded broker training": ({"broker_training_places": {2024: 0}},
                                  {"tech_brokers": -1}),
    "no equity fund": ({"equity_fund_share": {2024: 0}, "grant_equity_shift": {2024: 0}},
                       {"portfolio_at_cost": -1, "tech_firms": "<=", "rd_expenditure": "<="}),
}



@pytest.fixture(scope="module")
def plan(simulator):
    return simulator.run(load_scenario("plan"))


@pytest.fixture(scope="module")
def stocks():
    return model_stocks(paths.MODEL_FILE)


def at(ds, var: str, year: float = YEAR) -> float:
    return float(ds[var].sel(time=year).squeeze().item())


def test_units_consistent():
    errors = [str(f) for f in check_units(paths.MODEL_FILE) if f.severity == "error"]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("case", list(EXTREMES))
def test_extreme_conditions(simulator, plan, stocks, case, monkeypatch):
    levers, expected, *assumptions = EXTREMES[case]
    if assumptions:
        # extreme values lie outside the declared ranges, which the API enforces: widen them
        params = simulator.parameters
        extreme = assumptions[0]
        wide = {k: dataclasses.replace(a, min=min(a.min, extreme[k]), max=max(a.max, extreme[k]))
                if k in extreme else a for k, a in params.assumptions.items()}
        monkeypatch.setattr(simulator, "parameters",
                            dataclasses.replace(params, assumptions=wide))
    ds = simulator.run(load_scenario("plan"), levers=levers,
                       assumptions=assumptions[0] if assumptions else None)
    nan = [v for v in ds.data_vars if np.isnan(ds[v].values).any()]
    assert not nan, f"{case}: NaN in {nan}"
    negative = {s: float(ds[s].min()) for s in stocks if float(ds[s].min()) < -1e-9}
    assert not negative, f"{case}: negative stocks {negative}"
    wrong = []
    for var, sign in expected.items():
        new, base = at(ds, var), at(plan, var)
        ok = {-1: new < base, +1: new > base, "<=": new <= base, ">=": new >= base}[sign]
        if not ok:
            wrong.append(f"{var}: {new:.6g} vs plan {base:.6g} (expected {sign})")
    assert not wrong, f"{case}, {YEAR}: " + "; ".join(wrong)


def test_integration_error_halving_time_step(simulator, plan):
    dt = simulator.control("time_step")
    half = simulator.run(load_scenario("plan"), time_step=dt / 2)
    moved = {v: abs(at(half, v) / at(plan, v) - 1) for v in INDICATORS}
    too_much = {v: f"{100 * m:.3f}%" for v, m in moved.items() if m > 0.005}
    assert not too_much, f"halving TIME STEP {dt} moves {YEAR} indicators by {too_much}"


@pytest.mark.parametrize("sid", SCENARIOS)
def test_behaviour_checks(simulator, stocks, sid):
    table = evaluate_checks(load_checks(), simulator.run(load_scenario(sid)), sid, stocks)
    failed = table[~table["passed"]]
    assert failed.empty, failed[["check", "variable", "worst", "time"]].to_string()


def test_check_command_reports_every_check_and_scenario(capsys):
    from sim.cli.main import main

    rc = main(["check", "-q"])
    out = capsys.readouterr().out
    checks = load_checks()
    n = len(checks.bounds) + len(checks.conservation)
    lines = [ln for ln in out.splitlines() if ln.rstrip().endswith(("PASS", "FAIL"))
             or " PASS " in ln or " FAIL " in ln]
    assert len(lines) == 1 + n * len(SCENARIOS)
    assert rc == (1 if any(" FAIL " in ln for ln in lines) else 0)
