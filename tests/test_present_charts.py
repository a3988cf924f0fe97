"""Charts on synthetic results Datasets (sim.present.figures.charts, sim.present.figures.analysis_charts)."""

from __future__ import annotations

import io
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.text import Text

from sim.errors import OutputError
from sim.present.figures import analysis_charts, charts
from sim.present.figures.fonts import missing_glyphs

BASE = {"tech_firms": (11000, "firms"), "rd_expenditure": (400, "亿元"),
        "platforms": (100, "platforms"), "tech_contract_turnover": (600, "亿元"),
        "tech_brokers": (1700, "persons"), "high_tech_enterprises": (7920, "firms")}
TARGETS = [
    {"indicator": "tech_firms", "target": 22000, "unit": "firms", "year": 2028,
     "label": {"zh": "科技型企业数量", "en": "Technology-based firms"}},
    {"indicator": "rd_expenditure", "target": 800, "unit": "亿元", "year": 2028,
     "label": {"zh": "全社会研发经费", "en": "R&D expenditure"}},
    {"indicator": "platforms", "target": 200, "unit": "platforms", "year": 2028,
     "label": {"zh": "省级以上科创平台", "en": "S&T platforms"}},
    {"indicator": "tech_contract_turnover", "target": 1200, "unit": "亿元", "year": 2028,
     "label": {"zh": "技术合同成交额", "en": "Technology contract turnover"}},
    {"indicator": "tech_brokers", "target": 3400, "unit": "persons", "year": 2028,
     "label": {"zh": "技术经纪人", "en": "Technology brokers"}},
]
HISTORY = pd.DataFrame({
    "indicator": ["tech_firms", "rd_expenditure", "rd_expenditure", "high_tech_enterprises"],
    "year": [2023, 2015, 2023, 2017],
    "value": [11000.0, 263.7, 400.0, 2039.0],
    "status": ["implied", "sourced", "implied", "conflicting"],
})


def make_ds(growth: float, n: int = 1, seed: int = 0) -> xr.Dataset:
    """Exponential paths through the 2023 bases; dims ("sample", "time") as in the contract."""
    rng = np.random.default_rng(seed)
    t = np.arange(2012, 2036, dtype=float)
    out = {}
    for name, (base, unit) in BASE.items():
        g = growth + (0.01 * rng.standard_normal((n, 1)) if n > 1 else 0.0)
        out[name] = xr.DataArray(
            base * np.exp(g * (t - 2023)[None, :]), dims=("sample", "time"),
            attrs={"units": unit, "description": name.replace("_", " ").capitalize(),
                   "vensim_name": name.replace("_", " ")})
    return xr.Dataset(out, coords={"sample": np.arange(n), "time": t})


RUNS = {"基准情景": make_ds(0.08), "行动计划全面实施": make_ds(0.15)}
STYLES = {"基准情景": {"baseline": True}}


def render_clean(fig: Figure) -> None:
    """PNG and SVG without any warning, and every drawn character in the font's cmap."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fmt in ("png", "svg"):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=40)
            assert buf.tell() > 1000
    chars = "".join(t.get_text() for t in fig.findobj(Text))
    assert missing_glyphs(chars) == set()


@pytest.fixture
def no_leak():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_indicator_figure_renders(lang, no_leak):
    fig = charts.indicator_figure(RUNS, TARGETS, lang=lang, history=HISTORY, styles=STYLES)
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert len(axes) == 6
    titles = [ax.get_title() for ax in axes[:5]]
    assert titles[0] == ("科技型企业数量" if lang == "zh" else "Technology-based firms")
    assert axes[0].get_ylabel() == ("家" if lang == "zh" else "firms")
    side = axes[5]
    assert side.get_legend() is not None
    legend_texts = [t.get_text() for t in side.get_legend().get_texts()]
    assert "行动计划全面实施" in legend_texts
    assert ("2028年目标" if lang == "zh" else "2028 target") in legend_texts
    cells = [c.get_text().get_text() for c in side.tables[0].get_celld().values()]
    assert "75%" in cells and "106%" in cells  # exp(0.4) / 2 and exp(0.75) / 2 of target
    render_clean(fig)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_compare_and_sector_figures_render(lang, no_leak):
    fig = charts.compare_figure(RUNS, TARGETS, lang=lang, baseline_key="基准情景")
    left = fig.axes[0]
    styles = {ln.get_linestyle() for ln in left.get_lines()[:2]}
    assert styles == {"--", "-"}  # baseline dashed, plan solid
    render_clean(fig)
    ens = make_ds(0.1, n=20)
    fig = charts.sector_figure(ens, ["high_tech_enterprises", "tech_firms", "rd_expenditure",
                                     "platforms"], {"zh": "企业", "en": "Firms"}, lang=lang,
                               labels={"high_tech_enterprises": {"zh": "高企", "en": "HTE"}})
    assert len(fig.axes) == 6 and sum(ax.axison for ax in fig.axes) == 4
    assert fig.axes[0].get_title() == ("高企" if lang == "zh" else "HTE")
    assert fig.axes[2].get_ylabel() == ("亿元" if lang == "zh" else "100 million yuan")
    assert any(isinstance(c, PolyCollection) for c in fig.axes[0].collections)  # 5-95 band
    assert len(fig.axes[0].get_lines()) == 1
    render_clean(fig)


def test_plot_indicator_on_pyplot_axes(no_leak):
    fig, ax = plt.subplots()
    try:
        out = charts.plot_indicator(ax, {"甲": RUNS["基准情景"]["tech_firms"]}, "tech_firms",
                                    target=22000, lang="zh", history=HISTORY,
                                    styles={"甲": {"baseline": True}})
        assert out is ax
        lines = {ln.get_label(): ln for ln in ax.get_lines()}
        assert lines["甲"].get_linestyle() == "--"
        assert lines["2028年目标"].get_xydata().tolist() == [[2028.0, 22000.0]]
        assert lines["推算基数"].get_markerfacecolor() == "none"
        assert "统计数据" not in lines  # no sourced tech_firms rows in HISTORY
        assert ax.get_title() == "科技型企业数量"  # the label of model/targets.yaml
        render_clean(fig)
    finally:
        plt.close(fig)


def test_plot_indicator_input_errors():
    fig = Figure()
    ax = fig.subplots()
    with pytest.raises(OutputError, match="not found"):
        charts.plot_indicator(ax, RUNS, "nonexistent")
    with pytest.raises(OutputError, match="'zh' and 'en'"):
        charts.plot_indicator(ax, RUNS, "tech_firms", lang="de")
    with pytest.raises(OutputError, match="status"):
        charts.plot_indicator(ax, RUNS, "tech_firms",
                              history=HISTORY.assign(status="guessed"))
    with pytest.raises(OutputError, match="non-empty mapping"):
        charts.plot_indicator(ax, {}, "tech_firms")
    with pytest.raises(OutputError, match="non-empty mapping"):
        charts.plot_indicator(ax, RUNS["基准情景"], "tech_firms")
    sub = RUNS["基准情景"]["tech_firms"].expand_dims(region=["a", "b"])
    with pytest.raises(OutputError, match="extra dimensions"):
        charts.plot_indicator(ax, {"x": sub}, "tech_firms")
    with pytest.raises(OutputError, match="baseline_key"):
        charts.compare_figure(RUNS, TARGETS, lang="zh", baseline_key="nope")
    with pytest.raises(OutputError, match="no target"):
        charts.compare_figure(RUNS, [], lang="zh", baseline_key="基准情景")


def _percentiles(ds: xr.Dataset) -> xr.DataArray:
    q = ds["tech_firms"].quantile([0.05, 0.25, 0.5, 0.75, 0.95], dim="sample")
    q = q.rename(quantile="percentile").assign_coords(percentile=[5, 25, 50, 75, 95])
    q.attrs["units"] = "firms"
    return q


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_analysis_charts_render(lang, no_leak):
    fig = Figure(figsize=(12, 7), layout="constrained")
    ax = fig.subplots(2, 3).ravel()
    assert analysis_charts.fan_chart(ax[0], _percentiles(make_ds(0.1, n=50)), target=TARGETS[0],
                            lang=lang) is ax[0]
    swings = pd.DataFrame({"low": [21000.0, 20000.0, 21500.0],
                           "high": [23000.0, 25000.0, 22500.0]}, index=["a", "b", "c"])
    assert analysis_charts.tornado(ax[1], swings, base=22000, lang=lang, unit="firms",
                          labels={"b": {"zh": "挤入效应", "en": "Crowding in"}}) is ax[1]
    ticks = [t.get_text() for t in ax[1].get_yticklabels()]
    assert ticks[-1] == ("挤入效应" if lang == "zh" else "Crowding in")  # largest swing on top
    assert ticks[0] == "c"
    si = pd.DataFrame({"S1": [0.1, 0.5], "S1_conf": [0.02, 0.05], "ST": [0.2, 0.6],
                       "ST_conf": [0.03, 0.05]}, index=["x", "y"])
    assert analysis_charts.bar_indices(ax[2], si, lang=lang) is ax[2]
    assert [t.get_text() for t in ax[2].get_yticklabels()] == ["x", "y"]
    assert analysis_charts.waterfall(ax[3], pd.Series({"p": 3000.0, "q": -500.0}), 16000, 20000,
                            lang=lang) is ax[3]
    names = [t.get_text() for t in ax[3].get_yticklabels()]
    assert len(names) == 5 and names[3] == ("交互作用" if lang == "zh" else "Interaction")
    per_year = pd.DataFrame({"a": np.linspace(0.1, 0.5, 6), "b": np.linspace(0.6, 0.2, 6)},
                            index=np.arange(2024, 2030))
    assert analysis_charts.lines_over_time(ax[4], per_year, lang=lang, bands=per_year * 0.1) is ax[4]
    assert len(ax[4].get_lines()) == 2
    render_clean(fig)


def test_waterfall_without_gap_has_no_residual_bar():
    ax = Figure().subplots()
    analysis_charts.waterfall(ax, pd.Series({"p": 3000.0, "q": 1000.0}), 16000, 20000, lang="en")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Start", "p", "q", "End"]


def test_analysis_chart_input_errors():
    ax = Figure().subplots()
    pct = _percentiles(make_ds(0.1, n=10)).isel(percentile=[0, 2, 4])
    with pytest.raises(OutputError, match="percentile 25 missing"):
        analysis_charts.fan_chart(ax, pct, lang="zh")
    with pytest.raises(OutputError, match=r"\['high'\] missing"):
        analysis_charts.tornado(ax, pd.DataFrame({"low": [1.0]}), base=0)
    with pytest.raises(OutputError, match="ST_conf"):
        analysis_charts.bar_indices(ax, pd.DataFrame({"S1": [1.0], "S1_conf": [0.1], "ST": [1.0]}))
    with pytest.raises(OutputError, match="pandas Series"):
        analysis_charts.waterfall(ax, {"a": 1.0}, 0, 1)
    analysis_charts.waterfall(ax, pd.Series(dtype=float), 0, 0)   # nothing differs: the two ends only
    assert [t.get_text() for t in ax.get_yticklabels()] == ["起点", "终点"]


def test_scenarios_differ_in_line_style_and_hatch_not_only_colour():
    """Any two scenarios of a chart differ in colour, line style and hatch (print, colour
    blindness); a band is a hatched outline, no translucent fill; the plan period is named in
    the legend."""
    import numpy as np
    import xarray as xr
    from matplotlib.figure import Figure

    from sim.present.figures.chartutil import draw_series, style_time_axis
    from sim.present.figures.styles import scenario_styles

    styles = list(scenario_styles(["a", "b", "c", "baseline"]).values())
    for i, s in enumerate(styles):
        for t in styles[i + 1:]:
            assert s.color != t.color and s.linestyle != t.linestyle and s.hatch != t.hatch
    ax = Figure().subplots()
    da = xr.DataArray(np.random.default_rng(1).normal(size=(50, 4)), dims=("sample", "time"),
                      coords={"time": [2024.0, 2025.0, 2026.0, 2027.0]})
    draw_series(ax, da, "a", hatch=styles[0].hatch, **styles[0].line())
    (band,) = ax.collections
    fill = band.get_facecolor()
    assert band.get_hatch() == styles[0].hatch and (len(fill) == 0 or fill[0][3] == 0)
    style_time_axis(ax, "en", (2024, 2028))
    assert "Plan period 2024-2028" in ax.get_legend_handles_labels()[1]
