"""The likelihood of the history: which rows are compared with which model value, and how.

Each history row (:func:`sim.model.declarations.history.load_history`) goes to one of three tables:

- **fitted** (in the likelihood), by status:
  ``sourced`` a point, ``ln observed ~ Normal(ln simulated, sd)``;
  ``lower_bound`` one-sided, ``log Phi((ln simulated - ln bound) / sd)``: no penalty above the
  bound, a growing one below;
  with ``sd = sqrt(observation_sd[status]^2 + discrepancy_sd^2)`` (declared, with reasons, in
  ``model/calibration-settings.yaml``);
- **checks** (``implied``: the 2023 bases implied by the plan's doubling targets): out of the
  likelihood, reported apart as a weak check of the posterior;
- **skipped** (every other status, indicators the model does not have, excluded rows), with the
  reason.

Where a row is compared (``at``):

- ``row``: the model's calendar row of the year (a stock at the end of the year, a flow over the
  year); a row without ``as_of``, a lower bound stated as of a date on a flow (a part-year
  total is a lower bound on the year's flow), or on an *annual registry* (``tech_smes``: the
  registry is re-evaluated each year, so a count so far is a lower bound on that year's count);
- ``instant``: a level (a stock, or any variable whose unit is not per year) stated as of a date
  is compared with the model on that date, interpolated linearly between the end of the year
  before (row ``year - 1``) and the end of the year (row ``year``);
- a ``sourced`` flow with an ``as_of`` before 31 December is an error in the data (it must be a
  lower bound): the row is skipped with that reason.
Rows of an indicator with a statistical break (the 2018 R&D census) before the break year are
compared with the old-basis variable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis.estimation.calibration_settings import Settings
from sim.model.declarations.history import FITTED_STATUSES
from sim.model.declarations.parameters import python_name

LOG_FLOOR = 1e-12   # simulated values at or below zero are compared as this (log undefined)
OBS_COLUMNS = ["indicator", "year", "value", "unit", "status", "as_of", "source", "time",
               "variable", "at", "sd"]


def is_rate(units: str) -> bool:
    """Whether a variable with these units is a rate (reported as the year's total)."""
    return "/year" in str(units).lower().replace(" ", "")


def observations(history: pd.DataFrame, settings: Settings, units: Mapping[str, str],
                 years: tuple[float, float]
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(fitted, checks, skipped)`` tables of the history rows (see the module docstring).

    ``units``: model variable -> units (``Simulator.info["units"]``); ``years``: the first and
    last calendar row of a run. ``fitted`` and ``checks`` have :data:`OBS_COLUMNS`; ``skipped``
    has the history columns and ``reason``.
    """
    fitted, checks, skipped = [], [], []
    disc2 = settings.discrepancy_sd ** 2
    for row in history.to_dict("records"):
        ind, year, status = str(row["indicator"]), int(row["year"]), str(row["status"])
        var = settings.variables.get(ind, ind)
        for b in settings.breaks:
            if ind == b.indicator and year < b.before:
                var = b.variable
        if var not in units:
            var = python_name(var)
        at = "row"
        if row["as_of"] is not None and row["time"] < year + 1 - 1e-9:
            if status == "lower_bound" and (is_rate(units.get(var, "")) or
                                            ind in settings.annual_registries):
                at = "row"
            elif var in units and is_rate(units[var]):
                at = "error"
            else:
                at = "instant"
        first = years[0] + (1 if at == "instant" else 0)
        reason = None
        if status not in (*FITTED_STATUSES, "implied"):
            reason = f"status {status}: never fitted"
        elif ind in settings.exclude:
            reason = f"excluded: {settings.exclude[ind]}"
        elif (ind, year) in settings.exclude_rows:
            reason = f"excluded: {settings.exclude_rows[(ind, year)]}"
        elif var not in units:
            reason = "not a model variable"
        elif at == "error":
            reason = ("a part-year total of a flow (as_of before 31 December) with status "
                      "sourced: it must be a lower_bound on the year")
        elif not first - 1e-9 <= year <= years[1] + 1e-9:
            reason = f"outside the simulated years {first:g}-{years[1]:g}"
        elif not np.isfinite(row["value"]) or row["value"] <= 0:
            reason = "value not positive (log undefined)"
        out = {k: row.get(k) for k in ("indicator", "year", "value", "unit", "status", "as_of",
                                       "source", "time")}
        if reason:
            skipped.append({**out, "reason": reason})
            continue
        sd = float(np.sqrt(settings.observation_sd.get(status, settings.observation_sd[
            "sourced"]) ** 2 + disc2))
        (checks if status == "implied" else fitted).append(
            {**out, "variable": var, "at": at, "sd": sd})
    cols = [c for c in OBS_COLUMNS if c not in ("variable", "at", "sd")]
    return (pd.DataFrame(fitted, columns=OBS_COLUMNS), pd.DataFrame(checks, columns=OBS_COLUMNS),
            pd.DataFrame(skipped, columns=[*cols, "reason"]))


def simulated_at(ds: xr.Dataset, obs: pd.DataFrame) -> np.ndarray:
    """Model values at the observations, shape ``(sample, n_obs)`` (``at`` and ``time`` as in
    the module docstring)."""
    cols = []
    cache: dict[str, np.ndarray] = {}
    times = np.asarray(ds["time"].values, float)
    for var, year, at, t in zip(obs["variable"], obs["year"], obs["at"], obs["time"],
                                strict=True):
        if var not in cache:
            cache[var] = np.asarray(ds[var].values, float).reshape(-1, times.size)
        values = cache[var]
        k = int(np.argmin(np.abs(times - year)))
        if at == "instant":
            f = float(t) - year
            cols.append((1 - f) * values[:, k - 1] + f * values[:, k])
        else:
            cols.append(values[:, k])
    if not cols:
        return np.zeros((ds.sizes.get("sample", 1), 0))
    return np.stack(cols, axis=-1)


def log_likelihood_rows(simulated: np.ndarray, obs: pd.DataFrame) -> np.ndarray:
    """Log-likelihood of each observation, array ``(sample, n_obs)``; a non-finite or
    non-positive simulated value gives ``-inf``."""
    from scipy import special  # here, not at import: 0.2 s that a read-back posterior skips

    sim = np.atleast_2d(np.asarray(simulated, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(np.maximum(sim, LOG_FLOOR)) - np.log(obs["value"].to_numpy(float))) \
            / obs["sd"].to_numpy(float)
    point = -0.5 * z ** 2 - np.log(obs["sd"].to_numpy(float) * np.sqrt(2 * np.pi))
    lower = special.log_ndtr(z)
    out = np.where((obs["status"] == "lower_bound").to_numpy()[None, :], lower, point)
    return np.where(np.isfinite(sim) & (sim > 0) & np.isfinite(out), out, -np.inf)


def log_likelihood(simulated: np.ndarray, obs: pd.DataFrame) -> np.ndarray:
    """Total log-likelihood per sample, array ``(sample,)``."""
    return log_likelihood_rows(simulated, obs).sum(axis=1)


def compared_variables(*tables: pd.DataFrame) -> list[str]:
    """Model variables the tables compare (all a history run must return)."""
    return sorted(set().union(*(set(t["variable"]) for t in tables)))


def history_end(*tables: pd.DataFrame) -> float:
    """The end of the last compared year: a run to this time gives every compared value."""
    years = [int(t["year"].max()) for t in tables if len(t)]
    return float(max(years)) + 1.0


def z_scores(simulated: np.ndarray, obs: pd.DataFrame) -> np.ndarray:
    """``(ln simulated - ln observed) / sd`` per sample and row."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.log(np.maximum(np.atleast_2d(simulated), LOG_FLOOR))
                - np.log(obs["value"].to_numpy(float))) / obs["sd"].to_numpy(float)


def summarise_fit(obs: pd.DataFrame, simulated: np.ndarray,
                  q: Sequence[float] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
    """Per row: observed, status, the posterior predictive percentiles of the model value, the
    median's log error and (lower bounds) the share of draws at or above the bound."""
    sim = np.atleast_2d(simulated)
    pct = np.quantile(sim, q, axis=0)
    out = obs[["indicator", "year", "as_of", "status", "value", "variable", "at", "sd"]].copy()
    for k, qq in enumerate(q):
        out[f"P{round(qq * 100)}"] = pct[k]
    med = np.median(sim, axis=0)
    out["error_pct"] = 100 * (med / out["value"].to_numpy(float) - 1)
    out["share_above"] = (sim >= out["value"].to_numpy(float)[None, :]).mean(axis=0)
    z = z_scores(sim, obs)
    out["within_2sd"] = np.where(out["status"] == "lower_bound", (z >= -2).mean(axis=0),
                                 (np.abs(z) <= 2).mean(axis=0))
    return out.reset_index(drop=True)
