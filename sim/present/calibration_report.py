"""The calibration fit report: observed vs simulated charts, fit statistics, estimates.

:func:`write_report` writes, atomically into one directory:

- ``fit_<lang>.png/.svg``: one panel per fitted series, simulated (calibrated, and with the
  ``.mdl`` values dashed) against the observed points (filled = sourced, open = implied);
- ``fit_statistics.csv``: per series n, MAPE, R², MSE, RMSE, RMSPE, U^M, U^S, U^C, calibrated and
  initial; ``estimates.csv``; ``observations.csv`` (observed, initial, simulated per row);
  ``skipped.csv`` (history rows not fitted, with the reason); all in ``calibration.xlsx``;
- ``report.md``: a short bilingual summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.ticker import NullFormatter

from sim.present.atomic import save_figure
from sim.present.chartutil import new_figure, thousands_formatter
from sim.present.labels import INDICATOR_LABELS, format_number, label, unit_label
from sim.present.outdir import owned_dir
from sim.present.tables import write_csv, write_excel

LANGS = ("zh", "en")
STAT_LABELS = {"n": "n", "mape": "MAPE (%)", "r2": "R²", "mse": "MSE", "rmse": "RMSE",
               "rmspe": "RMSPE (%)", "um": "U^M", "us": "U^S", "uc": "U^C"}
WORDS = {
    "calibrated": {"zh": "校准后模型", "en": "Calibrated model"},
    "initial": {"zh": "初始参数（.mdl）", "en": "Initial values (.mdl)"},
    "old_basis": {"zh": "校准后模型（2018年前统计口径）", "en": "Calibrated, pre-2018 basis"},
    "sourced": {"zh": "统计数据", "en": "Reported data"},
    "implied": {"zh": "推算基数（权重较低）", "en": "Implied base (lower weight)"},
    "title": {"zh": "历史拟合：模拟值与观测值", "en": "Fit to history: simulated vs observed"},
    "year": {"zh": "年份", "en": "Year"},
    "log": {"zh": "（对数坐标）", "en": " (log scale)"},
}


def _series_label(ind: str, lang: str) -> str:
    return label(INDICATOR_LABELS.get(ind, ind), lang)


def fit_figure(observations: pd.DataFrame, runs: Mapping[str, xr.Dataset], lang: str,
               until: float | None = None):
    """One panel per indicator (log scale, as fitted): ``runs["calibrated"]`` and
    ``runs["initial"]`` (dims time, or sample of length 1) against the observed points, up to
    ``until`` (default: two years after the last observation). Returns the Figure."""
    inds = list(dict.fromkeys(observations["indicator"]))
    until = until if until is not None else float(observations["year"].max()) + 2
    cols = 3 if len(inds) > 4 else max(len(inds), 1)
    nrows = int(np.ceil(len(inds) / cols))
    fig, axes = new_figure(nrows, cols, figsize=(5.0 * cols, 3.8 * nrows))
    flat = axes.ravel()
    for ax in flat[len(inds):]:
        ax.set_axis_off()
    for ax, ind in zip(flat, inds, strict=False):
        rows_i = observations[observations["indicator"] == ind]
        shown = [rows_i["value"].to_numpy(float)]
        for var in dict.fromkeys(rows_i["variable"]):
            main = var == ind or len(set(rows_i["variable"])) == 1
            end = until if main else float(rows_i.loc[rows_i["variable"] == var, "year"].max()) + 1
            for key, style in (("initial", {"ls": "--", "color": "0.55"}),
                               ("calibrated", {"ls": "-" if main else ":", "color": "tab:blue"})):
                if key not in runs or (key == "initial" and not main):
                    continue
                da = runs[key][var]
                if "sample" in da.dims:
                    da = da.isel(sample=0)
                da = da.sel(time=da.time <= end + 1e-9)
                name = WORDS[key] if main else WORDS["old_basis"]
                ax.plot(da.time.values, da.values, label=label(name, lang), lw=1.6, **style)
                if key == "calibrated":
                    shown.append(np.asarray(da.values, float))
        for status, face in (("sourced", "black"), ("implied", "none")):
            pts = rows_i[rows_i["status"] == status]
            if len(pts):
                ax.scatter(pts["year"], pts["value"], s=36, facecolors=face,
                           edgecolors="black", zorder=5, label=label(WORDS[status], lang))
        unit = unit_label(str(rows_i["unit"].iloc[0]), lang) if "unit" in rows_i else ""
        title = _series_label(ind, lang)
        ax.set_title(f"{title}（{unit}）" if lang == "zh" and unit else
                     f"{title} ({unit})" if unit else title)
        vals = np.concatenate(shown)
        vals = vals[np.isfinite(vals) & (vals > 0)]
        ax.set_yscale("log")
        if vals.size:
            ax.set_ylim(vals.min() / 1.6, vals.max() * 1.6)
        ax.yaxis.set_major_formatter(thousands_formatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(label(WORDS["year"], lang))
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(label(WORDS["title"], lang) + label(WORDS["log"], lang))
    return fig


def statistics_table(calibrated: pd.DataFrame, initial: pd.DataFrame) -> pd.DataFrame:
    """Both fits side by side: one row per (indicator, fit)."""
    both = pd.concat({"calibrated": calibrated, "initial": initial}, names=["fit"])
    return both.reorder_levels(["indicator", "fit"]).sort_index(level=0, sort_remaining=False)


def _md_table(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    head = "| " + " | ".join([df.index.name or "", *cols]) + " |"
    sep = "|" + "---|" * (len(cols) + 1)
    lines = [head, sep]
    for idx, row in df.iterrows():
        cells = [v if isinstance(v, str) else format_number(v) for v in row]
        lines.append("| " + " | ".join([str(idx), *cells]) + " |")
    return "\n".join(lines)


def markdown_report(cal, date: str) -> str:
    """A short bilingual Markdown summary of a :class:`~sim.analysis.calibration.Calibration`."""
    r = cal.result
    stats = cal.statistics.copy()
    stats.index = [f"{ind} {_series_label(ind, 'zh')}" for ind in stats.index]
    stats.index.name = "series"
    stats = stats.rename(columns=STAT_LABELS)
    est = r.table()[["initial", "estimate", "ci_low", "ci_high", "min", "max"]].copy()
    est["constrained"] = ["yes" if c else "**no**" for c in r.constrained]
    est.index = [f"{a} {label(cal.labels.get(a, a), 'zh')}" for a in est.index]
    est.index.name = "assumption"
    flagged = [f"- `{a}`: {w}" for a, w in zip(r.ids, r.warnings, strict=True) if w]
    breaks = "; ".join(f"{b.indicator} before {b.before} compared with `{b.variable}`"
                       for b in cal.settings.breaks) or "none"
    weights = ", ".join(f"{k} {v:g}" for k, v in cal.settings.weights.items())
    lines = [
        "# 模型校准报告 / Calibration report", "",
        f"Date {date}; data `{cal.data_file.name}` (sha256 `{cal.data_hash[:12]}…`); "
        f"scenario `{cal.scenario}`.", "",
        "Objective: sum of (w · (ln simulated − ln observed))² over "
        f"{len(cal.observations)} observations, {len(r.ids)} parameters "
        f"(dof {r.dof}); weights by status: {weights}; statistical breaks: {breaks}. "
        f"Weighted SSR {r.cost:.4g} (s² {r.s2:.3g}); condition number of JᵀJ {r.cond:.3g}; "
        f"{r.nfev} runs; {r.message}", "",
        "## 拟合统计 / Fit per series (calibrated model)", "",
        "MAPE and RMSPE in percent; R² = squared correlation; U^M/U^S/U^C = Theil's "
        "fractions of the MSE due to bias, unequal variation and unequal covariation "
        "(Sterman 2000, ch. 21). A series with one point has no R² and all its error is bias.",
        "", _md_table(stats), "",
        f"## 参数估计 / Estimates ({cal.settings.ci_level:.0%} intervals from s²(JᵀJ)⁻¹)", "",
        _md_table(est), "",
        "## 未被数据约束的参数 / Not constrained by the data", "",
        *(flagged or ["(none)"]), "",
        f"History rows not fitted: {len(cal.skipped)} (see skipped.csv).", "",
    ]
    return "\n".join(lines)


def write_report(cal, runs: Mapping[str, xr.Dataset], final: Path | str, date: str) -> Path:
    """Charts, tables and ``report.md`` into ``final`` (replaced atomically)."""
    stats = statistics_table(cal.statistics, cal.statistics_initial)
    tables = {"fit_statistics": stats.reset_index(),
              "estimates": cal.result.table().reset_index(),
              "observations": cal.observations, "skipped": cal.skipped}
    with owned_dir(final) as tmp:
        for name, df in tables.items():
            write_csv(df, tmp / f"{name}.csv")
        write_excel(tmp / "calibration.xlsx", tables)
        for lang in LANGS:
            save_figure(fit_figure(cal.observations, runs, lang), tmp / f"fit_{lang}")
        (tmp / "report.md").write_text(markdown_report(cal, date), encoding="utf-8")
    return Path(final)
