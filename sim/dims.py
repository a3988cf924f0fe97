"""The named axes of every result, declared once.

One scenario's run or ensemble is a Dataset with dims :data:`RUN_DIMS` (``sample`` of length 1
for a single run); several scenarios are one Dataset with dims :data:`SCENARIO_DIMS`, the
``scenario`` coordinate holding the scenario ids and the coordinates ``name_zh``/``name_en``
(along ``scenario``) their names. Analysis over several scenarios reduces over these named
dims (``.mean(SAMPLE)``, ``.sel(scenario="plan")``) instead of looping over dicts.
:func:`stack_scenarios` builds such a Dataset from per-scenario runs, :func:`scenario_runs`
splits it again (e.g. for charts that take ``{label: Dataset}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import xarray as xr

from sim.errors import PlanSimError

SCENARIO = "scenario"
SAMPLE = "sample"
TIME = "time"
#: one scenario: samples x calendar rows
RUN_DIMS = (SAMPLE, TIME)
#: several scenarios on one set of samples
SCENARIO_DIMS = (SCENARIO, SAMPLE, TIME)
#: per-scenario coordinates along ``scenario`` (from each run's attrs)
NAME_COORDS = ("name_zh", "name_en")


def stack_scenarios(runs: Mapping[str, xr.Dataset] | Iterable[xr.Dataset]) -> xr.Dataset:
    """One Dataset with dims :data:`SCENARIO_DIMS` from per-scenario runs (dims
    :data:`RUN_DIMS`), in the given order.

    ``runs``: ``{id: Dataset}`` or Datasets whose attrs carry ``scenario`` (the id) and
    ``name_zh``/``name_en`` (as :meth:`sim.simulate.Simulator.run` sets them). The runs must
    share their ``sample`` and ``time`` coordinates (common random numbers for ensembles).
    """
    if isinstance(runs, Mapping):
        ids, parts = [str(k) for k in runs], list(runs.values())
    else:
        parts = list(runs)
        ids = [str(ds.attrs.get("scenario", i)) for i, ds in enumerate(parts)]
    if not parts:
        raise PlanSimError("scenarios: none given; allowed: one or more runs")
    if len(set(ids)) != len(ids):
        raise PlanSimError(f"scenarios: ids {ids} repeat; allowed: distinct scenario ids")
    names = {c: [str(ds.attrs.get(c, sid)) for ds, sid in zip(parts, ids, strict=True)]
             for c in NAME_COORDS}
    parts = [ds.drop_vars(SCENARIO, errors="ignore") for ds in parts]
    try:
        out = xr.concat(parts, dim=SCENARIO, data_vars="all", coords="minimal",
                        join="exact", combine_attrs="drop_conflicts")
    except ValueError as exc:
        raise PlanSimError(f"scenarios {ids}: the runs do not share their samples and years "
                           f"({exc}); allowed: runs on one set of samples") from exc
    out = out.assign_coords({SCENARIO: np.array(ids, dtype=object),
                             **{c: (SCENARIO, np.array(v, dtype=object))
                                for c, v in names.items()}})
    out.attrs.pop("scenario", None)
    for c in NAME_COORDS:
        out.attrs.pop(c, None)
    order = [d for d in SCENARIO_DIMS if d in out.dims]
    return out.transpose(*order, ...)


def scenario_ids(ds: xr.Dataset) -> list[str]:
    """The scenario ids of a Dataset with a ``scenario`` dim."""
    if SCENARIO not in ds.dims:
        raise PlanSimError(f"the results have no '{SCENARIO}' dimension: {tuple(ds.dims)}")
    return [str(s) for s in ds[SCENARIO].values]


def scenario_runs(ds: xr.Dataset) -> dict[str, xr.Dataset]:
    """``{id: Dataset}`` of a Dataset with a ``scenario`` dim: each with dims :data:`RUN_DIMS`
    and attrs ``scenario``, ``name_zh``, ``name_en`` as a single run has them."""
    out = {}
    for sid in scenario_ids(ds):
        one = ds.sel({SCENARIO: sid})
        attrs = {**ds.attrs, "scenario": sid,
                 **{c: str(one[c].values) for c in NAME_COORDS if c in one.coords}}
        one = one.drop_vars([SCENARIO, *(c for c in NAME_COORDS if c in one.coords)])
        one.attrs = attrs
        out[sid] = one
    return out


def scenario_name(ds: xr.Dataset, sid: str, lang: str) -> str:
    """The name of scenario ``sid`` in ``lang`` (its id when the Dataset has no names)."""
    coord = f"name_{lang}"
    if coord not in ds.coords:
        return sid
    return str(np.asarray(ds[coord].sel({SCENARIO: sid}).values))
