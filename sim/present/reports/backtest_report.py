"""The ``plansim backtest`` report: absolute errors by horizon, model against the naive forecast
(both languages, rendered by a :class:`~sim.present.output.render.FigurePool`), the tables as CSV
(``backtest.csv``, ``by_horizon.csv``, ``bounds.csv``), a workbook in the reader's language and a
short ``README.md``, written atomically into the result folder (``DIR/backtest/``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.forecasts.backtest import ALL, Backtest
from sim.model.declarations.words import group, in_group
from sim.present.figures.chartutil import new_figure
from sim.present.figures.layout import fit_margins
from sim.present.labels import LANGS
from sim.present.output.atomic import DEFAULT_FORMATS
from sim.present.output.outdir import owned_dir
from sim.present.output.render import FigureJob, FigurePool, write_renderings
from sim.present.tabular.columns import HEADERS, Col, Table
from sim.present.tabular.tables import format_tables, write_csv
from sim.present.tabular.workbook import write_workbook

WORDS = group("backtest")
_w = in_group("backtest")


def errors_chart(ax: Axes, rows: pd.DataFrame, lang: str) -> Axes:
    """Absolute errors (%) of each scored row by horizon, model and naive side by side, with
    their MAPE per horizon as lines."""
    model = {"color": "tab:blue", "label": _w("model", lang)}
    naive = {"color": "tab:gray", "label": _w("naive", lang)}
    for col, style, shift in (("error_pct", model, -0.12), ("naive_error_pct", naive, 0.12)):
        err = rows[["horizon", col]].dropna()
        ax.plot(err["horizon"] + shift, err[col].abs(), "o", ms=4, alpha=0.45,
                color=style["color"], mec="none")
        mape = err.groupby("horizon")[col].apply(lambda s: float(np.mean(np.abs(s))))
        ax.plot(mape.index + shift, mape.values, "-", marker="D", ms=6, lw=1.6,
                color=style["color"], label=f"{style['label']}: {_w('mape', lang)}")
    hs = sorted(int(h) for h in rows["horizon"].unique())
    ax.set_xticks(hs)
    ax.set_xlabel(_w("horizon_axis", lang))
    ax.set_ylabel(_w("abs_error", lang))
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return ax


def errors_figure(rows: pd.DataFrame, lang: str, note: str = "") -> Figure:
    """One panel: :func:`errors_chart`, titled, with ``note`` under it."""
    fig, axes = new_figure(1, 1, figsize=(8, 5), layout=None)
    errors_chart(axes[0, 0], rows, lang)
    if note:
        fig.supxlabel(note, fontsize=8)
    return fit_margins(fig, axes, fig.suptitle(_w("title", lang)))


def summary_table(result: Backtest, lang: str) -> Table:
    """MAPE by horizon, model and naive, and the 90% band coverage (the console's table)."""
    df = result.by_horizon()
    df["horizon"] = [_w("all_horizons", lang) if h == ALL else str(h)
                     for h in df["horizon"]]
    cols = {"horizon": Col(HEADERS["horizon"], kind="text"), "rows": Col(HEADERS["rows"]),
            "model_mape": Col(HEADERS["model_mape"], "%"),
            "naive_rows": Col(HEADERS["naive_rows"]),
            "naive_mape": Col(HEADERS["naive_mape"], "%"),
            "coverage_90": Col(HEADERS["coverage_90"], kind="share")}
    return Table(df, cols, _w("summary", lang))


def origins_table(result: Backtest, lang: str) -> Table:
    """Per origin: rows estimated on, rows scored, bounds, posterior draws, convergence."""
    df = result.per_origin.copy()
    cols = {k: Col(HEADERS[k]) for k in df.columns}
    cols["origin"] = Col(HEADERS["origin"], kind="year")
    cols["converged"] = Col(HEADERS["converged"], kind="text")
    return Table(df, cols, _w("origins", lang))


def note(result: Backtest, lang: str) -> str:
    o = result.origins
    span = f"{o[0]}-{o[-1]}" if len(o) > 1 else str(o[0])
    est = _w(result.estimator, lang) if result.estimator in WORDS else result.estimator
    return _w("note", lang, origins=span, n=result.samples, estimator=est)


def figure_jobs(result: Backtest, formats: Sequence[str] = DEFAULT_FORMATS):
    """The chart in both languages, as jobs for a :class:`~sim.present.output.render.FigurePool`."""
    rows = result.rows[["horizon", "error_pct", "naive_error_pct"]]
    return [FigureJob(f"errors_by_horizon_{lang}", errors_figure, (rows, lang),
                      {"note": note(result, lang)}, tuple(formats)) for lang in LANGS]


def readme(result: Backtest, lang: str) -> str:
    return ("# plansim backtest\n\n"
            f"{note(result, lang)}; seed {result.seed}\n\n"
            "- `backtest.csv`: one row per scored figure (a sourced outturn after the origin) "
            "and origin: value, the ensemble's median (`central`) and P5/P95, the errors of "
            "the model and of the naive forecast in percent, `inside_90`\n"
            "- `by_horizon.csv`: MAPE by horizon, model and naive, and the 90% coverage\n"
            "- `origins.csv`: per origin the history rows up to it and those in the "
            "likelihood, the rows scored, the posterior's draws and whether its chain "
            "converged\n"
            "- `bounds.csv`: lower bounds after the origin and the share of the ensemble at "
            "or above them (`met_share`)\n"
            "- `errors_by_horizon_{zh,en}.*`: absolute errors by horizon, model against naive\n\n"
            "```\n" + format_tables([summary_table(result, lang),
                                    origins_table(result, lang)], lang) + "\n```\n")


def write_backtest(result: Backtest, final: Path | str, *, lang: str = "zh",
                   figures=None, formats: Sequence[str] = DEFAULT_FORMATS,
                   say: Callable[[str], None] = lambda _m: None) -> Path:
    """Write the report into ``final`` (replaced atomically). ``figures``: the renderings of
    :func:`figure_jobs` already submitted to a pool (default: rendered here)."""
    if figures is None:
        figures = FigurePool(0).submit_all(figure_jobs(result, formats))
    tables = {"backtest": result.rows, "by_horizon": result.by_horizon(),
              "bounds": result.bounds, "origins": result.per_origin}
    with owned_dir(final) as tmp:
        for name, df in tables.items():
            write_csv(df, tmp / f"{name}.csv")
        write_workbook(tmp / "backtest.xlsx", lang, title=_w("title", lang),
                       summary=[summary_table(result, lang), origins_table(result, lang)],
                       tables=tables)
        (tmp / "README.md").write_text(readme(result, lang), encoding="utf-8")
        say("  charts")
        write_renderings(figures, tmp, say)
    return Path(final)
