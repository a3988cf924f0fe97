"""Divergence: a run that produced NaN, inf, or a stock beyond the declared explosion bound.

The bound is declared once, as data, in the ``divergence:`` entry of ``model/checks.yaml``::

    divergence:
      max_abs: 1.0e8            # largest absolute value any listed variable may take
      variables: [all_stocks]   # optional; Python names, or all_stocks (the default)
      reason: >-                # required: why no sane run comes near the bound
        ...

A run has diverged in a sample if any of its variables is NaN or infinite, or a listed
variable's absolute value exceeds ``max_abs``, at any saved time. Detection is vectorised over
samples: :func:`find_divergence` returns a per-sample mask and, per diverged sample, the first
year and the variable that went wrong first; :func:`raise_if_diverged` turns a diverged single
run into a :class:`~sim.errors.DivergenceError` naming the variable and the year. Ensembles
use the mask to drop and report diverged samples (see :mod:`sim.analysis.diagnostics.screening`).

This module sits in the model layer so that :mod:`sim.simulate` can check every run it makes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from sim.errors import DivergenceError, ModelError
from sim.model.declarations.yamlio import check_keys, is_number

ALL_STOCKS = "all_stocks"
SECTION = "divergence"
KEYS = ("max_abs", "variables", "reason")
FIRST_COLUMNS = ["sample", "variable", "year", "value", "kind"]


@dataclass(frozen=True)
class DivergenceRule:
    """``|variable| <= max_abs`` for the listed variables; NaN/inf anywhere is divergence."""

    max_abs: float
    variables: tuple[str, ...] = (ALL_STOCKS,)
    reason: str = ""
    source: str = ""

    def bounded(self, available: Iterable[str], stocks: Iterable[str]) -> list[str]:
        """The listed variables (``all_stocks`` expanded) that are among ``available``."""
        names: list[str] = []
        for name in self.variables:
            names += list(stocks) if name == ALL_STOCKS else [name]
        have = set(available)
        return [n for n in dict.fromkeys(names) if n in have]


def parse_divergence(raw, source: str = "checks.yaml") -> DivergenceRule | None:
    """Validate the ``divergence:`` entry of a checks file (``None`` if absent)."""
    if raw is None:
        return None
    where = f"{source}: {SECTION}"
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: {raw!r} is not allowed; expected a mapping with keys "
                         f"{list(KEYS)}")
    check_keys(raw, KEYS, where, ModelError)
    value = raw.get("max_abs")
    if not is_number(value) or not np.isfinite(value) or value <= 0:
        raise ModelError(f"{where}.max_abs: {value!r} is not allowed; expected a finite "
                         "number > 0")
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ModelError(f"{where}.reason: {reason!r} is not allowed; expected a text saying "
                         "why no sane run comes near the bound")
    variables = raw.get("variables", [ALL_STOCKS])
    if not isinstance(variables, list) or not variables or not all(
            isinstance(v, str) and v for v in variables):
        raise ModelError(f"{where}.variables: {variables!r} is not allowed; expected a "
                         f"non-empty list of variable names (Python names, or '{ALL_STOCKS}')")
    return DivergenceRule(float(value), tuple(variables), reason.strip(), source)


@dataclass
class Divergence:
    """Result of :func:`find_divergence` on a Dataset with dims ``(sample, time, ...)``.

    ``mask``: bool array (sample,), True where the sample diverged. ``first``: one row per
    diverged sample (columns :data:`FIRST_COLUMNS`): the first saved year at which something
    went wrong, the variable (a bounded variable beyond the bound is named before a NaN/inf),
    its value there, and ``kind`` "bound", "nan" or "inf".
    """

    mask: np.ndarray
    first: pd.DataFrame
    max_abs: float | None = None

    @property
    def any(self) -> bool:
        return bool(self.mask.any())

    @property
    def count(self) -> int:
        return int(self.mask.sum())

    def summary(self) -> pd.DataFrame:
        """Diverged samples counted by (variable, year, kind), most frequent first."""
        if self.first.empty:
            return pd.DataFrame(columns=["variable", "year", "kind", "count"])
        out = (self.first.groupby(["variable", "year", "kind"], sort=False).size()
               .rename("count").reset_index())
        return out.sort_values(["count", "year"], ascending=[False, True], ignore_index=True)

    def describe(self, row: int = 0) -> str:
        """One phrase for the ``row``-th diverged sample: what went wrong, and when."""
        r = self.first.iloc[row]
        year = _year(r["year"])
        if r["kind"] == "bound":
            return (f"'{r['variable']}' reaches {r['value']:.3g} in {year}, beyond the "
                    f"divergence bound |value| <= {self.max_abs:g}")
        return f"'{r['variable']}' is {'NaN' if r['kind'] == 'nan' else r['value']} in {year}"


def _year(t: float) -> str:
    return f"{t:g}"


def _first_bad(bad: np.ndarray) -> np.ndarray:
    """Index of the first True along axis 1 per row; a large sentinel where none."""
    hit = bad.any(axis=1)
    return np.where(hit, np.argmax(bad, axis=1), np.iinfo(np.int64).max)


def _values(da: xr.DataArray | xr.Variable) -> np.ndarray:
    """(sample, time, rest) float array of ``da``."""
    if da.dims[:2] != ("sample", "time"):
        other = [d for d in da.dims if d not in ("sample", "time")]
        da = da.transpose("sample", "time", *other)
    arr = np.asarray(da.values, dtype=float)
    return arr.reshape(arr.shape[0], arr.shape[1], -1)


def find_divergence(ds: xr.Dataset, rule: DivergenceRule | None = None,
                    stocks: Iterable[str] = ()) -> Divergence:
    """Which samples of ``ds`` diverged, and where first (see :class:`Divergence`).

    Every data variable with dims ``sample`` and ``time`` is screened for NaN/inf; the
    variables ``rule`` bounds (``all_stocks`` = ``stocks``) that are in ``ds`` also for
    ``|value| > rule.max_abs``. Without ``rule`` only NaN/inf count.
    """
    variables, names, bounded = _screened(ds, rule, stocks)
    n = ds.sizes.get("sample", 1)
    times = np.asarray(ds["time"].values, dtype=float) if "time" in ds.coords else np.array([])
    order = bounded + [v for v in names if v not in set(bounded)]
    best = np.full(n, np.iinfo(np.int64).max)
    who = np.full(n, -1)
    if _clear(variables, names, bounded, rule):
        return Divergence(np.zeros(n, bool), pd.DataFrame([], columns=FIRST_COLUMNS),
                          rule.max_abs if rule is not None else None)
    for i, name in enumerate(order):
        arr = _values(variables[name])
        bad = ~np.isfinite(arr)
        if rule is not None and i < len(bounded):
            with np.errstate(invalid="ignore"):
                bad |= np.abs(arr) > rule.max_abs
        first = _first_bad(bad.any(axis=2))
        better = first < best          # strict: earlier variables in ``order`` win ties
        best = np.where(better, first, best)
        who = np.where(better, i, who)
    mask = who >= 0
    rows = []
    arrays: dict[str, np.ndarray] = {}
    for s in np.flatnonzero(mask):
        name = order[who[s]]
        if name not in arrays:
            arrays[name] = _values(variables[name])
        values = arrays[name][s, best[s]]
        bad = values[~np.isfinite(values)]
        if bad.size:
            value = float(bad[0])
            kind = "nan" if np.isnan(value) else "inf"
        else:
            value = float(values[np.argmax(np.abs(values))])
            kind = "bound"
        sample = int(ds["sample"].values[s]) if "sample" in ds.coords else int(s)
        rows.append(dict(zip(FIRST_COLUMNS, (sample, name, float(times[best[s]]), value, kind),
                             strict=True)))
    return Divergence(mask, pd.DataFrame(rows, columns=FIRST_COLUMNS),
                      rule.max_abs if rule is not None else None)


def _screened(ds: xr.Dataset, rule, stocks):
    """``ds``'s variables, the names of those with dims ``sample`` and ``time`` and the ones
    of them ``rule`` bounds."""
    data = set(ds.data_vars)  # (ds[v] builds a DataArray; iterating ds.coords is slow too)
    frozen = ds.variables
    variables = {str(k): v for k, v in getattr(frozen, "mapping", frozen).items()
                 if k in data and "sample" in (d := v.dims) and "time" in d}
    names = list(variables)
    return variables, names, rule.bounded(names, stocks) if rule is not None else []


def _clear(variables, names, bounded, rule) -> bool:
    """True when no value is NaN or inf and none of ``bounded`` is beyond the bound (the
    usual case: one pass over the kernel's block of outputs, else over each variable, without
    copying them into one)."""
    if not names:
        return True
    arrays = [variables[v].values for v in names]
    base = arrays[0].base if isinstance(arrays[0], np.ndarray) else None
    # the compiled kernel returns every column as a view of one block: when that block is
    # finite, so is each view (if not, the views are checked one by one below)
    one_block = (isinstance(base, np.ndarray)
                 and all(getattr(a, "base", None) is base for a in arrays)
                 and np.isfinite(base).all())
    if not one_block and not all(np.isfinite(a).all() for a in arrays):
        return False
    if rule is None or not bounded:
        return True
    return not any((np.abs(variables[v].data) > rule.max_abs).any() for v in bounded)


def raise_if_diverged(ds: xr.Dataset, rule: DivergenceRule | None = None,
                      stocks: Iterable[str] = (), scenario: str = "") -> None:
    """Raise :class:`DivergenceError` if any sample of ``ds`` diverged, naming the variable
    and the first year (of the earliest-diverging sample)."""
    if _clear(*_screened(ds, rule, stocks), rule):
        return
    found = find_divergence(ds, rule, stocks)
    if not found.any:
        return
    row = int(found.first["year"].to_numpy().argmin())
    r = found.first.iloc[row]
    n_bad = sum(1 for v in ds.data_vars if not np.isfinite(np.asarray(ds[v].values, float)).all())
    what = f"scenario '{scenario}'" if scenario else "the run"
    samples = (f" (sample {r['sample']}; {found.count} of {found.mask.size} samples diverge)"
               if found.mask.size > 1 else "")
    later = f"; {n_bad} variables are NaN or inf by the end" if n_bad else ""
    source = f" ({rule.source}: {SECTION})" if rule is not None and rule.source else ""
    raise DivergenceError(
        f"{what} diverges: {found.describe(row)}{source}{samples}{later}; a diverging run is "
        "not a forecast: change the levers or assumptions that drive it",
        variable=str(r["variable"]), year=float(r["year"]))
