"""Screen an ensemble sample by sample: divergence and the checks of ``model/checks.yaml``.

:func:`sim.analysis.diagnostics.checks.evaluate_checks` reports the worst case of each check over a whole
run; an ensemble needs to know *which samples* fail, so that it can drop them and say how
many it dropped and why. Everything here is vectorised over ``sample``:

- :func:`sample_checks`: per sample and check, whether the sample passes (bounds and
  conservation checks, the same definitions as :mod:`sim.analysis.diagnostics.checks`: NaN fails);
- :func:`screen`: divergence (:func:`sim.model.declarations.divergence.find_divergence`) plus
  :func:`sample_checks`, as a :class:`Screen` with the mask of samples to keep and summaries;
- :func:`keep_samples`: the Dataset without the screened-out samples.

Typical use in ensemble code::

    ds = simulate_design(scenario, design, return_columns=cols + variables_needed(checks, stocks))
    s = screen(ds, checks, stocks)
    kept = keep_samples(ds, s.keep)          # and report s.summary_lines()
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from sim.errors import ModelError
from sim.model.declarations.checkspec import BoundsCheck, Checks, ConservationCheck
from sim.model.declarations.divergence import ALL_STOCKS, Divergence, find_divergence

FAILURE_COLUMNS = ["check", "variable", "n_failed", "first_year"]


def _array(ds: xr.Dataset, name: str, check: str) -> np.ndarray:
    """(sample, time, rest) float values of ``name``."""
    if name not in ds.data_vars:
        raise ModelError(f"check '{check}': variable '{name}' is not in the ensemble results; "
                         "request it (sim.analysis.diagnostics.checks.variables_needed)")
    da = ds[name]
    other = [d for d in da.dims if d not in ("sample", "time")]
    arr = np.asarray(da.transpose("sample", "time", *other).values, dtype=float)
    return arr.reshape(arr.shape[0], arr.shape[1], -1)


def _first_year(bad: np.ndarray, times: np.ndarray) -> float:
    """Earliest time (any sample) at which ``bad`` (sample, time) holds; NaN if never."""
    cols = bad.any(axis=0)
    return float(times[np.argmax(cols)]) if cols.any() else np.nan


def _bounds(check: BoundsCheck, ds: xr.Dataset, stocks: list[str], times: np.ndarray):
    names: list[str] = []
    for n in check.variables:
        names += stocks if n == ALL_STOCKS else [n]
    ok = np.ones(ds.sizes["sample"], dtype=bool)
    rows = []
    for name in dict.fromkeys(names):
        arr = _array(ds, name, check.name)
        good = ~np.isnan(arr)                            # NaN fails, as in checks.py
        with np.errstate(invalid="ignore"):
            if check.min is not None:
                good &= arr >= check.min
            if check.max is not None:
                good &= arr <= check.max
        bad_st = ~good.all(axis=2)                       # (sample, time)
        failed = bad_st.any(axis=1)
        ok &= ~failed
        rows.append([check.name, name, int(failed.sum()), _first_year(bad_st, times)])
    return ok, rows


def _conservation(check: ConservationCheck, ds: xr.Dataset, times: np.ndarray):
    lhs = sum(_array(ds, n, check.name) for n in check.inflows)
    rhs = sum(_array(ds, n, check.name) for n in check.accounted)
    scale = np.maximum(np.abs(lhs), np.abs(rhs))
    with np.errstate(invalid="ignore"):
        good = np.abs(lhs - rhs) <= check.rtol * scale + check.atol   # NaN fails
    bad_st = ~good.all(axis=2)
    failed = bad_st.any(axis=1)
    return ~failed, [[check.name, "sum(inflows) - sum(accounted)", int(failed.sum()),
                      _first_year(bad_st, times)]]


def sample_checks(checks: Checks, ds: xr.Dataset, stocks: Iterable[str] = ()
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate every check of ``checks`` per sample of ``ds`` (dims ``sample, time, ...``).

    Returns ``(passed, failures)``: ``passed`` is a bool DataFrame indexed by sample with one
    column per check; ``failures`` has one row per (check, variable) with the number of
    samples failing it and the first year any sample fails (columns :data:`FAILURE_COLUMNS`).
    Raises :class:`ModelError` if a checked variable is missing from ``ds``.
    """
    stocks = list(stocks)
    times = np.asarray(ds["time"].values, dtype=float)
    cols: dict[str, np.ndarray] = {}
    rows: list[list] = []
    for b in checks.bounds:
        cols[b.name], r = _bounds(b, ds, stocks, times)
        rows += r
    for c in checks.conservation:
        cols[c.name], r = _conservation(c, ds, times)
        rows += r
    passed = pd.DataFrame(cols, index=pd.Index(ds["sample"].values, name="sample"))
    return passed, pd.DataFrame(rows, columns=FAILURE_COLUMNS)


@dataclass
class Screen:
    """Per-sample screening of an ensemble (see :func:`screen`)."""

    divergence: Divergence
    passed: pd.DataFrame          # sample x check, bool
    failures: pd.DataFrame        # check, variable, n_failed, first_year

    @property
    def keep(self) -> np.ndarray:
        """Bool (sample,): not diverged and passing every check."""
        ok = ~self.divergence.mask
        if not self.passed.empty:
            ok &= self.passed.all(axis=1).to_numpy()
        return ok

    @property
    def n(self) -> int:
        return int(self.divergence.mask.size)

    def summary_lines(self) -> list[str]:
        """Human-readable lines: how many samples were kept, and why the others were not."""
        lines = [f"{int(self.keep.sum())} of {self.n} samples kept"]
        if self.divergence.any:
            lines.append(f"{self.divergence.count} diverged:")
            for _, r in self.divergence.summary().iterrows():
                lines.append(f"  {r['variable']} ({r['kind']}) first in {r['year']:g}: "
                             f"{r['count']} samples")
        bad = self.failures[self.failures["n_failed"] > 0]
        for _, r in bad.iterrows():
            lines.append(f"check '{r['check']}' fails on {r['variable']} in {r['n_failed']} "
                         f"samples (first in {r['first_year']:g})")
        return lines


def screen(ds: xr.Dataset, checks: Checks | None = None, stocks: Iterable[str] = ()) -> Screen:
    """Divergence (the rule of ``checks``, or only NaN/inf without one) and, if ``checks`` is
    given, every bounds and conservation check, per sample of ``ds``."""
    stocks = list(stocks)
    div = find_divergence(ds, checks.divergence if checks is not None else None, stocks)
    if checks is None:
        passed = pd.DataFrame(index=pd.Index(ds["sample"].values, name="sample"))
        failures = pd.DataFrame(columns=FAILURE_COLUMNS)
    else:
        passed, failures = sample_checks(checks, ds, stocks)
    return Screen(div, passed, failures)


def keep_samples(ds: xr.Dataset, keep: np.ndarray) -> xr.Dataset:
    """``ds`` restricted to the samples where ``keep`` is True (their original numbers kept
    in the ``sample`` coordinate); ``ds.attrs['samples_dropped']`` records how many went."""
    keep = np.asarray(keep, dtype=bool)
    if keep.shape != (ds.sizes["sample"],):
        raise ValueError(f"keep has shape {keep.shape}; expected ({ds.sizes['sample']},)")
    out = ds.isel(sample=np.flatnonzero(keep))
    out.attrs["samples_dropped"] = int((~keep).sum())
    return out
