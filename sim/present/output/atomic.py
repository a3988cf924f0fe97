"""Atomic output: a reader sees either the old output or the complete new one, never a part.

- :func:`atomic_dir`: build a whole output directory in a temporary sibling, then swap it in.
- :func:`atomic_write_bytes` / :func:`atomic_write_text`: write a file through a temporary
  sibling and :func:`os.replace`.
- :func:`save_figure`: render a Figure to one or more formats (PNG by default), each written
  atomically; :func:`render_formats` renders without writing (:mod:`sim.present.output.render`).

Temporary names start with ``.`` and sit in the same directory as the target (same file
system, so renames are atomic). Failures raise :class:`sim.errors.OutputError` (one line), or
:class:`sim.errors.DiskFullError` (exit status 3) when the disk fills while writing; the
earlier output is then left as it was.

The renames that swap a result into place run :func:`shielded`: a SIGINT or SIGTERM arriving
then (see :mod:`sim.present.output.outdir`) takes effect right after the swap, never halfway.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import DiskFullError, OutputError

if TYPE_CHECKING:   # matplotlib is imported when a figure is rendered, not by every command
    from matplotlib.figure import Figure

FIGURE_FORMATS = ("png", "svg", "pdf")
#: what every chart is written as unless the command is told otherwise (``--formats``)
DEFAULT_FORMATS = ("png",)


_shield = {"depth": 0, "pending": None}


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Defer an interruption signal (one that :func:`interrupt` handles) to the end of the
    block, so a few renames either all happen or none."""
    _shield["depth"] += 1
    try:
        yield
    finally:
        _shield["depth"] -= 1
    pending = _shield["pending"]
    if pending is not None and _shield["depth"] == 0:
        _shield["pending"] = None
        raise pending


def interrupt(exc: BaseException) -> None:
    """Raise ``exc`` now, or at the end of the current :func:`shielded` block."""
    if _shield["depth"]:
        if _shield["pending"] is None:
            _shield["pending"] = exc
        return
    raise exc


#: error numbers of a full disk or an exhausted quota
FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def disk_error(exc: OSError, what: str, mid_write: bool = True) -> OutputError:
    """The one-line error for an OS error while doing ``what`` ("cannot write 'x'"):
    :class:`~sim.errors.DiskFullError` for a disk that fills ``mid_write``, else
    :class:`~sim.errors.OutputError` (before any work: exit status 2)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno in FULL and mid_write:
        return DiskFullError(f"output: {what}: {reason}; nothing was replaced (free some space "
                             "and run again)")
    return OutputError(f"output: {what}: {reason}")


def _parent(path: Path) -> Path:
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise disk_error(exc, f"cannot create directory '{parent}'") from None
    return parent


@contextlib.contextmanager
def atomic_dir(final: Path | str) -> Iterator[Path]:
    """Yield a fresh empty directory next to ``final``; on normal exit it replaces ``final``.

    Replacement: the old ``final`` (if any) is renamed away, the new directory renamed in, the
    old one deleted. If the body raises, the temporary directory is removed, ``final`` is left
    exactly as it was and the exception propagates. ``final`` must not be an existing file.
    """
    final = Path(final)
    if final.exists() and not final.is_dir():
        raise OutputError(f"output: '{final}' exists and is not a directory")
    parent = _parent(final)
    token = uuid.uuid4().hex[:12]
    tmp = parent / f".{final.name}.tmp-{token}"
    old = parent / f".{final.name}.old-{token}"
    try:
        tmp.mkdir()
    except OSError as exc:
        raise disk_error(exc, f"cannot create temporary directory '{tmp}'") from None
    try:
        yield tmp
    except OSError as exc:   # writing the new result failed: one line, the old one kept
        shutil.rmtree(tmp, ignore_errors=True)
        where = str(exc.filename or "")
        if exc.errno in FULL or where.startswith(str(tmp)):
            raise disk_error(exc, f"cannot write '{final}'") from None
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with shielded():
        had_old = final.exists()
        try:
            if had_old:
                os.rename(final, old)
            try:
                os.rename(tmp, final)
            except OSError:
                if had_old:
                    os.rename(old, final)
                raise
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise disk_error(exc, f"cannot move the new '{final}' into place") from None
        if had_old:
            shutil.rmtree(old, ignore_errors=True)


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary sibling, fsync, rename). Returns path."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"output: '{path}' is a directory, cannot write a file there")
    parent = _parent(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise disk_error(exc, f"cannot write '{path}'") from None
        raise
    return path


def atomic_write_text(path: Path | str, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8 by default, ``\\n`` line ends)."""
    return atomic_write_bytes(path, text.encode(encoding))


def figure_bytes(fig: Figure, fmt: str, *, dpi: float = 150) -> bytes:
    """Render ``fig`` to ``fmt`` (png, svg, pdf) in memory, deterministically (no dates or
    software stamps in the metadata, fixed SVG id salt)."""
    if fmt not in FIGURE_FORMATS:
        raise OutputError(f"figure format {fmt!r} not supported; allowed: "
                          f"{', '.join(FIGURE_FORMATS)}")
    if fmt == "png":
        return _png_bytes(fig, dpi)
    meta: dict[str, str | None]
    if fmt == "svg":
        meta = {"Date": None}
    else:
        meta = {"CreationDate": None, "ModDate": None}
    import matplotlib as mpl

    buf = io.BytesIO()
    with mpl.rc_context({"svg.hashsalt": "plansim"}):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
    return buf.getvalue()


def _png_bytes(fig: Figure, dpi: float) -> bytes:
    """The figure as an RGB PNG (its background is opaque, so the alpha channel matplotlib
    writes carries nothing: without it the file is smaller and quicker to compress)."""
    from PIL import Image

    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=dpi)
    data = raw.getvalue()
    w, h = fig.bbox_inches.size * dpi   # the canvas in pixels, up to rounding
    size = next(((x, len(data) // 4 // x) for x in dict.fromkeys((round(w), int(w)))
                 if x and len(data) // 4 % x == 0 and abs(len(data) // 4 // x - h) <= 1), None)
    buf = io.BytesIO()
    if size is None:   # not the size expected: matplotlib's own PNG
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        return buf.getvalue()
    image = Image.frombuffer("RGBA", size, data, "raw", "RGBA", 0, 1)
    image.convert("RGB").save(buf, format="png", dpi=(dpi, dpi))
    return buf.getvalue()


def save_figure(fig: Figure, stem: Path | str, formats: Sequence[str] = DEFAULT_FORMATS, *,
                dpi: float = 150) -> list[Path]:
    """Save ``fig`` as ``<stem>.<fmt>`` for each format, each file written atomically.

    Every format is rendered before any file is written, so a rendering error writes nothing.
    Returns the written paths in the order of ``formats``.
    """
    stem = Path(stem)
    rendered = render_formats(fig, formats, dpi=dpi)
    return [atomic_write_bytes(stem.parent / f"{stem.name}.{fmt}", data)
            for fmt, data in rendered.items()]


def render_formats(fig: Figure, formats: Sequence[str] = DEFAULT_FORMATS, *,
                   dpi: float = 150) -> dict[str, bytes]:
    """``fig`` rendered to each format (:func:`figure_bytes`), in order; the layout of the
    first is kept for the others."""
    rendered = {}
    for i, fmt in enumerate(formats):
        rendered[fmt] = figure_bytes(fig, fmt, dpi=dpi)
        if i == 0 and len(formats) > 1:
            _freeze_layout(fig)
    return rendered


def _freeze_layout(fig: Figure) -> None:
    """Keep the axes where the first rendering's layout engine put them, so the other formats
    do not lay the figure out again (constrained layout is about half of a rendering)."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    if engine is not None and not isinstance(engine, PlaceHolderLayoutEngine):
        fig.set_layout_engine("none")
