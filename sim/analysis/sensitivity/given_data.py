"""First-order indices from any sample (RBD-FAST / EASI given-data estimator, SALib).

Used on the history-conditioned ensemble itself, whose assumptions are dependent (the history
ties them together): ``S1`` of an assumption is then the share of the output's variance
explained by it alone, dependence included.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.sensitivity.base import Method, is_constant, register
from sim.errors import UncertaintyError

if TYPE_CHECKING:
    from sim.analysis.sampling import Design


@register
class GivenData(Method):
    name = "given_data"
    kind = "given_data"
    help = "first-order S1 from any sample (RBD-FAST)"
    main_index = "S1"

    def analyse_sample(self, design: Design, outputs: pd.DataFrame, *, num_resamples: int = 100,
                       conf_level: float = 0.95, seed: int | None = None) -> pd.DataFrame:
        """Long table indexed by ``(output, parameter)`` with ``S1`` and ``S1_conf``; a
        constant output has indices 0, one with NaN values has NaN indices."""
        from SALib.analyze import rbd_fast

        x = np.asarray(design.values, dtype=float)
        names = list(design.names)
        lo, hi = x.min(axis=0), x.max(axis=0)
        problem = {"num_vars": len(names), "names": names,
                   "bounds": np.column_stack([lo, np.where(hi > lo, hi, lo + 1.0)]).tolist()}
        tables = {}
        for col in outputs.columns:
            y = outputs[col].to_numpy(dtype=float)
            if y.shape[0] != x.shape[0]:
                raise UncertaintyError(f"output {col} has {y.shape[0]} values; the sample has "
                                       f"{x.shape[0]} rows")
            if is_constant(y) or np.isnan(y).any():
                s1 = conf = (np.zeros(len(names)) if is_constant(y)
                             else np.full(len(names), np.nan))
            else:
                with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    res = rbd_fast.analyze(problem, x, y, num_resamples=num_resamples,
                                           conf_level=conf_level, seed=seed)
                s1, conf = np.asarray(res["S1"], float), np.asarray(res["S1_conf"], float)
            tables[col] = pd.DataFrame({"S1": s1, "S1_conf": conf},
                                       index=pd.Index(names, name="parameter"))
        return pd.concat(tables, names=["output"])


def given_data_first_order(design: Design, outputs: pd.DataFrame, *, num_resamples: int = 100,
                           conf_level: float = 0.95, seed: int | None = None) -> pd.DataFrame:
    """:meth:`GivenData.analyse_sample` (kept as a function for callers)."""
    return GivenData().analyse_sample(design, outputs, num_resamples=num_resamples,
                                      conf_level=conf_level, seed=seed)
