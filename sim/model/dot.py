"""Graphviz ``dot``: node positions for the sketch and rendering of diagrams.

Graphviz is a system package (Debian ``graphviz``; ``make setup`` installs it when run as root,
macOS: ``brew install graphviz``). Only :func:`layout` and :func:`render` need the ``dot``
program; everything that checks whether committed files are current works without it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sim.errors import PlanSimError


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


def _fontconfig(font_dirs) -> str:
    """A fontconfig file adding ``font_dirs`` to the system's fonts (e.g. the CJK font that a
    Python package ships), so that Graphviz measures and draws Chinese text."""
    dirs = "".join(f"<dir>{Path(d).resolve()}</dir>" for d in font_dirs)
    conf = ('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
            '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
            f'{dirs}</fontconfig>')
    d = Path(tempfile.gettempdir()) / "plansim-fontconfig"
    d.mkdir(parents=True, exist_ok=True)
    path = d / "fonts.conf"
    if not path.is_file() or path.read_text(encoding="utf-8") != conf:
        tmp = d / f"fonts.conf.{os.getpid()}"
        tmp.write_text(conf, encoding="utf-8")
        tmp.replace(path)
    return str(path)


def render(source: str, fmt: str, font_dirs=()) -> bytes:
    """Run ``dot -T<fmt>`` on ``source`` and return the output bytes; ``font_dirs``: extra
    directories of font files for Graphviz to use."""
    env = dict(os.environ)
    if font_dirs:
        env["FONTCONFIG_FILE"] = _fontconfig(font_dirs)
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
        env["FONTCONFIG_FILE"] = _fontconfig(font_dirs)
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
