"""How a declared number, and a range of two, is written for people: the documents, the
catalogue (``plansim levers``/``assumptions``) and the scenario schema's editor text all write
ranges through :func:`format_range`, so that one range reads the same everywhere.

Decimals follow the magnitude, and trailing zeros are dropped: no decimals from 100 up (with
thousands separators), at most one from 10 up, else at most three significant digits; so
``10–40``, ``0.15–0.5``, ``500–40,000``, ``12.5–20``. The two bounds are joined by an en dash
without spaces (:data:`RANGE_SEP`), so a wrapped line never splits a range.
"""

from __future__ import annotations

import math

#: between the two bounds of a range
RANGE_SEP = "\u2013"


def trimmed(x: float) -> str:
    """``x`` with decimals by magnitude and no trailing zeros; NaN as ``-``."""
    if x is None or math.isnan(float(x)):
        return "-"
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if abs(x) >= 100:
        text = f"{x:,.0f}"
    elif abs(x) >= 10:
        text = f"{x:,.1f}"
    else:
        text = f"{x:.3g}"
        if "e" in text:
            return text
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_range(lo: float, hi: float) -> str:
    """``lo–hi`` (see the module's rule)."""
    return f"{trimmed(lo)}{RANGE_SEP}{trimmed(hi)}"
