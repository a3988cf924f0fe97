"""Structure of the plan model measured on the model itself: the R&D reward buys R&D yuan for
yuan, the firm registries are disjoint, awards without money do nothing, R&D intensity is
comparable with the sourced intensities, allocation shares above 1 are refused, nothing explodes
at the extremes of the declared ranges, and ranges are declared once."""

from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

from sim import paths
from sim.errors import ScenarioError
from sim.model.declarations.history import load_history
from sim.model.declarations.parameters import load_parameters
from sim.model.equations.mdl import load_abstract_model
from sim.scenarios import load_scenario
from sim.scenarios.constraints import load_constraints
from sim.simulate import Simulator

MAX_STOCK = 1e7



def at(ds, var, year):
    return float(ds[var].sel(time=year).squeeze().item())


# -- R&D reward: yuan for yuan ----------------------------------------------------------------
@pytest.mark.parametrize("response", [1.0, 0.5])
def test_reward_response_is_yuan_for_yuan(response):
    """Perturb the R&D reward cap (enterprise line fully funded, so every yuan due is paid) and
    measure dR&D / dReward paid. The adjustment time is made short (two time steps, below its
    declared range, so the declaration is widened for this measurement only) so that the
    budget delay does not lag the growing reward flow: what is measured is the response."""
    from dataclasses import replace

    params = load_parameters()
    fast = replace(params.assumptions["rd_adjustment_time"], min=0.125)
    simulator = Simulator("batch", parameters=replace(
        params, assumptions={**params.assumptions, "rd_adjustment_time": fast}))
    levers = {"budget_multiplier": {2024: 10}}
    ass = {"rd_adjustment_time": 0.125, "rd_reward_response": response}
    lo = simulator.run("plan", levers={**levers, "rd_reward_cap": {2024: 500}}, assumptions=ass)
    hi = simulator.run("plan", levers={**levers, "rd_reward_cap": {2024: 600}}, assumptions=ass)
    year = 2030
    assert at(lo, "enterprise_payout_ratio", year) == pytest.approx(1.0)
    d_reward = at(hi, "rd_reward_paid", year) - at(lo, "rd_reward_paid", year)
    assert d_reward > 0.1
    # the reward's own channel: yuan of R&D per yuan of reward paid (the old normalisation by
    # the 2012 R&D per firm gave 0.4-0.55 instead of 1)
    d_direct = at(hi, "reward_induced_rd", year) - at(lo, "reward_induced_rd", year)
    assert d_direct / d_reward == pytest.approx(response, rel=0.03)
    # the whole model: the direct effect plus feedback through knowledge and firm births, damped
    # by the saturation of R&D intensity toward its declared maximum (with the budget x10 the
    # intensity is high, so a marginal yuan counts about 0.85-0.95 there)
    d_rd = at(hi, "rd_expenditure", year) - at(lo, "rd_expenditure", year)
    assert 0.8 * response < d_rd / d_reward < 1.15 * response


# -- disjoint registries -------------------------------------------------------------------------
def test_registries_are_disjoint_and_sum_to_the_indicators(simulator):
    ds = simulator.run("plan")
    sme_only, both, hte_only = (ds[v].values for v in
                                ("sme_only_firms", "sme_and_hte_firms", "hte_only_firms"))
    for stock in (sme_only, both, hte_only):
        assert (stock >= 0).all()
    np.testing.assert_allclose(ds["tech_firms"].values, sme_only + both + hte_only, rtol=1e-12)
    np.testing.assert_allclose(ds["high_tech_enterprises"].values, both + hte_only, rtol=1e-12)
    np.testing.assert_allclose(ds["tech_smes"].values, sme_only + both, rtol=1e-12)


def test_certification_moves_a_firm_without_adding_one(simulator):
    """More SME certifications move firms between registries: tech SMEs + HTEs rise by more
    than tech firms do (a firm in both registries counts once)."""
    base = simulator.run("baseline")
    more = simulator.run("baseline", assumptions={"sme_certification_fraction": 0.4})
    d_firms = at(more, "tech_firms", 2016) - at(base, "tech_firms", 2016)
    d_parts = (at(more, "tech_smes", 2016) + at(more, "high_tech_enterprises", 2016)
               - at(base, "tech_smes", 2016) - at(base, "high_tech_enterprises", 2016))
    assert d_parts > d_firms


# -- payout perception --------------------------------------------------------------------------
def test_awards_without_money_do_nothing(simulator):
    """Award amounts announced from 2024 with no money in the enterprise line change nothing."""
    base = simulator.run("baseline")
    unfunded = simulator.run("baseline", levers={"hte_first_award": {2024: 10},
                                                 "hte_recert_award": {2024: 5},
                                                 "rd_reward_cap": {2024: 500}})
    for v in ("tech_firms", "high_tech_enterprises", "rd_expenditure"):
        np.testing.assert_allclose(unfunded[v].values, base[v].values, rtol=1e-12)
    assert float(unfunded["perceived_enterprise_payout_ratio"].max()) == 0.0


def test_perceived_payout_starts_at_the_actual_payout(simulator):
    ds = simulator.run("baseline", levers={"enterprise_incentive_share": 0.1,
                                           "industry_share": 0.8, "hte_first_award": 10})
    assert at(ds, "perceived_enterprise_payout_ratio", 2012) == pytest.approx(1.0)
    assert at(simulator.run("baseline"), "perceived_enterprise_payout_ratio", 2012) == 0.0


# -- R&D intensity --------------------------------------------------------------------------------
def test_rd_intensity_matches_the_sourced_intensities(simulator):
    """The model's old-basis intensity (R&D / GDP) is within 15% of the sourced 2015 and 2016
    intensities (the rows are not fitted)."""
    ds = simulator.run("baseline")
    hist = load_history()
    rows = hist[hist["indicator"] == "rd_intensity"]
    assert set(rows["year"]) >= {2015, 2016}
    for year, value in zip(rows["year"], rows["value"], strict=True):
        model = 100 * at(ds, "rd_intensity_old_basis", int(year))
        assert model == pytest.approx(float(value), rel=0.15), (year, model, value)


# -- allocation constraint ------------------------------------------------------------------------
def test_allocation_shares_above_one_are_an_error_naming_the_shares(simulator):
    plan = load_scenario("plan")
    with pytest.raises(ScenarioError) as err:
        simulator.run(plan, levers={"platform_award_share": {2026: 0.2}})
    msg = str(err.value)
    assert "platform_award_share=0.2" in msg and "industry_share=0.38" in msg
    assert "sum to 1.17" in msg and "in 2026" in msg and "constraints.allocation_shares" in msg


def test_allocation_constraint_is_declared_as_data():
    params = load_parameters()
    (c,) = [c for c in load_constraints(params) if c.id == "allocation_shares"]
    assert c.max_sum == 1
    assert {params.levers[lid].variable for lid in c.levers} >= {
        "industry programme share", "equity fund share", "tech finance share"}
    mdl = paths.MODEL_FILE.read_text(encoding="utf-8")
    assert "allocation scale" not in mdl


# -- extremes: nothing explodes -------------------------------------------------------------------
def _extreme_inputs(params, side: str):
    constraint = next(c for c in load_constraints(params) if c.id == "allocation_shares")
    levers = {}
    for lid, lever in params.levers.items():
        if lid in constraint.levers:
            levers[lid] = 0.0 if side == "min" else 1.0 / len(constraint.levers)
        else:
            levers[lid] = lever.min if side == "min" else lever.max
    assumptions = {aid: (a.min if side == "min" else a.max)
                   for aid, a in params.assumptions.items()}
    return levers, assumptions


@pytest.mark.parametrize("side", ["min", "max"])
def test_every_lever_and_assumption_at_an_extreme_stays_finite(simulator, side):
    params = load_parameters()
    levers, assumptions = _extreme_inputs(params, side)
    ds = simulator.run("baseline", levers=levers, assumptions=assumptions)
    bad = [v for v in ds.data_vars if not np.isfinite(ds[v].values).all()]
    assert not bad, f"NaN/inf at the {side}: {bad}"
    stocks = [v for v, k in simulator.info["kind"].items() if k == "stock" and v in ds]
    big = {v: float(ds[v].max()) for v in stocks if float(ds[v].max()) > MAX_STOCK}
    assert not big, f"stocks past {MAX_STOCK:g} at the {side}: {big}"


# -- ranges declared once ---------------------------------------------------------------------------
RANGE = re.compile(r"range\s+(-?\d[\d,]*\.?\d*)\s*-\s*(-?\d[\d,]*\.?\d*)", re.I)


def test_assumption_ranges_agree_between_mdl_parameters_and_uncertainty():
    """model/parameters.yaml holds each assumption's range, once: scenarios/uncertainty.yaml
    repeats none (its distributions take that range), and a range written in the .mdl comment
    or in a source text must be the same one."""
    from sim.analysis.ensembles.uncertainty_spec import load_uncertainty

    params = load_parameters()
    docs = {el.name: el.documentation or "" for s in load_abstract_model(paths.MODEL_FILE).sections
            for el in s.elements}
    spec = yaml.safe_load(paths.UNCERTAINTY_FILE.read_text(encoding="utf-8"))["assumptions"]
    loaded = load_uncertainty()
    wrong = []
    for aid, a in params.assumptions.items():
        u = spec[aid]
        if {"min", "max"} & set(u):
            wrong.append(f"{aid}: uncertainty.yaml repeats a range; it is declared in "
                         "parameters.yaml")
        d = loaded.items[aid].distribution
        if u["distribution"] != "calibrated" and (d.lower, d.upper) != (a.min, a.max):
            wrong.append(f"{aid}: sampled over [{d.lower}, {d.upper}] vs parameters.yaml "
                         f"[{a.min:g}, {a.max:g}]")
        for where, text in ((".mdl", docs[a.variable]),
                            ("uncertainty.yaml source", u.get("source", ""))):
            for lo, hi in RANGE.findall(text):
                if (float(lo.replace(",", "")), float(hi.replace(",", ""))) != (a.min, a.max):
                    wrong.append(f"{aid}: {where} says range {lo}-{hi}, parameters.yaml "
                                 f"[{a.min:g}, {a.max:g}]")
    assert not wrong, "\n".join(wrong)


def test_no_constant_is_left_hand_tuned():
    """Every constant once labelled "(calibrated)" is now a declared assumption with a prior (the
    estimation takes every assumption the history moves; none is tuned by hand)."""
    mdl = paths.MODEL_FILE.read_text(encoding="utf-8")
    assert "(calibrated)" not in mdl
    params = load_parameters()
    declared = {a.variable for a in params.assumptions.values()}
    settings = yaml.safe_load((paths.MODEL_DIR / "calibration-settings.yaml").read_text(
        encoding="utf-8"))
    assert "estimate" not in settings    # no hand-picked list: the estimation screens them
    for el in (e for s in load_abstract_model(paths.MODEL_FILE).sections for e in s.elements):
        if "estimated by plansim calibrate" in (el.documentation or ""):
            assert el.name in declared, f"{el.name}: says estimated but is not an assumption"


def test_run_command_refuses_shares_above_one(tmp_path, capsys):
    from sim.cli.main import main

    bad = tmp_path / "greedy.yaml"
    bad.write_text("name: {zh: 超额, en: Greedy}\nextends: " + str(paths.SCENARIO_DIR / "plan.yaml")
                   + "\nlevers:\n  equity_fund_share: {2025: 0.5}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(bad), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "equity_fund_share=0.5" in err[0] and "in 2025" in err[0]
    # --out is claimed before any work; no result is written into it
    assert not out.exists() or [p.name for p in out.iterdir()] in ([], [".plansim.lock"])
