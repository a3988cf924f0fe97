"""The real model's pieces of the backtest (:mod:`sim.analysis.backtest`): which history rows it
is compared on, the forecast runs, and the estimators to choose from.

- :func:`model_compare`: the rows the model has, mapped to the variable they are compared with
  exactly as the estimation maps them (:func:`sim.analysis.calibration.observations`: the
  ``variables:`` renames, the 2018 R&D census break, the rows left out such as GDP, an input);
- :func:`model_forecast`: the baseline scenario run once per posterior draw, to the last
  observed year (up to 2023 the scenarios share the history; their levers start with the plan);
- :class:`MatchingEstimator`: history matching (:mod:`sim.analysis.conditioning`) on the rows
  up to the origin, the stand-in for :func:`sim.analysis.posterior.estimate` with the same
  signature. Its prior is ``scenarios/uncertainty.yaml`` with every ``calibrated`` entry
  replaced by a uniform over the declared range: ``model/calibration.yaml`` was fitted on every
  row, including those after the origin, so sampling around it would let the forecast see the
  years it is scored on. Its posterior is the ``n`` survivors, with equal weight.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis import calibration as cal

#: names of the estimators ``plansim backtest --estimator`` accepts
ESTIMATORS = ("posterior", "matching")
#: draws per sample the stand-in may run (x N): the uniform prior over the calibrated
#: assumptions' declared ranges passes the history far less often than the calibrated prior
MATCHING_MAX_DRAWS = 400


@dataclass
class DrawPosterior:
    """A posterior given by equally weighted draws (one row per draw, one column per
    assumption id)."""

    draws: pd.DataFrame
    origin: int

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        """``n`` draws: without replacement when there are enough, else with."""
        rng = np.random.default_rng(seed)
        m = len(self.draws)
        idx = rng.permutation(m)[:n] if n <= m else rng.choice(m, n, replace=True)
        return self.draws.iloc[idx].reset_index(drop=True)


def model_compare(simulator, settings: cal.Settings | None = None
                  ) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """``compare(rows)``: the rows the model has, with column ``variable``."""
    settings = settings or cal.load_settings()
    variables = list(simulator.info.index)
    years = (simulator.control("initial_time"), simulator.control("final_time"))

    def compare(rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.reset_index(drop=True)
        # the estimation's own mapping, for any status: each row tagged by its position
        tagged = rows.assign(status="sourced", source=[str(i) for i in range(len(rows))])
        used, _ = cal.observations(tagged, settings, variables, years)
        keep = used["source"].astype(int).to_numpy()
        return rows.iloc[keep].assign(variable=used["variable"].to_numpy()).reset_index(
            drop=True)

    return compare


def model_forecast(simulator, scenario: str = "baseline"
                   ) -> Callable[[pd.DataFrame, Sequence[str], float], xr.Dataset]:
    """``forecast(draws, variables, final_time)``: one run of ``scenario`` per draw."""
    from sim.scenarios import load_scenario

    sc = load_scenario(scenario)

    def forecast(draws: pd.DataFrame, variables: Sequence[str], final_time: float
                 ) -> xr.Dataset:
        values = {str(k): draws[k].to_numpy(float) for k in draws.columns}
        return simulator.run(sc, assumptions=values, n_samples=len(draws),
                             return_columns=list(variables), final_time=final_time,
                             check_divergence=False)

    return forecast


def leak_free_prior(path=None):
    """``scenarios/uncertainty.yaml`` with each ``calibrated`` entry uniform over its range."""
    from sim import paths
    from sim.analysis.uncertainty_spec import parse_uncertainty
    from sim.errors import UncertaintyError
    from sim.model.parameters import load_parameters
    from sim.model.yamlio import read_yaml

    path = path or paths.UNCERTAINTY_FILE
    data = read_yaml(path, UncertaintyError)
    entries = {}
    for name, entry in data["assumptions"].items():
        if isinstance(entry, dict) and entry.get("distribution") == "calibrated":
            entry = {**entry, "distribution": "uniform"}
        entries[name] = entry
    return parse_uncertainty({**data, "assumptions": entries}, path=str(path),
                             parameters=load_parameters())


class MatchingEstimator:
    """History matching on the observations given (see the module doc); ``n`` survivors."""

    def __init__(self, simulator, n: int, *, scenario: str = "baseline",
                 say: Callable[[str], None] | None = None, max_draws: float | None = None):
        self.simulator, self.n, self.say = simulator, n, say
        self.max_draws = max_draws
        self.scenario = scenario
        self.prior = leak_free_prior()

    def _design_runs(self, columns, final_time):
        from sim.analysis.ensemble import simulate_design

        def run(sc, design):
            def evaluate(overrides):
                n = len(next(iter(overrides.values())))
                return self.simulator.run(sc, assumptions=overrides, n_samples=n,
                                          return_columns=list(columns),
                                          check_divergence=False,
                                          **({} if final_time is None
                                             else {"final_time": final_time}))
            return simulate_design(sc, design, evaluate=evaluate, progress=False)

        return run

    def __call__(self, observations: pd.DataFrame, *, seed: int, settings=None,
                 simulator=None) -> DrawPosterior:
        from sim.analysis.checks import load_checks, model_stocks
        from sim.analysis.conditioning import HistoryMatch, condition, load_conditioning
        from sim.scenarios import load_scenario

        sim = simulator or self.simulator
        settings = settings or load_conditioning()
        if self.max_draws is not None:     # the prior is wider than the declared one
            settings = replace(settings, max_draws=max(settings.max_draws, self.max_draws))
        variables = list(sim.info.index)
        years = (sim.control("initial_time"), sim.control("final_time"))
        obs, _ = cal.observations(observations, cal.load_settings(), variables, years)
        known = set(variables)
        match = HistoryMatch(obs, settings, load_checks(),
                             [s for s in model_stocks() if s in known])
        c = condition(load_scenario(self.scenario), self.prior, self.n, seed=seed,
                      simulate=self._design_runs(match.variables, None), match=match,
                      say=self.say,
                      history=self._design_runs(match.compared, match.history_end))
        return DrawPosterior(c.design.frame().reset_index(drop=True),
                             int(observations["year"].max()))


def estimator(name: str, simulator, n: int, say: Callable[[str], None] | None = None):
    """The estimator ``name`` (:data:`ESTIMATORS`) as ``estimate(observations, *, seed)``."""
    if name == "posterior":
        from sim.analysis.posterior import estimate

        def posterior(observations: pd.DataFrame, *, seed: int):
            return estimate(observations, seed=seed, simulator=simulator)

        return posterior
    return MatchingEstimator(simulator, n, say=say, max_draws=MATCHING_MAX_DRAWS)


def has_posterior() -> bool:
    """Whether :mod:`sim.analysis.posterior` (the one Bayesian estimation) is there."""
    import importlib.util

    return importlib.util.find_spec("sim.analysis.posterior") is not None
