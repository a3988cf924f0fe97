"""Morris screening: ``mu``, ``mu_star``, ``sigma`` and a bootstrap confidence interval of
``mu_star``; elementary effects are per unit of quantile (moving an assumption across its whole
distribution). Runs ``N * (D + 1)`` for N trajectories over D assumptions."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.ensembles import sampling
from sim.analysis.sensitivity.base import Indices, Method, is_constant, register
from sim.model.declarations.words import entry

if TYPE_CHECKING:
    from sim.analysis.ensembles.sampling import Design
    from sim.analysis.ensembles.uncertainty_spec import UncertaintySpec

COLUMNS = ("mu", "mu_star", "sigma", "mu_star_conf")


@register
class Morris(Method):
    name = "morris"
    help = "Morris screening (elementary effects)"
    design_method = "morris"
    main_index = "mu_star"
    default_samples = 20
    per_year_label = entry("sensitivity_methods.morris_per_year")
    per_year_measure = "mu_star (normalised)"
    index_label = entry("sensitivity_methods.morris_index")

    def runs_per_sample(self, dim: int, *, second_order: bool = False) -> int:
        return dim + 1

    def design(self, spec: UncertaintySpec, samples: int, *, seed: int | None,
               second_order: bool = False) -> Design:
        return sampling.morris(spec, samples, seed=seed)

    def analyse(self, design: Design, y: np.ndarray, *, num_resamples: int = 200,
                conf_level: float = 0.95, seed: int | None = None) -> Indices:
        from SALib.analyze import morris as salib_morris

        y = self.check(design, y)
        idx = pd.Index(list(design.names), name="parameter")
        if is_constant(y):
            z = np.zeros(len(idx))
            return Indices(pd.DataFrame({k: z for k in COLUMNS}, index=idx), None)
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = salib_morris.analyze(design.problem, design.unit, y,
                                       num_resamples=num_resamples, conf_level=conf_level,
                                       num_levels=design.num_levels, seed=seed)
        return Indices(pd.DataFrame({k: np.asarray(res[k], dtype=float) for k in COLUMNS},
                                    index=idx), None)

    def per_year(self, indices: pd.DataFrame) -> pd.Series:
        """``mu_star`` over the year's largest, so years of different scale are comparable."""
        ms = indices["mu_star"]
        top = ms.max()
        return ms / top if top > 0 else ms


def morris_indices(design: Design, y: np.ndarray, *, num_resamples: int = 200,
                   conf_level: float = 0.95, seed: int | None = None) -> pd.DataFrame:
    """Morris screening of output ``y`` (N,) on a Morris design: DataFrame indexed by parameter
    with ``mu``, ``mu_star``, ``sigma``, ``mu_star_conf``, sorted as in the design."""
    return Morris().analyse(design, y, num_resamples=num_resamples, conf_level=conf_level,
                            seed=seed).indices
