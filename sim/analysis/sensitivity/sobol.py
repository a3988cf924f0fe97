"""Sobol variance decomposition: first-order ``S1`` and total ``ST`` indices with bootstrap
confidence half-widths (``*_conf``), and second-order ``S2`` when the Saltelli design was drawn
with ``second_order=True``. Runs ``N * (D + 2)`` (``N * (2D + 2)`` with S2); N a power of two."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.sensitivity.base import Indices, Method, is_constant, register

if TYPE_CHECKING:
    from sim.analysis.sampling import Design
    from sim.analysis.uncertainty_spec import UncertaintySpec

#: the result of :func:`sobol_indices` (``indices``, ``second_order``)
SobolResult = Indices


@register
class Sobol(Method):
    name = "sobol"
    help = "Sobol S1/ST (S2 with --second-order), Saltelli design"
    design_method = "saltelli"
    main_index = "ST"
    default_samples = 256
    per_year_label = {"zh": "总效应指数 ST", "en": "Total-order ST"}
    per_year_measure = "ST"
    index_label = {"zh": "总效应指数 ST", "en": "Total-order ST"}
    parallel = True

    def runs_per_sample(self, dim: int, *, second_order: bool = False) -> int:
        return dim * (2 if second_order else 1) + 2

    def check_samples(self, samples: int) -> int:
        from sim.analysis.sampling import check_power_of_two

        return check_power_of_two(samples)

    def design(self, spec: UncertaintySpec, samples: int, *, seed: int | None,
               second_order: bool = False) -> Design:
        from sim.analysis import sampling

        return sampling.saltelli(spec, samples, second_order=second_order, seed=seed)

    def analyse(self, design: Design, y: np.ndarray, *, num_resamples: int = 100,
                conf_level: float = 0.95, seed: int | None = None) -> Indices:
        """A constant output has all indices 0 (nothing explains no variance)."""
        from SALib.analyze import sobol as salib_sobol

        y = self.check(design, y)
        names = list(design.names)
        idx = pd.Index(names, name="parameter")
        pairs = pd.MultiIndex.from_tuples(
            [(a, b) for i, a in enumerate(names) for b in names[i + 1:]],
            names=["parameter", "with"])
        if is_constant(y):
            z = np.zeros(len(names))
            s2 = (pd.DataFrame({"S2": 0.0, "S2_conf": 0.0}, index=pairs)
                  if design.second_order else None)
            return Indices(pd.DataFrame({"S1": z, "S1_conf": z, "ST": z, "ST_conf": z},
                                        index=idx), s2)
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = salib_sobol.analyze(design.problem, y, calc_second_order=design.second_order,
                                      num_resamples=num_resamples, conf_level=conf_level,
                                      seed=seed)
        first = pd.DataFrame({k: np.asarray(res[k], dtype=float)
                              for k in ("S1", "S1_conf", "ST", "ST_conf")}, index=idx)
        second = None
        if design.second_order:
            iu = np.triu_indices(len(names), k=1)
            second = pd.DataFrame({"S2": np.asarray(res["S2"])[iu],
                                   "S2_conf": np.asarray(res["S2_conf"])[iu]}, index=pairs)
        return Indices(first, second)


def sobol_indices(design: Design, y: np.ndarray, *, num_resamples: int = 100,
                  conf_level: float = 0.95, seed: int | None = None) -> Indices:
    """Sobol S1/ST (and S2 if the design has it) of output ``y`` (N,) on a Saltelli design."""
    return Sobol().analyse(design, y, num_resamples=num_resamples, conf_level=conf_level,
                           seed=seed)
