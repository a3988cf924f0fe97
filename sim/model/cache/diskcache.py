"""The per-user cache folder: one root for every cache plansim keeps, and its signed files.

The root is ``$PLANSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/plansim``, else
``~/.cache/plansim``; it holds the compiled models (``models/``, :mod:`sim.engine.cache`), the
remembered Python names (:mod:`sim.model.declarations.parameters`) and the kernels' machine code
(``kernels/``, :mod:`sim.engine.kernel_cache`). Its rules, the same for every cache:

- the root and its folders are created mode 0700 and must be the user's own and closed to
  others (not group- or world-writable, not a symbolic link); otherwise nothing is cached and
  one line on stderr says why. ``PLANSIM_CACHE=off`` turns every cache off (nothing written);
- nothing is unpickled unless this user wrote it: every file carries an HMAC-SHA256 of its
  name and bytes under a per-user secret key (``<root>/key``, 32 random bytes, mode 0600).
  A file without a valid MAC (planted, truncated, from an older version) reads as missing and
  is written again;
- a file is written to a temporary name beside it and renamed into place, so a reader sees a
  whole file or none; a cache that cannot be written (read-only, full disk) is used as far as
  it can be, with one notice, and never stops a command.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import hashlib
import hmac
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

#: values of ``PLANSIM_CACHE`` that turn caching off
OFF = ("off", "0", "no", "false")
KEY_NAME = "key"
#: a signed file is MAGIC, then the MAC_SIZE bytes of its HMAC-SHA256, then the payload
MAGIC = b"plansim-mac1\n"
MAC_SIZE = 32
_NOTICED: set[str] = set()
_ROOTS: dict[tuple, tuple[Path, bytes]] = {}


def notice(text: str) -> None:
    """Print ``plansim: <text>`` on stderr, once per process and text."""
    if text not in _NOTICED:
        _NOTICED.add(text)
        print(f"plansim: {text}", file=sys.stderr)


def forget() -> None:
    """Forget what this process has learned of the cache: the roots and keys already checked
    and the notices already given. The next use checks the folder and reads its key again, and
    says again what it says once, as a new process does (after the key file changed)."""
    _ROOTS.clear()
    _NOTICED.clear()


def disabled() -> bool:
    """Whether ``PLANSIM_CACHE`` turns caching off."""
    return os.environ.get("PLANSIM_CACHE", "").strip().lower() in OFF


def root_path() -> Path:
    """Where the cache root is (whether or not it exists or is used)."""
    given = os.environ.get("PLANSIM_CACHE_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "plansim"


def cache_root() -> Path | None:
    """The cache root (created, mode 0700), or None when caching is off or the folder is
    unsafe or cannot be created (said once on stderr)."""
    hit = _root_and_key()
    return hit[0] if hit is not None else None


def _root_and_key() -> tuple[Path, bytes] | None:
    if disabled():
        return None
    root = root_path()
    try:
        st = os.lstat(root)
    except OSError:
        st = None
    if st is not None and not unsafe(st):
        hit = _ROOTS.get((str(root), st.st_dev, st.st_ino))
        if hit is not None:
            return hit
    if not private_dir(root, parents=True):
        return None
    key = _key(root)
    if key is None:
        return None
    st = os.lstat(root)
    hit = _ROOTS[(str(root), st.st_dev, st.st_ino)] = (root, key)
    return hit


def unsafe(st: os.stat_result) -> str:
    """Why a folder with this ``lstat`` must not hold a cache ("" if it may)."""
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a folder"
    if os.name == "posix" and st.st_uid != os.getuid():
        return f"it belongs to user id {st.st_uid}, not to you"
    if st.st_mode & 0o022:
        return f"others may write in it (mode {stat.S_IMODE(st.st_mode):04o})"
    return ""


def private_dir(folder: Path, parents: bool = False) -> bool:
    """Create ``folder`` mode 0700 (its parents too with ``parents``) and check that it is
    safe to cache in (:func:`unsafe`); tighten an own folder that others may read. False,
    with a notice, when it is not."""
    try:
        folder.mkdir(mode=0o700, parents=parents, exist_ok=True)
        st = os.lstat(folder)
    except OSError as exc:
        notice(f"cache folder '{folder}' cannot be created ({exc.strerror or exc}); "
               "running without a cache")
        return False
    reason = unsafe(st)
    if reason:
        notice(f"cache folder '{folder}' is not used: {reason}; running without a cache "
               "(remove it, or set PLANSIM_CACHE_DIR to a folder of your own)")
        return False
    if os.name == "posix" and st.st_mode & 0o077:
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)
    return True


def _key(root: Path) -> bytes | None:
    """The per-user secret key kept in the root (created on first use)."""
    path = root / KEY_NAME
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_RDONLY | nofollow)
        except FileNotFoundError:
            _new_key(root, path)
            continue
        except OSError as exc:
            notice(f"cache key '{path}' cannot be read ({exc.strerror or exc}); running "
                   "without a cache")
            return None
        try:
            st = os.fstat(fd)
            data = os.read(fd, MAC_SIZE + 1)
        finally:
            os.close(fd)
        if (not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or len(data) != MAC_SIZE
                or (os.name == "posix" and (st.st_uid != os.getuid() or st.st_mode & 0o077))):
            notice(f"cache key '{path}' is not a private file of yours; running without a "
                   "cache (delete the folder to start a new cache)")
            return None
        return data
    notice(f"cache key '{path}' cannot be created; running without a cache")
    return None


def _new_key(root: Path, path: Path) -> None:
    """Write a new key under a temporary name and link it into place (two processes: the
    first wins, the other reads it)."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-key-", dir=root)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(MAC_SIZE))
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError as exc:
        notice(f"cache key '{path}' cannot be written ({exc.strerror or exc}); running "
               "without a cache")
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def signing_key() -> bytes | None:
    """The key of the current cache root, or None when caching is off or unsafe."""
    hit = _root_and_key()
    return hit[1] if hit is not None else None


def _mac(key: bytes, name: str, payload: bytes) -> bytes:
    return hmac.new(key, name.encode("utf-8") + b"\0" + payload, hashlib.sha256).digest()


def sign(name: str, payload: bytes) -> bytes | None:
    """``payload`` with its MAC (for a file called ``name``), or None without a cache key."""
    key = signing_key()
    if key is None:
        return None
    return MAGIC + _mac(key, name, payload) + payload


def verify(name: str, blob: bytes) -> bytes | None:
    """The payload of a signed file's bytes ``blob`` when its MAC is valid, else None."""
    key = signing_key()
    head = len(MAGIC) + MAC_SIZE
    if key is None or len(blob) < head or not blob.startswith(MAGIC):
        return None
    payload = blob[head:]
    if not hmac.compare_digest(blob[len(MAGIC):head], _mac(key, name, payload)):
        return None
    return payload


def read_bytes(path: Path) -> bytes | None:
    """The verified payload of the signed file ``path``, or None (missing, foreign, bad)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(os.dup(fd), "rb") as fh:
            blob = fh.read()
    except OSError:
        return None
    finally:
        os.close(fd)
    return verify(Path(path).name, blob)


def write_bytes(path: Path, payload: bytes) -> bool:
    """Write ``payload`` signed to ``path`` atomically (mode 0600); False (with one notice
    when the disk refuses) on failure."""
    blob = sign(Path(path).name, payload)
    if blob is None:
        return False
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=Path(path).parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
        return True
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        write_failed(Path(path).parent, exc)
        return False


def write_failed(where: Path, exc: OSError) -> None:
    """Say once that the cache (``where``: a folder in it) cannot be written (full,
    read-only, not permitted)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
        notice(f"cache folder '{root_path()}' cannot be written ({exc.strerror or exc}); "
               "continuing without caching")


def read(path: Path) -> object | None:
    """The object pickled in the signed file ``path``, or None when it is missing, not
    signed by this user, or does not load."""
    payload = read_bytes(path)
    if payload is None:
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - signed but from another version: a miss, written again
        return None


def write(path: Path, obj: object) -> bool:
    """Pickle ``obj`` to the signed file ``path`` atomically; False on failure."""
    try:
        payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return False
    return write_bytes(path, payload)


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


__all__ = ["KEY_NAME", "MAC_SIZE", "MAGIC", "OFF", "RememberedTable", "cache_root", "disabled",
           "forget", "notice", "package_version", "private_dir", "read", "read_bytes", "root_path",
           "sign", "signing_key", "unsafe", "verify", "write", "write_bytes", "write_failed"]
