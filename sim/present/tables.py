"""Tables: CSV with a units sidecar, Excel workbooks, fixed-width console tables.

Units are given as ``{column: unit}`` or ``{column: {"unit": ..., "description": ...}}`` (or a
``(unit, description)`` pair); :func:`units_from_dataset` builds that mapping from a results
Dataset's attrs. Every file is written atomically (:mod:`sim.present.atomic`).
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from openpyxl.utils import get_column_letter

from sim.errors import OutputError
from sim.present.atomic import atomic_write_bytes, atomic_write_text
from sim.present.columns import Table, cell_text
from sim.present.labels import check_lang, label

UNITS_SHEET = "units"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def units_from_dataset(ds: xr.Dataset, variables: Sequence[str] | None = None
                       ) -> dict[str, dict[str, str]]:
    """``{variable: {"unit": attrs["units"], "description": attrs["description"]}}``."""
    names = list(variables) if variables is not None else [str(v) for v in ds.data_vars]
    return {n: {"unit": str(ds[n].attrs.get("units", "")),
                "description": str(ds[n].attrs.get("description", ""))} for n in names}


def _unit_rows(df: pd.DataFrame, units: Mapping[str, Any] | None, where: str
               ) -> list[tuple[str, str, str]]:
    """``(column, unit, description)`` rows, checked against the table's columns/index."""
    if not units:
        return []
    known = {str(c) for c in df.columns} | {str(n) for n in df.index.names if n is not None}
    rows = []
    for col, spec in units.items():
        if str(col) not in known:
            raise OutputError(f"{where}: units given for column '{col}', which is not in the "
                              f"table; columns: {', '.join(sorted(known))}")
        if isinstance(spec, Mapping):
            unit, desc = spec.get("unit", ""), spec.get("description", "")
        elif isinstance(spec, tuple | list) and len(spec) == 2:
            unit, desc = spec
        else:
            unit, desc = spec, ""
        rows.append((str(col), "" if unit is None else str(unit),
                     "" if desc is None else str(desc)))
    return rows


def _use_index(df: pd.DataFrame) -> bool:
    idx = df.index
    default = (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1
               and idx.name is None)
    return not default


def units_sidecar_path(path: Path | str) -> Path:
    """``results.csv`` -> ``results.units.csv``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.units.csv")


def write_csv(df: pd.DataFrame, path: Path | str, units: Mapping[str, Any] | None = None
              ) -> list[Path]:
    """Write ``df`` as UTF-8 CSV (the index too unless it is the default 0..n-1 range).

    With ``units``, also writes ``<name>.units.csv`` with columns ``column, unit,
    description``. Returns the written paths (table first).
    """
    if not isinstance(df, pd.DataFrame):
        raise OutputError(f"write_csv '{path}': expected a DataFrame, got {type(df).__name__}")
    path = Path(path)
    rows = _unit_rows(df, units, f"write_csv '{path}'")
    written = [atomic_write_text(path, df.to_csv(index=_use_index(df), lineterminator="\n"))]
    if units:
        side = pd.DataFrame(rows, columns=["column", "unit", "description"])
        written.append(atomic_write_text(units_sidecar_path(path),
                                         side.to_csv(index=False, lineterminator="\n")))
    return written


def display_width(s: str) -> int:
    """Columns a string takes in a terminal: East Asian wide/full-width characters count 2,
    combining marks 0."""
    width = 0
    for ch in str(s):
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _check_sheet(name: Any) -> str:
    name = str(name)
    if not name or len(name) > 31 or _BAD_SHEET_CHARS.search(name) or name == UNITS_SHEET:
        raise OutputError(f"write_excel: sheet name {name!r} not allowed; names are 1-31 "
                          f"characters without []:*?/\\ and not '{UNITS_SHEET}'")
    return name


def _fit_columns(ws: Any) -> None:
    for i, col in enumerate(ws.iter_cols(), start=1):
        width = max((display_width(_cell_text(c.value)) for c in col), default=8)
        ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.4g}"
    return str(v)


def write_excel(path: Path | str, sheets: Mapping[str, pd.DataFrame],
                units: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """Write an ``.xlsx`` workbook (openpyxl): one sheet per DataFrame, header row frozen
    (and the index column when written), columns sized to their content.

    ``units``: ``{sheet: {column: unit or {unit, description}}}``; listed in a final sheet
    ``units`` with columns ``sheet, column, unit, description`` so the data sheets read back
    unchanged with ``pd.read_excel``.
    """
    path = Path(path)
    if not sheets:
        raise OutputError(f"write_excel '{path}': no sheets given")
    unit_rows: list[tuple[str, str, str, str]] = []
    for sheet, spec in (units or {}).items():
        if sheet not in sheets:
            raise OutputError(f"write_excel '{path}': units given for sheet '{sheet}', which "
                              f"is not written; sheets: {', '.join(map(str, sheets))}")
        unit_rows += [(str(sheet), *row) for row in
                      _unit_rows(sheets[sheet], spec, f"write_excel '{path}' sheet '{sheet}'")]
    for name, df in sheets.items():
        _check_sheet(name)
        if not isinstance(df, pd.DataFrame):
            raise OutputError(f"write_excel '{path}': sheet '{name}' is a "
                              f"{type(df).__name__}, expected a DataFrame")
    buf = io.BytesIO()
    try:
        with pd.ExcelWriter(buf, engine="openpyxl") as writer:
            for name, df in sheets.items():
                with_index = _use_index(df)
                df.to_excel(writer, sheet_name=name, index=with_index)
                ws = writer.sheets[name]
                ws.freeze_panes = "B2" if with_index and df.index.nlevels == 1 else "A2"
                _fit_columns(ws)
            if unit_rows:
                table = pd.DataFrame(unit_rows, columns=["sheet", "column", "unit",
                                                         "description"])
                table.to_excel(writer, sheet_name=UNITS_SHEET, index=False)
                writer.sheets[UNITS_SHEET].freeze_panes = "A2"
                _fit_columns(writer.sheets[UNITS_SHEET])
    except (ValueError, NotImplementedError, TypeError) as exc:
        raise OutputError(f"write_excel '{path}': {exc}") from exc
    return atomic_write_bytes(path, buf.getvalue())


#: columns of the terminal every console table fits in (CJK characters count two)
WIDTH = 100
#: a header wraps to lines of at most this many columns (or its column's widest cell)
HEADER_WRAP = 14
GAP = "  "


def _fmt(v: Any, digits: int | None, kind: str) -> tuple[str, bool]:
    """Cell text and whether it is numeric (right-aligned)."""
    text = cell_text(v, kind, digits)
    numeric = kind != "text" and not isinstance(v, str | bool | np.bool_)
    return text, numeric


def _pad(s: str, width: int, right: bool) -> str:
    fill = " " * (width - display_width(s))
    return fill + s if right else s + fill


_OPEN = "（(《“"
_CLOSE = "）)》”，、。：:;,"


def _chunks(text: str) -> list[str]:
    """Pieces a header may break after: words (with their space), CJK characters one by one;
    an opening bracket starts a piece, a closing one or a comma ends the piece before it."""
    out: list[str] = []
    word = ""
    for ch in text:
        wide = unicodedata.east_asian_width(ch) in ("W", "F")
        if ch in _CLOSE:
            if not word and out:
                out[-1] += ch
            else:
                out.append(word + ch)
            word = ""
        elif ch in _OPEN:
            if word:
                out.append(word)
            word = ch
        elif wide or ch in " _/-":
            if wide and word and word[-1] not in _OPEN:
                out.append(word)
                word = ""
            word += ch
            if not wide or not word[:-1] or word[-2] not in _OPEN:
                out.append(word)
                word = ""
        else:
            word += ch
    if word:
        out.append(word)
    return out


def wrap(text: str, width: int) -> list[str]:
    """``text`` broken into lines of at most ``width`` columns (at spaces, underscores and
    between CJK characters; a longer word is cut)."""
    lines, line = [], ""
    for piece in _chunks(text):
        while display_width(piece) > width:      # cut an over-long word
            room = width - display_width(line)
            cut = 0
            while cut < len(piece) and display_width(piece[:cut + 1]) <= room:
                cut += 1
            if cut == 0:
                lines.append(line.rstrip())
                line = ""
                continue
            lines.append((line + piece[:cut]).rstrip())
            line, piece = "", piece[cut:]
        if display_width(line + piece.rstrip()) > width and line:
            lines.append(line.rstrip())
            line = ""
        line += piece
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _groups(widths: list[int], keys: int, limit: int) -> list[list[int]]:
    """Column indices per printed block: the first ``keys`` columns in each, then as many of
    the others as fit in ``limit`` columns."""
    key_w = sum(widths[:keys]) + len(GAP) * keys
    blocks: list[list[int]] = []
    cur: list[int] = []
    used = key_w
    for j in range(keys, len(widths)):
        w = widths[j] + (len(GAP) if cur else 0)
        if cur and used + w > limit:
            blocks.append(cur)
            cur, used = [], key_w
            w = widths[j]
        cur.append(j)
        used += w
    if cur or not blocks:
        blocks.append(cur)
    return [list(range(keys)) + b for b in blocks]


def format_table(df: pd.DataFrame | Table, lang: str = "zh", *,
                 labels: Mapping[str, Any] | None = None, digits: int | None = None,
                 max_rows: int | None = None, width: int | None = WIDTH) -> str:
    """A fixed-width text table for the console, aligned for Chinese (wide) characters.

    ``df`` is a DataFrame or a labelled :class:`~sim.present.columns.Table` (headers with
    units, shares and probabilities as percentages, years plain). Column headers of a
    DataFrame (and the index name) are translated through ``labels`` (``{name: str or
    {zh, en}}``); numbers are right-aligned with thousands separators (``digits`` fixed
    decimals, else see :func:`sim.present.labels.format_number`); the index is shown unless
    it is the default range. ``max_rows`` truncates with a ``...`` line. Headers wrap; a table
    wider than ``width`` columns is split into blocks that repeat its first column.
    """
    check_lang(lang)
    table = df if isinstance(df, Table) else None
    if table is not None:
        df = table.frame
    if not isinstance(df, pd.DataFrame):
        raise OutputError(f"format_table: expected a DataFrame, got {type(df).__name__}")

    def name(key: Any) -> str:
        if table is not None:
            return table.col(key).header(lang)
        return label(labels[key], lang) if labels and key in labels else str(key)

    def kind(key: Any) -> str:
        if table is not None:
            return table.col(key).kind
        k = str(key)
        return "year" if k == "year" or k.startswith("year_") or k.endswith("year_reached") \
            else "number"

    show_index = _use_index(df)
    shown = df if max_rows is None else df.head(max_rows)
    header = ([name(df.index.name) if df.index.name is not None else ""] if show_index else [])
    header += [name(c) for c in df.columns]
    kinds = [kind(c) for c in df.columns]
    body: list[list[tuple[str, bool]]] = []
    for idx, row in zip(shown.index, shown.itertuples(index=False), strict=True):
        cells = [(str(idx), False)] if show_index else []
        cells += [_fmt(v, digits, k) for v, k in zip(row, kinds, strict=True)]
        body.append(cells)
    right = [any(r[j][1] for r in body) if body else False for j in range(len(header))]
    cell_w = [max([0] + [display_width(r[j][0]) for r in body]) for j in range(len(header))]
    wrapped = [wrap(h, max(cell_w[j], min(display_width(h), HEADER_WRAP)))
               for j, h in enumerate(header)]
    widths = [max([cell_w[j], 1] + [display_width(x) for x in wrapped[j]])
              for j in range(len(header))]
    blocks = ([list(range(len(header)))] if width is None
              else _groups(widths, 1 if len(header) > 1 else 0, width))
    out: list[str] = []
    for cols in blocks:
        depth = max(len(wrapped[j]) for j in cols)
        lines = []
        for i in range(depth):
            lines.append(GAP.join(
                _pad(wrapped[j][i - depth + len(wrapped[j])] if i >= depth - len(wrapped[j])
                     else "", widths[j], right[j]) for j in cols))
        lines.append(GAP.join("-" * widths[j] for j in cols))
        for cells in body:
            lines.append(GAP.join(_pad(cells[j][0], widths[j], right[j] and cells[j][1])
                                  for j in cols))
        if max_rows is not None and len(df) > max_rows:
            lines.append(f"... ({len(df) - max_rows} more)")
        out.append("\n".join(line.rstrip() for line in lines))
    return "\n\n".join(out)


def format_tables(tables: Sequence[Table], lang: str, width: int | None = WIDTH) -> str:
    """Titled tables for the console, one after another."""
    parts = []
    for t in tables:
        head = f"{t.title}\n" if t.title else ""
        parts.append(head + format_table(t, lang, width=width))
    return "\n\n".join(parts)
