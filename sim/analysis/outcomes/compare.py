"""Several scenarios side by side (``plansim compare``, ``sim.compare``): each scenario's value
in the target year, its share of the target, its difference from each reference scenario and
the year each target is reached, from one Dataset with a ``scenario`` dim (:mod:`sim.dims`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis.outcomes.targets import value_at, year_reached
from sim.dims import SAMPLE, SCENARIO, TIME, scenario_ids, stack_scenarios
from sim.errors import ScenarioError
from sim.model.declarations.targets import Targets


def as_scenarios(runs: xr.Dataset | Mapping[str, xr.Dataset]) -> xr.Dataset:
    """``runs`` as one Dataset with a ``scenario`` dim (a ``{id: Dataset}`` is stacked)."""
    return runs if isinstance(runs, xr.Dataset) else stack_scenarios(runs)


def compare_table(runs: xr.Dataset | Mapping[str, xr.Dataset], targets: Targets,
                  references: str | Sequence[str]) -> pd.DataFrame:
    """Per indicator: each scenario's value in the target year and its share of the target,
    its difference from each reference scenario (absolute and %), and the year each scenario
    reaches the target.

    ``runs``: one run per scenario, dims ``(scenario, sample=1, time)`` (or ``{id: run}``).
    Columns: ``indicator``, ``target``, then per scenario ``<id>_<year>``, then
    ``<id>_ratio``, then for each reference and each other scenario
    ``<id>_minus_<reference>`` and ``<id>_vs_<reference>_pct``, then ``<id>_year_reached``.
    """
    runs = as_scenarios(runs)
    ids = scenario_ids(runs)
    refs = [references] if isinstance(references, str) else list(references)
    for reference in refs:
        if reference not in ids:
            raise ScenarioError(f"reference: {reference!r} is not among the scenarios {ids}")
    rows = []
    for t in targets:
        da = runs[t.indicator]
        if SAMPLE in da.dims:
            da = da.isel({SAMPLE: 0}, drop=True)
        value = value_at(da, t.year)                                   # (scenario,)
        reached = year_reached(da.transpose(SCENARIO, TIME), t)        # (scenario,)
        row: dict[str, object] = {"indicator": t.indicator, "target": t.target}
        for sid in ids:
            row[f"{sid}_{t.year}"] = float(value.sel({SCENARIO: sid}))
        for sid in ids:
            row[f"{sid}_ratio"] = float(value.sel({SCENARIO: sid})) / t.target
        for reference in refs:
            diff = value - value.sel({SCENARIO: reference})
            ref = float(value.sel({SCENARIO: reference}))
            pct = 100.0 * diff / ref if ref else xr.full_like(diff, np.nan)
            for sid in ids:
                if sid != reference:
                    row[f"{sid}_minus_{reference}"] = float(diff.sel({SCENARIO: sid}))
                    row[f"{sid}_vs_{reference}_pct"] = float(pct.sel({SCENARIO: sid}))
        for sid, yr in zip(ids, reached, strict=True):
            row[f"{sid}_year_reached"] = None if np.isnan(yr) else int(round(yr))
        rows.append(row)
    df = pd.DataFrame(rows)
    for c in df.columns:
        if c.endswith("_year_reached"):
            df[c] = df[c].astype("Int64")
    return df
