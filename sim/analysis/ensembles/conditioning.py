"""The ensemble every command reports: draws of the posterior, shared by every scenario.

**One definition.** An ensemble is ``N`` joint draws of the uncertain assumptions from the
posterior (:meth:`sim.analysis.estimation.posterior.Posterior.sample`: the estimated assumptions from the
stored draws of ``model/posterior.csv.gz``, the others from their declared priors) with a seed.
The canonical ensemble (N and seed) is declared once, in the ``ensemble:`` section of
``scenarios/uncertainty.yaml``; every command uses it unless the user asks otherwise
(``--samples``/``--seed``). The data entered once, in the estimation (``plansim calibrate``):
nothing is history-matched or screened here.

**Scenario independence.** Every scenario runs the *same* draws (common random numbers), so
``ds.sel(scenario="plan") - ds.sel(scenario="baseline")`` is the plan's effect draw by draw, and
a scenario's percentiles and P(met) depend only on its own runs: they are identical whether it
is run alone or beside other scenarios. The behaviour and reality checks of
``model/checks.yaml`` (divergence, bounds such as R&D intensity, money conservation) are
*reported* per scenario (``screened_out``: the draws failing a check in that scenario); they
never drop draws.

**Morris and Sobol** need independent inputs: ``plansim sensitivity`` draws its designs from
:func:`marginals` (each assumption's empirical quantile function over posterior draws).

**Central value.** The *central run* is the run at the posterior-median assumptions (the values
of ``model/calibration.yaml``; what ``plansim run`` shows, :func:`central_run`); ensemble
summaries are named *posterior median* (of the ensemble's runs). Each output says which it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis.diagnostics.checks import model_stocks, variables_needed
from sim.analysis.diagnostics.screening import screen
from sim.analysis.ensembles.conditioning_settings import ConditioningSettings
from sim.analysis.ensembles.sampling import Design
from sim.dims import SAMPLE, SCENARIO, stack_scenarios
from sim.errors import UncertaintyError
from sim.model.declarations.checkspec import Checks, load_checks
from sim.model.declarations.history import FITTED_STATUSES, load_history

if TYPE_CHECKING:
    from sim.analysis.ensembles.uncertainty_spec import UncertaintySpec
    from sim.analysis.estimation.posterior import Posterior
    from sim.scenarios import Scenario
    from sim.simulate import Simulator

#: what designs are drawn from: the prior, or posterior marginals (:class:`EmpiricalSpec`)
Spec: TypeAlias = "UncertaintySpec | EmpiricalSpec"
Simulate = Callable[["Scenario", Design], xr.Dataset]   # (scenario, design) -> Dataset


class HistoryMatch:
    """The posterior an ensemble is drawn from and the checks reported on its runs."""

    def __init__(self, posterior: Posterior, settings: ConditioningSettings | None = None,
                 checks: Checks | None = None, stocks: Sequence[str] = ()):
        self.posterior = posterior
        self.settings = settings
        self.checks = checks
        self.stocks = list(stocks)

    @classmethod
    def from_history(cls, variables: Sequence[str], years: Any = None,
                     settings: ConditioningSettings | None = None, *,
                     posterior: Posterior | None = None, checks: Checks | None | str = "model",
                     say: Callable[[str], None] | None = None) -> HistoryMatch:
        """The canonical posterior (re-estimated, with a notice, when the history file changed
        since it was stored) and the model's checks (``"model"``; ``None``: none)."""
        # lazy: pulls 22 sim modules (46 ms)
        from sim.analysis.estimation.posterior_file import canonical_posterior

        post = posterior if posterior is not None else canonical_posterior(say=say)
        stocks: list[str] = []
        if isinstance(checks, str):
            known = set(variables)
            stocks = [s for s in model_stocks() if s in known]
            checks = load_checks()
        return cls(post, settings, checks, stocks)

    @property
    def obs(self) -> pd.DataFrame:
        """The history rows of the likelihood (sourced and lower bounds) that the ensemble's
        charts show, with ``variable`` = the indicator (the posterior's own table when it
        carries one)."""
        fitted = self.posterior.fitted
        if fitted is not None:
            return fitted
        h = load_history()
        return h[h["status"].isin(FITTED_STATUSES)].assign(variable=lambda d: d["indicator"])

    @property
    def variables(self) -> list[str]:
        """Model variables the checks need in the results."""
        return sorted(variables_needed(self.checks, self.stocks)) if self.checks else []

    def plausible(self, ds: xr.Dataset) -> np.ndarray:
        """Bool (sample,): not diverged and passing every check (all True without checks)."""
        if self.checks is None:
            return np.ones(ds.sizes["sample"], dtype=bool)
        return screen(ds, self.checks, self.stocks).keep

    def table(self) -> pd.DataFrame:
        """The posterior's provenance as one row (origin, data cut-off, hash, sampler)."""
        info = self.posterior.info
        return pd.DataFrame([{"origin": self.posterior.origin,
                              "data_cutoff": info.get("data_cutoff"),
                              "data_hash": str(info.get("data_hash"))[:12],
                              "posterior_draws": len(self.posterior.draws),
                              "estimated": len(self.posterior.ids),
                              "sampler": info.get("sampler")}])


@dataclass
class Conditioned:
    """The ensemble of one scenario: the posterior draws and their runs."""

    scenario: str
    design: Design              # the draws (rows in draw order)
    results: xr.Dataset         # their runs, sample = 0..n-1
    screened_out: int           # draws failing a check in this scenario (reported, kept)
    wanted: int
    match: HistoryMatch
    seed: int | None = None

    @property
    def kept(self) -> int:
        return self.design.n

    @property
    def drawn(self) -> int:
        return self.design.n

    def summary(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "samples": self.kept, "seed": self.seed,
                "failing_a_check": self.screened_out,
                "failing_share": self.screened_out / self.kept if self.kept else float("nan"),
                "origin": self.match.posterior.origin}


def posterior_design(posterior: Posterior, names: Sequence[str], n: int, seed: int | None
                     ) -> Design:
    """``n`` posterior draws of ``names`` as a :class:`Design` (``unit``: each column's
    rank among the draws, in (0, 1))."""
    frame = posterior.sample(n, 0 if seed is None else seed)
    missing = [a for a in names if a not in frame.columns]
    if missing:
        raise UncertaintyError(f"posterior: no draws nor prior for {missing}; allowed: the "
                               "assumptions of scenarios/uncertainty.yaml")
    values = frame[list(names)].to_numpy(float)
    unit = (np.argsort(np.argsort(values, axis=0), axis=0) + 0.5) / max(n, 1)
    return Design(unit, values, list(names), "posterior", seed, n)


def condition(scenario: Scenario, spec: Spec, n: int, *, seed: int | None, simulate: Simulate,
              match: HistoryMatch, say: Callable[[str], None] | None = None,
              **_: Any) -> Conditioned:
    """:func:`condition_all` for one scenario."""
    return condition_all([scenario], spec, n, seed=seed, simulate=simulate, match=match,
                         say=say)[0]


def condition_all(scenarios: Sequence[Scenario], spec: Spec, n: int, *, seed: int | None,
                  simulate: Simulate, match: HistoryMatch,
                  say: Callable[[str], None] | None = None, **_: Any) -> list[Conditioned]:
    """Run ``n`` posterior draws (seed ``seed``) of the assumptions of ``spec`` in every
    scenario: the same draws everywhere. Checks are counted per scenario, never used to drop
    a draw, so each scenario's result is what it gives alone."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise UncertaintyError(f"samples is {n!r}; allowed: a positive integer")
    if not scenarios:
        raise UncertaintyError("no scenario to run; allowed: one or more scenarios")
    say = say or (lambda _m: None)
    design = posterior_design(match.posterior, spec.names, int(n), seed)
    out = []
    for sc in scenarios:
        sid = str(getattr(sc, "id", sc))
        ds = simulate(sc, design)
        failing = int((~match.plausible(ds)).sum())
        ds.attrs.update(scenario=sid, design=f"{n} posterior draws, seed {seed} (origin "
                                             f"{match.posterior.origin})")
        say(f"{sid}: {n} posterior draws run; {failing} fail a check (reported, kept)")
        out.append(Conditioned(sid, design, ds, failing, int(n), match, seed))
    return out


def ensemble(conditioned: Sequence[Conditioned]) -> xr.Dataset:
    """The runs of :func:`condition_all` as one Dataset with dims ``(scenario, sample, time)``
    (the same draws in every scenario), with the counts as attrs."""
    ds = stack_scenarios({c.scenario: c.results for c in conditioned})
    first = conditioned[0]
    ds.attrs.update(drawn=first.drawn, kept=first.kept, wanted=first.wanted,
                    origin=first.match.posterior.origin,
                    screened_out=",".join(f"{c.scenario}:{c.screened_out}" for c in conditioned))
    return ds


def summary_table(conditioned: Sequence[Conditioned], settings: Any = None) -> pd.DataFrame:
    """One row per scenario: draws, seed, draws failing a check (reported, not dropped)."""
    return pd.DataFrame([c.summary() for c in conditioned])


@dataclass(frozen=True)
class EmpiricalSpec:
    """Independent marginals of a sample: each assumption's empirical quantile function.

    Duck-types :class:`~sim.analysis.ensembles.uncertainty_spec.UncertaintySpec` for the designs of
    :mod:`sim.analysis.ensembles.sampling` (``names``, ``dim``, ``bounds``, ``ppf``).
    """

    names: list[str]
    sample: np.ndarray    # (n, D)
    path: str = "posterior marginals"

    @property
    def dim(self) -> int:
        return len(self.names)

    @property
    def bounds(self) -> np.ndarray:
        return np.column_stack([self.sample.min(axis=0), self.sample.max(axis=0)])

    def ppf(self, unit: np.ndarray) -> np.ndarray:
        unit = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
        if unit.ndim != 2 or unit.shape[1] != self.dim:
            raise UncertaintyError(f"sample has shape {unit.shape}; expected (N, {self.dim})")
        return np.column_stack([np.quantile(self.sample[:, j], unit[:, j])
                                for j in range(self.dim)])


def marginals(conditioned: Conditioned) -> EmpiricalSpec:
    """The draws' marginals, the distribution Morris and Sobol designs are drawn from."""
    return EmpiricalSpec(list(conditioned.design.names), conditioned.design.values.copy())


def central_assumptions(simulator: Simulator, scenario: Scenario, names: Sequence[str]
                        ) -> dict[str, float]:
    """Values of ``names`` in the central run: the scenario's own, else the posterior median
    (``model/calibration.yaml``), else the ``.mdl`` value."""
    own: Mapping[str, float] = getattr(scenario, "assumptions", {}) or {}
    out = {}
    for name in names:
        if name in own:
            out[name] = float(own[name])
        elif name in simulator.calibrated:
            out[name] = float(simulator.calibrated[name])
        else:
            out[name] = simulator.constant_default(
                simulator.parameters.assumptions[name].py_name)
    return out


def central_run(simulator: Simulator, scenario: Scenario, return_columns: Sequence[str] | None = None
                ) -> xr.Dataset:
    """The central run: ``scenario`` at the posterior-median assumptions (``plansim run``)."""
    return simulator.run(scenario, return_columns=return_columns)


__all__ = ["SAMPLE", "SCENARIO", "Conditioned", "EmpiricalSpec", "HistoryMatch",
           "central_assumptions", "central_run", "condition", "condition_all",
           "ensemble", "marginals", "posterior_design", "summary_table"]
