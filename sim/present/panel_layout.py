"""A fixed layout for figures of equal panels in a grid (the sensitivity and attribution
figures): each panel's margins sized from the texts around it, measured once.

Constrained layout finds the same room by taking the tight bounding box of every artist of every
panel (each bar, whisker and tick) before each save, a third of the time a large grid of panels
takes to render. Here only the texts outside the axes are measured (tick labels, axis labels,
titles, the figure's legend and note) and the panels placed: a column as wide as its widest
tick labels need, a row as high as its titles and x labels need, so no text of one panel runs
into another's and none leaves the figure. Texts inside the axes (legends, bar values) stay
where the chart functions put them.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: space between a panel's texts and the cell around it, and around the figure's edge (inches)
PAD = 0.12
#: room left to the right of every panel for a tick label centred on its right end (inches)
RIGHT = 0.3


def _renderer(fig: Figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return FigureCanvasAgg(fig).get_renderer()


def _height(texts, renderer) -> float:
    boxes = [t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text()]
    return max((b.height for b in boxes), default=0.0)


def _width(texts, renderer) -> float:
    boxes = [t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text()]
    return max((b.width for b in boxes), default=0.0)


def _pads(ax: Axes, renderer, dpi: float) -> tuple[float, float, float, float]:
    """Room (pixels) ``ax`` needs outside its frame: left, right, bottom, top."""
    pt = dpi / 72.0
    ytl = ax.yaxis.get_ticklabels()
    xtl = ax.xaxis.get_ticklabels()
    ypad = (ax.yaxis.get_tick_padding() + ax.yaxis.labelpad) * pt
    xpad = (ax.xaxis.get_tick_padding() + ax.xaxis.labelpad) * pt
    left = _width(ytl, renderer) + ypad + _width([ax.yaxis.label], renderer) + 2 * pt
    bottom = _height(xtl, renderer) + xpad + _height([ax.xaxis.label], renderer) + 2 * pt
    top = _height([ax.title], renderer) + (mpl.rcParams["axes.titlepad"] + 4) * pt
    right = max(RIGHT * dpi, _width(xtl, renderer) / 2 + 2 * pt)
    return left, right, bottom, top


def fixed_layout(fig: Figure, axes: Sequence[Axes], shape: tuple[int, int]) -> Figure:
    """Place ``axes`` (row by row in a grid of ``shape``; the ones switched off ignored) in
    cells of equal size, with room for the figure's legends at the top and its texts (the
    note of ``supxlabel``) at the bottom; the figure's layout engine is switched off."""
    rows, cols = shape
    renderer = _renderer(fig)
    dpi = fig.dpi
    width, height = fig.get_size_inches() * dpi
    pad = PAD * dpi
    top_band = max((lg.get_window_extent(renderer).height for lg in fig.legends), default=0.0)
    bottom_band = _height(fig.texts, renderer)
    left, right = np.zeros(cols), np.zeros(cols)
    bottom, top = np.zeros(rows), np.zeros(rows)
    for i, ax in enumerate(axes):
        if not ax.axison:
            continue
        r, c = divmod(i, cols)
        lp, rp, bp, tp = _pads(ax, renderer, dpi)
        left[c], right[c] = max(left[c], lp), max(right[c], rp)
        bottom[r], top[r] = max(bottom[r], bp), max(top[r], tp)
    x0, x1 = pad, width - pad
    y1 = height - pad - (top_band + pad if top_band else 0.0)
    y0 = pad + (bottom_band + pad if bottom_band else 0.0)
    cell_w, cell_h = (x1 - x0) / cols, (y1 - y0) / rows
    fig.set_layout_engine("none")
    for i, ax in enumerate(axes):
        r, c = divmod(i, cols)
        cx, cy = x0 + c * cell_w, y1 - (r + 1) * cell_h
        box = [cx + left[c], cy + bottom[r], cell_w - left[c] - right[c],
               cell_h - bottom[r] - top[r]]
        ax.set_position([box[0] / width, box[1] / height, max(box[2], 1.0) / width,
                         max(box[3], 1.0) / height])
    for lg in fig.legends:   # just under the top edge, centred
        lg.set_bbox_to_anchor((0.5, 1 - pad / height), transform=fig.transFigure)
        lg.set_loc("upper center")
    for t in fig.texts:
        t.set_y(pad / height)
        t.set_verticalalignment("bottom")
    return fig
