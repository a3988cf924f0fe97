"""Goodness-of-fit statistics for behaviour reproduction (after Sterman 2000, *Business
Dynamics*, ch. 21): MAPE, R², mean square error and Theil's inequality statistics.

All functions take two 1-D arrays of the same shape ``(n,)``: ``observed`` (the data) and
``simulated`` (the model at the same times), in the same units. Statistics that need more
points than given (R² needs two points with spread) are NaN, never an error.

Theil's decomposition of the mean square error (population moments, ``ddof=0``)::

    MSE = (S̄ - Ā)² + (S_S - S_A)² + 2 (1 - r) S_S S_A
    U^M = (S̄ - Ā)² / MSE           bias (unequal means)
    U^S = (S_S - S_A)² / MSE        unequal variation (unequal standard deviations)
    U^C = 2 (1 - r) S_S S_A / MSE   unequal covariation (imperfect correlation)

with ``Ā, S̄`` the means, ``S_A, S_S`` the standard deviations and ``r`` the correlation of
data and simulation; ``U^M + U^S + U^C = 1`` whenever ``MSE > 0``. A small ``U^M`` and ``U^S``
with the error mostly in ``U^C`` means the model tracks the trend and leaves unsystematic noise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

STAT_NAMES = ("n", "mape", "r2", "mse", "rmse", "rmspe", "um", "us", "uc")


@dataclass(frozen=True)
class FitStats:
    """Fit of one series: ``n`` points; ``mape`` and ``rmspe`` in percent; ``r2`` the squared
    correlation (Sterman's R²); ``mse``/``rmse`` in the series' unit (squared for mse);
    ``um``/``us``/``uc`` the Theil fractions (dimensionless, summing to 1)."""

    n: int
    mape: float
    r2: float
    mse: float
    rmse: float
    rmspe: float
    um: float
    us: float
    uc: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _pair(observed, simulated) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(observed, dtype=float).ravel()
    s = np.asarray(simulated, dtype=float).ravel()
    if a.shape != s.shape:
        raise ValueError(f"observed has {a.size} points, simulated {s.size}: they must match")
    return a, s


def mape(observed, simulated) -> float:
    """Mean absolute percent error, ``100 * mean(|S - A| / |A|)`` (percent); NaN if empty."""
    a, s = _pair(observed, simulated)
    if a.size == 0:
        return float("nan")
    return float(100.0 * np.mean(np.abs(s - a) / np.abs(a)))


def rmspe(observed, simulated) -> float:
    """Root mean square percent error (percent)."""
    a, s = _pair(observed, simulated)
    if a.size == 0:
        return float("nan")
    return float(100.0 * np.sqrt(np.mean(((s - a) / a) ** 2)))


def r_squared(observed, simulated) -> float:
    """Squared correlation of data and simulation (Sterman's R², in [0, 1]); NaN with fewer
    than two points or when either series has no spread."""
    a, s = _pair(observed, simulated)
    if a.size < 2 or np.std(a) == 0 or np.std(s) == 0:
        return float("nan")
    r = np.corrcoef(a, s)[0, 1]
    return float(r * r)


def theil(observed, simulated) -> tuple[float, float, float, float]:
    """``(mse, um, us, uc)``: mean square error and Theil's inequality fractions.

    With zero error the fractions are NaN (nothing to decompose). With one point the whole error
    is bias (``um = 1``).
    """
    a, s = _pair(observed, simulated)
    if a.size == 0:
        return (float("nan"),) * 4
    mse = float(np.mean((s - a) ** 2))
    if mse == 0:
        return 0.0, float("nan"), float("nan"), float("nan")
    sa, ss = float(np.std(a)), float(np.std(s))
    r = float(np.corrcoef(a, s)[0, 1]) if sa > 0 and ss > 0 else 1.0
    um = (float(np.mean(s)) - float(np.mean(a))) ** 2 / mse
    us = (ss - sa) ** 2 / mse
    uc = 2.0 * (1.0 - r) * ss * sa / mse
    return mse, um, us, uc


def fit_stats(observed, simulated) -> FitStats:
    """Every statistic of :class:`FitStats` for one series."""
    a, s = _pair(observed, simulated)
    mse, um, us, uc = theil(a, s)
    return FitStats(n=int(a.size), mape=mape(a, s), r2=r_squared(a, s), mse=mse,
                    rmse=float(np.sqrt(mse)) if a.size else float("nan"), rmspe=rmspe(a, s),
                    um=um, us=us, uc=uc)
