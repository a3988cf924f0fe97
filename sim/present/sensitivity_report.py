"""The ``plansim sensitivity`` report: index, tornado and per-year figures of a design method,
the Shapley waterfalls, and the atomic write of tables and figures."""

from __future__ import annotations

import os
import textwrap
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
#: the formats every figure is written in unless asked (``--formats``)
FORMATS = ("png",)


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


def outcome_unit(targets: Targets, output: str) -> tuple[str | None, float]:
    """The unit an outcome of model/targets.yaml is shown in and its factor
    (:func:`sim.present.labels.display_unit`)."""
    from sim.present.labels import display_unit

    units = {t.indicator: t.unit for t in targets.items}
    units.update({d.id: d.unit for d in targets.derived})
    return display_unit(output, units.get(output))


def index_bars(ax: Axes, df: pd.DataFrame, column: str, xlabel: Mapping[str, str], lang: str,
               labels: Mapping[str, Any], title: Any, unit: str | None = None,
               scale: float = 1.0) -> Axes:
    """Horizontal bars of one index column (in the output's ``unit``, values times ``scale``)
    with its ``<column>_conf`` interval, clipped at 0 (the index is not negative)."""
    from sim.present.analysis_charts import interval
    from sim.present.chartutil import thousands_formatter
    from sim.present.labels import axis_label, label

    d = df.sort_values(column)
    y = np.arange(len(d))
    conf = d.get(f"{column}_conf")
    ax.barh(y, d[column] * scale,
            xerr=interval(d[column] * scale, None if conf is None else conf * scale),
            color="tab:blue", error_kw={"linewidth": 0.8})
    ax.set_yticks(y, [label(labels.get(k, k), lang) for k in d.index])
    ax.set_xlim(left=0)
    ax.xaxis.set_major_formatter(thousands_formatter())
    name = axis_label(xlabel.get(lang, column), unit, lang)
    ax.set_xlabel(textwrap.fill(name, 20 if lang == "zh" else 36, break_long_words=False))
    ax.set_title(label(title, lang))
    return ax


#: notes under the figures, by language
NOTES = {
    "conf": {"zh": "横线：95%自助法置信区间（下端截于0，指数不为负）",
             "en": "Whiskers: 95% bootstrap interval (lower end clipped at 0: the index is "
                   "not negative)"},
    "flat": {"zh": "各假设单独取上下限时结果不变，未绘出：{names}",
             "en": "Not drawn, unchanged when any assumption alone moves: {names}"},
    "oat": {"zh": "每个假设单独取P5与P95（括号内），其余取中心值；条末数字为结果值",
            "en": "Each assumption alone at its P5 and P95 (in brackets), the others at the "
                  "centre; numbers: the outcome at each bar's end"},
}


def _note(fig: Figure, keys: tuple[str, ...] | str, lang: str, **fmt: Any) -> None:
    """The notes ``keys`` of :data:`NOTES` under the figure, one per line."""
    keys = (keys,) if isinstance(keys, str) else keys
    fig.supxlabel("\n".join(NOTES[k][lang].format(**fmt) for k in keys), fontsize=9,
                  color="0.3")


def index_figures(tables: Mapping[str, pd.DataFrame], targets: Targets, method: str, lang: str,
                  labels: Mapping[str, Any]) -> dict[str, Figure]:
    """Figures by file stem: bar charts of indices, tornado charts, per-year lines."""
    from sim.present.analysis_charts import bar_indices, lines_over_time, tornado
    from sim.present.labels import label

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
            unit, scale = outcome_unit(targets, out)
            index_bars(ax, df, m.main_index, m.index_label, lang, labels, titles.get(out, out),
                       unit=unit, scale=scale)
    _note(fig, "conf", lang)
    figs[f"indices_{lang}"] = fig
    torn = [k for k in tables if k.startswith("tornado_")]
    flat = [k for k in torn if not np.any(tables[k]["low"].to_numpy(float)
                                          != tables[k]["high"].to_numpy(float))]
    torn = [k for k in torn if k not in flat]
    fig, axes = grid(len(torn))
    for i, (ax, key) in enumerate(zip(axes[:len(torn)], torn, strict=True)):
        out = key.removeprefix("tornado_")
        unit, scale = outcome_unit(targets, out)
        df = tables[key].copy()
        df[["low", "high"]] = df[["low", "high"]].astype(float) * scale
        tornado(ax, df, base=float(df["central"].iloc[0]) * scale, lang=lang, labels=labels,
                title=titles.get(out, out), max_bars=TOP_BARS, unit=unit, legend=False)
        if i == 0:
            fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=2,
                       frameon=False, fontsize=9)
    join = "、".join if lang == "zh" else ", ".join
    names = join(label(titles.get(k.removeprefix("tornado_"), k), lang) for k in flat)
    _note(fig, ("oat", "flat") if flat else ("oat",), lang, names=names)
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
                   labels: Mapping[str, Any],
                   names: tuple[Any, Any] | None = None) -> Figure:
    """One waterfall per indicator: the reference, each lever group's Shapley value, the
    scenario. ``names``: the labels (text or ``{zh, en}``) of the reference and the scenario
    (default: their ids, ``att.reference`` and ``att.scenario``)."""
    from sim.present.analysis_charts import waterfall

    fig, axes = grid(len(targets.items))
    ref, sc = names or (att.reference, att.scenario)
    for ax, t in zip(axes[:len(targets.items)], targets.items, strict=True):
        contributions = (att.shapley[t.indicator] if t.indicator in att.shapley
                         else pd.Series(dtype=float))
        waterfall(ax, contributions, float(att.baseline[t.indicator]),
                  float(att.plan[t.indicator]), lang=lang, labels=labels, title=t.label,
                  unit=t.unit, start_label=ref, end_label=sc)
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
                  final: Path, *, rendered: Mapping[str, Mapping[str, bytes]] | None = None,
                  lang: str = "zh", summary: Sequence[Any] = (), central: Any = None,
                  targets: Targets | None = None, title: str = "",
                  formats: Sequence[str] = FORMATS) -> Path:
    """CSV per table, one workbook (the layout of :mod:`sim.present.workbook`: ``summary``
    first, the indicators and variables of the ``central`` run, the tables that fit; larger
    ones as CSV only), each figure in ``formats`` (``figures``, or ``rendered`` bytes by stem
    and format), all into ``final`` atomically; the design's marginals (a large sample)
    compressed and outside the workbook, with a README saying how to draw the design again."""
    from sim.present.atomic import atomic_write_bytes, save_figure
    from sim.present.outdir import owned_dir
    from sim.present.tables import write_csv
    from sim.present.workbook import book_parts, write_workbook

    with owned_dir(final) as tmp:
        for name, df in tables.items():
            if name == MARGINALS:
                df.to_csv(tmp / f"{name}.csv.gz", index=False, lineterminator="\n",
                          compression={"method": "gzip", "compresslevel": 6, "mtime": 0})
            else:
                write_csv(df, tmp / f"{name}.csv")
        sheets = {name[:31]: df for name, df in tables.items() if name != MARGINALS}
        write_workbook(tmp / "sensitivity.xlsx", lang, title=title or final.name,
                       **book_parts(sheets, summary, central, targets, lang))
        if "design" in tables:
            (tmp / "README.md").write_text(design_readme(tables["design"]), encoding="utf-8")
        for stem, fig in figures.items():
            save_figure(fig, tmp / stem, formats)
        for stem, files in (rendered or {}).items():
            for fmt, data in files.items():
                atomic_write_bytes(tmp / f"{stem}.{fmt}", data)
    return Path(final)
