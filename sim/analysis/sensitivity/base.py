"""The one interface every sensitivity method shares, and the registry that finds them.

A method is a :class:`Method` subclass in its own module of this package, registered with
:func:`register`; ``plansim sensitivity --method`` offers the registered names
(:func:`cli_methods`). Three kinds:

- ``"design"`` (Morris, Sobol): draw a design over the uncertain assumptions (:meth:`Method.design`),
  analyse one output on it (:meth:`Method.analyse`), and give the per-year measure
  (:meth:`Method.per_year`). :func:`analyse_outputs` and :func:`per_year_indices` run any of them.
- ``"given_data"`` (RBD-FAST / EASI): first-order indices from any sample
  (:meth:`Method.analyse_sample`), used on the history-matched ensemble itself.
- ``"attribution"`` (Shapley): splits a scenario difference among lever groups
  (:meth:`Method.attribute`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, NamedTuple

import numpy as np
import pandas as pd

from sim.errors import UncertaintyError

if TYPE_CHECKING:
    from sim.analysis.ensembles.sampling import Design
    from sim.analysis.ensembles.uncertainty_spec import UncertaintySpec

KINDS = ("design", "given_data", "attribution")


class Indices(NamedTuple):
    """``indices``: DataFrame (parameter x index columns); ``second_order``: DataFrame
    (pairs x S2, S2_conf) or None."""

    indices: pd.DataFrame
    second_order: pd.DataFrame | None


class Method:
    """One sensitivity method. Subclasses set the class attributes and the methods of their kind.

    ``name``: the registry key and ``--method`` choice; ``kind``: one of :data:`KINDS`;
    ``design_method``: the :class:`~sim.analysis.ensembles.sampling.Design` method it analyses;
    ``main_index``: the column ranked in charts and printed; ``default_samples``: the design
    size when none is given; ``per_year_label``/``index_label``: axis labels by language,
    ``per_year_measure``: what :meth:`per_year` gives;
    ``parallel``: analyse outputs in processes when the design is large.
    """

    name: ClassVar[str]
    kind: ClassVar[str] = "design"
    help: ClassVar[str] = ""
    design_method: ClassVar[str] = ""
    main_index: ClassVar[str] = ""
    default_samples: ClassVar[int] = 0
    per_year_label: ClassVar[Mapping[str, str]] = {}
    per_year_measure: ClassVar[str] = ""
    index_label: ClassVar[Mapping[str, str]] = {}
    parallel: ClassVar[bool] = False

    def runs_per_sample(self, dim: int, *, second_order: bool = False) -> int:
        """Model runs per unit of ``samples`` for ``dim`` assumptions (memory estimate)."""
        raise NotImplementedError(f"{self.name} draws no design")

    def check_samples(self, samples: int) -> int:
        """Reject a design size this method cannot use, before any work."""
        return samples

    def design(self, spec: UncertaintySpec, samples: int, *, seed: int | None,
               second_order: bool = False) -> Design:
        raise NotImplementedError(f"{self.name} draws no design")

    def analyse(self, design: Design, y: np.ndarray, *, num_resamples: int, conf_level: float,
                seed: int | None) -> Indices:
        raise NotImplementedError(f"{self.name} does not analyse a design")

    def per_year(self, indices: pd.DataFrame) -> pd.Series:
        """The per-year measure from one year's indices (default: the main index)."""
        return indices[self.main_index]

    def per_year_many(self, design: Design, ys: np.ndarray, *, num_resamples: int = 100,
                      seed: int | None = None) -> np.ndarray:
        """The per-year measure of each row of ``ys`` (years, n): array (years, parameters).
        Default: :meth:`analyse` and :meth:`per_year` row by row; a method may do all at once."""
        return np.array([self.per_year(self.analyse(design, row, num_resamples=num_resamples,
                                                    seed=seed).indices).to_numpy(dtype=float)
                         for row in np.asarray(ys, dtype=float)])

    def check(self, design: Design, y: np.ndarray) -> np.ndarray:
        """``y`` as a float vector of the design's length; named errors otherwise."""
        if design.method != self.design_method:
            raise UncertaintyError(f"{self.name} indices need a '{self.design_method}' design; "
                                   f"this one is '{design.method}'")
        y = np.asarray(y, dtype=float).ravel()
        if y.shape[0] != design.n:
            raise UncertaintyError(f"output has {y.shape[0]} values; the design has "
                                   f"{design.n} rows")
        if np.isnan(y).any():
            raise UncertaintyError(f"output has {int(np.isnan(y).sum())} NaN values; "
                                   "sensitivity indices need every run to finish")
        return y


REGISTRY: dict[str, Method] = {}


def register(cls: type[Method]) -> type[Method]:
    """Class decorator: add one instance of ``cls`` to :data:`REGISTRY` under ``cls.name``."""
    if cls.kind not in KINDS:
        raise UncertaintyError(f"sensitivity method {cls.name}: kind is {cls.kind!r}; "
                               f"allowed: {', '.join(KINDS)}")
    if cls.name in REGISTRY:
        raise UncertaintyError(f"sensitivity method {cls.name!r} is registered twice")
    REGISTRY[cls.name] = cls()
    return cls


def get_method(name: str, kinds: tuple[str, ...] = KINDS) -> Method:
    """The registered method ``name`` of one of ``kinds``; a named error otherwise."""
    allowed = [k for k, m in REGISTRY.items() if m.kind in kinds]
    if name not in allowed:
        raise UncertaintyError(f"method is {name!r}; allowed: {', '.join(allowed)}")
    return REGISTRY[name]


def cli_methods() -> tuple[str, ...]:
    """The names a study can be run with: design methods, then attribution methods."""
    return tuple(k for kind in ("design", "attribution")
                 for k, m in REGISTRY.items() if m.kind == kind)


def is_constant(y: np.ndarray) -> bool:
    """True when ``y`` does not vary (all its indices are then 0)."""
    return bool(np.ptp(y) <= 1e-12 * max(1.0, float(np.abs(y).max())))

