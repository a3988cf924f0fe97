"""A sensitivity study of one scenario by a design method: draw the design (from the
history-conditioned marginals when a history match is given), run it, analyse every outcome and
every plan year, run the tornado; the output tables by name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis.ensembles import conditioning, sampling
from sim.analysis.ensembles.conditioning import EmpiricalSpec
from sim.analysis.ensembles.ensemble import DEFAULT_CHUNK
from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
from sim.analysis.outcomes.targets import at_year
from sim.analysis.sensitivity.base import get_method
from sim.analysis.sensitivity.core import (
    analyse_outputs,
    outputs_at_year,
    per_year_indices,
    tornado_table,
)
from sim.analysis.sensitivity.given_data import given_data_first_order
from sim.errors import UncertaintyError
from sim.model.declarations.targets import Targets

if TYPE_CHECKING:
    from sim.analysis.ensembles.conditioning import HistoryMatch
    from sim.analysis.ensembles.sampling import Design
    from sim.analysis.ensembles.uncertainty_spec import UncertaintySpec
    from sim.scenarios import Scenario

#: (scenario, design) -> results Dataset (sample, time)
Simulate = Callable[["Scenario", "Design"], xr.Dataset]
#: the table of the sample whose marginals the design was drawn from (history-conditioned)
MARGINALS = "design_marginals"
#: design rows simulated at a time: the results of one block (every column the outcomes, the
#: checks and the history match read, every year) are reduced to what the study keeps before
#: the next block runs, so memory does not grow with the design; the engine's default chunk,
#: so a block is one engine call (no concatenation of chunks)
BLOCK = DEFAULT_CHUNK


@dataclass(frozen=True)
class Reduced:
    """What a study keeps of the design's runs: ``outputs`` (sample x outcome), ``per_year``
    (indicator -> DataArray (sample, time) over the plan years) and ``passes`` (bool per
    sample: passing the checks; None without a posterior)."""

    outputs: pd.DataFrame
    per_year: dict[str, xr.DataArray]
    passes: np.ndarray | None


def run_reduced(simulate: Simulate, scenario: Scenario, design: Design, targets: Targets,
                years: Sequence[int], cost_variable: str | None,
                match: HistoryMatch | None, block: int = BLOCK) -> Reduced:
    """Run ``design`` in blocks of ``block`` rows and keep only what the study analyses."""
    outs, passes, per = [], [], {ind: [] for ind in targets.indicators}
    for lo in range(0, design.n, block):
        hi = min(design.n, lo + block)
        part = replace(design, unit=design.unit[lo:hi], values=design.values[lo:hi])
        ds = simulate(scenario, part)
        outs.append(outputs_at_year(ds, targets, cost_variable=cost_variable))
        for ind in targets.indicators:
            per[ind].append(np.stack([at_year(ds[ind], y) for y in years], axis=1))
        if match is not None:
            passes.append(match.plausible(ds))
        del ds
    outputs = pd.concat(outs, ignore_index=True).rename_axis("sample")
    per_year = {ind: xr.DataArray(np.concatenate(v), dims=("sample", "time"),
                                  coords={"time": np.asarray(years, dtype=float)})
                for ind, v in per.items()}
    return Reduced(outputs, per_year, np.concatenate(passes) if passes else None)


#: an outcome met (or missed) in fewer than this share of the design's samples is too rare to
#: estimate indices of: they would be noise from the few samples where it happens
RARE = 0.02


def rare_outcomes(outputs: pd.DataFrame, rare: float = RARE) -> dict[str, float]:
    """``{outcome: share of samples meeting it}`` of the yes/no outcomes (every value 0 or 1)
    met or missed in fewer than ``rare`` of the samples."""
    out = {}
    for col in outputs.columns:
        v = outputs[col].to_numpy(float)
        v = v[np.isfinite(v)]
        if len(v) and np.isin(v, (0.0, 1.0)).all():
            share = float(v.mean())
            if min(share, 1 - share) < rare:
                out[str(col)] = share
    return out


def compute_indices(scenario: Scenario, spec: UncertaintySpec, targets: Targets, *, method: str,
                    samples: int, seed: int, second_order: bool, simulate: Simulate,
                    cost_variable: str | None = None,
                    say: Callable[[str], None] = print, match: HistoryMatch | None = None,
                    center: dict[str, float] | None = None,
                    given_data: bool = True) -> dict[str, pd.DataFrame]:
    """Run the design and the tornado runs; return the output tables by name.

    With ``match`` (a :class:`~sim.analysis.ensembles.conditioning.HistoryMatch`) the designs are drawn
    from the marginals of posterior draws; ``center`` (assumption
    values of the central run) is the tornado's centre (default: the medians).
    Tables: ``indices`` (long: output, parameter, ...), ``second_order`` (sobol with S2),
    ``per_year_<indicator>`` (year x parameter), ``tornado_<output>`` (parameter x low, high,
    swing, central), ``design`` (one row: how to draw the design again, see
    :func:`regenerate_design`; the design itself, N(D+2) or N(2D+2) rows, is not returned),
    :data:`MARGINALS` (with ``match``: the survivors it was drawn from), ``conditioning`` and
    ``given_data_S1``
    (with ``match``: first-order indices on the history-matched ensemble itself, a check on
    the marginals' independence; skipped with ``given_data=False``).
    """
    m = get_method(method, ("design",))
    dist, cond = spec, None
    if match is not None:
        n = match.settings.sensitivity_samples
        say(f"{scenario.id}: {n} posterior draws for the marginals")
        cond = conditioning.condition(scenario, spec, n, seed=seed, simulate=simulate,
                                      match=match, say=say)
        dist = conditioning.marginals(cond)
    design = m.design(dist, samples, seed=seed, second_order=second_order)
    say(f"{scenario.id}: {method} design, {design.n} runs over {spec.dim} assumptions")
    years = targets.plan.years
    run = run_reduced(simulate, scenario, design, targets, years, cost_variable, match)
    long, second = analyse_outputs(design, run.outputs, method=method, seed=seed)
    long = long.reset_index()
    rare = rare_outcomes(run.outputs)
    if rare:   # no indices where the event is (almost) never or always the case
        say(f"{scenario.id}: too rare to estimate: " + ", ".join(
            f"{k} (met in {v:.1%} of samples)" for k, v in rare.items()))
        values = [c for c in long.columns if c not in ("output", "parameter")]
        long.loc[long["output"].isin(list(rare)), values] = np.nan
    long["met_share"] = long["output"].map(rare)
    out: dict[str, pd.DataFrame] = {"indices": long}
    if second is not None:
        out["second_order"] = second.reset_index()
    say(f"{scenario.id}: indices per year {years[0]}-{years[-1]}")
    for ind in targets.indicators:
        out[f"per_year_{ind}"] = per_year_indices(design, run.per_year[ind], years,
                                                  method=method, seed=seed)
    oat = sampling.one_at_a_time(dist, center=center)
    say(f"{scenario.id}: tornado, {oat.n} runs")
    oat_out = outputs_at_year(simulate(scenario, oat), targets, cost_variable=cost_variable)
    for col in oat_out.columns:
        table, base = tornado_table(oat, oat_out[col].to_numpy())
        out[f"tornado_{col}"] = table.assign(central=base)
    out["design"] = design_recipe(design, dist, m.name)
    if cond is not None:
        out[MARGINALS] = cond.design.frame().reset_index(drop=True)
        consistent = run.passes
        out["conditioning"] = conditioning.summary_table([cond], match.settings).assign(
            design_runs=design.n, design_passing_checks=float(consistent.mean()))
        say(f"{scenario.id}: {cond.kept} posterior draws; {consistent.mean():.0%} of the "
            f"{method} design passes the checks")
    if cond is not None and given_data:
        cond_out = outputs_at_year(cond.results, targets, cost_variable=cost_variable)
        out["given_data_S1"] = given_data_first_order(cond.design, cond_out,
                                                      seed=seed).reset_index()
    return out


def design_recipe(design: Design, dist: UncertaintySpec | EmpiricalSpec, method: str
                  ) -> pd.DataFrame:
    """One row saying how :func:`regenerate_design` draws ``design`` again: the method, the
    design kind, seed, base N, second order, rows, assumptions, and what it was drawn from
    (the :data:`MARGINALS` table, or the uncertainty file)."""
    source = MARGINALS if getattr(dist, "sample", None) is not None else str(dist.path)
    return pd.DataFrame([{
        "method": method, "design": design.method, "seed": design.seed,
        "samples": design.base_n, "second_order": bool(design.second_order), "runs": design.n,
        "assumptions": len(design.names), "drawn_from": source,
        "regenerate": "sim.analysis.sensitivity.regenerate_design(folder)"}])


def regenerate_design(recipe: pd.DataFrame | str | Path, marginals: pd.DataFrame | None = None,
                      *, spec: UncertaintySpec | None = None) -> Design:
    """The design a sensitivity study ran, drawn again from its ``design`` table (a DataFrame,
    or the result folder holding ``design.csv`` and, when conditioned, ``design_marginals.csv.gz``).

    The same numbers as the study's: the same method, seed and N over the same marginals (an
    unconditioned design: over the uncertainty file it names, or ``spec`` when given).
    """
    if not isinstance(recipe, pd.DataFrame):
        folder = Path(recipe)
        recipe = pd.read_csv(folder / "design.csv")
        gz = folder / f"{MARGINALS}.csv.gz"
        if marginals is None and gz.is_file():
            marginals = pd.read_csv(gz)
    row = recipe.iloc[0]
    if row["drawn_from"] == MARGINALS:
        if marginals is None:
            raise UncertaintyError(f"design: drawn from the {MARGINALS} table; pass it")
        dist: UncertaintySpec | EmpiricalSpec = EmpiricalSpec(
            list(marginals.columns), marginals.to_numpy(dtype=float))
    else:
        dist = spec if spec is not None else load_uncertainty(row["drawn_from"], parameters=None)
    seed = None if pd.isna(row["seed"]) else int(row["seed"])
    return get_method(str(row["method"]), ("design",)).design(
        dist, int(row["samples"]), seed=seed, second_order=bool(row["second_order"]))
