"""xarray without ``dask.array`` until dask is used: a setting of the process, made once by
``import sim`` (:func:`install`), which every command, notebook and worker process does first.

xarray asks, on the first Variable it makes, whether the data is a dask array: it imports
``dask.array`` to get the class (about 0.5 s of CPU, in every command, although only an
ensemble on a dask cluster uses dask). No object can be a dask array before ``dask.array`` is
imported, so :func:`defer` puts a stand-in in xarray's cache of duck-array modules: its
``type`` is empty while ``dask.array`` is not imported, and it becomes xarray's own record of
dask as soon as it is (or as soon as anything else of it is asked for). Nothing changes for a
command that uses dask. With an xarray whose cache is not where this expects, nothing is done.

``import sim`` must not import xarray (``plansim --help`` loads no pandas or xarray), so
:func:`install` defers at once only when xarray's cache module is already imported; otherwise
it asks the import system to call :func:`defer` right after that module is executed, before
xarray can make any Variable.
"""

from __future__ import annotations

import sys

_DASK = "dask"
_CACHE_MODULE = "xarray.namedarray.pycompat"   # holds xarray's cache of duck-array modules


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


class _ThenDefer:
    """The loader of xarray's cache module, which calls :func:`defer` once it has run."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        defer()

    def __getattr__(self, name: str):   # get_source, get_filename, ...: the real loader's
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._loader, name)


class _OnImport:
    """A finder on ``sys.meta_path`` that finds nothing itself: the spec of xarray's cache
    module is the other finders', with its loader wrapped by :class:`_ThenDefer`. It leaves
    ``sys.meta_path`` once it has been asked for that module."""

    def find_spec(self, name: str, path=None, target=None):
        if name != _CACHE_MODULE:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _ThenDefer(spec.loader)
                return spec
        return None


def install() -> None:
    """Defer now if xarray's cache module is imported, else right after it is (once)."""
    if _CACHE_MODULE in sys.modules:
        defer()
    elif not any(isinstance(f, _OnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _OnImport())


__all__ = ["defer", "install"]
