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
from sim.model.declarations.parameters import load_parameters
from sim.model.declarations.targets import load_targets, number_word
from sim.model.declarations.varlabels import load_labels
from sim.model.declarations.words import LANGS, group, unit, word

# How a model unit is shown to a reader: its text in each language is declared under `units:` in
# model/words.yaml (sim.model.declarations.words.unit); the factor its values are multiplied by is
# UNIT_SCALE (1 when absent). Variables and outcomes declared under `shares:` in
# model/labels.yaml are shown in the unit "share" (per cent). See display_unit.
UNIT_SCALE: dict[str, float] = {"share": 100.0}
SHARE = "share"

# Fixed words used by the charts and tables (group chart of model/words.yaml).
TEXT = group("chart")


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is one of :data:`LANGS`, else raise :class:`OutputError`."""
    if lang not in LANGS:
        raise OutputError(f"language: got {lang!r}; allowed values are "
                          + " and ".join(repr(x) for x in LANGS))
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
    own = getattr(load_labels(), lang)
    if name in own:
        return own[name]
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
    return load_targets().indicator_labels()


def count_text(key: str, lang: str, n: int, **fmt: Any) -> str:
    """:func:`text` with ``{n}`` (``n`` as a word) and ``{N}`` (capitalised) filled in."""
    word = number_word(n, lang)
    return text(key, lang, n=word, N=word[:1].upper() + word[1:], **fmt)


def unit_label(unit_text: str | None, lang: str) -> str:
    """Display text of a unit string; ``"firms/year"`` -> ``"家/年"`` in ``zh``.

    Known words are declared under ``units:`` in model/words.yaml (case-insensitive);
    unknown words pass through.
    """
    check_lang(lang)
    return unit(unit_text, lang)


def display_unit(name: str | None, unit: str | None) -> tuple[str | None, float]:
    """The unit a variable or outcome ``name`` is shown in and the factor its values are
    multiplied by: ``("share", 100)`` for the shares declared in model/labels.yaml, else the
    model ``unit`` and its :data:`UNIT_SCALE` (1 by default)."""
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
    return word("punctuation.with_unit", lang, name=name, unit=shown)


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
