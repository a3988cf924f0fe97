"""A fixed layout for figures of panels in a grid, measured once from their texts.

Matplotlib's constrained layout finds the room around each panel by taking the tight bounding
box of every artist of every panel (each bar, line and tick) at every rendering: half the time
a grid of panels takes to render. :func:`fit_margins` measures only the texts outside the
panels, once, and places the panels for good: each column's gap as wide as the tick labels
and axis labels on either side of it need, each row's gap as high as its x labels and the
titles of the row below need, the figure's title and legends in a band at the top, its notes
(``supxlabel``) in a band at the bottom. So no text of one panel runs into another's and none
leaves the figure. Texts inside the panels (legends, bar values) stay where the chart functions
put them. Used by the run, comparison and uncertainty figures (:mod:`sim.present.figures.charts`,
:mod:`sim.present.reports.uncertainty_report`) and the sensitivity figures
(:mod:`sim.present.reports.sensitivity_report`).
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from sim.errors import OutputError

#: inches between the texts of neighbouring panels, and between the texts and the edge (room
#: too for the few hundredths of an inch a long text's width varies with the resolution)
GAP_IN = 0.1
EDGE_IN = 0.1
#: texts are measured at the resolution the PNG files are rendered at
#: (:func:`sim.present.output.atomic.figure_bytes`), where their width decides what is clipped
MEASURE_DPI = 150


def fit_margins(fig: Figure, axes: Any, suptitle: Text | None = None) -> Figure:
    """Place the panels of ``fig`` (made without a layout engine, e.g. :func:`new_figure
    <sim.present.figures.chartutil.new_figure>` with ``layout=None``) and return it. Call it once
    the last text is set.

    ``axes``: the grid of panels, 2-D ``(rows, columns)`` or flat in row order (its shape then
    that of the panels' grid spec); panels switched off need no room; the grid spec's width
    and height ratios are kept. ``suptitle``: the figure's title, at the top edge; the
    figure's legends go under it, centred; its other texts (a note by ``supxlabel``) at the
    bottom edge. The layout engine is switched off: the panels stay where they are put."""
    from matplotlib.backends.backend_agg import RendererAgg

    dpi = max(fig.dpi, MEASURE_DPI)
    renderer = RendererAgg(1, 1, dpi)
    grid = np.asarray(axes, dtype=object)
    if grid.ndim != 2:
        grid = grid.reshape(grid.flat[0].get_subplotspec().get_gridspec().get_geometry())
    needs = np.zeros(grid.shape + (4,))   # left, right, top, bottom, inches
    for idx, ax in np.ndenumerate(grid):
        needs[idx] = _panel_needs(ax, renderer, dpi)
    width, height = fig.get_size_inches()
    top = EDGE_IN
    if suptitle is not None and suptitle.get_text():
        suptitle.set_y(1 - top / height)
        suptitle.set_verticalalignment("top")
        top += _extent(suptitle, renderer, dpi)[1] + GAP_IN
    legends = [lg for lg in fig.legends if lg.get_visible()]
    for lg in legends:   # side by side would need their widths: one band, the tallest
        lg.set_bbox_to_anchor((0.5, 1 - top / height), transform=fig.transFigure)
        lg.set_loc("upper center")
    if legends:
        at_dpi = RendererAgg(1, 1, fig.dpi)   # a legend's box is laid out at the figure's
        top += max(lg.get_window_extent(at_dpi).height for lg in legends) / fig.dpi + GAP_IN
    bottom = EDGE_IN
    notes = [t for t in fig.texts if t is not suptitle and t is not fig._suptitle
             and _extent(t, renderer, dpi)[1]]
    for t in notes:
        t.set_y(EDGE_IN / height)
        t.set_verticalalignment("bottom")
    if notes:
        bottom += max(_extent(t, renderer, dpi)[1] for t in notes) + GAP_IN
    nrows, ncols = grid.shape
    left = EDGE_IN + needs[:, 0, 0].max()
    right = EDGE_IN + needs[:, -1, 1].max()
    top += needs[0, :, 2].max()
    bottom += needs[-1, :, 3].max()
    wgap = [needs[:, j, 1].max() + needs[:, j + 1, 0].max() + GAP_IN for j in range(ncols - 1)]
    hgap = [needs[i, :, 3].max() + needs[i + 1, :, 2].max() + GAP_IN for i in range(nrows - 1)]
    gs = grid.flat[0].get_subplotspec().get_gridspec()
    wr = np.asarray(gs.get_width_ratios() or [1] * ncols, float)
    hr = np.asarray(gs.get_height_ratios() or [1] * nrows, float)
    widths = (width - left - right - sum(wgap)) * wr / wr.sum()
    heights = (height - top - bottom - sum(hgap)) * hr / hr.sum()
    if widths.min() <= 0 or heights.min() <= 0:
        raise OutputError(f"figure of {width:g} x {height:g} in: no room for {nrows} x {ncols} "
                          "panels and their labels")
    xs = left + np.concatenate([[0.0], np.cumsum(widths[:-1] + wgap)])
    tops = height - top - np.concatenate([[0.0], np.cumsum(heights[:-1] + hgap)])
    fig.set_layout_engine("none")
    for (i, j), ax in np.ndenumerate(grid):
        ax.set_position([xs[j] / width, (tops[i] - heights[i]) / height, widths[j] / width,
                         heights[i] / height])
    return fig


def text_size(fig: Figure, s: str, fontsize: float | str) -> tuple[float, float]:
    """Width and height in inches of ``s`` (lines split at ``\\n``) in ``fig``'s font."""
    from matplotlib.backends.backend_agg import RendererAgg

    return _extent(Text(text=s, fontsize=fontsize, figure=fig), RendererAgg(1, 1, fig.dpi),
                   fig.dpi)


def _extent(t: Text, renderer: Any, dpi: float) -> tuple[float, float]:
    """Width and height of a text in inches (0 when it draws nothing)."""
    if not t.get_visible() or not t.get_text():
        return 0.0, 0.0
    box = t.get_window_extent(renderer)
    return box.width / dpi, box.height / dpi


def _tick_labels(axis: Any) -> list[str]:
    """The major tick labels ``axis`` draws (those in view)."""
    locs = axis.get_majorticklocs()
    texts = axis.get_major_formatter().format_ticks(locs)
    lo, hi = sorted(axis.get_view_interval())
    eps = 1e-9 * max(1.0, abs(lo), abs(hi))
    return [s for v, s in zip(locs, texts, strict=True) if lo - eps <= v <= hi + eps and s]


def _panel_needs(ax: Axes, renderer: Any, dpi: float) -> tuple[float, float, float, float]:
    """Inches a panel's texts reach beyond its frame: left, right, top, bottom."""
    if not ax.get_visible() or not ax.axison:
        return 0.0, 0.0, 0.0, 0.0
    pt = 1 / 72
    probe = Text(figure=ax.get_figure())
    sizes = {}
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        probe.set_fontsize(mpl.rcParams[f"{name}tick.labelsize"])
        boxes = []
        for s in _tick_labels(axis):
            probe.set_text(s)
            boxes.append(_extent(probe, renderer, dpi))
        w = max((b[0] for b in boxes), default=0.0)
        h = max((b[1] for b in boxes), default=0.0)
        tick = (mpl.rcParams[f"{name}tick.major.size"] + mpl.rcParams[f"{name}tick.major.pad"]) \
            * pt if boxes else 0.0
        label = _extent(axis.label, renderer, dpi)
        sizes[name] = (w, h, tick, label, axis.labelpad * pt if label[0] else 0.0)
    xw, xh, xtick, xlabel, xpad = sizes["x"]
    yw, _yh, ytick, ylabel, ypad = sizes["y"]
    title = _extent(ax.title, renderer, dpi)[1]
    top = title + mpl.rcParams["axes.titlepad"] * pt if title else 0.0
    return (ytick + yw + ypad + ylabel[0], xw / 2, top, xtick + xh + xpad + xlabel[1])
