"""Integration-error check: how much the target-year indicators move when the step is halved.

For Euler integration the error shrinks about in proportion to the step, so halving it and
comparing shows whether the model's ``TIME STEP`` is small enough (Sterman 2000, ch. 21). The
batch engine runs every scenario at each step in one batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.targets import target_table

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
    values = {}
    for step in steps:
        ds = simulator.run_scenarios(list(scenarios), return_columns=targets.indicators,
                                     time_step=step)
        per = []
        for i, _ in enumerate(scenarios):
            table = target_table(ds.isel(sample=[i]), targets)
            per.append(table[f"value_{targets.year}"].to_numpy(float))
        values[step] = np.array(per)                       # (scenario, indicator)
    rows = []
    for coarse, fine in zip(steps[:-1], steps[1:], strict=True):
        change = np.abs(values[coarse] / values[fine] - 1).max(axis=1)
        rows.append({"step": coarse, "half": fine,
                     **{s.id: float(c) for s, c in zip(scenarios, change, strict=True)}})
    return pd.DataFrame(rows).set_index("step")
