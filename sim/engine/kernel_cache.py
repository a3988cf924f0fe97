"""The kernels' machine code on disk, kept so that nothing planted there runs.

A generated kernel module (:mod:`sim.engine.kernel_codegen`) is compiled by Python from its
text in memory and executed as a fresh module: no ``.py`` or ``.pyc`` is ever imported from a
cache folder. numba compiles its functions once and keeps the machine code in
``<cache root>/kernels/`` (:mod:`sim.model.cache.diskcache`: the user's own folder, mode 0700) in
its own index (``.nbi``) and data (``.nbc``) files, both pickles. Here every such file is
written with this user's HMAC (:func:`sim.model.cache.diskcache.sign`) and unpickled only when the
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
import os
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

from sim.engine import BACKGROUND_COMPILE
from sim.model.cache import diskcache

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
    # lazy: pulls kernel_helpers, its numba functions (25 ms), only once a kernel loads
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
    name = _module_name(src)
    filename = f"<{name}>"
    linecache.cache[filename] = (len(src.text), None, src.text.splitlines(True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module   # numba finds the module of its functions by name
    exec(compile(src.text, filename, "exec", dont_inherit=True), module.__dict__)  # noqa: S102
    attach(module.__dict__, name, folder(), src.digest)
    hit = _LOADED[src.digest] = (module.kernel, module.serial)
    return hit


def unload(src) -> None:
    """Forget the module of ``src`` loaded in this process: the next :func:`load` executes its
    text again and reads numba's machine code from the cache, as a new process does."""
    _LOADED.pop(src.digest, None)
    sys.modules.pop(_module_name(src), None)


def _module_name(src) -> str:
    return f"plansim_kernel_{src.digest[:24]}"


_PENDING: dict[str, object] = {}


def background(digest: str):
    """The background process :func:`ready` started in this process to compile the kernel
    ``digest`` (a ``subprocess.Popen``), or None."""
    return _PENDING.get(digest)


def ready(fns, args: list, job: dict) -> bool:
    """Whether the numba functions ``fns`` can run ``args`` without compiling here (compiled
    in this process, or in the signed cache). With :data:`sim.engine.BACKGROUND_COMPILE` on
    and not ready, a background process compiles them into the cache (one at a time per
    kernel) and this returns False; off, it returns True (compiled here, as numba does)."""
    if not BACKGROUND_COMPILE["on"] or all(f.signatures for f in fns):
        return True
    digest = job["digest"]
    proc = _PENDING.get(digest)
    if proc is not None and proc.poll() is None:
        return False
    import numba

    sig = tuple(numba.typeof(a) for a in args)
    if all(f.signatures or _in_cache(f, sig) for f in fns):
        return True
    if _compiling(digest):
        return False      # another command's background process is at it
    if proc is not None or _failed(digest):
        return True       # it did not make it: compiled here (which says why if it fails)
    proc = _PENDING[digest] = _start(job, sig)
    if proc is None:
        return True
    diskcache.notice("the compiled kernel is being built in the background; until it is "
                     "ready, runs take the numpy path (the same results, slower), and any run "
                     "after that, in this command or the next, uses the kernel")
    return False


def _compiling(digest: str) -> bool:
    """Whether a background process holds the compile lock of this kernel."""
    where = folder()
    if where is None:
        return False
    try:
        fd = os.open(where / f"job-{digest[:24]}.lock", os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def _in_cache(fn, sig) -> bool:
    cache = getattr(fn, "_cache", None)
    if not isinstance(cache, SignedCache):
        return False
    try:
        key = cache._index_key(sig, fn.targetctx.codegen())
        return key in cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 - unreadable: not there
        return False


def _failed(digest: str) -> bool:
    where = folder()
    return where is not None and (where / f"failed-{digest[:24]}").exists()


def _start(job: dict, sig: tuple):
    """Write the job (signed) and start ``python -m sim.engine.kernel_warm`` on it, detached
    (its own session, no terminal); None when there is no cache to compile into."""
    import subprocess

    where = folder()
    if where is None:
        return None
    path = where / f"job-{job['digest'][:24]}.pkl"
    if not diskcache.write(path, {**job, "sig": sig}):
        return None
    package = str(Path(__file__).resolve().parent.parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [package, *filter(None, [os.environ.get("PYTHONPATH")])])}
    try:
        return subprocess.Popen([sys.executable, "-m", "sim.engine.kernel_warm", str(path)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env, cwd=package,
                                start_new_session=True, close_fds=True)
    except OSError:
        return None


def run_job(path: Path) -> int:
    """Compile the kernel a :func:`ready` job names into the cache (in the background
    process); a kernel that fails to compile is marked, so no command starts it again."""
    job = diskcache.read(path)
    if not isinstance(job, dict):
        return 1
    where = path.parent
    lock = where / f"job-{job['digest'][:24]}.lock"
    import fcntl

    fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return 0   # another process compiles it
    try:
        with contextlib.suppress(OSError):
            os.nice(5)            # the command the user waits for comes first
        fns = load(job["source"])
        for fn in reversed(fns):  # serial first: what a command of a few runs needs
            fn.compile(job["sig"])
    except Exception:  # noqa: BLE001 - the command that needs it says why
        (where / f"failed-{job['digest'][:24]}").touch()
        return 1
    finally:
        path.unlink(missing_ok=True)
        lock.unlink(missing_ok=True)
        os.close(fd)
    return 0


__all__ = ["SignedCache", "attach", "background", "folder", "load", "ready", "run_job",
           "unload"]
