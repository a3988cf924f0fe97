"""Computed results kept in the user's cache, by everything they were computed from.

A command whose results are a pure function of its inputs (the model, its declarations and
data, the scenarios, the sample size and seed, and the code that computes them) can keep them
here and skip the computation the next time the same question is asked: ``plansim brief`` in a
second language, or again after its page was edited, reuses the ensembles and the attribution
it computed before. The numbers are the stored ones, bit for bit, so they are the same as a
fresh computation gives.

The key of a result is the SHA-256 of:

- :func:`fingerprint`: every source file of the ``sim`` package, every declaration, data and
  model file (``model/``: ``.mdl``, ``.yaml``, ``.csv``, ``.csv.gz``, ``.json``), every scenario
  file in ``scenarios/``, and the versions of Python and the numerical packages. Any edit to
  any of them gives a new key (a miss), never a stale hit;
- the caller's ``parts``: the question (scenario contents, not only their names; samples,
  seed, engine), as bytes that identify it.

Files are the signed pickles of :mod:`sim.model.cache.diskcache` (a planted or foreign file
reads as missing and is never unpickled), in ``<cache root>/results/``, at most
:data:`MAX_ENTRIES` files and :data:`MAX_BYTES` bytes: the least recently used go first.
``PLANSIM_RESULTS_CACHE=off`` (or ``PLANSIM_CACHE=off``, every cache) turns it off.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim import paths
from sim.model.cache.diskcache import OFF, cache_root, package_version, private_dir, read, write

FOLDER = "results"
MAX_ENTRIES = 8
MAX_BYTES = 512 * 2**20
#: the packages whose versions are part of every key (their arithmetic makes the numbers)
PACKAGES = ("numpy", "numba", "llvmlite", "pandas", "xarray", "scipy", "SALib", "pysd")
#: model files that are inputs (the rest of model/ is documentation and pictures)
MODEL_SUFFIXES = (".mdl", ".yaml", ".csv", ".gz", ".json")


def enabled() -> bool:
    """Whether results are kept (``PLANSIM_RESULTS_CACHE`` not off and a cache root usable)."""
    return os.environ.get("PLANSIM_RESULTS_CACHE", "").strip().lower() not in OFF


def _files() -> list[Path]:
    code = sorted(Path(paths.ROOT / "sim").rglob("*.py"))
    model = sorted(p for p in paths.MODEL_DIR.rglob("*")
                   if p.is_file() and p.suffix in MODEL_SUFFIXES
                   and paths.DIAGRAMS_DIR not in p.parents)
    scenarios = sorted(paths.SCENARIO_DIR.glob("*.yaml"))
    return [*code, *model, *scenarios]


@functools.cache
def fingerprint() -> str:
    """SHA-256 of the code, the model's input files, the scenario files and the versions of
    Python and of :data:`PACKAGES` (computed once per process: about 10 ms)."""
    h = hashlib.sha256()
    h.update(sys.version.encode())
    for name in PACKAGES:
        h.update(f"\0{name}={package_version(name)}".encode())
    for path in _files():
        h.update(f"\0{path.relative_to(paths.ROOT).as_posix()}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def key(kind: str, parts: Any) -> str:
    """The key of the result ``kind`` computed from ``parts`` (anything picklable that
    identifies the question: two equal questions pickle alike; a difference gives a miss)."""
    h = hashlib.sha256(f"{kind}\0{fingerprint()}\0".encode())
    h.update(pickle.dumps(parts, protocol=4))
    return h.hexdigest()[:40]


def _folder() -> Path | None:
    if not enabled():
        return None
    root = cache_root()
    if root is None:
        return None
    folder = root / FOLDER
    return folder if private_dir(folder) else None


def load(kind: str, parts: Any) -> Any | None:
    """The stored result of ``kind`` for ``parts``, or None (not stored, cache off, not
    signed by this user)."""
    folder = _folder()
    if folder is None:
        return None
    path = folder / f"{kind}-{key(kind, parts)}.pkl"
    value = read(path)
    if value is not None:
        with contextlib.suppress(OSError):
            os.utime(path)   # recently used: pruned last
    return value


def store(kind: str, parts: Any, value: Any) -> bool:
    """Keep ``value`` as the result of ``kind`` for ``parts``; False when not kept."""
    folder = _folder()
    if folder is None:
        return False
    done = write(folder / f"{kind}-{key(kind, parts)}.pkl", value)
    if done:
        prune(folder)
    return done


def prune(folder: Path, entries: int = MAX_ENTRIES, size: int = MAX_BYTES) -> None:
    """Remove the least recently used results beyond ``entries`` files or ``size`` bytes."""
    files = []
    for p in folder.glob("*.pkl"):
        try:
            st = p.stat()
        except OSError:
            continue
        files.append((st.st_mtime, st.st_size, p))
    files.sort(reverse=True)
    total = 0
    for i, (_, nbytes, p) in enumerate(files):
        total += nbytes
        if i >= entries or total > size:
            p.unlink(missing_ok=True)


def remember(kind: str, parts: Any, compute: Callable[[], Any]) -> Any:
    """The stored result of ``kind`` for ``parts``, else ``compute()``, stored."""
    hit = load(kind, parts)
    if hit is not None:
        return hit
    value = compute()
    store(kind, parts, value)
    return value
