"""The rebuilt firm sector, R&D and brokers (issue 21, items 2-4): each change with its known
answer or direction, measured on the full model (and on a tiny inline model where the structure
is generic)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import compile_model
from sim.model.declarations.parameters import load_parameters
from sim.scenarios.constraints import load_constraints
from tests.inline_mdl import control_section


@pytest.fixture(scope="module")
def baseline(simulator):
    return simulator.run("baseline")


def at(ds, var, year):
    return float(ds[var].sel(time=year).squeeze().item())


# -- firms -----------------------------------------------------------------------------------------
def test_sme_registry_responds_to_the_2022_super_deduction(simulator, baseline):
    """Without the 2022 step (the tech-SME deduction kept at 75%) fewer firms enrol in 2022;
    2021 is unchanged (the registry is enrolment, re-evaluated each year)."""
    kept = simulator.run("baseline", levers={"sme_tax_deduction": {2022: 0.75}})
    assert at(kept, "tech_smes", 2021) == pytest.approx(at(baseline, "tech_smes", 2021))
    assert at(kept, "tech_smes", 2022) < 0.8 * at(baseline, "tech_smes", 2022)
    assert at(kept, "sme_enrolment_share", 2022) < at(baseline, "sme_enrolment_share", 2022)


def test_municipal_support_for_registered_firms_raises_enrolment(simulator):
    base = simulator.run("plan")
    more = simulator.run("plan", levers={"sme_registered_support": {2024: 2}})
    assert at(more, "tech_smes", 2026) > at(base, "tech_smes", 2026)


def test_more_registered_smes_make_more_htes(simulator, baseline):
    """SME -> HTE certification is the main route: a higher enrolment share gives more HTEs."""
    more = simulator.run("baseline", assumptions={"base_sme_enrolment_share": 0.4})
    assert at(more, "tech_smes", 2023) > at(baseline, "tech_smes", 2023)
    assert at(more, "high_tech_enterprises", 2023) > at(baseline, "high_tech_enterprises", 2023)


def test_registries_overlap_as_the_sourced_counts_need(baseline):
    """HTE 7,920 at end-2023, tech SMEs above 5,190 and a union near 11,000 need an overlap of
    about 4,000 firms in both registries (the old model had 907)."""
    assert at(baseline, "sme_and_hte_firms", 2023) > 3000
    assert at(baseline, "tech_smes", 2023) > 5190
    assert at(baseline, "high_tech_enterprises", 2023) == pytest.approx(7920, rel=0.1)


def test_exponential_mode_without_ceiling_pressure(simulator):
    """With the ceiling at its declared maximum the tracked firms grow exponentially over
    2012-2023: log firms is near a straight line and growth does not fade."""
    ds = simulator.run("baseline", assumptions={"tech_firm_ceiling": 300000})
    years = np.arange(2012, 2024)
    log_pop = np.log(ds["tech_firm_population"].sel(time=slice(2012, 2023)).values.ravel())
    fit = np.polyfit(years, log_pop, 1)
    resid = log_pop - np.polyval(fit, years)
    r2 = 1 - (resid ** 2).sum() / ((log_pop - log_pop.mean()) ** 2).sum()
    growth = np.diff(log_pop)
    assert r2 > 0.99 and fit[0] > 0.1
    assert growth[-1] > 0.5 * growth.max()


# -- R&D ---------------------------------------------------------------------------------------------
def test_ten_times_the_budget_from_2012_raises_2028_rd(simulator, baseline):
    big = simulator.run("baseline", levers={"budget_multiplier": 10})
    assert at(big, "rd_expenditure", 2028) > at(baseline, "rd_expenditure", 2028)


def _at_max(params):
    shares = next(c for c in load_constraints(params) if c.id == "allocation_shares").levers
    levers = {k: (1 / len(shares) if k in shares else float(v.max))
              for k, v in params.levers.items()}
    return levers, {k: float(a.max) for k, a in params.assumptions.items()}


def test_everything_at_its_maximum_keeps_rd_below_a_tenth_of_gdp(simulator):
    levers, assumptions = _at_max(load_parameters())
    ds = simulator.run("baseline", levers=levers, assumptions=assumptions)
    assert float(ds["rd_intensity"].max()) < 0.10
    assert float(ds["tech_firm_ceiling_utilisation"].max()) <= 1.0


def test_rd_per_firm_follows_the_cost_index_not_gdp(simulator, baseline):
    """Faster GDP growth after 2023 moves the established firms' R&D, not R&D per HTE."""
    fast = simulator.run("baseline", assumptions={"gdp_growth": 0.08})
    assert at(fast, "rd_per_hte", 2030) == pytest.approx(at(baseline, "rd_per_hte", 2030),
                                                          rel=1e-6)
    assert at(fast, "established_firm_rd", 2030) > at(baseline, "established_firm_rd", 2030)


def test_direct_htes_add_no_rd_of_their_own(simulator, baseline):
    """Directly certified HTEs are established firms: their R&D is in the established share."""
    more = simulator.run("baseline", assumptions={"direct_hte_2012": 400})
    assert at(more, "direct_htes", 2020) > at(baseline, "direct_htes", 2020)
    assert at(more, "established_firm_rd", 2020) == pytest.approx(
        at(baseline, "established_firm_rd", 2020), rel=1e-9)


def test_census_break_variables_keep_working(baseline):
    factor = at(baseline, "rd_expenditure", 2016) / at(baseline, "rd_expenditure_old_basis", 2016)
    assert factor == pytest.approx(at(baseline, "rd_statistical_basis_factor", 2016))
    assert at(baseline, "business_rd_old_basis", 2015) > 0


# -- brokers -------------------------------------------------------------------------------------
def test_brokers_rise_with_training_capacity(simulator):
    """Where certified candidates are short (market training at its declared minimum), the
    plan's funded 实训 places raise the broker count."""
    ass = {"market_broker_training": 70}
    base = simulator.run("baseline", assumptions=ass)
    more = simulator.run("baseline", assumptions=ass,
                         levers={"broker_training_places": {2024: 500}})
    assert at(more, "tech_brokers", 2028) > at(base, "tech_brokers", 2028)


def test_broker_entry_is_at_most_supply_and_demand(baseline):
    entry, supply, demand = (baseline[v].values.ravel() for v in
                             ("broker_entrants", "broker_supply", "broker_hiring_demand"))
    assert (entry <= np.minimum(supply, demand) * (1 + 1e-12)).all()
    assert (entry > 0.5 * np.minimum(supply, demand)).all()
    assert (baseline["candidate_dropout"].values >= 0).all()


BROKERS = """{UTF-8}
training= 100 ~ persons/Year ~ |
demand switch= 1 ~ Dmnl ~ |
desired brokers= 1000 * demand switch ~ persons ~ |
candidates= INTEG(training - entrants - dropout, 0) ~ persons ~ |
supply= candidates / 1 ~ persons/Year ~ |
attrition= brokers / 8 ~ persons/Year ~ |
hiring demand= MAX(0, (desired brokers - brokers) / 1 + attrition) ~ persons/Year ~ |
entrants= XIDZ(supply * hiring demand, (supply ^ 4 + hiring demand ^ 4) ^ 0.25, 0) ~ persons/Year ~ |
dropout= supply - entrants ~ persons/Year ~ |
brokers= INTEG(entrants - attrition, 200) ~ persons ~ |
"""


@pytest.mark.parametrize("training, demand", [(0, 1), (100, 0), (0, 0)])
def test_broker_inflow_falls_to_zero_without_training_or_demand(tmp_path, training, demand):
    """The supply-and-demand form of broker entry (a soft minimum; a generic tiny model of the
    same shape):
    with no training or no demand the inflow falls to zero and the stock decays."""
    path = tmp_path / "brokers.mdl"
    path.write_text(BROKERS.replace("training= 100", f"training= {training}")
                    .replace("demand switch= 1", f"demand switch= {demand}")
                    + control_section(20, 0.125), encoding="utf-8")
    ds = compile_model(path).run()
    assert float(ds["entrants"].values.ravel()[-1]) < 1e-3
    assert float(ds["brokers"].values.ravel()[-1]) < 200
