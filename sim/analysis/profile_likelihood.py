"""Identifiability of the estimated assumptions by profile likelihood.

For each estimated assumption ``j``, :func:`profile_likelihood` fixes it at each point of a grid
over its declared range (plus the estimate), re-optimises all the other estimated assumptions
(warm-started from the neighbouring grid point, walking outward from the estimate) and records
the weighted sum of squares ``SSR_j(v)``. With ``s² = SSR / (n - p)`` at the optimum, the
profile deviance is

    D_j(v) = (SSR_j(v) - SSR) / s²

and the profile interval is the set of values with ``D_j(v) <= q``, ``q`` the chi-square(1)
quantile at the settings' ``ci_level`` (3.84 for 95%); its ends are interpolated linearly between
grid points. Unlike the linearised interval ``x ± t·se`` it follows the curvature of the model
and never leaves the declared range. A side on which ``D`` stays below ``q`` up to the bound is
open (the data do not bound the assumption there); when neither side closes, the profile is flat
within the declared range and the assumption is flagged ``not identified``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize, stats

from sim.analysis.calibration import Calibration, Objective
from sim.errors import CalibrationError

REFIT_NFEV = 60            # function evaluations per re-optimisation along a profile
IDENTIFIED = "identified"
ONE_SIDED = "bounded on one side only"
NOT_IDENTIFIED = "not identified"


@dataclass
class Profiles:
    """``table``: one row per assumption (estimate, profile and linearised intervals, declared
    range, status); ``curves``: long table ``assumption, value, ssr, deviance``."""

    threshold: float
    level: float
    table: pd.DataFrame
    curves: pd.DataFrame


class _Pinned:
    """The model with one assumption pinned at ``value``: ``{id: (S,)} -> Dataset``."""

    def __init__(self, simulate, aid: str):
        self.simulate, self.aid, self.value = simulate, aid, float("nan")

    def __call__(self, values: Mapping[str, np.ndarray]) -> xr.Dataset:
        n = len(next(iter(values.values()))) if values else 1
        return self.simulate({**values, self.aid: np.full(n, self.value)})


def _crossing(values: np.ndarray, dev: np.ndarray, q: float) -> float | None:
    """Walking outward along ``values`` (first = the estimate), the interpolated value where
    ``dev`` first exceeds ``q``; None if it never does."""
    for k in range(1, len(values)):
        if dev[k] > q:
            d0, d1 = dev[k - 1], dev[k]
            w = (q - d0) / (d1 - d0) if d1 != d0 else 1.0
            return float(values[k - 1] + min(max(w, 0.0), 1.0) * (values[k] - values[k - 1]))
    return None


def _refit(simulate, obs, ids, z0, lower, upper) -> tuple[float, np.ndarray]:
    """Minimum weighted SSR over ``ids`` (rescaled start ``z0``) and the minimiser (z)."""
    f = Objective(simulate, obs, ids, lower, upper)
    if not ids:
        r = f(np.zeros(0))
        return float(r @ r), np.zeros(0)
    res = optimize.least_squares(f, z0, jac=f.jac, bounds=(0, 1), method="trf", x_scale="jac",
                                 ftol=1e-9, xtol=1e-9, gtol=1e-9, max_nfev=REFIT_NFEV)
    z = np.clip(res.x, 0.0, 1.0)
    r = f(z)
    return float(r @ r), z


def profile_likelihood(cal: Calibration, points: int | None = None,
                       say=None) -> Profiles:
    """Profiles of every estimated assumption of ``cal`` on ``points`` grid values each."""
    s, r = cal.settings, cal.result
    points = points if points is not None else s.profile_points
    if not points or points < 2:
        raise CalibrationError(f"{s.source}: profile.points: {points!r}; needs >= 2")
    if cal.simulate is None:
        raise CalibrationError("profile: the calibration carries no model to run")
    if not np.isfinite(r.s2) or r.s2 <= 0:
        raise CalibrationError("profile: no residual variance (fewer observations than "
                               "parameters, or a perfect fit)")
    say = say or (lambda _m: None)
    q = float(stats.chi2.ppf(s.ci_level, 1))
    ids = list(r.ids)
    obs = cal.observations
    rows, curves = [], []
    for j, aid in enumerate(ids):
        others = [k for k in range(len(ids)) if k != j]
        o_ids = [ids[k] for k in others]
        lo, hi = r.lower[others], r.upper[others]
        z_hat = (r.x[others] - lo) / (hi - lo)
        pinned = _Pinned(cal.simulate, aid)
        grid = np.linspace(r.lower[j], r.upper[j], points)
        sides = []
        for side in (grid[grid < r.x[j]][::-1], grid[grid > r.x[j]]):
            vals, ssr, z = [float(r.x[j])], [r.cost], z_hat
            for v in side:
                pinned.value = float(v)
                cost, z = _refit(pinned, obs, o_ids, z, lo, hi)
                vals.append(float(v))
                ssr.append(cost)
            sides.append((np.array(vals), np.array(ssr)))
        best = min(float(min(sd[1])) for sd in sides)
        low_v, low_ssr = sides[0]
        high_v, high_ssr = sides[1]
        low = _crossing(low_v, (low_ssr - r.cost) / r.s2, q)
        high = _crossing(high_v, (high_ssr - r.cost) / r.s2, q)
        status = IDENTIFIED if low is not None and high is not None else (
            NOT_IDENTIFIED if low is None and high is None else ONE_SIDED)
        note = ""
        if best < r.cost - 1e-9 * max(r.cost, 1.0):
            note = (f"a lower SSR ({best:.4g} < {r.cost:.4g}) was found along the profile: "
                    "the fit is not the global optimum")
        rows.append({"assumption": aid, "estimate": float(r.x[j]),
                     "profile_low": low if low is not None else float(r.lower[j]),
                     "profile_high": high if high is not None else float(r.upper[j]),
                     "low_open": low is None, "high_open": high is None,
                     "linear_low": float(r.ci_low[j]), "linear_high": float(r.ci_high[j]),
                     "min": float(r.lower[j]), "max": float(r.upper[j]),
                     "max_deviance": float(max(np.max(low_ssr), np.max(high_ssr)) - r.cost)
                     / r.s2, "status": status, "note": note})
        for v, c in sorted(zip(np.concatenate([low_v[::-1], high_v[1:]]),
                               np.concatenate([low_ssr[::-1], high_ssr[1:]]), strict=True)):
            curves.append({"assumption": aid, "value": v, "ssr": c,
                           "deviance": (c - r.cost) / r.s2})
        say(f"profile {aid}: {status}")
    table = pd.DataFrame(rows).set_index("assumption")
    return Profiles(q, s.ci_level, table, pd.DataFrame(curves))


def profile_document(p: Profiles) -> dict:
    """Per assumption, for ``model/calibration.yaml``: the profile interval and status."""
    def num(v):
        return float(f"{v:.6g}")

    return {aid: {"profile_low": num(row["profile_low"]), "profile_high": num(row["profile_high"]),
                  "low_open": bool(row["low_open"]), "high_open": bool(row["high_open"]),
                  "status": row["status"]}
            for aid, row in p.table.iterrows()}
