"""Batch behaviour: per-sample parameters, chunking, series inputs, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from test_engine_helpers import write_model

from sim.engine import compile_model
from sim.errors import ModelError, UnsupportedConstructError

BODY = """
stock = INTEG(inflow - outflow, initial stock)
~ widgets ~~|
initial stock = 10
~ widgets ~~|
inflow = growth rate * stock * effect(Time)
~ widgets/Month ~~|
effect(
[(0,0)-(10,2)],(0,1),(5,1.5),(10,0.5))
~ ~~|
outflow = SMOOTH(stock / lifetime, 2)
~ widgets/Month ~~|
growth rate = 0.1
~ 1/Month ~~|
lifetime = 4
~ Month ~~|
"""


@pytest.fixture
def bm(tmp_path):
    return compile_model(write_model(tmp_path, BODY))


def test_n_samples_equal_separate_runs(bm):
    rates = np.array([0.05, 0.1, 0.2, 0.3])
    lifetimes = np.array([2.0, 4.0, 6.0, 8.0])
    batch = bm.run({"growth rate": rates, "lifetime": lifetimes}, n_samples=4)
    assert batch["stock"].shape == (4, 11)
    for k in range(4):
        single = bm.run({"growth_rate": rates[k], "lifetime": lifetimes[k]})
        np.testing.assert_allclose(batch["stock"][k].values, single["stock"][0].values,
                                   rtol=1e-12)
    assert not np.allclose(batch["stock"][0], batch["stock"][3])


def test_chunking_identical(bm):
    rates = np.linspace(0.0, 0.3, 7)
    full = bm.run({"growth_rate": rates}, n_samples=7)
    chunked = bm.run({"growth_rate": rates}, n_samples=7, chunk_size=3)
    xr.testing.assert_identical(full, chunked)


def test_scalar_fast_path_equals_vector(bm):
    one = bm.run({"growth_rate": 0.15})
    two = bm.run({"growth_rate": np.array([0.15, 0.15])}, n_samples=2)
    np.testing.assert_allclose(one["stock"][0].values, two["stock"][1].values, rtol=1e-13)


def test_lookup_varies_by_sample(bm):
    y = np.array([[1.0, 1.5, 0.5], [1.0, 1.0, 1.0]])
    ds = bm.run({"effect": y}, n_samples=2)
    base = bm.run({"effect": np.array([1.0, 1.0, 1.0])})
    np.testing.assert_allclose(ds["stock"][1].values, base["stock"][0].values, rtol=1e-12)
    assert not np.allclose(ds["stock"][0].values, ds["stock"][1].values)


def test_series_inputs(bm):
    series = pd.Series([0.1, 0.3], index=[0.0, 10.0])
    ds = bm.run({"growth_rate": series}, return_columns=["growth rate", "stock"])
    np.testing.assert_allclose(ds["growth_rate"][0].values, np.linspace(0.1, 0.3, 11))
    per_sample = xr.DataArray([[0.1, 0.1], [0.1, 0.3]], dims=("sample", "time"),
                              coords={"time": [0.0, 10.0]})
    ds2 = bm.run({"growth_rate": per_sample}, n_samples=2, return_columns=["stock"])
    np.testing.assert_allclose(ds2["stock"][1].values, ds["stock"][0].values, rtol=1e-12)
    assert list(ds2.data_vars) == ["stock"]


def test_control_overrides(bm):
    ds = bm.run(final_time=4, saveper=2, return_columns=["stock"])
    assert list(ds["time"].values) == [0.0, 2.0, 4.0]


def test_unknown_parameter_names_it(bm):
    with pytest.raises(ModelError, match="no_such_thing"):
        bm.run({"no_such_thing": 1})
    with pytest.raises(ModelError, match="shape"):
        bm.run({"growth_rate": np.ones(3)}, n_samples=2)


def test_unsupported_construct_names_variable(tmp_path):
    path = write_model(tmp_path, "x = TREND(Time, 2, 0)\n~~|\n")
    with pytest.raises(UnsupportedConstructError, match="variable 'x'.*TrendStructure"):
        compile_model(path).run()


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelError, match="missing.mdl"):
        compile_model(tmp_path / "missing.mdl")


def test_nothing_written_next_to_model(tmp_path):
    from sim.model.equations.mdl import load_pysd_model

    path = write_model(tmp_path, BODY)
    compile_model(path).run()
    load_pysd_model(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.mdl"]


@pytest.mark.parametrize("n", [1, 3])
def test_direct_dataset_identical_to_public_constructor(bm, monkeypatch, n):
    from sim.engine import timeloop

    fast = bm.run({}, n)
    monkeypatch.setattr(timeloop, "direct_dataset", lambda *args: None)
    public = bm.run({}, n)
    xr.testing.assert_identical(fast, public)
    assert list(fast.dims) == ["sample", "time"]
