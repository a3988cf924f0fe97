"""Chunked ensemble runs: chunking and Dask give the same numbers as one local call."""

import numpy as np
import pytest
import xarray as xr

from sim.analysis.ensembles import ensemble, sampling
from sim.analysis.ensembles.uncertainty_spec import parse_uncertainty
from sim.errors import PlanSimError, UncertaintyError

SPEC = parse_uncertainty({"assumptions": {
    "growth": {"distribution": "triangular", "min": 0.0, "mode": 0.1, "max": 0.3,
               "source": "t", "confidence": "B"},
    "start": {"distribution": "uniform", "min": 50, "max": 150, "source": "t", "confidence": "A"},
}})
YEARS = np.arange(2020.0, 2031.0)


def toy_model(overrides):
    """Exponential growth: start * (1 + growth) ** (t - 2020); dims (sample, time)."""
    g = overrides["growth"][:, None]
    s = overrides["start"][:, None]
    y = s * (1 + g) ** (YEARS[None, :] - 2020)
    return xr.Dataset({"y": (("sample", "time"), y)}, coords={"time": YEARS})


def test_chunks_concatenate_in_order(capsys):
    design = sampling.latin_hypercube(SPEC, 37, seed=5)
    whole = ensemble.run_ensemble(toy_model, design, chunk_size=1000, progress=True)
    assert "37/37" in capsys.readouterr().err
    parts = ensemble.run_ensemble(toy_model, design, chunk_size=5, progress=False)
    xr.testing.assert_identical(whole, parts)
    assert list(parts["sample"].values) == list(range(37))
    np.testing.assert_allclose(parts["y"].isel(time=0), design.values[:, 1])


def test_dask_local_cluster_matches_local():
    distributed = pytest.importorskip("distributed")
    design = sampling.latin_hypercube(SPEC, 24, seed=9)
    local = ensemble.run_ensemble(toy_model, design, chunk_size=7, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = ensemble.run_ensemble(toy_model, design, chunk_size=7, scheduler=client,
                                       progress=False)
        by_address = ensemble.run_ensemble(toy_model, design.overrides(), chunk_size=10,
                                           scheduler=cluster.scheduler_address, progress=False)
    xr.testing.assert_identical(local, remote)
    xr.testing.assert_identical(local, by_address)


def test_bad_inputs_and_bad_model(monkeypatch):
    monkeypatch.setattr(ensemble, "CONNECT_TIMEOUT", "0.5s")
    with pytest.raises(UncertaintyError, match="non-empty"):
        ensemble.run_ensemble(toy_model, {}, progress=False)
    with pytest.raises(UncertaintyError, match="one length"):
        ensemble.run_ensemble(toy_model, {"growth": np.ones(3), "start": np.ones(4)})
    with pytest.raises(PlanSimError, match="sample size 1; expected 4"):
        ensemble.run_ensemble(lambda ov: toy_model({k: v[:1] for k, v in ov.items()}),
                              {"growth": np.ones(4), "start": np.ones(4)}, progress=False)
    with pytest.raises(PlanSimError, match="cannot reach a Dask scheduler"):
        ensemble.run_ensemble(toy_model, {"growth": np.ones(2), "start": np.ones(2)},
                              scheduler="tcp://127.0.0.1:1", progress=False)


class FakeSimulator:
    def __init__(self):
        self.calls = []

    def run(self, scenario, *, assumptions, levers, n_samples, return_columns,
            check_divergence=True):
        # an ensemble screens its samples itself (sim.analysis.diagnostics.screening): a diverging
        # sample must not abort the whole run
        assert check_divergence is False
        self.calls.append((scenario, n_samples, tuple(return_columns)))
        return toy_model(assumptions)


def test_scenario_evaluator_and_simulate_design(monkeypatch):
    fake = FakeSimulator()
    monkeypatch.setattr(ensemble.ScenarioEvaluator, "simulator", lambda _self: fake)
    design = sampling.latin_hypercube(SPEC, 10, seed=0)
    ds = ensemble.simulate_design("plan", design, return_columns=["y"], engine="fake",
                                  chunk_size=4, progress=False)
    assert [c[1] for c in fake.calls] == [4, 4, 2]
    assert fake.calls[0][0] == "plan" and fake.calls[0][2] == ("y",)
    assert ds.attrs["scenario"] == "plan" and "lhs n=10 seed=0" in ds.attrs["design"]
    xr.testing.assert_allclose(ds["y"], toy_model(design.overrides())["y"].assign_coords(
        sample=np.arange(10)))
