"""The compiled kernel (sim.engine.kernel): generated from the engine's own step code, equal to
the numpy path to 1e-12 on tiny models, with its fallback notice and its disk cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from inline_mdl import control_section

from sim.engine import compile_model
from sim.engine import kernel as kn
from sim.engine.compiler import ModelCompiler
from sim.engine.kernel_codegen import kernel_source
from sim.engine.timeloop import one_sample
from sim.paths import ROOT

pytest.importorskip("numba")

RTOL, ATOL = 1e-12, 1e-12

MODEL = """{UTF-8}
growth rate = 0.05
\t~\t1/Year
\t~\t|

budget = budget table(Time)
\t~\tyuan/Year
\t~\t|

budget table(
\t[(0,0)-(10,10)],(0,1),(2,3),(5,4),(8,2))
\t~\tyuan/Year
\t~\t|

stock = INTEG(inflow - outflow, 10)
\t~\tyuan
\t~\t|

inflow = stock * growth rate + budget + STEP(2, 3) + PULSE(4, 1)
\t~\tyuan/Year
\t~\t|

outflow = MIN(stock / drain time, MAX(0, stock - 5)) + XIDZ(stock, smoothed, 0.1) * 0.01
\t~\tyuan/Year
\t~\t|

drain time = 4
\t~\tYear
\t~\t|

smoothed = SMOOTH(inflow, 2)
\t~\tyuan/Year
\t~\t|

delayed = DELAY1(outflow, 1.5) + IF THEN ELSE(stock > 20, EXP(-stock / 100), stock ^ 0.5)
\t~\tyuan/Year
\t~\t|

level share = ZIDZ(smoothed, stock) + (smoothed LOOKUP(inflow) * 0)
\t~\tDmnl
\t~\t|

smoothed LOOKUP(
\t[(0,0)-(10,10)],(0,0),(10,10))
\t~\tDmnl
\t~\t|

"""

SUBSCRIPTED = """{UTF-8}
region: north, south
\t~\t
\t~\t|

x[region] = INTEG(1, 0)
\t~\tyuan
\t~\t|

"""


# the tests using this fixture run on one xdist worker (xdist_group "kernel-stock-model"): its kernels
# are compiled once, in that worker
@pytest.fixture(scope="module")
def stock_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("kernel") / "tiny.mdl"
    path.write_text(MODEL + control_section(10, time_step=0.25))
    return compile_model(path)


def assert_same(a: xr.Dataset, b: xr.Dataset):
    assert list(a.data_vars) == list(b.data_vars)
    np.testing.assert_array_equal(a.time.values, b.time.values)
    for v in a.data_vars:
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=RTOL, atol=ATOL, err_msg=v)


@pytest.mark.xdist_group("kernel-stock-model")
def test_kernel_wraps_the_engines_own_step_lines(stock_model):
    mc = ModelCompiler(stock_model.info, {"growth_rate": "const"}, [], scalar=True)
    src = kernel_source(mc)
    sec = ModelCompiler(stock_model.info, {"growth_rate": "const"}, [], scalar=True).sections()
    body = src.text
    for line in sec.step + sec.update:
        if "K[" not in line:
            assert line in body, line
    assert "K[" not in body and "prange" in body and "def serial(" in body
    assert src.digest == kernel_source(
        ModelCompiler(stock_model.info, {"growth_rate": "const"}, [], scalar=True)).digest


@pytest.mark.xdist_group("kernel-stock-model")
def test_lookups_of_time_in_shared_tables_are_evaluated_once_per_call(stock_model):
    def src(tables=frozenset()):
        return kernel_source(ModelCompiler(stock_model.info, {"growth_rate": "const"}, [],
                                           scalar=True), tables)

    shared = src()
    step = shared.text.split("for _i in range(_lo, _hi):")[1]
    assert "v_budget = TL[_i, 0]" in step and ", t, 'interpolate')" not in step.split("def ")[0]
    assert "_lookup(v_smoothed_lookup_x, v_smoothed_lookup_y, v_inflow" in step  # not of t
    assert "TL[_i, 0] = _lookup(LX[" in shared.text
    own = src(frozenset({"ly_budget_table"}))  # a table that differs by sample: not hoisted
    assert "TL[_i" not in own.text.split("def _on_grid")[0]
    # fewer than PARALLEL_MIN: the serial kernel, quicker to compile (the parallel one reading
    # shared tables is checked on the real model's 50 samples, tests/test_kernel_agreement.py)
    n = 8
    rng = np.random.default_rng(5)
    for p in ({"budget_table": rng.uniform(0, 5, (n, 4))}, {"budget_table": [1.0, 0, 2, 3]}):
        for reporting in ("instant", "calendar"):
            assert_same(stock_model.run(p, n, reporting=reporting, backend="kernel"),
                        stock_model.run(p, n, reporting=reporting, backend="numpy"))


@pytest.mark.xdist_group("kernel-stock-model")
@pytest.mark.parametrize("reporting", ["instant", "calendar"])
def test_kernel_equals_numpy_path(stock_model, reporting):
    n = 40  # more than kn.PARALLEL_MIN: the parallel kernel
    rng = np.random.default_rng(3)
    grid = np.arange(0, 10.25, 0.25)
    params = {
        "growth_rate": rng.uniform(0.0, 0.1, n),
        "drain_time": 3.0,
        "budget": xr.DataArray(rng.uniform(0, 5, (n, grid.size)), dims=("sample", "time"),
                               coords={"time": grid}),
        "smoothed_lookup": rng.uniform(0, 10, (n, 2)),
    }
    for p in (params, {"budget": pd.Series([1.0, 2.0], index=[0.0, 10.0])}, None):
        k = 1 if p is None else n if p is params else 3
        a = stock_model.run(p, k, reporting=reporting, backend="kernel")
        b = stock_model.run(p, k, reporting=reporting, backend="numpy")
        assert_same(a, b)
    cols = ["delayed", "stock"]
    a = stock_model.run(params, n, return_columns=cols, reporting=reporting, backend="kernel",
                 chunk_size=7)
    assert list(a.data_vars) == cols
    assert_same(a, stock_model.run(params, n, return_columns=cols, reporting=reporting,
                            backend="numpy"))


@pytest.mark.xdist_group("kernel-stock-model")
def test_default_is_the_kernel_and_bad_backend(stock_model):
    assert stock_model.backend is None
    a = stock_model.run(return_columns=["stock"])
    assert_same(a, stock_model.run(return_columns=["stock"], backend="kernel"))
    with pytest.raises(kn.ModelError, match="backend: 'gpu' is not allowed"):
        stock_model.run(backend="gpu")


def test_fallback_notice_once_and_forced_kernel_refused(tmp_path, capsys):
    path = tmp_path / "sub.mdl"
    path.write_text(SUBSCRIPTED + control_section(2, time_step=1))
    bm = compile_model(path)
    a = bm.run()
    b = bm.run()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "compiled kernel not used for sub.mdl" in err[0] and "subscripts" in err[0]
    assert err[0].endswith("running the numpy path")
    assert_same(a, bm.run(backend="numpy"))
    assert_same(a, b)
    with pytest.raises(kn.KernelUnavailable, match="subscripts"):
        bm.run(backend="kernel")


@pytest.mark.xdist_group("kernel-stock-model")
def test_cache_reused_by_another_process_and_nothing_imported_from_it(stock_model, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("PLANSIM_CACHE_DIR", str(tmp_path))
    folder = kn.cache_dir()
    assert folder == tmp_path / "kernels"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])\n"
        "from sim.engine import compile_model\n"
        "bm = compile_model(sys.argv[3])\n"
        "ds = bm.run(backend='kernel')\n"
        "fn = bm.kernels.loaded()[0].fn[1]\n"
        "print(sum(fn.stats.cache_hits.values()), sum(fn.stats.cache_misses.values()))\n")
    env = {**os.environ, "PLANSIM_CACHE_DIR": str(tmp_path)}
    here = str(Path(__file__).parent)
    runs = [subprocess.run([sys.executable, "-c", code, str(ROOT), here, str(stock_model.path)],
                           capture_output=True, text=True, env=env, timeout=600)
            for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
    hits, misses = (int(x) for x in runs[1].stdout.split())
    assert hits >= 1 and misses == 0, runs[1].stdout  # compiled by the first process only
    names = [p.name for p in folder.rglob("*")]
    assert not [n for n in names if n.endswith((".py", ".pyc"))]   # executed from memory
    assert {n.rsplit(".", 1)[-1] for n in names if "." in n} >= {"nbi", "nbc"}
    assert not list((ROOT / "sim" / "engine").rglob("*.nb[ic]"))   # nothing in the package


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    from sim.model.cache.diskcache import root_path

    monkeypatch.delenv("PLANSIM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert kn.cache_dir() == tmp_path / "plansim" / "kernels"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert root_path() == Path.home() / ".cache" / "plansim"


@pytest.mark.xdist_group("kernel-stock-model")
def test_one_sample_equals_isel(stock_model):
    ds = stock_model.run(reporting="calendar")
    xr.testing.assert_identical(one_sample(ds), ds.isel(sample=0, drop=True))


@pytest.mark.xdist_group("kernel-stock-model")
def test_series_for_an_endogenous_variable_runs_numpy_silently(stock_model, capsys):
    cut = {"outflow": pd.Series([1.0, 2.0], index=[0.0, 10.0])}  # a loop cut
    before = set(stock_model.kernels)
    a = stock_model.run(cut)
    assert set(stock_model.kernels) == before   # no kernel compiled (or refused) for it
    assert capsys.readouterr().err == ""
    assert_same(a, stock_model.run(cut, backend="numpy"))
    assert_same(a, stock_model.run(cut, backend="kernel"))  # forced: compiled for it
    assert "outflow" in kn.endogenous(stock_model.info, stock_model.kernels)
    assert "budget" not in kn.endogenous(stock_model.info, stock_model.kernels)


def test_one_kernel_serves_runs_overriding_different_constants(tmp_path):
    """The kernel is keyed by the kinds of its inputs, so a run giving ``drain_time`` and one
    giving ``growth_rate`` share it; each must still find the model's own value of the
    constant it does not give (a KeyError once, when the first run's defaults were kept)."""
    path = tmp_path / "tiny.mdl"
    path.write_text(MODEL + control_section(10, time_step=0.25))
    bm = compile_model(path)
    first = bm.run({"drain_time": 2.5}, 1, backend="kernel")
    assert_same(first, bm.run({"drain_time": 2.5}, 1, backend="numpy"))
    second = bm.run({"growth_rate": 0.07}, 1, backend="kernel")
    assert_same(second, bm.run({"growth_rate": 0.07}, 1, backend="numpy"))
    assert_same(bm.run(backend="kernel"), bm.run(backend="numpy"))
