"""Observed history (``model/data/history.csv``): figures with their status, date and source.

The format is described in ARCHITECTURE.md ("History data") and decided once:
``indicator,year,value,unit,status,as_of,source,note``. The loader validates every column with
one-line errors naming the file, the row (as the line number in the file), the column, the value
and what is allowed; it accepts rows for any year (a user appends outturns in one step) and
refuses duplicate ``(indicator, year, as_of, status)`` rows.

What each status means for the estimation (:mod:`sim.analysis.estimation.likelihood`):

- ``sourced``: an outturn, a point observation (log-normal error);
- ``lower_bound``: the true value is at least ``value`` (one-sided: no penalty above);
- ``implied``: a weak check reported apart, never in the likelihood;
- ``conflicting``, ``projection``, ``policy_target``, ``policy_rule``: never fitted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd

from sim import paths
from sim.errors import ModelError

COLUMNS = ("indicator", "year", "value", "unit", "status", "as_of", "source", "note")
STATUSES = ("sourced", "lower_bound", "implied", "conflicting", "projection", "policy_target",
            "policy_rule")
#: statuses that enter the likelihood (the others are shown, reported or used as levers)
FITTED_STATUSES = ("sourced", "lower_bound")
#: the columns a row must fill (``as_of``, ``unit`` and ``note`` may be empty)
REQUIRED = ("indicator", "year", "value", "status", "source")


def history_hash(path: Path | str | None = None) -> str:
    """sha256 (hex) of the history file's bytes: what a stored posterior was estimated on."""
    return hashlib.sha256(Path(path or paths.HISTORY_FILE).read_bytes()).hexdigest()


def load_history(path: Path | str | None = None) -> pd.DataFrame:
    """The validated history table, one row per figure, in file order.

    Columns: those of :data:`COLUMNS` (``year`` int, ``value`` float, ``as_of`` an ISO
    date text or ``None``) plus ``time``: the model time the figure refers to
    (``year + 1`` = the end of the year without ``as_of``; ``year + day_of_year/days_in_year``
    with it, ARCHITECTURE.md "Time convention").
    """
    path = Path(path or paths.HISTORY_FILE)
    if not path.is_file():
        raise ModelError(f"{path}: file not found")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ModelError(f"{path}: not a readable CSV file ({str(exc).splitlines()[0]})") from None
    if tuple(df.columns) != COLUMNS:
        raise ModelError(f"{path}: columns are {list(df.columns)}; allowed: exactly "
                         f"{','.join(COLUMNS)} in this order")
    rows = []
    seen: dict[tuple, int] = {}
    for i, raw in enumerate(df.to_dict("records")):
        line = i + 2   # the header is line 1
        rows.append(_row(path, line, raw))
        r = rows[-1]
        key = (r["indicator"], r["year"], r["as_of"], r["status"])
        if key in seen:
            raise ModelError(f"{path}: line {line}: duplicate of line {seen[key]} (indicator "
                             f"{r['indicator']}, year {r['year']}, as_of {r['as_of'] or '-'}, "
                             f"status {r['status']}); allowed: one row per indicator, year, "
                             "as_of and status")
        seen[key] = line
    out = pd.DataFrame(rows, columns=[*COLUMNS, "time"])
    out = out.astype({"year": int, "value": float, "time": float})
    out["as_of"] = pd.Series([r["as_of"] for r in rows], index=out.index, dtype=object)
    return out


def _row(path: Path, line: int, raw: dict) -> dict:
    def bad(col: str, allowed: str) -> ModelError:
        return ModelError(f"{path}: line {line}: column {col} is {raw[col]!r}; allowed: "
                          f"{allowed}")

    row = {k: str(v).strip() for k, v in raw.items()}
    for col in REQUIRED:
        if not row[col]:
            raise bad(col, "a non-empty value")
    if not row["indicator"].replace("_", "").isalnum():
        raise bad("indicator", "a name of letters, digits and underscores")
    try:
        year = int(row["year"])
    except ValueError:
        raise bad("year", "a calendar year (an integer)") from None
    if not 1900 <= year <= 2200:
        raise bad("year", "a calendar year between 1900 and 2200")
    try:
        value = float(row["value"])
    except ValueError:
        raise bad("value", "a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise bad("value", "a finite number")
    if row["status"] not in STATUSES:
        raise bad("status", f"one of {', '.join(STATUSES)}")
    as_of, time = None, year + 1.0
    if row["as_of"]:
        try:
            as_of = dt.date.fromisoformat(row["as_of"])
        except ValueError:
            raise bad("as_of", "an ISO date YYYY-MM-DD or empty") from None
        if as_of.year != year:
            raise bad("as_of", f"a date in the row's year {year} or empty")
        days = 366 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 365
        time = year + as_of.timetuple().tm_yday / days
    return {**row, "year": year, "value": value,
            "as_of": None if as_of is None else as_of.isoformat(), "time": time}
