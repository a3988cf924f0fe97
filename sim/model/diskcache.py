"""The per-user cache folder and its atomic pickle files (what :mod:`sim.engine.cache` and the
remembered Python names of :mod:`sim.model.parameters` keep between runs).

The folder is ``$XDG_CACHE_HOME/plansim`` (else ``~/.cache/plansim``), never a project folder,
created with mode 0700; if it is not the user's own or is open to others, nothing is cached.
``PLANSIM_CACHE=off`` turns caching off. A file is written to a temporary name beside it and
renamed into place, so a reader sees a whole file or none; one that does not load (truncated,
corrupt, from another version) reads as missing, and is written again.
"""

from __future__ import annotations

import atexit
import functools
import os
import pickle
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path


def cache_root() -> Path | None:
    """The cache folder (created, mode 0700), or None when caching is off or unsafe."""
    if os.environ.get("PLANSIM_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    root = Path(base) / "plansim"
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(root)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    if os.name == "posix" and (st.st_uid != os.getuid() or st.st_mode & 0o022):
        return None
    return root


def read(path: Path) -> object | None:
    """The object pickled in ``path``, or None when it is missing or does not load."""
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # noqa: BLE001 - a corrupt or foreign file is a miss, written again
        return None


def write(path: Path, obj: object) -> bool:
    """Pickle ``obj`` to ``path`` atomically (temporary file, then rename); False on failure."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        return True
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return False


def package_version(name: str) -> str:
    """The installed version of a distribution, without importing it ("" if unknown)."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


class RememberedTable:
    """A dict kept in one cache file: loaded on first use, written back at exit if it grew.
    ``name``: the file's name, or a function giving it (called on first use)."""

    def __init__(self, name: str | Callable[[], str]):
        self.name = name
        self.added = False
        self.path: Path | None = None

    @functools.cached_property
    def table(self) -> dict:
        root = cache_root()
        name = self.name() if callable(self.name) else self.name
        self.path = root / name if root is not None else None
        data = read(self.path) if self.path is not None else None
        if self.path is not None:
            atexit.register(self.save)
        return data if isinstance(data, dict) else {}

    def get(self, key):
        return self.table.get(key)

    def set(self, key, value) -> None:
        self.table[key] = value
        self.added = True

    def save(self) -> None:
        if self.added and self.path is not None:
            current = read(self.path)
            merged = {**current, **self.table} if isinstance(current, dict) else self.table
            write(self.path, merged)
            self.added = False


__all__ = ["RememberedTable", "cache_root", "package_version", "read", "write"]
