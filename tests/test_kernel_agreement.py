"""The compiled kernel agrees with the numpy path (1e-12) and with PySD (1e-9) on every
conformance model it compiles and on every scenario; Dask workers run the same kernel."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

from sim.analysis.ensembles import ensemble, sampling
from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
from sim.engine import compile_model
from sim.engine import kernel as kn
from sim.model.equations.mdl import load_pysd_model
from sim.scenarios import list_scenarios, load_scenario
from sim.simulate import Simulator

pytest.importorskip("numba")
pytestmark = pytest.mark.slow

from conformance_cases import CONFORMANCE, ROWS  # noqa: E402

#: conformance models the kernel does not run (subscripted): the numpy path runs them
NOT_COMPILED = {"arithmetics", "subscript_1d_arrays", "subscript_2d_arrays",
                "subscripted_flows", "subscript_aggregation", "data_from_other_model"}
SCENARIOS = [p.stem for p in list_scenarios()]


def assert_close(a, b, rtol, atol, label, names=None):
    names = names or sorted(set(a.data_vars) & set(b.data_vars))
    assert names, label
    np.testing.assert_array_equal(a.time.values, b.time.values)
    for v in names:
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=rtol, atol=atol,
                                   err_msg=f"{label}: {v}")


@pytest.mark.skipif(not ROWS, reason="conformance models not available")
@pytest.mark.parametrize("row", ROWS, ids=[r["test"] for r in ROWS])
def test_conformance_kernel_equals_numpy_and_pysd(row, tmp_path):
    src = CONFORMANCE / row["test"]
    shutil.copytree(src, tmp_path / row["test"])
    path = tmp_path / row["test"] / row["model"]
    data = row["data_files"] or None
    bm = compile_model(path, data)
    if row["test"] in NOT_COMPILED:
        with pytest.raises(kn.KernelUnavailable, match="subscripts"):
            bm.run(backend="kernel")
        return
    kernel = bm.run(backend="kernel")
    assert_close(kernel, bm.run(backend="numpy"), 1e-12, 1e-12, row["test"])
    # several samples: the numpy path's vector flavour
    assert_close(bm.run(n_samples=3, backend="kernel"), bm.run(n_samples=3, backend="numpy"),
                 1e-12, 1e-12, row["test"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_pysd_model(path, data)
        df = model.run()
    names = [n for n in kernel.data_vars if n in model.namespace.values()]
    inverse = {v: k for k, v in model.namespace.items()}
    assert names
    for n in names:
        col = inverse[n]
        if col not in df.columns:
            continue
        np.testing.assert_allclose(kernel[n].values[0], df[col].to_numpy(dtype=float),
                                   rtol=1e-9, atol=1e-9, err_msg=f"{row['test']}: {n}")


@pytest.fixture(scope="module")
def sims():
    return {e: Simulator(e) for e in ("kernel", "numpy")}


@pytest.mark.parametrize("sid", SCENARIOS)
def test_scenario_kernel_equals_numpy(sims, sid):
    """(tests/test_agreement.py compares the kernel with PySD on every scenario, to 1e-9.)"""
    sc = load_scenario(sid)
    kernel = sims["kernel"].run(sc)
    assert kernel.attrs["engine"] == "kernel"
    assert_close(kernel, sims["numpy"].run(sc), 1e-12, 1e-12, sid)


def test_samples_kernel_equals_numpy(sims):
    spec = load_uncertainty()
    design = sampling.latin_hypercube(spec, 50, seed=11)
    plan = load_scenario("plan")
    runs = {e: sims[e].run(plan, assumptions=design.overrides(), check_divergence=False)
            for e in ("kernel", "numpy")}
    assert runs["kernel"].sizes["sample"] == 50
    assert_close(runs["kernel"], runs["numpy"], 1e-12, 1e-12, "50 samples")


def test_dask_workers_run_the_kernel():
    distributed = pytest.importorskip("distributed")
    spec = load_uncertainty()
    design = sampling.latin_hypercube(spec, 40, seed=5)
    plan = load_scenario("plan")
    cols = ["tech_firms", "rd_expenditure", "platforms", "tech_contract_turnover",
            "tech_brokers"]
    local = ensemble.simulate_design(plan, design, return_columns=cols, engine="kernel",
                                     chunk_size=20, progress=False)
    numpy = ensemble.simulate_design(plan, design, return_columns=cols, engine="numpy",
                                     chunk_size=40, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = ensemble.simulate_design(plan, design, return_columns=cols, engine="kernel",
                                          scheduler=client, chunk_size=10, progress=False)
    for v in cols:
        np.testing.assert_array_equal(remote[v].values, local[v].values, err_msg=v)
        np.testing.assert_allclose(remote[v].values, numpy[v].values, rtol=1e-12, atol=1e-12,
                                   err_msg=v)
