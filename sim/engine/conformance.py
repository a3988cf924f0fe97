"""Run SDXorg conformance tests through the batch engine and compare with Vensim's output.

A test directory holds ``manifest.csv`` (columns ``test,model,expected,data_files,rtol,atol``)
and one folder per test with the model and the expected output (``.tab`` tab-separated or
``.csv``; time in rows, or transposed with time in the header row). Columns are Vensim names,
subscripted ones as ``var[a,b]``; constant columns may be blank after the first row (filled
down). Values pass when ``|expected - actual| <= atol + rtol * |actual|`` (PySD's rule), NaN
equal to NaN. Models are copied to a temp dir before compiling so nothing is written beside them.
"""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import ModelError, PlanSimError


@dataclass
class TestResult:
    """Outcome of one test: ``worst`` is the column with the largest error / tolerance ratio."""

    name: str
    passed: bool
    worst: str = ""
    error: float = 0.0
    message: str = ""


def read_manifest(directory) -> list[dict]:
    path = Path(directory) / "manifest.csv"
    if not path.is_file():
        raise ModelError(f"conformance directory '{directory}' has no manifest.csv")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    need = {"test", "model", "expected"}
    if rows and not need <= set(rows[0]):
        raise ModelError(f"'{path}' must have columns test,model,expected,data_files,rtol,atol")
    return rows


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
    from sim.engine import compile_model

    base = Path(directory)
    name = row["test"]
    model = base / name / row["model"]
    rtol = float(row.get("rtol") or 1e-5)
    atol = float(row.get("atol") or 1e-5)
    data = [d for d in (row.get("data_files") or "").split(";") if d.strip()]
    try:
        with tempfile.TemporaryDirectory(prefix="plansim-conf-") as tmp:
            work = Path(tmp) / name
            shutil.copytree(model.parent, work)
            bm = compile_model(work / model.name, data_files=data or None)
            ds = bm.run()
            expected = read_expected(base / name / row["expected"])
            worst, ratio, msg = compare(ds, expected, bm, rtol, atol)
    except PlanSimError as exc:
        return TestResult(name, False, "", np.inf, str(exc))
    except Exception as exc:  # report, don't crash the whole suite
        return TestResult(name, False, "", np.inf, f"{type(exc).__name__}: {exc}")
    return TestResult(name, ratio <= 1.0, worst, ratio, msg)


def run_all(directory, only=None) -> list[TestResult]:
    rows = read_manifest(directory)
    if only:
        rows = [r for r in rows if r["test"] in only]
    return [run_test(directory, r) for r in rows]
