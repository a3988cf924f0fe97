"""The ``plansim sensitivity`` report: index, tornado and per-year figures of a design method,
the Shapley waterfalls, and the atomic write of tables and figures."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.sensitivity import MARGINALS, get_method
from sim.analysis.sensitivity.base import Method
from sim.analysis.sensitivity.shapley import Attribution
from sim.errors import OutputError
from sim.model.declarations.targets import Targets
from sim.model.declarations.words import group, word
from sim.present.figures.analysis_charts import (
    bar_indices,
    interval,
    lines_over_time,
    tornado,
    waterfall,
)
from sim.present.figures.chartutil import thousands_formatter
from sim.present.figures.fonts import use_cjk_font
from sim.present.figures.layout import fit_margins
from sim.present.labels import axis_label, display_unit, label
from sim.present.output.atomic import DEFAULT_FORMATS, figure_bytes, save_figure
from sim.present.output.outdir import owned_dir
from sim.present.output.render import FigureJob, write_renderings
from sim.present.tabular.summary import rare_text
from sim.present.tabular.tables import write_csv
from sim.present.tabular.workbook import book_parts, write_workbook

if TYPE_CHECKING:
    from sim.present.output.render import Rendering

#: parameters shown per chart panel (the largest; the CSV and Excel files hold all)
TOP_BARS = 12
TOP_LINES = 6
#: the figures of a design method (file stem ``<kind>_<lang>``), in the order they are drawn
KINDS = ("indices", "tornado", "per_year")


def grid(n: int, cols: int | None = None, panel: tuple[float, float] = (6.0, 5.0)
         ) -> tuple[Figure, np.ndarray]:
    """A figure with ``n`` panels of ``panel`` inches, ``cols`` to a row (default three when
    more than four); the rest switched off. Lay it out with :func:`layout` once drawn."""
    use_cjk_font()
    cols = cols or (3 if n > 4 else max(n, 1))
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(panel[0] * cols, panel[1] * rows))
    flat = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in flat[n:]:
        ax.set_axis_off()
    return fig, flat


def layout(fig: Figure) -> Figure:
    """The fixed layout (:func:`sim.present.figures.layout.fit_margins`) of a :func:`grid`."""
    return fit_margins(fig, fig.axes)


def outcome_unit(targets: Targets, output: str) -> tuple[str | None, float]:
    """The unit an outcome of model/targets.yaml is shown in and its factor
    (:func:`sim.present.labels.display_unit`)."""
    units = {t.indicator: t.unit for t in targets.items}
    units.update({d.id: d.unit for d in targets.derived})
    return display_unit(output, units.get(output))


def index_bars(ax: Axes, df: pd.DataFrame, column: str, xlabel: Mapping[str, str], lang: str,
               labels: Mapping[str, Any], title: Any, unit: str | None = None,
               scale: float = 1.0) -> Axes:
    """Horizontal bars of one index column (in the output's ``unit``, values times ``scale``)
    with its ``<column>_conf`` interval, clipped at 0 (the index is not negative)."""
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
NOTES = group("sensitivity_notes")


def _note(fig: Figure, keys: tuple[str, ...] | str, lang: str, **fmt: Any) -> None:
    """The notes ``keys`` of :data:`NOTES` under the figure, one per line."""
    keys = (keys,) if isinstance(keys, str) else keys
    fig.supxlabel("\n".join(NOTES[k][lang].format(**fmt) for k in keys), fontsize=9,
                  color="0.3")


def index_figures(tables: Mapping[str, pd.DataFrame], targets: Targets, method: str, lang: str,
                  labels: Mapping[str, Any], kinds: Sequence[str] = KINDS) -> dict[str, Figure]:
    """Figures by file stem (``<kind>_<lang>``) of ``kinds`` (:func:`index_figure`)."""
    return {f"{kind}_{lang}": index_figure(kind, tables, targets, method, lang, labels)
            for kind in kinds}


def index_figure(kind: str, tables: Mapping[str, pd.DataFrame], targets: Targets, method: str,
                 lang: str, labels: Mapping[str, Any]) -> Figure:
    """One figure of :data:`KINDS`: bar charts of indices (``indices``), tornado charts
    (``tornado``) or per-year lines (``per_year``), a panel per outcome."""
    m = get_method(method, ("design",))
    if kind == "indices":
        long = tables["indices"].set_index(["output", "parameter"])
        outputs = list(dict.fromkeys(long.index.get_level_values("output")))
        return _indices_figure(long, outputs, m, targets, lang, labels)
    if kind == "tornado":
        return _tornado_figure(tables, targets, lang, labels)
    if kind == "per_year":
        return _per_year_figure(tables, m, targets, lang, labels)
    raise OutputError(f"sensitivity figure kind {kind!r}; allowed: {', '.join(KINDS)}")


def index_jobs(tables: Mapping[str, pd.DataFrame], targets: Targets, method: str,
               labels: Mapping[str, Any], langs: Sequence[str],
               formats: Sequence[str] = DEFAULT_FORMATS) -> list[FigureJob]:
    """:func:`index_figure` of each kind in each language, as jobs of a
    :class:`~sim.present.output.render.FigurePool` (each given only the tables its figure reads, not
    the design's marginals), in the order they are written."""
    prefix = {"indices": ("indices",), "tornado": ("tornado_",), "per_year": ("per_year_",)}
    return [FigureJob(f"{kind}_{lang}", index_figure,
                      (kind, {k: v for k, v in tables.items() if k.startswith(prefix[kind])},
                       targets, method, lang, labels), {}, tuple(formats))
            for lang in langs for kind in KINDS]


def warm_up() -> None:
    """In a figure worker, before the indices are ready: the imports, the fonts and the
    glyphs of a first figure (:class:`~sim.present.output.render.FigurePool`'s ``warm``)."""
    fig, axes = grid(1)
    axes[0].set_title("敏感性指数 Sensitivity index")
    figure_bytes(layout(fig), "png")


def _indices_figure(long: pd.DataFrame, outputs: list[str], m: Method, targets: Targets,
                    lang: str, labels: Mapping[str, Any]) -> Figure:
    titles = targets.labels()
    fig, axes = grid(len(outputs))
    for ax, out in zip(axes[:len(outputs)], outputs, strict=True):
        df = long.loc[out]
        share = df["met_share"].iloc[0] if "met_share" in df.columns else np.nan
        if share == share:   # met or missed in almost no sample: no indices to show
            ax.set_title(label(titles.get(out, out), lang))
            ax.text(0.5, 0.5, rare_text(float(share), lang), ha="center", va="center",
                    wrap=True, transform=ax.transAxes, fontsize=10)
            ax.set_axis_off()
            continue
        df = df.loc[df[m.main_index].abs().sort_values(ascending=False).index[:TOP_BARS]]
        if {"S1", "ST"} <= set(df.columns):
            bar_indices(ax, df, lang=lang, labels=labels, title=titles.get(out, out))
        else:
            unit, scale = outcome_unit(targets, out)
            index_bars(ax, df, m.main_index, m.index_label, lang, labels, titles.get(out, out),
                       unit=unit, scale=scale)
    _note(fig, "conf", lang)
    return layout(fig)


def _tornado_figure(tables: Mapping[str, pd.DataFrame], targets: Targets, lang: str,
                    labels: Mapping[str, Any]) -> Figure:
    titles = targets.labels()
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
            fig.legend(*ax.get_legend_handles_labels(), loc="upper center", ncols=2,
                       frameon=False, fontsize=9)
    join = word("punctuation.list", lang).join
    names = join(label(titles.get(k.removeprefix("tornado_"), k), lang) for k in flat)
    _note(fig, ("oat", "flat") if flat else ("oat",), lang, names=names)
    return layout(fig)


def _per_year_figure(tables: Mapping[str, pd.DataFrame], m: Method, targets: Targets, lang: str,
                     labels: Mapping[str, Any]) -> Figure:
    titles = targets.labels()
    years = [k for k in tables if k.startswith("per_year_")]
    fig, axes = grid(len(years))
    for ax, key in zip(axes[:len(years)], years, strict=True):
        ind = key.removeprefix("per_year_")
        df = tables[key]
        df = df[df.abs().mean().sort_values(ascending=False).index[:TOP_LINES]]
        lines_over_time(ax, df, lang=lang, labels=labels, ylabel=m.per_year_label,
                        title=titles.get(ind, ind), plan_period=targets.plan.period)
    return layout(fig)


def shapley_figure(att: Attribution, targets: Targets, lang: str,
                   labels: Mapping[str, Any],
                   names: tuple[Any, Any] | None = None, cols: int | None = None,
                   panel: tuple[float, float] = (6.0, 5.0)) -> Figure:
    """One waterfall per indicator: the reference, each lever group's Shapley value, the
    scenario. ``names``: the labels (text or ``{zh, en}``) of the reference and the scenario
    (default: their ids, ``att.reference`` and ``att.scenario``). ``cols``/``panel``: the grid
    (:func:`grid`); with more than one column the bar names (the same in every panel) are
    written in the first column only."""
    fig, axes = grid(len(targets.items), cols, panel)
    ref, sc = names or (att.reference, att.scenario)
    ncols = cols or (3 if len(targets.items) > 4 else max(len(targets.items), 1))
    for i, (ax, t) in enumerate(zip(axes[:len(targets.items)], targets.items, strict=True)):
        contributions = (att.shapley[t.indicator] if t.indicator in att.shapley
                         else pd.Series(dtype=float))
        waterfall(ax, contributions, float(att.baseline[t.indicator]),
                  float(att.plan[t.indicator]), lang=lang, labels=labels, title=t.label,
                  unit=t.unit, start_label=ref, end_label=sc)
        if cols and i % ncols:
            ax.tick_params(axis="y", labelleft=False)
    return layout(fig)


def design_readme(recipe: pd.DataFrame) -> str:
    """The result folder's README: where the design is and how to draw it again."""
    r = recipe.iloc[0]
    source = ("the posterior marginals in `design_marginals.csv.gz` (the posterior draws they "
              "come from)" if r["drawn_from"] == MARGINALS else f"`{r['drawn_from']}`")
    return (f"# Sensitivity design\n\nThe {r['method']} study ran {int(r['runs']):,} model runs: "
            f"a {r['design']} design of N = {int(r['samples'])} over {int(r['assumptions'])} "
            f"assumptions (second order: {'yes' if r['second_order'] else 'no'}, seed "
            f"{r['seed']}), drawn from {source}.\n\nThe design is not stored row by row "
            "(`design.csv` is its recipe); draw the same rows again with\n\n"
            "```python\nfrom sim.analysis.sensitivity import regenerate_design\n"
            "design = regenerate_design(\"path/to/this/folder\")   # .values: (runs, "
            "assumptions), .names\n```\n")


def write_outputs(tables: Mapping[str, pd.DataFrame], figures: Mapping[str, Figure],
                  final: Path, *, renderings: Sequence[Rendering] = (),
                  lang: str = "zh", summary: Sequence[Any] = (), central: Any = None,
                  targets: Targets | None = None, title: str = "",
                  formats: Sequence[str] = DEFAULT_FORMATS) -> Path:
    """CSV per table, one workbook (the layout of :mod:`sim.present.tabular.workbook`: ``summary``
    first, the indicators and variables of the ``central`` run, the tables that fit; larger
    ones as CSV only), each figure in ``formats`` (``figures``; ``renderings``: figures of a
    :class:`~sim.present.output.render.FigurePool`, written last, as they are rendered), all into
    ``final`` atomically; the design's marginals (a large sample)
    compressed and outside the workbook, with a README saying how to draw the design again."""
    with owned_dir(final, langs=lang) as tmp:
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
        write_renderings(renderings, tmp, lambda _: None)
    return Path(final)
