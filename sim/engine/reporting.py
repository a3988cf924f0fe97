"""Reporting modes: what a saved row of a run holds (see ARCHITECTURE.md, "Time convention").

- ``instant`` (PySD's and Vensim's own output): the row at time ``t`` holds every variable's
  value at the instant ``t``, saved every SAVEPER from INITIAL TIME to FINAL TIME.
- ``calendar`` (period reporting): the run is cut into reporting intervals
  ``[t0 + k·SAVEPER, t0 + (k+1)·SAVEPER)`` that end at or before FINAL TIME; the row labelled by
  the interval's start holds a *level* at the interval's end and a *rate* as its mean over the
  interval (the mean of the values at the integration steps inside it, which is exactly the rate
  Euler integration applies, so a stock's change over the interval is SAVEPER x the mean of its
  net flow). With yearly SAVEPER and model time ``Y.0`` = 1 January of ``Y``, row ``Y`` holds
  stocks at the end of ``Y`` and flows as the total over ``Y``, per year.

Rate or level is decided from declared data only: a variable is a *rate* when it is not a stock
and its units contain the model's time unit (the unit of TIME STEP) to the power -1
(``亿元/Year``, ``firms/Year``, ``1/Year``, ``万元/(firms*Year)``); everything else is a level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from sim.errors import ModelError

MODES = ("instant", "calendar")
_TOKEN = re.compile(r"\s*(\(|\)|\*|/|\^|-?\d+(?:\.\d+)?|[^()*/^\s][^()*/^]*)")


def _tokens(units: str) -> list[str]:
    out, pos = [], 0
    text = units.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            return []
        out.append(m.group(1).strip())
        pos = m.end()
    return out


def unit_power(units: str, name: str) -> Fraction:
    """Exponent of the base unit ``name`` (case-insensitive, a trailing ``s`` ignored) in a
    Vensim units string (factors joined by ``*`` and ``/``, parentheses, ``^`` with a number);
    0 for an unparsable string."""
    toks = _tokens(units or "")
    target = name.lower().rstrip("s")
    pos = 0

    def factor() -> Fraction:
        nonlocal pos
        if pos >= len(toks):
            raise ValueError
        tok = toks[pos]
        pos += 1
        if tok == "(":
            p = expr()
            if pos >= len(toks) or toks[pos] != ")":
                raise ValueError
            pos += 1
        else:
            p = Fraction(1) if tok.lower().rstrip("s") == target else Fraction(0)
        if pos < len(toks) and toks[pos] == "^":
            pos += 1
            if pos < len(toks) and toks[pos] == "(":
                pos += 1
                num = Fraction(toks[pos])
                pos += 1
                if pos < len(toks) and toks[pos] == "/":
                    num /= Fraction(toks[pos + 1])
                    pos += 2
                if pos >= len(toks) or toks[pos] != ")":
                    raise ValueError
                pos += 1
            else:
                num = Fraction(toks[pos])
                pos += 1
            p *= num
        return p

    def expr() -> Fraction:
        nonlocal pos
        p = factor()
        while pos < len(toks) and toks[pos] in "*/":
            op = toks[pos]
            pos += 1
            p = p + factor() if op == "*" else p - factor()
        return p

    try:
        p = expr()
    except (ValueError, IndexError, ZeroDivisionError):
        return Fraction(0)
    return p if pos == len(toks) else Fraction(0)


def is_rate(units: str, kind: str, time_unit: str) -> bool:
    """The one rule: a non-stock whose units hold ``time_unit`` to the power -1."""
    return kind != "stock" and bool(time_unit) and unit_power(units, time_unit) == -1


@dataclass(frozen=True)
class Periods:
    """Reporting intervals on an integration grid of ``n_grid`` times.

    ``starts``: (n_rows,) interval start times (the row labels); ``acc``: (n_grid,) index of the
    interval whose mean a rate's value at that grid time enters, -1 for none; ``end``: (n_grid,)
    index of the interval that ends at that grid time (its levels are recorded there), -1 for
    none; ``counts``: (n_rows,) integration steps per interval.
    """

    starts: np.ndarray
    acc: np.ndarray
    end: np.ndarray
    counts: np.ndarray

    @property
    def touched(self) -> np.ndarray:
        """(n_grid,) bool: the grid times whose values are needed."""
        return (self.acc >= 0) | (self.end >= 0)


def periods(grid: np.ndarray, t0: float, dt: float, saveper: float) -> Periods:
    """Reporting intervals of length ``saveper`` from ``t0`` on ``grid`` (PySD's integration
    times, last = FINAL TIME). ``saveper`` must be a whole number of time steps."""
    ratio = saveper / dt
    if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
        raise ModelError(f"calendar reporting needs SAVEPER ({saveper:g}) to be a whole "
                         f"number of TIME STEPs ({dt:g})")
    prec = dt * 1e-5
    pos = (np.asarray(grid, float) - t0) / saveper
    k = np.floor(pos + prec / saveper).astype(int)
    near = np.rint(pos).astype(int)
    boundary = np.abs(pos - near) * saveper < prec
    n_rows = int(near[boundary].max()) if boundary.any() else 0
    if n_rows < 1:
        raise ModelError(f"calendar reporting: the run ({grid[0]:g}-{grid[-1]:g}) is shorter "
                         f"than one reporting interval ({saveper:g})")
    acc = np.where(k < n_rows, k, -1)
    end = np.where(boundary & (near >= 1) & (near <= n_rows), near - 1, -1)
    counts = np.bincount(acc[acc >= 0], minlength=n_rows)
    starts = t0 + saveper * np.arange(n_rows)
    return Periods(starts, acc, end, counts)


def aggregate(values: np.ndarray, per: Periods, rate) -> np.ndarray:
    """Rows from the values at every grid time: ``values`` (n_grid, ...) -> (n_rows, ...), the
    mean over each interval for a rate, the value at its end for a level. ``rate``: a bool, or
    for ``values`` of shape (n_grid, n_columns) a bool per column."""
    values = np.asarray(values, dtype=float)
    idx = np.full(len(per.starts), -1)
    hit = per.end >= 0
    idx[per.end[hit]] = np.nonzero(hit)[0]
    levels = values[idx]
    mask = np.asarray(rate, dtype=bool)
    if not mask.any():
        return levels
    used = np.nonzero(per.acc >= 0)[0]          # contiguous blocks, one per interval
    firsts = np.searchsorted(per.acc[used], np.arange(len(per.starts)))
    means = np.add.reduceat(values[used], firsts, axis=0)
    means /= per.counts.reshape((-1,) + (1,) * (values.ndim - 1))
    return np.where(mask, means, levels) if mask.ndim else means


__all__ = ["MODES", "Periods", "aggregate", "is_rate", "periods", "unit_power"]
