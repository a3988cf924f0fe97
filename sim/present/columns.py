"""Labelled tables: what a column means (label, unit, kind of number), shared by the console
(:func:`sim.present.tables.format_table`) and the workbooks (:mod:`sim.present.workbook`), so
both show one table the same way: labels in the reader's language, units, ratios as percentages,
years without separators.

A :class:`Table` is a DataFrame whose columns are ids, a :class:`Col` per column and a title.
Tables are built in one language (their text cells are already in it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import OutputError
from sim.present.labels import axis_label, format_number, label

#: kinds of column: ``number`` (with its unit), ``share`` (a ratio shown as a percentage),
#: ``probability`` (a percentage, "<1%" for small non-zero values), ``change`` (a number
#: already in percent, shown signed: ``+3.6%``), ``year``, ``text``
KINDS = ("number", "share", "probability", "change", "year", "text")


@dataclass(frozen=True)
class Col:
    """One column: its label (bilingual or plain text), raw unit (as in the .mdl or
    model/targets.yaml, shown through :func:`sim.present.labels.unit_label`) and kind."""

    label: Any
    unit: str = ""
    kind: str = "number"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise OutputError(f"Col.kind: {self.kind!r}; allowed: {', '.join(KINDS)}")

    def header(self, lang: str) -> str:
        """``label（unit）`` in the language (the unit omitted for percentages and years)."""
        name = label(self.label, lang)
        return axis_label(name, self.unit, lang) if self.kind == "number" else name


@dataclass
class Table:
    """A titled table: ``frame`` (columns are ids) and a :class:`Col` per column (a column
    without one is shown by its id as a number or text)."""

    frame: pd.DataFrame
    cols: dict[str, Col] = field(default_factory=dict)
    title: str = ""

    def col(self, key: str) -> Col:
        if key in self.cols:
            return self.cols[key]
        kind = "number" if pd.api.types.is_numeric_dtype(self.frame[key]) else "text"
        return Col(str(key), "", kind)

    def headers(self, lang: str) -> list[str]:
        return [self.col(c).header(lang) for c in self.frame.columns]


def is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float | np.floating) and math.isnan(float(v))


def percent(x: float, kind: str = "share") -> str:
    """``0.91`` -> ``"91%"``; a probability strictly between 0 and 0.5 % shows ``"<1%"``
    and one strictly between 99.5 % and 1 shows ``">99%"``."""
    if kind == "probability":
        if 0 < x < 0.005:
            return "<1%"
        if 0.995 <= x < 1:
            return ">99%"
    return f"{100 * x:,.0f}%"


def cell_text(v: Any, kind: str, digits: int | None = None) -> str:
    """Console text of one cell of a column of ``kind``."""
    if is_missing(v):
        return "-"
    if kind == "text" or isinstance(v, str):
        return str(v)
    if isinstance(v, bool | np.bool_):
        return str(v)
    if kind in ("share", "probability"):
        return percent(float(v), kind)
    if kind == "change":
        return f"{float(v):+,.1f}%"
    if kind == "year":
        return str(int(round(float(v))))
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    return format_number(float(v), digits)


def decimals(values: Iterable[Any]) -> int:
    """Decimals that show a column's numbers to three significant digits (0 from 100 up, 1
    from 10, 2 from 1, 3 from 0.1, ... at most 6), from the median magnitude of its non-zero
    values."""
    mags = [abs(float(v)) for v in values if not is_missing(v) and not isinstance(v, str)
            and float(v) != 0 and math.isfinite(float(v))]
    if not mags:
        return 0
    m = float(np.median(mags))
    return int(min(max(2 - math.floor(math.log10(m)), 0), 6))


def excel_format(kind: str, values: Iterable[Any] = ()) -> str:
    """Excel number format of a column: thousands separators and the decimals of
    :func:`decimals` (none for whole numbers); percentages for shares and probabilities;
    years as plain integers."""
    if kind == "share":
        return "0%"
    if kind == "probability":
        return "0.0%"
    if kind == "year":
        return "0"
    if kind == "change":
        return "+0.0%;-0.0%;0.0%"   # the workbook stores the change divided by 100
    if kind == "text":
        return "@"
    values = [v for v in values if not is_missing(v) and not isinstance(v, str)]
    if values and all(float(v).is_integer() for v in values):
        return "#,##0"                              # counts and whole numbers
    d = decimals(values)
    return "#,##0" if d == 0 else "#,##0." + "0" * d


def excel_value(v: Any) -> Any:
    """A cell value a workbook can store (None for missing values, plain Python numbers)."""
    if is_missing(v):
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v) if math.isfinite(float(v)) else None
    return str(v)


def excel_values(values: list, kind: str) -> list:
    """Cell values as stored: a change in percent as a fraction (3.6 -> 0.036), which the
    percentage format of :func:`excel_format` shows as +3.6%."""
    if kind != "change":
        return values
    return [v / 100 if isinstance(v, float | int) and not isinstance(v, bool) else v
            for v in values]


_NOT_BY = {"zh": "{year}年前未达标", "en": "not by {year}"}


def cell_words(v: Any, headers: Mapping[str, Any], lang: str) -> Any:
    """A text cell in ``lang``: an id by its label, ``not by 2035`` in words."""
    if not isinstance(v, str):
        return v
    if v in headers:
        return label(headers[v], lang)
    m = re.fullmatch(r"not by (\d{4})", v)
    return _NOT_BY[lang].format(year=m.group(1)) if m else v


def labels_of(cols: Mapping[str, Col], lang: str) -> dict[str, str]:
    """``{column id: header}`` of a set of columns."""
    return {k: c.header(lang) for k, c in cols.items()}


#: labels of the columns of the commands' own tables (CSV names -> workbook and console
#: headers)
HEADERS: dict[str, dict[str, str]] = {
    "scenario": {"zh": "情景", "en": "Scenario"},
    "indicator": {"zh": "指标", "en": "Indicator"},
    "time": {"zh": "年份", "en": "Year"},
    "year": {"zh": "年份", "en": "Year"},
    "target": {"zh": "目标", "en": "Target"},
    "central": {"zh": "中心预测", "en": "Central"},
    "probability": {"zh": "达标概率", "en": "P(met)"},
    "mc_se": {"zh": "蒙特卡洛标准误", "en": "Monte Carlo s.e."},
    "n": {"zh": "样本数", "en": "Samples"},
    "sample": {"zh": "样本", "en": "Sample"},
    "parameter": {"zh": "假设", "en": "Assumption"},
    "output": {"zh": "输出", "en": "Output"},
    "low": {"zh": "取下限", "en": "At low value"},
    "high": {"zh": "取上限", "en": "At high value"},
    "swing": {"zh": "摆幅", "en": "Swing"},
    "group": {"zh": "政策组", "en": "Lever group"},
    "lever": {"zh": "政策杠杆", "en": "Lever"},
    "drawn": {"zh": "抽样数", "en": "Drawn"},
    "passed": {"zh": "通过历史匹配", "en": "Passed"},
    "kept": {"zh": "保留", "en": "Kept"},
    "reachable": {"zh": "可达", "en": "Reachable"},
    "extra_budget_2024_2028": {"zh": "新增资金（亿元）", "en": "Extra money (亿元)"},
    "achieved_probability": {"zh": "达到的概率", "en": "P achieved"},
    "median": {"zh": "中位数", "en": "Median"},
    "rests_on": {"zh": "主要依赖的假设", "en": "Rests on"},
    "rank_correlation": {"zh": "秩相关", "en": "Rank corr."},
    "box": {"zh": "盒", "en": "Box"},
    "coverage": {"zh": "覆盖率", "en": "Coverage"},
    "density": {"zh": "密度", "en": "Density"},
    "mass": {"zh": "质量", "en": "Mass"},
    "assumption": {"zh": "假设", "en": "Assumption"},
    "lower": {"zh": "下限", "en": "Lower"},
    "upper": {"zh": "上限", "en": "Upper"},
    "value": {"zh": "实际值", "en": "Value"},
    "error_pct": {"zh": "误差", "en": "Error"},
    "inside_50": {"zh": "在50%区间内", "en": "In 50% band"},
    "inside_90": {"zh": "在90%区间内", "en": "In 90% band"},
    "origin": {"zh": "预测起点", "en": "Origin"},
    "horizon": {"zh": "预测步长（年）", "en": "Horizon (years)"},
    "rows": {"zh": "数据点", "en": "Rows"},
    "model_mape": {"zh": "模型MAPE", "en": "Model MAPE"},
    "naive_rows": {"zh": "朴素预测数据点", "en": "Naive rows"},
    "naive_mape": {"zh": "朴素预测MAPE", "en": "Naive MAPE"},
    "naive_error_pct": {"zh": "朴素预测误差", "en": "Naive error"},
    "coverage_90": {"zh": "90%区间覆盖率", "en": "90% coverage"},
    "bound": {"zh": "下限", "en": "Bound"},
    "met_share": {"zh": "达到下限的比例", "en": "Share at or above"},
    "as_of": {"zh": "截至日期", "en": "As of"},
    "history_rows": {"zh": "起点及以前的数据", "en": "Rows up to the origin"},
    "likelihood_rows": {"zh": "进入似然的数据", "en": "Rows in the likelihood"},
    "scored_rows": {"zh": "评分数据点", "en": "Rows scored"},
    "bound_rows": {"zh": "下限数据点", "en": "Bounds"},
    "posterior_draws": {"zh": "后验样本数", "en": "Posterior draws"},
    "converged": {"zh": "已收敛", "en": "Converged"},
    "first_year": {"zh": "首次达标年份", "en": "First year met"},
    "comparison": {"zh": "比较", "en": "Comparison"},
    "n_met": {"zh": "达标样本数", "en": "Samples meeting it"},
    "wanted": {"zh": "所需样本数", "en": "Wanted"},
    "screened_out": {"zh": "被筛除（发散或未通过检查）", "en": "Screened out (diverged or failed a check)"},
    "acceptance": {"zh": "接受率", "en": "Acceptance"},
    "rounds": {"zh": "抽样轮数", "en": "Rounds"},
    "cutoff": {"zh": "历史匹配阈值", "en": "Cut-off"},
    "observation_sd": {"zh": "观测误差标准差", "en": "Observation s.d."},
    "discrepancy_sd": {"zh": "模型偏差标准差", "en": "Discrepancy s.d."},
    "all": {"zh": "全部目标", "en": "all targets"},
    **{f"P{q}": {"zh": f"第{q}百分位", "en": f"P{q}"} for q in (5, 10, 25, 50, 75, 90, 95)},
}


def known_labels() -> dict[str, Any]:
    """Bilingual labels of every id a console table may show: the indicators and derived
    outcomes (model/targets.yaml), levers, assumptions and lever groups
    (model/parameters.yaml), and the usual column names."""
    from sim.model.parameters import load_parameters
    from sim.model.targets import load_targets

    params = load_parameters()
    out: dict[str, Any] = dict(HEADERS)
    out.update({k: v.label for k, v in params.assumptions.items()})
    out.update({k: v.label for k, v in params.levers.items()})
    out.update(params.groups)
    out.update(load_targets().labels())
    return out
