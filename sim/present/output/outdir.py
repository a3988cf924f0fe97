"""Output folders plansim owns: it never replaces or deletes what it did not write.

A command writes into an output folder ``X`` (``--out``) one *result folder* per result:
``X/<scenario>/`` (run), ``X/compare/``, ``X/calibration/``, ``X/uncertainty/``,
``X/sensitivity_<scenario>_<method>/``. ``X`` itself is never replaced or removed.

- Every result folder holds a marker file :data:`MARKER` (JSON: tool, command, time, and
  ``files``: every path plansim wrote there). An existing folder without the marker, or with
  another command's marker, is never replaced: the command refuses, naming it, before any work.
- A file or folder in a result folder that plansim did not write (not in the marker's list; a
  marker of an older version has no list: then whatever the new result does not write) is
  carried over into the new result, with a notice naming it; when the new result writes a file
  of the same name, the run is refused (the earlier result kept).
- Result names are plain names (:data:`sim.paths.SAFE_NAME`: no ``.``, ``..``, separators,
  leading dot); two results with one name in one call are refused before any work.
- :func:`claim` checks all of this up front (``X`` a folder? writable?), takes a lock file in
  ``X`` (:data:`LOCK`: opened without following a symbolic link, refused unless it is a
  regular file with one name, so plansim never writes through a link, a FIFO or a device) so a
  concurrent plansim command into the same folder is refused with a message, and removes temporary folders left by a killed run (``.<name>.tmp-*``, marked ours).
- :func:`owned_dir` builds a result in a temporary sibling and swaps it in
  (:func:`sim.present.output.atomic.atomic_dir`), recording what it replaced.
- Every OS error on the lock, a marker or a swap is one line (:class:`OutputError`, exit 2;
  :class:`~sim.errors.DiskFullError`, exit 3, when the disk fills while writing).
- :func:`install_signal_handlers`: SIGINT and SIGTERM raise :class:`Interrupted`, so temporary
  folders are removed on the way out; :func:`summary` then says exactly which results were
  replaced and which not.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import shutil
import signal
import stat
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sim import paths
from sim.errors import OutputError, excerpt
from sim.model.declarations.words import LANGS
from sim.present.output.atomic import atomic_dir, disk_error, interrupt

MARKER = ".plansim-output"
LOCK = ".plansim.lock"
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-[0-9a-f]{12}$")


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; raised in the main thread so clean-up runs (a
    KeyboardInterrupt, so libraries treat SIGTERM as they treat Ctrl-C)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def check_name(name: str) -> str:
    """``name`` if it can name a result folder inside the output folder."""
    if not isinstance(name, str) or not paths.SAFE_NAME.match(name) or name in (".", ".."):
        raise OutputError(f"output: {excerpt(name)} cannot name a result folder; allowed: "
                          f"{paths.SAFE_NAME_RULE}")
    return name


@dataclass
class Session:
    """One command's claim on an output folder (see :func:`claim`)."""

    root: Path
    command: str
    names: list[str]
    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed_stale: list[str] = field(default_factory=list)
    _lock: int | None = None

    def path(self, name: str) -> Path:
        return self.root / name

    def summary(self) -> str:
        """Which results were replaced or created, and which not (earlier results intact)."""
        parts = []
        if self.replaced:
            parts.append("replaced: " + ", ".join(str(self.path(n)) for n in self.replaced))
        if self.created:
            parts.append("created: " + ", ".join(str(self.path(n)) for n in self.created))
        done = set(self.replaced) | set(self.created)
        rest = [n for n in self.names if n not in done]
        if rest:
            parts.append("not written (any earlier result there is untouched): "
                         + ", ".join(str(self.path(n)) for n in rest))
        return "; ".join(parts) if parts else "nothing written"

    def release(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock)
            self._lock = None


_active: list[Session] = []


def active() -> Session | None:
    """The session of the running command, if any."""
    return _active[-1] if _active else None


def release_all() -> None:
    """Release every claim (the command line calls this when a command ends)."""
    while _active:
        _active.pop().release()


def _check_root(root: Path) -> None:
    if root.is_symlink() and not root.exists():
        raise OutputError(f"output: '{root}' is a broken symbolic link")
    if root.exists():
        if not root.is_dir():
            raise OutputError(f"output: '{root}' exists and is not a folder; give a folder "
                              "as `root`")
        if not os.access(root, os.W_OK | os.X_OK):
            raise OutputError(f"output: folder '{root}' is not writable")
        return
    parent = root.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"output: cannot create '{root}': '{parent}' is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"output: cannot create '{root}': folder '{parent}' is not writable")


def read_marker(folder: Path) -> dict | None:
    """The marker of a result folder, or None if it has none (or an unreadable one)."""
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        doc = json.loads(marker.read_text(encoding="utf-8")[:4096])
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("tool") == "plansim" else None


def check_target(target: Path, command: str | None) -> None:
    """Refuse unless ``target`` is absent or a result folder written by ``command`` (any
    plansim command if None)."""
    if target.is_symlink():
        raise OutputError(f"output: '{target}' is a symbolic link; plansim replaces only "
                          "folders it wrote: move it away or choose another `root`")
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputError(f"output: '{target}' exists and is not a folder plansim wrote; "
                          "move it away or choose another `root`")
    marker = read_marker(target)
    if marker is None:
        raise OutputError(f"output: '{target}' exists and was not written by plansim (no "
                          f"{MARKER} marker); plansim never replaces it: move it away or "
                          "choose another `root`")
    if command is not None and marker.get("command") != command:
        raise OutputError(f"output: '{target}' holds a result of `plansim "
                          f"{excerpt(marker.get('command'), 30, quote=False)}`, not of "
                          f"`plansim {command}`; choose another `root` or another name")


def _lock(root: Path, command: str) -> int:
    path = root / LOCK
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if path.is_symlink():
            raise OutputError(f"output: the lock file '{path}' is a symbolic link; plansim "
                              "never writes through one: remove it") from None
        raise disk_error(exc, f"cannot create the lock file '{path}'", False) from None
    try:
        st = os.fstat(fd)
        kind = _kind(st.st_mode)
        if kind != "file":
            raise OutputError(f"output: the lock file '{path}' is {kind}, not a regular file; "
                              "plansim never writes into it: remove it")
        if st.st_nlink > 1:
            raise OutputError(f"output: the lock file '{path}' has {st.st_nlink} names (a hard "
                              "link to another file); plansim never writes through it: "
                              "remove it")
        _hold(fd, root, command)
    except OSError as exc:
        os.close(fd)
        raise disk_error(exc, f"cannot use the lock file '{path}'", False) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISREG, "file"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "not a file"


def _hold(fd: int, root: Path, command: str) -> None:
    """Take the advisory lock on ``fd`` and write who holds it."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the other checks still apply
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "?"
        raise OutputError(f"output: another plansim command is writing into '{root}' "
                          f"({excerpt(holder, 80, quote=False)}); wait for it to finish or "
                          "choose another `root`") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}: plansim {command}\n".encode(), 0)


def _remove_stale(root: Path) -> list[str]:
    """Remove temporary folders a killed plansim run left in ``root`` (only marked ones); an
    old result caught halfway through a swap is put back."""
    removed = []
    for entry in sorted(root.iterdir()):
        m = _TEMP.match(entry.name)
        if not m or entry.is_symlink() or not entry.is_dir() or read_marker(entry) is None:
            continue
        final = root / m["name"]
        if m["kind"] == "old" and not final.exists() and not final.is_symlink():
            os.rename(entry, final)
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry.name)
    return removed


def claim(root: Path | str, command: str, names: Sequence[str]) -> Session:
    """Check and lock output folder ``root`` for ``command``'s results ``names``, before any
    work: plain, distinct names; ``root`` a writable folder (created if missing); no other
    plansim command writing there; every existing result folder among ``names`` written by
    this command. Stale temporary folders are removed. Raises :class:`OutputError`."""
    root = Path(root)
    names = [check_name(n) for n in names]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise OutputError(f"output: two results would be written to '{root / dup[0]}'; give "
                          "each scenario once, or rename one of the files")
    _check_root(root)
    for n in names:
        check_target(root / n, command)   # before creating anything
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"output: cannot create '{root}': {exc.strerror or exc}") from None
    session = Session(root, command, names, _lock=_lock(root, command))
    try:
        session.removed_stale = _remove_stale(root)
        for n in names:
            check_target(root / n, command)   # again, now that the folder is ours
    except OSError as exc:
        session.release()
        raise disk_error(exc, f"cannot tidy '{root}'", False) from None
    except BaseException:
        session.release()
        raise
    _active.append(session)
    return session


def marker_text(command: str | None, files: Sequence[str] | None = None) -> str:
    doc = {"tool": "plansim", "command": command or "python",
           "time": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
           "pid": os.getpid(), "token": uuid.uuid4().hex[:12]}
    if files is not None:
        doc["files"] = list(files)
    return json.dumps(doc, ensure_ascii=False)


def listing(folder: Path) -> list[str]:
    """Every path in ``folder`` (files, folders, links; ``/``-separated, relative), but the
    marker: what a marker records as written by plansim."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        rel = Path(dirpath).relative_to(folder)
        out.extend((rel / n).as_posix() for n in dirnames + filenames)
    return sorted(p for p in out if p != MARKER)


def foreign(folder: Path, written: Sequence[str]) -> list[str]:
    """The paths in result folder ``folder`` that are not in ``written`` (a folder not in it
    is one path, not looked into)."""
    written = set(written)
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        rel = Path(dirpath).relative_to(folder)
        for n in list(dirnames):
            if (rel / n).as_posix() not in written:
                out.append((rel / n).as_posix())
                dirnames.remove(n)
        out.extend(p for p in ((rel / n).as_posix() for n in filenames)
                   if p != MARKER and p not in written)
    return sorted(out)


def _carry_over(final: Path, tmp: Path) -> list[str]:
    """Copy into the new result ``tmp`` every path of the old ``final`` plansim did not write
    (its marker's ``files``; an older marker without that list: what the new result does not
    write). Refuses when the new result writes a file of the same name."""
    marker = read_marker(final) or {}
    written = marker.get("files")
    if not (isinstance(written, list) and all(isinstance(p, str) for p in written)):
        written = listing(tmp)
    kept = foreign(final, written)
    for rel in kept:
        src, dst = final / rel, tmp / rel
        if dst.exists() or dst.is_symlink():
            raise OutputError(f"output: '{src}' was not written by plansim, and the new result "
                              "writes a file of that name; move it away and run again (the "
                              "earlier result is untouched)")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir() and not src.is_symlink():
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)
    return kept


def _write_marker(tmp: Path, text: str) -> None:
    try:
        (tmp / MARKER).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise disk_error(exc, f"cannot write the marker '{tmp / MARKER}'") from None


#: a file name tagged with a language: ``brief_zh.html``, ``fit_en.png``, ``loops.zh.dot``
_LANG_TAG = re.compile(rf"[._-](?P<lang>{'|'.join(LANGS)})(?:\.[^.]+)+$")


def carry_over(old: Path, new: Path, langs: Sequence[str]) -> list[str]:
    """Copy into ``new`` the files of ``old`` tagged with a language not in ``langs`` (a call
    for one language never removes the other language's files); returns their names."""
    kept = []
    if not old.is_dir() or old.is_symlink():
        return kept
    for entry in sorted(old.iterdir()):
        m = _LANG_TAG.search(entry.name)
        if (m and m["lang"] not in langs and entry.is_file() and not entry.is_symlink()
                and not (new / entry.name).exists()):
            shutil.copy2(entry, new / entry.name)
            kept.append(entry.name)
    return kept


@contextlib.contextmanager
def owned_dir(final: Path | str, langs: str | Sequence[str] | None = None) -> Iterator[Path]:
    """Like :func:`~sim.present.output.atomic.atomic_dir` (build in a temporary sibling, swap in),
    but only over a folder plansim wrote, with a marker listing what it wrote, and keeping
    what it did not write there (:func:`_carry_over`, with a notice on stderr). Under a
    :func:`claim` the result must be one of the claimed names and is recorded. ``langs``: the
    languages this result is written in; the old folder's files of the other languages are
    carried over (:func:`carry_over`) and count as written by plansim."""
    final = Path(final)
    session = active()
    if session is not None and final.parent.resolve() == session.root.resolve():
        if final.name not in session.names:
            raise OutputError(f"output: '{final}' was not announced before the run")
    else:
        session = None
    check_name(final.name)
    command = session.command if session else None
    check_target(final, command)
    existed = final.exists()
    text = marker_text(command)
    kept: list[str] = []
    try:
        with atomic_dir(final) as tmp:
            _write_marker(tmp, text)
            yield tmp
            if langs is not None:
                carry_over(final, tmp, [langs] if isinstance(langs, str) else list(langs))
            written = listing(tmp)
            if existed:
                kept = _carry_over(final, tmp)
            text = marker_text(command, written)
            _write_marker(tmp, text)
    finally:
        # recorded if the new result is in place, even when a signal came right after the swap
        if session is not None and _marker_is(final, text):
            (session.replaced if existed else session.created).append(final.name)
    if kept:
        shown = ", ".join(kept[:5]) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
        print(f"plansim: kept in '{final}' what plansim did not write there: {shown}",
              file=sys.stderr)


def _marker_is(folder: Path, text: str) -> bool:
    try:
        return (folder / MARKER).read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def _raise_interrupted(signum, _frame) -> None:
    interrupt(Interrupted(signum))


def install_signal_handlers() -> dict:
    """SIGINT and SIGTERM raise :class:`Interrupted` (deferred past a swap in progress).
    Returns the previous handlers for :func:`restore_signal_handlers`."""
    old = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            old[sig] = signal.signal(sig, _raise_interrupted)
    return old


def restore_signal_handlers(old: dict) -> None:
    for sig, handler in old.items():
        signal.signal(sig, handler)
