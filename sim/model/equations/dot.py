"""Graphviz ``dot``: node positions for the sketch and rendering of diagrams.

Graphviz is a system package (Debian ``graphviz``; ``make setup`` installs it when run as root,
macOS: ``brew install graphviz``). Only :func:`layout` and :func:`render` need the ``dot``
program; everything that checks whether committed files are current works without it.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from sim.errors import PlanSimError
from sim.model.cache import diskcache


class GraphvizError(PlanSimError):
    """Graphviz is missing or failed."""


def quote(text: str) -> str:
    """A DOT string literal."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot_program() -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizError("Graphviz 'dot' was not found on PATH; install the system package "
                            "graphviz (make setup does it when run as root; macOS: brew install "
                            "graphviz)")
    return exe


_CONF_LOCK = threading.Lock()
_CONF_FILES: dict[tuple, str] = {}
_PRIVATE_TMP: list[Path] = []


def _private_tmp() -> Path:
    """A temporary folder of this process (mode 0700, a new name), removed at exit."""
    if not _PRIVATE_TMP:
        d = Path(tempfile.mkdtemp(prefix="plansim-fontconfig-"))
        atexit.register(shutil.rmtree, d, ignore_errors=True)
        _PRIVATE_TMP.append(d)
    return _PRIVATE_TMP[0]


def _write_conf(folder: Path, conf: str) -> Path:
    """``conf`` in ``folder`` under a name carrying its digest: kept when already there, else
    written under a unique temporary name and renamed into place."""
    path = folder / f"fonts-{hashlib.sha256(conf.encode('utf-8')).hexdigest()[:16]}.conf"
    try:
        if path.read_text(encoding="utf-8") == conf:
            return path
    except (OSError, UnicodeDecodeError):
        pass
    fd, tmp = tempfile.mkstemp(prefix=".tmp-fonts-", suffix=".conf", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(conf)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def fontconfig_file(font_dirs) -> str:
    """A fontconfig file adding ``font_dirs`` to the system's fonts (e.g. the CJK font that a
    Python package ships), so that Graphviz measures and draws Chinese text; made once per
    process (threads share it). It lives where only this user can write: ``fontconfig/`` in
    the cache root (:mod:`sim.model.cache.diskcache`: mode 0700, checked to be the user's own), else
    (caching off, the root unsafe or not writable) a private temporary folder of this process,
    never a fixed name in the shared temporary folder, which another user could create first
    and fill with a configuration of their own."""
    dirs = "".join(f"<dir>{Path(d).resolve()}</dir>" for d in font_dirs)
    conf = ('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
            '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
            f'{dirs}</fontconfig>')
    memo = (conf, str(diskcache.root_path()), diskcache.disabled())
    with _CONF_LOCK:
        hit = _CONF_FILES.get(memo)
        if hit is not None and Path(hit).is_file():
            return hit
        root = diskcache.cache_root()
        path = None
        if root is not None and diskcache.private_dir(root / "fontconfig"):
            try:
                path = _write_conf(root / "fontconfig", conf)
            except OSError as exc:
                diskcache.write_failed(root, exc)
        if path is None:
            try:
                path = _write_conf(_private_tmp(), conf)
            except OSError as exc:
                raise GraphvizError(f"a fontconfig file for Graphviz cannot be written in "
                                    f"'{tempfile.gettempdir()}': {exc.strerror or exc}") from exc
        _CONF_FILES[memo] = str(path)
        return str(path)


def render(source: str, fmt: str, font_dirs=()) -> bytes:
    """Run ``dot -T<fmt>`` on ``source`` and return the output bytes; ``font_dirs``: extra
    directories of font files for Graphviz to use."""
    env = dict(os.environ)
    if font_dirs:
        env["FONTCONFIG_FILE"] = fontconfig_file(font_dirs)
    proc = subprocess.run([dot_program(), f"-T{fmt}"], input=source.encode("utf-8"),
                          capture_output=True, check=False, env=env)
    if proc.returncode != 0:
        raise GraphvizError(f"dot -T{fmt} failed: {proc.stderr.decode('utf-8', 'replace')[:500]}")
    return proc.stdout


def render_all(source: str, fmts, font_dirs=()) -> dict[str, bytes]:
    """``{fmt: bytes}`` of ``source`` in each of ``fmts`` from one ``dot`` run (the layout,
    most of the work, is computed once for all of them)."""
    fmts = list(fmts)
    if len(fmts) < 2:
        return {f: render(source, f, font_dirs) for f in fmts}
    env = dict(os.environ)
    if font_dirs:
        env["FONTCONFIG_FILE"] = fontconfig_file(font_dirs)
    with tempfile.TemporaryDirectory(prefix="plansim-dot-") as tmp:
        args = [a for i, f in enumerate(fmts) for a in (f"-T{f}", "-o", f"{tmp}/{i}.{f}")]
        proc = subprocess.run([dot_program(), *args], input=source.encode("utf-8"),
                              capture_output=True, check=False, env=env)
        if proc.returncode != 0:
            raise GraphvizError(f"dot {' '.join(f'-T{f}' for f in fmts)} failed: "
                                f"{proc.stderr.decode('utf-8', 'replace')[:500]}")
        return {f: Path(f"{tmp}/{i}.{f}").read_bytes() for i, f in enumerate(fmts)}


def layout(source: str) -> tuple[dict[str, tuple[float, float]], tuple[float, float]]:
    """Node centres (points, y up, as Graphviz gives them) by node name, and the drawing's
    width and height."""
    data = json.loads(render(source, "json").decode("utf-8"))
    pos = {}
    for obj in data.get("objects", []):
        if "pos" in obj and "nodes" not in obj:
            x, y = (float(v) for v in obj["pos"].split(",")[:2])
            pos[obj["name"]] = (x, y)
    _, _, w, h = (float(v) for v in data["bb"].split(","))
    return pos, (w, h)
