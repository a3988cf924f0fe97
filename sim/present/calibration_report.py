"""The calibration fit report: observed vs simulated charts, fit statistics, estimates.

:func:`write_report` writes, atomically into one directory:

- ``fit_<lang>.png`` (other ``formats`` on request): one panel per fitted series, simulated
  (calibrated, and with the ``.mdl`` values dashed) against the observed points (filled =
  sourced, open = implied);
- ``fit_statistics.csv``: per series n, MAPE, R², MSE, RMSE, RMSPE, U^M, U^S, U^C, calibrated and
  initial; ``fit_statistics_by_status.csv``: the calibrated fit with sourced figures and implied
  points apart; ``estimates.csv``; ``observations.csv`` (observed, initial, simulated per row);
  ``skipped.csv`` (history rows not fitted, with the reason);
- with a hindcast: ``hindcast.csv`` (per series: forecast MAPE and bias beside the full fit's
  MAPE on the same rows) and ``hindcast_rows.csv``;
- with profiles: ``profile.csv`` (profile and linearised intervals, identification status),
  ``profile_curves.csv`` and ``profile_<lang>.png`` (deviance against value);
- all tables in ``calibration.xlsx``; ``report.md``: a short bilingual summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.ticker import NullFormatter

from sim.model.numtext import format_range
from sim.present.atomic import DEFAULT_FORMATS, save_figure
from sim.present.chartutil import new_figure, thousands_formatter
from sim.present.labels import LANGS, declared_labels, format_number, label, unit_label
from sim.present.outdir import owned_dir
from sim.present.tables import write_csv

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
    "deviance": {"zh": "剖面偏差", "en": "Profile deviance"},
    "threshold": {"zh": "卡方临界值", "en": "Chi-square threshold"},
    "estimate": {"zh": "估计值", "en": "Estimate"},
    "profile_title": {"zh": "参数可识别性：剖面似然", "en": "Identifiability: profile likelihood"},
}
#: identification status of sim.analysis.profile_likelihood, as shown in the charts
STATUS = {"identified": {"zh": "可识别", "en": "identified"},
          "bounded on one side only": {"zh": "仅单侧有界", "en": "bounded on one side only"},
          "not identified": {"zh": "不可识别", "en": "not identified"}}


def _series_label(ind: str, lang: str) -> str:
    return label(declared_labels().get(ind, ind), lang)


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


def profile_figure(profiles, labels: Mapping[str, Mapping[str, str]], lang: str):
    """One panel per estimated assumption: the profile deviance over its declared range, the
    chi-square threshold and the estimate. Returns the Figure."""
    ids = list(profiles.table.index)
    cols = 3 if len(ids) > 4 else max(len(ids), 1)
    nrows = int(np.ceil(len(ids) / cols))
    fig, axes = new_figure(nrows, cols, figsize=(4.6 * cols, 3.4 * nrows))
    flat = axes.ravel()
    for ax in flat[len(ids):]:
        ax.set_axis_off()
    for ax, aid in zip(flat, ids, strict=False):
        c = profiles.curves[profiles.curves["assumption"] == aid]
        row = profiles.table.loc[aid]
        ax.plot(c["value"], c["deviance"], marker="o", ms=3, color="tab:blue")
        ax.axhline(profiles.threshold, color="tab:red", ls="--", lw=1,
                   label=label(WORDS["threshold"], lang))
        ax.axvline(row["estimate"], color="0.4", ls=":", lw=1, label=label(WORDS["estimate"], lang))
        status = label(STATUS.get(row["status"], row["status"]), lang)
        ax.set_title(f"{label(labels.get(aid, aid), lang)}\n({status})", fontsize=9)
        ax.set_ylabel(label(WORDS["deviance"], lang))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper center")
    fig.suptitle(label(WORDS["profile_title"], lang))
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


def _status_section(cal) -> list[str]:
    by = cal.statistics_by_status.rename(columns=STAT_LABELS)
    out = ["## 统计数据与推算基数分开 / Sourced figures and implied points apart", "",
           "Implied points are the 2023 bases the plan's doubling targets imply (target / 2); "
           f"they enter the fit with weight {cal.settings.weights.get('implied', 0):g} "
           f"(sourced {cal.settings.weights.get('sourced', 0):g}). Fit statistics of the "
           "calibrated model on each kind of row:", ""]
    for status in by.index.get_level_values(0).unique():
        part = by.loc[status].copy()
        part.index.name = "series"
        out += [f"**{status}**", "", _md_table(part), ""]
    return out


def _hindcast_section(h) -> list[str]:
    st = h.statistics.reset_index()
    st.index = [f"{i} ({s})" for i, s in zip(st.pop("indicator"), st.pop("status"),
                                              strict=True)]
    st.index.name = "series (status)"
    st = st.rename(columns={"n_fit": "rows fitted ≤ cut", "n_forecast": "rows forecast",
                            "forecast_mape": "forecast MAPE (%)",
                            "forecast_bias": "forecast bias (%)",
                            "full_fit_mape": "full-fit MAPE (%)"})
    fixed = ", ".join(f"`{a}`" for a in h.fixed) or "none"
    est = ", ".join(f"`{k}` {v:.4g}" for k, v in h.values.items())
    return [f"## 回测 / Hindcast: fit up to {h.until}, forecast {h.window[0]}-{h.window[1]}", "",
            f"The same assumptions, weights and settings, fitted on the {h.n_train} rows up to "
            f"{h.until} only; the model then runs on and is compared with the rows of "
            f"{h.window[0]}-{h.window[1]}. Assumptions the rows up to {h.until} do not respond to "
            f"stay at their .mdl values: {fixed}. Hindcast estimates: {est}. Error = "
            "(model − observed) / observed; bias = mean signed error; the full fit's MAPE on "
            "the same rows shows how much of the error the later data remove.", "",
            _md_table(st), ""]


def _profile_section(p) -> list[str]:
    t = p.table.copy()

    def end(v, is_open):
        return format_number(v) + (" (bound)" if is_open else "")

    df = pd.DataFrame({
        "estimate": t["estimate"],
        "profile interval": [f"[{end(lo, lo_o)}, {end(hi, hi_o)}]" for lo, hi, lo_o, hi_o in
                             zip(t["profile_low"], t["profile_high"], t["low_open"],
                                 t["high_open"], strict=True)],
        "linearised interval": [f"[{format_number(lo)}, {format_number(hi)}]"
                                for lo, hi in zip(t["linear_low"], t["linear_high"],
                                                  strict=True)],
        "declared range": [format_range(lo, hi)
                           for lo, hi in zip(t["min"], t["max"], strict=True)],
        "status": t["status"]}, index=t.index)
    notes = [f"- `{a}`: {n}" for a, n in t["note"].items() if n]
    return [f"## 可识别性 / Identifiability: profile likelihood ({p.level:.0%})", "",
            "Each assumption fixed along a grid over its declared range, the others "
            "re-optimised; deviance D = (SSR_profile − SSR) / s²; the interval is where "
            f"D ≤ {p.threshold:.3g} (chi-square, 1 df). '(bound)': D stays below the threshold up "
            "to the declared bound on that side; 'not identified': flat within the whole "
            "declared range.", "", _md_table(df), "", *notes, ""]


def markdown_report(cal, date: str, hindcast=None, profiles=None) -> str:
    """A short bilingual Markdown summary of a :class:`~sim.analysis.calibration.Calibration`,
    with the hindcast (:class:`~sim.analysis.hindcast.Hindcast`) and the profiles
    (:class:`~sim.analysis.profile_likelihood.Profiles`) when given."""
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
        *_status_section(cal),
        f"## 参数估计 / Estimates ({cal.settings.ci_level:.0%} intervals from s²(JᵀJ)⁻¹)", "",
        _md_table(est), "",
        "## 未被数据约束的参数 / Not constrained by the data", "",
        *(flagged or ["(none)"]), "",
        *(_profile_section(profiles) if profiles is not None else []),
        *(_hindcast_section(hindcast) if hindcast is not None else []),
        f"History rows not fitted: {len(cal.skipped)} (see skipped.csv).", "",
    ]
    return "\n".join(lines)


def write_report(cal, runs: Mapping[str, xr.Dataset], final: Path | str, date: str,
                 hindcast=None, profiles=None, lang: str = "zh",
                 formats: Sequence[str] = DEFAULT_FORMATS) -> Path:
    """Charts, tables, the workbook (in ``lang``, the layout of :mod:`sim.present.workbook`)
    and ``report.md`` into ``final`` (replaced atomically)."""
    from sim.present.workbook import book_parts, write_workbook

    stats = statistics_table(cal.statistics, cal.statistics_initial)
    tables = {"fit_statistics": stats.reset_index(),
              "fit_statistics_by_status": cal.statistics_by_status.reset_index(),
              "estimates": cal.result.table().reset_index(),
              "observations": cal.observations, "skipped": cal.skipped}
    if hindcast is not None:
        tables["hindcast"] = hindcast.statistics.reset_index()
        tables["hindcast_rows"] = hindcast.rows
    if profiles is not None:
        tables["profile"] = profiles.table.reset_index()
        tables["profile_curves"] = profiles.curves
    with owned_dir(final) as tmp:
        for name, df in tables.items():
            write_csv(df, tmp / f"{name}.csv")
        title = {"zh": f"模型校准 {date}", "en": f"Calibration {date}"}[lang]
        write_workbook(tmp / "calibration.xlsx", lang, title=title,
                       **book_parts(tables, (), None, None, lang))
        for lang in LANGS:
            save_figure(fit_figure(cal.observations, runs, lang), tmp / f"fit_{lang}", formats)
            if profiles is not None:
                save_figure(profile_figure(profiles, cal.labels, lang), tmp / f"profile_{lang}",
                            formats)
        (tmp / "report.md").write_text(markdown_report(cal, date, hindcast, profiles),
                                       encoding="utf-8")
    return Path(final)
