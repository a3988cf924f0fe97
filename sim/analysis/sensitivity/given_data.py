"""First-order indices from any sample (RBD-FAST / EASI given-data estimator, SALib).

Used on the history-conditioned ensemble itself, whose assumptions are dependent (the history
ties them together): ``S1`` of an assumption is then the share of the output's variance
explained by it alone, dependence included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.sensitivity.base import Method, is_constant, register
from sim.errors import UncertaintyError

if TYPE_CHECKING:
    from sim.analysis.ensembles.sampling import Design


#: bootstrap values whose periodograms are taken at once (memory: about 40 bytes each)
BOOT_BLOCK = 1 << 20


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
        x = np.asarray(design.values, dtype=float)
        names = list(design.names)
        ys = {}
        for col in outputs.columns:
            y = outputs[col].to_numpy(dtype=float)
            if y.shape[0] != x.shape[0]:
                raise UncertaintyError(f"output {col} has {y.shape[0]} values; the sample has "
                                       f"{x.shape[0]} rows")
            ys[col] = y
        rbd = RbdFast(x, num_resamples=num_resamples, seed=seed)
        tables = {}
        for col, y in ys.items():
            if is_constant(y) or np.isnan(y).any():
                s1 = conf = (np.zeros(len(names)) if is_constant(y)
                             else np.full(len(names), np.nan))
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    s1, conf = rbd.first_order(y, conf_level=conf_level)
            tables[col] = pd.DataFrame({"S1": s1, "S1_conf": conf},
                                       index=pd.Index(names, name="parameter"))
        return pd.concat(tables, names=["output"])


def given_data_first_order(design: Design, outputs: pd.DataFrame, *, num_resamples: int = 100,
                           conf_level: float = 0.95, seed: int | None = None) -> pd.DataFrame:
    """:meth:`GivenData.analyse_sample` (kept as a function for callers)."""
    return GivenData().analyse_sample(design, outputs, num_resamples=num_resamples,
                                      conf_level=conf_level, seed=seed)


class RbdFast:
    """SALib's RBD-FAST first-order estimator (``SALib.analyze.rbd_fast``, M = 10 harmonics,
    Tissot-Prieur bias correction, bootstrap on halves drawn with replacement), vectorised: the
    orderings of the sample and of every bootstrap draw are made once and shared by all
    outputs, and each output's periodograms are one call. The same seed gives SALib's numbers.
    """

    def __init__(self, x: np.ndarray, *, num_resamples: int = 100, seed: int | None = None,
                 harmonics: int = 10):
        x = np.asarray(x, dtype=float)
        n, dim = x.shape
        self.n, self.m, self.half = n, harmonics, int(n * 0.5)
        self.order = _balanced(np.argsort(x.T, axis=1))            # (D, n)
        rng = np.random.default_rng(seed)
        self.boot = np.empty((dim, num_resamples, self.half), dtype=np.intp)
        draws = np.empty((num_resamples, self.half), dtype=np.intp)
        for i in range(dim):          # SALib's order of draws: parameter, then resample
            for r in range(num_resamples):
                draws[r] = rng.choice(n, replace=True, size=self.half)
            self.boot[i] = np.take_along_axis(draws, _balanced(np.argsort(x[draws, i], axis=1)),
                                              axis=1)

    def _s1(self, permuted: np.ndarray, n: int) -> np.ndarray:
        from scipy.signal import periodogram

        _, pxx = periodogram(permuted, axis=-1)
        s1 = np.sum(pxx[..., 1:self.m + 1], axis=-1) / np.sum(pxx[..., 1:], axis=-1)
        lamb = (2 * self.m) / n
        return s1 - lamb / (1 - lamb) * (1 - s1)

    def first_order(self, y: np.ndarray, *, conf_level: float = 0.95
                    ) -> tuple[np.ndarray, np.ndarray]:
        """``S1`` and its confidence half-width (D,) of output ``y`` (n,)."""
        from scipy.stats import norm

        y = np.asarray(y, dtype=float)
        s1 = self._s1(y[self.order], self.n)
        step = max(1, BOOT_BLOCK // max(1, self.boot[0].size))   # parameters at a time
        boot = np.concatenate([self._s1(y[self.boot[i:i + step]], self.half)   # (D, R)
                               for i in range(0, len(self.boot), step)])
        return s1, norm.ppf(0.5 + conf_level / 2.0) * boot.std(axis=1, ddof=1)


def _balanced(order: np.ndarray) -> np.ndarray:
    """EASI's reordering of a sort order along the last axis: even ranks rising, then odd
    ranks falling (SALib's ``permute_outputs``)."""
    return np.concatenate([order[..., ::2], order[..., 1::2][..., ::-1]], axis=-1)
