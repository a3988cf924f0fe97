"""Sobol variance decomposition: first-order ``S1`` and total ``ST`` indices with bootstrap
confidence half-widths (``*_conf``), and second-order ``S2`` when the Saltelli design was drawn
with ``second_order=True``. Runs ``N * (D + 2)`` (``N * (2D + 2)`` with S2); N a power of two."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.ensembles import sampling
from sim.analysis.ensembles.sampling import check_power_of_two
from sim.analysis.sensitivity.base import Indices, Method, is_constant, register
from sim.errors import UncertaintyError
from sim.model.declarations.words import entry

if TYPE_CHECKING:
    from sim.analysis.ensembles.sampling import Design
    from sim.analysis.ensembles.uncertainty_spec import UncertaintySpec

#: the result of :func:`sobol_indices` (``indices``, ``second_order``)
SobolResult = Indices


@register
class Sobol(Method):
    name = "sobol"
    help = "Sobol S1/ST (S2 with --second-order), Saltelli design"
    design_method = "saltelli"
    main_index = "ST"
    default_samples = 256
    per_year_label = entry("sensitivity_methods.sobol_per_year")
    per_year_measure = "ST"
    index_label = entry("sensitivity_methods.sobol_index")

    def runs_per_sample(self, dim: int, *, second_order: bool = False) -> int:
        return dim * (2 if second_order else 1) + 2

    def check_samples(self, samples: int) -> int:
        return check_power_of_two(samples)

    def design(self, spec: UncertaintySpec, samples: int, *, seed: int | None,
               second_order: bool = False) -> Design:
        return sampling.saltelli(spec, samples, second_order=second_order, seed=seed)

    def analyse(self, design: Design, y: np.ndarray, *, num_resamples: int = 100,
                conf_level: float = 0.95, seed: int | None = None,
                second_order: bool | None = None) -> Indices:
        """A constant output has all indices 0 (nothing explains no variance). S2 when the
        design was drawn for it, unless ``second_order=False`` (S1/ST are the same either way).
        SALib's estimators, vectorised (:mod:`.saltelli_estimators`)."""
        # lazy: breaks the cycle sobol <-> analysis.sensitivity (its package)
        from sim.analysis.sensitivity import saltelli_estimators as est

        y = self.check(design, y)
        s2_wanted = design.second_order if second_order is None else second_order
        if s2_wanted and not design.second_order:
            raise UncertaintyError("second-order indices need a Saltelli design drawn with "
                                   "second_order=True")
        names = list(design.names)
        idx = pd.Index(names, name="parameter")
        pairs = pd.MultiIndex.from_tuples(
            [(a, b) for i, a in enumerate(names) for b in names[i + 1:]],
            names=["parameter", "with"])
        if is_constant(y):
            z = np.zeros(len(names))
            s2 = pd.DataFrame({"S2": 0.0, "S2_conf": 0.0}, index=pairs) if s2_wanted else None
            return Indices(pd.DataFrame({"S1": z, "S1_conf": z, "ST": z, "ST_conf": z},
                                        index=idx), s2)
        with np.errstate(divide="ignore", invalid="ignore"):
            res = est.analyse(y, len(names), second_order_design=design.second_order,
                              calc_second_order=s2_wanted, num_resamples=num_resamples,
                              conf_level=conf_level, seed=seed)
        first = pd.DataFrame({k: res[k] for k in ("S1", "S1_conf", "ST", "ST_conf")}, index=idx)
        second = None
        if s2_wanted:
            iu = np.triu_indices(len(names), k=1)
            second = pd.DataFrame({"S2": res["S2"][iu], "S2_conf": res["S2_conf"][iu]},
                                  index=pairs)
        return Indices(first, second)

    def per_year_many(self, design: Design, ys: np.ndarray, *, num_resamples: int = 100,
                      seed: int | None = None) -> np.ndarray:
        """``ST`` of each row of ``ys`` (years, n) at once, without bootstrap or S2: (years, D).
        The same numbers as :meth:`analyse` gives for each row (to rounding)."""
        # lazy: breaks the cycle sobol <-> analysis.sensitivity (its package)
        from sim.analysis.sensitivity import saltelli_estimators as est

        ys = np.asarray(ys, dtype=float)
        for row in ys:
            self.check(design, row)
        const = np.array([is_constant(row) for row in ys], dtype=bool)
        out = np.zeros((ys.shape[0], len(design.names)))
        if (~const).any():
            with np.errstate(divide="ignore", invalid="ignore"):
                out[~const] = est.total_order_points(ys[~const], len(design.names),
                                                     second_order_design=design.second_order)
        return out


def sobol_indices(design: Design, y: np.ndarray, *, num_resamples: int = 100,
                  conf_level: float = 0.95, seed: int | None = None) -> Indices:
    """Sobol S1/ST (and S2 if the design has it) of output ``y`` (N,) on a Saltelli design."""
    return Sobol().analyse(design, y, num_resamples=num_resamples, conf_level=conf_level,
                           seed=seed)
