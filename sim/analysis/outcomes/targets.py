"""Check results against the plan's outcomes (model/targets.yaml): the value in the target
year, the ratio to the target, the first year each target is met, and the derived outcomes.

Indicators are read at the row of year ``Y``: stocks at the end of ``Y``, flows as the total over
``Y`` (ARCHITECTURE.md, "Time convention"). All functions work on every sample at once.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import xarray as xr

from sim.dims import SAMPLE, SCENARIO, TIME
from sim.errors import UncertaintyError
from sim.model.declarations.targets import Derived, Target, Targets

#: the row/column of "every target met together" in probability tables
ALL_TARGETS = "all_targets"


def value_at(da: xr.DataArray, year: float) -> xr.DataArray:
    """``da`` at saved time ``year``, every other named dim kept (``scenario``, ``sample``)."""
    times = np.asarray(da[TIME].values, dtype=float)
    hit = np.flatnonzero(np.isclose(times, year, atol=1e-6))
    if not hit.size:
        raise UncertaintyError(
            f"year {year} is not among the saved times {times.min()}..{times.max()}"
        )
    return da.isel({TIME: int(hit[0])}, drop=True).astype(float)


def at_year(da: xr.DataArray, year: float) -> np.ndarray:
    """Values of ``da`` at saved time ``year`` (every other dimension kept): array."""
    return np.asarray(value_at(da, year).values, dtype=float)


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


def _one_run(da: xr.DataArray) -> xr.DataArray:
    if SAMPLE in da.dims:
        if da.sizes[SAMPLE] != 1:
            raise UncertaintyError(
                f"target_table takes one run per scenario; '{da.name}' has "
                f"{da.sizes[SAMPLE]} samples (for ensembles use "
                "sim.analysis.ensembles.uncertainty.target_probabilities)")
        da = da.isel({SAMPLE: 0}, drop=True)
    return da


def target_table(ds: xr.Dataset, targets: Targets) -> pd.DataFrame:
    """One row per indicator for a single run: indicator, target, value in the target year,
    ratio, year reached (NaN where not reached by the end of the run).

    With a ``scenario`` dim (one run per scenario, see :mod:`sim.dims`) one row per
    (scenario, indicator), with a leading ``scenario`` column."""
    cols: dict[str, xr.DataArray] = {}
    for t in targets:
        da = _one_run(ds[t.indicator])
        value = value_at(da, t.year)
        reached = xr.DataArray(year_reached(da, t), dims=value.dims, coords=value.coords)
        cols[t.indicator] = xr.Dataset({"value": value, "reached": reached})
    both = xr.concat(list(cols.values()), dim="indicator").assign_coords(
        indicator=np.array(list(cols), dtype=object))
    by = [SCENARIO] if SCENARIO in both.dims else []
    frame = both.transpose(*by, "indicator").to_dataframe()[["value", "reached"]].reset_index()
    target = frame["indicator"].map({t.indicator: t.target for t in targets})
    year = targets.year
    df = pd.DataFrame({**{c: frame[c] for c in by}, "indicator": frame["indicator"],
                       "target": target, f"value_{year}": frame["value"],
                       "ratio": frame["value"] / target})
    df["year_reached"] = pd.array([None if np.isnan(r) else int(round(r))
                                   for r in frame["reached"]], dtype="Int64")
    return df


def met_array(ds: xr.Dataset, targets: Targets, year: int | None = None) -> xr.DataArray:
    """Whether each sample meets each target in ``year`` (default the targets' year).

    Bool DataArray with the results' dims except ``time`` and a last dim ``indicator``
    (the indicators, then :data:`ALL_TARGETS`); NaN never meets a target.
    """
    year = targets.year if year is None else year
    cols = []
    for t in targets.items:
        if t.indicator not in ds:
            raise UncertaintyError(f"the results have no variable '{t.indicator}' (an indicator "
                                   "of model/targets.yaml)")
        v = value_at(ds[t.indicator], year)
        cols.append(v.copy(data=np.asarray(t.met(v.values), dtype=bool) & ~np.isnan(v.values)))
    met = xr.concat(cols, dim="indicator", coords="minimal", compat="override")
    met = xr.concat([met, met.all("indicator")], dim="indicator")
    met = met.assign_coords(indicator=np.array([*targets.indicators, ALL_TARGETS], dtype=object))
    return met.transpose(..., "indicator").rename("met")


def met_matrix(ds: xr.Dataset, targets: Targets, year: int | None = None) -> pd.DataFrame:
    """Whether each sample meets each target in ``year`` (default the targets' year).

    DataFrame (sample x indicator) of bools, plus column :data:`ALL_TARGETS`; one scenario
    (see :func:`met_array` for named dims).
    """
    met = met_array(ds, targets, year)
    frame = pd.DataFrame(met.transpose(SAMPLE, "indicator").values,
                         columns=[str(i) for i in met["indicator"].values])
    frame.index.name = SAMPLE
    return frame


def derived_variables(targets: Targets, known: Iterable[str],
                      cost_variable: str | None = None) -> list[str]:
    """Model variables the derived outcomes need, of those in ``known`` (the model's names).

    ``cost_variable`` replaces the variables of the ``plan_sum`` outcomes (the fiscal cost).
    """
    known = set(known)
    if cost_variable is not None and cost_variable not in known:
        raise UncertaintyError(f"cost_variable {cost_variable!r} is not a model variable")
    names: list[str] = []
    for d in targets.derived:
        if d.kind == "plan_sum":
            if cost_variable is not None:
                names.append(cost_variable)
            elif all(v in known for v in d.add):
                names += [*d.add, *(v for v in d.subtract if v in known)]
        elif d.kind == "at_target_year" and d.variable in known:
            names.append(d.variable)
    return list(dict.fromkeys(names))


def plan_sum(ds: xr.Dataset, add: Iterable[str], subtract: Iterable[str] = (), *,
             start: int, end: int) -> np.ndarray:
    """Sum over years ``start..end`` of the ``add`` variables minus the ``subtract`` ones, per
    sample (calendar rows hold each year's total, so the sum is the money of those years)."""
    years = range(start, end + 1)
    total = sum(at_year(ds[v], y) for v in add for y in years)
    for v in subtract:
        total = total - sum(at_year(ds[v], y) for y in years)
    return np.asarray(total, dtype=float)


def derived_value(ds: xr.Dataset, d: Derived, targets: Targets, *, year: int | None = None,
                  cost_variable: str | None = None) -> np.ndarray | None:
    """The derived outcome ``d`` per sample in ``year`` (default the target year), or None
    when the results lack what it needs.

    ``plan_sum`` sums the plan years ``start..year``; with ``cost_variable`` a
    ``cumulative_*`` stock gives its increase from ``start - 1`` to ``year`` and a flow the sum
    of its annual values.
    """
    year = targets.year if year is None else year
    start = targets.plan.start
    if d.kind == "all_met":
        return met_matrix(ds, targets, year)[ALL_TARGETS].astype(float).to_numpy()
    if d.kind == "at_target_year":
        return at_year(ds[d.variable], year) if d.variable in ds else None
    if cost_variable is not None:
        if cost_variable not in ds:
            raise UncertaintyError(f"cost_variable {cost_variable!r} is not in the results")
        if cost_variable.startswith("cumulative"):
            return at_year(ds[cost_variable], year) - at_year(ds[cost_variable], start - 1)
        return plan_sum(ds, [cost_variable], start=start, end=year)
    if not all(v in ds for v in d.add):
        return None
    return plan_sum(ds, d.add, [v for v in d.subtract if v in ds], start=start, end=year)


def fiscal_cost(ds: xr.Dataset, targets: Targets) -> np.ndarray | None:
    """The fiscal cost of the plan years per sample (亿元): the ``plan_sum`` derived outcome of
    model/targets.yaml, or None when none is declared or the results lack its variables."""
    for d in targets.derived:
        if d.kind == "plan_sum":
            return derived_value(ds, d, targets)
    return None


def fiscal_cost_outcome(targets: Targets) -> Derived | None:
    """The declared ``plan_sum`` outcome (the fiscal cost), whose label and unit tables show."""
    return next((d for d in targets.derived if d.kind == "plan_sum"), None)
