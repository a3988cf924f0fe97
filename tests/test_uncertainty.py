"""Percentiles, target probabilities with standard errors, first-year distributions."""

from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from sim.analysis.ensembles import ensemble, sampling, uncertainty
from sim.analysis.ensembles.uncertainty_spec import parse_uncertainty
from sim.errors import UncertaintyError

YEARS = np.arange(2023.0, 2036.0)
SPEC = parse_uncertainty({"assumptions": {
    "growth": {"distribution": "truncnormal", "mean": 0.12, "sd": 0.05, "min": 0.0, "max": 0.3,
               "source": "t", "confidence": "B"},
}})


def target(ind, value, comparison=">"):
    met = (lambda v: v > value) if comparison == ">" else (lambda v: v >= value)
    return SimpleNamespace(indicator=ind, target=value, comparison=comparison, met=met)


TARGETS = SimpleNamespace(year=2028, items=[target("a", 200.0), target("b", 50.0, ">=")],
                          indicators=["a", "b"],
                          plan=SimpleNamespace(start=2024, target_year=2028, horizon=2035))


def model(ov):
    g = ov["growth"][:, None]
    t = YEARS[None, :] - 2023
    return xr.Dataset({"a": (("sample", "time"), 100 * (1 + g) ** t),
                       "b": (("sample", "time"), 40 + 0 * g + 2 * t)},
                      coords={"time": YEARS})


def run(n=400, seed=1):
    design = sampling.latin_hypercube(SPEC, n, seed=seed)
    return design, ensemble.run_ensemble(model, design, progress=False)


def test_percentiles_are_ordered_and_match_numpy():
    _, ds = run()
    p = uncertainty.percentiles(ds["a"])
    assert p.dims == ("percentile", "time") and list(p["percentile"].values) == [5, 25, 50, 75, 95]
    assert (p.diff("percentile") >= 0).all()
    np.testing.assert_allclose(p.sel(percentile=50), np.median(ds["a"].values, axis=0))
    both = uncertainty.indicator_percentiles(ds, ["a", "b"])
    assert set(both.data_vars) == {"a", "b"}
    with pytest.raises(UncertaintyError, match="no variable 'c'"):
        uncertainty.indicator_percentiles(ds, ["c"])


def test_probabilities_match_analytic_and_are_reproducible():
    design, ds = run(n=2000, seed=3)
    probs = uncertainty.target_probabilities(ds, TARGETS)
    # a(2028) > 200  <=>  growth > 2**(1/5) - 1 = 0.1487; b(2028) = 50 >= 50 always
    from scipy import stats
    g0 = 2 ** 0.2 - 1
    dist = stats.truncnorm((0 - 0.12) / 0.05, (0.3 - 0.12) / 0.05, loc=0.12, scale=0.05)
    expected = dist.sf(g0)
    p = probs.loc["a", "probability"]
    se = probs.loc["a", "mc_se"]
    assert se == pytest.approx(np.sqrt(p * (1 - p) / 2000))
    assert abs(p - expected) < 4 * se
    assert probs.loc["b", "probability"] == 1.0
    assert probs.loc["all_targets", "probability"] == p
    _, ds2 = run(n=2000, seed=3)
    assert uncertainty.target_probabilities(ds2, TARGETS).equals(probs)
    _, ds3 = run(n=2000, seed=4)
    assert not np.allclose(ds3["a"].values, ds["a"].values)   # a different draw
    # a 1-D Latin hypercube is stratified: another seed moves the count by at most one
    assert abs(uncertainty.target_probabilities(ds3, TARGETS).loc["a", "n_met"] - p * 2000) <= 1


def test_first_year_counts_sum_to_n_and_match_growth():
    design, ds = run(n=300, seed=2)
    counts = uncertainty.first_year_counts(ds, TARGETS, until=2035)
    assert list(counts.index)[-1] == "not by 2035" and counts.index[0] == 2024
    assert (counts.sum(axis=0) == 300).all()
    g = design.values[:, 0]
    with np.errstate(divide="ignore"):
        first = 2023 + np.floor(np.log(2) / np.log1p(g)) + 1  # first t with (1+g)^t > 2
    expected_never = int(np.sum(~(first <= 2035)))
    assert counts.loc["not by 2035", "a"] == expected_never
    assert counts.loc[2028, "b"] == 300   # b = 40 + 2 t reaches 50 exactly in 2028


def test_at_year_and_compare_scenarios():
    _, ds = run(n=100)
    with pytest.raises(UncertaintyError, match="year 2040"):
        uncertainty.at_year(ds["a"], 2040)
    table = uncertainty.compare_scenarios({"plan": ds, "slow": ds * 0.5}, TARGETS)
    assert table.loc[("slow", "all_targets"), "probability"] == 0.0
    assert table.loc[("plan", "a"), "P5"] <= table.loc[("plan", "a"), "P95"]
    res = uncertainty.analyse("plan", None, ds, TARGETS)
    assert res.first_years.shape == (13, 2) and "a" in res.percentiles
