"""Check results against the plan's targets: the value in the target year, the ratio to the
target, and the first year each target is met.

Indicators are read at the row of year ``Y``: stocks at the end of ``Y``, flows as the total over
``Y`` (ARCHITECTURE.md, "Time convention"). All functions work on every sample at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from sim.model.targets import Target, Targets


def _at_year(da: xr.DataArray, year: float) -> xr.DataArray:
    return da.sel(time=year, method="nearest", tolerance=1e-6)


def year_reached(da: xr.DataArray, target: Target, from_year: float | None = None) -> np.ndarray:
    """First saved year in which ``da`` meets ``target``, per sample; NaN if never.

    ``da`` has dims ``(sample, time)`` or ``(time,)``; the result has shape ``(sample,)`` or ``()``.
    Only years from ``from_year`` (default: the first saved year) count, so a target met before the
    plan started reports that earlier year.
    """
    if from_year is not None:
        da = da.sel(time=da.time >= from_year - 1e-9)
    met = target.met(da.values)
    times = da.time.values
    axis = da.dims.index("time")
    first = np.argmax(met, axis=axis)
    any_met = met.any(axis=axis)
    return np.where(any_met, times[first], np.nan)


def target_table(ds: xr.Dataset, targets: Targets) -> pd.DataFrame:
    """One row per indicator for a single run: indicator, target, value in the target year,
    ratio, year reached (NaN where not reached by the end of the run)."""
    rows = []
    for t in targets:
        da = ds[t.indicator]
        if "sample" in da.dims:
            if da.sizes["sample"] != 1:
                raise ValueError("target_table takes one run; use target_summary for ensembles")
            da = da.isel(sample=0)
        value = float(_at_year(da, t.year))
        reached = float(year_reached(da, t))
        rows.append({
            "indicator": t.indicator,
            "target": t.target,
            f"value_{t.year}": value,
            "ratio": value / t.target,
            "year_reached": None if np.isnan(reached) else int(round(reached)),
        })
    df = pd.DataFrame(rows)
    df["year_reached"] = df["year_reached"].astype("Int64")
    return df


def met_matrix(ds: xr.Dataset, targets: Targets) -> xr.Dataset:
    """Per sample and indicator: whether the target is met in the target year (bool)."""
    return xr.Dataset({t.indicator: t.met(_at_year(ds[t.indicator], t.year)) for t in targets})


def all_met(ds: xr.Dataset, targets: Targets) -> xr.DataArray:
    """Per sample: whether all targets are met together in the target year."""
    met = met_matrix(ds, targets)
    return xr.concat([met[v] for v in met.data_vars], dim="indicator").all("indicator")
