"""Charts for the uncertainty, sensitivity and attribution layer (Axes in, Axes out).

- :func:`fan_chart`: percentile bands of one output over time.
- :func:`tornado`: one-at-a-time swings of an output around a base value.
- :func:`bar_indices`: Sobol first-order and total indices with confidence intervals.
- :func:`waterfall`: decomposition of a change (start -> end) into contributions.
- :func:`lines_over_time`: one line per column of a time-indexed table (e.g. indices per year).

``labels`` arguments map row/column names to a string or ``{zh, en}``; names without a label are
shown as they are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from sim.errors import OutputError
from sim.present.figures.chartutil import (
    DECLARED,
    PlanPeriod,
    as_target,
    draw_target,
    style_time_axis,
    thousands_formatter,
)
from sim.present.figures.fonts import use_cjk_font
from sim.present.labels import axis_label, check_lang, format_number, label, text, unit_label

FAN_PERCENTILES = (5, 25, 50, 75, 95)


def _name(key: Any, lang: str, labels: Mapping[str, Any] | None) -> str:
    if labels and key in labels:
        return label(labels[key], lang)
    return str(key)


def _start(ax: Axes, lang: str) -> None:
    check_lang(lang)
    use_cjk_font()
    if not isinstance(ax, Axes):
        raise OutputError(f"charts: expected a matplotlib Axes, got {type(ax).__name__}")


def _value_axis(ax: Axes, axis: str, title: Any, lang: str) -> None:
    """Thousands separators and a light grid on the value axis (``"x"`` or ``"y"``); title.
    A horizontal value axis gets at most five ticks, so wide labels such as "21,400" never
    run into each other."""
    getattr(ax, f"{axis}axis").set_major_formatter(thousands_formatter())
    if axis == "x":
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
    ax.grid(True, axis=axis, color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)
    if title is not None:
        ax.set_title(label(title, lang))


def _need_columns(df: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise OutputError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise OutputError(f"{what}: columns {missing} missing; required: {', '.join(cols)}")
    if df.empty:
        raise OutputError(f"{what}: the table is empty")


def fan_chart(ax: Axes, percentiles: xr.DataArray, *, target: Any = None,
              target_year: int | None = None, lang: str = "zh", title: Any = None,
              unit: str | None = None, color: str = "tab:blue",
              plan_period: PlanPeriod = DECLARED, legend: bool = True) -> Axes:
    """Fan chart of one output.

    ``percentiles``: DataArray with dims ``("percentile", "time")`` whose ``percentile``
    coordinate holds at least 5, 25, 50, 75, 95 (in percent); a ``sample`` dim of length 1 is
    squeezed. Draws the 5-95 and 25-75 bands and the median; ``target`` (number or target
    record) as in :func:`sim.present.figures.charts.plot_indicator`. Unit: ``unit`` or attr ``units``.
    """
    _start(ax, lang)
    da = percentiles
    if not isinstance(da, xr.DataArray):
        raise OutputError(f"fan_chart: expected an xarray DataArray, got {type(da).__name__}")
    if "sample" in da.dims and da.sizes["sample"] == 1:
        da = da.squeeze("sample", drop=True)
    if set(da.dims) != {"percentile", "time"}:
        raise OutputError(f"fan_chart: dims {da.dims}; required: ('percentile', 'time')")
    have = np.asarray(da["percentile"].values, dtype=float)
    rows = {}
    for p in FAN_PERCENTILES:
        hit = np.nonzero(np.isclose(have, p))[0]
        if hit.size == 0:
            raise OutputError(f"fan_chart: percentile {p} missing; have {have.tolist()}, "
                              f"required: {list(FAN_PERCENTILES)}")
        rows[p] = da.isel(percentile=int(hit[0])).transpose("time").values
    x = np.asarray(da["time"].values, dtype=float)
    ax.fill_between(x, rows[5], rows[95], color=color, alpha=0.18, linewidth=0,
                    label=text("band_5_95", lang))
    ax.fill_between(x, rows[25], rows[75], color=color, alpha=0.38, linewidth=0,
                    label=text("band_25_75", lang))
    ax.plot(x, rows[50], color=color, linewidth=1.8, label=text("median", lang))
    spec = as_target(target, target_year) if target is not None else None
    if spec is not None:
        draw_target(ax, spec, lang)
    if title is not None:
        ax.set_title(label(title, lang))
    ax.set_ylabel(unit_label(unit or da.attrs.get("units") or (spec.unit if spec else None),
                             lang))
    style_time_axis(ax, lang, plan_period)
    if legend:
        ax.legend(fontsize=8, frameon=False, loc="upper left")
    return ax


def interval(values: Any, half: Any) -> np.ndarray | None:
    """Error-bar extents (2, n) of ``values`` ± ``half`` with the lower end clipped at 0, for
    indices that cannot be negative (μ*, S1, ST); None without ``half``."""
    if half is None:
        return None
    v = np.asarray(values, dtype=float)
    h = np.nan_to_num(np.asarray(half, dtype=float))
    return np.vstack([np.clip(np.minimum(h, v), 0, None), h])


def _digits(span: float) -> int:
    """Decimals that show a number to about 1/100 of ``span`` (0 to 3)."""
    if not span or not math.isfinite(span):
        return 0
    return int(min(3, max(0, 2 - math.floor(math.log10(abs(span))))))


def _fmt(v: float, digits: int, signed: bool = False) -> str:
    out = f"{abs(v):,.{digits}f}"
    if signed and float(out.replace(",", "")) == 0:
        return "≈0"
    if signed:
        return ("+" if v >= 0 else "−") + out
    return ("−" if v < 0 and float(out.replace(",", "")) != 0 else "") + out


def tornado(ax: Axes, df: pd.DataFrame, *, base: float, lang: str = "zh",
            labels: Mapping[str, Any] | None = None, unit: str | None = None,
            title: Any = None, max_bars: int | None = None, legend: bool = True) -> Axes:
    """Tornado chart: for each parameter (``df`` index) the output with the parameter at its
    low (column ``low``) and high (column ``high``) value, as two bars from ``base``, each
    labelled with the output value at its end; the x axis in ``unit``.

    With columns ``value_low``/``value_high`` (the parameter's low and high values) the
    parameter's name carries them: ``"name (low–high)"``. Bars are sorted by swing
    ``|high - low|``, largest at the top; ``max_bars`` keeps the top n.
    """
    _start(ax, lang)
    _need_columns(df, ("low", "high"), "tornado")
    d = df.copy()
    d[["low", "high"]] = d[["low", "high"]].astype(float)
    d = d.assign(_swing=(d["high"] - d["low"]).abs()).sort_values("_swing", ascending=True)
    if max_bars is not None:
        d = d.iloc[-max_bars:]
    y = np.arange(len(d))
    h = 0.38
    ax.barh(y - h / 2, d["low"] - base, h, left=base, color="tab:blue", label=text("low", lang))
    ax.barh(y + h / 2, d["high"] - base, h, left=base, color="tab:orange",
            label=text("high", lang))
    ends = np.concatenate([d["low"].to_numpy(), d["high"].to_numpy(), [base]])
    span = float(np.nanmax(ends) - np.nanmin(ends)) or max(abs(base), 1.0) * 0.1
    digits = _digits(span)
    for col, off in (("low", -h / 2), ("high", h / 2)):
        for yi, v in zip(y, d[col], strict=True):
            right = v >= base
            ax.annotate(_fmt(v, digits), (v, yi + off), xytext=(3 if right else -3, 0),
                        textcoords="offset points", ha="left" if right else "right",
                        va="center", fontsize=6.5)
    ax.set_xlim(np.nanmin(ends) - 0.35 * span, np.nanmax(ends) + 0.35 * span)
    ax.axvline(base, color="0.2", linewidth=1.0)
    names = [_name(k, lang, labels) for k in d.index]
    if {"value_low", "value_high"} <= set(d.columns):
        names = [f"{n} ({format_number(lo)}–{format_number(hi)})" for n, lo, hi in
                 zip(names, d["value_low"], d["value_high"], strict=True)]
    ax.set_yticks(y, names)
    ax.set_ylim(-0.7, len(d) - 0.3)
    ax.set_xlabel(unit_label(unit, lang))
    _value_axis(ax, "x", title, lang)
    if legend:
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    return ax


def bar_indices(ax: Axes, df: pd.DataFrame, *, lang: str = "zh",
                labels: Mapping[str, Any] | None = None, title: Any = None) -> Axes:
    """Horizontal grouped bars of Sobol indices per parameter (``df`` index).

    ``df`` columns: ``S1, S1_conf, ST, ST_conf`` (the ``_conf`` columns are the half-widths of
    the confidence intervals, as SALib reports them). Sorted by ``ST``, largest at the top.
    """
    _start(ax, lang)
    _need_columns(df, ("S1", "S1_conf", "ST", "ST_conf"), "bar_indices")
    d = df.astype(float).sort_values("ST", ascending=True)
    y = np.arange(len(d))
    h = 0.38
    ax.barh(y + h / 2, d["ST"], h, xerr=interval(d["ST"], d["ST_conf"]), color="tab:orange",
            label=text("total_order", lang), error_kw={"linewidth": 0.8})
    ax.barh(y - h / 2, d["S1"], h, xerr=interval(d["S1"], d["S1_conf"]), color="tab:blue",
            label=text("first_order", lang), error_kw={"linewidth": 0.8})
    ax.set_yticks(y, [_name(k, lang, labels) for k in d.index])
    ax.set_xlabel(text("sensitivity_index", lang))
    ax.axvline(0, color="0.2", linewidth=0.8)
    ax.grid(True, axis="x", color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)
    if title is not None:
        ax.set_title(label(title, lang))
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return ax


def waterfall(ax: Axes, contributions: pd.Series, start: float, end: float, *,
              lang: str = "zh", labels: Mapping[str, Any] | None = None,
              unit: str | None = None, title: Any = None, start_label: Any = None,
              end_label: Any = None, rtol: float = 1e-9) -> Axes:
    """Horizontal waterfall from ``start`` (top) to ``end`` (bottom) through ``contributions``
    (index: names; may be empty when nothing differs).

    Positive contributions green, negative red, the ends grey. If ``start + sum`` differs from
    ``end`` by more than ``rtol * max(1, |end|)``, a hatched "交互作用"/"Interaction" bar closes
    the gap. The value axis (in ``unit``) spans the ends and the running total, not 0, so the
    steps are visible; each bar carries its value (the steps signed) beside its end, inside
    the axes, to a precision set by the size of the change.
    """
    _start(ax, lang)
    if not isinstance(contributions, pd.Series):
        raise OutputError("waterfall: 'contributions' must be a pandas Series")
    steps = [(_name(k, lang, labels), float(v), False) for k, v in contributions.items()]
    gap = float(end) - float(start) - float(contributions.sum())
    if abs(gap) > rtol * max(1.0, abs(float(end))):
        steps.append((text("residual", lang), gap, True))
    levels = np.cumsum([float(start)] + [v for _, v, _ in steps])
    lo, hi = float(min(levels.min(), end)), float(max(levels.max(), end))
    span = hi - lo or max(abs(float(end)), 1.0) * 0.05
    left, right = lo - 0.8 * span, hi + 0.55 * span
    digits = _digits(span)

    def note(x: float, y: float, s: str) -> None:
        ax.annotate(s, (x, y), xytext=(3, 0), textcoords="offset points", ha="left",
                    va="center", fontsize=8)

    names = [label(start_label, lang) if start_label is not None else text("start", lang)]
    ax.barh(0, start - left, left=left, color="0.6", height=0.6)
    note(start, 0, _fmt(start, digits))
    level = float(start)
    for i, (name, v, hatched) in enumerate(steps, start=1):
        ax.barh(i, v, left=level, height=0.6, color="tab:green" if v >= 0 else "tab:red",
                hatch="//" if hatched else None, edgecolor="0.3", linewidth=0.5)
        ax.plot([level, level], [i - 1.3, i + 0.3], color="0.5", linewidth=0.6)
        note(max(level, level + v), i, _fmt(v, digits, signed=True))
        level += v
        names.append(name)
    n = len(steps) + 1
    ax.barh(n, end - left, left=left, color="0.45", height=0.6)
    note(end, n, _fmt(end, digits))
    names.append(label(end_label, lang) if end_label is not None else text("end", lang))
    ax.set_xlim(left, right)
    ax.set_yticks(np.arange(n + 1), names)
    ax.set_ylim(n + 0.6, -0.6)   # start at the top
    ax.set_xlabel(unit_label(unit, lang))
    _value_axis(ax, "x", title, lang)
    return ax


def lines_over_time(ax: Axes, df: pd.DataFrame, *, lang: str = "zh",
                    labels: Mapping[str, Any] | None = None, ylabel: Any = None,
                    unit: str | None = None, title: Any = None,
                    bands: pd.DataFrame | None = None,
                    plan_period: PlanPeriod = None) -> Axes:
    """One line per column of ``df`` against its index (years), e.g. sensitivity indices per
    year. ``bands``: optional table of the same shape with half-widths, drawn as shading.
    Y label: ``ylabel`` (text or ``{zh, en}``; default "敏感性指数"/"Sensitivity index"),
    with ``unit`` appended if given."""
    _start(ax, lang)
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise OutputError("lines_over_time: 'df' must be a non-empty pandas DataFrame")
    x = np.asarray(df.index, dtype=float)
    for col in df.columns:
        y = df[col].to_numpy(dtype=float)
        (line,) = ax.plot(x, y, linewidth=1.6, label=_name(col, lang, labels))
        if bands is not None and col in bands.columns:
            half = bands[col].reindex(df.index).to_numpy(dtype=float)
            ax.fill_between(x, y - half, y + half, color=line.get_color(), alpha=0.15,
                            linewidth=0)
    name = label(ylabel, lang) if ylabel is not None else text("sensitivity_index", lang)
    style_time_axis(ax, lang, plan_period)
    ax.set_ylabel(axis_label(name, unit, lang))
    if title is not None:
        ax.set_title(label(title, lang))
    lo, hi = ax.get_ylim()
    rows = len(df.columns)   # headroom above the lines for the legend
    ax.set_ylim(lo, hi + (hi - lo) * min(0.9, 0.08 * rows))
    ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=2 if rows > 3 else 1)
    return ax
