"""Everything ``plansim run`` writes for one scenario, and ``plansim compare`` for several.

Each output directory is assembled in a temporary sibling and swapped in at the end
(:func:`sim.present.output.outdir.owned_dir`), so an interrupted or failed run leaves the previous
results intact and never a half-written file; only folders plansim wrote are replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd
import xarray as xr

from sim.analysis.outcomes.compare import as_scenarios, compare_table
from sim.analysis.outcomes.targets import target_table
from sim.dims import scenario_runs
from sim.model.declarations.sectors import Sector
from sim.model.declarations.targets import Targets
from sim.model.declarations.words import entry, word
from sim.present.figures.charts import compare_figure, indicator_figure, sector_figure
from sim.present.figures.fonts import use_cjk_font
from sim.present.figures.styles import ScenarioStyle, relabel, scenario_styles
from sim.present.labels import LANGS
from sim.present.output.atomic import DEFAULT_FORMATS
from sim.present.output.outdir import owned_dir
from sim.present.output.render import FigureJob, FigurePool, Rendering, write_renderings
from sim.present.tabular.columns import Table
from sim.present.tabular.summary import compare_summary, fiscal_table, run_summary
from sim.present.tabular.tables import write_csv
from sim.present.tabular.workbook import (
    indicators_grid,
    run_variables,
    variables_grid,
    write_workbook,
)

Say = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


def timeseries_frame(ds: xr.Dataset) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    """One row per saved time, one column per variable; and each column's unit and description."""
    one = ds.isel(sample=0, drop=True) if "sample" in ds.dims else ds
    cols = {v: var for v in one.data_vars   # Variables: no DataArray per read
            if (var := one.variables[v]).dims == ("time",)}
    df = pd.DataFrame({v: var.values for v, var in cols.items()},
                      index=pd.Index(one.time.values, name="time"))
    units = {v: {"unit": var.attrs.get("units", ""),
                 "description": var.attrs.get("description", "")} for v, var in cols.items()}
    return df, units


def scenario_figures(ds: xr.Dataset, scenario, targets: Targets, sectors: Sequence[Sector], *,
                     lang: str = "zh", history: pd.DataFrame | None = None,
                     style: ScenarioStyle | None = None,
                     formats: Sequence[str] = DEFAULT_FORMATS) -> list[FigureJob]:
    """The charts of one run as jobs (:mod:`sim.present.output.render`): the indicators, then one
    per sector; each gets only the variables it draws."""
    style = style or scenario_styles([scenario.id])[scenario.id]
    label = scenario.label(lang)
    n = {lang: targets.count_word(lang) for lang in LANGS}
    title = {k: word("run.indicators_title", k, n=n[k], N=n[k].capitalize(), name=scenario.name[k])
             for k in LANGS}
    formats = tuple(formats)
    jobs = [FigureJob("indicators", indicator_figure,
                      ({label: ds[list(targets.indicators)]}, list(targets)),
                      {"lang": lang, "history": history, "styles": {label: style},
                       "title": title}, formats)]
    for sector in sectors:
        jobs.append(FigureJob(f"sector-{sector.id}", sector_figure,
                              (ds[list(sector.variables)], list(sector.variables),
                               sector.label),
                              {"lang": lang, "styles": {"": style}}, formats))
    return jobs


def write_scenario(ds: xr.Dataset, scenario, targets: Targets, sectors: Sequence[Sector],
                   out: Path, *, lang: str = "zh", history: pd.DataFrame | None = None,
                   say: Say = _quiet, style: ScenarioStyle | None = None,
                   formats: Sequence[str] = DEFAULT_FORMATS,
                   figures: Sequence[Rendering] | None = None,
                   summary: list[Table] | None = None) -> tuple[Path, Table]:
    """Write tables, workbook and charts of one run to ``out/<scenario id>/``; return the
    directory and the summary table (the workbook's first table, for the console). ``style``:
    the scenario's style among the run's (:func:`sim.present.figures.styles.scenario_styles`; default:
    its style alone); ``formats``: the files of each chart (:func:`save_figure`).
    ``figures``: the charts already submitted to a :class:`~sim.present.output.render.FigurePool`
    (:func:`scenario_figures`), written when rendered; default: rendered here. ``summary``:
    the workbook's summary tables if already made (:func:`scenario_summary`, so the command
    prints them before any file is written); default: made here."""
    use_cjk_font()
    final = Path(out) / scenario.id
    label = scenario.label(lang)
    if figures is None:
        figures = FigurePool(0).submit_all(scenario_figures(
            ds, scenario, targets, sectors, lang=lang, history=history, style=style,
            formats=formats))
    with owned_dir(final, langs=lang) as tmp:
        say(f"  {scenario.id}: tables")
        ts, units = timeseries_frame(ds)
        write_csv(ts, tmp / "timeseries.csv", units=units)
        write_csv(target_table(ds, targets), tmp / "targets.csv")
        summary = scenario_workbook(tmp / f"{scenario.id}.xlsx", ds, targets, lang, label,
                                    scenario.id, summary)
        say(f"  {scenario.id}: charts")
        write_renderings(figures, tmp, say)
    return final, summary[0]


def scenario_summary(ds: xr.Dataset, targets: Targets, lang: str, name: str,
                     sid: str) -> list[Table]:
    """The summary tables of one run (the workbook's first sheet; the first is the console's
    table): made from the numbers alone, before anything is written."""
    summary = [run_summary(ds, targets, lang, name)]
    fiscal = fiscal_table({sid: ds}, targets, lang, {sid: name})
    return summary + ([fiscal] if fiscal is not None else [])


def scenario_workbook(path: Path, ds: xr.Dataset, targets: Targets, lang: str, name: str,
                      sid: str, summary: list[Table] | None = None) -> list[Table]:
    """The workbook of one run (:mod:`sim.present.tabular.workbook`); returns its summary tables
    (``summary`` if given, else :func:`scenario_summary`)."""
    if summary is None:
        summary = scenario_summary(ds, targets, lang, name, sid)
    info = run_variables(ds)
    write_workbook(path, lang, title=name, summary=summary,
                   indicators=indicators_grid({name: ds}, targets, lang),
                   variables={"": variables_grid(ds, lang, info)}, info=info)
    return summary


def write_comparison(runs: xr.Dataset | Mapping[str, xr.Dataset], scenarios: Sequence,
                     targets: Targets, out: Path, *, lang: str = "zh",
                     references: Sequence[str], say: Say = _quiet,
                     formats: Sequence[str] = DEFAULT_FORMATS,
                     pool: FigurePool | None = None,
                     show: Callable[[list[Table]], None] | None = None
                     ) -> tuple[Path, list[Table]]:
    """Write the overlay chart, the difference table and the workbook of several runs (one
    Dataset with a ``scenario`` dim, or ``{id: run}``) to the result folder ``out`` (the
    command line passes ``DIR/compare``); return the folder and the summary tables (the
    workbook's first sheet, for the console). The first reference is drawn dashed;
    ``formats``: the files of each chart, rendered by ``pool`` (a
    :class:`~sim.present.output.render.FigurePool`) while the tables are written, else here.
    ``show`` is called with the summary tables as soon as they exist, before any file is
    written (the command line prints them)."""
    use_cjk_font()
    labels = {s.id: s.label(lang) for s in scenarios}
    reference = references[0]
    runs = as_scenarios(runs)
    by_id = scenario_runs(runs)
    by_label = {labels[k]: v[list(targets.indicators)] for k, v in by_id.items()}
    styles = relabel(scenario_styles(list(by_id), reference), labels)
    formats = tuple(formats)
    figures = (pool or FigurePool(0)).submit_all([
        FigureJob("indicators", indicator_figure, (by_label, list(targets)),
                  {"lang": lang, "styles": styles,
                   "title": entry("run.compare_chart")}, formats),
        FigureJob("attainment", compare_figure, (by_label, list(targets)),
                  {"lang": lang, "baseline_key": labels[reference], "styles": styles},
                  formats)])
    table = compare_table(runs, targets, references)
    summary = compare_summary(table, by_id, targets, lang, labels, references)
    if show is not None:
        show(summary)
    with owned_dir(Path(out), langs=lang) as tmp:
        write_csv(table, tmp / "comparison.csv")
        infos = {sid: run_variables(ds) for sid, ds in by_id.items()}
        title = word("run.compare_title", lang) + ", ".join(
            labels.values())
        write_workbook(tmp / "comparison.xlsx", lang, title=title, summary=summary,
                       indicators=indicators_grid({labels[k]: v for k, v in by_id.items()},
                                                  targets, lang),
                       variables={sid: variables_grid(ds, lang, infos[sid])
                                  for sid, ds in by_id.items()},
                       info={k: v for info in infos.values() for k, v in info.items()})
        say("  charts")
        write_renderings(figures, tmp, say)
    return Path(out), summary
