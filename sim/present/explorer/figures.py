"""Bokeh figures of the explorer: one per indicator, updated in place.

Each figure draws the current settings (solid), the baseline and plan references (dashed), the
observed history (points by status), the target in the target year (a star and a dotted
level), the plan period (shaded) and, with the band on, the 5-95 % band. The canvas holds
numbers only; every word (titles, legend) is HTML beside it, so that Chinese text is drawn
with the page's CJK font.
"""

from __future__ import annotations

from typing import Any

import numpy as np

COLORS = {"current": "#1f77b4", "baseline": "#7f7f7f", "plan": "#e6550d", "band": "#1f77b4",
          "target": "#d62728"}
HISTORY_COLORS = {"sourced": "#222222", "lower_bound": "#1f77b4", "implied": "#9467bd",
                  "conflicting": "#bcbd22"}


def _series(ds: Any, name: str) -> dict[str, list[float]]:
    da = ds[name]
    if "sample" in da.dims:
        da = da.isel(sample=0)
    return {"x": [float(t) for t in da["time"].values], "y": [float(v) for v in da.values]}


class IndicatorFigure:
    """The figure of one indicator and its data sources."""

    def __init__(self, target: Any, history: Any, references: dict[str, Any],
                 plan_period: tuple[int, int], years: tuple[float, float]):
        from bokeh.models import BoxAnnotation, ColumnDataSource, NumeralTickFormatter, Span
        from bokeh.plotting import figure

        self.target = target
        fig = figure(height=210, sizing_mode="stretch_width", toolbar_location=None,
                     x_range=(years[0] - 0.5, years[1] + 0.5), tools="")
        fig.yaxis.formatter = NumeralTickFormatter(format="0,0")
        fig.xaxis.ticker.desired_num_ticks = 6
        fig.min_border_left = 50
        fig.add_layout(BoxAnnotation(left=plan_period[0], right=plan_period[1] + 1,
                                     fill_color="#f0e6d2", fill_alpha=0.5, level="underlay"))
        self.band = ColumnDataSource({"x": [], "lo": [], "hi": []})
        fig.varea("x", "lo", "hi", source=self.band, fill_color=COLORS["band"], fill_alpha=0.18)
        for sid, ds in references.items():
            fig.line("x", "y", source=ColumnDataSource(_series(ds, target.indicator)),
                     line_color=COLORS[sid], line_dash="dashed", line_width=1.6)
        fig.add_layout(Span(location=target.target, dimension="width",
                            line_color=COLORS["target"], line_dash="dotted", line_width=1))
        fig.scatter([target.year], [target.target], marker="star", size=14,
                    fill_color=COLORS["target"], line_color=COLORS["target"])
        rows = history[history["indicator"] == target.indicator]
        self.history = ColumnDataSource({
            "x": rows["year"].astype(float).tolist(), "y": rows["value"].astype(float).tolist(),
            "c": [HISTORY_COLORS.get(s, "#000000") for s in rows["status"]]})
        fig.scatter("x", "y", source=self.history, size=6, fill_color="c", line_color="c")
        self.current = ColumnDataSource({"x": [], "y": []})
        fig.line("x", "y", source=self.current, line_color=COLORS["current"], line_width=2.6)
        self.figure = fig

    def update(self, central: Any, band: Any = None) -> None:
        self.current.data = _series(central, self.target.indicator)
        if band is None:
            self.band.data = {"x": [], "lo": [], "hi": []}
            return
        da = band[self.target.indicator]
        q = list(np.asarray(da["percentile"].values, float))
        self.band.data = {"x": [float(t) for t in da["time"].values],
                          "lo": da.values[q.index(5.0)].tolist(),
                          "hi": da.values[q.index(95.0)].tolist()}


def legend_html(words: dict[str, str], band: bool) -> str:
    """The legend of the figures as HTML (``words``: current, baseline, plan, history, target,
    band)."""
    def line(color: str, dash: bool) -> str:
        style = "dashed" if dash else "solid"
        return (f'<span style="display:inline-block;width:26px;border-top:3px {style} '
                f'{color};vertical-align:middle"></span>')

    items = [(line(COLORS["current"], False), words["current"]),
             (line(COLORS["baseline"], True), words["baseline"]),
             (line(COLORS["plan"], True), words["plan"]),
             (f'<span style="color:{HISTORY_COLORS["sourced"]}">●</span>', words["history"]),
             (f'<span style="color:{COLORS["target"]}">★</span>', words["target"])]
    if band:
        items.append((f'<span style="display:inline-block;width:20px;height:10px;background:'
                      f'{COLORS["band"]};opacity:.25"></span>', words["band"]))
    return " &nbsp; ".join(f"{mark} {text}" for mark, text in items)
