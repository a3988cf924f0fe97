"""Sensitivity of the plan's outcomes: one module per method, found through a registry.

- :mod:`.base`: the :class:`Method` interface, :data:`REGISTRY` and :func:`register`;
- :mod:`.morris`, :mod:`.sobol` (design methods), :mod:`.given_data` (first-order indices
  from any sample), :mod:`.shapley` (attribution of a scenario difference to lever groups);
- :mod:`.core`: outcomes analysed, indices of every outcome and per year, the tornado table;
- :mod:`.study`: a whole study of one scenario (:func:`compute_indices`).

Adding a method is one new module here, a :class:`Method` subclass decorated with
:func:`register`: every module of this package is imported below, which registers it.
"""

import importlib
import pkgutil

from sim.analysis.sensitivity.base import (
    KINDS,
    REGISTRY,
    Indices,
    Method,
    cli_methods,
    get_method,
    is_constant,
    register,
)
from sim.analysis.sensitivity.core import (
    PARALLEL_MIN,
    analyse_outputs,
    outputs_at_year,
    per_year_indices,
    tornado_table,
)
from sim.analysis.sensitivity.given_data import given_data_first_order
from sim.analysis.sensitivity.morris import morris_indices
from sim.analysis.sensitivity.sobol import SobolResult, sobol_indices
from sim.analysis.sensitivity.study import MARGINALS, compute_indices, regenerate_design

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

#: the design methods (analysed by :func:`analyse_outputs`)
METHODS = tuple(k for k, m in REGISTRY.items() if m.kind == "design")

__all__ = ["KINDS", "MARGINALS", "METHODS", "PARALLEL_MIN", "REGISTRY", "Indices", "Method", "SobolResult",
           "analyse_outputs", "cli_methods", "compute_indices", "get_method",
           "given_data_first_order", "is_constant", "morris_indices", "outputs_at_year",
           "per_year_indices", "regenerate_design", "register", "sobol_indices",
           "tornado_table"]
