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
    return _rank_correlation(pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy())


def _rank_correlation(ra: np.ndarray, rb: np.ndarray) -> float:
    """Pearson correlation of two rank vectors (NaN if either is constant)."""
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def rank_influence(result: UncertaintyResult, targets: Targets, top: int | None = None
                   ) -> pd.DataFrame:
    """Spearman rho (assumption id x indicator id) over the samples of ``result`` in the
    target year; rows sorted by the largest absolute rho over the indicators, the first
    ``top`` of them (all when ``None``). Each column is ranked once (the ranks of
    :func:`spearman`, column by column)."""
    samples = result.design.frame()
    ranks = [samples[a].rank().to_numpy() for a in samples.columns]
    cols = {}
    for item in targets.items:
        y = pd.Series(at_year(result.results[item.indicator], targets.year)).rank().to_numpy()
        cols[item.indicator] = [_rank_correlation(ra, y) for ra in ranks]
    rho = pd.DataFrame(cols, index=pd.Index(samples.columns, name="assumption"))
    order = rho.abs().max(axis=1).sort_values(ascending=False, kind="stable").index
    return rho.loc[order if top is None else order[:top]]
