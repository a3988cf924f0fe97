"""Calendar (period) reporting on a tiny model with known answers: row Y holds levels at the end
of Y and rates as their mean over Y, in the batch engine (scalar, vector, chunked) and through
the PySD path; instant reporting is unchanged."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from sim.engine import compile_model, reporting
from sim.errors import ModelError
from sim.model.declarations.parameters import Parameters
from sim.scenarios import Scenario
from sim.simulate import Simulator

DT = 0.25
T0 = 2000
BODY = f"""
{{UTF-8}}
inflow = 10
~ widgets/Year ~~|
growing flow = 2 * (Time - INITIAL TIME)
~ widgets/Year ~~|
policy flow = STEP(5, 2002)
~ widgets/Year ~~|
stock = INTEG(inflow + growing flow + policy flow, 100)
~ widgets ~~|
share = stock / 1000
~ Dmnl ~~|
INITIAL TIME = {T0}
~ Year ~~|
FINAL TIME = 2004
~ Year ~~|
TIME STEP = {DT}
~ Year ~~|
SAVEPER = 1
~ Year ~~|
"""


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "calendar.mdl"
    p.write_text(BODY.strip() + "\n", encoding="utf-8")
    return p


def expected():
    """Closed forms of the Euler run: the growing flow's yearly mean is the mean of its values
    at the steps of the year, 2 (k + (1 - dt)/2) for year T0 + k; the stock at the end of year
    k is 100 plus the sum of the yearly flows up to k."""
    k = np.arange(4)
    growing = 2 * (k + (1 - DT) / 2)
    policy = np.where(T0 + k >= 2002, 5.0, 0.0)
    stock = 100 + np.cumsum(10 + growing + policy)
    return growing, policy, stock


def test_rows_hold_year_end_levels_and_year_mean_rates(path):
    bm = compile_model(path)
    growing, policy, stock = expected()
    for n, chunk in ((1, None), (3, None), (3, 2)):
        params = {"inflow": np.full(n, 10.0)} if n > 1 else None
        ds = bm.run(params, n_samples=n, chunk_size=chunk, reporting="calendar")
        assert ds.attrs["reporting"] == "calendar"
        np.testing.assert_array_equal(ds.time.values, [2000, 2001, 2002, 2003])
        for s in range(n):
            np.testing.assert_allclose(ds["inflow"].values[s], 10.0, rtol=1e-12)
            np.testing.assert_allclose(ds["growing_flow"].values[s], growing, rtol=1e-12)
            np.testing.assert_allclose(ds["policy_flow"].values[s], policy, rtol=1e-12)
            np.testing.assert_allclose(ds["stock"].values[s], stock, rtol=1e-12)
            np.testing.assert_allclose(ds["share"].values[s], stock / 1000, rtol=1e-12)


def test_a_value_for_year_y_acts_from_its_first_day(path):
    """STEP(5, 2002) is on from t = 2002.0: the 2001 row holds none of it, 2002 all of it, and the
    stock's change over 2002 is the year's total flow."""
    ds = compile_model(path).run(reporting="calendar").isel(sample=0)
    flow = ds["policy_flow"].sel(time=[2001, 2002]).values
    np.testing.assert_array_equal(flow, [0.0, 5.0])
    total = ds["inflow"] + ds["growing_flow"] + ds["policy_flow"]
    change = ds["stock"].diff("time")
    np.testing.assert_allclose(change.values, total.values[1:], rtol=1e-12)


def test_converges_to_the_exact_integral(path, tmp_path):
    """With a finer step the growing flow's row tends to the exact yearly integral 2k + 1."""
    fine = tmp_path / "fine.mdl"
    fine.write_text(path.read_text(encoding="utf-8").replace(f"TIME STEP = {DT}",
                                                              "TIME STEP = 0.001"))
    ds = compile_model(fine).run(reporting="calendar")
    np.testing.assert_allclose(ds["growing_flow"].values[0], 2 * np.arange(4) + 1, atol=2e-3)


def test_instant_reporting_is_unchanged(path):
    ds = compile_model(path).run()
    assert ds.attrs["reporting"] == "instant"
    np.testing.assert_array_equal(ds.time.values, [2000, 2001, 2002, 2003, 2004])
    _, _, stock = expected()
    np.testing.assert_allclose(ds["stock"].values[0], [100, *stock], rtol=1e-12)
    np.testing.assert_allclose(ds["growing_flow"].values[0], 2 * np.arange(5), rtol=1e-12)


def test_pysd_path_gives_the_same_rows(path):
    """The model declares no lever or assumption: a scenario setting none runs it as it is."""
    none = Parameters(levers={}, assumptions={})
    batch = Simulator("batch", model_path=path, parameters=none, use_calibration=False)
    pysd = Simulator("pysd", model_path=path, parameters=none, use_calibration=False)
    assert batch.row_years() == (2000, 2003)
    assert Simulator("batch", model_path=path, reporting="instant").row_years() == (2000, 2004)
    as_is = Scenario("as-is", {"zh": "原样", "en": "As is"}, "the model's own values")
    a = batch.run(as_is, check_divergence=False)
    b = pysd.run(as_is, check_divergence=False)
    np.testing.assert_array_equal(a.time.values, b.time.values)
    for v in ("inflow", "growing_flow", "policy_flow", "stock", "share", "saveper"):
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=1e-12, err_msg=v)


def test_rate_rule_from_units(path):
    bm = compile_model(path)
    assert bm.time_unit == "Year"
    assert [bm.is_rate(v) for v in ("inflow", "growing_flow", "stock", "share")] == \
        [True, True, False, False]
    cases = {"亿元/Year": -1, "1/Year": -1, "万元/(firms*Year)": -1, "Year": 1, "Dmnl": 0,
             "firms/Year/Year": -2, "Year^-1": -1, "persons/years": -1, "亿元": 0,
             "widgets/(Year": 0}
    for units, power in cases.items():
        assert reporting.unit_power(units, "Year") == Fraction(power), units
    assert not reporting.is_rate("亿元/Year", "stock", "Year")
    assert reporting.is_rate("widgets/Month", "aux", "Month")
    assert not reporting.is_rate("widgets/Month", "aux", "Year")


def test_bad_settings_are_named(path):
    bm = compile_model(path)
    with pytest.raises(ModelError, match="reporting"):
        bm.run(reporting="yearly")
    with pytest.raises(ModelError, match="whole number of TIME STEPs"):
        bm.run(reporting="calendar", saveper=0.3)
    with pytest.raises(ModelError, match="shorter than one reporting interval"):
        bm.run(reporting="calendar", final_time=2000.5)
