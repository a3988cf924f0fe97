"""Bilingual (Chinese / English) labels, unit names and number formatting for charts and tables.

A *label* is anything with a Chinese and an English text: a mapping ``{"zh": ..., "en": ...}``
(as in the YAML metadata files), an object with attributes ``zh`` and ``en``, or a plain string
(the same in both languages). ``lang`` is always ``"zh"`` or ``"en"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sim.errors import OutputError
from sim.model.yamlio import LANGS

# How a model unit is shown to a reader, declared once: its text in each language
# (UNIT_LABELS: whole units as written in the .mdl, targets.yaml or the history file, matched
# case-insensitively, then single words of a composite unit) and the factor its values are
# multiplied by (UNIT_SCALE; 1 when absent). Variables and outcomes declared under `shares:` in
# model/labels.yaml are shown in the unit "share" (per cent). See display_unit.
UNIT_LABELS: dict[str, dict[str, str]] = {
    "firms": {"zh": "家", "en": "firms"},
    "firm": {"zh": "家", "en": "firm"},
    "platforms": {"zh": "家", "en": "platforms"},
    "platform": {"zh": "家", "en": "platform"},
    "persons": {"zh": "人", "en": "persons"},
    "person": {"zh": "人", "en": "person"},
    "contracts": {"zh": "项", "en": "contracts"},
    "projects": {"zh": "项", "en": "projects"},
    "labs": {"zh": "家", "en": "labs"},
    "亿元": {"zh": "亿元", "en": "100 million yuan"},
    "100 million yuan": {"zh": "亿元", "en": "100 million yuan"},
    "万元": {"zh": "万元", "en": "10,000 yuan"},
    "yuan": {"zh": "元", "en": "yuan"},
    "year": {"zh": "年", "en": "year"},
    "years": {"zh": "年", "en": "years"},
    "亿元/year": {"zh": "亿元/年", "en": "100 million yuan/yr"},
    "firms/year": {"zh": "家/年", "en": "firms/yr"},
    "platforms/year": {"zh": "家/年", "en": "platforms/yr"},
    "persons/year": {"zh": "人/年", "en": "persons/yr"},
    "万元/(firms*year)": {"zh": "万元/家/年", "en": "10,000 yuan per firm/yr"},
    "dmnl": {"zh": "无量纲", "en": "dimensionless"},
    "dimensionless": {"zh": "无量纲", "en": "dimensionless"},
    "%": {"zh": "%", "en": "%"},
    "share": {"zh": "%", "en": "%"},
    "% of gdp": {"zh": "占GDP比重（%）", "en": "% of GDP"},
    "x": {"zh": "倍", "en": "x"},
}
UNIT_SCALE: dict[str, float] = {"share": 100.0}
SHARE = "share"

# Fixed words used by the charts and tables.
TEXT: dict[str, dict[str, str]] = {
    "year": {"zh": "年份", "en": "Year"},
    "target": {"zh": "{year}年目标", "en": "{year} target"},
    "history_sourced": {"zh": "统计数据", "en": "Reported data"},
    "history_implied": {"zh": "推算基数", "en": "Implied base"},
    "history_conflicting": {"zh": "来源不一致的数据", "en": "Conflicting data"},
    "history_lower_bound": {"zh": "下限", "en": "At least"},
    "history_as_of": {"zh": "年内数据", "en": "Dated"},
    "plan_period": {"zh": "行动计划期", "en": "Plan period"},
    "plan_period_years": {"zh": "计划期（{start}—{end}年）", "en": "Plan period {start}-{end}"},
    "band_hatched": {"zh": "阴影线：5%–95%区间", "en": "Hatched: 5-95% band"},
    "how_sure": {"zh": "{year}年达标概率（历史匹配集合，± 为蒙特卡洛标准误；来自 {folder}）：",
                 "en": "P(target met in {year}) (history-matched ensemble, ± Monte Carlo "
                       "standard error; from {folder}):"},
    "how_sure_missing": {"zh": "这些是中心预测；各目标的达标概率（含样本数N与标准误）：{command}",
                         "en": "These are central forecasts; each target's P(met), with N and "
                               "its standard error: {command}"},
    "baseline": {"zh": "基准情景", "en": "Baseline"},
    "attainment": {"zh": "目标完成度（%）", "en": "Target attainment (%)"},
    "attainment_in": {"zh": "{year}年目标完成度", "en": "Target attainment in {year}"},
    "share_of_target": {"zh": "占{year}年目标（%）", "en": "% of {year} target"},
    "median": {"zh": "中位数", "en": "Median"},
    "band_5_95": {"zh": "5%-95%区间", "en": "5-95% range"},
    "band_25_75": {"zh": "25%-75%区间", "en": "25-75% range"},
    "low": {"zh": "取下限", "en": "At low value"},
    "high": {"zh": "取上限", "en": "At high value"},
    "residual": {"zh": "交互作用", "en": "Interaction"},
    "start": {"zh": "起点", "en": "Start"},
    "end": {"zh": "终点", "en": "End"},
    "first_order": {"zh": "一阶指数 S1", "en": "First-order S1"},
    "total_order": {"zh": "总效应指数 ST", "en": "Total-order ST"},
    "sensitivity_index": {"zh": "敏感性指数", "en": "Sensitivity index"},
    "legend": {"zh": "图例", "en": "Legend"},
    "indicators_title": {"zh": "{n}项核心指标", "en": "{N} headline indicators"},
    "compare_title": {"zh": "情景对比", "en": "Scenario comparison"},
    "scenario": {"zh": "情景", "en": "Scenario"},
    "indicator": {"zh": "指标", "en": "Indicator"},
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is ``"zh"`` or ``"en"``, else raise :class:`OutputError`."""
    if lang not in LANGS:
        raise OutputError(f"language: got {lang!r}; allowed values are 'zh' and 'en'")
    return lang


def _other(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def label(obj: Any, lang: str) -> str:
    """The text of a bilingual label in ``lang``.

    ``obj`` is a mapping with keys ``zh``/``en``, an object with attributes ``zh``/``en``, or a
    string (returned unchanged). A missing or empty language falls back to the other one.
    Raises :class:`OutputError` for an unknown ``lang`` or an object without either text.
    """
    check_lang(lang)
    if isinstance(obj, str):
        return obj
    if isinstance(obj, Mapping):
        first, second = obj.get(lang), obj.get(_other(lang))
    elif hasattr(obj, "zh") or hasattr(obj, "en"):
        first, second = getattr(obj, lang, None), getattr(obj, _other(lang), None)
    else:
        raise OutputError(
            f"label: got {obj!r}; expected a string or a mapping with keys 'zh' and 'en'"
        )
    for text in (first, second):
        if text is not None and str(text) != "":
            return str(text)
    raise OutputError(f"label: {obj!r} has neither a 'zh' nor an 'en' text")


def text(key: str, lang: str, **fmt: Any) -> str:
    """A fixed chart word from :data:`TEXT`, formatted with ``fmt`` (e.g. ``year=...``)."""
    if key not in TEXT:
        raise OutputError(f"text: unknown key {key!r}; known keys: {', '.join(sorted(TEXT))}")
    return label(TEXT[key], lang).format(**fmt)


def variable_label(name: str, lang: str, labels: Mapping[str, Any] | None = None,
                   attrs: Mapping[str, Any] | None = None) -> str:
    """Display name of a model variable or outcome, from declared labels only.

    Looks in ``labels`` (variable -> label), then the indicators and outcomes declared in
    model/targets.yaml, then ``model/labels.yaml`` (``zh`` / ``en``), then the lever and
    assumption labels of model/parameters.yaml, then the Vensim name (attr ``vensim_name``),
    and finally the variable name itself. A model comment (attr ``description``) is never used.
    """
    check_lang(lang)
    if labels and name in labels:
        return label(labels[name], lang)
    declared = declared_labels()
    if name in declared:
        return label(declared[name], lang)
    from sim.model.varlabels import load_labels

    own = getattr(load_labels(), lang)
    if name in own:
        return own[name]
    from sim.model.parameters import load_parameters

    params = load_parameters()
    for p in (*params.levers.values(), *params.assumptions.values()):
        if p.py_name == name:
            return label(p.label, lang)
    vensim = str((attrs or {}).get("vensim_name") or "").strip()
    if vensim:
        return vensim[:1].upper() + vensim[1:]
    return name


def declared_labels() -> dict[str, dict[str, str]]:
    """Labels of the indicators (with a target or reported) of model/targets.yaml, by id."""
    from sim.model.targets import load_targets

    return load_targets().indicator_labels()


def outcome_labels() -> dict[str, dict[str, str]]:
    """Labels of every outcome of model/targets.yaml (indicators and derived), by id."""
    from sim.model.targets import load_targets

    return load_targets().labels()


def count_text(key: str, lang: str, n: int, **fmt: Any) -> str:
    """:func:`text` with ``{n}`` (``n`` as a word) and ``{N}`` (capitalised) filled in."""
    from sim.model.targets import number_word

    word = number_word(n, lang)
    return text(key, lang, n=word, N=word[:1].upper() + word[1:], **fmt)


def unit_label(unit: str | None, lang: str) -> str:
    """Display text of a unit string; ``"firms/year"`` -> ``"家/年"`` in ``zh``.

    Known words come from :data:`UNIT_LABELS` (case-insensitive); unknown words pass through.
    """
    check_lang(lang)
    if unit is None:
        return ""
    unit = str(unit).strip()
    if not unit:
        return ""
    whole = UNIT_LABELS.get(unit.lower())
    if whole is not None:
        return whole[lang]
    parts = [p.strip() for p in unit.split("/")]
    return "/".join(UNIT_LABELS.get(p.lower(), {}).get(lang, p) for p in parts)


def display_unit(name: str | None, unit: str | None) -> tuple[str | None, float]:
    """The unit a variable or outcome ``name`` is shown in and the factor its values are
    multiplied by: ``("share", 100)`` for the shares declared in model/labels.yaml, else the
    model ``unit`` and its :data:`UNIT_SCALE` (1 by default)."""
    from sim.model.varlabels import load_labels

    if name is not None and name in load_labels().shares:
        return SHARE, UNIT_SCALE[SHARE]
    key = str(unit).strip().lower() if unit is not None else ""
    return unit, UNIT_SCALE.get(key, 1.0)


def format_share(p: float, se: float | None = None) -> str:
    """A probability or share for a reader: ``"37%"``; ``"<1%"`` / ``">99%"`` near the ends
    (never ``"0%"``/``"100%"`` from a finite sample); with ``se`` a ``" ± 4%"`` only where the
    standard error rounds to at least 1%. NaN prints as ``"-"``."""
    if p is None or math.isnan(float(p)):
        return "-"
    p = float(p)
    if p < 0.005:
        shown = "<1%"
    elif p > 0.995:
        shown = ">99%"
    else:
        shown = f"{p:.0%}"
    if se is not None and not math.isnan(float(se)) and float(se) >= 0.005 \
            and 0.005 <= p <= 0.995:
        shown += f" ± {float(se):.0%}"
    return shown


def axis_label(name: str, unit: str | None, lang: str) -> str:
    """``"name（unit）"`` in ``zh`` (full-width brackets), ``"name (unit)"`` in ``en``."""
    shown = unit_label(unit, lang)
    if not shown:
        return name
    return f"{name}（{shown}）" if lang == "zh" else f"{name} ({shown})"


def format_number(x: float, digits: int | None = None) -> str:
    """Format a number for a chart annotation or a table cell.

    With ``digits``: fixed decimals with thousands separators. Without: 0 decimals from 100 up,
    1 decimal from 10 up, else 3 significant digits. NaN prints as ``"-"``.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    x = float(x)
    if math.isnan(x):
        return "-"
    if digits is not None:
        return f"{x:,.{digits}f}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:,.1f}"
    if abs(x) < 0.001:   # fixed notation, never 2.85e-08
        text = f"{x:.6f}".rstrip("0").rstrip(".")
        return "0" if text in ("0", "-0") else text
    return f"{x:.3g}"
