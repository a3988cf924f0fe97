"""The batch engine reproduces PySD on the plan model: one sample per scenario, and N samples
equal N separate PySD runs (relative tolerance 1e-9). The batch engine here is its compiled
kernel (the default where it compiles; tests/test_kernel_agreement.py checks the kernel
against the numpy path to 1e-12).

At the model's own step (1/32 year) PySD's run of every scenario file is a stored file
(model/reference, ``plansim regen reference``; a PySD run there takes about half a minute): the
engine is compared with them once their fingerprint says they are PySD's runs of the model,
inputs and code as they are now. The samples run PySD here, at 1/8 year."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis.diagnostics.reference import read_reference, scenario_ids, stale_reason
from sim.model.declarations.parameters import load_parameters
from sim.scenarios import load_scenario
from sim.simulate import Simulator

RTOL = 1e-9
ATOL = 1e-9

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def batch():
    return Simulator("kernel")


@pytest.fixture(scope="module")
def fingerprinter():
    """The numpy path, whose inputs the stored runs' fingerprints hash (one per worker)."""
    return Simulator("numpy")


def _assert_same(a, b, label):
    common = sorted(set(a.data_vars) & set(b.data_vars))
    assert len(common) > 50, f"{label}: too few variables in common ({len(common)})"
    np.testing.assert_array_equal(a.time.values, b.time.values)
    worst = (None, 0.0)
    for v in common:
        x, y = a[v].values, b[v].values
        err = np.max(np.abs(x - y) / (ATOL + RTOL * np.abs(y)))
        if err > worst[1]:
            worst = (v, err)
    assert worst[1] <= 1.0, f"{label}: {worst[0]} differs beyond rtol {RTOL}"


#: the samples below are compared with live PySD runs at 1/8 year: the same equations on every
#: step, in a quarter of the time of PySD's run at the model's own step (1/32 year); every
#: scenario file is compared at the model's step with PySD's stored run of it (model/reference)
COARSE_STEP = 0.125


@pytest.mark.parametrize("sid", scenario_ids())
def test_single_run_equals_pysds_stored_run_at_the_model_step(batch, fingerprinter, sid):
    why = stale_reason(sid, simulator=fingerprinter)
    if why:
        pytest.fail(f"{sid}: PySD's stored run is stale ({why}); run `make regen` (or "
                    f"`plansim regen reference`) and commit model/reference", pytrace=False)
    _assert_same(batch.run(sid), read_reference(sid), sid)


def test_n_samples_equal_n_pysd_runs(batch):
    pysd = Simulator("pysd")   # loaded only here: the stored runs need no PySD
    params = load_parameters()
    rng = np.random.default_rng(20240101)
    chosen = list(params.assumptions.values())[:4]
    n = 2
    draws = {a.id: rng.uniform(a.min, a.max, n) for a in chosen}
    plan = load_scenario("plan")
    many = batch.run(plan, assumptions=draws, time_step=COARSE_STEP)
    assert many.sizes["sample"] == n
    for i in range(n):
        one = pysd.run(plan, assumptions={k: float(v[i]) for k, v in draws.items()},
                       time_step=COARSE_STEP)
        _assert_same(many.isel(sample=[i]).assign_coords(sample=[0]), one, f"sample {i}")
