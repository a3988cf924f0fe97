"""One Bayesian estimation of the model's assumptions from the history: the posterior.

:func:`estimate` is the one place the data enter. Priors are the declared ones (range in
``model/parameters.yaml``, shape in ``scenarios/uncertainty.yaml``); the likelihood is
:mod:`sim.analysis.estimation.likelihood` (observation error by status, model discrepancy, lower bounds,
as-of dates); the sampler is emcee (:mod:`sim.analysis.estimation.mcmc`). Only the assumptions the history
can inform are sampled: those that move a compared value at all when set one at a time to their
prior 5% and 95% quantiles (the others act after the history, e.g. the plan's own mechanisms,
and keep their prior). Every history run goes only to the end of the last compared year.

A :class:`Posterior` holds the draws of the estimated assumptions; :meth:`Posterior.sample`
draws ``n`` joint samples of every uncertain assumption (estimated ones from the draws, the
others from their priors), deterministic for a seed. The stored posterior
(``model/posterior.csv.gz``, :mod:`sim.analysis.estimation.posterior_file`) records the hash of the history
it was estimated on, so a changed history is noticed.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
from sim.analysis.estimation import likelihood as lk
from sim.analysis.estimation import mcmc
from sim.analysis.estimation.calibration_settings import Settings, load_settings
from sim.errors import CalibrationError
from sim.scenarios import load_scenario
from sim.simulate import Simulator

if TYPE_CHECKING:
    from sim.analysis.ensembles.uncertainty_spec import UncertaintySpec

#: quantiles at which each assumption is set, one at a time, to see whether the history responds
SCREEN_QUANTILES = (0.05, 0.95)


@dataclass
class Posterior:
    """Posterior draws (``draws``: one row per draw, one column per estimated assumption),
    the last observed year (``origin``) and how they were obtained (``info``)."""

    draws: pd.DataFrame
    origin: int
    prior: UncertaintySpec | None = None
    info: dict[str, Any] = field(default_factory=dict)
    fitted: pd.DataFrame | None = None      # the rows in the likelihood
    checks: pd.DataFrame | None = None      # implied rows, reported apart
    skipped: pd.DataFrame | None = None     # rows not fitted, with the reason

    @property
    def ids(self) -> list[str]:
        return list(self.draws.columns)

    @property
    def data_hash(self) -> str | None:
        return self.info.get("data_hash")

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        """``n`` joint draws of every uncertain assumption (index ``sample`` 0..n-1): the
        estimated ones are rows of :attr:`draws` (without replacement when ``n`` allows), the
        others independent draws from their priors. The same seed gives the same frame."""
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise CalibrationError(f"posterior sample: n is {n!r}; allowed: a positive integer")
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 1])
        rows = rng.choice(len(self.draws), size=n, replace=n > len(self.draws))
        out = self.draws.iloc[rows].reset_index(drop=True)
        if self.prior is not None:
            rest = [a for a in self.prior.names if a not in out.columns]
            if rest:
                sub = self.prior.subset(rest)
                vals = sub.ppf(rng.random((n, len(rest))))
                out = pd.concat([out, pd.DataFrame(vals, columns=rest)], axis=1)
        return out.rename_axis("sample")

    def median(self) -> dict[str, float]:
        """Posterior median of each estimated assumption (the central run's values)."""
        return {k: float(v) for k, v in self.draws.median().items()}


def data_cutoff(fitted: pd.DataFrame) -> str:
    """The latest date the fitted data describe: ``YYYY-MM-DD`` (an as_of, or 31 December)."""
    if fitted is None or fitted.empty:
        return ""
    dates = [(str(a) if a is not None and a == a else f"{int(y)}-12-31")
             for y, a in zip(fitted["year"], fitted["as_of"], strict=True)]
    return max(dates)


class HistoryModel:
    """The model run over the history years for a block of assumption values."""

    def __init__(self, simulator: Simulator, scenario, fitted: pd.DataFrame,
                 checks: pd.DataFrame):
        self.simulator, self.scenario = simulator, scenario
        self.fitted, self.checks = fitted, checks
        self.columns = lk.compared_variables(fitted, checks)
        self.end = lk.history_end(fitted, checks)
        self.runs = 0

    def run(self, values: dict[str, np.ndarray]) -> Any:
        n = len(next(iter(values.values())))
        self.runs += n
        return self.simulator.run(self.scenario, assumptions=values, n_samples=n,
                                  return_columns=self.columns, final_time=self.end,
                                  check_divergence=False)

    def at_rows(self, values: dict[str, np.ndarray], obs: pd.DataFrame) -> np.ndarray:
        return lk.simulated_at(self.run(values), obs)


def informed(model: HistoryModel, spec: UncertaintySpec, tol: float) -> list[str]:
    """Assumptions of ``spec`` the compared history values respond to (one at a time)."""
    d = spec.dim
    unit = np.full((1 + 2 * d, d), 0.5)
    for j in range(d):
        unit[1 + 2 * j, j], unit[2 + 2 * j, j] = SCREEN_QUANTILES
    x = spec.ppf(unit)
    sim = model.at_rows({k: x[:, j].copy() for j, k in enumerate(spec.names)}, model.fitted)
    with np.errstate(divide="ignore", invalid="ignore"):
        ls = np.log(np.maximum(sim, lk.LOG_FLOOR))
    moved = np.nan_to_num(np.abs(ls[1:] - ls[0]), nan=np.inf).max(axis=1) if sim.shape[1] \
        else np.zeros(2 * d)
    return [k for j, k in enumerate(spec.names) if max(moved[2 * j], moved[2 * j + 1]) > tol]


def estimate(observations: pd.DataFrame, *, seed: int, settings: Settings | None = None,
             simulator: Simulator | None = None,
             say: Callable[[str], None] | None = None) -> Posterior:
    """Sample the posterior of the assumptions the history ``observations`` (the table of
    :func:`sim.model.declarations.history.load_history`, possibly filtered to an origin) inform."""
    say = say or (lambda _m: None)
    settings = settings or load_settings()
    sim = simulator or Simulator("batch", use_calibration=False)
    spec = load_uncertainty(parameters=sim.parameters)
    fitted, checks, skipped = lk.observations(observations, settings,
                                              sim.info["units"].to_dict(), sim.row_years())
    if fitted.empty:
        raise CalibrationError(f"{settings.source}: no history row enters the likelihood "
                               "(sourced or lower_bound rows of model variables)")
    model = HistoryModel(sim, load_scenario(settings.scenario), fitted, checks)
    t0 = _time.perf_counter()
    ids = informed(model, spec, settings.sampler.informs_tol)
    if not ids:
        raise CalibrationError("estimation: no declared assumption moves the history rows")
    sub = spec.subset(ids)
    rest = [a for a in spec.names if a not in ids]
    fixed = spec.subset(rest).ppf(np.full((1, len(rest)), 0.5))[0] if rest else np.empty(0)
    say(f"estimating {len(ids)} of {spec.dim} assumptions (the others do not act on the "
        f"history) from {len(fitted)} rows ({(fitted['status'] == 'lower_bound').sum()} "
        f"lower bounds); {len(checks)} implied rows reported apart")

    def loglik(u: np.ndarray) -> np.ndarray:
        x = sub.ppf(u)
        vals = {k: x[:, j].copy() for j, k in enumerate(ids)}
        vals.update({k: np.full(len(u), v) for k, v in zip(rest, fixed, strict=True)})
        return lk.log_likelihood(model.at_rows(vals, fitted), fitted)

    s = settings.sampler
    chain = mcmc.sample(loglik, len(ids), walkers=s.walkers, steps=s.steps, draws=s.draws,
                        seed=seed, init_pool=s.init_pool, say=say)
    draws = pd.DataFrame(sub.ppf(chain.u), columns=ids).rename_axis("draw")
    origin = int(fitted["year"].max())
    info = {"sampler": "emcee", "emcee_version": _emcee_version(), "moves": "DEMove 0.8, "
            "DESnookerMove 0.2", "walkers": chain.walkers, "steps": chain.steps,
            "burn": chain.burn, "thin": chain.thin, "draws": len(draws), "seed": int(seed),
            "acceptance": round(chain.acceptance, 4),
            "tau_max": round(float(np.nanmax(chain.tau)), 2),
            "tau": {k: round(float(t), 2) for k, t in zip(ids, chain.tau, strict=True)},
            "converged": chain.converged, "runs": model.runs,
            "seconds": round(_time.perf_counter() - t0, 1), "origin": origin,
            "data_cutoff": data_cutoff(fitted), "scenario": settings.scenario,
            "discrepancy_sd": settings.discrepancy_sd,
            "observation_sd": dict(settings.observation_sd)}
    say(f"emcee: {chain.walkers} walkers x {chain.steps} steps, acceptance "
        f"{chain.acceptance:.2f}, autocorrelation time up to {info['tau_max']:g} steps, "
        f"burn-in {chain.burn}, thin {chain.thin}, {len(draws)} draws kept")
    return Posterior(draws, origin, spec, info, fitted, checks, skipped)


def _emcee_version() -> str:
    import emcee

    return str(emcee.__version__)
