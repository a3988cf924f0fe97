"""The kernels' machine code on disk, kept so that nothing planted there runs.

A generated kernel module (:mod:`sim.engine.kernel_codegen`) is compiled by Python from its
text in memory and executed as a fresh module: no ``.py`` or ``.pyc`` is ever imported from a
cache folder. numba compiles its functions once and keeps the machine code in
``<cache root>/kernels/`` (:mod:`sim.model.diskcache`: the user's own folder, mode 0700) in
its own index (``.nbi``) and data (``.nbc``) files, both pickles. Here every such file is
written with this user's HMAC (:func:`sim.model.diskcache.sign`) and unpickled only when the
MAC of the bytes just read is valid, so a file planted or swapped in is a miss: the kernel is
compiled again and the file replaced. The helpers of :mod:`sim.engine.kernel_helpers` get the
same cache (``kernels/helpers/``), so nothing is written inside the installed package.
``PLANSIM_CACHE=off``, an unsafe or unwritable cache leave the kernels uncached (compiled in
each process), with one notice, and never stop a command.

This plugs into numba's cache classes (``numba.core.caching``): :class:`SignedCache` replaces
the dispatcher's ``_cache`` (numba's own ``cache=True`` is never used).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import linecache
import pickle
import sys
import types
from pathlib import Path

from numba.core.caching import (
    CompileResultCacheImpl,
    FunctionCache,
    IndexDataCacheFile,
    _CacheLocator,
)

from sim.model import diskcache

_LOADED: dict[str, tuple] = {}
_HELPERS: list = []


def folder(sub: str = "") -> Path | None:
    """``<cache root>/kernels`` (or a folder in it), created private; None when uncached."""
    root = diskcache.cache_root()
    if root is None:
        return None
    path = root / "kernels"
    if not diskcache.private_dir(path):
        return None
    if sub and not diskcache.private_dir(path / sub):
        return None
    return path / sub if sub else path


class _Locator(_CacheLocator):
    """Where numba keeps one function's files: a folder of the cache root; the "source stamp"
    is the hash of the module's text (not a file's time: there is no file)."""

    def __init__(self, where: Path, stamp: str, lineno: int):
        self._where = where
        self._stamp = stamp
        self._lineno = lineno

    def ensure_cache_path(self):
        if not diskcache.private_dir(self._where):
            raise PermissionError(f"cache folder '{self._where}' refused")

    def get_cache_path(self):
        return str(self._where)

    def get_source_stamp(self):
        return self._stamp

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        return None   # never chosen by numba's own search


class _Impl(CompileResultCacheImpl):
    def __init__(self, py_func, where: Path, stamp: str, modname: str):  # no locator search
        self._lineno = py_func.__code__.co_firstlineno
        self._locator = _Locator(where, stamp, self._lineno)
        self._filename_base = self.get_filename_base(
            f"{modname}.{py_func.__qualname__}", getattr(sys, "abiflags", ""))


class _SignedFile(IndexDataCacheFile):
    """numba's index and data files, each signed; unpickled only when the MAC verifies."""

    def _load_index(self):
        blob = diskcache.read_bytes(Path(self._index_path))
        if blob is None:
            return {}
        fh = io.BytesIO(blob)
        if pickle.load(fh) != self._version:
            return {}
        stamp, overloads = pickle.loads(fh.read())
        return overloads if stamp == self._source_stamp else {}

    def _load_data(self, name):
        blob = diskcache.read_bytes(Path(self._data_path(name)))
        if blob is None:
            raise FileNotFoundError(name)   # numba's load() treats it as a miss
        return pickle.loads(blob)

    @contextlib.contextmanager
    def _open_for_write(self, filepath):
        buf = io.BytesIO()
        yield buf
        diskcache.write_bytes(Path(filepath), buf.getvalue())   # a failure: one notice


class SignedCache(FunctionCache):
    """numba's per-function cache in ``where``, with signed files; any error reading is a
    miss and any error writing leaves the function uncached."""

    def __init__(self, py_func, where: Path, stamp: str, modname: str):
        self._impl_class = functools.partial(_Impl, where=where, stamp=stamp, modname=modname)
        super().__init__(py_func)
        self._cache_file = _SignedFile(self._cache_path, self._impl.filename_base, stamp)

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception:  # noqa: BLE001 - a signed file from another numba: compile again
            return None

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except OSError as exc:
            diskcache.write_failed(Path(self._cache_path), exc)
        except Exception:  # noqa: BLE001, S110 - not cachable: it still runs
            pass


def attach(namespace: dict, modname: str, where: Path | None, stamp: str) -> None:
    """Give every numba function defined in module ``modname`` a :class:`SignedCache` in
    ``where`` (nothing when None: compiled in this process only)."""
    if where is None:
        return
    for value in list(namespace.values()):
        py_func = getattr(value, "py_func", None)
        if (py_func is not None and hasattr(value, "_cache")
                and getattr(py_func, "__module__", None) == modname):
            value._cache = SignedCache(py_func, where, stamp, modname.rsplit(".", 1)[-1])


def _helpers() -> None:
    """The helpers' numba cache in ``kernels/helpers`` (once per process)."""
    if _HELPERS:
        return
    import numba

    from sim.engine import kernel_helpers

    _HELPERS.append(True)
    text = Path(kernel_helpers.__file__).read_bytes() + numba.__version__.encode()
    attach(vars(kernel_helpers), kernel_helpers.__name__, folder("helpers"),
           hashlib.sha256(text).hexdigest())


def load(src) -> tuple:
    """The compiled ``(kernel, serial)`` functions of a
    :class:`~sim.engine.kernel_codegen.KernelSource`: its text executed from memory as a new
    module (once per process), numba's machine code read from the signed cache when there."""
    hit = _LOADED.get(src.digest)
    if hit is not None:
        return hit
    _helpers()
    name = f"plansim_kernel_{src.digest[:24]}"
    filename = f"<{name}>"
    linecache.cache[filename] = (len(src.text), None, src.text.splitlines(True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module   # numba finds the module of its functions by name
    exec(compile(src.text, filename, "exec", dont_inherit=True), module.__dict__)  # noqa: S102
    attach(module.__dict__, name, folder(), src.digest)
    hit = _LOADED[src.digest] = (module.kernel, module.serial)
    return hit


__all__ = ["SignedCache", "attach", "folder", "load"]
