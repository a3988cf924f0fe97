"""CJK font registration and glyph coverage (sim.present.figures.fonts, sim.present.labels)."""

from __future__ import annotations

import io
import types
import warnings

import matplotlib as mpl
import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text

from sim.errors import OutputError
from sim.model.declarations.words import load_words
from sim.present.figures import fonts
from sim.present.labels import TEXT, declared_labels


def test_font_file_comes_from_mplfonts():
    path = fonts.cjk_font_path()
    assert path.name == "NotoSansCJKsc-Regular.otf"
    assert path.parent.name == "fonts" and path.parent.parent.name == "mplfonts"


def test_use_cjk_font_is_idempotent_and_resolves_sans_serif():
    with mpl.rc_context():
        family = fonts.use_cjk_font()
        first = (list(mpl.rcParams["font.sans-serif"]), list(mpl.rcParams["font.family"]))
        n_fonts = len(font_manager.fontManager.ttflist)
        assert fonts.use_cjk_font() == family
        assert (list(mpl.rcParams["font.sans-serif"]), list(mpl.rcParams["font.family"])) == first
        assert len(font_manager.fontManager.ttflist) == n_fonts
        assert first[0][0] == family and first[1] == ["sans-serif"]
        assert mpl.rcParams["axes.unicode_minus"] is False
        found = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]),
                                      fallback_to_default=False)
        assert font_manager.Path(found).resolve() == fonts.cjk_font_path()


def test_missing_package_or_file_raises_output_error(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(OutputError, match="mplfonts"):
        fonts.cjk_font_path()
    spec = types.SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(fonts.importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(OutputError, match="NotoSansCJKsc-Regular.otf"):
        fonts.cjk_font_path()
    with pytest.raises(OutputError, match="does not exist"):
        fonts.register_font(tmp_path / "nope.otf")


def _chinese_figure() -> Figure:
    fonts.use_cjk_font()
    fig = Figure(figsize=(4, 3), layout="constrained")
    ax = fig.subplots()
    ax.plot([2024, 2028], [-1.5, 22000], label="行动计划全面实施")
    ax.plot([2024, 2028], [0, 16000], "--", label="Baseline 基准情景")
    ax.set_title("科技型企业数量（家）：2028年目标")
    ax.set_xlabel("年份")
    ax.set_ylabel("全社会研发经费（亿元）")
    ax.legend(title="图例")
    return fig


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_chinese_renders_without_glyph_warnings(fmt):
    fig = _chinese_figure()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format=fmt)
    # every character on the figure is in the font's cmap
    cmap = set(FT2Font(str(fonts.cjk_font_path())).get_charmap())
    chars = {c for t in fig.findobj(Text) for c in t.get_text() if not c.isspace()}
    assert chars and {c for c in chars if ord(c) not in cmap} == set()


def test_missing_glyph_would_be_detected():
    """The check above can fail: a character outside the font raises the glyph warning."""
    fonts.use_cjk_font()
    fig = Figure()
    fig.text(0.5, 0.5, "\U0001f600")
    assert fonts.missing_glyphs("\U0001f600") == {"\U0001f600"}
    with pytest.warns(UserWarning, match="missing from font"):
        fig.savefig(io.BytesIO(), format="png")


def test_every_label_character_is_covered():
    units = load_words().units
    texts = [v for table in (TEXT, declared_labels(), units)
             for entry in table.values() for v in entry.values()]
    texts += list(units)
    assert fonts.missing_glyphs("".join(texts)) == set()
    assert fonts.missing_glyphs("（）：、，。%-,.0123456789") == set()
