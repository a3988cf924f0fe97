"""Everything ``plansim run`` writes for one scenario, and ``plansim compare`` for several.

Each output directory is assembled in a temporary sibling and swapped in at the end
(:func:`sim.present.outdir.owned_dir`), so an interrupted or failed run leaves the previous
results intact and never a half-written file; only folders plansim wrote are replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import xarray as xr

from sim.analysis.compare import as_scenarios, compare_table
from sim.analysis.targets import target_table
from sim.dims import scenario_runs
from sim.model.sectors import Sector
from sim.model.targets import Targets
from sim.present.atomic import save_figure
from sim.present.charts import compare_figure, indicator_figure, sector_figure
from sim.present.fonts import use_cjk_font
from sim.present.labels import LANGS
from sim.present.outdir import owned_dir
from sim.present.tables import write_csv, write_excel

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
                   say: Say = _quiet) -> tuple[Path, pd.DataFrame]:
    """Write tables, workbook and charts of one run to ``out/<scenario id>/``; return the
    directory and the target table."""
    use_cjk_font()
    final = Path(out) / scenario.id
    label = scenario.label(lang)
    with owned_dir(final) as tmp:
        say(f"  {scenario.id}: tables")
        ts, units = timeseries_frame(ds)
        write_csv(ts, tmp / "timeseries.csv", units=units)
        tt = target_table(ds, targets)
        write_csv(tt, tmp / "targets.csv")
        write_excel(tmp / f"{scenario.id}.xlsx",
                    {"timeseries": ts.reset_index(), "targets": tt},
                    units={"timeseries": units})
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
    return final, tt


def write_comparison(runs: xr.Dataset | Mapping[str, xr.Dataset], scenarios: Sequence,
                     targets: Targets, out: Path, *, lang: str = "zh", reference: str,
                     say: Say = _quiet) -> tuple[Path, pd.DataFrame]:
    """Write the overlay chart and the difference table of several runs (one Dataset with a
    ``scenario`` dim, or ``{id: run}``) to the result folder ``out`` (the command line passes
    ``DIR/compare``)."""
    use_cjk_font()
    labels = {s.id: s.label(lang) for s in scenarios}
    runs = as_scenarios(runs)
    with owned_dir(Path(out)) as tmp:
        table = compare_table(runs, targets, reference)
        write_csv(table, tmp / "comparison.csv")
        write_excel(tmp / "comparison.xlsx", {"comparison": table})
        say("  overlay chart")
        by_label = {labels[k]: v for k, v in scenario_runs(runs).items()}
        styles = {labels[reference]: {"linestyle": "--"}}
        fig = indicator_figure(by_label, list(targets), lang=lang, styles=styles,
                               title={"zh": "情景比较", "en": "Scenario comparison"})
        save_figure(fig, tmp / "indicators")
        _close(fig)
        fig = compare_figure(by_label, list(targets), lang=lang, baseline_key=labels[reference])
        save_figure(fig, tmp / "attainment")
        _close(fig)
    return Path(out), table
