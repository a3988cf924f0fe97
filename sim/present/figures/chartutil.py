"""Helpers shared by the chart modules: figures without pyplot, target records, run series.

Figures are :class:`matplotlib.figure.Figure` objects created directly (not through pyplot), so
no global figure registry is touched and nothing needs closing; ``fig.savefig`` renders with
the Agg/SVG canvases whatever backend is selected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.analysis.outcomes.targets import at_year
from sim.errors import OutputError, UncertaintyError
from sim.model.declarations.targets import load_targets
from sim.present.figures.fonts import use_cjk_font
from sim.present.labels import format_number, text

_MISSING = object()


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] = (8, 5),
               squeeze: bool = False, layout: str | None = "constrained",
               **subplot_kw: Any) -> tuple[Figure, Any]:
    """A Figure (not registered with pyplot) and its Axes grid.

    ``layout``: ``"constrained"`` (matplotlib places the panels at every rendering), or None
    for a fixed layout: the figure's maker calls :func:`sim.present.figures.layout.fit_margins` once
    its texts are set (several times faster to render; the titles sit at a fixed height
    above their panel).
    Returns ``(fig, axes)``; ``axes`` is a 2-D array of shape ``(nrows, ncols)`` unless
    ``squeeze`` is true.
    """
    use_cjk_font()
    fig = Figure(figsize=figsize, layout=layout)
    if layout is not None:
        return fig, fig.subplots(nrows, ncols, squeeze=squeeze, **subplot_kw)
    with mpl.rc_context({"axes.titley": 1.0}):   # no search for a free height at each draw
        return fig, fig.subplots(nrows, ncols, squeeze=squeeze, **subplot_kw)


def field(obj: Any, name: str, default: Any = _MISSING) -> Any:
    """``obj[name]`` for a mapping, else ``getattr(obj, name)``; ``default`` if absent."""
    if isinstance(obj, Mapping):
        if name in obj:
            return obj[name]
    elif hasattr(obj, name):
        return getattr(obj, name)
    if default is _MISSING:
        raise OutputError(f"target record {obj!r}: field '{name}' is missing")
    return default


#: the default ``plan_period`` of the time charts: the plan period of model/targets.yaml
DECLARED = "declared"
PlanPeriod = tuple[float, float] | None | str


def plan_period_of(period: PlanPeriod) -> tuple[float, float] | None:
    """``period``, or the declared plan period (model/targets.yaml) for :data:`DECLARED`."""
    if isinstance(period, str):
        if period != DECLARED:
            raise OutputError(f"plan_period: {period!r}; allowed: (start, end), None or "
                              f"{DECLARED!r}")
        return load_targets().plan.period
    return period


def target_year_of(year: int | None) -> int:
    """``year``, or the declared target year (model/targets.yaml) when None."""
    if year is None:
        return load_targets().year
    return int(year)


@dataclass(frozen=True)
class TargetSpec:
    """A plotted target: ``value`` of ``indicator`` in ``year`` (unit as in the results)."""

    indicator: str | None
    value: float
    year: int
    unit: str | None = None
    label: Any = None


def as_target(obj: Any, target_year: int | None = None,
              indicator: str | None = None) -> TargetSpec:
    """Normalise a target given as a number or as a record with fields
    ``indicator, target, unit, label, year`` (mapping or object); a number, or a record
    without a year, is a target in ``target_year`` (default the declared target year)."""
    if isinstance(obj, TargetSpec):
        return obj
    if isinstance(obj, int | float | np.number):
        return TargetSpec(indicator, float(obj), target_year_of(target_year))
    value = field(obj, "target")
    try:
        value = float(value)
    except (TypeError, ValueError) as exc:
        raise OutputError(f"target record {obj!r}: 'target' must be a number") from exc
    return TargetSpec(
        indicator=field(obj, "indicator", indicator),
        value=value,
        year=int(field(obj, "year", None) or target_year_of(target_year)),
        unit=field(obj, "unit", None),
        label=field(obj, "label", None),
    )


def targets_by_indicator(targets: Any, target_year: int | None = None
                         ) -> dict[str, TargetSpec]:
    """A list of target records (or a mapping indicator -> record/number) keyed by indicator."""
    if targets is None:
        return {}
    if isinstance(targets, Mapping):
        return {k: as_target(v, target_year, k) for k, v in targets.items()}
    out = {}
    for t in targets:
        spec = as_target(t, target_year)
        if not spec.indicator:
            raise OutputError(f"target record {t!r}: field 'indicator' is missing")
        out[spec.indicator] = spec
    return out


def series_of(run: xr.Dataset | xr.DataArray, variable: str) -> xr.DataArray:
    """The ``variable`` of one run as a DataArray with dims ``("sample", "time")``.

    ``run`` is a results Dataset (dims ``("sample", "time")``) or a DataArray with dims
    ``("time",)`` or ``("sample", "time")``. Raises :class:`OutputError` if the variable is
    missing or has other dimensions (subscripted variables must be selected first).
    """
    if isinstance(run, xr.Dataset):
        if variable not in run.data_vars:
            known = ", ".join(sorted(map(str, run.data_vars))[:20])
            raise OutputError(f"results: variable '{variable}' not found; available: {known}")
        da = run[variable]
    elif isinstance(run, xr.DataArray):
        da = run
    else:
        raise OutputError(f"results for '{variable}': expected an xarray Dataset or DataArray, "
                          f"got {type(run).__name__}")
    if "time" not in da.dims:
        raise OutputError(f"results: variable '{variable}' has no 'time' dimension")
    if "sample" not in da.dims:
        da = da.expand_dims("sample")
    extra = [d for d in da.dims if d not in ("sample", "time")]
    if extra:
        raise OutputError(f"results: variable '{variable}' has extra dimensions {extra}; "
                          "select one element of each before plotting")
    return da.transpose("sample", "time")


def value_at(da: xr.DataArray, year: float) -> float:
    """The (median over samples) value of a ``("sample", "time")`` series at ``year``; NaN if
    that year is not in the time coordinate."""
    try:
        return float(np.nanmedian(at_year(da, year)))
    except UncertaintyError:
        return float("nan")


def draw_series(ax: Axes, da: xr.DataArray, label: str | None, *, hatch: str | None = "\\\\",
                **kw: Any) -> Any:
    """Plot a ``("sample", "time")`` series: the line itself for one sample, else the median
    line with its 5-95 % band drawn as thin edges in the line's colour and style and a
    ``hatch`` in that colour (no translucent fill: bands of several scenarios stay distinct
    where they overlap, and in print). Returns the line."""
    x = np.asarray(da["time"].values, dtype=float)
    if da.sizes["sample"] == 1:
        (line,) = ax.plot(x, da.values[0], label=label, **kw)
        return line
    lo, mid, hi = np.nanpercentile(da.values, [5, 50, 95], axis=0)
    (line,) = ax.plot(x, mid, label=label, **kw)
    with mpl.rc_context({"hatch.linewidth": 0.5}):   # read when the collection is made
        ax.fill_between(x, lo, hi, facecolor="none", edgecolor=line.get_color(), hatch=hatch,
                        linewidth=0.6, linestyle=line.get_linestyle(), alpha=0.5)
    return line


def draw_target(ax: Axes, target: TargetSpec, lang: str, *, color: str = "tab:red",
                annotate: bool = True) -> None:
    """A dotted horizontal line at the target and a star at (year, value) labelled
    "<year>年目标" / "<year> target"; the value is written next to the star."""
    ax.axhline(target.value, color=color, linestyle=":", linewidth=1.0, zorder=1)
    ax.plot([target.year], [target.value], marker="*", markersize=12, color=color,
            linestyle="none", zorder=4, label=text("target", lang, year=target.year))
    if annotate:
        ax.annotate(format_number(target.value), (target.year, target.value),
                    xytext=(6, 4), textcoords="offset points", fontsize=8, color=color)


def style_time_axis(ax: Axes, lang: str, plan_period: PlanPeriod) -> None:
    """Integer year ticks, a "年份"/"Year" x label, plain y tick labels with thousands
    separators, a light grid, and the plan period shaded (:func:`plan_period_of`)."""
    plan_period = plan_period_of(plan_period)
    ax.xaxis.set_major_locator(InViewLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.yaxis.set_major_locator(InViewLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(thousands_formatter())
    ax.set_xlabel(text("year", lang))
    ax.grid(True, color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)
    if plan_period is not None:   # named in the legend: the shaded years are the plan's
        ax.axvspan(plan_period[0], plan_period[1], color="0.93", zorder=0, linewidth=0,
                   label=text("plan_period_years", lang, start=int(plan_period[0]),
                              end=int(plan_period[1])))


class InViewLocator(MaxNLocator):
    """:class:`~matplotlib.ticker.MaxNLocator` (with matplotlib's default arguments, those of
    its ``AutoLocator``) without the ticks beyond the axis ends: matplotlib makes a tick
    object (two lines, a grid line, two texts) for every location, drawn or not, and those
    were a third of a chart's ticks."""

    def __call__(self) -> np.ndarray:
        lo, hi = sorted(self.axis.get_view_interval())
        locs = np.asarray(super().__call__())
        eps = 1e-10 * max(hi - lo, abs(lo), abs(hi), 1e-300)
        return locs[(locs >= lo - eps) & (locs <= hi + eps)]


def thousands_formatter() -> FuncFormatter:
    """Tick labels with thousands separators from 1,000 up, plain ``%g`` below."""
    return FuncFormatter(_tick)


def _tick(v: float, _pos: Any = None) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:g}"


def dedupe_legend(axes: Any) -> tuple[list[Any], list[str]]:
    """Legend handles and labels of several Axes, first occurrence of each label kept."""
    handles, names = [], []
    for ax in np.ravel(axes):
        for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
            if n not in names and not n.startswith("_"):
                handles.append(h)
                names.append(n)
    return handles, names
