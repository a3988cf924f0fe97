"""Batch simulation engine: compiles PySD's abstract model into vectorized numpy code.

``compile_model(path, data_files=None) -> BatchModel``; ``BatchModel.run(...) -> xr.Dataset``
with dims ``("sample", "time", *subscript ranges)`` (see ARCHITECTURE.md, "Engine contract").
``BatchModel`` and ``VariableInfo`` are loaded on first use, so that importing the package (for
:data:`ENGINES`, e.g. by the command line's parser) imports no NumPy, pandas or xarray.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.engine.batch import BatchModel, VariableInfo

#: the two backends of the batch engine (sim.engine.kernel): the compiled numba kernel and the
#: numpy path
BACKENDS = ("kernel", "numpy")
#: the engines a simulation can run on: "batch" (the compiled kernel where it runs, else the
#: numpy path), one backend of the batch engine only, or PySD itself (to cross-check)
ENGINES = ("batch", *BACKENDS, "pysd")
#: the command line turns this on (unless ``PLANSIM_BACKGROUND_COMPILE=off``): a kernel not in
#: the cache yet is compiled by a background process; until it is there, runs take the numpy
#: path, and each run after that (in this command or the next) uses the kernel
#: (:func:`sim.engine.kernel_cache.ready`); off, it is compiled in-process
BACKGROUND_COMPILE = {"on": False}


def compile_model(path, data_files=None) -> BatchModel:
    """Parse ``path`` (a Vensim .mdl) and compile it. ``data_files``: path or list of paths
    (relative to the model's directory) for data variables. Raises ``ModelError`` /
    ``UnsupportedConstructError``. The parsed model and its generated code are cached on disk
    (:mod:`sim.engine.cache`), so a second process starts without parsing."""
    # lazy: pulls xarray (320 ms); breaks the cycle engine <-> engine.batch
    from sim.engine.batch import BatchModel
    from sim.engine.cache import load_info

    return BatchModel(load_info(path), Path(path), data_files)


def __getattr__(name: str):
    if name in ("BatchModel", "VariableInfo"):
        # lazy: pulls xarray (320 ms); breaks the cycle engine <-> engine.batch
        from sim.engine import batch

        return getattr(batch, name)
    raise AttributeError(f"module 'sim.engine' has no attribute {name!r}")


__all__ = ["BACKENDS", "BACKGROUND_COMPILE", "ENGINES", "BatchModel", "VariableInfo",
           "compile_model"]
