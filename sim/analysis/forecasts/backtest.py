"""Rolling-origin backtest: estimate on the history up to each origin, forecast what came after.

For each origin ``Y`` (:func:`backtest`):

1. the estimator sees only the history rows with ``year <= Y`` (``estimate(observations, *,
   seed) -> Posterior``, the API of :func:`sim.analysis.estimation.posterior.estimate`; any callable with
   that signature plugs in: :mod:`sim.analysis.forecasts.backtest_model` wraps the posterior);
2. ``N`` draws of its posterior (``Posterior.sample(N, seed)``) are run through the model up to
   the last observed year (``forecast(draws, variables, final_time)``);
3. every *scored row* after ``Y`` is compared with the ensemble: ``central`` = the ensemble's
   median, ``P5``/``P95`` its percentiles, ``error_pct = 100 (central - value) / value``,
   ``inside_90 = P5 <= value <= P95``; ``horizon = year - Y``.

Scored rows: ``sourced`` rows (points; a stock stated as of a date is compared on that date)
of indicators the model has (the ``compare`` callable maps each to the model variable, the
``at`` and the ``time`` it is compared with, as the likelihood does, e.g. the R&D census
break), ``year > Y``. ``lower_bound`` rows after ``Y`` go to
:attr:`Backtest.bounds` with the share of the ensemble at or above the bound (``met_share``).

The naive forecast (:func:`naive_forecast`) carries the indicator's last observed value at or
before ``Y`` forward at its historical growth rate: the log-linear rate between its last two
sourced observations up to ``Y`` (zero growth with only one; none without any), in model time
(``time``: the end of the year, or the ``as_of`` date). Its error is
``naive_error_pct``, on the same scale as ``error_pct``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import xarray as xr

from sim.errors import ForecastError

COLUMNS = ("origin", "indicator", "year", "horizon", "value", "central", "P5", "P95",
           "error_pct", "naive_error_pct", "inside_90")
BOUND_COLUMNS = ("origin", "indicator", "year", "as_of", "bound", "P5", "central", "met_share")
SUMMARY_COLUMNS = ("horizon", "rows", "model_mape", "naive_rows", "naive_mape", "coverage_90")
ORIGIN_COLUMNS = ("origin", "history_rows", "likelihood_rows", "scored_rows", "bound_rows",
                  "posterior_draws", "converged")
ALL = "all"          # the summary row over every horizon


class Posterior(Protocol):
    """What the backtest needs of an estimate (:mod:`sim.analysis.estimation.posterior`)."""

    draws: pd.DataFrame
    origin: int

    def sample(self, n: int, seed: int) -> pd.DataFrame: ...


#: ``estimate(observations, *, seed) -> Posterior``
Estimate = Callable[..., Posterior]
#: ``forecast(draws, variables, final_time) -> Dataset (sample, time)`` of ``variables``
Forecast = Callable[[pd.DataFrame, Sequence[str], float], xr.Dataset]
#: ``compare(rows) -> rows the model has, with column ``variable`` (the variable compared)``
Compare = Callable[[pd.DataFrame], pd.DataFrame]


@dataclass
class Backtest:
    """``rows``: one row per scored row and origin (:data:`COLUMNS`); ``bounds``: one per
    lower-bound row and origin (:data:`BOUND_COLUMNS`); ``per_origin``: what each origin's
    estimate saw and gave (:data:`ORIGIN_COLUMNS`: the history rows up to the origin, those
    in the likelihood (``Posterior.fitted``, if given), the rows scored after it, the draws the
    estimator kept and its own verdict ``info["converged"]``, if it gives one)."""

    rows: pd.DataFrame
    bounds: pd.DataFrame
    per_origin: pd.DataFrame
    origins: list[int]
    samples: int
    seed: int
    estimator: str

    def by_horizon(self) -> pd.DataFrame:
        return by_horizon(self.rows)


def _as_of(history: pd.DataFrame) -> pd.Series:
    if "as_of" not in history.columns:
        return pd.Series("", index=history.index)
    return history["as_of"].fillna("").astype(str).str.strip()


def _time(rows: pd.DataFrame) -> np.ndarray:
    """Model time of each row: column ``time``, else the end of the year."""
    if "time" in rows.columns:
        return rows["time"].to_numpy(float)
    return rows["year"].to_numpy(float) + 1.0


def point_rows(history: pd.DataFrame) -> pd.DataFrame:
    """``sourced`` rows: outturns (for the year, or a level as of a date)."""
    return history[history["status"] == "sourced"].reset_index(drop=True)


def bound_rows(history: pd.DataFrame) -> pd.DataFrame:
    """``lower_bound`` rows, with their ``as_of`` date (empty if none)."""
    out = history[history["status"] == "lower_bound"]
    return out.assign(as_of=_as_of(out)).reset_index(drop=True)


def naive_forecast(points: pd.DataFrame, indicator: str, origin: int,
                   times: Sequence[float] | np.ndarray) -> np.ndarray:
    """The indicator's last value at or before ``origin`` carried to model ``times`` at the
    log-linear growth rate of its last two values up to ``origin`` (zero with one; NaN with
    none). Rows are placed at their model time (:func:`_time`)."""
    times = np.asarray(times, dtype=float)
    own = points[(points["indicator"] == indicator) & (points["year"] <= origin)
                 & (points["value"] > 0)]
    order = np.argsort(_time(own), kind="stable")
    t, v = _time(own)[order], own["value"].to_numpy(float)[order]
    if not len(t):
        return np.full(times.shape, np.nan)
    rate = np.log(v[-1] / v[-2]) / (t[-1] - t[-2]) if len(t) >= 2 and t[-1] > t[-2] else 0.0
    return v[-1] * np.exp(rate * (times - t[-1]))


def _at(ds: xr.Dataset, rows: pd.DataFrame) -> np.ndarray:
    """Ensemble values at ``rows`` (columns ``variable``, ``year``, ``at``, ``time``):
    array (sample, rows)."""
    # lazy: pulls yaml (41 ms)
    from sim.analysis.estimation.likelihood import simulated_at

    return simulated_at(ds, rows) if len(rows) else np.zeros((ds.sizes.get("sample", 1), 0))


def check_origins(origins: Sequence[int], scored: pd.DataFrame) -> list[int]:
    """The origins, each with at least one scored row after it; else :class:`ForecastError`."""
    origins = sorted({int(o) for o in origins})
    if not origins:
        raise ForecastError("backtest: --origins is empty; allowed: years such as 2017..2022")
    last = int(scored["year"].max()) if len(scored) else None
    if last is None:
        raise ForecastError("backtest: model/data/history.csv has no sourced row of a model "
                            "variable to score")
    late = [o for o in origins if o >= last]
    if late:
        raise ForecastError(f"backtest: origin {late[0]} has no scored row after it; allowed: "
                            f"origins before {last}, the last year with a sourced figure")
    return origins


def backtest(history: pd.DataFrame, origins: Sequence[int], *, estimate: Estimate,
             forecast: Forecast, compare: Compare, samples: int, seed: int,
             say: Callable[[str], None] | None = None, estimator: str = "") -> Backtest:
    """The rolling-origin backtest of ``estimate`` on ``history`` (see the module doc)."""
    say = say or (lambda _m: None)
    points = point_rows(history)
    scored = compare(points)
    bounds = compare(bound_rows(history))
    origins = check_origins(origins, scored)
    final_time = float(scored["year"].max()) + 1.0     # calendar row Y covers [Y, Y+1)
    rows, brows, info = [], [], []
    for origin in origins:
        train = history[history["year"] <= origin].reset_index(drop=True)
        test = scored[scored["year"] > origin].reset_index(drop=True)
        btest = bounds[(bounds["year"] > origin)
                       & (bounds["year"] < final_time)].reset_index(drop=True)
        say(f"origin {origin}: estimating on {len(train)} rows up to {origin}, scoring "
            f"{len(test)} rows after it")
        posterior = estimate(train, seed=seed)
        draws = posterior.sample(samples, seed)
        fitted = getattr(posterior, "fitted", None)
        info.append((origin, len(train), None if fitted is None else len(fitted), len(test),
                     len(btest), len(posterior.draws),
                     (getattr(posterior, "info", None) or {}).get("converged")))
        variables = sorted(set(test["variable"]) | set(btest["variable"]))
        ds = forecast(draws, variables, final_time)
        rows.append(_score(origin, test, _at(ds, test), points))
        brows.append(_bounds(origin, btest, _at(ds, btest)))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=COLUMNS)
    bout = pd.concat(brows, ignore_index=True) if brows else pd.DataFrame(columns=BOUND_COLUMNS)
    per_origin = pd.DataFrame(info, columns=list(ORIGIN_COLUMNS))
    return Backtest(out, bout, per_origin, origins, samples, seed, estimator)


def _score(origin: int, test: pd.DataFrame, sim: np.ndarray, points: pd.DataFrame
           ) -> pd.DataFrame:
    value = test["value"].to_numpy(float)
    with np.errstate(all="ignore"):
        central = np.nanmedian(sim, axis=0)
        p5, p95 = np.nanpercentile(sim, [5, 95], axis=0)
    naive = np.full(len(test), np.nan)
    for ind, idx in test.groupby("indicator").indices.items():
        naive[idx] = naive_forecast(points, str(ind), origin, _time(test)[idx])
    df = pd.DataFrame({
        "origin": origin, "indicator": test["indicator"].astype(str),
        "year": test["year"].astype(int), "horizon": test["year"].astype(int) - origin,
        "value": value, "central": central, "P5": p5, "P95": p95,
        "error_pct": 100 * (central - value) / value,
        "naive_error_pct": 100 * (naive - value) / value,
        "inside_90": (p5 <= value) & (value <= p95)}, columns=list(COLUMNS))
    return df.astype({"origin": int, "inside_90": bool})


def _bounds(origin: int, test: pd.DataFrame, sim: np.ndarray) -> pd.DataFrame:
    bound = test["value"].to_numpy(float)
    finite = np.isfinite(sim)
    with np.errstate(all="ignore"):
        met = (np.where(finite, sim, -np.inf) >= bound[None, :]).sum(axis=0) / finite.sum(axis=0)
        central = np.nanmedian(sim, axis=0)
        p5 = np.nanpercentile(sim, 5, axis=0)
    return pd.DataFrame({"origin": origin, "indicator": test["indicator"].astype(str),
                         "year": test["year"].astype(int), "as_of": _as_of(test),
                         "bound": bound, "P5": p5, "central": central, "met_share": met},
                        columns=list(BOUND_COLUMNS))


def by_horizon(rows: pd.DataFrame) -> pd.DataFrame:
    """Per horizon (and :data:`ALL`): scored rows, model MAPE (%), rows with a naive forecast,
    naive MAPE (%) on those rows, share of values inside the 90% band."""
    def line(key, g: pd.DataFrame) -> dict:
        naive = g["naive_error_pct"].dropna()
        return {"horizon": key, "rows": len(g),
                "model_mape": float(np.mean(np.abs(g["error_pct"]))) if len(g) else np.nan,
                "naive_rows": len(naive),
                "naive_mape": float(np.mean(np.abs(naive))) if len(naive) else np.nan,
                "coverage_90": float(g["inside_90"].mean()) if len(g) else np.nan}

    out = [line(int(h), g) for h, g in rows.groupby("horizon", sort=True)]
    out.append(line(ALL, rows))
    return pd.DataFrame(out, columns=list(SUMMARY_COLUMNS))


def parse_origins(text: str) -> list[int]:
    """``"2017..2022"`` (a range, both ends included) or ``"2017,2019"`` -> years."""
    text = str(text).strip()
    try:
        if ".." in text:
            lo, hi = (int(p) for p in text.split("..", 1))
            years = list(range(lo, hi + 1))
        else:
            years = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        years = []
    if not years or any(not 1900 < y < 2200 for y in years):
        raise ForecastError(f"backtest: --origins {text!r} is not allowed; allowed: a range "
                            "FIRST..LAST (e.g. 2017..2022) or years separated by commas")
    return years
