"""Calibrate uncertain assumptions to Qingdao's history by weighted least squares on logs.

The settings (``model/calibration-settings.yaml``) say which assumptions are estimated, how
observations are weighted by status and which history rows are compared with which model
variable. The objective is

    sum_i (w_i * (ln S_i(x) - ln A_i))^2

over every history row ``i`` whose indicator is a model variable, inside the simulated years,
with a positive weight: ``A_i`` the observed value, ``S_i(x)`` the model at that year with the
estimated assumptions ``x``, ``w_i`` the weight of the row's status. Only years with data count
(gaps need no filling). A statistical break (the 2018 R&D census revision) is handled by
comparing rows before the break year with a model variable on the old basis
(``rd_expenditure_old_basis = rd_expenditure / basis factor``); the basis factor can be estimated
jointly as one more assumption.

:func:`fit` is engine-agnostic: it takes ``simulate({id: array (S,)}) -> Dataset (sample, time)``
and estimates by :func:`scipy.optimize.least_squares` in the box of the declared bounds
(rescaled to [0, 1]), with a forward-difference Jacobian evaluated as one batch of ``P`` runs.
Approximate intervals come from ``cov = s² (JᵀJ)⁻¹`` (``s²`` = weighted SSR / (n - p)) and
Student's t; a parameter is flagged as not constrained when its interval is wider than its
bounds, when it sits at a bound, or when it loads on a near-null direction of ``JᵀJ``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize, stats

from sim import paths
from sim.analysis.calibration_settings import (  # noqa: F401  (re-exported)
    SETTINGS_FILE,
    Break,
    Settings,
    load_settings,
)
from sim.analysis.fit_stats import STAT_NAMES, fit_stats
from sim.errors import CalibrationError
from sim.model.parameters import python_name

LOG_FLOOR = 1e-9          # simulated values at or below zero are compared as this (log undefined)
NULL_EIG_RTOL = 1e-8      # eigenvalues of JᵀJ below this x the largest span a near-null direction
NULL_LOADING = 0.3        # |eigenvector component| above which a parameter is in that direction
BOUND_TOL = 1e-3          # within this fraction of the range of a bound = "at the bound"
FD_STEP = 1e-4            # forward-difference step, as a fraction of the parameter's range

Simulate = Callable[[Mapping[str, np.ndarray]], xr.Dataset]


# -- observations -------------------------------------------------------------------------------
def observations(history: pd.DataFrame, settings: Settings, variables: Sequence[str],
                 years: tuple[float, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split history rows into those fitted and those skipped (with the reason).

    Fitted rows: columns ``indicator, year, value, unit, status, source, variable, weight``;
    ``variable`` is the model variable compared (the break variable before a break).
    """
    known = set(variables)
    used, skipped = [], []
    for row in history.to_dict("records"):
        ind, year = str(row["indicator"]), int(row["year"])
        var = settings.variables.get(ind, ind)
        for b in settings.breaks:
            if ind == b.indicator and year < b.before:
                var = b.variable
        if var not in known:
            var = python_name(var)   # a Vensim name in the settings
        weight = settings.weights.get(str(row["status"]), 0.0)
        reason = None
        if ind in settings.exclude:
            reason = f"excluded: {settings.exclude[ind]}"
        elif (ind, year) in settings.exclude_rows:
            reason = f"excluded: {settings.exclude_rows[(ind, year)]}"
        elif var not in known:
            reason = "not a model variable"
        elif not years[0] - 1e-9 <= year <= years[1] + 1e-9:
            reason = f"outside the simulated years {years[0]:g}-{years[1]:g}"
        elif weight <= 0:
            reason = f"status {row['status']} has weight 0"
        elif not np.isfinite(row["value"]) or row["value"] <= 0:
            reason = "value not positive (log undefined)"
        out = {k: row.get(k) for k in ("indicator", "year", "value", "unit", "status", "source")}
        out["year"] = year
        if reason:
            skipped.append({**out, "reason": reason})
        else:
            used.append({**out, "variable": var, "weight": weight})
    cols = ["indicator", "year", "value", "unit", "status", "source"]
    obs = pd.DataFrame(used, columns=[*cols, "variable", "weight"])
    return obs.reset_index(drop=True), pd.DataFrame(skipped, columns=[*cols, "reason"])


def simulated_at(ds: xr.Dataset, obs: pd.DataFrame) -> np.ndarray:
    """Model values at the observations, shape ``(sample, n_obs)``."""
    cols = []
    for var, year in zip(obs["variable"], obs["year"], strict=True):
        da = ds[var].sel(time=float(year), method="nearest", tolerance=1e-6)
        cols.append(np.asarray(da.values, dtype=float).reshape(-1))
    if not cols:
        return np.zeros((ds.sizes.get("sample", 1), 0))
    return np.stack(cols, axis=-1)


def status_statistics(obs: pd.DataFrame, simulated: np.ndarray) -> pd.DataFrame:
    """Fit statistics per (status, indicator): sourced figures apart from implied points."""
    sim = np.asarray(simulated, dtype=float).reshape(-1)
    parts = {status: series_statistics(obs.iloc[idx], sim[idx])
             for status, idx in obs.groupby("status", sort=True).indices.items()}
    if not parts:
        return pd.DataFrame(columns=list(STAT_NAMES))
    return pd.concat(parts, names=["status", "indicator"])


def series_statistics(obs: pd.DataFrame, simulated: np.ndarray) -> pd.DataFrame:
    """Fit statistics per indicator (rows) for one run; ``simulated`` has shape ``(n_obs,)``."""
    sim = np.asarray(simulated, dtype=float).reshape(-1)
    rows = {}
    for ind, idx in obs.groupby("indicator", sort=False).indices.items():
        rows[ind] = fit_stats(obs["value"].to_numpy(float)[idx], sim[idx]).as_dict()
    df = pd.DataFrame.from_dict(rows, orient="index", columns=list(STAT_NAMES))
    df.index.name = "indicator"
    return df.astype({"n": int})


# -- the fit ------------------------------------------------------------------------------------
@dataclass
class FitResult:
    """Estimates and diagnostics; arrays have shape ``(P,)`` unless said otherwise."""

    ids: list[str]
    x: np.ndarray
    x0: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    constrained: np.ndarray
    warnings: list[str]
    cost: float               # sum of squared weighted log residuals (not halved)
    residuals: np.ndarray     # (n_obs,) weighted log residuals at the optimum
    simulated: np.ndarray     # (n_obs,) model values at the observations, at the optimum
    jac: np.ndarray           # (n_obs, P) d residual / d parameter (parameter units)
    s2: float
    dof: int
    cond: float
    success: bool
    message: str
    nfev: int

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"initial": self.x0, "estimate": self.x, "se": self.se,
                             "ci_low": self.ci_low, "ci_high": self.ci_high, "min": self.lower,
                             "max": self.upper, "constrained": self.constrained,
                             "warning": self.warnings},
                            index=pd.Index(self.ids, name="assumption"))


class Objective:
    """Residuals in the rescaled box z in [0, 1]^P, with cached batch evaluations."""

    def __init__(self, simulate: Simulate, obs: pd.DataFrame, ids, lower, upper):
        self.simulate, self.obs, self.ids = simulate, obs, list(ids)
        self.lower, self.span = lower, upper - lower
        self.logobs = np.log(obs["value"].to_numpy(float))
        self.w = obs["weight"].to_numpy(float)
        self._cache: dict[bytes, np.ndarray] = {}
        self.nfev = 0

    def x_of(self, z: np.ndarray) -> np.ndarray:
        return self.lower + self.span * np.asarray(z, float)

    def batch(self, Z: np.ndarray) -> np.ndarray:
        """Simulated values at the observations for rows of ``Z`` (S, P) -> (S, n_obs)."""
        X = self.x_of(np.atleast_2d(Z))
        ds = self.simulate({k: X[:, j].copy() for j, k in enumerate(self.ids)})
        self.nfev += X.shape[0]
        return simulated_at(ds, self.obs)

    def residual_rows(self, sim: np.ndarray) -> np.ndarray:
        return self.w * (np.log(np.maximum(sim, LOG_FLOOR)) - self.logobs)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        key = np.asarray(z, float).tobytes()
        if key not in self._cache:
            self._cache = {key: self.residual_rows(self.batch(z)[0])}
        return self._cache[key]

    def jac(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, float)
        f0 = self(z)
        h = np.where(z + FD_STEP <= 1.0, FD_STEP, -FD_STEP)
        Z = z[None, :] + np.diag(h)
        F = self.residual_rows(self.batch(Z))
        return ((F - f0[None, :]) / h[:, None]).T


def fit(simulate: Simulate, obs: pd.DataFrame, ids: Sequence[str], x0, lower, upper, *,
        ci_level: float = 0.95, max_nfev: int = 200, starts: int = 1,
        seed: int = 0) -> FitResult:
    """Estimate ``ids`` (bounds ``lower``/``upper``, start ``x0``) against ``obs``.

    ``simulate`` maps ``{id: array (S,)}`` to a Dataset with dims ``(sample, time)`` holding
    every variable named in ``obs["variable"]``. With ``starts > 1`` the search also starts
    from ``starts - 1`` points drawn uniformly (``seed``) inside the box, and the lowest
    objective wins (a guard against local minima).
    """
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    x0 = np.clip(np.asarray(x0, float), lower, upper)
    if np.any(upper <= lower):
        bad = [i for i, lo, hi in zip(ids, lower, upper, strict=True) if hi <= lo]
        raise CalibrationError(f"calibration: assumptions {bad} have no range (min >= max)")
    if len(obs) == 0:
        raise CalibrationError("calibration: no observation to fit")
    f = Objective(simulate, obs, ids, lower, upper)
    rng = np.random.default_rng(seed)
    z0s = [(x0 - lower) / (upper - lower),
           *rng.uniform(0.05, 0.95, size=(max(starts, 1) - 1, len(ids)))]
    res = None
    for z0 in z0s:
        trial = optimize.least_squares(f, z0, jac=f.jac, bounds=(0, 1), method="trf",
                                       x_scale="jac", ftol=1e-10, xtol=1e-10, gtol=1e-10,
                                       max_nfev=max_nfev)
        if res is None or trial.cost < res.cost - 1e-12:
            res = trial
    z = np.clip(res.x, 0.0, 1.0)
    r = f(z)
    jz = f.jac(z)
    sim = np.exp(r / f.w + f.logobs)
    return _summarize(list(ids), f.x_of(z), x0, lower, upper, z, r, jz, sim, ci_level,
                      bool(res.success), str(res.message), f.nfev)


def _summarize(ids, x, x0, lower, upper, z, r, jz, sim, ci_level, success, message, nfev
               ) -> FitResult:
    n, p = jz.shape
    span = upper - lower
    dof = n - p
    cost = float(r @ r)
    s2 = cost / dof if dof > 0 else float("nan")
    A = jz.T @ jz
    eig, vec = np.linalg.eigh(A)
    top = float(eig.max()) if eig.size else 0.0
    cond = float(top / eig.min()) if eig.size and eig.min() > 0 else float("inf")
    null = eig <= NULL_EIG_RTOL * max(top, 1e-300)
    loads_null = (np.abs(vec[:, null]) > NULL_LOADING).any(axis=1) if null.any() else \
        np.zeros(p, bool)
    cov_z = s2 * np.linalg.pinv(A, rcond=NULL_EIG_RTOL, hermitian=True)
    se = np.sqrt(np.clip(np.diag(cov_z), 0, None)) * span
    se[loads_null] = np.inf
    q = float(stats.t.ppf(0.5 + ci_level / 2, dof)) if dof > 0 else float("nan")
    ci_low, ci_high = x - q * se, x + q * se
    warnings, ok = [], np.ones(p, bool)
    for j in range(p):
        why = []
        if dof <= 0:
            why.append(f"fewer observations ({n}) than estimated parameters ({p})")
        if loads_null[j]:
            why.append("not identified: near-singular JᵀJ (the data cannot separate it from "
                       "other parameters, or do not respond to it)")
        if z[j] <= BOUND_TOL or z[j] >= 1 - BOUND_TOL:
            why.append(f"estimate at the bound [{lower[j]:g}, {upper[j]:g}]")
        if np.isfinite(se[j]) and ci_high[j] - ci_low[j] > span[j]:
            why.append("interval wider than the allowed range")
        if not np.all(np.isfinite([ci_low[j], ci_high[j]])) and not why:
            why.append("no finite interval")
        ok[j] = not why
        warnings.append("; ".join(why))
    return FitResult(ids, x, x0, lower, upper, se, ci_low, ci_high, ok, warnings, cost, r, sim,
                     jz / span[None, :], s2, dof, cond, success, message, nfev)


# -- the real model -----------------------------------------------------------------------------
@dataclass
class Calibration:
    """A finished calibration of the model: settings, data, estimates and fit per series."""

    settings: Settings
    result: FitResult
    observations: pd.DataFrame     # fitted rows, with ``simulated`` (calibrated) and ``initial``
    skipped: pd.DataFrame          # history rows not fitted, with the reason
    statistics: pd.DataFrame       # per indicator, calibrated model (FitStats columns)
    statistics_initial: pd.DataFrame   # per indicator, with the .mdl values
    data_hash: str
    data_file: Path
    scenario: str
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    simulate: Simulate | None = None   # {id: array (S,)} -> Dataset: the fitted model, for
                                       # the hindcast and the profiles (not saved)

    @property
    def statistics_by_status(self) -> pd.DataFrame:
        """Calibrated fit per (status, indicator): sourced rows apart from implied points."""
        return status_statistics(self.observations, self.observations["simulated"])


def data_hash(path: Path | str) -> str:
    """sha256 (hex) of the file's bytes."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def calibrate(settings: Settings | None = None, *, simulator=None,
              history_path: Path | str | None = None,
              say: Callable[[str], None] | None = None) -> Calibration:
    """Fit the settings' assumptions of the model to the history (baseline scenario)."""
    from sim.model.history import load_history
    from sim.scenarios import load_scenario
    from sim.simulate import Simulator

    say = say or (lambda _m: None)
    settings = settings or load_settings()
    sim = simulator or Simulator("batch", use_calibration=False)
    params = sim.parameters
    unknown = [a for a in settings.estimate if a not in params.assumptions]
    if unknown:
        raise CalibrationError(f"{settings.source}: estimate: {unknown} not declared as "
                               f"assumptions in {params.source}; declared: "
                               f"{sorted(params.assumptions)}")
    history_path = Path(history_path or paths.HISTORY_FILE)
    history = load_history(history_path)
    scenario = load_scenario(settings.scenario)
    years = sim.row_years()
    obs, skipped = observations(history, settings, list(sim.info.index), years)
    if obs.empty:
        raise CalibrationError(f"{history_path}: no row matches a model variable")
    cols = sorted(set(obs["variable"]))
    ass = [params.assumptions[a] for a in settings.estimate]
    x0 = np.array([sim.constant_default(a.py_name) for a in ass])
    say(f"fitting {len(ass)} assumptions to {len(obs)} observations of "
        f"{obs['indicator'].nunique()} series ({len(skipped)} rows not used)")

    def simulate(values: Mapping[str, np.ndarray]) -> xr.Dataset:
        return sim.run(scenario, assumptions=dict(values), return_columns=cols)

    result = fit(simulate, obs, settings.estimate, x0, [a.min for a in ass],
                 [a.max for a in ass], ci_level=settings.ci_level, max_nfev=settings.max_nfev,
                 starts=settings.starts, seed=settings.seed)
    say(f"fit: {result.message.rstrip('.')}; {result.nfev} runs, weighted SSR "
        f"{result.cost:.4g}")
    initial = simulated_at(simulate({k: np.array([v]) for k, v in zip(
        settings.estimate, result.x0, strict=True)}), obs)[0]
    obs = obs.assign(initial=initial, simulated=result.simulated)
    return Calibration(settings, result, obs, skipped, series_statistics(obs, result.simulated),
                       series_statistics(obs, initial), data_hash(history_path), history_path,
                       scenario.id, {a.id: a.label for a in ass}, simulate)


def _num(v: float, digits: int = 6):
    v = float(v)
    if not np.isfinite(v):
        return None
    return float(f"{v:.{digits}g}")


def calibration_document(cal: Calibration, date: str) -> dict:
    """The content of ``model/calibration.yaml`` (see :mod:`sim.model.calibrated`)."""
    r = cal.result
    estimates = {}
    for j, aid in enumerate(r.ids):
        estimates[aid] = {"value": float(r.x[j]), "ci_low": _num(r.ci_low[j]),
                          "ci_high": _num(r.ci_high[j]), "se": _num(r.se[j]),
                          "constrained": bool(r.constrained[j]), "initial": _num(r.x0[j]),
                          "min": float(r.lower[j]), "max": float(r.upper[j])}
        if r.warnings[j]:
            estimates[aid]["warning"] = r.warnings[j]
    fit_rows = {ind: {k: (int(v) if k == "n" else _num(v, 5)) for k, v in row.items()}
                for ind, row in cal.statistics.to_dict("index").items()}
    try:
        data_file = str(cal.data_file.resolve().relative_to(paths.ROOT))
    except ValueError:
        data_file = str(cal.data_file)
    return {
        "date": date,
        "data_file": data_file,
        "data_hash": cal.data_hash,
        "scenario": cal.scenario,
        "objective": {
            "form": "sum_i (w_i * (ln simulated_i - ln observed_i))^2",
            "value": _num(r.cost),
            "weights": dict(cal.settings.weights),
            "breaks": [{"indicator": b.indicator, "before": b.before, "variable": b.variable}
                       for b in cal.settings.breaks],
            "n_observations": len(cal.observations),
            "n_parameters": len(r.ids),
            "dof": int(r.dof),
            "s2": _num(r.s2),
            "condition_number": _num(r.cond, 4),
            "ci_level": cal.settings.ci_level,
            "converged": r.success,
            "message": r.message,
            "runs": int(r.nfev),
            "starts": cal.settings.starts,
            "seed": cal.settings.seed,
        },
        "estimates": estimates,
        "fit": fit_rows,
    }
