"""The ``plansim sensitivity`` report: index, tornado and per-year figures of a design method,
the Shapley waterfalls, and the atomic write of tables and figures."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.sensitivity import MARGINALS, get_method
from sim.analysis.sensitivity.shapley import Attribution
from sim.model.targets import Targets

#: parameters shown per chart panel (the largest; the CSV and Excel files hold all)
TOP_BARS = 12
TOP_LINES = 6
#: the formats every figure is written in
FORMATS = ("png", "svg")


def grid(n: int) -> tuple[Figure, np.ndarray]:
    """A figure with ``n`` panels, three to a row when more than four; the rest switched off."""
    from sim.present.chartutil import new_figure

    cols = 3 if n > 4 else max(n, 1)
    rows = int(np.ceil(n / cols))
    fig, axes = new_figure(rows, cols, figsize=(6.0 * cols, 5.0 * rows))
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_axis_off()
    return fig, flat


def index_bars(ax: Axes, df: pd.DataFrame, column: str, xlabel: Mapping[str, str], lang: str,
               labels: Mapping[str, Any], title: Any) -> Axes:
    """Horizontal bars of one index column with its ``<column>_conf`` error bars."""
    from sim.present.labels import label

    d = df.sort_values(column)
    y = np.arange(len(d))
    ax.barh(y, d[column], xerr=d.get(f"{column}_conf"), color="tab:blue",
            error_kw={"linewidth": 0.8})
    ax.set_yticks(y, [label(labels.get(k, k), lang) for k in d.index])
    ax.set_xlabel(xlabel.get(lang, column))
    ax.set_title(label(title, lang))
    return ax


def index_figures(tables: Mapping[str, pd.DataFrame], targets: Targets, method: str, lang: str,
                  labels: Mapping[str, Any]) -> dict[str, Figure]:
    """Figures by file stem: bar charts of indices, tornado charts, per-year lines."""
    from sim.present.analysis_charts import bar_indices, lines_over_time, tornado

    m = get_method(method, ("design",))
    titles = targets.labels()
    long = tables["indices"].set_index(["output", "parameter"])
    outputs = list(dict.fromkeys(long.index.get_level_values("output")))
    figs = {}
    fig, axes = grid(len(outputs))
    for ax, out in zip(axes[:len(outputs)], outputs, strict=True):
        df = long.loc[out]
        df = df.loc[df[m.main_index].abs().sort_values(ascending=False).index[:TOP_BARS]]
        if {"S1", "ST"} <= set(df.columns):
            bar_indices(ax, df, lang=lang, labels=labels, title=titles.get(out, out))
        else:
            index_bars(ax, df, m.main_index, m.index_label, lang, labels, titles.get(out, out))
    figs[f"indices_{lang}"] = fig
    torn = [k for k in tables if k.startswith("tornado_")]
    fig, axes = grid(len(torn))
    for ax, key in zip(axes[:len(torn)], torn, strict=True):
        out = key.removeprefix("tornado_")
        df = tables[key]
        tornado(ax, df, base=float(df["central"].iloc[0]), lang=lang, labels=labels,
                title=titles.get(out, out), max_bars=TOP_BARS)
    figs[f"tornado_{lang}"] = fig
    years = [k for k in tables if k.startswith("per_year_")]
    fig, axes = grid(len(years))
    for ax, key in zip(axes[:len(years)], years, strict=True):
        ind = key.removeprefix("per_year_")
        df = tables[key]
        df = df[df.abs().mean().sort_values(ascending=False).index[:TOP_LINES]]
        lines_over_time(ax, df, lang=lang, labels=labels, ylabel=m.per_year_label,
                        title=titles.get(ind, ind), plan_period=targets.plan.period)
    figs[f"per_year_{lang}"] = fig
    return figs


def shapley_figure(att: Attribution, targets: Targets, lang: str,
                   labels: Mapping[str, Any]) -> Figure:
    """One waterfall per indicator: baseline, each lever group's Shapley value, plan."""
    from sim.present.analysis_charts import waterfall

    fig, axes = grid(len(targets.items))
    names = {"zh": ("基准情景", "行动计划"), "en": ("Baseline", "Plan")}[lang]
    for ax, t in zip(axes[:len(targets.items)], targets.items, strict=True):
        waterfall(ax, att.shapley[t.indicator], float(att.baseline[t.indicator]),
                  float(att.plan[t.indicator]), lang=lang, labels=labels, title=t.label,
                  unit=t.unit, start_label=names[0], end_label=names[1])
    return fig


def design_readme(recipe: pd.DataFrame) -> str:
    """The result folder's README: where the design is and how to draw it again."""
    r = recipe.iloc[0]
    source = ("the history-conditioned marginals in `design_marginals.csv.gz` (the survivors of "
              "the history match)" if r["drawn_from"] == MARGINALS else f"`{r['drawn_from']}`")
    return (f"# Sensitivity design\n\nThe {r['method']} study ran {int(r['runs']):,} model runs: "
            f"a {r['design']} design of N = {int(r['samples'])} over {int(r['assumptions'])} "
            f"assumptions (second order: {'yes' if r['second_order'] else 'no'}, seed "
            f"{r['seed']}), drawn from {source}.\n\nThe design is not stored row by row "
            "(`design.csv` is its recipe); draw the same rows again with\n\n"
            "```python\nfrom sim.analysis.sensitivity import regenerate_design\n"
            "design = regenerate_design(\"path/to/this/folder\")   # .values: (runs, "
            "assumptions), .names\n```\n")


def render_index_figures(tables: Mapping[str, pd.DataFrame], targets: Targets, method: str,
                         labels: Mapping[str, Any], langs: Sequence[str],
                         formats: Sequence[str] = FORMATS) -> dict[str, dict[str, bytes]]:
    """:func:`index_figures` of every language, rendered: ``{stem: {format: bytes}}``.

    Rendering is the cost (about a second per figure and format: constrained layout and the
    text of nine panels, spread over matplotlib, no single hot spot), so with two or more CPUs
    the languages after the first are drawn in a worker process while this one draws the
    first; the bytes are the same either way."""
    jobs = [(tables, targets, method, lang, labels, tuple(formats)) for lang in langs]
    if len(jobs) < 2 or (os.cpu_count() or 1) < 2:
        return {k: v for job in jobs for k, v in render_language(job).items()}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")   # no fork of a process that may hold threads
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        later = pool.submit(_render_languages, jobs[1:])
        out = render_language(jobs[0])
        out.update(later.result())
    return out


def render_language(job: tuple) -> dict[str, dict[str, bytes]]:
    """``(tables, targets, method, lang, labels, formats)`` -> rendered :func:`index_figures`."""
    from sim.present.atomic import figure_bytes

    tables, targets, method, lang, labels, formats = job
    figs = index_figures(tables, targets, method, lang, labels)
    return {stem: {fmt: figure_bytes(fig, fmt) for fmt in formats} for stem, fig in figs.items()}


def _render_languages(jobs: list[tuple]) -> dict[str, dict[str, bytes]]:
    return {k: v for job in jobs for k, v in render_language(job).items()}


def write_outputs(tables: Mapping[str, pd.DataFrame], figures: Mapping[str, Figure],
                  final: Path, rendered: Mapping[str, Mapping[str, bytes]] | None = None
                  ) -> Path:
    """CSV per table, one workbook, PNG+SVG per figure (``figures``, or already ``rendered``
    bytes by stem and format), all into ``final`` atomically; the design's marginals (a large
    sample) compressed and outside the workbook, with a README saying how to draw the design
    again."""
    from sim.present.atomic import atomic_write_bytes, save_figure
    from sim.present.outdir import owned_dir
    from sim.present.tables import write_csv, write_excel

    with owned_dir(final) as tmp:
        for name, df in tables.items():
            if name == MARGINALS:
                df.to_csv(tmp / f"{name}.csv.gz", index=False, lineterminator="\n",
                          compression={"method": "gzip", "compresslevel": 6, "mtime": 0})
            else:
                write_csv(df, tmp / f"{name}.csv")
        sheets = {name[:31]: df for name, df in tables.items() if name != MARGINALS}
        write_excel(tmp / "sensitivity.xlsx", sheets)
        if "design" in tables:
            (tmp / "README.md").write_text(design_readme(tables["design"]), encoding="utf-8")
        for stem, fig in figures.items():
            save_figure(fig, tmp / stem)
        for stem, files in (rendered or {}).items():
            for fmt, data in files.items():
                atomic_write_bytes(tmp / f"{stem}.{fmt}", data)
    return Path(final)
