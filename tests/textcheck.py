"""Test helper: every text a figure draws, its window extent, and the overlaps and clipping.

:func:`text_problems` draws a figure (Agg, its own layout engine), collects the text artists that
are drawn (figure titles and notes, axes titles, axis labels and offset texts, tick labels of
the ticks in view, annotations and texts, legend texts and titles, table cells) and returns a
list of problems: a pair of texts whose boxes overlap, or a text not wholly inside the figure.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

#: overlaps and overhangs up to this many pixels are ignored (antialiasing, font bearings)
TOLERANCE_PX = 1.0
#: neighbouring tick labels of one axis closer than this read as one number ("20,00020,200")
MIN_TICK_GAP_PX = 3.0


def _ticks_in_view(axis, lo: float, hi: float) -> list[Text]:
    lo, hi = min(lo, hi), max(lo, hi)
    eps = 1e-9 * max(1.0, abs(lo), abs(hi))
    out = []
    for tick in axis.get_major_ticks() + axis.get_minor_ticks():
        if not lo - eps <= tick.get_loc() <= hi + eps:
            continue
        for lab in (tick.label1, tick.label2):
            if lab.get_visible():
                out.append(lab)
    return out


def _legend_texts(legend) -> list[Text]:
    if legend is None or not legend.get_visible():
        return []
    return [*legend.get_texts(), legend.get_title()]


def drawn_texts(fig: Figure) -> list[Text]:
    """The text artists of ``fig`` that are drawn (visible, not empty)."""
    texts: list[Text] = list(fig.texts)
    for legend in fig.legends:
        texts += _legend_texts(legend)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        # its texts and its three titles (centre, left, right: Axes.get_children lists them)
        texts += [c for c in ax.get_children() if isinstance(c, Text)]
        if ax.axison:
            for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
                if axis.get_visible():
                    texts += [axis.label, axis.get_offset_text(),
                              *_ticks_in_view(axis, lo, hi)]
        texts += _legend_texts(ax.get_legend())
        for table in ax.tables:
            texts += [cell.get_text() for cell in table.get_celld().values()]
    seen, out = set(), []
    for t in texts:
        if id(t) in seen or not t.get_visible() or not t.get_text().strip():
            continue
        seen.add(id(t))
        out.append(t)
    return out


def text_problems(fig: Figure, tol: float = TOLERANCE_PX) -> list[str]:
    """Overlapping pairs of drawn texts and texts outside the canvas, as readable lines."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = drawn_texts(fig)
    boxes = np.array([t.get_window_extent(renderer).extents for t in texts]).reshape(-1, 4)
    width, height = fig.bbox.width, fig.bbox.height
    problems = []
    for t, (x0, y0, x1, y1) in zip(texts, boxes, strict=True):
        if x0 < -tol or y0 < -tol or x1 > width + tol or y1 > height + tol:
            problems.append(f"outside the figure: {t.get_text()!r} at "
                            f"({x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}) of {width:.0f}x{height:.0f}")
    problems += _crowded_ticks(fig, renderer)
    if len(texts) > 1:
        dx = np.minimum(boxes[:, None, 2], boxes[None, :, 2]) - \
            np.maximum(boxes[:, None, 0], boxes[None, :, 0])
        dy = np.minimum(boxes[:, None, 3], boxes[None, :, 3]) - \
            np.maximum(boxes[:, None, 1], boxes[None, :, 1])
        hit = np.triu((dx > tol) & (dy > tol), k=1)
        for i, j in zip(*np.nonzero(hit), strict=True):
            problems.append(f"overlap: {texts[i].get_text()!r} and {texts[j].get_text()!r}")
    return problems


def _crowded_ticks(fig: Figure, renderer) -> list[str]:
    """Neighbouring tick labels of the same axis less than :data:`MIN_TICK_GAP_PX` apart."""
    out = []
    for ax in fig.axes:
        for axis, lo, hi, k in ((ax.xaxis, *ax.get_xlim(), 0), (ax.yaxis, *ax.get_ylim(), 1)):
            labels = [t for t in _ticks_in_view(axis, lo, hi) if t.get_text()]
            boxes = sorted(((t.get_window_extent(renderer).extents, t.get_text())
                            for t in labels), key=lambda b: b[0][k])
            for (a, ta), (b, tb) in zip(boxes, boxes[1:], strict=False):
                if b[k] - a[k + 2] < MIN_TICK_GAP_PX:
                    out.append(f"crowded ticks: {ta!r} and {tb!r}")
    return out


def assert_text_clean(fig: Figure) -> None:
    problems = text_problems(fig)
    assert not problems, f"{len(problems)} text problems:\n" + "\n".join(problems[:25])


# -- printed pages (WeasyPrint's layout boxes) -------------------------------------------------
#: CSS pixels per point (WeasyPrint lays out in CSS px: 96 per inch, 72 points per inch)
PX_PER_PT = 96 / 72


def smallest_chart_pt(fig: Figure, width_pt: float) -> float:
    """The smallest font size (points) of ``fig``'s drawn texts once the figure is printed
    ``width_pt`` wide (an SVG chart scaled to the page's column)."""
    scale = width_pt / (fig.get_size_inches()[0] * 72)
    FigureCanvasAgg(fig).draw()
    return min(t.get_fontsize() for t in drawn_texts(fig)) * min(scale, 1.0)


def page_problems(document, min_pt: float = 7.0, tol_px: float = 0.5) -> list[str]:
    """Problems of a rendered WeasyPrint ``document`` (``HTML(...).render()``): a text line
    below ``min_pt``, a text line sticking out of its table cell (clipped or running over the
    border), a box running off the page's content area."""
    problems: list[str] = []
    for n, page in enumerate(document.pages, 1):
        # WeasyPrint's public Page gives the page's size, bleed, links and anchors, not its
        # laid-out boxes (text lines, their font sizes and positions, table cells): private
        root = page._page_box
        _walk(root, None, n, (root.content_box_x(), root.content_box_x() + root.width),
              min_pt, tol_px, problems)
    return problems


def _walk(box, cell, n: int, area: tuple[float, float], min_pt: float, tol_px: float,
          problems: list[str]) -> None:
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.TableCellBox):
        cell = box
    if isinstance(box, boxes.TextBox) and box.text.strip():
        size = box.style["font_size"] / PX_PER_PT
        if size < min_pt - 1e-6:
            problems.append(f"page {n}: {box.text[:30]!r} at {size:.1f} pt")
        x0, x1 = box.position_x, box.position_x + box.width
        if cell is not None:
            c0 = cell.content_box_x()
            if x0 < c0 - tol_px or x1 > c0 + cell.width + tol_px:
                problems.append(f"page {n}: {box.text[:30]!r} runs out of its cell")
        if x0 < area[0] - tol_px or x1 > area[1] + tol_px:
            problems.append(f"page {n}: {box.text[:30]!r} runs off the page")
    for child in getattr(box, "children", ()) or ():
        _walk(child, cell, n, area, min_pt, tol_px, problems)
