"""What every design method shares: the scalar outcomes analysed, the indices of every outcome
and per year (through the method's :meth:`~sim.analysis.sensitivity.base.Method.analyse`), and
the one-at-a-time tornado table.

Outputs analysed (:func:`outputs_at_year`): each indicator in the target year and the derived
outcomes, all as declared in model/targets.yaml.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis.outcomes.targets import at_year, derived_value
from sim.analysis.sensitivity.base import REGISTRY, Indices, get_method
from sim.errors import UncertaintyError
from sim.model.declarations.targets import Targets

if TYPE_CHECKING:
    from sim.analysis.ensembles.sampling import Design

# samples x parameters above which outputs are analysed in parallel processes
PARALLEL_MIN = 2_000_000


def tornado_table(design: Design, y: np.ndarray) -> tuple[pd.DataFrame, float]:
    """From a one-at-a-time design (:func:`sim.analysis.ensembles.sampling.one_at_a_time`) and its output
    ``y`` (2D+1,): DataFrame (parameter x low, high, swing: the output; value_low, value_high:
    the parameter's values) and the base value (all medians)."""
    y = np.asarray(y, dtype=float).ravel()
    if design.method != "oat" or y.shape[0] != 2 * len(design.names) + 1:
        raise UncertaintyError("tornado_table needs a one-at-a-time design and its 2D+1 outputs")
    low, high = y[1::2], y[2::2]
    j = np.arange(len(design.names))
    values = np.asarray(design.values, dtype=float)
    frame = pd.DataFrame({"low": low, "high": high, "swing": np.abs(high - low),
                          "value_low": values[2 * j + 1, j], "value_high": values[2 * j + 2, j]},
                         index=pd.Index(design.names, name="parameter"))
    return frame, float(y[0])


def outputs_at_year(ds: xr.Dataset, targets: Targets, *, year: int | None = None,
                    cost_variable: str | None = None) -> pd.DataFrame:
    """The scalar outcomes per sample: DataFrame (sample x output).

    Columns: each indicator of ``targets`` in ``year`` (default the target year), then each
    derived outcome of model/targets.yaml (``all_targets``, the fiscal cost of the plan years
    up to ``year``, ...) that the results hold what it needs for
    (:func:`sim.analysis.outcomes.targets.derived_value`; ``cost_variable`` replaces the fiscal cost's
    variables).
    """
    year = targets.year if year is None else year
    out = pd.DataFrame({ind: at_year(ds[ind], year) for ind in targets.indicators})
    for d in targets.derived:
        value = derived_value(ds, d, targets, year=year, cost_variable=cost_variable)
        if value is not None:
            out[d.id] = value
    out.index.name = "sample"
    return out


def analyse_one(args: tuple) -> Indices:
    """``(method name, design, y, num_resamples, conf_level, seed)`` -> indices (picklable)."""
    name, design, y, num_resamples, conf_level, seed = args
    return REGISTRY[name].analyse(design, y, num_resamples=num_resamples, conf_level=conf_level,
                                  seed=seed)


def analyse_outputs(design: Design, outputs: pd.DataFrame, *, method: str,
                    num_resamples: int = 100, conf_level: float = 0.95,
                    seed: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Indices of every column of ``outputs`` (N x outputs) by the design method ``method``.

    Returns (long table indexed by (output, parameter), second-order table or None).
    """
    m = get_method(method, ("design",))
    tables, seconds = {}, {}
    cols = list(outputs.columns)
    args = [(m.name, design, outputs[c].to_numpy(), num_resamples, conf_level, seed)
            for c in cols]
    workers = min(os.cpu_count() or 1, len(cols))
    if m.parallel and workers > 1 and outputs.shape[0] * len(design.names) >= PARALLEL_MIN:
        # the bootstrap of each output is independent: analyse outputs on every core
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(analyse_one, args))
    else:
        results = [analyse_one(a) for a in args]
    for col, res in zip(cols, results, strict=True):
        tables[col] = res.indices
        if res.second_order is not None:
            seconds[col] = res.second_order
    long = pd.concat(tables, names=["output"])
    second = pd.concat(seconds, names=["output"]) if seconds else None
    return long, second


def per_year_indices(design: Design, da: xr.DataArray, years: Iterable[int], *, method: str,
                     num_resamples: int = 100, seed: int | None = None) -> pd.DataFrame:
    """The method's per-year measure of each parameter on ``da`` in each year: DataFrame
    (year x parameter); Sobol gives ``ST``, Morris ``mu_star`` over the year's largest."""
    m = get_method(method, ("design",))
    years = list(years)
    ys = np.stack([np.asarray(at_year(da, year), dtype=float) for year in years])
    values = m.per_year_many(design, ys, num_resamples=num_resamples, seed=seed)
    frame = pd.DataFrame(values, index=pd.Index(years),
                         columns=pd.Index(list(design.names), name="parameter"))
    frame.index.name = "year"
    frame.attrs["measure"] = m.per_year_measure
    return frame
