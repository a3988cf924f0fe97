"""Charts of simulation results: indicator panels, sector grids and scenario comparisons.

Inputs are results as described in ARCHITECTURE.md: ``xr.Dataset`` with dims
``("sample", "time")`` whose data variables carry attrs ``units``/``description``/
``vensim_name`` (or single DataArrays). ``runs`` is always a mapping
``{scenario label: Dataset or DataArray}`` in legend order. With more than one sample a run is
drawn as its median line with a shaded 5-95 % band.

Axes-level functions take ``ax`` and return it; figure-level functions return a
:class:`matplotlib.figure.Figure` that is not registered with pyplot (nothing to close). No
function calls ``plt.show()``. The charts of ensembles, sensitivity and attribution (``fan_chart``,
``tornado``, ``bar_indices``, ``waterfall``, ``lines_over_time``) are
:mod:`sim.present.figures.analysis_charts`.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.table import Cell, Table

from sim.errors import OutputError
from sim.present.figures.chartutil import (
    DECLARED,
    PlanPeriod,
    as_target,
    dedupe_legend,
    draw_series,
    draw_target,
    new_figure,
    series_of,
    style_time_axis,
    target_year_of,
    targets_by_indicator,
    value_at,
)
from sim.present.figures.fonts import use_cjk_font
from sim.present.figures.layout import EDGE_IN, GAP_IN, fit_margins, text_size
from sim.present.figures.styles import REFERENCE_STYLE, ScenarioStyle, scenario_styles
from sim.present.labels import (
    check_lang,
    count_text,
    display_unit,
    format_number,
    label,
    text,
    unit_label,
    variable_label,
)

Style = ScenarioStyle | Mapping[str, Any]

Run = xr.Dataset | xr.DataArray
#: history statuses drawn on indicator charts, with (marker, face): sourced filled circles,
#: lower bounds upward triangles ("at least"), implied bases and conflicting figures hollow;
#: a row stated as of a date inside its year is drawn at that date as a diamond. Projections
#: and policy rows are not outturns and are not drawn.
HISTORY_STATUSES = ("sourced", "lower_bound", "implied", "conflicting")
HISTORY_MARKERS = {"sourced": ("o", "black"), "lower_bound": ("^", "black"),
                   "implied": ("o", "none"), "conflicting": ("s", "none")}
NOT_DRAWN = ("projection", "policy_target", "policy_rule")


def _check_runs(runs: Mapping[str, Run]) -> None:
    if isinstance(runs, xr.Dataset | xr.DataArray) or not isinstance(runs, Mapping) or not runs:
        raise OutputError("charts: 'runs' must be a non-empty mapping {scenario label: Dataset}")


def _line_style(style: Style | None) -> dict[str, Any]:
    """Matplotlib line kwargs from a run style: a :class:`~sim.present.figures.styles.ScenarioStyle`,
    or line kwargs (``{"baseline": True}`` means the reference style, dashed grey)."""
    if isinstance(style, ScenarioStyle):
        return style.line()
    style = dict(style or {})
    kw: dict[str, Any] = {"linewidth": 1.8}
    if style.pop("baseline", False):
        kw.update(REFERENCE_STYLE.line())
    kw.update(style)
    return kw


def _styles(runs: Mapping[str, Any], styles: Mapping[str, Style] | None) -> dict[str, Style]:
    """Each run's style: those given, the others from :func:`scenario_styles` in run order."""
    default = scenario_styles([str(k) for k in runs], reference=None)
    return {k: (styles or {}).get(k, default[str(k)]) for k in runs}


def _wrap(s: str, lang: str, width: int | None = None) -> str:
    """``s`` wrapped to lines of at most ``width`` characters (default 8 in zh, 16 in en)."""
    width = width or (8 if lang == "zh" else 16)
    if lang == "zh":   # lines of equal length, no orphan character
        width = math.ceil(len(s) / max(1, math.ceil(len(s) / width)))
        return "\n".join(s[i:i + width] for i in range(0, len(s), width))
    return textwrap.fill(s, width, break_long_words=False)


def _history_rows(history: pd.DataFrame, indicator: str) -> pd.DataFrame:
    missing = [c for c in ("year", "value", "status") if c not in history.columns]
    if missing:
        raise OutputError(f"history: columns {missing} missing; required: year, value, status")
    rows = history
    if "indicator" in rows.columns:
        rows = rows[rows["indicator"] == indicator]
    bad = sorted(set(rows["status"]) - set(HISTORY_STATUSES) - set(NOT_DRAWN))
    if bad:
        raise OutputError(f"history for '{indicator}': status {bad} not allowed; "
                          f"allowed: {', '.join(HISTORY_STATUSES + NOT_DRAWN)}")
    return rows[rows["status"].isin(HISTORY_STATUSES)]


def _draw_history(ax: Axes, rows: pd.DataFrame, lang: str) -> None:
    dated = (rows["time"].astype(float) < rows["year"].astype(float) + 1 - 1e-9
             if "time" in rows.columns else pd.Series(False, index=rows.index))
    for status, (marker, face) in HISTORY_MARKERS.items():
        part = rows[(rows["status"] == status) & ~dated]
        if len(part):
            ax.plot(part["year"].astype(float), part["value"].astype(float), linestyle="none",
                    marker=marker, markersize=5, markerfacecolor=face, markeredgecolor="black",
                    zorder=5, label=text(f"history_{status}", lang))
    part = rows[dated]
    if len(part):   # row Y sits at x = Y (its end); a date t inside Y at x = t - 1
        ax.plot(part["time"].astype(float) - 1, part["value"].astype(float), linestyle="none",
                marker="D", markersize=4, markerfacecolor="none", markeredgecolor="black",
                zorder=5, label=text("history_as_of", lang))


def plot_indicator(ax: Axes, runs: Mapping[str, Run], indicator: str, *, target: Any = None,
                   target_year: int | None = None, lang: str = "zh",
                   history: pd.DataFrame | None = None,
                   styles: Mapping[str, Style] | None = None,
                   title: Any = None, legend: bool = True,
                   plan_period: PlanPeriod = DECLARED) -> Axes:
    """Time series of one indicator for several runs, with its target and history.

    - ``runs``: ``{scenario label: Dataset or DataArray}``; each is drawn as a line.
    - ``target``: a number (the value in ``target_year``, default the declared target year)
      or a target record with fields ``target``, ``year`` (and optionally ``label``,
      ``unit``): a dotted horizontal line and a star at the target year, labelled
      "<year>年目标" / "<year> target", the value annotated.
    - ``history``: DataFrame with columns ``year, value, status`` (and optionally
      ``indicator``, then filtered to this indicator; ``time`` places rows stated as of a
      date); markers: :data:`HISTORY_MARKERS`, rows as of a date inside the year hollow
      diamonds at that date; projections and policy rows are not drawn.
    - ``styles``: ``{scenario label: ScenarioStyle or line kwargs}`` (default: one per run
      from :func:`sim.present.figures.styles.scenario_styles`); ``{"baseline": True}`` draws the run
      as the reference, dashed grey.
    - ``title``: text or ``{zh, en}``; default: the target's label, else the known indicator
      name. The y axis shows the unit (attr ``units`` of the series, else the target's unit).
    """
    check_lang(lang)
    use_cjk_font()
    _check_runs(runs)
    spec = as_target(target, target_year, indicator) if target is not None else None
    unit = None
    styles = _styles(runs, styles)
    for name, run in runs.items():
        da = series_of(run, indicator)
        unit = unit or da.attrs.get("units")
        st = styles[name]
        hatch = st.hatch if isinstance(st, ScenarioStyle) and st.hatch else "\\\\"
        draw_series(ax, da, str(name), hatch=hatch, **_line_style(st))
    if spec is not None:
        unit = unit or spec.unit
        draw_target(ax, spec, lang)
    if history is not None:
        _draw_history(ax, _history_rows(history, indicator), lang)
    if title is None:
        title = spec.label if spec is not None and spec.label is not None else None
    ax.set_title(label(title, lang) if title is not None
                 else variable_label(indicator, lang, attrs=series_of(
                     next(iter(runs.values())), indicator).attrs))
    ax.set_ylabel(unit_label(unit, lang))
    style_time_axis(ax, lang, plan_period)
    if legend:
        ax.legend(fontsize=8, frameon=False, loc="upper left")
    return ax


def _attainment_table(ax: Axes, runs: Mapping[str, Run], specs: Mapping[str, Any],
                      indicators: Sequence[str], lang: str, year: int) -> None:
    rows, cells = [], []
    for ind in indicators:
        spec = specs.get(ind)
        if spec is None or spec.value == 0:
            continue
        rows.append(label(spec.label, lang) if spec.label is not None
                    else variable_label(ind, lang))
        cells.append([f"{100 * value_at(series_of(r, ind), spec.year) / spec.value:.0f}%"
                      for r in runs.values()])
    if not rows:
        return
    per = max(1, len(runs))   # characters per header line, from the width of a column
    heads = [_wrap(str(k), lang, max(5, 14 // per) if lang == "zh" else max(10, 28 // per))
             for k in runs]
    rows = [_wrap(r, lang, 9 if lang == "zh" else 18) for r in rows]
    lines = max(h.count("\n") + 1 for h in heads)
    tall = [r.count("\n") + 1 for r in rows]
    fig = ax.get_figure()
    # under the legend: the table and its title take the room the legend leaves (measured,
    # the panel placed), rows as tall as their lines of text up to 0.075 of the panel each
    title = text("attainment_in", lang, year=year)
    panel_h = ax.get_position().height * fig.get_size_inches()[1]
    room = 1.0 - 0.03 - (text_size(fig, title, 9)[1] + 0.08) / panel_h
    legend = ax.get_legend()
    if legend is not None:
        from matplotlib.backends.backend_agg import RendererAgg

        box = legend.get_window_extent(RendererAgg(1, 1, fig.dpi))
        room -= 1.0 - box.transformed(ax.transAxes.inverted()).y0
    height = max(0.0, min(0.62, 0.075 * (lines + sum(tall)), room))
    # column widths measured once (matplotlib's automatic width changes at every draw); the
    # table fills the right 55 % of the panel, or more if its texts need it; rows as tall as
    # their lines of text
    need = [max(text_size(fig, s, 8)[0] for s in col) * (1 + 2 * Cell.PAD) + 0.04
            for col in [rows, *zip(*cells, strict=True)]]
    need[1:] = [max(w, text_size(fig, h, 8)[0] * (1 + 2 * Cell.PAD) + 0.04)
                for w, h in zip(need[1:], heads, strict=True)]
    panel = ax.get_position().width * fig.get_size_inches()[0]
    width = min(1.0, max(0.55, sum(need) / panel))
    table = Table(ax, bbox=[1.0 - width, 0.0, width, height])
    table.add_cell(0, 0, need[0], lines, text="").visible_edges = ""   # above the row names
    for c, head in enumerate(heads, 1):
        table.add_cell(0, c, need[c], lines, text=head, loc="center")
    for r, (name, row) in enumerate(zip(rows, cells, strict=True), 1):
        table.add_cell(r, 0, need[0], tall[r - 1], text=name, loc="left")
        for c, cell in enumerate(row, 1):
            table.add_cell(r, c, need[c], tall[r - 1], text=cell, loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    ax.add_table(table)
    ax.text(1.0 - width, height + 0.03, title, transform=ax.transAxes, fontsize=9)


def _side_legend(side: Axes, left_of: Axes | None, handles: list[Any], names: list[str],
                 lang: str) -> None:
    """The legend of the indicator figure in its side panel, upper left, kept inside the
    figure: with the history's statuses in two columns (leaving the attainment table room);
    where it would run over the figure's right edge (a narrow panel: the brief's A4 column)
    it moves left into the room the switched-off panel's axis labels would take (up to the
    texts of the panel ``left_of`` it), and its entries wrap narrower until it fits."""
    from matplotlib.backends.backend_agg import RendererAgg

    fig = side.get_figure()
    renderer = RendererAgg(1, 1, fig.dpi)   # a legend's box is laid out at the figure's dpi
    many = len(names) > 6
    width = (8 if many else 16) if lang == "zh" else (18 if many else 36)
    right = fig.bbox.width - EDGE_IN * fig.dpi
    frame = side.get_window_extent(renderer)
    lo = (left_of.get_tightbbox(renderer).x1 + GAP_IN * fig.dpi if left_of is not None
          else EDGE_IN * fig.dpi)
    for w in dict.fromkeys(max(4 if lang == "zh" else 8, round(width * f))
                           for f in (1.0, 0.8, 0.65, 0.5)):
        legend = side.legend(handles, [_wrap(n, lang, w) for n in names], loc="upper left",
                             bbox_to_anchor=(0.0, 1.0), frameon=False, fontsize=9,
                             title=text("legend", lang), ncols=2 if many else 1)
        box = legend.get_window_extent(renderer)
        over = box.x1 - right
        if over <= 0:
            return
        shift = max(0.0, min(over + 0.02 * fig.dpi, box.x0 - lo))   # a little to spare
        legend.set_bbox_to_anchor((-shift / frame.width, 1.0), transform=side.transAxes)
        if legend.get_window_extent(renderer).x1 <= right:
            return


def indicator_figure(runs: Mapping[str, Run], targets: Any, *, lang: str = "zh",
                     history: pd.DataFrame | None = None,
                     styles: Mapping[str, Style] | None = None,
                     title: Any = None, target_year: int | None = None,
                     indicators: Sequence[str] | None = None, ncols: int = 3,
                     panel: tuple[float, float] = (5.0, 4.25),
                     attainment: bool = True) -> Figure:
    """One panel per indicator (a grid of ``ncols`` columns of ``panel`` inches each, sized
    from their count) and one more panel with the legend and (``attainment``) a table of
    target attainment (value in the target year / target, median over samples).

    ``targets``: list of records with fields ``indicator, target, unit, label, year`` (or a
    mapping indicator -> record or number); ``indicators`` (default: those of ``targets``, in
    order) without a target are drawn without one.
    """
    check_lang(lang)
    _check_runs(runs)
    year = target_year_of(target_year)
    specs = targets_by_indicator(targets, year)
    indicators = list(specs) if indicators is None else list(indicators)
    if not indicators:
        raise OutputError("indicator_figure: no indicator to draw; give targets or indicators")
    ncols = max(1, min(ncols, len(indicators) + 1))
    nrows = math.ceil((len(indicators) + 1) / ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(panel[0] * ncols, panel[1] * nrows),
                           layout=None)
    flat = list(axes.ravel())
    styles = _styles(runs, styles)
    for ax, ind in zip(flat[:len(indicators)], indicators, strict=True):
        plot_indicator(ax, runs, ind, target=specs.get(ind), target_year=year,
                       lang=lang, history=history, styles=styles, legend=False)
    for ax in flat[len(indicators):]:
        ax.axis("off")
    side = flat[len(indicators)]
    handles, names = dedupe_legend(flat[:len(indicators)])
    if any(series_of(r, indicators[0]).sizes.get("sample", 1) > 1 for r in runs.values()):
        handles.append(Patch(facecolor="none", edgecolor="0.35", hatch="\\\\", linewidth=0.6))
        names.append(text("band_hatched", lang))
    fit_margins(fig, axes, fig.suptitle(label(title, lang) if title is not None
                                        else count_text("indicators_title", lang,
                                                        len(indicators))))
    k = len(indicators)
    _side_legend(side, flat[k - 1] if k % ncols else None, handles, names, lang)
    if attainment:
        _attainment_table(side, runs, specs, indicators, lang, year)   # sized to the panel
    return fig


def sector_figure(ds: Run | Mapping[str, Run], variables: Sequence[str], title: Any, *,
                  lang: str = "zh", labels: Mapping[str, Any] | None = None,
                  ncols: int = 3, plan_period: PlanPeriod = DECLARED,
                  styles: Mapping[str, Style] | None = None) -> Figure:
    """One panel per variable (grid of ``ncols`` columns).

    ``ds`` is one results Dataset or a mapping ``{scenario label: Dataset}`` (one line each,
    styled by ``styles`` as in :func:`plot_indicator`). Panel titles: ``labels[variable]``
    (``{zh, en}``), else the declared labels (:func:`sim.present.labels.variable_label`);
    units on the y axis in the reader's form (:func:`sim.present.labels.display_unit`: shares
    in per cent).
    """
    check_lang(lang)
    if not variables:
        raise OutputError("sector_figure: 'variables' is empty; give at least one variable")
    runs = {"": ds} if isinstance(ds, xr.Dataset | xr.DataArray) else ds
    _check_runs(runs)
    ncols = max(1, min(ncols, len(variables)))
    nrows = math.ceil(len(variables) / ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(4.6 * ncols, 3.4 * nrows + 0.6), layout=None)
    flat = list(axes.ravel())
    styles = _styles(runs, styles)
    for ax, var in zip(flat[:len(variables)], variables, strict=True):
        attrs: dict[str, Any] = {}
        for name, run in runs.items():
            da = series_of(run, var)
            attrs = attrs or dict(da.attrs)
            unit, scale = display_unit(var, attrs.get("units"))
            draw_series(ax, da * scale, str(name) or None,
                        **{**_line_style(styles[name]), "linewidth": 1.6})
        ax.set_title(_wrap(variable_label(var, lang, labels, attrs), lang,
                           20 if lang == "zh" else 40), fontsize=10)
        ax.set_ylabel(unit_label(unit, lang))
        style_time_axis(ax, lang, plan_period)
        if len(runs) > 1:
            ax.legend(fontsize=7, frameon=False, loc="upper left")
    for ax in flat[len(variables):]:
        ax.axis("off")
    fit_margins(fig, axes, fig.suptitle(label(title, lang)))
    return fig


def compare_figure(runs: Mapping[str, Run], targets: Any, *, lang: str = "zh",
                   baseline_key: str, title: Any = None, target_year: int | None = None,
                   indicators: Sequence[str] | None = None,
                   plan_period: PlanPeriod = DECLARED,
                   styles: Mapping[str, ScenarioStyle] | None = None) -> Figure:
    """Scenarios compared on all indicators at once, each as a share of its target.

    Left: every indicator (one colour each) as % of its target over time, each run in its
    scenario's line style; a line at 100 %. Right: grouped bars of attainment in the target
    year per indicator and run, in the scenario's colour and hatch. ``styles``: by run label
    (default :func:`sim.present.figures.styles.scenario_styles` with ``baseline_key`` the reference).
    Only indicators with a non-zero target are shown; ``indicators`` defaults to those of
    ``targets``.
    """
    check_lang(lang)
    _check_runs(runs)
    if baseline_key not in runs:
        raise OutputError(f"compare_figure: baseline_key {baseline_key!r} not in runs; "
                          f"available: {', '.join(map(str, runs))}")
    target_year = target_year_of(target_year)
    specs = targets_by_indicator(targets, target_year)
    indicators = list(specs) if indicators is None else list(indicators)
    shown = [i for i in indicators if i in specs and specs[i].value != 0]
    if not shown:
        raise OutputError("compare_figure: no target given for any of the indicators "
                          f"{', '.join(indicators) or '(none)'}")
    order = [baseline_key] + [k for k in runs if k != baseline_key]
    styles = {**scenario_styles(list(runs), reference=baseline_key), **(styles or {})}
    dashes = {k: styles[k].linestyle for k in order}
    fig, axes = new_figure(1, 2, figsize=(15, 6), width_ratios=[1.25, 1], layout=None)
    left, right = axes[0]
    colors = [f"C{i}" for i in range(len(shown))]
    names = {i: (label(specs[i].label, lang) if specs[i].label is not None
                 else variable_label(i, lang)) for i in shown}
    for ind, color in zip(shown, colors, strict=True):
        for key in order:
            da = series_of(runs[key], ind) * (100.0 / specs[ind].value)
            draw_series(left, da, None, color=color, linestyle=dashes[key], linewidth=1.6)
    left.axhline(100, color="tab:red", linestyle=":", linewidth=1.0)
    left.set_ylabel(text("share_of_target", lang, year=target_year))
    style_time_axis(left, lang, plan_period)
    handles = [Line2D([], [], color=c, linewidth=2) for c in colors]
    handles += [Line2D([], [], color="0.3", linestyle=dashes[k]) for k in order]
    period, period_name = left.get_legend_handles_labels()   # the shaded plan period
    left.legend(handles + period, [names[i] for i in shown]
                + [_wrap(str(k), lang, 14 if lang == "zh" else 28) for k in order]
                + period_name,
                fontsize=8, frameon=False, ncols=2, loc="upper left")
    width = 0.8 / len(order)
    x = np.arange(len(shown))
    for j, key in enumerate(order):
        vals = [100 * value_at(series_of(runs[key], i), specs[i].year) / specs[i].value
                for i in shown]
        bars = right.bar(x + (j - (len(order) - 1) / 2) * width, vals, width,
                         label=str(key), **styles[key].bar())
        right.bar_label(bars, labels=[format_number(v, 0) for v in vals], fontsize=7,
                        rotation=90 if len(order) > 3 else 0, padding=2)
    right.axhline(100, color="tab:red", linestyle=":", linewidth=1.0)
    right.set_xticks(x, [_wrap(names[i], lang, 6 if lang == "zh" else 14) for i in shown])
    right.set_ylabel(text("attainment", lang))
    right.set_title(text("attainment_in", lang, year=target_year))
    right.set_ylim(0, max(right.get_ylim()[1], 100) * 1.22)   # room for the legend
    right.legend(fontsize=8, frameon=False, loc="upper left", ncols=2)
    right.grid(True, axis="y", color="0.88", linewidth=0.6)
    right.set_axisbelow(True)
    fit_margins(fig, axes, fig.suptitle(label(title, lang) if title is not None
                                        else text("compare_title", lang)))
    return fig
