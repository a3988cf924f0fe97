"""Labelled tables: what a column means (label, unit, kind of number), shared by the console
(:func:`sim.present.tabular.tables.format_table`) and the workbooks (:mod:`sim.present.tabular.workbook`), so
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
from sim.model.declarations.parameters import load_parameters
from sim.model.declarations.targets import load_targets
from sim.model.declarations.words import entry, group
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


_NOT_BY = entry("cells.not_by")


def cell_words(v: Any, headers: Mapping[str, Any], lang: str) -> Any:
    """A text cell in ``lang``: an id by its label, ``not by 2035`` in words."""
    if not isinstance(v, str):
        return v
    if v in headers:
        return label(headers[v], lang)
    m = re.fullmatch(r"not by (\d{4})", v)
    return _NOT_BY[lang].format(year=m.group(1)) if m else v


#: labels of the columns of the commands' own tables (CSV names -> workbook and console
#: headers)
HEADERS = group("columns")


def known_labels() -> dict[str, Any]:
    """Bilingual labels of every id a console table may show: the indicators and derived
    outcomes (model/targets.yaml), levers, assumptions and lever groups
    (model/parameters.yaml), and the usual column names."""
    params = load_parameters()
    out: dict[str, Any] = dict(HEADERS)
    out.update({k: v.label for k, v in params.assumptions.items()})
    out.update({k: v.label for k, v in params.levers.items()})
    out.update(params.groups)
    out.update(load_targets().labels())
    return out
