"""Run SDXorg conformance tests through the batch engine and compare with Vensim's output.

A test directory holds ``manifest.csv`` (columns ``test,model,expected,data_files,rtol,atol``)
and one folder per test with the model and the expected output (``.tab`` tab-separated or
``.csv``; time in rows, or transposed with time in the header row). Columns are Vensim names,
subscripted ones as ``var[a,b]``; constant columns may be blank after the first row (filled
down). Values pass when ``|expected - actual| <= atol + rtol * |actual|`` (PySD's rule), NaN
equal to NaN. Models are copied to a temp dir before compiling so nothing is written beside them.

The manifest is untrusted input: test names must be plain folder names inside the directory,
model, expected and data files must lie inside their test folder, tolerances must be numbers;
anything else is a :class:`~sim.errors.ModelError` naming the manifest, the row and the value.
A failing model is reported with the user's path (never the temporary copy) and, for an error
while simulating, the variable whose equation failed.
"""

from __future__ import annotations

import csv
import difflib
import io
import linecache
import math
import re
import shutil
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.engine import compile_model
from sim.errors import ModelError, PlanSimError, excerpt

MANIFEST_COLUMNS = ("test", "model", "expected", "data_files", "rtol", "atol")
_PLAIN = re.compile(r"^\w[\w.\-]*$")


@dataclass
class TestResult:
    """Outcome of one test: ``worst`` is the column with the largest error / tolerance ratio."""

    name: str
    passed: bool
    worst: str = ""
    error: float = 0.0
    message: str = ""


def read_manifest(directory) -> list[dict]:
    """The rows of ``DIR/manifest.csv``, each checked (see the module docstring)."""
    path = Path(directory) / "manifest.csv"
    if not path.is_file():
        raise ModelError(f"conformance directory '{directory}' has no manifest.csv")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
                         ) from None
    except OSError as exc:
        raise ModelError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ModelError(f"{path}: malformed CSV ({exc})") from None
    need = {"test", "model", "expected"}
    if rows and not need <= set(rows[0]):
        raise ModelError(f"'{path}' must have columns {','.join(MANIFEST_COLUMNS)}")
    return [_check_row(path, i, r) for i, r in enumerate(rows, start=2)]


def _check_row(path: Path, line: int | None, row: dict) -> dict:
    where = f"{path}, line {line}" if line else f"{path}, test {excerpt(row.get('test'))}"
    if None in row or any(row.get(k) is None for k in ("test", "model", "expected")):
        raise ModelError(f"{where}: the row has {'more' if None in row else 'fewer'} fields "
                         f"than the header; allowed: {','.join(MANIFEST_COLUMNS)}")
    out = {k: (v or "").strip() for k, v in row.items()}
    name = out["test"]
    if not _PLAIN.match(name):
        raise ModelError(f"{where}: test {excerpt(name)} is not allowed; a test is a plain "
                         "folder name inside the conformance directory (letters, digits, "
                         "'_', '-', '.'; no separators, not starting with '.')")
    for key in ("model", "expected"):
        if not out[key]:
            raise ModelError(f"{where}: {key} is empty; give a file inside {name}/")
    for key in ("rtol", "atol"):
        if out.get(key):
            try:
                value = float(out[key])
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < 0:
                raise ModelError(f"{where}: {key} {excerpt(out[key])} is not allowed; "
                                 "allowed: a number >= 0 such as 1e-5")
    return out


def _inside(base: Path, name: str, rel: str, where: str, key: str) -> Path:
    """``base/name/rel``, refused unless it lies inside ``base/name``."""
    folder = (base / name).resolve()
    target = (folder / rel).resolve()
    if not target.is_relative_to(folder):
        raise ModelError(f"{where}: {key} {excerpt(rel)} is outside the test folder "
                         f"'{base / name}'; allowed: a file inside it")
    return target


def read_expected(path) -> pd.DataFrame:
    """Expected output as a DataFrame indexed by time, one column per Vensim column name."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    sep = "\t" if path.suffix.lower() == ".tab" or "\t" in text.split("\n", 1)[0] else ","
    rows = [r for r in csv.reader(text.split("\n"), delimiter=sep) if any(c.strip() for c in r)]
    header = [c.strip() for c in rows[0]]

    def _num(s):
        try:
            float(s)
            return True
        except ValueError:
            return False

    if len(header) > 1 and all(_num(c) for c in header[1:] if c):
        # transposed: first column holds names, header row holds times
        times = [float(c) for c in header[1:] if c]
        cols = {}
        for r in rows[1:]:
            vals = [_float(c) for c in r[1:len(times) + 1]]
            vals += [np.nan] * (len(times) - len(vals))
            cols[r[0].strip()] = vals
        df = pd.DataFrame(cols, index=np.array(times))
    else:
        body = [[_float(c) for c in r[:len(header)]] for r in rows[1:]]
        body = [r + [np.nan] * (len(header) - len(r)) for r in body]
        df = pd.DataFrame(body, columns=header).set_index(header[0])
        df.index = df.index.astype(float)
    df.columns = [c.strip().strip('"') for c in df.columns]
    # columns of constants are written once and left blank below: fill those down only
    for col in df.columns:
        v = df[col].values
        if len(v) > 1 and not np.isnan(v[0]) and np.isnan(v[1:]).all():
            df[col] = v[0]
    return df


def _float(s):
    s = s.strip()
    if not s:
        return np.nan
    try:
        return float(s)
    except ValueError:
        return np.nan


_COL = re.compile(r"^(.*?)\s*\[(.*)\]\s*$")


def compare(ds, expected: pd.DataFrame, bm, rtol: float, atol: float):
    """Return ``(worst_column, worst_ratio, message)``; ratio <= 1 means every value passed."""
    times = ds["time"].values
    exp_t = expected.index.values
    tol_t = 1e-6 * np.maximum(1.0, np.abs(exp_t))
    pos = np.searchsorted(times, exp_t)
    idx = []
    for t, p, tol in zip(exp_t, pos, tol_t, strict=True):
        cands = [q for q in (p - 1, p) if 0 <= q < len(times)]
        best = min(cands, key=lambda q: abs(times[q] - t)) if cands else None
        if best is None or abs(times[best] - t) > tol:
            return "Time", np.inf, f"time {t} not in the simulation output"
        idx.append(best)
    idx = np.array(idx)
    worst, worst_ratio, msg = "", 0.0, ""
    for col in expected.columns:
        if col.lower() == "time":
            continue
        m = _COL.match(col)
        name, subs = (m.group(1), [s.strip() for s in m.group(2).split(",")]) if m else (col, [])
        try:
            info = bm.variable(name)
        except PlanSimError:
            return col, np.inf, f"variable '{name}' not in the model"
        if info.py_name not in ds:
            return col, np.inf, f"variable '{name}' not in the output"
        da = ds[info.py_name].isel(sample=0)
        if subs:
            da = da.sel(dict(zip(info.subscripts, subs, strict=True)))
        actual = np.asarray(da.values, dtype=float)[idx]
        exp = expected[col].values.astype(float)
        both_nan = np.isnan(actual) & np.isnan(exp)
        err = np.abs(exp - actual)
        tol = atol + rtol * np.abs(actual)
        with np.errstate(all="ignore"):
            ratio = np.where(both_nan, 0.0, np.where(np.isnan(err), np.inf, err / tol))
        r = float(np.max(ratio)) if ratio.size else 0.0
        if r > worst_ratio or not worst:
            k = int(np.argmax(ratio)) if ratio.size else 0
            worst, worst_ratio = col, r
            msg = (f"t={exp_t[k]:g} expected {exp[k]:.10g} got {actual[k]:.10g}"
                   if ratio.size else "")
    return worst, worst_ratio, msg


def run_test(directory, row) -> TestResult:
    base = Path(directory)
    name = row["test"]
    try:
        row = _check_row(base / "manifest.csv", None, row) if "_checked" not in row else row
        where = f"{base / 'manifest.csv'}, test {name}"
        model = _inside(base, name, row["model"], where, "model")
        expected_file = _inside(base, name, row["expected"], where, "expected")
        data = [d.strip() for d in (row.get("data_files") or "").split(";") if d.strip()]
        for d in data:
            _inside(base, name, d, where, "data file")
        if not model.is_file():
            raise ModelError(f"model file '{base / name / row['model']}' does not exist")
    except ModelError as exc:
        return TestResult(name, False, "", np.inf, str(exc))
    rtol = float(row.get("rtol") or 1e-5)
    atol = float(row.get("atol") or 1e-5)
    shown = base / name / row["model"]   # the user's path, never the temporary copy
    work = None
    try:
        with tempfile.TemporaryDirectory(prefix="plansim-conf-") as tmp:
            work = Path(tmp) / name
            shutil.copytree(model.parent, work, symlinks=True)
            bm = compile_model(work / model.name, data_files=data or None)
            try:
                ds = bm.run()
            except PlanSimError:
                raise
            except Exception as exc:
                raise ModelError(_engine_failure(exc, shown)) from None
            expected = read_expected(expected_file)
            worst, ratio, msg = compare(ds, expected, bm, rtol, atol)
            if not ratio <= 1.0:  # the numpy path names the equation that fails, if one does
                try:
                    bm.run(backend="numpy")
                except PlanSimError:
                    raise
                except Exception as exc:
                    raise ModelError(_engine_failure(exc, shown)) from None
    except Exception as exc:  # report, don't crash the whole suite
        text = str(exc) if isinstance(exc, PlanSimError) else f"{type(exc).__name__}: {exc}"
        if work is not None:
            text = text.replace(str(work), str(base / name))
        if str(base / name) not in text:
            text = f"model '{shown}': {text}"
        return TestResult(name, False, "", np.inf, excerpt(text, 400, quote=False))
    return TestResult(name, ratio <= 1.0, worst, ratio, msg)


def _engine_failure(exc: BaseException, model: Path) -> str:
    """``exc`` raised while simulating, described by the variable whose equation failed."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith("<engine:")]
    what = f"{type(exc).__name__}: {exc}"
    if not frames:
        return f"model '{model}': {what}"
    frame = frames[-1]
    line = (frame.line or "").strip()
    lines = linecache.getlines(frame.filename)
    stocks = {m[2]: m[1] for m in (re.match(r"^\s*v_(\w+) = (s\d+)$", x) for x in lines) if m}
    lhs = line.split("=", 1)[0].strip()
    if lhs.startswith("v_"):
        var = lhs[2:]
    elif lhs.startswith("n_s") and lhs[2:] in stocks:
        var = f"{stocks[lhs[2:]]} (the stock's rate of change)"
    else:
        var = None
    used = sorted(set(re.findall(r"\bv_(\w+)", line.split("=", 1)[-1])) - {"time_step"})
    if var:
        return (f"model '{model}': {what} in the equation of '{var}'"
                + (f" (uses {', '.join(used)})" if used else ""))
    return f"model '{model}': {what} in: {excerpt(line, 120, quote=False)}"


def run_all(directory, only=None) -> list[TestResult]:
    """Run every test of the manifest, or those named in ``only`` (each must exist)."""
    rows = read_manifest(directory)
    if only:
        names = [r["test"] for r in rows]
        unknown = [t for t in only if t not in names]
        if unknown:
            close = difflib.get_close_matches(unknown[0], names, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ModelError(f"test {excerpt(unknown[0])}: no such test in "
                             f"{Path(directory) / 'manifest.csv'}{hint}")
        rows = [r for r in rows if r["test"] in only]
    return [run_test(directory, {**r, "_checked": True}) for r in rows]
