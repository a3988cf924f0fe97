"""The ensemble every command reports: posterior draws shared by every scenario.

The canonical settings, draws from a posterior (estimated ones from its draws, the others
from their priors), checks reported but never dropping a draw, marginals for Morris and Sobol,
and on the real model: a scenario's P(met) and percentiles are identical whether it is run
alone or beside other scenarios (one number everywhere), and the central run is the run at
the posterior medians."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sim.analysis.ensembles import conditioning as hm
from sim.analysis.ensembles import conditioning_settings
from sim.analysis.ensembles.ensemble import run_ensemble
from sim.analysis.ensembles.sampling import latin_hypercube, one_at_a_time
from sim.analysis.ensembles.uncertainty_spec import parse_uncertainty
from sim.analysis.estimation.posterior import Posterior
from sim.errors import UncertaintyError

YEARS = np.arange(2012.0, 2031.0)
SPEC = parse_uncertainty({"assumptions": {
    "g": {"distribution": "uniform", "min": 0.0, "max": 0.4, "source": "t", "confidence": "C"},
    "noise": {"distribution": "uniform", "min": 0.0, "max": 1.0, "source": "t",
              "confidence": "C"}}})
POST = Posterior(pd.DataFrame({"g": np.linspace(0.15, 0.25, 200)}), 2023, SPEC,
                 {"data_cutoff": "2023-12-31", "data_hash": "x"})


def toy(ov):
    """x(t) = 100 (1 + g)^(t - 2020); nan when noise > 0.9 (a check fails)."""
    g = ov["g"][:, None]
    x = 100.0 * (1 + g) ** (YEARS[None, :] - 2020)
    x = np.where(ov["noise"][:, None] > 0.9, np.nan, x)
    return xr.Dataset({"x": (("sample", "time"), x)}, coords={"time": YEARS})


def simulate(sc, design):
    return run_ensemble(toy, design, progress=False)


class NaNCheck(hm.HistoryMatch):
    def plausible(self, ds):
        return np.isfinite(ds["x"].values).all(axis=1)


def test_the_canonical_ensemble_is_declared_once():
    s = conditioning_settings.load_conditioning()
    assert s.samples >= 1 and s.seed >= 0 and s.sensitivity_samples >= 10


@pytest.mark.parametrize("change, words", [
    ({"samples": 0}, ["u.yaml", "ensemble.samples", "0", "integer >= 1"]),
    ({"seed": "x"}, ["ensemble.seed", "'x'"]),
    ({"cutoff": 3}, ["ensemble.cutoff is not a setting"]),
])
def test_bad_settings_are_one_line_errors(change, words):
    raw = {"samples": 10, "seed": 1, "sensitivity_samples": 10, **change}
    with pytest.raises(UncertaintyError) as e:
        conditioning_settings.parse_conditioning(raw, "u.yaml")
    assert all(w in str(e.value) for w in words) and "\n" not in str(e.value)


def test_draws_come_from_the_posterior_and_the_prior():
    m = hm.HistoryMatch(POST)
    c = hm.condition(SimpleNamespace(id="toy"), SPEC, 50, seed=3, simulate=simulate, match=m)
    g, noise = c.design.values.T
    assert c.kept == 50 and set(np.round(g, 12)) <= set(np.round(POST.draws["g"], 12))
    assert noise.min() >= 0 and noise.max() <= 1 and len(set(noise)) == 50   # the prior
    again = hm.condition(SimpleNamespace(id="toy"), SPEC, 50, seed=3, simulate=simulate,
                         match=m)
    np.testing.assert_array_equal(again.design.values, c.design.values)


def test_checks_are_reported_never_dropping_a_draw():
    m = NaNCheck(POST)
    a, b = hm.condition_all([SimpleNamespace(id="a"), SimpleNamespace(id="b")], SPEC, 100,
                            seed=4, simulate=simulate, match=m)
    failing = int((a.design.values[:, 1] > 0.9).sum())
    assert failing > 0 and a.screened_out == b.screened_out == failing
    assert a.kept == b.kept == 100
    table = hm.summary_table([a, b])
    assert list(table["failing_a_check"]) == [failing, failing]


def test_marginals_and_tornado_centre():
    r = hm.condition(SimpleNamespace(id="toy"), SPEC, 60, seed=3, simulate=simulate,
                     match=hm.HistoryMatch(POST))
    marg = hm.marginals(r)
    d = latin_hypercube(marg, 200, seed=1)
    g = r.design.values[:, 0]
    assert g.min() - 1e-12 <= d.values[:, 0].min() and d.values[:, 0].max() <= g.max() + 1e-12
    oat = one_at_a_time(marg, center={"g": 0.2, "noise": 0.5})
    np.testing.assert_allclose(oat.values[0], [0.2, 0.5])
    np.testing.assert_allclose(oat.values[1:3, 0], np.quantile(g, [0.05, 0.95]))


# -- the real model --------------------------------------------------------------------------
# the tests using this fixture run on one xdist worker (xdist_group "conditioning-real"): made once
@pytest.fixture(scope="module")
def real():
    from sim.analysis.ensembles.ensemble import simulate_design
    from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
    from sim.model.declarations.targets import load_targets
    from sim.simulate import Simulator

    sim = Simulator()
    targets = load_targets()
    spec = load_uncertainty()
    # a posterior of the real model's assumptions (independent of the stored file, so the test
    # holds whatever the committed data): draws of a few assumptions, the others from priors
    ids = spec.names[:5]
    draws = pd.DataFrame(spec.subset(ids).ppf(np.random.default_rng(0).random((300, 5))),
                         columns=ids)
    post = Posterior(draws, 2023, spec, {"data_cutoff": "2023-12-31"})
    match = hm.HistoryMatch.from_history(list(sim.info.index), posterior=post)
    cols = sorted(set(targets.indicators) | set(match.variables))
    return {"sim": sim, "match": match, "targets": targets, "spec": spec, "cols": cols,
            "simulate": lambda sc, d: simulate_design(sc, d, return_columns=cols,
                                                      progress=False)}


@pytest.mark.xdist_group("conditioning-real")
def test_p_met_of_a_scenario_does_not_depend_on_the_others_in_the_call(real):
    """One number everywhere: plan alone, or with baseline and another scenario, gives the
    identical ensemble, percentiles and P(met) (with its N and Monte Carlo standard error)."""
    from sim.analysis.ensembles.uncertainty import compute
    from sim.scenarios import load_scenario

    def plan_result(ids):
        scs = [load_scenario(s) for s in ids]
        res = compute(scs, real["spec"], real["targets"], samples=80, seed=7, sampling="lhs",
                      simulate=real["simulate"], say=lambda _m: None, match=real["match"])
        return next(r for r in res if r.scenario == "plan")

    alone, shared = plan_result(["plan"]), plan_result(["baseline", "plan", "late-start"])
    pd.testing.assert_frame_equal(alone.probabilities, shared.probabilities)
    xr.testing.assert_equal(alone.percentiles, shared.percentiles)
    assert (alone.probabilities["n"] == 80).all()
    p = alone.probabilities["probability"]
    np.testing.assert_allclose(alone.probabilities["mc_se"], np.sqrt(p * (1 - p) / 80))


@pytest.mark.xdist_group("conditioning-real")
def test_the_central_run_is_at_the_posterior_medians(real):
    """The tornado's row 0 (central assumptions) reproduces plansim run exactly."""
    from sim.scenarios import load_scenario

    sc = load_scenario("plan")
    central = hm.central_run(real["sim"], sc, real["cols"])
    values = hm.central_assumptions(real["sim"], sc, real["spec"].names)
    for aid, v in real["sim"].calibrated.items():
        assert values[aid] == v          # the posterior medians of model/calibration.yaml
    ds = real["sim"].run(sc, assumptions={k: np.array([v]) for k, v in values.items()},
                         return_columns=real["cols"])
    for ind in real["targets"].indicators:
        np.testing.assert_allclose(ds[ind].values, central[ind].values, rtol=1e-12)
