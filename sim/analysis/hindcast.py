"""Hindcast skill: fit on the history up to a year, forecast the years after, score the errors.

:func:`hindcast` takes a finished :class:`~sim.analysis.calibration.Calibration` (its fitted
rows, settings and model) and

1. keeps the fitted rows up to ``until`` (default ``hindcast.fit_until`` of the settings) as the
   training set;
2. estimates the same assumptions on them, with the same weights, bounds, starts and seed. An
   assumption the training rows do not respond to (its column of the Jacobian at the ``.mdl``
   values is zero) cannot be estimated from them and stays at its ``.mdl`` value, as it would
   have in ``until``; it is listed in ``Hindcast.fixed``;
3. runs the model with those estimates and compares it with the rows of the forecast years
   (``hindcast.forecast``), beside the full fit's values at the same rows.

Errors are ``100 * (model - observed) / observed`` per row; per series the forecast MAPE and
bias (mean signed error) and the full fit's MAPE on the same rows. Implied points (the bases the
plan's doubling targets imply) are kept apart from sourced figures (``status``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis.calibration import Calibration, FitResult, Objective, fit, simulated_at
from sim.errors import CalibrationError

SENSITIVITY_FLOOR = 1e-10   # |d residual / d z| below this everywhere = the rows do not respond


@dataclass
class Hindcast:
    """A hindcast: ``result`` the fit on rows up to ``until``; ``fixed`` the estimated
    assumptions the training rows do not inform (held at their ``.mdl`` values); ``values``
    all estimated assumptions as used for the forecast; ``rows`` one row per forecast
    observation; ``statistics`` one row per series."""

    until: int
    window: tuple[int, int]
    n_train: int
    result: FitResult | None
    fixed: list[str]
    values: dict[str, float]
    rows: pd.DataFrame
    statistics: pd.DataFrame


def _informed(simulate, obs, ids, x0, lower, upper) -> np.ndarray:
    """Per assumption: whether the rows respond to it at ``x0`` (bool array (P,))."""
    f = Objective(simulate, obs, ids, lower, upper)
    z0 = (np.asarray(x0, float) - lower) / (upper - lower)
    jac = f.jac(z0)
    return np.abs(jac).max(axis=0) > SENSITIVITY_FLOOR


def hindcast(cal: Calibration, until: int | None = None,
             window: tuple[int, int] | None = None) -> Hindcast:
    """Fit ``cal``'s assumptions on its rows up to ``until`` and forecast ``window``."""
    s = cal.settings
    until = until if until is not None else s.hindcast_until
    window = window if window is not None else s.forecast_years
    if until is None or window is None:
        raise CalibrationError(f"{s.source}: hindcast: needs fit_until and forecast years")
    if cal.simulate is None:
        raise CalibrationError("hindcast: the calibration carries no model to run")
    obs = cal.observations
    train = obs[obs["year"] <= until].reset_index(drop=True)
    test = obs[(obs["year"] >= window[0]) & (obs["year"] <= window[1])].reset_index(drop=True)
    if train.empty or test.empty:
        raise CalibrationError(f"{s.source}: hindcast: no fitted row up to {until} or none in "
                               f"{window[0]}-{window[1]}")
    r = cal.result
    ids, x0, lower, upper = list(r.ids), r.x0, r.lower, r.upper
    informed = _informed(cal.simulate, train, ids, x0, lower, upper)
    fixed = [a for a, ok in zip(ids, informed, strict=True) if not ok]
    held = {a: float(v) for a, v, ok in zip(ids, x0, informed, strict=True) if not ok}

    def simulate(values: Mapping[str, np.ndarray]) -> xr.Dataset:
        n = len(next(iter(values.values()))) if values else 1
        return cal.simulate({**{k: np.full(n, v) for k, v in held.items()}, **values})

    result = None
    values = dict(held)
    if informed.any():
        sel = np.nonzero(informed)[0]
        result = fit(simulate, train, [ids[j] for j in sel], x0[sel], lower[sel], upper[sel],
                     ci_level=s.ci_level, max_nfev=s.max_nfev, starts=s.starts, seed=s.seed)
        values.update({a: float(v) for a, v in zip(result.ids, result.x, strict=True)})
    ds = cal.simulate({a: np.array([values[a]]) for a in ids})
    forecast = simulated_at(ds, test)[0]
    observed = test["value"].to_numpy(float)
    rows = test[["indicator", "year", "status", "variable", "value"]].assign(
        forecast=forecast, full_fit=test["simulated"].to_numpy(float),
        error_pct=100 * (forecast - observed) / observed,
        full_fit_error_pct=100 * (test["simulated"].to_numpy(float) - observed) / observed)
    return Hindcast(until, tuple(window), len(train), result, fixed, values, rows,
                    series_errors(rows, train))


def series_errors(rows: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    """Per series (and status): rows fitted before the cut, rows forecast, the forecast's MAPE
    and bias (percent) and the full fit's MAPE on the same rows."""
    out = []
    n_train = train.groupby("indicator").size()
    for (ind, status), g in rows.groupby(["indicator", "status"], sort=False):
        out.append({"indicator": ind, "status": status, "n_fit": int(n_train.get(ind, 0)),
                    "n_forecast": len(g),
                    "forecast_mape": float(np.mean(np.abs(g["error_pct"]))),
                    "forecast_bias": float(np.mean(g["error_pct"])),
                    "full_fit_mape": float(np.mean(np.abs(g["full_fit_error_pct"])))})
    cols = ["indicator", "status", "n_fit", "n_forecast", "forecast_mape", "forecast_bias",
            "full_fit_mape"]
    return pd.DataFrame(out, columns=cols).set_index(["indicator", "status"])


def hindcast_document(h: Hindcast) -> dict:
    """A summary for ``model/calibration.yaml``: the cut, what stayed fixed, errors per series."""
    def num(v):
        return float(f"{v:.5g}") if np.isfinite(v) else None

    return {
        "fit_until": h.until, "forecast": list(h.window), "n_fit_rows": h.n_train,
        "held_at_mdl_value": list(h.fixed),
        "estimates": {k: num(v) for k, v in h.values.items()},
        "errors": {f"{ind} ({status})": {"n_forecast": int(row["n_forecast"]),
                                         "forecast_mape": num(row["forecast_mape"]),
                                         "forecast_bias": num(row["forecast_bias"]),
                                         "full_fit_mape": num(row["full_fit_mape"])}
                   for (ind, status), row in h.statistics.iterrows()},
    }
