"""The batch engine reproduces PySD on the plan model: one sample per scenario, and N samples
equal N separate PySD runs (relative tolerance 1e-9). The batch engine here is its compiled
kernel (the default where it compiles; tests/test_kernel_agreement.py checks the kernel
against the numpy path to 1e-12).

PySD is not run here: at the model's own step (1/32 year) a PySD run takes about half a minute,
so PySD's runs of every scenario file and of the sampled cases (the samples of one seeded draw
of assumptions, ``SAMPLED``) are stored files (model/reference, ``plansim regen reference``):
the engine is compared with them once their fingerprint says they are PySD's runs of the model,
inputs and code as they are now."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis.diagnostics.reference import (
    SAMPLED,
    read_reference,
    sample_draws,
    sampled_ids,
    scenario_ids,
    stale_reason,
)
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


def _fail_if_stale(sid, fingerprinter):
    why = stale_reason(sid, simulator=fingerprinter)
    if why:
        pytest.fail(f"{sid}: PySD's stored run is stale ({why}); run `make regen` (or "
                    f"`plansim regen reference`) and commit model/reference", pytrace=False)


@pytest.mark.parametrize("sid", scenario_ids())
def test_single_run_equals_pysds_stored_run_at_the_model_step(batch, fingerprinter, sid):
    _fail_if_stale(sid, fingerprinter)
    _assert_same(batch.run(sid), read_reference(sid), sid)


def test_n_samples_equal_pysds_stored_runs_of_the_sampled_cases(batch, fingerprinter):
    """One batch run of the draw's n samples at the model's step; sample i is PySD's run of
    the scenario with sample i's assumption values (the stored sampled case i)."""
    ids = sampled_ids()
    for sid in ids:
        _fail_if_stale(sid, fingerprinter)
    many = batch.run(SAMPLED.scenario, assumptions=sample_draws())
    assert many.sizes["sample"] == len(ids) == SAMPLED.n >= 2
    stored = [read_reference(sid) for sid in ids]
    # the samples differ beyond the tolerance, so no sample passes by matching another's run
    a, b = stored[0], stored[1]
    assert max(np.max(np.abs(a[v].values - b[v].values) / (ATOL + RTOL * np.abs(b[v].values)))
               for v in b.data_vars) > 1.0
    for i, sid in enumerate(ids):
        _assert_same(many.isel(sample=[i]).assign_coords(sample=[0]), stored[i], sid)
