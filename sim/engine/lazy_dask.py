"""xarray without ``dask.array`` until dask is used.

xarray asks, on the first Variable it makes, whether the data is a dask array: it imports
``dask.array`` to get the class (about 0.5 s of CPU, in every command, although only an
ensemble on a dask cluster uses dask). No object can be a dask array before ``dask.array`` is
imported, so :func:`defer` puts a stand-in in xarray's cache of duck-array modules: its
``type`` is empty while ``dask.array`` is not imported, and it becomes xarray's own record of
dask as soon as it is (or as soon as anything else of it is asked for). Nothing changes for a
command that uses dask. With an xarray whose cache is not where this expects, nothing is done.
"""

from __future__ import annotations

import sys

_DASK = "dask"


class _Deferred:
    """Stands for xarray's ``DuckArrayModule("dask")`` until it is needed."""

    def __init__(self, pycompat):
        self._pycompat = pycompat

    def _real(self):
        real = self._pycompat.DuckArrayModule(_DASK)
        self._pycompat._cached_duck_array_modules[_DASK] = real
        return real

    @property
    def type(self) -> tuple:
        if "dask.array" not in sys.modules:
            return ()
        return self._real().type

    def __getattr__(self, name: str):   # module, version, available: the real record
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._real(), name)


def defer() -> bool:
    """Install the stand-in (once); True if it is (or was already) in place."""
    try:
        from xarray.namedarray import pycompat

        cache = pycompat._cached_duck_array_modules
        pycompat.DuckArrayModule  # noqa: B018  (the class the stand-in makes when needed)
    except (ImportError, AttributeError):
        return False
    if _DASK not in cache:
        cache[_DASK] = _Deferred(pycompat)
    return isinstance(cache[_DASK], _Deferred) or "dask.array" in sys.modules


__all__ = ["defer"]
