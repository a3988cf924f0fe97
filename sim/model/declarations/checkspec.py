"""``model/checks.yaml``, read once: the declared behaviour checks (bounds and conservation,
evaluated by :mod:`sim.analysis.diagnostics.checks`) and the divergence bound (its ``divergence:``
entry, checked on every run by :mod:`sim.model.declarations.divergence`).

``load_checks(path)`` reads and validates the whole file; ``load_divergence(path)`` its
``divergence:`` entry alone, once per process while the file keeps its content (every run asks).
A bad file raises :class:`sim.errors.ModelError` naming the file, the key, the value and what is
allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim import paths
from sim.errors import ModelError
from sim.model.declarations.divergence import (
    ALL_STOCKS,
    SECTION,
    DivergenceRule,
    parse_divergence,
)
from sim.model.declarations.yamlio import check_keys, is_number, read_yaml

SECTIONS = ("bounds", "conservation", "divergence")
_BOUND_KEYS = ("name", "description", "variables", "min", "max")
_CONS_KEYS = ("name", "description", "inflows", "accounted", "rtol", "atol")


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


def _names(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v
                                                           for v in value):
        raise ModelError(f"{where}: {value!r} is not allowed; expected a non-empty list of "
                         f"variable names (Python names, or '{ALL_STOCKS}')")
    return tuple(value)


def _entry(raw, where: str, allowed: tuple[str, ...], required: set[str]) -> dict:
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: {raw!r} is not allowed; expected a mapping with keys "
                         f"{sorted(allowed)}")
    check_keys(raw, allowed, where, ModelError)
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
    check_keys(raw, SECTIONS, source, ModelError)
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
    path = Path(path or paths.CHECKS_FILE)
    return parse_checks(read_yaml(path, ModelError), str(path))


def load_divergence(path: str | Path | None = None) -> DivergenceRule | None:
    """The divergence rule of ``model/checks.yaml`` (or ``path``); ``None`` if it has none.
    Parsed once per process while the file keeps its content."""
    path = Path(path or paths.CHECKS_FILE)
    try:
        stamp = (str(path.resolve()), path.read_bytes())
    except OSError:
        stamp = None
    if stamp is not None and stamp in _RULES:
        return _RULES[stamp]
    rule = _load_divergence(path)
    if stamp is not None:
        _RULES.clear()
        _RULES[stamp] = rule
    return rule


_RULES: dict[tuple, DivergenceRule | None] = {}


def _load_divergence(path: Path) -> DivergenceRule | None:
    raw = read_yaml(path, ModelError)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ModelError(f"{path}: expected a mapping")
    return parse_divergence(raw.get(SECTION), str(path))

