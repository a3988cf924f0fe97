"""Shared-prefix reuse: a kernel run resumes from the stored state of an earlier run whose inputs
were the same, bit for bit, up to a checkpoint.

Most runs of one command share their inputs up to the plan's start: the what-it-takes search,
the explorer's band and compare/uncertainty scenarios over the same draws change levers from
2024 on only. A run of the compiled kernel (:mod:`sim.engine.kernel`) captures, at each row
boundary of its grid (at most :data:`MAX_CAPS` of them), every sample's state: its float slots
(stocks, SMOOTH and DELAY stages; a kernel with other state never resumes, see
:data:`sim.engine.kernel_codegen.SCALAR_STATE`) and the running sums of its averaged columns. A
later run is matched on everything that does not vary in time, compared byte for byte (the
kernel, the number of samples, the grid and its rows, the requested columns, the controls,
every constant and per-sample value, the lookup tables), then the step ``d`` where its time
series first differ from the stored run's (bit patterns compared, so ``-0.0`` and NaN count as
values) is found; it starts at the latest checkpoint ``c <= d`` from the stored state, and the
rows written before ``c`` are copied from the stored run. Every step before ``c`` read the same
inputs from the same state, so every number is the one a full run gives (tests compare
bitwise).

The store is in memory, per process, bounded: at most :data:`MAX_ENTRIES` runs and
:data:`MAX_BYTES` bytes, the least recently used dropped first. A run that resumed is not
stored again (the entry it used is kept fresh). ``PLANSIM_CHECKPOINTS=off`` turns it off.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

#: runs kept at most (the least recently used is dropped first)
MAX_ENTRIES = 8
#: bytes kept at most (states, the rows before the last checkpoint, the inputs compared)
MAX_BYTES = 256 * 2**20
#: checkpoints per run at most (row boundaries, evenly thinned beyond this)
MAX_CAPS = 64
_NO_CAPS = np.zeros(0, dtype=np.int64)
_NO_STATE = np.zeros((1, 1))
_NO_STORE = np.zeros((1, 1, 1))


@dataclass
class Entry:
    """One stored run: its time-invariant inputs (``fixed``, bytes), time series (copies),
    checkpoint steps, states ``(n_caps, n_state, n)`` and its first rows (those written
    before the last checkpoint)."""

    fixed: bytes
    TS: np.ndarray
    TSS: np.ndarray
    caps: np.ndarray
    ST: np.ndarray
    out: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))

    @property
    def nbytes(self) -> int:
        return len(self.fixed) + sum(a.nbytes for a in (self.TS, self.TSS, self.ST, self.out))


class Store:
    """A bounded least-recently-used store of :class:`Entry` (thread safe)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[bytes, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: bytes, fixed: bytes) -> Entry | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit.fixed != fixed:  # the digest says where; the bytes decide
                return None
            self._items.move_to_end(key)
            return hit

    def put(self, key: bytes, entry: Entry) -> None:
        with self._lock:
            self._items.pop(key, None)
            if entry.nbytes > self.max_bytes:
                return
            self._items[key] = entry
            while (len(self._items) > self.max_entries
                   or sum(e.nbytes for e in self._items.values()) > self.max_bytes):
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


#: this process's store
STORE = Store()


def enabled() -> bool:
    return os.environ.get("PLANSIM_CHECKPOINTS", "on").lower() != "off"


@dataclass
class Plan:
    """How one kernel call runs: from step ``i0`` with state ``R``, capturing at ``caps``
    into ``ST``; ``rows`` rows copied from ``source`` (a resume) or an entry to store after
    the run (``key``/``entry``, a full run)."""

    i0: int = 0
    R: np.ndarray = field(default_factory=lambda: _NO_STATE)  # never written: shared
    caps: np.ndarray = field(default_factory=lambda: _NO_CAPS)
    ST: np.ndarray = field(default_factory=lambda: _NO_STORE)
    rows: int = 0
    source: Entry | None = None
    key: bytes | None = None
    entry: Entry | None = None
    store: Store | None = None

    @property
    def args(self) -> list:
        return [self.i0, self.R, self.caps, self.ST]


def _fixed(parts) -> bytes:
    """The bytes of ``parts`` (strings, numbers, arrays), each with its type and shape."""
    out = []
    for p in parts:
        if isinstance(p, np.ndarray):
            a = np.ascontiguousarray(p)
            out.append(f"|{a.dtype.str}{a.shape}|".encode())
            out.append(a.tobytes())
        else:
            out.append(f"|{p!r}|".encode())
    return b"".join(out)


def plan(src, args: list, grid, acc, end, counts, rate, cols, n: int,
         store: Store | None = None) -> Plan:
    """The :class:`Plan` of a kernel call of source ``src`` (``args``: the input arrays of
    :func:`sim.engine.kernel.arguments`) for samples ``0..n-1``."""
    store = STORE if store is None else store
    if not getattr(src, "resumable", False) or not enabled() or len(grid) < 2:
        return Plan()
    sc, P, PS, pidx, TS, TSS, tidx, LX, LY, LYS = args
    fixed = _fixed([src.digest, n, src.n_slots, grid, acc, end, counts, rate, cols, sc, P, PS,
                    pidx, tidx, LX, LY, LYS, TS.shape, TSS.shape])
    key = hashlib.blake2b(fixed, digest_size=32).digest()
    hit = store.get(key, fixed)
    if hit is not None:
        d = _first_difference(hit, TS, TSS, len(grid))
        k = int(np.searchsorted(hit.caps, d, side="right")) - 1
        if k >= 0:
            c = int(hit.caps[k])
            rows = _rows_before(end, c)
            if rows is not None and rows <= hit.out.shape[2]:
                store.hits += 1
                return Plan(i0=c, R=hit.ST[k], rows=rows, source=hit)
    caps = np.flatnonzero(np.asarray(end)[1:] >= 0).astype(np.int64) + 1
    if len(caps) > MAX_CAPS:
        caps = caps[np.linspace(0, len(caps) - 1, MAX_CAPS).round().astype(int)]
    # the slots, then the running sums of the averaged columns (the others are never read)
    n_state = src.n_slots + int(np.count_nonzero(rate))
    if not len(caps) or len(caps) * max(n_state, 1) * n * 8 > store.max_bytes:
        return Plan()
    ST = np.empty((len(caps), max(n_state, 1), n))  # every sample reaches every checkpoint
    entry = Entry(fixed, TS.copy(), TSS.copy(), caps, ST)
    return Plan(caps=caps, ST=ST, key=key, entry=entry, store=store)


def finish(p: Plan, out: np.ndarray, end) -> None:
    """After the kernel call: the rows a resumed run did not compute are copied from the
    stored run; a full run is stored with its rows before its last checkpoint."""
    if p.source is not None:
        out[:, :, :p.rows] = p.source.out[:, :, :p.rows]
        return
    if p.entry is None:
        return
    rows = _rows_before(end, int(p.caps[-1]))
    if rows is None:
        return
    p.entry.out = out[:, :, :rows].copy()
    p.store.put(p.key, p.entry)


def _rows_before(end, c: int) -> int | None:
    """How many rows the steps before ``c`` wrote (rows ``0..m-1``), None if those are not
    the first rows in order."""
    written = np.asarray(end[:c])
    written = written[written >= 0]
    m = len(written)
    if m and not np.array_equal(written, np.arange(m)):
        return None
    return m


def _first_difference(hit: Entry, TS: np.ndarray, TSS: np.ndarray, n_grid: int) -> int:
    """The first grid step at which a time series differs from the stored run's (bit
    patterns), ``n_grid`` when none does."""
    d = n_grid
    for old, new in ((hit.TS, TS), (hit.TSS, TSS)):
        if old.shape != new.shape:
            return 0
        if new.size == 0 or new.ndim < 2 or new.shape[1] != n_grid:
            if old.tobytes() != new.tobytes():
                return 0
            continue
        a = np.ascontiguousarray(old).view(np.int64)
        b = np.ascontiguousarray(new).view(np.int64)
        diff = (a != b).reshape(a.shape[0], n_grid, -1).any(axis=(0, 2))
        idx = np.flatnonzero(diff)
        if idx.size:
            d = min(d, int(idx[0]))
    return d


__all__ = ["MAX_BYTES", "MAX_CAPS", "MAX_ENTRIES", "STORE", "Entry", "Plan", "Store",
           "enabled", "finish", "plan"]
