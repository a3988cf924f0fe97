"""Everything ``plansim run`` writes for one scenario, and ``plansim compare`` for several.

Each output directory is assembled in a temporary sibling and swapped in at the end
(:func:`sim.present.outdir.owned_dir`), so an interrupted or failed run leaves the previous
results intact and never a half-written file; only folders plansim wrote are replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis.targets import at_year, year_reached
from sim.model.sectors import Sector
from sim.model.targets import Targets
from sim.present.atomic import save_figure
from sim.present.charts import compare_figure, indicator_figure, sector_figure
from sim.present.columns import Table
from sim.present.fonts import use_cjk_font
from sim.present.labels import LANGS
from sim.present.outdir import owned_dir
from sim.present.summary import compare_summary, fiscal_table, run_summary
from sim.present.tables import write_csv
from sim.present.workbook import indicators_grid, run_variables, variables_grid, write_workbook

Say = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


def timeseries_frame(ds: xr.Dataset) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    """One row per saved time, one column per variable; and each column's unit and description."""
    one = ds.isel(sample=0, drop=True) if "sample" in ds.dims else ds
    cols = [v for v in one.data_vars if one[v].dims == ("time",)]
    df = pd.DataFrame({v: one[v].values for v in cols},
                      index=pd.Index(one.time.values, name="time"))
    units = {v: {"unit": one[v].attrs.get("units", ""),
                 "description": one[v].attrs.get("description", "")} for v in cols}
    return df, units


def _close(fig) -> None:
    plt.close(fig)


def write_scenario(ds: xr.Dataset, scenario, targets: Targets, sectors: Sequence[Sector],
                   out: Path, *, lang: str = "zh", history: pd.DataFrame | None = None,
                   say: Say = _quiet) -> tuple[Path, Table]:
    """Write tables, workbook and charts of one run to ``out/<scenario id>/``; return the
    directory and the summary table (the workbook's first table, for the console)."""
    from sim.analysis.targets import target_table

    use_cjk_font()
    final = Path(out) / scenario.id
    label = scenario.label(lang)
    with owned_dir(final) as tmp:
        say(f"  {scenario.id}: tables")
        ts, units = timeseries_frame(ds)
        write_csv(ts, tmp / "timeseries.csv", units=units)
        write_csv(target_table(ds, targets), tmp / "targets.csv")
        summary = scenario_workbook(tmp / f"{scenario.id}.xlsx", ds, targets, lang, label,
                                    scenario.id)
        say(f"  {scenario.id}: indicator chart")
        n = {lang: targets.count_word(lang) for lang in LANGS}
        fig = indicator_figure({label: ds}, list(targets), lang=lang, history=history,
                               title={"zh": f"{n['zh']}大指标:{scenario.name['zh']}",
                                      "en": f"{n['en'].capitalize()} indicators: "
                                            f"{scenario.name['en']}"})
        save_figure(fig, tmp / "indicators")
        _close(fig)
        for sector in sectors:
            say(f"  {scenario.id}: sector chart {sector.id}")
            fig = sector_figure(ds, list(sector.variables), sector.label, lang=lang)
            save_figure(fig, tmp / f"sector-{sector.id}")
            _close(fig)
    return final, summary[0]


def scenario_workbook(path: Path, ds: xr.Dataset, targets: Targets, lang: str, name: str,
                      sid: str) -> list[Table]:
    """The workbook of one run (:mod:`sim.present.workbook`); returns its summary tables."""
    summary = [run_summary(ds, targets, lang, name)]
    fiscal = fiscal_table({sid: ds}, targets, lang, {sid: name})
    summary += [fiscal] if fiscal is not None else []
    info = run_variables(ds)
    write_workbook(path, lang, title=name, summary=summary,
                   indicators=indicators_grid({name: ds}, targets, lang),
                   variables={"": variables_grid(ds, lang, info)}, info=info)
    return summary


def compare_table(runs: Mapping[str, xr.Dataset], targets: Targets,
                  references: str | Sequence[str]) -> pd.DataFrame:
    """Per indicator: each scenario's value in the target year and its share of the target,
    its difference from each reference scenario (absolute and %), and the year each scenario
    reaches the target."""
    refs = [references] if isinstance(references, str) else list(references)
    rows = []
    for t in targets:
        row: dict[str, object] = {"indicator": t.indicator, "target": t.target}
        values = {sid: float(at_year(ds[t.indicator].isel(sample=0), t.year))
                  for sid, ds in runs.items()}
        for sid, v in values.items():
            row[f"{sid}_{t.year}"] = v
        for sid, v in values.items():
            row[f"{sid}_ratio"] = v / t.target
        for reference in refs:
            ref = values[reference]
            for sid, v in values.items():
                if sid != reference:
                    row[f"{sid}_minus_{reference}"] = v - ref
                    row[f"{sid}_vs_{reference}_pct"] = (100.0 * (v - ref) / ref if ref
                                                        else np.nan)
        for sid, ds in runs.items():
            yr = float(year_reached(ds[t.indicator].isel(sample=0), t))
            row[f"{sid}_year_reached"] = None if np.isnan(yr) else int(round(yr))
        rows.append(row)
    df = pd.DataFrame(rows)
    for c in df.columns:
        if c.endswith("_year_reached"):
            df[c] = df[c].astype("Int64")
    return df


def write_comparison(runs: Mapping[str, xr.Dataset], scenarios: Sequence, targets: Targets,
                     out: Path, *, lang: str = "zh", references: Sequence[str],
                     say: Say = _quiet) -> tuple[Path, list[Table]]:
    """Write the overlay chart, the difference table and the workbook of several runs to the
    result folder ``out`` (the command line passes ``DIR/compare``); return the folder and the
    summary tables (the workbook's first sheet, for the console). The first reference is drawn
    dashed."""
    use_cjk_font()
    labels = {s.id: s.label(lang) for s in scenarios}
    reference = references[0]
    with owned_dir(Path(out)) as tmp:
        table = compare_table(runs, targets, references)
        write_csv(table, tmp / "comparison.csv")
        summary = compare_summary(table, runs, targets, lang, labels, references)
        by_label = {labels[k]: v for k, v in runs.items()}
        infos = {sid: run_variables(ds) for sid, ds in runs.items()}
        title = {"zh": "情景比较：", "en": "Scenario comparison: "}[lang] + ", ".join(
            labels.values())
        write_workbook(tmp / "comparison.xlsx", lang, title=title, summary=summary,
                       indicators=indicators_grid(by_label, targets, lang),
                       variables={sid: variables_grid(ds, lang, infos[sid])
                                  for sid, ds in runs.items()},
                       info={k: v for info in infos.values() for k, v in info.items()})
        say("  overlay chart")
        styles = {labels[reference]: {"linestyle": "--"}}
        fig = indicator_figure(by_label, list(targets), lang=lang, styles=styles,
                               title={"zh": "情景比较", "en": "Scenario comparison"})
        save_figure(fig, tmp / "indicators")
        _close(fig)
        fig = compare_figure(by_label, list(targets), lang=lang, baseline_key=labels[reference])
        save_figure(fig, tmp / "attainment")
        _close(fig)
    return Path(out), summary
