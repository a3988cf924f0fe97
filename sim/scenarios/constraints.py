"""Constraints across levers, declared as data in ``model/parameters.yaml`` (``constraints:``).

A constraint names a set of levers whose values must not sum above ``max_sum`` in any year, e.g.
the allocation shares of the fiscal S&T budget (money is conserved: allocations never exceed the
budget). :func:`check_inputs` checks a scenario's engine inputs against every constraint and
raises :class:`~sim.errors.ScenarioError` naming the levers, their values, their sum and the
year; nothing is rescaled silently.

File format::

    constraints:
      allocation_shares:
        levers: [industry_share, platform_award_share, ...]   # lever ids
        max_sum: 1
        label: {zh: ..., en: ...}
        attribution_label: {zh: ..., en: ...}   # optional: these levers as one Shapley player

Any other key of a constraint (:data:`CONSTRAINT_KEYS`), or of its labels, is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sim.errors import ParameterError, ScenarioError
from sim.model.declarations.parameters import Parameters, read_parameters_file
from sim.model.declarations.words import LANGS
from sim.model.declarations.yamlio import check_keys, is_number, require_mapping

TOLERANCE = 1e-9   # sums within this of max_sum pass (floating-point sums of shares)
#: the keys of a constraint
CONSTRAINT_KEYS = ("levers", "max_sum", "label", "attribution_label")


@dataclass(frozen=True)
class SumConstraint:
    """``sum(levers) <= max_sum`` at every time (and sample)."""

    id: str
    levers: tuple[str, ...]
    max_sum: float
    source: str = "model/parameters.yaml"
    label: Mapping[str, str] | None = None   # {zh, en}, when declared
    attribution_label: Mapping[str, str] | None = None   # the levers as one attribution player


def parse_constraints(raw, params: Parameters, source: str) -> tuple[SumConstraint, ...]:
    """Validate the ``constraints`` section (``raw``) against the declared levers."""
    if raw is None:
        return ()
    raw = require_mapping(raw, f"{source}: constraints", ParameterError)
    out = []
    for cid, entry in raw.items():
        where = f"{source}: constraints.{cid}"
        entry = require_mapping(entry, where, ParameterError)
        check_keys(entry, CONSTRAINT_KEYS, where, ParameterError)
        levers = entry.get("levers")
        if not isinstance(levers, list) or len(levers) < 2:
            raise ParameterError(f"{where}.levers: {levers!r} is not allowed; expected a list of "
                                 "at least two lever ids")
        unknown = [lid for lid in levers if lid not in params.levers]
        if unknown:
            raise ParameterError(f"{where}.levers: {unknown} are not declared levers; declared: "
                                 f"{sorted(params.levers)}")
        max_sum = entry.get("max_sum")
        if not is_number(max_sum) or not np.isfinite(max_sum):
            raise ParameterError(f"{where}.max_sum: {max_sum!r} is not allowed; expected a "
                                 "finite number")
        text, player = entry.get("label"), entry.get("attribution_label")
        for key, value in (("label", text), ("attribution_label", player)):
            if isinstance(value, Mapping):
                check_keys(value, LANGS, f"{where}.{key}", ParameterError)
        out.append(SumConstraint(str(cid), tuple(levers), float(max_sum), source,
                                 dict(text) if isinstance(text, Mapping) else None,
                                 dict(player) if isinstance(player, Mapping) else None))
    return tuple(out)


@lru_cache(maxsize=8)
def _raw(path: Path, mtime: float):
    raw = require_mapping(read_parameters_file(path), str(path), ParameterError)
    return raw.get("constraints")


def load_constraints(params: Parameters) -> tuple[SumConstraint, ...]:
    """The constraints declared next to ``params`` (empty if it has no file)."""
    if params.source is None or not Path(params.source).is_file():
        return ()
    path = Path(params.source)
    return parse_constraints(_raw(path, path.stat().st_mtime), params, str(path))


def _as_array(value, n_times: int) -> np.ndarray:
    """An engine input as an array of shape ``(sample, time)`` (either may be 1)."""
    if isinstance(value, xr.DataArray):
        arr = value.transpose(*[d for d in ("sample", "time") if d in value.dims]).values
        if value.dims == ("time",):
            return np.asarray(arr, float)[None, :]
        if value.dims == ("sample",):
            return np.asarray(arr, float)[:, None]
        return np.asarray(arr, float)
    if isinstance(value, pd.Series):
        return value.to_numpy(float)[None, :]
    arr = np.asarray(value, float)
    if arr.ndim == 0:
        return np.full((1, n_times), float(arr))
    if arr.ndim == 1:                       # per-sample constants
        return arr[:, None]
    return arr


def check_inputs(params: Parameters, inputs: Mapping[str, object],
                 defaults: Callable[[], Mapping[str, np.ndarray]], times: np.ndarray,
                 scenario: str) -> None:
    """Raise :class:`ScenarioError` if ``inputs`` break a declared constraint.

    ``inputs`` are engine inputs keyed by Python name (see :mod:`sim.scenarios.inputs`); a lever
    missing from them takes its baseline trajectory from ``defaults()`` (called only if needed).
    """
    constraints = load_constraints(params)
    base = None
    for c in constraints:
        parts = []
        for lid in c.levers:
            name = params.levers[lid].py_name
            if name in inputs:
                parts.append(_as_array(inputs[name], len(times)))
            else:
                base = defaults() if base is None else base
                parts.append(_as_array(base[name], len(times)))
        values = np.broadcast_arrays(*parts)
        total = sum(values)
        bad = total > c.max_sum + TOLERANCE
        if not bad.any():
            continue
        s, t = np.unravel_index(int(np.argmax(bad)), bad.shape)
        t_idx = min(t, len(times) - 1)
        year = int(np.floor(times[t_idx] + 1e-9))
        shares = ", ".join(f"{lid}={v[s, t]:g}" for lid, v in zip(c.levers, values,
                                                                  strict=True))
        sample = f" (sample {s})" if total.shape[0] > 1 else ""
        raise ScenarioError(f"{scenario}: {shares} sum to {total[s, t]:g} in {year}{sample}; "
                            f"allowed: a sum of at most {c.max_sum:g} ({c.source}: "
                            f"constraints.{c.id})")


def value_at(value, year: int, linear: bool = False) -> float | None:
    """A scenario's lever value (a number, a ``{year: value}`` series or an inherited one) in
    ``year``; None before a series' first point (the value below it is not in the file)."""
    under = getattr(value, "under", None)
    if hasattr(value, "over"):
        return (value_at(value.over, year, linear) if year >= min(value.over)
                else value_at(under, year, linear))
    if isinstance(value, dict):
        years = sorted(value)
        if year < years[0]:
            return None
        if linear:
            return float(np.interp(year, years, [value[y] for y in years]))
        return float(value[max(y for y in years if y <= year)])
    return None if value is None else float(value)


def _years(value) -> set[int]:
    if hasattr(value, "over"):
        return _years(value.under) | set(value.over)
    return set(value) if isinstance(value, dict) else set()


def check_levers(params: Parameters, levers: Mapping[str, object], where: str) -> None:
    """Raise :class:`ScenarioError` if the levers a scenario file gives already break a sum
    constraint in a year one of them names (a lever it leaves out counts as 0 here; the run
    checks again with every lever's value, see :func:`check_inputs`)."""
    for c in load_constraints(params):
        given = [lid for lid in c.levers if lid in levers]
        if not given:
            continue
        years = sorted(set().union(*(_years(levers[lid]) for lid in given)) or {0})
        for year in years:
            vals = {lid: value_at(levers[lid], year,
                                  params.levers[lid].interpolation == "linear") for lid in given}
            total = sum(v for v in vals.values() if v is not None)
            if total > c.max_sum + TOLERANCE:
                shares = ", ".join(f"{lid}={v:g}" for lid, v in vals.items() if v)
                when = f" in {year}" if year else ""
                raise ScenarioError(f"{where}: levers: {shares} sum to {total:g}{when}; allowed: "
                                    f"a sum of at most {c.max_sum:g} ({c.source}: "
                                    f"constraints.{c.id})")
