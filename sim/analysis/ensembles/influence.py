"""Which uncertain assumptions drive the forecast: the Spearman rank correlation of each sampled
assumption with each target indicator in the target year, over an ensemble (the
history-conditioned one of ``plansim uncertainty``/``plansim brief``).

A rank correlation is a screening measure (monotone, one assumption at a time): it ranks the
assumptions whose spread carries over into the indicator; the variance-based indices of
``plansim sensitivity`` apportion the variance itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.ensembles.uncertainty import UncertaintyResult
from sim.analysis.outcomes.targets import at_year
from sim.model.declarations.targets import Targets


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (NaN if either is constant)."""
    ra = pd.Series(a).rank().to_numpy()
    rb = pd.Series(b).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def rank_influence(result: UncertaintyResult, targets: Targets, top: int | None = None
                   ) -> pd.DataFrame:
    """Spearman rho (assumption id x indicator id) over the samples of ``result`` in the
    target year; rows sorted by the largest absolute rho over the indicators, the first
    ``top`` of them (all when ``None``)."""
    samples = result.design.frame()
    cols = {}
    for item in targets.items:
        y = at_year(result.results[item.indicator], targets.year)
        cols[item.indicator] = [spearman(samples[a].to_numpy(), y) for a in samples.columns]
    rho = pd.DataFrame(cols, index=pd.Index(samples.columns, name="assumption"))
    order = rho.abs().max(axis=1).sort_values(ascending=False, kind="stable").index
    return rho.loc[order if top is None else order[:top]]
