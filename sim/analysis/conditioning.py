"""History-conditioned ensembles: history matching with an implausibility cut-off.

Every ensemble the tool reports (``plansim uncertainty``, ``sensitivity``, ``forecast``) is
conditioned on Qingdao's history (``model/data/history.csv``): prior samples of the uncertain
assumptions (``scenarios/uncertainty.yaml``) that the data rule out are dropped.

**Method: history matching** (Craig, Goldstein, Seheult and Smith 1997; Vernon, Goldstein and
Bower 2010), not likelihood weighting. For each history row ``i`` and sample ``s``::

    I_i(s) = |ln simulated_i(s) - ln observed_i| / sqrt(obs_var_i + discrepancy_var + code_var)

with ``obs_var_i = (observation_sd / weight_i)^2`` (the weight of the row's status, as in the
calibration: an implied 2023 base has half the weight, so twice the error of a reported
figure), ``discrepancy_var = discrepancy_sd^2`` (how closely a model of this aggregation can be
expected to reproduce any series) and ``code_var = 0``: the simulator itself is run for every
sample (no emulator), so there is no emulator variance. A sample survives when its largest
implausibility over the rows is at most the cut-off (3, Pukelsheim's three-sigma rule) and
it passes the behaviour and reality checks of ``model/checks.yaml`` (no divergence, bounds such as
R&D intensity or turnover against GDP, money conservation: :mod:`sim.analysis.screening`); the
count of runs within the history but failing a check is reported as ``screened_out``.

Why not likelihood weights with resampling: with 17 observations, 5 of them implied targets,
the likelihood is dominated by the error model one assumes; importance weights over a 68-D
prior then collapse onto a handful of samples (a tiny effective sample size), and resampling
duplicates them. History matching only asks which samples are *not implausible*: it needs the
same variances but no full likelihood, keeps every survivor with equal weight (so percentiles
and probabilities are the ordinary ones over the survivors), and says how many survive.

The rows compared, their weights by status, the R&D census break and the rows left out are
those of the calibration (:func:`sim.analysis.calibration.observations` reading
``model/calibration-settings.yaml``). The cut-off, variances and the sampling budget are the
``conditioning:`` section of ``scenarios/uncertainty.yaml``. Sampling: a first round of
``oversample x N`` prior draws, then top-up rounds sized by the acceptance rate so far, until
``N`` samples survive (the first ``N`` in draw order are kept) or ``max_draws x N`` have been
drawn. Round ``r`` is drawn with seed ``(seed, r)``, so a seed fixes the result.

**Morris and Sobol** need structured designs with independent inputs, which a history-matched
sample is not. ``plansim sensitivity`` therefore draws its designs from :func:`marginals` (each
assumption's empirical quantile function over the survivors, independent across assumptions),
reports the share of the design that itself passes the history match, and adds first-order
indices estimated on the survivors themselves by a given-data method
(:func:`sim.analysis.sensitivity.given_data_first_order`), where the dependence is kept.

**Central value.** One central forecast: the calibrated run (:func:`central_run`; the same run
as ``plansim run``: the scenario with the estimates of ``model/calibration.yaml``, every other
assumption at its ``.mdl`` value). Every command reports it as ``central``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis import calibration as cal
from sim.analysis.checks import Checks, load_checks, model_stocks, variables_needed
from sim.analysis.conditioning_settings import (  # noqa: F401  (re-exported)
    SECTION,
    ConditioningSettings,
    load_conditioning,
    parse_conditioning,
)
from sim.analysis.sampling import Design
from sim.analysis.sampling import sample as draw
from sim.dims import SAMPLE, SCENARIO, scenario_runs, stack_scenarios
from sim.errors import UncertaintyError

if TYPE_CHECKING:
    from sim.analysis.uncertainty_spec import UncertaintySpec
    from sim.scenarios import Scenario
    from sim.simulate import Simulator

#: what designs are drawn from: the prior, or the survivors' marginals (:class:`EmpiricalSpec`)
Spec: TypeAlias = "UncertaintySpec | EmpiricalSpec"
Simulate = Callable[["Scenario", Design], xr.Dataset]   # (scenario, design) -> Dataset

# -- implausibility -----------------------------------------------------------------------------
class HistoryMatch:
    """The history rows compared and their variances; implausibility of any ensemble."""

    def __init__(self, observations: pd.DataFrame, settings: ConditioningSettings,
                 checks: Checks | None = None, stocks: Sequence[str] = ()):
        if observations.empty:
            raise UncertaintyError("conditioning: no history row to compare with")
        self.obs = observations.reset_index(drop=True)
        self.settings = settings
        w = self.obs["weight"].to_numpy(float)
        self.sd = np.sqrt((settings.observation_sd / w) ** 2 + settings.discrepancy_sd ** 2)
        self.log_observed = np.log(self.obs["value"].to_numpy(float))
        self.checks = checks          # screened per sample too (divergence, bounds, conservation)
        self.stocks = list(stocks)

    @classmethod
    def from_history(cls, variables: Sequence[str], years: tuple[float, float],
                     settings: ConditioningSettings, *, history_path: Path | str | None = None,
                     calibration_settings: cal.Settings | None = None,
                     checks: Checks | None | str = "model") -> HistoryMatch:
        """Rows as the calibration compares them (its settings, weights, break and exclusions).

        ``checks``: the behaviour and reality checks every kept sample must also pass
        (``"model"``: ``model/checks.yaml`` with the model's stocks; ``None``: history only)."""
        from sim.model.history import load_history

        csettings = calibration_settings or cal.load_settings()
        obs, _ = cal.observations(load_history(history_path), csettings, variables, years)
        stocks: list[str] = []
        if isinstance(checks, str):
            known = set(variables)
            stocks = [s for s in model_stocks() if s in known]
            checks = load_checks()
        return cls(obs, settings, checks, stocks)

    @property
    def compared(self) -> list[str]:
        """Model variables the history rows compare (all the implausibility needs)."""
        return sorted(set(self.obs["variable"]))

    @property
    def history_end(self) -> float:
        """The end of the last compared year (calendar rows: row ``Y`` covers ``[Y, Y+1)``):
        a run to this time gives every compared value, as a run to FINAL TIME does."""
        return float(self.obs["year"].max()) + 1.0

    @property
    def variables(self) -> list[str]:
        """Model variables the implausibility and the checks need in the results."""
        names = set(self.obs["variable"])
        if self.checks is not None:
            names |= set(variables_needed(self.checks, self.stocks))
        return sorted(names)

    def plausible(self, ds: xr.Dataset) -> np.ndarray:
        """Bool (sample,): not diverged and passing every check (all True without checks)."""
        from sim.analysis.screening import screen

        if self.checks is None:
            return np.ones(ds.sizes["sample"], dtype=bool)
        return screen(ds, self.checks, self.stocks).keep

    def implausibility(self, ds: xr.Dataset) -> np.ndarray:
        """``I`` per sample and row: array (sample, rows). NaN or non-positive runs give inf."""
        sim = cal.simulated_at(ds, self.obs)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = np.abs(np.log(sim) - self.log_observed[None, :])
        dev = np.where(np.isfinite(dev), dev, np.inf)
        return dev / self.sd[None, :]

    def max_implausibility(self, ds: xr.Dataset) -> np.ndarray:
        return self.implausibility(ds).max(axis=1)

    def passes(self, ds: xr.Dataset) -> np.ndarray:
        """Bool (sample,): not ruled out by the history nor by the checks."""
        return (self.max_implausibility(ds) <= self.settings.cutoff) & self.plausible(ds)

    def table(self) -> pd.DataFrame:
        """The rows compared with their standard deviation on the log scale."""
        return self.obs[["indicator", "year", "value", "status", "variable", "weight"]].assign(
            sd=self.sd)


# -- the conditioned ensemble -------------------------------------------------------------------
@dataclass
class Conditioned:
    """The surviving samples of one scenario and how many were drawn to find them."""

    scenario: str
    design: Design              # the kept samples (rows in draw order)
    results: xr.Dataset         # their runs, sample = 0..kept-1
    implausibility: np.ndarray  # (kept,) largest implausibility of each kept sample
    drawn: int                  # prior samples run
    passed: int                 # of those, not ruled out
    rounds: int
    wanted: int
    match: HistoryMatch
    screened_out: int = 0       # runs within the history but diverged or failing a check

    @property
    def kept(self) -> int:
        return self.design.n

    def summary(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "drawn": self.drawn, "passed": self.passed,
                "kept": self.kept, "wanted": self.wanted, "screened_out": self.screened_out,
                "acceptance": self.passed / self.drawn if self.drawn else float("nan"),
                "rounds": self.rounds}


def _round_seed(seed: int | None, r: int) -> int | None:
    if seed is None:
        return None
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, r]).generate_state(1)[0])


def _round_size(n: int, method: str) -> int:
    return 1 << max(int(math.ceil(math.log2(max(n, 1)))), 0) if method == "sobol" else n


def condition(scenario: Scenario, spec: Spec, n: int, *, seed: int | None, simulate: Simulate,
              match: HistoryMatch, method: str = "lhs",
              say: Callable[[str], None] | None = None,
              history: Simulate | None = None) -> Conditioned:
    """Draw prior samples of ``spec`` in rounds, run them, keep the first ``n`` survivors.

    ``simulate(scenario, design)`` must return every variable in ``match.variables``;
    ``history``: see :func:`condition_all`.
    Raises :class:`UncertaintyError` when no sample survives ``max_draws x n`` draws.
    """
    return condition_all([scenario], spec, n, seed=seed, simulate=simulate, match=match,
                         method=method, say=say, history=history)[0]


def condition_all(scenarios: Sequence[Scenario], spec: Spec, n: int, *, seed: int | None,
                  simulate: Simulate, match: HistoryMatch, method: str = "lhs",
                  say: Callable[[str], None] | None = None,
                  history: Simulate | None = None) -> list[Conditioned]:
    """:func:`condition` for several scenarios on ONE set of samples (common random numbers).

    A prior sample is kept when it is history-consistent and passes the checks in *every*
    scenario (the scenarios share the history before their levers differ, but a check may
    fail later in one of them), so differences between scenarios are differences of policy,
    not of which samples happened to survive. Returns one :class:`Conditioned` per scenario,
    with the same kept samples in the same order.

    Each scenario is run only for the draws the scenarios before it do not rule out (a draw
    out of the history in one scenario is dropped whatever the others give). ``history(
    scenario, design)``, if given, runs a design only to :attr:`HistoryMatch.history_end` and
    returns :attr:`HistoryMatch.compared`: the draws are then matched to the history on such
    runs, and only those the history does not rule out in any scenario (12% at the default
    settings) are run over the whole horizon (each scenario only for those passing the
    checks in the scenarios before it). The model is causal and its samples
    independent, so the survivors, their runs and every count are those of running every
    draw in every scenario over the whole horizon (tests/test_conditioning.py holds it to
    that definition).
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise UncertaintyError(f"samples is {n!r}; allowed: a positive integer")
    if not scenarios:
        raise UncertaintyError("no scenario to condition; allowed: one or more scenarios")
    s = match.settings
    cap = int(math.ceil(s.max_draws * n))
    size = int(math.ceil(s.oversample * n))
    sids = [str(getattr(sc, "id", sc)) for sc in scenarios]
    say = say or (lambda _m: None)
    units, values = [], []
    parts: list[xr.Dataset] = []          # survivors of each round, dims (scenario, sample, time)
    imps: list[np.ndarray] = []           # their largest implausibility, (scenario, sample)
    drawn = passed = rounds = screened = 0
    while passed < n and drawn < cap:
        m = _round_size(min(size, cap - drawn), method)
        design = draw(spec, m, method=method, seed=_round_seed(seed, rounds))
        # each scenario's history match, run only for the draws the scenarios before it keep
        imp = np.full((len(scenarios), design.n), np.inf)
        rows = np.arange(design.n)             # the draws no scenario has ruled out yet
        runs: dict[str, tuple[np.ndarray, xr.Dataset]] = {}   # without ``history``
        for k, (sid, sc) in enumerate(zip(sids, scenarios, strict=True)):
            if not rows.size:
                break
            ds = (history or simulate)(sc, design if k == 0 else _rows(design, rows))
            if history is None:
                runs[sid] = (rows, ds)
            imp[k, rows] = match.max_implausibility(ds)
            rows = rows[imp[k, rows] <= s.cutoff]
        # the whole horizon: each scenario for the draws consistent with the history in
        # every scenario and passing the checks in the scenarios before it
        kept_rows = rows
        full: dict[str, tuple[np.ndarray, xr.Dataset]] = {}
        for sid, sc in zip(sids, scenarios, strict=True):
            if not kept_rows.size:
                break
            if history is None:
                r, ds = runs[sid]
                ds = ds.isel({SAMPLE: np.searchsorted(r, kept_rows)})
            else:
                ds = simulate(sc, _rows(design, kept_rows))
            full[sid] = (kept_rows, ds)
            kept_rows = kept_rows[match.plausible(ds)]
        # shared survivors: history-consistent and passing the checks in every scenario
        within = np.zeros(design.n, dtype=bool)
        within[rows] = True
        good = np.zeros(design.n, dtype=bool)
        good[kept_rows] = True
        screened += int((within & ~good).sum())
        ok = np.flatnonzero(good)[: n - passed]
        passed += int(good.sum())
        drawn += design.n
        rounds += 1
        units.append(design.unit[ok])
        values.append(design.values[ok])
        if ok.size:
            parts.append(stack_scenarios({sid: ds.isel({SAMPLE: np.searchsorted(r, ok)})
                                          .assign_coords({SAMPLE: np.arange(ok.size)})
                                          for sid, (r, ds) in full.items()}))
        imps.append(imp[:, ok])
        say(f"{', '.join(sids)}: round {rounds}, {drawn} drawn, {passed} not ruled out by the "
            "history or the checks")
        rate = passed / drawn
        need = n - min(passed, n)
        size = int(math.ceil(1.2 * need / rate)) if rate > 0 else int(math.ceil(s.oversample * n))
        size = max(size, 16)
    kept = int(sum(len(u) for u in units))
    if kept == 0:
        raise UncertaintyError(
            f"{s.source}: {SECTION}: none of {drawn} prior samples of '{', '.join(sids)}' "
            f"passes the implausibility cut-off {s.cutoff:g} and the checks; allowed: a larger "
            "discrepancy_sd or observation_sd, a larger cutoff, or a larger max_draws")
    kept_design = Design(np.concatenate(units), np.concatenate(values), list(spec.names),
                         method, seed, n)
    ens = xr.concat(parts, dim=SAMPLE, data_vars="all", coords="minimal", compat="override",
                    join="override", combine_attrs="override")
    ens = ens.assign_coords({SAMPLE: np.arange(kept)})
    imp_all = np.concatenate(imps, axis=1)                            # (scenario, kept)
    out = []
    for k, (sid, ds) in enumerate(scenario_runs(ens).items()):
        ds.attrs.update(scenario=sid, design=f"{method} history-matched: kept {kept} of "
                                             f"{drawn} drawn, seed {seed}")
        out.append(Conditioned(sid, kept_design, ds, imp_all[k], drawn, passed,
                               rounds, n, match, screened))
    return out


def _rows(design: Design, rows: np.ndarray) -> Design:
    """The draws ``rows`` of ``design`` (in order) as a design of their own."""
    return replace(design, unit=design.unit[rows], values=design.values[rows])


def ensemble(conditioned: Sequence[Conditioned]) -> xr.Dataset:
    """The kept runs of :func:`condition_all` as one Dataset with dims ``(scenario, sample,
    time)`` (the same samples in every scenario), with coordinate ``implausibility``
    (scenario, sample) and the counts ``drawn``, ``passed``, ``kept`` as attrs."""
    ds = stack_scenarios({c.scenario: c.results for c in conditioned})
    ds = ds.assign_coords(implausibility=((SCENARIO, SAMPLE),
                                          np.stack([c.implausibility for c in conditioned])))
    first = conditioned[0]
    ds.attrs.update(drawn=first.drawn, passed=first.passed, kept=first.kept,
                    wanted=first.wanted, screened_out=first.screened_out)
    return ds


def summary_table(conditioned: Sequence[Conditioned], settings: ConditioningSettings
                  ) -> pd.DataFrame:
    """One row per scenario: drawn, passed, kept, wanted, acceptance, rounds and the settings."""
    rows = [c.summary() for c in conditioned]
    return pd.DataFrame(rows).assign(cutoff=settings.cutoff,
                                     observation_sd=settings.observation_sd,
                                     discrepancy_sd=settings.discrepancy_sd)


# -- conditioned marginals (for Morris and Sobol designs) ---------------------------------------
@dataclass(frozen=True)
class EmpiricalSpec:
    """Independent marginals of a sample: each assumption's empirical quantile function.

    Duck-types :class:`~sim.analysis.uncertainty_spec.UncertaintySpec` for the designs of
    :mod:`sim.analysis.sampling` (``names``, ``dim``, ``bounds``, ``ppf``).
    """

    names: list[str]
    sample: np.ndarray    # (n, D)
    path: str = "history-conditioned marginals"

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
    """The survivors' marginals, the distribution Morris and Sobol designs are drawn from."""
    return EmpiricalSpec(list(conditioned.design.names), conditioned.design.values.copy())


# -- the central forecast -----------------------------------------------------------------------
def central_assumptions(simulator: Simulator, scenario: Scenario, names: Sequence[str]
                        ) -> dict[str, float]:
    """Values of ``names`` in the calibrated run: the scenario's own, else the calibrated
    estimate, else the ``.mdl`` value."""
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
    """The central forecast: the calibrated run of ``scenario`` (what ``plansim run`` shows)."""
    return simulator.run(scenario, return_columns=return_columns)


def central_at(central: xr.Dataset, variables: Sequence[str], year: int) -> pd.Series:
    """Central values of ``variables`` in ``year`` (index: variable)."""
    from sim.analysis.targets import at_year

    return pd.Series({v: float(at_year(central[v], year)[0]) for v in variables}, name="central")
