"""The uncertainty specification: one probability distribution per uncertain assumption.

File format (``scenarios/uncertainty.yaml``)::

    assumptions:
      crowding_in:                 # an assumption id from model/parameters.yaml
        distribution: triangular   # uniform | triangular | truncnormal | lognormal
        min: -0.2                  # bounds: optional, default the assumption's range in
        max: 0.8                   #   model/parameters.yaml (declared once there); given, they
                                   #   narrow it (required without parameters.yaml)
        mode: 0.3                  # triangular: mode; truncnormal: mean, sd;
                                   # lognormal: median, sigma (sd of the log), truncated to bounds
                                   # (the prior of the estimation: never centred on a fit)
        source: literature, ...    # optional: where the range comes from; left out, it is the
                                   #   .mdl comment of the assumption's variable (the one free
                                   #   text; needs parameters.yaml)
        confidence: B              # A | B | C (see CONFIDENCE_GRADES)

The unit of each assumption lives in the ``.mdl`` (and in the simulator's dataset attrs), its
range in ``model/parameters.yaml``, its reasoning and source in the ``.mdl`` comment; this file
holds only the distribution's shape and the confidence grade. Loading validates every entry and raises
:class:`sim.errors.UncertaintyError` naming the file, the key, the value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.ensembles.conditioning_settings import read_uncertainty_file
from sim.errors import UncertaintyError
from sim.model.declarations.yamlio import suggest

CONFIDENCE_GRADES = {
    "A": "high: the range is backed by Qingdao data or a figure in the plan",
    "B": "medium: the range comes from literature or comparable cities",
    "C": "low: the range is the modeller's judgement, no direct evidence",
}
_CONFIDENCE_ALIASES = {"high": "A", "medium": "B", "low": "C"}

#: distribution -> (required shape parameters, optional ones)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "uniform": ((), ()),
    "triangular": (("mode",), ()),
    "truncnormal": (("mean", "sd"), ()),
    "lognormal": (("median", "sigma"), ()),
}
_COMMON_KEYS = ("distribution", "min", "max", "source", "confidence")


@dataclass(frozen=True)
class Distribution:
    """A bounded one-dimensional distribution, sampled through its inverse CDF.

    ``kind`` is one of :data:`DISTRIBUTIONS`; ``lower``/``upper`` are the bounds (every
    distribution is truncated to them); ``params`` holds the shape parameters.
    """

    kind: str
    lower: float
    upper: float
    params: Mapping[str, float] = field(default_factory=dict)

    @cached_property
    def _frozen(self) -> Any:
        from scipy import stats  # on first use: importing scipy.stats takes about 0.6 s

        lo, hi, p = self.lower, self.upper, self.params
        if self.kind == "uniform":
            return stats.uniform(loc=lo, scale=hi - lo)
        if self.kind == "triangular":
            return stats.triang(c=(p["mode"] - lo) / (hi - lo), loc=lo, scale=hi - lo)
        if self.kind == "truncnormal":
            mu, sd = p["mean"], p["sd"]
            return stats.truncnorm((lo - mu) / sd, (hi - mu) / sd, loc=mu, scale=sd)
        if self.kind == "lognormal":
            return stats.lognorm(s=p["sigma"], scale=p["median"])
        raise UncertaintyError(f"unknown distribution '{self.kind}'")  # guarded by parsing

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the built scipy objects (made again on first use), so that a
        result read back from the cache does not import scipy.stats."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_frozen", "cdf_bounds")}

    def frozen(self) -> Any:
        """The scipy.stats frozen distribution (already truncated to the bounds; built once)."""
        return self._frozen

    @cached_property
    def cdf_bounds(self) -> tuple[float, float]:
        """The untruncated distribution's CDF at ``lower`` and ``upper``: :meth:`ppf` maps a
        quantile into this interval (a lognormal's computed as scipy computes it, without
        importing scipy.stats)."""
        if self.kind == "lognormal":
            quick = [_lognormal_cdf(x, self.params["sigma"], self.params["median"])
                     for x in (self.lower, self.upper)]
            if None not in quick:
                return quick[0], quick[1]
        return float(self._frozen.cdf(self.lower)), float(self._frozen.cdf(self.upper))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map quantiles ``u`` in [0, 1] (any shape) to values in [lower, upper] (same shape).

        Uniform and triangular in closed form (the estimation maps every walker at every step)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        lo, hi = self.lower, self.upper
        if self.kind == "uniform":
            return lo + u * (hi - lo)
        if self.kind == "triangular":
            c = (self.params["mode"] - lo) / (hi - lo)
            with np.errstate(invalid="ignore", divide="ignore"):
                left = lo + np.sqrt(u * c) * (hi - lo)
                right = hi - np.sqrt((1 - u) * (1 - c)) * (hi - lo)
            return np.clip(np.where(u < c, left, right), lo, hi)
        if self.kind == "lognormal":  # truncate: rescale u into [F(lower), F(upper)]
            f_lo, f_hi = self.cdf_bounds
            u = f_lo + u * (f_hi - f_lo)
            quick = _lognormal_ppf(u, self.params["sigma"], self.params["median"])
            if quick is not None:
                return np.clip(quick, lo, hi)
        return np.clip(self._frozen.ppf(u), lo, hi)

    def median(self) -> float:
        return float(self.ppf(np.array(0.5)))


def _lognormal_cdf(x: float, sigma: float, median: float) -> float | None:
    """``scipy.stats.lognorm(sigma, scale=median).cdf(x)`` inside the support, computed as
    scipy computes it (``ndtr(log(x / median) / sigma)``, the same operations on the same
    array shapes: the same bits, tests/test_uncertainty_spec.py), without importing
    scipy.stats (about 0.6 s); None elsewhere (scipy.stats decides)."""
    from scipy.special import ndtr

    z = np.atleast_1d(np.asarray((x - 0) / median, dtype=float))
    if not (sigma > 0 and median > 0 and 0 < z[0] < np.inf):
        return None
    return float(ndtr(np.log(z) / sigma)[0])


def _lognormal_ppf(q: np.ndarray, sigma: float, median: float) -> np.ndarray | None:
    """``scipy.stats.lognorm(sigma, scale=median).ppf(q)`` for ``q`` strictly inside (0, 1),
    as scipy computes it (``exp(sigma * ndtri(q)) * median + 0`` on the flattened ``q``);
    None otherwise (scipy.stats decides)."""
    from scipy.special import ndtri

    q = np.asarray(q, dtype=float)
    if not (sigma > 0 and median > 0 and np.all((q > 0) & (q < 1))):
        return None
    flat = np.atleast_1d(q).ravel()
    return (np.exp(sigma * ndtri(flat)) * median + 0).reshape(q.shape)[()]


@dataclass(frozen=True)
class UncertainAssumption:
    """One uncertain assumption: its id, distribution, source and confidence grade (A/B/C)."""

    id: str
    distribution: Distribution
    source: str
    confidence: str


@dataclass(frozen=True)
class UncertaintySpec:
    """All uncertain assumptions, in file order. ``path`` is where they were read from."""

    items: dict[str, UncertainAssumption]
    path: str = "<dict>"

    @property
    def names(self) -> list[str]:
        return list(self.items)

    @property
    def dim(self) -> int:
        return len(self.items)

    @property
    def bounds(self) -> np.ndarray:
        """Array (D, 2) of [lower, upper] per assumption."""
        return np.array([[a.distribution.lower, a.distribution.upper] for a in self.items.values()])

    def ppf(self, unit: np.ndarray) -> np.ndarray:
        """Map a unit-hypercube sample (N, D) to assumption values (N, D), column by column."""
        unit = np.asarray(unit, dtype=float)
        if unit.ndim != 2 or unit.shape[1] != self.dim:
            raise UncertaintyError(
                f"sample has shape {unit.shape}; expected (N, {self.dim}) for {self.names}"
            )
        cols = [a.distribution.ppf(unit[:, j]) for j, a in enumerate(self.items.values())]
        return np.column_stack(cols) if cols else np.empty((unit.shape[0], 0))

    def subset(self, names: list[str]) -> UncertaintySpec:
        """The spec restricted to ``names`` (in that order)."""
        missing = [n for n in names if n not in self.items]
        if missing:
            raise UncertaintyError(f"{self.path}: unknown assumption(s) {missing}; known: {self.names}")
        return UncertaintySpec({n: self.items[n] for n in names}, self.path)


def _number(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UncertaintyError(f"{where}: '{key}' is {value!r}; allowed: a finite number")
    return float(value)


def _parse_entry(where: str, name: str, entry: Any,
                 declared: tuple[float, float] | None = None,
                 variable: str | None = None) -> UncertainAssumption:
    if not isinstance(entry, Mapping):
        raise UncertaintyError(f"{where}: assumption '{name}' is {entry!r}; allowed: a mapping")
    kind = entry.get("distribution")
    if kind not in DISTRIBUTIONS:
        raise UncertaintyError(
            f"{where}: assumptions.{name}.distribution is {kind!r}; allowed: "
            f"{', '.join(DISTRIBUTIONS)}" + (suggest(str(kind), list(DISTRIBUTIONS)) if kind else "")
        )
    required, optional = DISTRIBUTIONS[kind]
    allowed = set(_COMMON_KEYS) | set(required) | set(optional)
    for key in entry:
        if key not in allowed:
            raise UncertaintyError(
                f"{where}: assumptions.{name}.{key} is not a key of a {kind} distribution; "
                f"allowed: {', '.join(sorted(allowed))}" + suggest(str(key), sorted(allowed))
            )
    if declared is not None:   # the range declared in model/parameters.yaml, unless narrowed
        entry = {"min": declared[0], "max": declared[1], **entry}
    for key in ("min", "max", *required):
        if key not in entry:
            raise UncertaintyError(
                f"{where}: assumptions.{name} lacks '{key}'; a {kind} distribution needs "
                f"min, max{''.join(', ' + r for r in required)}"
            )
    lo = _number(where, f"assumptions.{name}.min", entry["min"])
    hi = _number(where, f"assumptions.{name}.max", entry["max"])
    if not lo < hi:
        raise UncertaintyError(
            f"{where}: assumptions.{name} has min {lo} >= max {hi}; allowed: min < max"
        )
    params = {k: _number(where, f"assumptions.{name}.{k}", entry[k]) for k in required}
    dist = Distribution(kind, lo, hi, params)
    if kind == "triangular" and not lo <= params["mode"] <= hi:
        raise UncertaintyError(
            f"{where}: assumptions.{name}.mode is {params['mode']}; allowed: within [{lo}, {hi}]"
        )
    for key in ("sd", "sigma"):
        if key in params and params[key] <= 0:
            raise UncertaintyError(
                f"{where}: assumptions.{name}.{key} is {params[key]}; allowed: a positive number"
            )
    if kind == "lognormal":
        if lo < 0:
            raise UncertaintyError(
                f"{where}: assumptions.{name}.min is {lo}; allowed for lognormal: >= 0"
            )
        if params["median"] <= 0:
            raise UncertaintyError(
                f"{where}: assumptions.{name}.median is {params['median']}; allowed: > 0"
            )
    grade = entry.get("confidence")
    grade = _CONFIDENCE_ALIASES.get(str(grade).lower(), grade) if grade is not None else None
    if grade not in CONFIDENCE_GRADES:
        raise UncertaintyError(
            f"{where}: assumptions.{name}.confidence is {entry.get('confidence')!r}; allowed: "
            "A (high), B (medium), C (low)"
        )
    source = entry.get("source")
    if source is None and variable is not None:   # the .mdl comment is the one free text
        source = f"the .mdl comment of '{variable}'"
    if not isinstance(source, str) or not source.strip():
        raise UncertaintyError(
            f"{where}: assumptions.{name}.source is {source!r}; allowed: a non-empty text saying "
            "where the range comes from (or none, citing the .mdl comment of an assumption "
            "declared in model/parameters.yaml)"
        )
    return UncertainAssumption(name, dist, source.strip(), grade)


def parse_uncertainty(
    data: Any, *, path: str = "<dict>", parameters: Any = None,
) -> UncertaintySpec:
    """Validate a parsed uncertainty document and return the :class:`UncertaintySpec`.

    ``parameters`` (a :class:`sim.model.declarations.parameters.Parameters`, or any object with an
    ``assumptions`` mapping id -> object with ``min``/``max``) supplies each assumption's range
    (an entry without ``min``/``max`` takes the declared one) and enables the cross-checks:
    every id must be a declared assumption and its bounds must lie inside the declared range.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("assumptions"), Mapping):
        raise UncertaintyError(f"{path}: top level must be a mapping with key 'assumptions'")
    for key in data:
        if key not in ("assumptions", "confidence_grades", "ensemble"):
            raise UncertaintyError(
                f"{path}: unknown top-level key '{key}'; allowed: assumptions, "
                "confidence_grades, ensemble (read by sim.analysis.ensembles.conditioning_settings)"
            )
    declared = getattr(parameters, "assumptions", None) if parameters is not None else None
    items: dict[str, UncertainAssumption] = {}
    for name, entry in data["assumptions"].items():
        name = str(name)
        if declared is not None and name not in declared:
            raise UncertaintyError(
                f"{path}: assumptions.{name} is not an assumption in model/parameters.yaml"
                + suggest(name, list(declared))
                + f"; allowed: {', '.join(declared)}"
            )
        decl = declared[name] if declared is not None else None
        item = _parse_entry(path, name, entry,
                            None if decl is None else (float(decl.min), float(decl.max)),
                            getattr(decl, "variable", None))
        if decl is not None:
            d = item.distribution
            if d.lower < float(decl.min) or d.upper > float(decl.max):
                raise UncertaintyError(
                    f"{path}: assumptions.{name} bounds [{d.lower}, {d.upper}] leave the range "
                    f"declared in model/parameters.yaml; allowed: within [{decl.min}, {decl.max}]"
                )
        items[name] = item
    if not items:
        raise UncertaintyError(f"{path}: 'assumptions' is empty; list at least one")
    return UncertaintySpec(items, path)


def load_uncertainty(path: str | Path | None = None, *, parameters: Any = "auto") -> UncertaintySpec:
    """Read and validate ``scenarios/uncertainty.yaml`` (or ``path``).

    ``parameters="auto"`` loads ``model/parameters.yaml`` for the cross-checks; pass ``None`` to
    skip them or a ``Parameters`` object to use that one.
    """
    path, data = read_uncertainty_file(path)
    if isinstance(parameters, str) and parameters == "auto":
        # lazy: pulls 6 sim modules (31 ms)
        from sim.model.declarations.parameters import load_parameters

        parameters = load_parameters()
    return parse_uncertainty(data, path=str(path), parameters=parameters)
