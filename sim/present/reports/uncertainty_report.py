"""The ``plansim uncertainty`` report: fan charts of each scenario's indicators with a panel of
target probabilities, and the atomic write of the tables (:func:`sim.analysis.ensembles.uncertainty.tables`)
and figures."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.ensembles.uncertainty import UncertaintyResult, tables
from sim.model.declarations.targets import Targets
from sim.model.declarations.words import word
from sim.present.figures.analysis_charts import fan_chart
from sim.present.figures.chartutil import new_figure
from sim.present.figures.layout import fit_margins
from sim.present.figures.styles import scenario_styles
from sim.present.labels import LANGS, format_share, label
from sim.present.output.atomic import save_figure
from sim.present.output.outdir import owned_dir
from sim.present.tabular.columns import HEADERS, Table
from sim.present.tabular.summary import fiscal_table, uncertainty_summary
from sim.present.tabular.tables import write_csv
from sim.present.tabular.workbook import (
    VariableInfo,
    fits_excel,
    indicators_grid,
    run_variables,
    write_workbook,
)


def fan_figure(result: UncertaintyResult, targets: Targets, lang: str,
               title: str | None = None, color: str | None = None) -> Figure:
    """Fan charts, one panel per indicator (targets drawn) and a panel of probabilities, in a
    grid of three columns sized from the number of indicators; ``color``: the scenario's
    (:func:`sim.present.figures.styles.scenario_styles`)."""
    import math

    nrows = math.ceil((len(targets.items) + 1) / 3)
    fig, axes = new_figure(nrows, 3, figsize=(15, 4.25 * nrows), layout=None)
    flat = axes.ravel()
    central = word("uncertainty.central", lang)
    for ax, t in zip(flat[:len(targets.items)], targets.items, strict=True):
        da = result.percentiles[t.indicator]
        fan_chart(ax, da, target=t, target_year=targets.year, lang=lang, title=t.label,
                  plan_period=targets.plan.period, legend=False,
                  **({"color": color} if color else {}))
        if result.central is not None and t.indicator in result.central:
            c = result.central[t.indicator].isel(sample=0)
            ax.plot(c["time"].values, c.values, color="black", lw=1.0, ls="--", label=central)
        if result.conditioned is not None:
            obs = result.conditioned.match.obs
            obs = obs[obs["variable"] == t.indicator]
            ax.plot(obs["year"], obs["value"], "o", color="tab:red", ms=4,
                    label=word("uncertainty.history", lang))
    for ax in flat[len(targets.items):]:
        ax.set_axis_off()
    side = flat[len(targets.items)]
    probability_panel(side, result, targets, lang)
    side.legend(*flat[0].get_legend_handles_labels(), loc="lower left", frameon=False,
                fontsize=9, ncols=2)   # one legend for every panel
    return fit_margins(fig, axes, fig.suptitle(title) if title else None)


def probability_panel(ax: Axes, result: UncertaintyResult, targets: Targets, lang: str) -> Axes:
    """Text panel: probability of meeting each target, with its Monte Carlo standard error
    where that is at least 1% (:func:`sim.present.labels.format_share`: "<1%", ">99%")."""
    probs = result.probabilities
    head = word("uncertainty.p_met", lang, year=targets.year)
    lines = [head, ""]
    for t in targets.items:
        p = probs.loc[t.indicator]
        lines.append(f"{label(t.label, lang)}: {format_share(p['probability'], p['mc_se'])}")
    p = probs.loc["all_targets"]
    every = label(targets.labels()["all_targets"], lang)
    lines += ["", f"{every}: {format_share(p['probability'], p['mc_se'])}"]
    ax.text(0.02, 0.95, "\n".join(lines), va="top", ha="left", fontsize=11,
            transform=ax.transAxes)
    return ax


def summary_tables(results: Sequence[UncertaintyResult], targets: Targets, lang: str,
                   names: Mapping[str, str] | None = None,
                   frames: Mapping[str, Any] | None = None) -> list[Table]:
    """The summary the console prints and the workbook's first sheet shows: per scenario the
    targets (:func:`sim.present.tabular.summary.uncertainty_summary`), then the fiscal cost of the
    central runs when they carry it."""
    names = dict(names or {})
    frames = frames if frames is not None else tables(results, targets)
    out = [uncertainty_summary(r, frames["comparison"], targets, lang,
                               names.get(r.scenario, r.scenario)) for r in results]
    central = {r.scenario: r.central for r in results if r.central is not None}
    ref = "baseline" if "baseline" in central else results[0].scenario
    fiscal = fiscal_table(central, targets, lang, {k: names.get(k, k) for k in central},
                          [ref]) if central else None
    return out + ([fiscal] if fiscal is not None else [])


def write_outputs(results: Sequence[UncertaintyResult], targets: Targets, final: Path, *,
                  scenario_names: dict[str, dict[str, str]] | None = None,
                  say: Callable[[str], None] = print, lang: str = "zh",
                  summary: Sequence[Table] | None = None,
                  frames: Mapping[str, Any] | None = None,
                  formats: Sequence[str] = ("png",)) -> Path:
    """Write every table (CSV, and a workbook in the layout of :mod:`sim.present.tabular.workbook`
    in ``lang`` with ``summary`` first, default :func:`summary_tables`) and the fan charts into
    ``final`` atomically (each chart in ``formats``). Tables too long for a workbook go to CSV
    only. ``frames``: the tables of :func:`sim.analysis.ensembles.uncertainty.tables` if the caller has
    them already."""
    frames = frames if frames is not None else tables(results, targets)
    styles = scenario_styles([r.scenario for r in results])
    names = {sid: n.get(lang, sid) for sid, n in (scenario_names or {}).items()}
    if summary is None:
        summary = summary_tables(results, targets, lang, names, frames)
    stats = {}
    for r in results:
        by = {} if r.central is None else {label(HEADERS["central"], lang): r.central}
        for q in r.percentiles["percentile"].values:
            by[f"P{int(q)}"] = r.percentiles.sel(percentile=q)
        stats[names.get(r.scenario, r.scenario)] = by
    with owned_dir(final, langs=lang) as tmp:
        for name, df in frames.items():
            write_csv(df, tmp / f"{name}.csv")
        head = word("uncertainty.title", lang)
        write_workbook(tmp / "uncertainty.xlsx", lang,
                       title=head + ", ".join(names.get(r.scenario, r.scenario)
                                              for r in results),
                       summary=summary, indicators=indicators_grid({}, targets, lang, stats),
                       tables={k: v for k, v in frames.items() if fits_excel(v)},
                       csv_only={k: len(v) for k, v in frames.items() if not fits_excel(v)},
                       info=_units_info(results, targets))
        for r in results:
            for lang_ in LANGS:
                name = (scenario_names or {}).get(r.scenario, {}).get(lang_, r.scenario)
                n = r.results.sizes["sample"]
                note = word("uncertainty.fan_note", lang_) if r.conditioned is not None else ""
                fig = fan_figure(r, targets, lang_, title=f"{name} (N = {n}) {note}".strip(),
                                 color=styles[r.scenario].color)
                save_figure(fig, tmp / f"fan_{r.scenario}_{lang_}", formats)
                say(f"{r.scenario}: fan charts ({lang_}) written")
    return Path(final)


def _units_info(results, targets) -> dict:
    """The units sheet's rows: the indicators (from a run when there is one, else declared)."""
    for r in results:
        if r.central is not None:
            info = run_variables(r.central)
            if info:
                return info
    return {t.indicator: VariableInfo(dict(t.label), t.unit) for t in targets.items}
