"""Charts of ``what-it-takes``, ``returns`` and ``discover`` (Axes in, Axes out; zh and en)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from sim.errors import OutputError
from sim.model.declarations.targets import load_targets
from sim.model.declarations.words import LANGS, group
from sim.present.figures.fonts import use_cjk_font
from sim.present.labels import unit_label

_TEXT = group("requirement_charts")


def _start(ax: Any, lang: str) -> None:
    if lang not in LANGS:
        raise OutputError(f"charts: language {lang!r}; allowed: {', '.join(LANGS)}")
    if not isinstance(ax, Axes):
        raise OutputError(f"charts: expected a matplotlib Axes, got {type(ax).__name__}")
    use_cjk_font()


def _text(key: str, lang: str) -> str:
    """A chart text, with the plan years (and ``all``: the all-targets label) of
    ``model/targets.yaml``."""
    targets = load_targets()
    if key == "all":
        return targets.labels()["all_targets"][lang]
    return targets.fill(_TEXT[key][lang], lang)


def _name(key: str, lang: str, names: Mapping[str, Mapping[str, str]] | None) -> str:
    if key in _TEXT or key == "all":
        return _text(key, lang)
    if names and key in names:
        return names[key].get(lang) or key
    return key


def probability_curves(ax: Axes, curves: pd.DataFrame, target: str, *, lang: str = "zh",
                       probabilities: Sequence[float] = (), requirements: pd.DataFrame | None
                       = None, names: Mapping[str, Mapping[str, str]] | None = None,
                       title: str | None = None) -> Axes:
    """P(``target`` met) against extra money along each direction; chosen P and the least
    money found marked."""
    _start(ax, lang)
    if target not in curves.columns:
        raise OutputError(f"charts: no column {target!r} in the curves")
    for direction, df in curves.groupby("direction", sort=False):
        if df[target].max() - df[target].min() < 1e-12 and direction != "even":
            continue   # a line that changes nothing would only add clutter
        ax.plot(df["spend"], df[target], marker=".",
                ls="--" if direction == "even" else "-", label=_name(direction, lang, names))
    for p in probabilities:
        ax.axhline(p, color="0.5", lw=0.8, ls=":")
    if requirements is not None:
        rows = requirements[(requirements["target"] == target) & requirements["reachable"]]
        if len(rows):
            ax.plot(rows["extra_budget_2024_2028"], rows["probability"], "k*", ms=12,
                    label=_TEXT["need"][lang])
    ax.set_xlabel(_text("money", lang))
    ax.set_ylabel(_text("prob", lang))
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(True, color="0.9")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    if title:
        ax.set_title(title)
    return ax


def probability_figure(curves: pd.DataFrame, target: str, lang: str,
                       probabilities: Sequence[float], requirements: pd.DataFrame,
                       names: Mapping[str, Mapping[str, str]], title: str):
    """The figure ``p_<target>_<lang>`` of ``plansim what-it-takes`` (a
    :class:`~sim.present.output.render.FigureJob`'s function: rendered in a worker)."""
    # lazy: pulls xarray, matplotlib (140 ms)
    from sim.present.figures.chartutil import new_figure

    fig, axes = new_figure(1, 1, figsize=(8, 5))
    probability_curves(axes[0, 0], curves, target, lang=lang, probabilities=probabilities,
                       requirements=requirements, names=names, title=title)
    return fig


def return_bars(ax: Axes, table: pd.DataFrame, indicator: str, *, lang: str = "zh",
                names: Mapping[str, Mapping[str, str]] | None = None,
                title: str | None = None) -> Axes:
    """Median return per 亿元 of each lever group for ``indicator``, with its P5-P95 interval."""
    _start(ax, lang)
    df = table[table["indicator"] == indicator]
    if df.empty:
        raise OutputError(f"charts: no returns for {indicator!r}")
    y = np.arange(len(df))
    med = df["median"].to_numpy(float)
    err = np.vstack([med - df["P5"].to_numpy(float), df["P95"].to_numpy(float) - med])
    ax.barh(y, med, xerr=np.clip(err, 0, None), color="tab:blue", alpha=0.8, capsize=3)
    ax.set_yticks(y, [_name(g, lang, names) for g in df["group"]])
    ax.invert_yaxis()
    ax.set_xlabel(f"{_TEXT['per'][lang]} [{unit_label(df['unit'].iloc[0], lang)}]")
    ax.grid(True, axis="x", color="0.9")
    if title:
        ax.set_title(title)
    return ax


def prim_trajectory(ax: Axes, trajectory: pd.DataFrame, target: str, *, lang: str = "zh",
                    chosen: Sequence[tuple[float, float]] = (), title: str | None = None
                    ) -> Axes:
    """PRIM peeling trajectory: density against coverage per box; chosen boxes starred."""
    _start(ax, lang)
    df = trajectory[trajectory["target"] == target]
    for box, part in df.groupby("box"):
        ax.plot(part["coverage"], part["density"], marker=".",
                label=_TEXT["box"][lang].format(box=box))
    for cov, dens in chosen:
        ax.plot([cov], [dens], "k*", ms=12)
    ax.set_xlabel(_TEXT["coverage"][lang])
    ax.set_ylabel(_TEXT["density"][lang])
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.grid(True, color="0.9")
    if len(df):
        ax.legend(fontsize=8, loc="lower left")
    if title:
        ax.set_title(title)
    return ax
