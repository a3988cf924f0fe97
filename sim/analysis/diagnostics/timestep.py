"""Integration-error check: how much the target-year indicators move when the step is halved.

For Euler integration the error shrinks about in proportion to the step, so halving it and
comparing shows whether the model's ``TIME STEP`` is small enough (Sterman 2000, ch. 21). The
batch engine runs every scenario at each step in one batch (dim ``scenario``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import xarray as xr

from sim.analysis.outcomes.targets import value_at
from sim.dims import SAMPLE, SCENARIO

#: the model's step is accepted if halving it moves no target-year indicator by more than this
TOLERANCE = 0.005


def step_halving(simulator, scenarios: Sequence, targets, *, doublings: int = 2
                 ) -> pd.DataFrame:
    """Max relative change of any indicator in the target year when the step is halved.

    Steps compared: the model's ``TIME STEP`` times 2**doublings, ... , times 2, itself, and
    half of it; each against its half. Returns a DataFrame indexed by the coarser step (column
    ``half`` the finer one), one column per scenario id, values as fractions (0.01 = 1%).
    """
    dt = simulator.control("time_step")
    steps = [dt * 2.0 ** k for k in range(doublings, -2, -1)]
    values: dict[float, xr.DataArray] = {}
    for step in steps:
        ds = simulator.run_scenarios(list(scenarios), return_columns=targets.indicators,
                                     time_step=step)
        values[step] = xr.concat([value_at(ds[i], targets.year).isel({SAMPLE: 0})
                                  for i in targets.indicators], dim="indicator")
    rows = []
    for coarse, fine in zip(steps[:-1], steps[1:], strict=True):
        change = abs(values[coarse] / values[fine] - 1).max("indicator")   # (scenario,)
        rows.append({"step": coarse, "half": fine,
                     **{s.id: float(change.sel({SCENARIO: s.id})) for s in scenarios}})
    return pd.DataFrame(rows).set_index("step")
