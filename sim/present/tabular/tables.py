"""Tables: CSV with a units sidecar and fixed-width console tables (workbooks:
:mod:`sim.present.tabular.workbook`).

Units are given as ``{column: unit}`` or ``{column: {"unit": ..., "description": ...}}`` (or a
``(unit, description)`` pair); :func:`units_from_dataset` builds that mapping from a results
Dataset's attrs. Every file is written atomically (:mod:`sim.present.output.atomic`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sim.errors import OutputError
from sim.present.labels import check_lang, label
from sim.present.output.atomic import atomic_write_text
from sim.present.tabular.columns import Table, cell_text


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


#: columns of the terminal every console table fits in (CJK characters count two)
WIDTH = 100
#: a header wraps to lines of at most this many columns (or its column's widest cell)
HEADER_WRAP = 16
#: a text cell wider than this wraps onto more lines
CELL_WRAP = 40
#: how a DataFrame column is shown, by its name (else a number, or a year for year columns)
KIND_BY_NAME = {"ratio": "share", "probability": "probability", "mc_se": "probability",
                "achieved_probability": "probability", "coverage": "share",
                "density": "share", "mass": "share", "error_pct": "change",
                "acceptance": "share"}
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
    return _keep_brackets(out)


def _keep_brackets(pieces: list[str], most: int = 12) -> list[str]:
    """A short bracketed part (``（亿元）``) kept as one piece."""
    out: list[str] = []
    i = 0
    while i < len(pieces):
        p = pieces[i]
        if p and p[0] in _OPEN:
            j, joined = i, p
            while j + 1 < len(pieces) and joined.rstrip()[-1:] not in _CLOSE \
                    and display_width(joined + pieces[j + 1]) <= most:
                j += 1
                joined += pieces[j]
            if joined.rstrip()[-1:] in _CLOSE:
                out.append(joined)
                i = j + 1
                continue
        out.append(p)
        i += 1
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


def wrap_header(text: str, width: int) -> list[str]:
    """A header in as few lines of at most ``width`` columns as :func:`wrap` needs, made as
    even as they can be (``行动计划全面实施`` -> ``行动计划`` / ``全面实施``, never a lone
    ``施`` on the last line)."""
    lines = wrap(text, width)
    if len(lines) < 2:
        return lines
    total = sum(display_width(x) for x in lines)
    for w in range(max(1, -(-total // len(lines))), width):
        even = wrap(text, w)
        if len(even) == len(lines):
            return even
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

    ``df`` is a DataFrame or a labelled :class:`~sim.present.tabular.columns.Table` (headers with
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
        if k in KIND_BY_NAME:
            return KIND_BY_NAME[k]
        return "year" if k == "year" or k.startswith("year_") or k.endswith("year_reached") \
            else "number"

    def cell(v: Any) -> Any:      # an id among the labels is shown by its label
        if table is None and labels and isinstance(v, str) and v in labels:
            return label(labels[v], lang)
        return v

    show_index = _use_index(df)
    shown = df if max_rows is None else df.head(max_rows)
    header = ([name(df.index.name) if df.index.name is not None else ""] if show_index else [])
    header += [name(c) for c in df.columns]
    kinds = [kind(c) for c in df.columns]
    body: list[list[tuple[str, bool]]] = []
    for idx, row in zip(shown.index, shown.itertuples(index=False), strict=True):
        cells = [(str(cell(idx)), False)] if show_index else []
        cells += [_fmt(cell(v), digits, k) for v, k in zip(row, kinds, strict=True)]
        body.append(cells)
    right = [any(r[j][1] for r in body) if body else False for j in range(len(header))]
    cell_w = [min(max([0] + [display_width(r[j][0]) for r in body]), CELL_WRAP)
              for j in range(len(header))]
    cells_of = [[wrap(c, cell_w[j]) if display_width(c) > cell_w[j] else [c]
                 for j, (c, _num) in enumerate(row)] for row in body]
    wrapped = [wrap_header(h, max(cell_w[j], min(display_width(h), HEADER_WRAP)))
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
        for cells, texts in zip(body, cells_of, strict=True):
            for k in range(max(len(texts[j]) for j in cols)):
                lines.append(GAP.join(
                    _pad(texts[j][k] if k < len(texts[j]) else "", widths[j],
                         right[j] and cells[j][1]) for j in cols))
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
