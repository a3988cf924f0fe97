"""The notebook API over several scenarios: sim.run_scenarios, compare, uncertainty,
probabilities, percentiles, sensitivity, levers (small sample counts)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import sim  # noqa: E402
from sim.analysis.outcomes.compare import compare_table  # noqa: E402
from sim.model.declarations.targets import load_targets  # noqa: E402

TARGETS = load_targets()


@pytest.fixture(scope="module")
def baseline_and_plan():
    return sim.run_scenarios("baseline", "plan")


def test_run_scenarios_has_a_named_scenario_dim(baseline_and_plan):
    assert baseline_and_plan["tech_firms"].dims == ("scenario", "time")
    assert list(baseline_and_plan["scenario"].values) == ["baseline", "plan"]
    plan_name = sim.load_scenario("plan").name["en"]
    assert baseline_and_plan["name_en"].sel(scenario="plan").item() == plan_name
    np.testing.assert_array_equal(baseline_and_plan["tech_firms"].sel(scenario="plan").values,
                                  sim.run("plan")["tech_firms"].values)


def test_compare_is_the_command_table_and_adds_the_reference(baseline_and_plan):
    table = sim.compare("plan", against="baseline")
    runs = baseline_and_plan.expand_dims(sample=[0]).transpose("scenario", "sample", ...)
    expected = compare_table(runs, TARGETS, "baseline")
    assert list(table.columns) == list(expected.columns)
    np.testing.assert_allclose(table["plan_minus_baseline"], expected["plan_minus_baseline"])
    firms = baseline_and_plan["tech_firms"]
    diff = firms.sel(scenario="plan") - firms.sel(scenario="baseline")
    assert table.set_index("indicator").loc["tech_firms", "plan_minus_baseline"] == \
        pytest.approx(float(diff.sel(time=TARGETS.year)))
    assert sim.compare(baseline_and_plan).equals(sim.compare("baseline", "plan"))


def test_uncertainty_shares_samples_and_gives_probabilities():
    ens = sim.uncertainty("plan", "baseline", samples=6, seed=7)
    assert ens["tech_firms"].dims == ("scenario", "sample", "time")
    assert ens.sizes["sample"] == 6 and ens.attrs["kept"] == 6
    assert ens.attrs["origin"] >= 2023   # posterior draws: the forecast origin
    probs = sim.probabilities(ens)
    assert list(probs.index.names) == ["scenario", "indicator"]
    assert set(probs.index.get_level_values("scenario")) == {"plan", "baseline"}
    assert (probs["n"] == 6).all() and probs["probability"].between(0, 1).all()
    # P(met) is the share of samples meeting the target in the target year
    t = TARGETS.items[0]
    share = float(t.met(ens[t.indicator].sel(scenario="plan", time=TARGETS.year).values).mean())
    assert probs.loc[("plan", t.indicator), "probability"] == pytest.approx(share)
    pct = sim.percentiles(ens, q=(5, 50, 95))
    assert pct[t.indicator].dims == ("percentile", "scenario", "time")
    assert (pct[t.indicator].diff("percentile") >= 0).all()
    fig = sim.plot_fan(ens, "plan", lang="en", central=False)
    plt.close(fig)


def test_uncertainty_unconditioned_is_reproducible():
    a = sim.uncertainty("plan", samples=4, seed=3, conditioned=False)
    b = sim.uncertainty("plan", samples=4, seed=3, conditioned=False)
    assert a["tech_firms"].dims == ("scenario", "sample", "time")
    np.testing.assert_array_equal(a["tech_firms"].values, b["tech_firms"].values)
    c = sim.uncertainty("plan", samples=4, seed=4, conditioned=False)
    assert not np.array_equal(a["tech_firms"].values, c["tech_firms"].values)


def test_sensitivity_shapley_adds_up_to_the_difference():
    table = sim.sensitivity("equity-shift", method="shapley", against="plan")
    assert list(table.index) == ["equity_fund"]
    diff = sim.compare("equity-shift", against="plan").set_index("indicator")
    np.testing.assert_allclose(table.sum(axis=0).to_numpy(),
                               diff.loc[table.columns, "equity-shift_minus_plan"].to_numpy(),
                               rtol=1e-9)


@pytest.mark.slow
def test_sensitivity_morris_small():
    table = sim.sensitivity("plan", method="morris", samples=2, seed=1, history_samples=10)
    assert {"output", "parameter", "mu_star"} <= set(table.columns)
    assert set(TARGETS.indicators) <= set(table["output"])
    estimated = table[table["met_share"].isna()]     # not too rare to estimate
    assert set(TARGETS.indicators) <= set(estimated["output"])
    assert (estimated["mu_star"] >= 0).all()
    assert table.loc[table["met_share"].notna(), "mu_star"].isna().all()


def test_levers_catalogue():
    en = sim.levers(lang="en")
    zh = sim.levers(lang="zh")
    assert len(en) == len(zh) > 0
    assert "fiscal_budget" in set(en.iloc[:, 0])
    assert list(en.columns) != list(zh.columns)
