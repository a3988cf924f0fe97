"""The real model's pieces of the backtest (:mod:`sim.analysis.forecasts.backtest`): which history rows it
is compared on, the forecast runs, and the estimator.

- :func:`model_compare`: the rows the model has, mapped to the variable (and the time) they are
  compared with exactly as the likelihood maps them (:func:`sim.analysis.estimation.likelihood.observations`:
  the ``variables:`` renames, the 2018 R&D census break, rows left out such as GDP, an input;
  a stock stated as of a date at that date, a lower bound on an annual registry or a flow on
  the year's row);
- :func:`model_forecast`: the baseline scenario run once per posterior draw, to the last
  observed year (up to 2023 the scenarios share the history; their levers start with the plan);
- :func:`model_estimate`: :func:`sim.analysis.estimation.posterior.estimate` (emcee on the declared
  priors) on the rows given, optionally with fewer steps per walker (a quick look; the
  sampler's settings are otherwise those of ``model/calibration-settings.yaml``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import pandas as pd
import xarray as xr

#: what ``Backtest.estimator`` records for :func:`model_estimate`
ESTIMATOR = "posterior"


def model_compare(simulator, settings=None) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """``compare(rows)``: the sourced and lower-bound rows the model has, with the columns
    ``variable``, ``at`` and ``time`` of :data:`sim.analysis.estimation.likelihood.OBS_COLUMNS`."""
    # lazy: pulls yaml (42 ms)
    from sim.analysis.estimation import likelihood as lk
    from sim.analysis.estimation.calibration_settings import load_settings

    settings = settings or load_settings()
    units = simulator.info["units"].to_dict()
    years = simulator.row_years()

    def compare(rows: pd.DataFrame) -> pd.DataFrame:
        fitted, _, _ = lk.observations(rows, settings, units, years)
        return fitted

    return compare


def model_forecast(simulator, scenario: str = "baseline"
                   ) -> Callable[[pd.DataFrame, Sequence[str], float], xr.Dataset]:
    """``forecast(draws, variables, final_time)``: one run of ``scenario`` per draw."""
    # lazy: pulls yaml (42 ms)
    from sim.scenarios import load_scenario

    sc = load_scenario(scenario)

    def forecast(draws: pd.DataFrame, variables: Sequence[str], final_time: float
                 ) -> xr.Dataset:
        values = {str(k): draws[k].to_numpy(float) for k in draws.columns}
        return simulator.run(sc, assumptions=values, n_samples=len(draws),
                             return_columns=list(variables), final_time=final_time,
                             check_divergence=False)

    return forecast


def model_estimate(simulator, *, steps: int | None = None,
                   say: Callable[[str], None] | None = None):
    """``estimate(observations, *, seed)``: the posterior of :mod:`sim.analysis.estimation.posterior`
    (``steps`` per walker instead of the declared number, if given)."""
    # lazy: pulls yaml (58 ms)
    from sim.analysis.estimation.calibration_settings import load_settings
    from sim.analysis.estimation.posterior import estimate

    settings = load_settings()
    if steps is not None:
        settings = replace(settings, sampler=replace(settings.sampler, steps=int(steps)))

    def posterior(observations: pd.DataFrame, *, seed: int):
        return estimate(observations, seed=seed, settings=settings, simulator=simulator,
                        say=say)

    return posterior
