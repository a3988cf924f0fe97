"""The compiled model on disk, so that a command does not parse and compile the ``.mdl`` again.

One entry per model under ``models/`` of the user's cache root (:mod:`sim.model.cache.diskcache`:
``$PLANSIM_CACHE_DIR``, ``$XDG_CACHE_HOME/plansim`` or ``~/.cache/plansim``; never inside a
project folder), named by a hash of the ``.mdl``'s bytes,
its resolved path and :func:`engine_fingerprint` (the source of the engine and the parser, the
PySD and Python versions), so editing the model or the engine's code uses a new entry. An entry
holds

- ``info.pkl``: the model's metadata without the equations' syntax trees
  (:meth:`sim.engine.model.ModelInfo.light`): loading it imports no PySD;
- ``full.pkl``: the parsed model (:class:`~sim.engine.model.ModelInfo`), read only when a
  simulation needs code not yet generated;
- ``code-<hash>.pkl``: the generated source of one simulation (overrides, outputs, flavour):
  what :meth:`sim.engine.batch.BatchModel` executes.

Files are written to a temporary name in the entry and renamed into place (atomic: a reader sees
the old file, the new one or none; concurrent writers write the same bytes); a file that does not
load (truncated, corrupt, from another version, or not signed with this user's key) is
ignored and written again (:mod:`sim.model.cache.diskcache`: the folders must belong to the user and
be closed to others, else nothing is cached; ``PLANSIM_CACHE=off`` turns caching off). At most :data:`MAX_ENTRIES` models
are kept, the least recently used going first: reading an entry marks it used (its folder's
time), so the model a user runs every day stays however many others were parsed since.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import sys
from pathlib import Path

from sim.engine.model import ModelInfo
from sim.errors import ModelError
from sim.model.cache.diskcache import cache_root, package_version, private_dir, read, write
from sim.model.equations.mdl import load_abstract_model

#: bump when the layout of an entry changes
FORMAT = 1
MAX_ENTRIES = 32
#: the engine's and the parser's source files (their hash is part of every key)
_SOURCES = ("sim/engine", "sim/model/equations/mdl.py", "sim/errors.py")


@functools.cache
def engine_fingerprint() -> str:
    """Hash of the engine's code, the parser, the format and the PySD and Python versions."""
    h = hashlib.sha256(f"{FORMAT}|{sys.version}|{package_version('pysd')}|".encode())
    root = Path(__file__).resolve().parent.parent.parent
    for src in _SOURCES:
        p = root / src
        for f in sorted(p.glob("*.py")) if p.is_dir() else [p]:
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def model_key(path: Path, content: bytes) -> str:
    """The entry name of a model file: its bytes, its resolved path and the engine's code."""
    h = hashlib.sha256(engine_fingerprint().encode())
    h.update(str(Path(path).resolve()).encode())
    h.update(b"\0")
    h.update(content)
    return h.hexdigest()[:40]


def _parse(path: Path) -> ModelInfo:
    return ModelInfo(load_abstract_model(path), path)


def load_info(path: Path | str) -> ModelInfo:
    """The model's info: the cached light copy when there is one (its equations loaded on
    demand), else parsed (and cached)."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError:
        raise ModelError(f"model file '{path}' does not exist") from None
    root = _models_root()
    if root is None:
        return _parse(path)
    entry = root / model_key(path, content)
    light = read(entry / "info.pkl")
    if isinstance(light, ModelInfo) and light.is_light:
        with contextlib.suppress(OSError):
            os.utime(entry)   # used now: pruned last
        light.path = path
        light.cache_dir = entry
        light.full_loader = functools.partial(_load_full, entry, path, content)
        return light
    info = _parse(path)
    _store(root, entry, info)
    return info


def _models_root() -> Path | None:
    """``<cache root>/models``: one entry per model file (the compiled kernels live beside it,
    in ``kernels/``, see :func:`sim.engine.kernel.cache_dir`, so pruning models spares them)."""
    root = cache_root()
    if root is None or not private_dir(root / "models"):
        return None
    return root / "models"


def _store(root: Path, entry: Path, info: ModelInfo) -> None:
    try:
        entry.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return
    if write(entry / "full.pkl", info) and write(entry / "info.pkl", info.light()):
        info.cache_dir = entry
        _prune(root, entry)


def _load_full(entry: Path, path: Path, content: bytes) -> ModelInfo:
    full = read(entry / "full.pkl")
    if isinstance(full, ModelInfo) and not full.is_light:
        full.path = path
        full.cache_dir = entry
        return full
    if path.read_bytes() != content:
        raise ModelError(f"model file '{path}' changed while it was being used")
    info = _parse(path)
    _store(entry.parent, entry, info)
    return info


def _prune(root: Path, keep: Path) -> None:
    """Remove the least recently used entries (the oldest folder times) beyond
    :data:`MAX_ENTRIES`, ``keep`` (just written) aside."""
    try:
        entries = [p for p in root.iterdir() if p.is_dir() and p != keep]
        entries.sort(key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for old in entries[: max(0, len(entries) + 1 - MAX_ENTRIES)]:
        shutil.rmtree(old, ignore_errors=True)


def generated(info: ModelInfo, overrides: dict, outputs: tuple, scalar: bool
              ) -> tuple[str, str, dict, frozenset]:
    """``(source, controls source, constants, dynamic ids)`` of one simulation of ``info``:
    from the cache entry when there, else generated by
    :class:`~sim.engine.compiler.ModelCompiler` (and cached)."""
    key = (tuple(sorted(overrides.items())), tuple(outputs), bool(scalar))
    target = None
    if info.cache_dir is not None:
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        target = Path(info.cache_dir) / f"code-{digest}.pkl"
        hit = read(target)
        if (isinstance(hit, tuple) and len(hit) == 5 and hit[0] == key
                and isinstance(hit[1], str) and isinstance(hit[3], dict)):
            return hit[1], hit[2], hit[3], hit[4]
    # lazy: pulls scipy, pysd (831 ms)
    from sim.engine.compiler import ModelCompiler

    mc = ModelCompiler(info.full(), overrides, list(outputs), scalar=scalar)
    src = mc.build_source()
    ctl = mc.build_controls_source()
    if target is not None and target.parent.is_dir():
        write(target, (key, src, ctl, mc.constants, mc.dynamic))
    return src, ctl, mc.constants, mc.dynamic


__all__ = ["engine_fingerprint", "generated", "load_info", "model_key"]
