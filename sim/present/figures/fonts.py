"""A CJK font for matplotlib, so that Chinese and Latin text render without missing glyphs.

The font is Noto Sans CJK SC Regular, shipped as a data file by the installed ``mplfonts``
package (``mplfonts/fonts/NotoSansCJKsc-Regular.otf``). The package is located with
:func:`importlib.util.find_spec`, which does not execute ``mplfonts/__init__.py`` (that would
import ``fontmeta`` and could change matplotlib's rcParams); only the file is used.

Usage::

    from sim.present.figures.fonts import use_cjk_font
    use_cjk_font()          # idempotent; every chart function in sim.present calls it

Noto Sans CJK SC covers Latin, digits, CJK ideographs and the full-width punctuation used in
the labels, so one font renders every label of this project.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import matplotlib as mpl
from matplotlib import font_manager

from sim.errors import OutputError

FONT_PACKAGE = "mplfonts"
FONT_FILE = "NotoSansCJKsc-Regular.otf"

_registered: dict[Path, str] = {}


def cjk_font_path() -> Path:
    """Path of the CJK font file shipped by ``mplfonts``.

    Raises :class:`OutputError` if the package or the file is missing.
    """
    spec = importlib.util.find_spec(FONT_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise OutputError(
            f"CJK font: package '{FONT_PACKAGE}' is not installed; it ships {FONT_FILE}, "
            "which charts need to render Chinese labels (install the project's dependencies)"
        )
    for loc in locations:
        path = Path(loc) / "fonts" / FONT_FILE
        if path.is_file():
            return path.resolve()
    raise OutputError(
        f"CJK font: file 'fonts/{FONT_FILE}' not found in package '{FONT_PACKAGE}' "
        f"(searched {', '.join(locations)}); reinstall '{FONT_PACKAGE}'"
    )


def register_font(path: Path | str) -> str:
    """Add a font file to matplotlib's font manager (once) and return its family name."""
    path = Path(path).resolve()
    if path in _registered:
        return _registered[path]
    if not path.is_file():
        raise OutputError(f"font file '{path}' does not exist")
    known = {Path(f.fname).resolve(): f.name for f in font_manager.fontManager.ttflist}
    if path not in known:
        try:
            font_manager.fontManager.addfont(str(path))
        except (OSError, RuntimeError, ValueError) as exc:
            raise OutputError(f"font file '{path}' could not be loaded: {exc}") from exc
        known = {Path(f.fname).resolve(): f.name for f in font_manager.fontManager.ttflist}
    if path not in known:
        raise OutputError(f"font file '{path}' was not accepted by matplotlib's font manager")
    _registered[path] = known[path]
    return known[path]


def cjk_family() -> str:
    """Family name of the registered CJK font (registering it if needed)."""
    return register_font(cjk_font_path())


def use_cjk_font() -> str:
    """Make the CJK font matplotlib's default sans-serif font; return its family name.

    Sets ``font.family`` to ``sans-serif``, puts the CJK family first in ``font.sans-serif``
    (keeping the previous entries as fallbacks) and ``axes.unicode_minus`` to False (the
    hyphen-minus is drawn for negative numbers). Idempotent: calling it again changes nothing.
    """
    family = cjk_family()
    rc = mpl.rcParams
    rest = [f for f in rc["font.sans-serif"] if f != family]
    if list(rc["font.family"]) != ["sans-serif"]:
        rc["font.family"] = ["sans-serif"]
    if list(rc["font.sans-serif"]) != [family, *rest]:
        rc["font.sans-serif"] = [family, *rest]
    rc["axes.unicode_minus"] = False
    return family


@cache
def _charmap(path: str) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(path).get_charmap())


def missing_glyphs(text: str, path: Path | str | None = None) -> set[str]:
    """Characters of ``text`` (other than whitespace) not covered by the font's cmap."""
    cmap = _charmap(str(path or cjk_font_path()))
    return {ch for ch in text if not ch.isspace() and ord(ch) not in cmap}
