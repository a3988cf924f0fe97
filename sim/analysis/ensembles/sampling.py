"""Sample the uncertain assumptions: Latin hypercube, scrambled Sobol, Saltelli and Morris designs.

Every design is drawn in the unit hypercube [0, 1]^D and mapped to assumption values column by
column through the inverse CDF of each assumption's distribution
(:meth:`UncertaintySpec.ppf`). SALib sees only the unit hypercube (its problem dict has bounds
[0, 1]), so Morris elementary effects are per unit of quantile and Sobol indices are unaffected
by the mapping.

Contract in the manner of SALib: problem dict in, ``(N, D)`` array out; :class:`Design` keeps
both the unit sample and the mapped values, in the order of ``spec.names``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import UncertaintyError

if TYPE_CHECKING:   # pandas and SciPy load on use
    import pandas as pd

    from sim.analysis.ensembles.uncertainty_spec import UncertaintySpec

METHODS = ("lhs", "sobol", "saltelli", "morris")
#: quantiles of the low and high values in a one-at-a-time (tornado) design
OAT_QUANTILES = (0.05, 0.95)


@dataclass(frozen=True)
class Design:
    """A sample of the uncertain assumptions.

    ``unit``: (N, D) in [0, 1]; ``values``: (N, D) assumption values; ``names``: the D ids;
    ``method``: one of :data:`METHODS`; ``base_n``: the N asked for (Saltelli/Morris expand it);
    ``second_order``: whether a Saltelli design supports second-order indices;
    ``num_levels``: Morris grid levels.
    """

    unit: np.ndarray
    values: np.ndarray
    names: list[str]
    method: str
    seed: int | None
    base_n: int
    second_order: bool = False
    num_levels: int = 4

    @property
    def n(self) -> int:
        return self.values.shape[0]

    @property
    def problem(self) -> dict:
        """The SALib problem dict of the unit hypercube this design was drawn in."""
        return unit_problem(self.names)

    def overrides(self, rows: slice | np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Per-sample overrides ``{assumption id: array (n,)}`` for the simulator."""
        vals = self.values if rows is None else self.values[rows]
        return {name: np.ascontiguousarray(vals[:, j]) for j, name in enumerate(self.names)}

    def frame(self) -> pd.DataFrame:
        """The values as a DataFrame (index ``sample``, one column per assumption)."""
        import pandas as pd

        return pd.DataFrame(self.values, columns=self.names).rename_axis("sample")


def unit_problem(names: list[str]) -> dict:
    """SALib problem dict of the unit hypercube over ``names``."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def salib_problem(spec: UncertaintySpec) -> dict:
    """SALib problem dict in assumption units: names, num_vars, bounds and SALib ``dists``.

    For display and for users driving SALib directly; our own designs use :func:`unit_problem`.
    """
    dists = {"uniform": "unif", "triangular": "triang", "truncnormal": "truncnorm",
             "lognormal": "lognorm"}
    return {
        "num_vars": spec.dim,
        "names": spec.names,
        "bounds": spec.bounds.tolist(),
        "dists": [dists[a.distribution.kind] for a in spec.items.values()],
    }


def _check_n(n: int, what: str = "samples") -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise UncertaintyError(f"{what} is {n!r}; allowed: a positive integer")
    return int(n)


def check_power_of_two(n: int) -> int:
    """``n`` if it is a positive power of two, else :class:`UncertaintyError`."""
    n = _check_n(n)
    if n & (n - 1):
        lo = 1 << (n.bit_length() - 1)
        raise UncertaintyError(
            f"samples is {n}; a Sobol design needs a power of two (e.g. {lo} or {lo * 2})"
        )
    return n


def _design(spec: UncertaintySpec, unit: np.ndarray, method: str, seed, base_n, **kw) -> Design:
    unit = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
    return Design(unit, spec.ppf(unit), spec.names, method, seed, base_n, **kw)


def latin_hypercube(spec: UncertaintySpec, n: int, *, seed: int | None = None) -> Design:
    """Latin hypercube sample of ``n`` rows (scipy.stats.qmc.LatinHypercube)."""
    n = _check_n(n)
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=spec.dim, rng=np.random.default_rng(seed)).random(n)
    return _design(spec, unit, "lhs", seed, n)


def sobol_sequence(spec: UncertaintySpec, n: int, *, seed: int | None = None) -> Design:
    """Scrambled Sobol quasi-random sample of ``n`` rows; ``n`` must be a power of two."""
    n = check_power_of_two(n)
    from scipy.stats import qmc

    engine = qmc.Sobol(d=spec.dim, scramble=True, rng=np.random.default_rng(seed))
    unit = engine.random_base2(int(np.log2(n)))
    return _design(spec, unit, "sobol", seed, n)


def saltelli(
    spec: UncertaintySpec, n: int, *, second_order: bool = False, seed: int | None = None
) -> Design:
    """Saltelli design for Sobol indices: N*(D+2), or N*(2D+2) rows with ``second_order``;
    ``n`` must be a power of two. The rows of SALib.sample.sobol: a scrambled Sobol' sample
    of 2D columns split into matrices A and B, then for each of the N base rows: A, A with
    column k from B for each k, with ``second_order`` B with column k from A for each k, and
    B. Built with whole-array copies (SALib loops over every element), and the marginals'
    quantile function applied to A and B only (every design value is one of theirs)."""
    from scipy.stats import qmc

    n = check_power_of_two(n)
    d = spec.dim
    base = np.clip(qmc.Sobol(d=2 * d, scramble=True, seed=seed).random(n), 0.0, 1.0)
    a, b = base[:, :d], base[:, d:]
    values = spec.ppf(np.concatenate([a, b]))
    return Design(_saltelli_rows(a, b, second_order), _saltelli_rows(values[:n], values[n:],
                                                                     second_order),
                  spec.names, "saltelli", seed, n, second_order=second_order)


def _saltelli_rows(a: np.ndarray, b: np.ndarray, second_order: bool) -> np.ndarray:
    """The Saltelli rows of base matrices ``a`` and ``b`` (N, D), see :func:`saltelli`."""
    n, d = a.shape
    blocks = 2 * d + 2 if second_order else d + 2
    rows = np.empty((n, blocks, d))
    cols = np.arange(d)
    rows[:, 0] = a
    rows[:, 1:d + 1] = a[:, None, :]
    rows[:, 1 + cols, cols] = b
    if second_order:
        rows[:, d + 1:2 * d + 1] = b[:, None, :]
        rows[:, d + 1 + cols, cols] = a
    rows[:, -1] = b
    return rows.reshape(n * blocks, d)


def morris(
    spec: UncertaintySpec, n: int, *, num_levels: int = 4, seed: int | None = None
) -> Design:
    """Morris design (SALib.sample.morris) with ``n`` trajectories: N*(D+1) rows."""
    from SALib.sample import morris as salib_morris

    n = _check_n(n, "samples (trajectories)")
    if num_levels < 2 or num_levels % 2:
        raise UncertaintyError(f"num_levels is {num_levels}; allowed: an even integer >= 2")
    unit = salib_morris.sample(unit_problem(spec.names), n, num_levels=num_levels, seed=seed)
    return _design(spec, unit, "morris", seed, n, num_levels=num_levels)


def one_at_a_time(spec: UncertaintySpec, *, low: float = OAT_QUANTILES[0],
                  high: float = OAT_QUANTILES[1], center: dict[str, float] | None = None
                  ) -> Design:
    """Tornado design: row 0 has every assumption at its median, or at ``center`` (values by
    assumption id, e.g. those of the central run); rows 2j+1 and 2j+2 move assumption j alone
    to its ``low`` and ``high`` quantile. 2D+1 rows."""
    if not 0 <= low < 0.5 < high <= 1:
        raise UncertaintyError(f"quantiles {low}, {high}; allowed: 0 <= low < 0.5 < high <= 1")
    unit = np.full((2 * spec.dim + 1, spec.dim), 0.5)
    for j in range(spec.dim):
        unit[2 * j + 1, j] = low
        unit[2 * j + 2, j] = high
    design = _design(spec, unit, "oat", None, 1)
    if center is None:
        return design
    missing = [n for n in spec.names if n not in center]
    if missing:
        raise UncertaintyError(f"tornado centre lacks assumptions {missing}")
    values = np.tile([float(center[n]) for n in spec.names], (unit.shape[0], 1))
    moved = np.zeros_like(unit, dtype=bool)
    for j in range(spec.dim):
        moved[2 * j + 1: 2 * j + 3, j] = True
    values[moved] = design.values[moved]
    return Design(np.where(moved, unit, np.nan), values, spec.names, "oat", None, 1)


def sample(spec: UncertaintySpec, n: int, *, method: str = "lhs", seed: int | None = None,
           **kwargs) -> Design:
    """Dispatch to one of :data:`METHODS`."""
    funcs = {"lhs": latin_hypercube, "sobol": sobol_sequence, "saltelli": saltelli,
             "morris": morris}
    if method not in funcs:
        raise UncertaintyError(f"sampling method is {method!r}; allowed: {', '.join(METHODS)}")
    return funcs[method](spec, n, seed=seed, **kwargs)
