"""Behaviour checks of ``model/checks.yaml`` (bounds and conservation), in the manner of
SDEverywhere's model checks.

``load_checks(path)`` reads and validates the file (a bad file raises
:class:`sim.errors.ModelError` naming the file, the key, the value and what is allowed);
``evaluate_checks(checks, ds, scenario, stocks)`` evaluates every check on one scenario's
results, an ``xarray.Dataset`` with dims ``("sample", "time", ...)``, and returns a tidy
``pandas.DataFrame`` with one row per check and variable:

    check     the check's name
    kind      "bounds" | "conservation"
    scenario  the scenario id
    variable  the variable checked (for conservation: "sum(inflows) - sum(accounted)")
    passed    bool
    worst     bounds: the value farthest outside (or, when all pass, closest to) a bound;
              conservation: the relative imbalance |in - out| / max(|in|, |out|) at its worst
    time      the time of ``worst`` (model time, years)
    sample    the sample of ``worst``
    excess    how far ``worst`` lies beyond its bound (bounds, in the variable's units) or beyond
              ``rtol`` (conservation); > 0 fails, the largest is the worst case

NaN anywhere in a checked variable fails the check (worst = NaN at its first time).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sim import paths
from sim.errors import ModelError
from sim.model.declarations.divergence import ALL_STOCKS, DivergenceRule, parse_divergence
from sim.model.declarations.yamlio import is_number, read_yaml

BALANCE = "sum(inflows) - sum(accounted)"
COLUMNS = ["check", "kind", "scenario", "variable", "passed", "worst", "time", "sample",
           "excess"]
SECTIONS = ("bounds", "conservation", "divergence")
_BOUND_KEYS = {"name", "description", "variables", "min", "max"}
_CONS_KEYS = {"name", "description", "inflows", "accounted", "rtol", "atol"}


@dataclass(frozen=True)
class BoundsCheck:
    """``min <= variable <= max`` at every saved time and sample (either bound may be None)."""

    name: str
    variables: tuple[str, ...]
    min: float | None = None
    max: float | None = None
    description: str = ""


@dataclass(frozen=True)
class ConservationCheck:
    """``sum(inflows) == sum(accounted)`` within ``rtol`` (relative) + ``atol`` at every time."""

    name: str
    inflows: tuple[str, ...]
    accounted: tuple[str, ...]
    rtol: float = 1e-9
    atol: float = 0.0
    description: str = ""


@dataclass(frozen=True)
class Checks:
    bounds: tuple[BoundsCheck, ...] = field(default_factory=tuple)
    conservation: tuple[ConservationCheck, ...] = field(default_factory=tuple)
    source: str = ""
    divergence: DivergenceRule | None = None   # see sim.model.declarations.divergence


# -- reading ------------------------------------------------------------------------------------
def _names(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v
                                                           for v in value):
        raise ModelError(f"{where}: {value!r} is not allowed; expected a non-empty list of "
                         f"variable names (Python names, or '{ALL_STOCKS}')")
    return tuple(value)


def _entry(raw, where: str, allowed: set[str], required: set[str]) -> dict:
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: {raw!r} is not allowed; expected a mapping with keys "
                         f"{sorted(allowed)}")
    for key in raw:
        if key not in allowed:
            raise ModelError(f"{where}: unknown key '{key}'; allowed keys: {sorted(allowed)}")
    for key in sorted(required - set(raw)):
        raise ModelError(f"{where}: key '{key}' is missing")
    if not isinstance(raw["name"], str) or not raw["name"].strip():
        raise ModelError(f"{where}.name: {raw['name']!r} is not allowed; expected a text")
    return raw


def _number(raw: dict, key: str, where: str, lo: float = -np.inf) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if not is_number(value) or not np.isfinite(value) or value < lo:
        allowed = "a finite number" + (f" >= {lo}" if np.isfinite(lo) else "")
        raise ModelError(f"{where}.{key}: {value!r} is not allowed; expected {allowed}")
    return float(value)


def parse_checks(raw, source: str = "checks.yaml") -> Checks:
    """Validate the parsed YAML of a checks file; ``source`` names it in error messages."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ModelError(f"{source}: expected a mapping with keys 'bounds', 'conservation'")
    for key in raw:
        if key not in SECTIONS:
            raise ModelError(f"{source}: unknown key '{key}'; allowed keys: {list(SECTIONS)}")
    bounds, cons = [], []
    for section in ("bounds", "conservation"):
        if not isinstance(raw.get(section) or [], list):
            raise ModelError(f"{source}: {section}: {raw[section]!r} is not allowed; "
                             "expected a list of checks")
    for i, item in enumerate(raw.get("bounds") or []):
        where = f"{source}: bounds[{i}]"
        e = _entry(item, where, _BOUND_KEYS, {"name", "variables"})
        lo, hi = _number(e, "min", where), _number(e, "max", where)
        if lo is None and hi is None:
            raise ModelError(f"{where} ('{e['name']}'): give 'min', 'max' or both")
        if lo is not None and hi is not None and lo > hi:
            raise ModelError(f"{where}.max: {hi} is not allowed; must be >= min ({lo})")
        bounds.append(BoundsCheck(e["name"], _names(e["variables"], f"{where}.variables"),
                                  lo, hi, str(e.get("description", ""))))
    for i, item in enumerate(raw.get("conservation") or []):
        where = f"{source}: conservation[{i}]"
        e = _entry(item, where, _CONS_KEYS, {"name", "inflows", "accounted"})
        rtol = _number(e, "rtol", where, lo=0.0)
        atol = _number(e, "atol", where, lo=0.0)
        cons.append(ConservationCheck(
            e["name"], _names(e["inflows"], f"{where}.inflows"),
            _names(e["accounted"], f"{where}.accounted"),
            1e-9 if rtol is None else rtol, 0.0 if atol is None else atol,
            str(e.get("description", ""))))
    names = [c.name for c in (*bounds, *cons)]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ModelError(f"{source}: check name {dup[0]!r} is used twice; names must be unique")
    return Checks(tuple(bounds), tuple(cons), source,
                  parse_divergence(raw.get("divergence"), source))


def load_checks(path: str | Path | None = None) -> Checks:
    """Read and validate ``model/checks.yaml`` (or ``path``)."""
    path = Path(path or paths.MODEL_DIR / "checks.yaml")
    return parse_checks(read_yaml(path, ModelError), str(path))


def model_stocks(model_path: str | Path | None = None) -> list[str]:
    """Python names of the model's stocks (elements defined by ``INTEG``), in file order.

    Parsed once per model file and modification time (every ensemble command asks)."""
    path = Path(model_path or paths.MODEL_FILE).resolve()
    if not path.is_file():
        from sim.analysis.diagnostics.units import load_abstract  # imports PySD: only for the error

        load_abstract(path)   # raises the named error for a missing model
    return list(_model_stocks(path, path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _model_stocks(path: Path, mtime_ns: int) -> tuple[str, ...]:
    # the engine's parsed model (cached on disk, sim.engine.cache): no second parse of the .mdl
    from sim.engine.cache import load_info

    return tuple(v.py_name for v in load_info(path).vars.values() if v.kind == "stock")


# -- evaluating -----------------------------------------------------------------------------------
def _get(ds: xr.Dataset, name: str, check: str, scenario: str) -> xr.DataArray:
    if name not in ds.data_vars:
        raise ModelError(f"check '{check}': variable '{name}' is not in the results of scenario "
                         f"'{scenario}'")
    return ds[name].astype(float)


def _locate(da: xr.DataArray, flat_index: int) -> tuple[float, float, int]:
    """(value, time, sample) of a flat position of ``da``."""
    idx = np.unravel_index(flat_index, da.shape)
    pos = dict(zip(da.dims, idx, strict=True))
    value = float(da.values[idx])
    time = float(da["time"].values[pos["time"]]) if "time" in pos else np.nan
    sample = int(da["sample"].values[pos["sample"]]) if "sample" in pos else 0
    return value, time, sample


def _row(check, kind, scenario, variable, passed, worst, time, sample, excess) -> dict:
    return dict(zip(COLUMNS, (check, kind, scenario, variable, bool(passed), worst, time,
                              sample, float(excess)), strict=True))


def _bounds_rows(check: BoundsCheck, ds: xr.Dataset, scenario: str,
                 stocks: Iterable[str]) -> list[dict]:
    names: list[str] = []
    for name in check.variables:
        names += list(stocks) if name == ALL_STOCKS else [name]
    rows = []
    for name in dict.fromkeys(names):
        da = _get(ds, name, check.name, scenario)
        values = da.values
        if np.isnan(values).any():
            _, time, sample = _locate(da, int(np.flatnonzero(np.isnan(values))[0]))
            rows.append(_row(check.name, "bounds", scenario, name, False, np.nan, time, sample,
                             np.inf))
            continue
        # signed distance outside the bounds (> 0 violates); the largest is the worst case
        excess = np.full(values.shape, -np.inf)
        if check.min is not None:
            excess = np.maximum(excess, check.min - values)
        if check.max is not None:
            excess = np.maximum(excess, values - check.max)
        value, time, sample = _locate(da, int(np.argmax(excess)))
        rows.append(_row(check.name, "bounds", scenario, name, excess.max() <= 0, value, time,
                         sample, excess.max()))
    return rows


def _conservation_row(check: ConservationCheck, ds: xr.Dataset, scenario: str) -> dict:
    def total(names: tuple[str, ...]) -> xr.DataArray:
        return sum(_get(ds, n, check.name, scenario) for n in names)

    lhs, rhs = total(check.inflows), total(check.accounted)
    lhs, rhs = xr.broadcast(lhs, rhs)
    lv, rv = lhs.values, rhs.values
    scale = np.maximum(np.abs(lv), np.abs(rv))
    gap = np.abs(lv - rv)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(gap == 0, 0.0, gap / scale)
    bad = ~(gap <= check.rtol * scale + check.atol)  # NaN fails
    rel = np.where(np.isnan(gap), np.inf, rel)
    flat = int(np.argmax(np.where(bad, rel, -1.0) if bad.any() else rel))
    _, time, sample = _locate(lhs, flat)
    worst = float(rel.flat[flat]) if np.isfinite(rel.flat[flat]) else np.nan
    excess = rel.flat[flat] - check.rtol if np.isfinite(rel.flat[flat]) else np.inf
    return _row(check.name, "conservation", scenario, BALANCE, not bad.any(), worst, time, sample,
                excess)


def evaluate_checks(checks: Checks, ds: xr.Dataset, scenario: str,
                    stocks: Iterable[str] = ()) -> pd.DataFrame:
    """Evaluate every check on one scenario's results ``ds`` (dims ``sample, time, ...``).

    ``stocks`` are the Python names ``all_stocks`` expands to (see :func:`model_stocks`).
    Raises :class:`ModelError` if a named variable is missing from ``ds``.
    """
    stocks = list(stocks)
    rows: list[dict] = []
    for b in checks.bounds:
        rows += _bounds_rows(b, ds, scenario, stocks)
    for c in checks.conservation:
        rows.append(_conservation_row(c, ds, scenario))
    return pd.DataFrame(rows, columns=COLUMNS)


def evaluate_all(checks: Checks, results: Mapping[str, xr.Dataset],
                 stocks: Iterable[str] = ()) -> pd.DataFrame:
    """:func:`evaluate_checks` over ``{scenario id: Dataset}``, concatenated."""
    stocks = list(stocks)
    frames = [evaluate_checks(checks, ds, sid, stocks) for sid, ds in results.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def variables_needed(checks: Checks, stocks: Iterable[str] = ()) -> list[str]:
    """Every variable the checks read (``all_stocks`` expanded), for ``return_columns``."""
    names: list[str] = []
    for b in checks.bounds:
        for n in b.variables:
            names += list(stocks) if n == ALL_STOCKS else [n]
    for c in checks.conservation:
        names += [*c.inflows, *c.accounted]
    return list(dict.fromkeys(names))


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (check, scenario): passed if every variable passed, with the worst case of
    the variable with the largest ``excess`` (the one farthest beyond, or closest to, a bound)."""
    rows = []
    for _, grp in table.groupby(["check", "scenario"], sort=False):
        failing = grp[~grp["passed"]]
        pick = grp.loc[grp["excess"].astype(float).idxmax()]
        rows.append({**pick.to_dict(), "passed": failing.empty,
                     "n_failed": int(len(failing)), "n_variables": int(len(grp))})
    return pd.DataFrame(rows)
