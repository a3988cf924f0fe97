"""The compiled kernel backend: a fused loop over samples and time, compiled with numba.

:mod:`sim.engine.kernel_codegen` wraps the engine's generated step code in a kernel module;
:mod:`sim.engine.kernel_cache` executes its text from memory, and numba compiles it once and
keeps the machine code in the user's cache root (``kernels/``, every file signed with the
user's key), so a later process loads it instead of compiling.

``BatchModel.run(..., backend=...)`` chooses: ``"kernel"`` (this), ``"numpy"`` (the vector
path) or ``None`` (the kernel where it compiles, else the numpy path with one notice per model
and reason on the ``sim.engine`` logger, printed to stderr once).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.engine import BACKENDS, checkpoints
from sim.engine.kernel_codegen import kernel_source
from sim.errors import ModelError, UnsupportedConstructError
from sim.model.cache.diskcache import read, write

#: the batch engine's backends; ``None`` (default) is the first that works, in this order
LOG = logging.getLogger("sim.engine")
#: fewer samples than this run one after another, without waking threads
PARALLEL_MIN = 16
_NOTICED: set[tuple] = set()
_LAUNCH = threading.Lock()
_COMPILING = threading.Lock()
_LAYER: list = []


class KernelSkipped(Exception):  # noqa: N818 (a decision, not an error)
    """The default backend runs these inputs on the numpy path without a notice: a time
    series replaces a variable computed from the stocks (a loop cut, as sim.analysis.diagnostics.loops
    does), a one-off structure not worth compiling for."""


class KernelUnavailable(ModelError):
    """The compiled kernel cannot run this model or these inputs (the numpy path can)."""

    def __init__(self, model, reason):
        super().__init__(f"model '{model}': the compiled kernel cannot run it ({reason}); "
                         f"use the numpy backend")
        self.reason = reason


def check_backend(backend) -> None:
    if backend is not None and backend not in BACKENDS:
        raise ModelError(f"backend: {backend!r} is not allowed; use one of {BACKENDS} "
                         "or None (the kernel where it compiles)")


def cache_dir() -> Path | None:
    """The per-user folder of compiled kernels (``kernels/`` of the cache root of
    :mod:`sim.model.cache.diskcache`), or None when caching is off or refused."""
    # lazy: pulls numba (153 ms)
    from sim.engine.kernel_cache import folder

    return folder()


def notice(model: str, reason: str) -> None:
    """Say once per model and reason that the numpy path runs instead of the kernel."""
    key = (model, reason)
    if key in _NOTICED:
        return
    _NOTICED.add(key)
    line = f"plansim: compiled kernel not used for {model} ({reason}); running the numpy path"
    LOG.info(line)
    if not LOG.hasHandlers() or not LOG.isEnabledFor(logging.INFO):
        print(line, file=sys.stderr)


def load(src) -> tuple:
    """The compiled ``(kernel, serial)`` functions of a kernel source
    (:func:`sim.engine.kernel_cache.load`: executed from memory, machine code in the signed
    cache)."""
    # lazy: pulls numba (153 ms)
    from sim.engine.kernel_cache import load as load_signed

    return load_signed(src)


def compiled(cache: Kernels, info, overrides: dict, outputs: tuple, per_sample: set,
             strict: bool = True):
    """The :class:`Compiled` kernel for a model and the kinds of its inputs (``overrides``:
    var id -> const/series/lookup; ``per_sample``: input keys that vary by sample), kept in
    the model's :class:`Kernels` ``cache`` (a failure too). The returned columns are chosen
    at run time, so ``outputs`` does not select a kernel. Raises :class:`KernelUnavailable`
    when it cannot run them and, unless ``strict``, :class:`KernelSkipped` when a series
    replaces an endogenous variable."""
    if not strict and any(kind == "series" and vid in endogenous(info, cache)
                          for vid, kind in overrides.items()):
        raise KernelSkipped
    tables = frozenset(k for k in per_sample if k.startswith("ly_"))
    fast = (tuple(sorted(overrides.items())), tables)
    hit = cache.get(fast)
    if hit is None:
        # one kernel for any constants given: every unsubscripted constant is an input
        canon = {vid: "const" for vid, v in info.vars.items()
                 if v.kind == "constant" and not v.dims}
        canon.update(overrides)
        key = (tuple(sorted(canon.items())), tables)
        hit = cache.get(key)
    if hit is None:
        with _COMPILING:  # Dask runs chunks in threads: one of them compiles
            hit = cache.get(key)
            if hit is None:
                hit = cache[key] = _compile(info, canon, overrides, tables, key)
    if not isinstance(hit, KernelUnavailable):
        cache[fast] = hit  # the same kernel, found without building its key
    if isinstance(hit, KernelUnavailable):
        raise hit
    if hit.src.uniform and any(k.startswith(("p_", "ts_")) for k in per_sample):
        raise KernelUnavailable(info.path.name, "a DELAY order or time that varies by sample")
    return hit


@dataclass(frozen=True)
class Compiled:
    """A loaded kernel: its cache ``key``, source, compiled functions (parallel, serial),
    model name and the values of the constants the run does not set (the model's own)."""

    key: tuple
    src: object
    fn: object
    model: str
    defaults: dict


class Kernels(dict):
    """The kernels of one model (``BatchModel.kernels``), by the kinds of their inputs (the
    keys :func:`compiled` builds; a kernel that cannot run them is kept as its
    :class:`KernelUnavailable`), and ``endogenous``, the model's endogenous variables once
    :func:`endogenous` has found them."""

    endogenous: frozenset | None = None

    def loaded(self) -> list[Compiled]:
        """Every kernel loaded so far, once each (several keys find the same kernel)."""
        return list({id(v): v for v in self.values() if isinstance(v, Compiled)}.values())


def endogenous(info, cache: Kernels) -> frozenset:
    """Ids of the variables whose equation reads a stock (directly or through others), kept
    in the model's :class:`Kernels` and in its disk-cache entry, so a warm start does not
    parse the .mdl for it."""
    hit = cache.endogenous
    if hit is None:
        target = (Path(info.cache_dir) / "endogenous.pkl"
                  if getattr(info, "cache_dir", None) is not None else None)
        hit = read(target) if target is not None else None
        if not isinstance(hit, frozenset):
            hit = _endogenous(_full(info))
            if target is not None and target.parent.is_dir():
                write(target, hit)
        cache.endogenous = hit
    return hit


def _endogenous(info) -> frozenset:
    # lazy: pulls scipy, pysd (784 ms)
    from sim.engine.compiler import ModelCompiler

    mc = ModelCompiler(info, {}, [], scalar=False)
    with contextlib.suppress(UnsupportedConstructError):  # what compiled is enough
        mc.sections()
    stateful = {st.sid for st in mc.statefuls.values() if st.kind != "initial"}
    refs = {vid: {r for r in rr if r != "@time"} for vid, (_, rr) in mc.code_run.items()}
    out: set = set()
    changed = True
    while changed:
        changed = False
        for vid, rr in refs.items():
            if vid not in out and (rr & stateful or rr & out):
                out.add(vid)
                changed = True
    return frozenset(out)


def _compile(info, canon, overrides, tables, key):
    try:
        import numba  # noqa: F401
    except ImportError:
        return KernelUnavailable(info.path.name, "numba is not installed")
    try:
        src, defaults = _source(info, canon, overrides, tables, key)
        return Compiled(key, src, load(src), info.path.name, defaults)
    except UnsupportedConstructError as exc:
        return KernelUnavailable(info.path.name, _reason(exc))


def _full(info):
    """The model info with its syntax trees (a warm start loads it without them)."""
    return info.full() if hasattr(info, "full") else info


def _source(info, canon, overrides, tables, key):
    """The kernel's source and its constants' defaults: from the model's disk-cache entry
    (:mod:`sim.engine.cache`) when there, so a warm start never parses the .mdl, else
    generated from the full model info (and stored there)."""
    import hashlib

    target = None
    if getattr(info, "cache_dir", None) is not None:
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        target = Path(info.cache_dir) / f"kernel-{digest}.pkl"
        hit = read(target)
        if isinstance(hit, tuple) and len(hit) == 3 and hit[0] == key:
            return hit[1], hit[2]
    # lazy: pulls scipy, pysd (786 ms)
    from sim.engine.compiler import ModelCompiler

    full = _full(info)
    src = kernel_source(ModelCompiler(full, canon, [], scalar=True), tables)
    # every model constant's own value (a run's inputs replace those they give): the same
    # kernel, keyed by the kinds of its inputs only, serves runs that override other constants
    defaults = {f"p_{vid}": float(full.vars[vid].components[0][1])
                for vid, kind in canon.items()
                if kind == "const" and full.vars[vid].kind == "constant" and not full.vars[vid].dims}
    if target is not None and target.parent.is_dir():
        write(target, (key, src, defaults))
    return src, defaults


def _reason(exc: UnsupportedConstructError) -> str:
    return f"{exc.construct} in '{exc.variable}'"


def arguments(src, K: dict, per_sample: set, n: int, defaults=None) -> list:
    """The kernel's input arrays (:class:`sim.engine.kernel_codegen.Layout`) from a run's
    inputs ``K`` (keys ``t0``, ``ctl_*``, ``p_*``, ``ts_*``, ``lx_*``, ``ly_*``) and the
    constants' ``defaults`` (key -> value) for the ``p_*`` keys ``K`` does not give."""
    lay = src.layout
    sc = np.array([float(K[k]) for k in lay.keys["sc"]])
    P, slot, need = _base_constants(src, defaults or {})
    for key in need:  # a constant neither given nor defaulted
        if key not in K:
            raise KeyError(key)
    P = P.copy()
    pidx = np.full(len(P), -1, dtype=np.int64)
    rows = []
    for key, value in K.items():
        j = slot.get(key)
        if j is None:
            continue
        if type(value) is float:  # noqa: E721 (the usual case, without numpy)
            P[j] = value
            continue
        a = np.ravel(np.asarray(value, dtype=float))
        if key in per_sample and a.size > 1:
            pidx[j] = len(rows)
            rows.append(a)
        else:
            P[j] = a[0]
    PS = np.stack(rows) if rows else np.zeros((1, 1))
    ts_keys = lay.keys["ts"]
    n_grid = None
    TS, tidx, srows = [], np.full(len(ts_keys), -1, dtype=np.int64), []
    for j, key in enumerate(ts_keys):
        a = np.asarray(K[key], dtype=float)
        n_grid = a.shape[0]
        if a.ndim == 2 and a.shape[1] > 1:
            tidx[j] = len(srows)
            srows.append(a)
            TS.append(np.zeros(n_grid))
        else:
            TS.append(a.reshape(n_grid))
    TS = np.stack(TS) if TS else np.zeros((1, 1))
    TSS = np.ascontiguousarray(np.stack(srows)) if srows else np.zeros((1, 1, 1))
    LX, LY = np.zeros(max(lay.width, 1)), np.zeros(max(lay.width, 1))
    LYS = np.zeros((n if src.per_sample_tables else 1, max(lay.width, 1)))
    for base, (o, w) in lay.tables.items():
        if base in src.tables or f"{base}_x" in src.tables:
            LX[o:o + w] = src.tables[f"{base}_x"]
            LY[o:o + w] = src.tables[f"{base}_y"]
            continue
        LX[o:o + w] = np.asarray(K[f"lx_{base}"], dtype=float)
        y = np.asarray(K[f"ly_{base}"], dtype=float)
        if f"ly_{base}" in src.per_sample_tables:
            LYS[:, o:o + w] = y.reshape(-1, w)
        else:
            LY[o:o + w] = y.reshape(-1, w)[0]
    return [sc, P, PS, pidx, TS, TSS, tidx, LX, LY, LYS]


_BASES: dict = {}
_COLUMNS: dict = {}  # (kernel digest, output ids) -> their indices in the kernel's columns


def _base_constants(src, defaults: dict) -> tuple[np.ndarray, dict, list]:
    """``P`` filled with ``defaults`` (0 where there is none), key -> index in ``P`` and the
    keys without a default (a run must give them), built once per kernel source and
    defaults."""
    key = (src.digest, id(defaults))
    hit = _BASES.get(key)
    if hit is None or hit[0] is not defaults:
        p_keys = src.layout.keys["p"]
        base = np.array([float(defaults.get(k, 0.0)) for k in p_keys], dtype=float)
        if len(_BASES) > 64:
            _BASES.clear()
        hit = _BASES[key] = (defaults, base, {k: j for j, k in enumerate(p_keys)},
                             [k for k in p_keys if k not in defaults])
    return hit[1], hit[2], hit[3]


def run(cache, entry: Compiled, K, per_sample, grid, acc, end, counts, outputs, rate, n,
        n_rows, chunk_size=None, progress=False, wait=True) -> np.ndarray:
    """Run samples ``0..n-1`` for the variable ids ``outputs`` (``rate``: averaged or not,
    each): returns ``(n_outputs, n, n_rows)``. A failure to compile (numba's typing) is
    remembered in ``cache``; any error is :class:`KernelUnavailable`. Unless ``wait``, a
    kernel being compiled in the background (:func:`sim.engine.kernel_cache.ready`) raises
    :class:`KernelSkipped` (the numpy path runs meanwhile)."""
    try:
        return _run(entry, K, per_sample, grid, acc, end, counts, outputs, rate, n, n_rows,
                    chunk_size, progress, wait)
    except KernelSkipped:
        raise
    except Exception as exc:  # the numpy path decides what is wrong, or gives the answer
        from numba.core.errors import NumbaError

        reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:160]}" \
            if str(exc).strip() else type(exc).__name__
        failed = KernelUnavailable(entry.model, reason)
        if isinstance(exc, NumbaError):
            for k in [k for k, v in cache.items() if v is entry]:
                cache[k] = failed
            cache[entry.key] = failed
        raise failed from exc


def _run(entry, K, per_sample, grid, acc, end, counts, outputs, rate, n, n_rows, chunk_size,
         progress, wait):
    parallel, serial = entry.fn
    args = arguments(entry.src, K, per_sample, n, entry.defaults)
    cols = _COLUMNS.get((entry.src.digest, outputs))
    if cols is None:
        if len(_COLUMNS) > 256:
            _COLUMNS.clear()
        cols = _COLUMNS[(entry.src.digest, outputs)] = np.array(
            [entry.src.columns[vid] for vid in outputs], dtype=np.int64)
    out = np.zeros((len(rate), n, n_rows))
    grid = np.ascontiguousarray(grid, dtype=float)
    acc = np.ascontiguousarray(acc, dtype=np.int64)
    end = np.ascontiguousarray(end, dtype=np.int64)
    counts = np.ascontiguousarray(counts, dtype=float)
    rate = np.ascontiguousarray(rate, dtype=np.bool_)
    step = n if not chunk_size else max(1, int(chunk_size))
    starts = range(0, n, step)
    resume = checkpoints.plan(entry.src, args, grid, acc, end, counts, rate, cols, n)
    if not wait:
        # lazy: pulls numba (153 ms)
        from sim.engine.kernel_cache import ready

        needed = {min(step, n - lo) < PARALLEL_MIN for lo in starts}
        fns = [f for f, small in ((serial, True), (parallel, False)) if small in needed]
        if not ready(fns, [0, n, grid, acc, end, counts, rate, cols, out, *resume.args, *args],
                     {"digest": entry.src.digest, "source": entry.src}):
            raise KernelSkipped
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="samples", unit="chunk")
    for lo in starts:
        hi = min(n, lo + step)
        if hi - lo < PARALLEL_MIN:
            serial(lo, hi, grid, acc, end, counts, rate, cols, out, *resume.args, *args)
            continue
        _threading_layer()
        with _LAUNCH:  # one parallel launch at a time (Dask runs chunks in threads)
            parallel(lo, hi, grid, acc, end, counts, rate, cols, out, *resume.args, *args)
    checkpoints.finish(resume, out, end)
    return out


def _threading_layer() -> None:
    """numba's "workqueue" threads unless the user chose a layer: no spinning threads (on a
    busy machine OpenMP's wait costs more than a small run), always available; parallel
    launches are serialised by a lock, which that layer needs."""
    import numba

    if "NUMBA_THREADING_LAYER" not in os.environ and not _LAYER:
        numba.config.THREADING_LAYER = "workqueue"
    _LAYER.append(True)


__all__ = ["BACKENDS", "Compiled", "KernelSkipped", "KernelUnavailable", "Kernels", "cache_dir",
           "check_backend", "compiled", "endogenous", "load", "notice", "run"]
