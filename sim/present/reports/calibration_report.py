"""The estimation report of ``plansim calibrate`` (``out/calibration/``).

:func:`write_report` writes, atomically into one directory:

- ``fit_<lang>.png`` (other ``formats`` on request): one panel per fitted series over the
  history years: the posterior predictive median and 90% band, the central run (posterior-median
  assumptions), sourced figures (filled), lower bounds (upward triangles) and implied checks
  (open circles, not in the likelihood);
- ``parameters_<lang>.png``: prior against posterior 90% interval per estimated assumption, on
  the scale of its prior range;
- ``fit_rows.csv`` (per row), ``fit_by_series.csv`` (per series and status: sourced rows,
  lower bounds and implied checks apart), ``parameters.csv``, ``origin.csv``, ``skipped.csv``;
- ``report.md``: a short summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.declarations.words import group
from sim.present.figures.chartutil import new_figure, thousands_formatter
from sim.present.labels import LANGS, declared_labels, label
from sim.present.output.atomic import DEFAULT_FORMATS, save_figure
from sim.present.output.outdir import owned_dir
from sim.present.tabular.tables import write_csv

WORDS = group("calibration")
MARKERS = {"sourced": ("o", "black"), "lower_bound": ("^", "black"), "implied": ("o", "none")}


def fit_by_series(fit: pd.DataFrame) -> pd.DataFrame:
    """Per series and status: rows, median absolute error of the posterior median (%; for a
    lower bound, how far above the bound the median sits), share of draws within 2 sd (lower
    bounds: not more than 2 sd below) and share of draws at or above the observed value."""
    g = fit.assign(abs_error_pct=fit["error_pct"].abs()).groupby(["status", "indicator"])
    return pd.DataFrame({"n": g.size(), "median_abs_error_pct": g["abs_error_pct"].median(),
                         "within_2sd": g["within_2sd"].mean(),
                         "share_at_or_above": g["share_above"].mean()}).reset_index()


def fit_figure(fit: pd.DataFrame, bands: dict[str, pd.DataFrame], lang: str):
    """``bands[variable]``: columns time, P5, P50, P95, central. Returns the Figure."""
    inds = list(dict.fromkeys(fit["indicator"]))
    cols = 3 if len(inds) > 4 else max(len(inds), 1)
    nrows = int(np.ceil(len(inds) / cols))
    fig, axes = new_figure(nrows, cols, figsize=(5.0 * cols, 3.8 * nrows))
    flat = np.asarray(axes).ravel()
    for ax in flat[len(inds):]:
        ax.set_axis_off()
    for ax, ind in zip(flat, inds, strict=False):
        rows = fit[fit["indicator"] == ind]
        for var in dict.fromkeys(rows["variable"]):
            b = bands.get(var)
            if b is None:
                continue
            ax.fill_between(b["time"], b["P5"], b["P95"], color="tab:blue", alpha=0.2,
                            label=label(WORDS["band"], lang))
            ax.plot(b["time"], b["P50"], color="tab:blue", lw=1.6,
                    label=label(WORDS["median"], lang))
            ax.plot(b["time"], b["central"], color="tab:orange", lw=1.2, ls="--",
                    label=label(WORDS["central"], lang))
        for status, (marker, face) in MARKERS.items():
            pts = rows[rows["status"] == status]
            if len(pts):
                ax.scatter(pts["year"], pts["value"], s=36, marker=marker, facecolors=face,
                           edgecolors="black", zorder=5, label=label(WORDS[status], lang))
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(thousands_formatter())
        ax.set_title(label(declared_labels().get(ind, ind), lang))
        ax.grid(alpha=0.3, which="both")
        handles, names = ax.get_legend_handles_labels()
        keep = dict(zip(names, handles, strict=True))
        ax.legend(keep.values(), keep.keys(), fontsize=7, loc="upper left")
    fig.suptitle(label(WORDS["title"], lang))
    return fig


def parameter_figure(params: pd.DataFrame, lower: pd.Series, upper: pd.Series, lang: str):
    """Prior and posterior 90% intervals per assumption, each scaled to its prior range."""
    n = len(params)
    fig, axes = new_figure(1, 1, figsize=(7.5, 0.22 * n + 1.4))
    ax = np.asarray(axes).ravel()[0]
    span = (upper - lower).replace(0, np.nan)
    y = np.arange(n)[::-1]
    for cols, dy, color, key in ((("prior_P5", "prior_P95"), 0.15, "0.6", "prior"),
                                 (("post_P5", "post_P95"), -0.15, "tab:blue", "posterior")):
        lo = (params[cols[0]] - lower) / span
        hi = (params[cols[1]] - lower) / span
        ax.hlines(y + dy, lo, hi, color=color, lw=3, label=label(WORDS[key], lang))
    ax.scatter((params["post_P50"] - lower) / span, y - 0.15, color="tab:blue", s=10, zorder=3)
    ax.set_yticks(y, [f"{a}{' *' if m else ''}" for a, m in zip(params.index, params["moved"],
                                                                 strict=True)], fontsize=6)
    ax.set_xlim(-0.02, 1.02)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(label(WORDS["ptitle"], lang) + " (* moved by the data)", fontsize=9)
    return fig


def _md(df: pd.DataFrame) -> str:
    def cell(v) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def markdown_report(cal, date: str) -> str:
    post, info = cal.posterior, cal.posterior.info
    moved = cal.parameters.index[cal.parameters["moved"]].tolist()
    by = fit_by_series(cal.fit)
    lines = [f"# Estimation {date}", "",
             f"- data: `{info.get('data_file')}` (sha256 {str(info.get('data_hash'))[:12]}), "
             f"origin {post.origin}, data cut-off {info.get('data_cutoff')}",
             f"- sampler: emcee {info.get('emcee_version')} ({info.get('moves')}), "
             f"{info.get('walkers')} walkers x {info.get('steps')} steps, burn-in "
             f"{info.get('burn')}, thin {info.get('thin')}, {info.get('draws')} draws, seed "
             f"{info.get('seed')}; acceptance {info.get('acceptance')}; integrated "
             f"autocorrelation time up to {info.get('tau_max')} steps "
             f"({'converged' if info.get('converged') else 'chain shorter than 50 tau'}); "
             f"{info.get('seconds')} s",
             f"- estimated: {len(post.ids)} assumptions; moved by the data: {len(moved)} "
             f"({', '.join(moved)})", "",
             "## Fit per series (sourced rows, lower bounds and implied checks apart)", "",
             _md(by), "",
             "## State at the origin", "", _md(cal.origin),
             "", "## Prior and posterior", "",
             _md(cal.parameters.reset_index()), ""]
    return "\n".join(lines)


def write_report(cal, bands: dict[str, pd.DataFrame], final: Path | str, date: str,
                 lang: str = "zh", formats: Sequence[str] = DEFAULT_FORMATS) -> Path:
    """Charts, tables and ``report.md`` into ``final`` (replaced atomically)."""
    prior = cal.posterior.prior
    lower = pd.Series({a: prior.items[a].distribution.lower for a in cal.parameters.index})
    upper = pd.Series({a: prior.items[a].distribution.upper for a in cal.parameters.index})
    tables = {"fit_rows": cal.fit, "fit_by_series": fit_by_series(cal.fit),
              "parameters": cal.parameters.reset_index(), "origin": cal.origin,
              "skipped": cal.posterior.skipped}
    with owned_dir(final) as tmp:
        for name, df in tables.items():
            write_csv(df, tmp / f"{name}.csv")
        for lg in LANGS:
            save_figure(fit_figure(cal.fit, bands, lg), tmp / f"fit_{lg}", formats)
            save_figure(parameter_figure(cal.parameters, lower, upper, lg),
                        tmp / f"parameters_{lg}", formats)
        (tmp / "report.md").write_text(markdown_report(cal, date), encoding="utf-8")
    return Path(final)
