"""The one layout of every workbook plansim writes (run, compare, uncertainty, sensitivity).

Sheets, in order, named in the reader's language:

1. **summary**: the command's summary tables (:class:`~sim.present.tabular.columns.Table`, the very
   tables the console prints), one under the other, each with a title, labelled headers with
   units and number formats (thousands separators, sensible decimals, percentages);
2. **indicators**: the declared indicators (model/targets.yaml, in declared order) by year;
3. **variables**: every variable of a run by year (one sheet per run), headed by its label in
   both languages and its unit;
4. the command's own tables (labelled headers, fitted number formats);
5. **units**: variable, label (zh, en), unit, description of every variable in the workbook.

Header rows are frozen, column widths fitted. Tables longer than :data:`MAX_ROWS` rows or with
more than :data:`MAX_CELLS` cells (a sample design) do not go into a workbook
(:func:`fits_excel`); the report writes them as CSV and the summary says so. Written with
XlsxWriter (cell formats made once per workbook).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from sim.errors import OutputError
from sim.model.declarations.targets import load_targets
from sim.model.declarations.varlabels import variable_labels
from sim.model.declarations.words import group, in_group
from sim.present.labels import check_lang, label, unit_label
from sim.present.output.atomic import atomic_write_bytes
from sim.present.tabular import columns as cols_
from sim.present.tabular.columns import Col, Table, excel_format, excel_value, known_labels
from sim.present.tabular.tables import KIND_BY_NAME, display_width, wrap_header

#: the most rows a table may have to go into a workbook (larger ones are written as CSV)
MAX_ROWS = 5000
#: the most cells (rows x columns) a table may have to go into a workbook: a sample design
#: (samples x assumptions) belongs in CSV, where it is also far quicker to write
MAX_CELLS = 50_000
#: widest column (characters) and the widest a text column is fitted to
MAX_WIDTH = 48
#: a header longer than this many columns is written on several lines
HEAD_WRAP = 24

SHEETS = group("sheets")
WORDS = group("workbook")
#: header cells: bold on a light blue fill, wrapped
_HEAD = {"bold": True, "pattern": 1, "bg_color": "#DDE5F0", "text_wrap": True,
         "valign": "bottom"}
word = in_group("workbook")


def sheet_name(key: str, lang: str, suffix: str = "") -> str:
    """A sheet's name in the language (at most 31 characters, none of ``[]:*?/\\``);
    ``per_year_<outcome>`` and ``tornado_<outcome>`` are named by the outcome's label."""
    name = SHEETS[key][lang] if key in SHEETS else key
    for prefix in ("per_year_", "tornado_"):
        if key.startswith(prefix) and key not in SHEETS:
            rest = key.removeprefix(prefix)
            name = SHEETS[prefix][lang] + label(load_targets().labels().get(rest, rest), lang)
    name = f"{name} {suffix}".strip() if suffix else name
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    return name[:31]


def fits_excel(df: pd.DataFrame) -> bool:
    """Whether a table is small enough for a workbook (at most :data:`MAX_ROWS` rows and
    :data:`MAX_CELLS` cells)."""
    return len(df) <= MAX_ROWS and df.size <= MAX_CELLS


@dataclass
class Grid:
    """A sheet of values by year: ``frame`` (index: years) and per column its header lines
    (top to bottom), raw unit and kind; the variable ids the units sheet lists."""

    frame: pd.DataFrame
    heads: list[list[str]]
    units: list[str]
    kinds: list[str]
    variables: list[str] = field(default_factory=list)


@dataclass
class VariableInfo:
    """What the units sheet says about one variable."""

    label: dict[str, str]
    unit: str
    description: str = ""


def run_variables(ds: xr.Dataset) -> dict[str, VariableInfo]:
    """Labels (declared, see :func:`sim.model.declarations.varlabels.variable_labels`), units and
    descriptions of every per-year variable of a run."""
    # each variable read once, as a Variable (ds[v] builds a DataArray at every read)
    per_year = {str(v): var for v in ds.data_vars
                if "time" in (var := ds.variables[v]).dims
                and set(var.dims) <= {"time", "sample"}}
    labs = variable_labels({n: var.attrs.get("vensim_name", n) for n, var in per_year.items()})
    return {n: VariableInfo(labs[n], str(var.attrs.get("units", "")),
                            str(var.attrs.get("description", ""))) for n, var in per_year.items()}


def _series(ds: xr.Dataset, name: str) -> pd.Series:
    da = ds[name]
    if "sample" in da.dims:
        da = da.isel(sample=0)
    return pd.Series(da.values, index=[int(round(float(t))) for t in da["time"].values])


def variables_grid(ds: xr.Dataset, lang: str, info: Mapping[str, VariableInfo] | None = None
                   ) -> Grid:
    """Every per-year variable of one run, headed by its label in ``lang``, then in the other
    language, then its unit."""
    info = info if info is not None else run_variables(ds)
    other = "en" if lang == "zh" else "zh"
    names = list(info)
    frame = pd.DataFrame({n: _series(ds, n) for n in names})
    heads = [[info[n].label[lang], info[n].label[other]] for n in names]
    return Grid(frame, heads, [info[n].unit for n in names], ["number"] * len(names), names)


def indicators_grid(runs: Mapping[str, xr.Dataset], targets: Any, lang: str,
                    stats: Mapping[str, Mapping[str, xr.DataArray]] | None = None) -> Grid:
    """The declared indicators by year, in declared order: one column per indicator and run
    (``runs``: scenario label -> run); with ``stats`` (scenario label -> {statistic label ->
    DataArray of the indicators}) a column per indicator, scenario and statistic instead."""
    cols, heads, units = {}, [], []
    for t in targets:
        lab = label(t.label, lang)
        if stats is None:
            for sc, ds in runs.items():
                cols[(t.indicator, sc)] = _series(ds, t.indicator)
                heads.append([lab] + ([sc] if len(runs) > 1 else []))
                units.append(t.unit)
        else:
            for sc, by_stat in stats.items():
                for stat, da in by_stat.items():
                    if t.indicator not in da:
                        continue
                    cols[(t.indicator, sc, stat)] = _series(da, t.indicator)
                    heads.append([lab, sc, stat])
                    units.append(t.unit)
    frame = pd.DataFrame(cols)
    frame.columns = range(frame.shape[1])
    return Grid(frame, heads, units, ["number"] * len(units), list(targets.indicators))


# -- writing -----------------------------------------------------------------------------------
class _Book:
    """An XlsxWriter workbook in memory with its cell formats, each made once."""

    def __init__(self) -> None:
        import xlsxwriter

        self.buf = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self.buf, {"in_memory": True})
        self.names: list[str] = []
        self._formats: dict[tuple, Any] = {}

    def fmt(self, **props: Any) -> Any:
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def head(self) -> Any:
        return self.fmt(**_HEAD)

    def number(self, fmt: str) -> Any:
        return self.fmt(num_format=fmt)

    def sheet(self, name: str) -> Any:
        while name.lower() in (n.lower() for n in self.names):
            name = name[:28] + f" {len(self.names)}"
        self.names.append(name)
        return self.wb.add_worksheet(name)

    def close(self) -> bytes:
        self.wb.close()
        return self.buf.getvalue()


def _put(ws: Any, row: int, col: int, v: Any, fmt: Any = None) -> None:
    """One cell (``row``, ``col`` from 1): text as text (never a formula), numbers, booleans;
    None and "" leave the cell empty."""
    if v is None or v == "":
        return
    if isinstance(v, str):
        ws.write_string(row - 1, col - 1, v, fmt)
    elif isinstance(v, bool):
        ws.write_boolean(row - 1, col - 1, v, fmt)
    else:
        ws.write_number(row - 1, col - 1, v, fmt)


def _freeze(ws: Any, cell_row: int) -> None:
    """Freeze column A and the rows above ``cell_row`` (the pane starts at B<cell_row>)."""
    ws.freeze_panes(cell_row - 1, 1)


def _fit(ws: Any, widths: Mapping[int, int]) -> None:
    for j, w in widths.items():
        ws.set_column(j - 1, j - 1, min(max(w + 2, 8), MAX_WIDTH))


def _head_cell(book: _Book, ws: Any, row: int, col: int, text: str) -> None:
    if text:
        ws.write_string(row - 1, col - 1, text, book.head())
    else:
        ws.write_blank(row - 1, col - 1, None, book.head())


def _text_width(v: Any, fmt: str) -> int:
    if v is None:
        return 1
    if isinstance(v, float | int) and not isinstance(v, bool):
        if fmt.endswith("%"):
            return len(f"{100 * v:,.1f}%")
        return len(f"{v:,.{fmt.count('0') - 1 if '.' in fmt else 0}f}")
    return display_width(str(v))


def _write_table(book: _Book, ws: Any, top: int, table: Table, lang: str,
                 widths: dict[int, int]) -> int:
    """``table`` with its title at row ``top``; returns the next free row."""
    row = top
    if table.title:
        ws.write_string(row - 1, 0, table.title, book.fmt(bold=True))
        row += 1
    depth = 1
    for j, h in enumerate(table.headers(lang), start=1):
        lines = wrap_header(h, HEAD_WRAP)   # explicit breaks: no word cut by the reader's app
        _head_cell(book, ws, row, j, "\n".join(lines))
        widths[j] = max(widths.get(j, 0), *(display_width(x) for x in lines))
        depth = max(depth, len(lines))
    if depth > 1:   # a set height: LibreOffice shows every line of a wrapped header
        ws.set_row(row - 1, 15 * depth + 3)
    for j, key in enumerate(table.frame.columns, start=1):
        col = table.col(key)
        values = [excel_value(v) for v in table.frame[key]]
        values = cols_.excel_values(values, col.kind)
        fmt = excel_format(col.kind, [v for v in values if not isinstance(v, str)])
        num = book.number(fmt)
        for i, v in enumerate(values, start=row + 1):
            _put(ws, i, j, v, None if isinstance(v, str) else num)
        widths[j] = max(widths.get(j, 0), max((_text_width(v, fmt) for v in values),
                                              default=0))
    return row + 1 + len(table.frame)


def _summary_sheet(book: _Book, title: str, tables: Sequence[Table],
                   csv_only: Mapping[str, int], lang: str) -> None:
    ws = book.sheet(sheet_name("summary", lang))
    ws.write_string(0, 0, title, book.fmt(bold=True, font_size=13))
    widths: dict[int, int] = {}
    row, first_head = 3, None
    for t in tables:
        if first_head is None:
            first_head = row + (1 if t.title else 0)
        row = _write_table(book, ws, row, t, lang, widths) + 1
    if csv_only:
        note = Table(pd.DataFrame({"table": list(csv_only), "rows": list(csv_only.values()),
                                   "file": [f"{k}.csv" for k in csv_only]}),
                     {"table": Col(WORDS["table"], kind="text"),
                      "rows": Col(WORDS["rows"]), "file": Col(WORDS["file"], kind="text")},
                     word("csv_only", lang))
        _write_table(book, ws, row, note, lang, widths)
    # the title column is fitted to the tables, not to the long title line
    _freeze(ws, (first_head or 2) + 1)
    _fit(ws, widths)


def _grid_sheet(book: _Book, name: str, grid: Grid, lang: str) -> None:
    ws = book.sheet(name)
    depth = max((len(h) for h in grid.heads), default=0) + 1       # + the unit row
    _head_cell(book, ws, depth, 1, word("year", lang))
    for r in range(1, depth):
        _head_cell(book, ws, r, 1, "")
    widths = {1: 6}
    for j, (heads, unit) in enumerate(zip(grid.heads, grid.units, strict=True), start=2):
        lines = heads + [""] * (depth - 1 - len(heads)) + [unit_label(unit, lang)]
        for r, text in enumerate(lines, start=1):
            _head_cell(book, ws, r, j, text)
        widths[j] = max(min(display_width(x), 24) for x in lines)
    year = book.number("0")
    for i, y in enumerate(grid.frame.index, start=depth + 1):
        ws.write_number(i - 1, 0, int(y), year)
    for j, (key, kind) in enumerate(zip(grid.frame.columns, grid.kinds, strict=True), start=2):
        values = cols_.excel_values([excel_value(v) for v in grid.frame[key]], kind)
        fmt = excel_format(kind, values)
        num = book.number(fmt)
        for i, v in enumerate(values, start=depth + 1):
            _put(ws, i, j, v, num)
        widths[j] = max(widths[j], max((_text_width(v, fmt) for v in values), default=1))
    _freeze(ws, depth + 1)
    _fit(ws, widths)


def _kind(name: str, values: pd.Series) -> str:
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return "text"
    if name in ("time", "year") or name.startswith("year") or name.endswith("_year"):
        return "year"
    return KIND_BY_NAME.get(name, "number")


def _frame_sheet(book: _Book, name: str, df: pd.DataFrame, lang: str,
                 headers: Mapping[str, Any]) -> None:
    """A command's table: headers and id cells by their labels, number formats per column."""
    ws = book.sheet(name)
    df = df.reset_index() if not isinstance(df.index, pd.RangeIndex) else df.copy()
    df.columns = [str(c) for c in df.columns]
    for c in df.columns:
        if _kind(c, df[c]) == "text":
            df[c] = [cols_.cell_words(v, headers, lang) for v in df[c]]
    table = Table(df, {c: Col(headers.get(c, c), kind=_kind(c, df[c])) for c in df.columns})
    widths: dict[int, int] = {}
    _write_table(book, ws, 1, table, lang, widths)
    _freeze(ws, 2)
    _fit(ws, widths)


def _units_sheet(book: _Book, info: Mapping[str, VariableInfo], lang: str) -> None:
    ws = book.sheet(sheet_name("units", lang))
    heads = [word(k, lang) for k in ("variable", "label_zh", "label_en", "unit", "description")]
    for j, h in enumerate(heads, start=1):
        _head_cell(book, ws, 1, j, h)
    widths = {j: display_width(h) for j, h in enumerate(heads, start=1)}
    for i, (name, v) in enumerate(info.items(), start=2):
        cells = [name, v.label["zh"], v.label["en"], unit_label(v.unit, lang), v.description]
        for j, text in enumerate(cells, start=1):
            _put(ws, i, j, text)
            widths[j] = max(widths[j], display_width(text))
    _freeze(ws, 2)
    _fit(ws, widths)
    ws.set_column(4, 4, 80)       # the description column: wide, not fitted


def write_workbook(path: Path | str, lang: str, *, title: str, summary: Sequence[Table],
                   indicators: Grid | None = None,
                   variables: Mapping[str, Grid] | None = None,
                   tables: Mapping[str, pd.DataFrame] | None = None,
                   headers: Mapping[str, Any] | None = None,
                   info: Mapping[str, VariableInfo] | None = None,
                   csv_only: Mapping[str, int] | None = None) -> Path:
    """Write one workbook in the layout of this module, atomically.

    ``summary``: the summary tables; ``indicators``: the declared indicators by year;
    ``variables``: sheet suffix (e.g. the scenario, or "") -> every variable of a run;
    ``tables``: further sheets by name (each within :func:`fits_excel`; larger ones are an
    error, the caller writes them as CSV and lists them in ``csv_only``: name -> rows);
    ``headers``: bilingual labels of those tables' columns and id cells (default
    :func:`sim.present.tabular.columns.known_labels`); ``info``: the units sheet's rows.
    """
    check_lang(lang)
    path = Path(path)
    if not summary:
        raise OutputError(f"write_workbook '{path}': no summary table given")
    for name, df in (tables or {}).items():
        if not fits_excel(df):
            raise OutputError(f"write_workbook '{path}': table '{name}' has {len(df):,} rows "
                              f"and {df.size:,} cells, more than the {MAX_ROWS:,} rows or "
                              f"{MAX_CELLS:,} cells a workbook takes; write it as CSV")
    book = _Book()
    _summary_sheet(book, title, summary, csv_only or {}, lang)
    if indicators is not None:
        _grid_sheet(book, sheet_name("indicators", lang), indicators, lang)
    for suffix, grid in (variables or {}).items():
        _grid_sheet(book, sheet_name("variables", lang, suffix), grid, lang)
    headers = headers if headers is not None else known_labels()
    for name, df in (tables or {}).items():
        _frame_sheet(book, sheet_name(name, lang), df, lang, headers)
    _units_sheet(book, info or {}, lang)
    return atomic_write_bytes(path, book.close())


def contents(tables: Mapping[str, pd.DataFrame], lang: str) -> Table:
    """A summary listing the tables (for reports without a summary of their own)."""
    return Table(pd.DataFrame({"table": list(tables), "rows": [len(v) for v in tables.values()]}),
                 {"table": Col(WORDS["table"], kind="text"), "rows": Col(WORDS["rows"])})


def book_parts(tables: Mapping[str, pd.DataFrame], summary: Sequence[Table], central: Any,
               targets: Any, lang: str) -> dict[str, Any]:
    """The keyword arguments of :func:`write_workbook` for a report of ``tables`` with a
    ``summary`` (default: the list of tables) and the ``central`` run (or None): its
    indicators and variables; tables too long for a workbook listed as CSV only."""
    parts: dict[str, Any] = {
        "summary": list(summary) or [contents(tables, lang)],
        "tables": {k: v for k, v in tables.items() if fits_excel(v)},
        "csv_only": {k: len(v) for k, v in tables.items() if not fits_excel(v)}}
    if central is not None:
        info = run_variables(central)
        parts["info"] = info
        parts["variables"] = {"": variables_grid(central, lang, info)}
        if targets is not None:
            parts["indicators"] = indicators_grid({"": central}, targets, lang)
    return parts
