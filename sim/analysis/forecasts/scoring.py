"""Score a forecast vintage against outturns: error of the central value, band coverage.

An outturn file is a CSV with at least the columns ``indicator, year, value`` (others are
ignored). Each row whose indicator and year the vintage forecasts (for the chosen scenario) is
scored::

    error_pct = 100 * (central - value) / value     (positive: the forecast was too high)
    inside_50 = P25 <= value <= P75                 (the central 50% band)
    inside_90 = P5 <= value <= P95                  (the central 90% band)

Rows with an indicator or a year the vintage does not hold are listed as skipped. A well
calibrated vintage has about half of the outturns inside its 50% bands and nine in ten inside
its 90% bands.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import ForecastError, excerpt
from sim.model.declarations.yamlio import read_bounded

REQUIRED = ("indicator", "year", "value")
SCORE_COLUMNS = ("indicator", "year", "value", "central", "P5", "P95", "error_pct",
                 "inside_50", "inside_90")


#: largest outturn file (bytes) and most data rows read
MAX_BYTES = 4 * 1024 * 1024
MAX_ROWS = 10_000


def read_outturn(path: Path | str) -> pd.DataFrame:
    """The outturn rows: ``indicator, year, value, line`` (``line``: line in the file).

    Errors name the file, the row (and its line) and the column. Bounded before the work: a
    regular file of at most :data:`MAX_BYTES`, at most :data:`MAX_ROWS` rows (counted while
    reading); an (indicator, year) given twice is refused, naming both lines.
    """
    path = Path(path)
    kind = "a CSV with columns indicator,year,value"
    data = read_bounded(path, ForecastError, MAX_BYTES, kind)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ForecastError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
                            ) from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ForecastError(f"{path}: missing column(s) {', '.join(missing)} in the "
                                f"header {excerpt(header, 200)}; allowed: {kind} (others are "
                                "ignored)")
        rows, seen = [], {}
        for i, raw in enumerate(reader, 1):
            if i > MAX_ROWS:
                raise ForecastError(f"{path}: more than {MAX_ROWS:,} data rows; allowed: at "
                                    f"most {MAX_ROWS:,} (one per indicator and year)")
            raw = {(k or "").strip(): v for k, v in raw.items()}
            row = _row(path, i, reader.line_num, raw)
            key = (row["indicator"], row["year"])
            if key in seen:
                raise ForecastError(f"{path}: row {i} (line {row['line']}): "
                                    f"{excerpt(key[0], 40)} {key[1]} is given twice (first on "
                                    f"line {seen[key]}); allowed: one row per indicator and "
                                    "year")
            seen[key] = row["line"]
            rows.append(row)
    except csv.Error as exc:
        raise ForecastError(f"{path}: not a valid CSV file "
                            f"({excerpt(str(exc), 100, quote=False)})") from None
    if not rows:
        raise ForecastError(f"{path}: no data rows; allowed: at least one indicator,year,value")
    return pd.DataFrame(rows, columns=[*REQUIRED, "line"])


def _row(path: Path, i: int, line: int, raw: dict) -> dict:
    where = f"{path}: row {i} (line {line})"
    ind = (raw.get("indicator") or "").strip()
    if not ind:
        raise ForecastError(f"{where}, column indicator: empty; allowed: an indicator id such "
                            "as tech_firms")
    if len(ind) > 100:
        raise ForecastError(f"{where}, column indicator: {excerpt(ind, 40)} is not an "
                            "indicator id; allowed: an id such as tech_firms")
    text = (raw.get("year") or "").strip()
    try:
        year = float(text)
    except ValueError:
        year = math.nan
    if not math.isfinite(year) or year != int(year):
        raise ForecastError(f"{where}, column year: {excerpt(text)} is not a year; allowed: an "
                            "integer such as 2025")
    text = (raw.get("value") or "").strip()
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ForecastError(f"{where}, column value: {excerpt(text)} is not a number; allowed: a "
                            "finite number in the indicator's unit")
    return {"indicator": ind, "year": int(year), "value": value, "line": line}


@dataclass
class Score:
    vintage: str
    scenario: str
    table: pd.DataFrame      # SCORE_COLUMNS (plus P25, P75)
    skipped: pd.DataFrame    # indicator, year, value, line, reason

    def summary(self) -> str:
        """One line: rows scored, mean absolute error, band coverage, rows skipped."""
        t, n = self.table, len(self.table)
        head = f"vintage {self.vintage} ({self.scenario}): {n} row(s) scored"
        if n:
            mae = float(np.nanmean(np.abs(t["error_pct"]))) if t["error_pct"].notna().any() \
                else float("nan")
            head += (f", mean absolute error {mae:.1f}%, inside the 50% band "
                     f"{int(t['inside_50'].sum())}/{n} (expected about {n / 2:g}), inside the "
                     f"90% band {int(t['inside_90'].sum())}/{n} (expected about {0.9 * n:g})")
        if len(self.skipped):
            unknown = sorted(set(self.skipped.loc[self.skipped["reason"] == "unknown indicator",
                                                  "indicator"]))
            head += f"; {len(self.skipped)} skipped"
            if unknown:
                head += f" (unknown indicators: {', '.join(unknown)})"
        return head


def score(forecast: pd.DataFrame, outturn: pd.DataFrame, *, scenario: str,
          vintage: str = "") -> Score:
    """Score ``outturn`` rows against the ``scenario`` rows of a vintage table."""
    fc = forecast[forecast["scenario"] == scenario]
    if fc.empty:
        have = sorted(set(forecast["scenario"]))
        raise ForecastError(f"vintage {vintage}: no scenario {scenario!r}; allowed: "
                            f"{', '.join(have)}")
    fc = fc.assign(year=fc["year"].astype(int)).set_index(["indicator", "year"])
    known = set(fc.index.get_level_values("indicator"))
    rows, skipped = [], []
    for r in outturn.to_dict("records"):
        key = (r["indicator"], int(r["year"]))
        if r["indicator"] not in known:
            skipped.append({**r, "reason": "unknown indicator"})
            continue
        if key not in fc.index:
            skipped.append({**r, "reason": "year not in the vintage"})
            continue
        f = fc.loc[key]
        v = float(r["value"])
        err = 100.0 * (f["central"] - v) / v if v != 0 else float("nan")
        rows.append({"indicator": key[0], "year": key[1], "value": v,
                     "central": float(f["central"]), "P5": float(f["P5"]),
                     "P95": float(f["P95"]), "error_pct": err,
                     "inside_50": bool(f["P25"] <= v <= f["P75"]),
                     "inside_90": bool(f["P5"] <= v <= f["P95"]),
                     "P25": float(f["P25"]), "P75": float(f["P75"])})
    table = pd.DataFrame(rows, columns=[*SCORE_COLUMNS, "P25", "P75"])
    skipped_df = pd.DataFrame(skipped, columns=[*REQUIRED, "line", "reason"])
    return Score(vintage, scenario, table, skipped_df)
