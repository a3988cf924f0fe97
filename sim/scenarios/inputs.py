"""Turn a scenario's lever and assumption values into engine inputs.

Engine inputs are keyed by the model variable's Python name. A constant lever or an assumption
becomes a number (or a per-sample array of shape ``(sample,)``). A series lever becomes the
variable's whole trajectory on the integration grid: the baseline trajectory (or, for a lever
the scenario inherits and changes, the parent's trajectory) before the first year the scenario
gives, then the given points (linear or stepped, as the lever declares), held after the last one. The same trajectory is handed to the batch engine and to PySD, so both see
identical inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.declarations.parameters import Lever, Parameters
from sim.scenarios.loader import Inherited


def series_trajectory(lever: Lever, points: dict[int, float], times: np.ndarray,
                      baseline: np.ndarray) -> np.ndarray:
    """Values of a series lever at ``times`` (shape ``(time,)``) under ``points``."""
    years = np.array(sorted(points), dtype=float)
    values = np.array([points[int(y)] for y in years], dtype=float)
    out = np.array(baseline, dtype=float, copy=True)
    # a tolerance so that accumulated float time steps still hit integer years
    active = times >= years[0] - 1e-9
    t = times[active]
    if lever.interpolation == "step":
        idx = np.searchsorted(years, t + 1e-9, side="right") - 1
        out[active] = values[np.clip(idx, 0, len(values) - 1)]
    else:
        out[active] = np.interp(t, years, values)
    return out


def lever_trajectory(lever: Lever, value, times: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Values of a series lever at ``times`` for a number, a ``{year: value}`` series or an
    :class:`~sim.scenarios.loader.Inherited` value (the parent's trajectory, then the series)."""
    if isinstance(value, Inherited):
        under = lever_trajectory(lever, value.under, times, baseline)
        return series_trajectory(lever, value.over, times, under)
    if isinstance(value, dict):
        return series_trajectory(lever, value, times, baseline)
    return np.full(times.shape, float(value))


def scenario_inputs(levers: dict, assumptions: dict, params: Parameters, times: np.ndarray,
                    defaults: dict[str, np.ndarray]) -> dict[str, object]:
    """Engine ``params`` for lever and assumption values keyed by their ids.

    ``defaults`` maps a series lever's Python name to its baseline trajectory on ``times``.
    Values may be numbers, per-sample arrays (constants only) or ``{year: value}`` mappings.
    """
    out: dict[str, object] = {}
    for lid, value in levers.items():
        lever = params.levers[lid]
        if isinstance(value, dict | Inherited):
            traj = lever_trajectory(lever, value, times, defaults[lever.py_name])
            out[lever.py_name] = pd.Series(traj, index=pd.Index(times, name="time"))
        elif lever.kind == "series" and np.ndim(value) == 0:
            out[lever.py_name] = pd.Series(np.full(times.shape, float(value)),
                                           index=pd.Index(times, name="time"))
        else:
            out[lever.py_name] = value
    for aid, value in assumptions.items():
        out[params.assumptions[aid].py_name] = value
    return out
