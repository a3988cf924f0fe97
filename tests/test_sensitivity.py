"""Sobol and Morris indices through our own sampling and analysis path on analytic functions."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sim.analysis import sensitivity
from sim.analysis.ensembles import sampling
from sim.analysis.ensembles.uncertainty_spec import parse_uncertainty
from sim.analysis.outcomes.targets import derived_value, derived_variables
from sim.errors import UncertaintyError
from sim.model.declarations.targets import Target, Targets, load_targets


def uniform_spec(names, lo, hi):
    return parse_uncertainty({"assumptions": {
        n: {"distribution": "uniform", "min": lo, "max": hi, "source": "test", "confidence": "A"}
        for n in names}})


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]


def test_ishigami_confidence_intervals_contain_analytic_values():
    spec = uniform_spec(["x1", "x2", "x3"], -np.pi, np.pi)
    design = sampling.saltelli(spec, 1024, seed=11)
    res = sensitivity.sobol_indices(design, ishigami(design.values), seed=5)
    idx = res.indices
    assert res.second_order is None
    for name, s1, st in zip(["x1", "x2", "x3"], ISHIGAMI_S1, ISHIGAMI_ST, strict=True):
        row = idx.loc[name]
        assert abs(row["S1"] - s1) <= row["S1_conf"], (name, row["S1"], row["S1_conf"])
        assert abs(row["ST"] - st) <= row["ST_conf"], (name, row["ST"], row["ST_conf"])
        assert 0 < row["S1_conf"] < 0.15 and 0 < row["ST_conf"] < 0.15


def test_ishigami_second_order_sees_x1_x3_interaction():
    spec = uniform_spec(["x1", "x2", "x3"], -np.pi, np.pi)
    design = sampling.saltelli(spec, 512, second_order=True, seed=3)
    res = sensitivity.sobol_indices(design, ishigami(design.values), seed=1)
    s2 = res.second_order["S2"]
    # analytic S2(x1, x3) = ST1 - S1 = 0.2437; the others are 0
    assert s2.loc[("x1", "x3")] == pytest.approx(0.2437, abs=0.12)
    assert abs(s2.loc[("x1", "x2")]) < 0.12


def g_function(x, a=(0.0, 1.0, 9.0, 99.0)):
    a = np.asarray(a)
    return np.prod((np.abs(4 * x - 2) + a) / (1 + a), axis=1)


def test_morris_ranks_important_inputs_first():
    spec = uniform_spec(["x1", "x2", "x3", "x4"], 0.0, 1.0)
    design = sampling.morris(spec, 40, seed=7)
    m = sensitivity.morris_indices(design, g_function(design.values), seed=7)
    ranking = list(m["mu_star"].sort_values(ascending=False).index)
    assert ranking[:2] == ["x1", "x2"]
    assert m.loc["x1", "mu_star"] > 3 * m.loc["x3", "mu_star"]
    assert m.loc["x4", "mu_star"] < m.loc["x3", "mu_star"]
    assert (m["mu_star_conf"] >= 0).all()


def test_constant_output_gives_zero_indices_and_checks_inputs():
    spec = uniform_spec(["x1", "x2"], 0.0, 1.0)
    design = sampling.saltelli(spec, 8, seed=0)
    res = sensitivity.sobol_indices(design, np.ones(design.n))
    assert (res.indices == 0).all().all()
    with pytest.raises(UncertaintyError, match="'saltelli' design"):
        sensitivity.sobol_indices(sampling.morris(spec, 4, seed=0), np.ones(12))
    with pytest.raises(UncertaintyError, match="design has 32 rows"):
        sensitivity.sobol_indices(design, np.ones(5))
    y = np.ones(design.n)
    y[3] = np.nan
    with pytest.raises(UncertaintyError, match="NaN"):
        sensitivity.sobol_indices(design, y)


def _targets():
    """Two indicators ``a > 1`` and ``b > 0`` with the declared plan years and derived
    outcomes of model/targets.yaml."""
    declared = load_targets()
    items = (Target("a", 1.0, ">", "u", {"zh": "a", "en": "a"}, declared.year),
             Target("b", 0.0, ">", "u", {"zh": "b", "en": "b"}, declared.year))
    return Targets(declared.plan, items, declared.derived)


def test_outputs_and_per_year_indices_on_a_dataset():
    spec = uniform_spec(["x1", "x2"], 0.0, 1.0)
    design = sampling.saltelli(spec, 64, seed=4)
    x = design.values
    years = np.arange(2024, 2030)
    growth = (years - 2023)[None, :]
    a = 2 * x[:, [0]] * growth              # grows with x1 only
    b = x[:, [1]] - 0.5 + 0 * growth        # depends on x2 only
    ds = xr.Dataset({"a": (("sample", "time"), a), "b": (("sample", "time"), b),
                     "annual_fiscal_outlay": (("sample", "time"), 1 + 0 * a)},
                    coords={"time": years.astype(float)})
    out = sensitivity.outputs_at_year(ds, _targets())
    assert list(out.columns) == ["a", "b", "all_targets", "fiscal_cost"]
    np.testing.assert_array_equal(out["all_targets"], ((a[:, 4] > 1) & (b[:, 4] > 0)) * 1.0)
    long, second = sensitivity.analyse_outputs(design, out, method="sobol", seed=0)
    assert second is None
    assert long.loc[("a", "x1"), "ST"] > 0.9 and abs(long.loc[("a", "x2"), "ST"]) < 0.05
    assert long.loc[("fiscal_cost", "x1"), "ST"] == 0
    per_year = sensitivity.per_year_indices(design, ds["b"], range(2024, 2029), method="sobol")
    assert list(per_year.index) == [2024, 2025, 2026, 2027, 2028]
    assert (per_year["x2"] > 0.9).all() and isinstance(per_year, pd.DataFrame)
    with pytest.raises(UncertaintyError, match="allowed: morris, sobol"):
        sensitivity.analyse_outputs(design, out, method="fast")


def test_fiscal_cost_nets_refunds_and_reads_cumulative_stocks():
    years = np.arange(2020.0, 2031.0)
    ones = np.ones((2, years.size))
    ds = xr.Dataset({"annual_fiscal_outlay": (("sample", "time"), 10 * ones),
                     "exit_proceeds_to_treasury": (("sample", "time"), ones * [[1], [2]]),
                     "cumulative_x": (("sample", "time"), np.cumsum(3 * ones, axis=1))},
                    coords={"time": years})
    targets = load_targets()
    (cost,) = [d for d in targets.derived if d.id == "fiscal_cost"]
    assert targets.plan.period == (2024, 2028)
    np.testing.assert_allclose(derived_value(ds, cost, targets), [45.0, 40.0])
    np.testing.assert_allclose(derived_value(ds, cost, targets, cost_variable="cumulative_x"),
                               [15.0, 15.0])
    assert derived_value(ds[["cumulative_x"]], cost, targets) is None
    with pytest.raises(UncertaintyError, match="cost_variable 'nope'"):
        derived_value(ds, cost, targets, cost_variable="nope")
    with pytest.raises(UncertaintyError, match="cost_variable 'nope'"):
        derived_variables(targets, ds.data_vars, "nope")
    assert derived_variables(targets, ds.data_vars) == ["annual_fiscal_outlay",
                                                        "exit_proceeds_to_treasury"]
