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

# Unit words (as written in the .mdl, in targets.yaml or in the history file) -> display text.
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
    "yuan": {"zh": "元", "en": "yuan"},
    "year": {"zh": "年", "en": "year"},
    "years": {"zh": "年", "en": "years"},
    "dmnl": {"zh": "无量纲", "en": "dimensionless"},
    "dimensionless": {"zh": "无量纲", "en": "dimensionless"},
    "%": {"zh": "%", "en": "%"},
    "% of gdp": {"zh": "占GDP比重（%）", "en": "% of GDP"},
    "x": {"zh": "倍", "en": "x"},
}

# Fixed words used by the charts and tables.
TEXT: dict[str, dict[str, str]] = {
    "year": {"zh": "年份", "en": "Year"},
    "target": {"zh": "{year}年目标", "en": "{year} target"},
    "history_sourced": {"zh": "统计数据", "en": "Reported data"},
    "history_implied": {"zh": "推算基数", "en": "Implied base"},
    "history_conflicting": {"zh": "来源不一致的数据", "en": "Conflicting data"},
    "plan_period": {"zh": "行动计划期", "en": "Plan period"},
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
    """Display name of a model variable.

    Looks in ``labels`` (variable -> label), then the indicators declared in
    model/targets.yaml, then the ``description`` attr (English only; used in ``en``, or in ``zh`` when nothing else exists),
    and finally the variable name itself.
    """
    check_lang(lang)
    if labels and name in labels:
        return label(labels[name], lang)
    declared = declared_labels()
    if name in declared:
        return label(declared[name], lang)
    description = str((attrs or {}).get("description") or "").strip()
    if description:
        return description.splitlines()[0]
    return name


def declared_labels() -> dict[str, dict[str, str]]:
    """Labels of the indicators (with a target or reported) of model/targets.yaml, by id."""
    from sim.model.targets import load_targets

    return load_targets().indicator_labels()


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
    return f"{x:.3g}"
