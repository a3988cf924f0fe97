"""What a scenario sets: each lever's value year by year, and how it differs from a reference.

:func:`lever_paths` reads the engine inputs a scenario gives the model (the trajectories
:mod:`sim.scenarios.inputs` builds, the ``.mdl`` defaults for levers it leaves alone) at the
start of each whole year; :func:`lever_changes` lists the levers whose paths differ from the
reference's with the years in which they differ. The briefing's "what each scenario assumes"
section and the money-aware Shapley players (:mod:`sim.analysis.sensitivity.shapley`) read
them, so a scenario's assumptions are described from the same numbers the model runs on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: two lever values closer than this (relative) are the same
RTOL = 1e-9


def lever_paths(simulator: Any, scenario: Any, levers: Sequence[str] | None = None
                ) -> pd.DataFrame:
    """Values of ``levers`` (default: every declared lever) that ``scenario`` feeds the model,
    one row per whole year a scenario can set (:func:`sim.scenarios.loader.year_range`, the
    value at the year's start), one column per lever."""
    # lazy: pulls yaml (43 ms)
    from sim.scenarios.loader import year_range

    params = simulator.parameters
    ids = list(levers) if levers is not None else list(params.levers)
    times = simulator.step_times()
    inputs = simulator.inputs(scenario)
    defaults = None
    first, last = year_range()
    years = np.arange(max(int(np.ceil(times[0] - 1e-9)), first),
                      min(int(np.floor(times[-1] + 1e-9)), last) + 1)
    at = np.searchsorted(times, years - 1e-9)
    cols = {}
    for lid in ids:
        name = params.levers[lid].py_name
        if name in inputs:
            value = inputs[name]
        else:
            defaults = simulator.default_values(None, None) if defaults is None else defaults
            value = defaults.get(name)
        arr = np.asarray(value, dtype=float)
        cols[lid] = (np.full(len(years), float(arr)) if arr.ndim == 0
                     else arr.reshape(-1)[at] if arr.size == len(times)
                     else np.full(len(years), float(arr.reshape(-1)[0])))
    return pd.DataFrame(cols, index=pd.Index(years, name="year"))


@dataclass
class LeverChange:
    """One lever a scenario sets differently from its reference: the years where the paths
    differ and the two values in each (``reference``, ``scenario``: Series by year)."""

    lever: str
    group: str
    reference: pd.Series
    scenario: pd.Series

    @property
    def years(self) -> list[int]:
        return [int(y) for y in self.scenario.index]


def lever_changes(simulator: Any, scenario: Any, reference: Any,
                  first_year: int | None = None) -> list[LeverChange]:
    """The levers whose paths differ between ``scenario`` and ``reference`` (from
    ``first_year`` on, if given), in the order of the declarations."""
    params = simulator.parameters
    a, b = lever_paths(simulator, reference), lever_paths(simulator, scenario)
    if first_year is not None:
        a, b = a.loc[first_year:], b.loc[first_year:]
    out = []
    for lid in a.columns:
        diff = ~np.isclose(a[lid], b[lid], rtol=RTOL, atol=1e-12)
        if diff.any():
            out.append(LeverChange(lid, params.levers[lid].group, a[lid][diff], b[lid][diff]))
    return out
