"""Shared-prefix reuse (sim.engine.checkpoints): a kernel run whose inputs equal a stored run's
before a checkpoint resumes from the stored state, and every number equals a full run's, bit
for bit; a run that differs earlier, other samples or a kernel with hidden state do not reuse;
the store stays within its bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from inline_mdl import control_section

from sim.engine import checkpoints as cp
from sim.engine import compile_model

# the tests share tiny models' compiled kernels: on one worker each is compiled once (two
# workers starting a file's tests together would each compile it)
pytestmark = pytest.mark.xdist_group("checkpoints-kernel")

pytest.importorskip("numba")

MODEL = """{UTF-8}
lever = 1
\t~\tyuan/Year
\t~\t|

growth = 0.04
\t~\t1/Year
\t~\t|

start level = 7
\t~\tyuan
\t~\t|

capital = INTEG(investment - depreciation, start level * 1.5 + growth)
\t~\tyuan
\t~\t|

investment = lever * (1 + growth * capital) + schedule(Time)
\t~\tyuan/Year
\t~\t|

schedule(
\t[(2000,0)-(2012,10)],(2000,1),(2005,3),(2012,2))
\t~\tyuan/Year
\t~\t|

depreciation = capital / 9 + DELAY1I(investment, 1.25, 0.3 * start level)
\t~\tyuan/Year
\t~\t|

shipped = DELAY3I(investment, 2, start level / 3)
\t~\tyuan/Year
\t~\t|

perceived = SMOOTH3I(investment, 1.5, 0.5 + growth)
\t~\tyuan/Year
\t~\t|

expected = SMOOTHI(shipped, 0.75, 2.5)
\t~\tyuan/Year
\t~\t|

first investment = INITIAL(investment)
\t~\tyuan/Year
\t~\t|

"""

FIXED = """{UTF-8}
lever = 1
\t~\tyuan/Year
\t~\t|

stock = INTEG(lever - late, 3)
\t~\tyuan
\t~\t|

late = DELAY FIXED(lever, 1, 0.5)
\t~\tyuan/Year
\t~\t|

"""

N = 20  # more than sim.engine.kernel.PARALLEL_MIN: the parallel kernel


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("checkpoints") / "ckpt.mdl"
    path.write_text(MODEL + control_section(2012, time_step=0.25, initial_time=2000))
    return compile_model(path)


@pytest.fixture(autouse=True)
def fresh_store(monkeypatch):
    store = cp.Store()
    monkeypatch.setattr(cp, "STORE", store)
    monkeypatch.delenv("PLANSIM_CHECKPOINTS", raising=False)
    return store


def lever(model, change_at: float | None, value: float = 2.5) -> pd.Series:
    grid = np.arange(model.initial_time, model.final_time + 1e-9, model.time_step)
    vals = np.ones_like(grid)
    if change_at is not None:
        vals[grid >= change_at] = value
    return pd.Series(vals, index=grid)


def params(model, change_at, seed=1, value=2.5):
    rng = np.random.default_rng(seed)
    return {"lever": lever(model, change_at, value), "growth": rng.uniform(0.02, 0.06, N),
            "start_level": rng.uniform(5, 9, N)}


def cut(p: dict, n: int) -> dict:
    return {k: (v[:n] if isinstance(v, np.ndarray) else v) for k, v in p.items()}


def full(model, p, n=N, **kw) -> xr.Dataset:
    import os

    os.environ["PLANSIM_CHECKPOINTS"] = "off"
    try:
        return model.run(p, n, backend="kernel", **kw)
    finally:
        del os.environ["PLANSIM_CHECKPOINTS"]


def assert_bitwise(a: xr.Dataset, b: xr.Dataset):
    assert list(a.data_vars) == list(b.data_vars)
    np.testing.assert_array_equal(a.time.values, b.time.values)
    for v in a.data_vars:
        x, y = a[v].values, b[v].values
        assert x.shape == y.shape and x.tobytes() == y.tobytes(), v


@pytest.mark.parametrize("reporting", ["instant", "calendar"])
@pytest.mark.parametrize("n", [N, 3])
def test_resumed_run_equals_a_full_run_bitwise(model, fresh_store, reporting, n):
    base, plan = cut(params(model, None), n), cut(params(model, 2006.0), n)
    want = full(model, plan, n, reporting=reporting)
    want_base = full(model, base, n, reporting=reporting)
    assert not (want["capital"].values == want_base["capital"].values).all()
    assert_bitwise(model.run(base, n, backend="kernel", reporting=reporting), want_base)
    assert len(fresh_store) == 1 and fresh_store.hits == 0
    got = model.run(plan, n, backend="kernel", reporting=reporting)
    assert fresh_store.hits == 1
    assert_bitwise(got, want)
    # a change between checkpoints (mid-year) and the very same inputs again
    mid = cut(params(model, 2008.5, value=0.25), n)
    assert_bitwise(model.run(mid, n, backend="kernel", reporting=reporting),
                   full(model, mid, n, reporting=reporting))
    assert_bitwise(model.run(base, n, backend="kernel", reporting=reporting), want_base)
    assert fresh_store.hits == 3 and len(fresh_store) == 1  # resumed runs are not stored


def test_selected_columns_and_chunks_resume_bitwise(model, fresh_store):
    cols = ["capital", "perceived", "first_investment", "depreciation"]
    base, plan = params(model, None), params(model, 2004.0)
    model.run(base, N, return_columns=cols, backend="kernel", chunk_size=7)
    got = model.run(plan, N, return_columns=cols, backend="kernel", chunk_size=7)
    assert fresh_store.hits == 1
    assert_bitwise(got, full(model, plan, return_columns=cols))


def test_inputs_that_differ_from_the_start_are_not_reused(model, fresh_store):
    model.run(params(model, None), N, backend="kernel")
    early = params(model, 2000.0)  # differs at the initial time: nothing to resume from
    got = model.run(early, N, backend="kernel")
    assert fresh_store.hits == 0
    assert_bitwise(got, full(model, early))


@pytest.fixture
def starts(monkeypatch):
    """The grid step each kernel call started at."""
    seen: list[int] = []
    plan = cp.plan

    def spy(*args, **kw):
        p = plan(*args, **kw)
        seen.append(p.i0)
        return p

    monkeypatch.setattr(cp, "plan", spy)
    return seen


def test_it_resumes_from_the_latest_checkpoint_before_the_first_difference(model, starts):
    model.run(params(model, None), N, backend="kernel")
    model.run(params(model, 2008.5), N, backend="kernel")      # step 34: the row at step 32
    model.run(params(model, 2003.0, value=1.0), N, backend="kernel")  # the same inputs
    model.run(params(model, 2003.0, value=-0.0), N, backend="kernel")
    a = params(model, 2003.0, value=0.0)
    model.run(a, N, backend="kernel")  # -0.0 and 0.0 differ in bits: from step 12
    assert starts == [0, 32, 48, 12, 12]
    assert_bitwise(model.run(a, N, backend="kernel"), full(model, a))


def test_other_samples_or_constants_are_not_reused(model, fresh_store):
    model.run(params(model, None, seed=1), N, backend="kernel")
    other = params(model, 2006.0, seed=2)
    assert_bitwise(model.run(other, N, backend="kernel"), full(model, other))
    fewer = cut(params(model, 2006.0, seed=1), N - 1)
    assert_bitwise(model.run(fewer, N - 1, backend="kernel"), full(model, fewer, N - 1))
    const = {**params(model, None, seed=1), "growth": 0.03}
    assert_bitwise(model.run(const, N, backend="kernel"), full(model, const))
    assert fresh_store.hits == 0


def test_a_kernel_with_hidden_state_never_resumes(tmp_path, fresh_store):
    path = tmp_path / "fixed.mdl"
    path.write_text(FIXED + control_section(10, time_step=0.25))
    bm = compile_model(path)
    grid = np.arange(0, 10.25, 0.25)
    a = {"lever": pd.Series(np.ones_like(grid), index=grid)}
    b = {"lever": pd.Series(np.where(grid >= 5, 2.0, 1.0), index=grid)}
    bm.run(a, 3, backend="kernel")
    got = bm.run(b, 3, backend="kernel")
    assert fresh_store.hits == 0 and len(fresh_store) == 0
    assert_bitwise(got, full(bm, b, 3))


def test_the_store_is_bounded_least_recently_used_first(model, monkeypatch):
    store = cp.Store(max_entries=2)
    monkeypatch.setattr(cp, "STORE", store)
    runs = [params(model, None, seed=s) for s in (1, 2, 3)]
    for p in runs:
        model.run(p, N, backend="kernel")
    assert len(store) == 2
    model.run({**runs[0], "lever": lever(model, 2006.0)}, N, backend="kernel")
    assert store.hits == 0  # the first run was dropped
    model.run({**runs[2], "lever": lever(model, 2006.0)}, N, backend="kernel")
    assert store.hits == 1
    small = cp.Store(max_bytes=1000)
    monkeypatch.setattr(cp, "STORE", small)
    model.run(runs[0], N, backend="kernel")
    assert len(small) == 0  # larger than the bound: not kept


def test_off_by_environment(model, fresh_store, monkeypatch):
    monkeypatch.setenv("PLANSIM_CHECKPOINTS", "off")
    model.run(params(model, None), N, backend="kernel")
    assert len(fresh_store) == 0


def test_the_plan_model_resumes_bitwise(fresh_store, starts):
    """The real model: the plan, then the plan with a lever changed from 2025, over a few
    draws (and the same as one run): equal with and without the store, resumed the second
    time from the start of 2025."""
    from sim.analysis.ensembles.ensemble import shared_simulator
    from sim.scenarios import load_scenario

    sim, sc = shared_simulator(), load_scenario("plan")
    rng = np.random.default_rng(7)
    draws = {"crowding_in": rng.uniform(0.0, 0.4, N),
             "fund_exit_multiple": rng.uniform(1.2, 2.0, N)}
    changed = {"broker_training_places": {2025: 600}}
    for assumptions, n in ((draws, N), (None, 1)):
        want = []
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("PLANSIM_CHECKPOINTS", "off")
            for levers in (None, changed):
                want.append(sim.run(sc, levers=levers, assumptions=assumptions, n_samples=n))
        fresh_store.clear()
        starts.clear()
        for levers, w in zip((None, changed), want, strict=True):
            assert_bitwise(sim.run(sc, levers=levers, assumptions=assumptions, n_samples=n), w)
        steps = sim.step_times()
        assert starts == [0, int(np.flatnonzero(np.isclose(steps, 2025.0))[0])]
