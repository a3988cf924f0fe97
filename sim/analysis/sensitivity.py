"""Global sensitivity of the plan's outcomes to the uncertain assumptions (SALib).

Two methods, both on a :class:`~sim.analysis.sampling.Design` drawn in the unit hypercube:

- Morris screening (``design.method == "morris"``): ``mu``, ``mu_star``, ``sigma`` and a
  bootstrap confidence interval of ``mu_star``; elementary effects are per unit of quantile
  (moving an assumption across its whole distribution).
- Sobol (``design.method == "saltelli"``): first-order ``S1`` and total ``ST`` indices with
  bootstrap confidence half-widths (``*_conf``, at ``conf_level``), and second-order ``S2``
  when the design was drawn with ``second_order=True``.

Outputs analysed (:func:`outputs_at_year`): each indicator in the target year and the derived
outcomes, all as declared in model/targets.yaml.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis.targets import at_year, derived_value
from sim.errors import UncertaintyError
from sim.model.targets import Targets

if TYPE_CHECKING:
    from sim.analysis.sampling import Design

METHODS = ("morris", "sobol")
# samples x parameters above which Sobol outputs are analysed in parallel processes
PARALLEL_MIN = 2_000_000


class SobolResult(NamedTuple):
    """``indices``: DataFrame (parameter x S1, S1_conf, ST, ST_conf); ``second_order``:
    DataFrame (pairs x S2, S2_conf) or None."""

    indices: pd.DataFrame
    second_order: pd.DataFrame | None


def _check(design: Design, y: np.ndarray, method: str) -> np.ndarray:
    want = {"morris": "morris", "sobol": "saltelli"}[method]
    if design.method != want:
        raise UncertaintyError(
            f"{method} indices need a '{want}' design; this one is '{design.method}'"
        )
    y = np.asarray(y, dtype=float).ravel()
    if y.shape[0] != design.n:
        raise UncertaintyError(f"output has {y.shape[0]} values; the design has {design.n} rows")
    if np.isnan(y).any():
        raise UncertaintyError(f"output has {int(np.isnan(y).sum())} NaN values; "
                               "sensitivity indices need every run to finish")
    return y


def _constant(y: np.ndarray) -> bool:
    return bool(np.ptp(y) <= 1e-12 * max(1.0, float(np.abs(y).max())))


def morris_indices(design: Design, y: np.ndarray, *, num_resamples: int = 200,
                   conf_level: float = 0.95, seed: int | None = None) -> pd.DataFrame:
    """Morris screening of output ``y`` (N,) on a Morris design.

    Returns a DataFrame indexed by parameter with ``mu``, ``mu_star``, ``sigma``,
    ``mu_star_conf``, sorted as in the design.
    """
    from SALib.analyze import morris as salib_morris

    y = _check(design, y, "morris")
    names = list(design.names)
    if _constant(y):
        z = np.zeros(len(names))
        return pd.DataFrame({"mu": z, "mu_star": z, "sigma": z, "mu_star_conf": z},
                            index=pd.Index(names, name="parameter"))
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = salib_morris.analyze(design.problem, design.unit, y, num_resamples=num_resamples,
                                   conf_level=conf_level, num_levels=design.num_levels, seed=seed)
    return pd.DataFrame({k: np.asarray(res[k], dtype=float)
                         for k in ("mu", "mu_star", "sigma", "mu_star_conf")},
                        index=pd.Index(names, name="parameter"))


def sobol_indices(design: Design, y: np.ndarray, *, num_resamples: int = 100,
                  conf_level: float = 0.95, seed: int | None = None) -> SobolResult:
    """Sobol S1/ST (and S2 if the design has it) of output ``y`` (N,) on a Saltelli design.

    A constant output has all indices 0 (nothing explains no variance).
    """
    from SALib.analyze import sobol as salib_sobol

    y = _check(design, y, "sobol")
    names = list(design.names)
    idx = pd.Index(names, name="parameter")
    pairs = pd.MultiIndex.from_tuples(
        [(a, b) for i, a in enumerate(names) for b in names[i + 1:]], names=["parameter", "with"]
    )
    if _constant(y):
        z = np.zeros(len(names))
        s2 = (pd.DataFrame({"S2": 0.0, "S2_conf": 0.0}, index=pairs)
              if design.second_order else None)
        return SobolResult(pd.DataFrame({"S1": z, "S1_conf": z, "ST": z, "ST_conf": z},
                                        index=idx), s2)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = salib_sobol.analyze(design.problem, y, calc_second_order=design.second_order,
                                  num_resamples=num_resamples, conf_level=conf_level, seed=seed)
    first = pd.DataFrame({k: np.asarray(res[k], dtype=float)
                          for k in ("S1", "S1_conf", "ST", "ST_conf")}, index=idx)
    second = None
    if design.second_order:
        iu = np.triu_indices(len(names), k=1)
        second = pd.DataFrame({"S2": np.asarray(res["S2"])[iu],
                               "S2_conf": np.asarray(res["S2_conf"])[iu]}, index=pairs)
    return SobolResult(first, second)


def tornado_table(design: Design, y: np.ndarray) -> tuple[pd.DataFrame, float]:
    """From a one-at-a-time design (:func:`sim.analysis.sampling.one_at_a_time`) and its output
    ``y`` (2D+1,): DataFrame (parameter x low, high, swing) and the base value (all medians)."""
    y = np.asarray(y, dtype=float).ravel()
    if design.method != "oat" or y.shape[0] != 2 * len(design.names) + 1:
        raise UncertaintyError("tornado_table needs a one-at-a-time design and its 2D+1 outputs")
    low, high = y[1::2], y[2::2]
    frame = pd.DataFrame({"low": low, "high": high, "swing": np.abs(high - low)},
                         index=pd.Index(design.names, name="parameter"))
    return frame, float(y[0])


def outputs_at_year(ds: xr.Dataset, targets: Targets, *, year: int | None = None,
                    cost_variable: str | None = None) -> pd.DataFrame:
    """The scalar outcomes per sample: DataFrame (sample x output).

    Columns: each indicator of ``targets`` in ``year`` (default the target year), then each
    derived outcome of model/targets.yaml (``all_targets``, the fiscal cost of the plan years
    up to ``year``, ...) that the results hold what it needs for
    (:func:`sim.analysis.targets.derived_value`; ``cost_variable`` replaces the fiscal cost's
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


def _analyse_one(args):
    method, design, y, num_resamples, conf_level, seed = args
    if method == "morris":
        return morris_indices(design, y, num_resamples=num_resamples, conf_level=conf_level,
                              seed=seed)
    return sobol_indices(design, y, num_resamples=num_resamples, conf_level=conf_level,
                         seed=seed)


def analyse_outputs(design: Design, outputs: pd.DataFrame, *, method: str,
                    num_resamples: int = 100, conf_level: float = 0.95,
                    seed: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Indices of every column of ``outputs`` (N x outputs).

    Returns (long table indexed by (output, parameter), second-order table or None).
    """
    if method not in METHODS:
        raise UncertaintyError(f"method is {method!r}; allowed: {', '.join(METHODS)}")
    tables, seconds = {}, {}
    cols = list(outputs.columns)
    args = [(method, design, outputs[c].to_numpy(), num_resamples, conf_level, seed)
            for c in cols]
    workers = min(os.cpu_count() or 1, len(cols))
    if method == "sobol" and workers > 1 and outputs.shape[0] * len(design.names) >= PARALLEL_MIN:
        # the bootstrap of each output is independent: analyse outputs on every core
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_analyse_one, args))
    else:
        results = [_analyse_one(a) for a in args]
    for col, res in zip(cols, results, strict=True):
        if method == "morris":
            tables[col] = res
        else:
            tables[col] = res.indices
            if res.second_order is not None:
                seconds[col] = res.second_order
    long = pd.concat(tables, names=["output"])
    second = pd.concat(seconds, names=["output"]) if seconds else None
    return long, second


def per_year_indices(design: Design, da: xr.DataArray, years: Iterable[int], *, method: str,
                     num_resamples: int = 100, seed: int | None = None) -> pd.DataFrame:
    """Index of each parameter on ``da`` in each year: DataFrame (year x parameter).

    Sobol gives ``ST``, Morris gives ``mu_star`` normalised by the year's largest ``mu_star``
    (so years of different scale are comparable).
    """
    rows = {}
    for year in years:
        y = at_year(da, year)
        if method == "sobol":
            rows[year] = sobol_indices(design, y, num_resamples=num_resamples,
                                       seed=seed).indices["ST"]
        else:
            ms = morris_indices(design, y, num_resamples=num_resamples, seed=seed)["mu_star"]
            top = ms.max()
            rows[year] = ms / top if top > 0 else ms
    frame = pd.DataFrame(rows).T
    frame.index.name = "year"
    frame.attrs["measure"] = "ST" if method == "sobol" else "mu_star (normalised)"
    return frame


def given_data_first_order(design: Design, outputs: pd.DataFrame, *, num_resamples: int = 100,
                           conf_level: float = 0.95, seed: int | None = None) -> pd.DataFrame:
    """First-order indices from any sample (RBD-FAST / EASI given-data estimator, SALib).

    Used on the history-conditioned ensemble itself, whose assumptions are dependent (the
    history ties them together): ``S1`` of an assumption is then the share of the output's
    variance explained by it alone, dependence included. Long table indexed by
    ``(output, parameter)`` with ``S1`` and ``S1_conf``; a constant output has indices 0.
    """
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
        if _constant(y) or np.isnan(y).any():
            s1 = conf = np.zeros(len(names)) if _constant(y) else np.full(len(names), np.nan)
        else:
            with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = rbd_fast.analyze(problem, x, y, num_resamples=num_resamples,
                                       conf_level=conf_level, seed=seed)
            s1, conf = np.asarray(res["S1"], float), np.asarray(res["S1_conf"], float)
        tables[col] = pd.DataFrame({"S1": s1, "S1_conf": conf},
                                   index=pd.Index(names, name="parameter"))
    return pd.concat(tables, names=["output"])
