"""Monte Carlo uncertainty of the plan's outcomes: percentiles, target probabilities, timing.

Input is an ensemble Dataset with dims ``("sample", "time")`` (one sample per draw of the
uncertain assumptions, see :mod:`sim.analysis.ensembles.sampling` and :mod:`sim.analysis.ensembles.ensemble`) and
the plan's :class:`~sim.model.declarations.targets.Targets`. Probabilities come with their Monte Carlo
standard error ``sqrt(p (1 - p) / N)`` (exact for simple random sampling, conservative for a
Latin hypercube).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis.ensembles import sampling as smp
from sim.analysis.ensembles.conditioning import condition_all, summary_table
from sim.analysis.outcomes.targets import ALL_TARGETS as ALL_TARGETS  # re-exported
from sim.analysis.outcomes.targets import at_year, met_array, value_at, year_reached
from sim.dims import SAMPLE, SCENARIO, stack_scenarios
from sim.errors import UncertaintyError
from sim.model.declarations.targets import Target, Targets

if TYPE_CHECKING:
    from sim.analysis.ensembles.conditioning import Conditioned, HistoryMatch
    from sim.analysis.ensembles.sampling import Design
    from sim.analysis.ensembles.uncertainty_spec import UncertaintySpec
    from sim.scenarios import Scenario

Simulate = Callable[["Scenario", "Design"], xr.Dataset]   # (scenario, design) -> Dataset

PERCENTILES: tuple[int, ...] = (5, 25, 50, 75, 95)


def percentiles(da: xr.DataArray, q: Iterable[float] = PERCENTILES) -> xr.DataArray:
    """Percentiles over ``sample``: dims ``("percentile", *other dims)``, NaN-aware.

    Rows are ordered by ``q`` (ascending gives P5 <= P25 <= ... at every time).
    """
    if "sample" not in da.dims:
        raise UncertaintyError(f"variable '{da.name}' has no 'sample' dimension: {da.dims}")
    q = [float(x) for x in q]
    other = [d for d in da.dims if d != "sample"]
    arr = da.transpose("sample", *other).values
    # without NaN the vectorised percentile gives the same numbers, several times faster
    values = (np.nanpercentile(arr, q, axis=0) if np.isnan(arr).any()
              else np.percentile(arr, q, axis=0))
    out = xr.DataArray(values, dims=("percentile", *other),
                       coords={"percentile": q, **{d: da.coords[d] for d in other if d in da.coords}},
                       name=da.name, attrs=dict(da.attrs))
    return out


def indicator_percentiles(ds: xr.Dataset, variables: Iterable[str],
                          q: Iterable[float] = PERCENTILES) -> xr.Dataset:
    """:func:`percentiles` of each variable in ``variables``, as one Dataset."""
    return xr.Dataset({v: percentiles(_var(ds, v), q) for v in variables})


def _var(ds: xr.Dataset, name: str) -> xr.DataArray:
    if name not in ds:
        raise UncertaintyError(
            f"the results have no variable '{name}'; they have {sorted(map(str, ds.data_vars))}"
        )
    return ds[name]


def target_probabilities(ds: xr.Dataset, targets: Targets, year: int | None = None) -> pd.DataFrame:
    """Probability of meeting each target in ``year`` and all of them together.

    Index: indicators then :data:`ALL_TARGETS` (with a ``scenario`` dim: (scenario, indicator),
    the probabilities over the samples of each scenario). Columns: ``target``, ``comparison``,
    ``median`` (of the indicator in that year), ``n_met``, ``n``, ``probability``, ``mc_se``,
    ``year``.
    """
    year = targets.year if year is None else year
    met = met_array(ds, targets, year)                     # (..., sample, indicator)
    n = met.sizes[SAMPLE]
    n_met = met.sum(SAMPLE)
    median = xr.concat([value_at(_var(ds, i), year).median(SAMPLE) for i in targets.indicators],
                       dim="indicator")
    median = median.assign_coords(indicator=np.array(targets.indicators, dtype=object)
                                  ).reindex(indicator=n_met["indicator"])
    stats = xr.Dataset({"median": median, "n_met": n_met})
    by = [SCENARIO] if SCENARIO in stats.dims else []
    out = stats.transpose(*by, "indicator").to_dataframe()[["median", "n_met"]]
    ind = out.index.get_level_values("indicator")
    spec = {t.indicator: (t.target, t.comparison) for t in targets.items}
    out.insert(0, "target", [spec[i][0] if i in spec else np.nan for i in ind])
    out.insert(1, "comparison", [spec[i][1] if i in spec else "all" for i in ind])
    out["n_met"] = out["n_met"].astype(int)
    out["n"] = n
    out["probability"] = out["n_met"] / n
    out["mc_se"] = np.sqrt(out["probability"] * (1 - out["probability"]) / n)
    out["year"] = year
    return out


def first_year(da: xr.DataArray, target: Target) -> np.ndarray:
    """First model year in which ``da`` meets ``target``: array (sample,), NaN if never."""
    return np.asarray(year_reached(da.transpose("sample", "time"), target), dtype=float)


def first_year_counts(ds: xr.Dataset, targets: Targets, *, start: int | None = None,
                      until: int | None = None) -> pd.DataFrame:
    """How many samples first reach each target in each year.

    Index: years ``start..until`` (default: from the plan's start, or the first saved year if
    later, to the declared horizon) and ``'not by {until}'``; columns: the indicators. Each
    column sums to N. Samples that meet a target already in ``start`` or earlier are counted
    in ``start``.
    """
    times = np.asarray(ds["time"].values, dtype=float)
    start = int(start if start is not None else max(times.min(), targets.plan.start))
    until = targets.plan.horizon if until is None else until
    years = list(range(start, until + 1))
    labels: list[int | str] = [*years, f"not by {until}"]
    counts = {}
    for t in targets.items:
        fy = first_year(_var(ds, t.indicator), t)
        fy = np.where(fy < start, start, fy)
        col = [int(np.sum(np.isclose(fy, y))) for y in years]
        col.append(int(np.sum(np.isnan(fy) | (fy > until + 1e-9))))
        counts[t.indicator] = col
    return pd.DataFrame(counts, index=pd.Index(labels, name="first_year", dtype=object))


def compare_scenarios(results: xr.Dataset | Mapping[str, xr.Dataset], targets: Targets,
                      year: int | None = None) -> pd.DataFrame:
    """One row per (scenario, indicator or all_targets): P5, P50, P95 in ``year``, probability
    of meeting the target and its standard error.

    ``results``: one ensemble per scenario on shared samples, dims ``(scenario, sample,
    time)`` (a ``{id: Dataset}`` is stacked)."""
    year = targets.year if year is None else year
    ds = results if isinstance(results, xr.Dataset) else stack_scenarios(results)
    probs = target_probabilities(ds, targets, year)
    q = xr.concat([value_at(ds[i], year).quantile([0.05, 0.5, 0.95], dim=SAMPLE)
                   for i in targets.indicators], dim="indicator")
    q = q.assign_coords(indicator=np.array(targets.indicators, dtype=object),
                        quantile=["P5", "P50", "P95"])
    wide = q.transpose(SCENARIO, "indicator", "quantile").to_series().unstack("quantile")
    out = probs[["target"]].join(wide[["P5", "P50", "P95"]])
    out = out.join(probs[["probability", "mc_se", "n"]])
    out.index = out.index.set_names([SCENARIO, "indicator"])
    return out


@dataclass
class UncertaintyResult:
    """Everything one scenario's uncertainty run produced."""

    scenario: str
    design: Design
    results: xr.Dataset              # dims (sample, time)
    percentiles: xr.Dataset          # per indicator, dims (percentile, time)
    probabilities: pd.DataFrame      # see target_probabilities (+ ``central`` with a central run)
    first_years: pd.DataFrame        # see first_year_counts
    central: xr.Dataset | None = None   # the central forecast (the calibrated run)
    conditioned: Conditioned | None = None   # the history-matched survivors, if conditioned


def analyse(scenario_id: str, design: Design, results: xr.Dataset, targets: Targets,
            q: Iterable[float] = PERCENTILES, until: int | None = None, *,
            central: xr.Dataset | None = None, conditioned: Conditioned | None = None
            ) -> UncertaintyResult:
    """Summarise one ensemble: percentiles, probabilities and first-year counts.

    With ``central`` (the calibrated run, see :func:`sim.analysis.ensembles.conditioning.central_run`)
    the probabilities table gets a ``central`` column: the indicator's central value in the
    target year, the one every command reports.
    """
    probs = target_probabilities(results, targets)
    if central is not None:
        probs.insert(2, "central", [float(at_year(central[i], targets.year)[0])
                                    if i in central else np.nan for i in probs.index])
    return UncertaintyResult(
        scenario=scenario_id,
        design=design,
        results=results,
        percentiles=indicator_percentiles(results, targets.indicators, q),
        probabilities=probs,
        first_years=first_year_counts(results, targets, until=until),
        central=central,
        conditioned=conditioned,
    )


def compute(scenarios: Sequence[Scenario], spec: UncertaintySpec, targets: Targets, *, samples: int, seed: int,
            sampling: str, simulate: Simulate, say: Callable[[str], None] = print,
            match: HistoryMatch | None = None,
            central: Callable[[Scenario], xr.Dataset] | None = None,
            history: Simulate | None = None) -> list[UncertaintyResult]:
    """Run every scenario's ensemble; returns [UncertaintyResult].

    With ``match`` (a :class:`~sim.analysis.ensembles.conditioning.HistoryMatch`) the ensembles are N
    draws of its posterior, the same in every scenario (common random numbers); without it
    one prior design serves every scenario. ``central(scenario)`` gives the central run
    reported beside the percentiles; ``history`` is accepted for older callers and ignored.
    """
    conditioned: list[Conditioned | None] = [None] * len(scenarios)
    if match is not None:   # one set of posterior draws for every scenario
        say(f"{', '.join(str(sc.id) for sc in scenarios)}: {samples} posterior draws")
        conditioned = condition_all(scenarios, spec, samples, seed=seed, simulate=simulate,
                                    match=match, method=sampling, say=say, history=history)
    design, results = None, []
    for i, (sc, cond) in enumerate(zip(scenarios, conditioned, strict=True), 1):
        if cond is None:
            design = design or smp.sample(spec, samples, method=sampling, seed=seed)
            say(f"[{i}/{len(scenarios)}] {sc.id}: {design.n} runs")
            ds = simulate(sc, design)
        else:
            design, ds = cond.design, cond.results
        results.append(analyse(sc.id, design, ds, targets, conditioned=cond,
                               central=central(sc) if central else None))
    return results


def ensemble(results: Sequence[UncertaintyResult]) -> xr.Dataset:
    """The scenarios' ensembles as one Dataset with dims ``(scenario, sample, time)`` (they
    share their samples: one design, or one set of posterior draws)."""
    return stack_scenarios({r.scenario: r.results for r in results})


def tables(results: Sequence[UncertaintyResult], targets: Targets) -> dict[str, pd.DataFrame]:
    """The output tables of ``plansim uncertainty`` by name: ``percentiles`` (scenario,
    indicator, time, central, P..), ``probabilities``, ``first_year`` (the share of the
    samples first meeting each target in each year), ``comparison``,
    ``samples``, and with conditioning ``conditioning`` and ``history_match``."""
    pct, probs, first = [], [], []
    for r in results:
        for ind in r.percentiles.data_vars:
            da = r.percentiles[ind]
            wide = pd.DataFrame(da.values.T, index=da["time"].values,
                                columns=[f"P{int(q)}" for q in da["percentile"].values])
            if r.central is not None and ind in r.central:
                wide.insert(0, "central", r.central[ind].isel(sample=0)
                            .sel(time=wide.index.values).values)
            wide.index.name = "time"
            wide = wide.reset_index()
            wide.insert(0, "indicator", ind)
            wide.insert(0, "scenario", r.scenario)
            pct.append(wide)
        probs.append(r.probabilities.reset_index().assign(scenario=r.scenario))
        fy = r.first_years / r.first_years.sum(axis=0).replace(0, np.nan)   # shares
        fy.index = fy.index.map(str)
        first.append(fy.reset_index().assign(scenario=r.scenario))
    front = ["scenario"]
    comparison = compare_scenarios(ensemble(results), targets)
    comparison.insert(1, "central", [
        float(r.probabilities.loc[ind, "central"]) if "central" in r.probabilities else None
        for r in results for ind in r.probabilities.index])
    out = {
        "percentiles": pd.concat(pct, ignore_index=True),
        "probabilities": _front(pd.concat(probs, ignore_index=True), front),
        "first_year": _front(pd.concat(first, ignore_index=True), front),
        "comparison": comparison.reset_index(),
        "samples": pd.concat([r.design.frame().reset_index().assign(scenario=r.scenario)
                              for r in results], ignore_index=True),
    }
    out["samples"] = _front(out["samples"], front)
    conds = [r.conditioned for r in results if r.conditioned is not None]
    if conds:
        out["conditioning"] = summary_table(conds, conds[0].match.settings)
        out["history_match"] = conds[0].match.table()
    return out


def _front(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return df[cols + [c for c in df.columns if c not in cols]]
