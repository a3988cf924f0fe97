"""Behaviour checks of ``model/checks.yaml`` (bounds and conservation), in the manner of
SDEverywhere's model checks.

The file is read by :mod:`sim.model.declarations.checkspec` (``load_checks``);
``evaluate_checks(checks, ds, scenario, stocks)`` evaluates every check on one scenario's
results, an ``xarray.Dataset`` with dims ``("sample", "time", ...)``, and returns a tidy
``pandas.DataFrame`` with one row per check and variable:

    check     the check's name
    kind      "bounds" | "conservation"
    scenario  the scenario id
    variable  the variable checked (for conservation: "sum(inflows) - sum(accounted)")
    passed    bool
    worst     bounds: the value farthest outside (or, when all pass, closest to) a bound;
              conservation: the relative imbalance |in - out| / max(|in|, |out|) at its worst
    time      the time of ``worst`` (model time, years)
    sample    the sample of ``worst``
    excess    how far ``worst`` lies beyond its bound (bounds, in the variable's units) or beyond
              ``rtol`` (conservation); > 0 fails, the largest is the worst case

NaN anywhere in a checked variable fails the check (worst = NaN at its first time).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sim import paths
from sim.engine.cache import load_info
from sim.errors import ModelError
from sim.model.declarations.checkspec import BoundsCheck, Checks, ConservationCheck
from sim.model.declarations.divergence import ALL_STOCKS

BALANCE = "sum(inflows) - sum(accounted)"
COLUMNS = ["check", "kind", "scenario", "variable", "passed", "worst", "time", "sample",
           "excess"]


def model_stocks(model_path: str | Path | None = None) -> list[str]:
    """Python names of the model's stocks (elements defined by ``INTEG``), in file order.

    Parsed once per model file and modification time (every ensemble command asks)."""
    path = Path(model_path or paths.MODEL_FILE).resolve()
    if not path.is_file():
        # lazy: pulls pysd (131 ms), only for the error of a missing model
        from sim.analysis.diagnostics.units import load_abstract

        load_abstract(path)   # raises the named error for a missing model
    return list(_model_stocks(path, path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _model_stocks(path: Path, mtime_ns: int) -> tuple[str, ...]:
    # the engine's parsed model (cached on disk, sim.engine.cache): no second parse of the .mdl
    return tuple(v.py_name for v in load_info(path).vars.values() if v.kind == "stock")


# -- evaluating -----------------------------------------------------------------------------------
def _get(ds: xr.Dataset, name: str, check: str, scenario: str) -> xr.DataArray:
    if name not in ds.data_vars:
        raise ModelError(f"check '{check}': variable '{name}' is not in the results of scenario "
                         f"'{scenario}'")
    return ds[name].astype(float)


def _locate(da: xr.DataArray, flat_index: int) -> tuple[float, float, int]:
    """(value, time, sample) of a flat position of ``da``."""
    idx = np.unravel_index(flat_index, da.shape)
    pos = dict(zip(da.dims, idx, strict=True))
    value = float(da.values[idx])
    time = float(da["time"].values[pos["time"]]) if "time" in pos else np.nan
    sample = int(da["sample"].values[pos["sample"]]) if "sample" in pos else 0
    return value, time, sample


def _row(check, kind, scenario, variable, passed, worst, time, sample, excess) -> dict:
    return dict(zip(COLUMNS, (check, kind, scenario, variable, bool(passed), worst, time,
                              sample, float(excess)), strict=True))


def _bounds_rows(check: BoundsCheck, ds: xr.Dataset, scenario: str,
                 stocks: Iterable[str]) -> list[dict]:
    names: list[str] = []
    for name in check.variables:
        names += list(stocks) if name == ALL_STOCKS else [name]
    rows = []
    for name in dict.fromkeys(names):
        da = _get(ds, name, check.name, scenario)
        values = da.values
        if np.isnan(values).any():
            _, time, sample = _locate(da, int(np.flatnonzero(np.isnan(values))[0]))
            rows.append(_row(check.name, "bounds", scenario, name, False, np.nan, time, sample,
                             np.inf))
            continue
        # signed distance outside the bounds (> 0 violates); the largest is the worst case
        excess = np.full(values.shape, -np.inf)
        if check.min is not None:
            excess = np.maximum(excess, check.min - values)
        if check.max is not None:
            excess = np.maximum(excess, values - check.max)
        value, time, sample = _locate(da, int(np.argmax(excess)))
        rows.append(_row(check.name, "bounds", scenario, name, excess.max() <= 0, value, time,
                         sample, excess.max()))
    return rows


def _conservation_row(check: ConservationCheck, ds: xr.Dataset, scenario: str) -> dict:
    def total(names: tuple[str, ...]) -> xr.DataArray:
        return sum(_get(ds, n, check.name, scenario) for n in names)

    lhs, rhs = total(check.inflows), total(check.accounted)
    lhs, rhs = xr.broadcast(lhs, rhs)
    lv, rv = lhs.values, rhs.values
    scale = np.maximum(np.abs(lv), np.abs(rv))
    gap = np.abs(lv - rv)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(gap == 0, 0.0, gap / scale)
    bad = ~(gap <= check.rtol * scale + check.atol)  # NaN fails
    rel = np.where(np.isnan(gap), np.inf, rel)
    flat = int(np.argmax(np.where(bad, rel, -1.0) if bad.any() else rel))
    _, time, sample = _locate(lhs, flat)
    worst = float(rel.flat[flat]) if np.isfinite(rel.flat[flat]) else np.nan
    excess = rel.flat[flat] - check.rtol if np.isfinite(rel.flat[flat]) else np.inf
    return _row(check.name, "conservation", scenario, BALANCE, not bad.any(), worst, time, sample,
                excess)


def evaluate_checks(checks: Checks, ds: xr.Dataset, scenario: str,
                    stocks: Iterable[str] = ()) -> pd.DataFrame:
    """Evaluate every check on one scenario's results ``ds`` (dims ``sample, time, ...``).

    ``stocks`` are the Python names ``all_stocks`` expands to (see :func:`model_stocks`).
    Raises :class:`ModelError` if a named variable is missing from ``ds``.
    """
    stocks = list(stocks)
    rows: list[dict] = []
    for b in checks.bounds:
        rows += _bounds_rows(b, ds, scenario, stocks)
    for c in checks.conservation:
        rows.append(_conservation_row(c, ds, scenario))
    return pd.DataFrame(rows, columns=COLUMNS)


def evaluate_all(checks: Checks, results: Mapping[str, xr.Dataset],
                 stocks: Iterable[str] = ()) -> pd.DataFrame:
    """:func:`evaluate_checks` over ``{scenario id: Dataset}``, concatenated."""
    stocks = list(stocks)
    frames = [evaluate_checks(checks, ds, sid, stocks) for sid, ds in results.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def variables_needed(checks: Checks, stocks: Iterable[str] = ()) -> list[str]:
    """Every variable the checks read (``all_stocks`` expanded), for ``return_columns``."""
    names: list[str] = []
    for b in checks.bounds:
        for n in b.variables:
            names += list(stocks) if n == ALL_STOCKS else [n]
    for c in checks.conservation:
        names += [*c.inflows, *c.accounted]
    return list(dict.fromkeys(names))


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (check, scenario): passed if every variable passed, with the worst case of
    the variable with the largest ``excess`` (the one farthest beyond, or closest to, a bound)."""
    rows = []
    for _, grp in table.groupby(["check", "scenario"], sort=False):
        failing = grp[~grp["passed"]]
        pick = grp.loc[grp["excess"].astype(float).idxmax()]
        rows.append({**pick.to_dict(), "passed": failing.empty,
                     "n_failed": int(len(failing)), "n_variables": int(len(grp))})
    return pd.DataFrame(rows)
