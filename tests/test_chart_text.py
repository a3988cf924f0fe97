"""Every figure the commands make, in both languages: no two texts overlap, none is outside the
canvas (tests/textcheck.py), labels come from declarations, units are in the reader's form, one
style per scenario. Run charts use one real run of baseline and plan; the ensemble, sensitivity,
attribution, what-it-takes and calibration figures use small inline tables."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure

from sim.model.declarations.parameters import load_parameters
from sim.model.declarations.sectors import load_sectors
from sim.model.declarations.targets import load_targets
from sim.model.declarations.varlabels import load_labels
from sim.present.figures import charts
from sim.present.figures.chartutil import new_figure
from sim.present.figures.styles import REFERENCE_STYLE, scenario_styles
from sim.present.labels import format_share, variable_label
from tests.textcheck import assert_text_clean, text_problems

LANGS = ("zh", "en")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def real_runs(simulator):
    """One calibrated run of baseline and plan (batch engine, calendar rows)."""
    from sim.scenarios import load_scenario

    scenarios = [load_scenario("baseline"), load_scenario("plan")]
    return scenarios, {sc.id: simulator.run(sc) for sc in scenarios}


# --- the helper itself ---------------------------------------------------------------------

def test_text_check_finds_overlap_and_clipping():
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.set_title("a title")
    assert text_problems(fig) == []
    ax.text(0.5, 0.5, "same place", transform=ax.transAxes)
    ax.text(0.5, 0.5, "same place too", transform=ax.transAxes)
    fig.text(0.98, 0.5, "runs off the right edge")
    problems = text_problems(fig)
    assert any(p.startswith("overlap: 'same place'") for p in problems)
    assert any(p.startswith("outside the figure: 'runs off") for p in problems)


def test_no_legend_is_placed_best():
    """Every legend of sim/ is placed explicitly (loc='best' is slow and warns under -n 4)."""
    bad = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "legend":
                loc = [k.value for k in node.keywords if k.arg == "loc"]
                if not loc or (isinstance(loc[0], ast.Constant) and loc[0].value == "best"):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, f"legend without an explicit loc: {bad}"


# --- run and compare -----------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_run_figures_read_at_a_glance(real_runs, lang):
    from sim.model.declarations.history import load_history

    scenarios, runs = real_runs
    targets = load_targets()
    styles = scenario_styles([sc.id for sc in scenarios])
    plan = scenarios[1]
    fig = charts.indicator_figure({plan.label(lang): runs["plan"]}, list(targets), lang=lang,
                                  history=load_history(),
                                  styles={plan.label(lang): styles["plan"]})
    assert_text_clean(fig)
    labels = load_labels()
    for sector in load_sectors():
        fig = charts.sector_figure(runs["plan"], list(sector.variables), sector.label,
                                   lang=lang, styles={"": styles["plan"]})
        assert_text_clean(fig)
        for ax, var in zip(fig.axes, sector.variables, strict=False):
            title = ax.get_title().replace("\n", "")
            assert title == variable_label(var, lang).replace("\n", "")
            description = runs["plan"][var].attrs["description"].splitlines()[0]
            assert title != description   # never a model comment
            if var in labels.shares:
                assert ax.get_ylabel() == "%"
                assert ax.get_lines()[0].get_ydata().max() > 1.5 or \
                    runs["plan"][var].max() < 0.015   # shown x 100
            assert "firms*" not in ax.get_ylabel() and "Dmnl" not in ax.get_ylabel()


@pytest.mark.parametrize("lang", LANGS)
def test_compare_figures_one_style_per_scenario(real_runs, lang):
    scenarios, runs = real_runs
    by_label = {sc.label(lang): runs[sc.id] for sc in scenarios}
    ref = scenarios[0].label(lang)
    styles = {sc.label(lang): s for sc, s in
              zip(scenarios, scenario_styles([sc.id for sc in scenarios]).values(), strict=True)}
    fig = charts.indicator_figure(by_label, list(load_targets()), lang=lang, styles=styles)
    assert_text_clean(fig)
    # with the observed history (as in the briefing): two more legend entries above the table
    from sim.model.declarations.history import load_history

    assert_text_clean(charts.indicator_figure(by_label, list(load_targets()), lang=lang,
                                              styles=styles, history=load_history()))
    line = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    fig2 = charts.compare_figure(by_label, list(load_targets()), lang=lang, baseline_key=ref,
                                 styles=styles)
    assert_text_clean(fig2)
    bars = {c.get_label(): c for c in fig2.axes[1].containers}
    for name, style in styles.items():   # the same colour in the lines and the bars
        assert line[name].get_color() == style.color
        face = bars[name].patches[0].get_facecolor()
        from matplotlib.colors import to_rgba

        assert face == pytest.approx(to_rgba(style.color))
    assert styles[ref] == REFERENCE_STYLE and bars[ref].patches[0].get_hatch() == "//"


def test_declared_labels_cover_every_charted_variable():
    labels = load_labels()
    declared = load_targets().indicator_labels()
    for sector in load_sectors():
        for var in sector.variables:
            assert var in declared or (var in labels.zh and var in labels.en), var


# --- uncertainty ---------------------------------------------------------------------------

def _ensemble(n: int = 40, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    t = np.arange(2012, 2036, dtype=float)
    base = {"tech_firms": (11000, "firms"), "rd_expenditure": (400, "亿元/Year"),
            "platforms": (100, "platforms"), "tech_contract_turnover": (600, "亿元/Year"),
            "tech_brokers": (1700, "persons")}
    growth = {"tech_firms": 0.14, "rd_expenditure": 0.14, "platforms": 0.05,
              "tech_contract_turnover": 0.3, "tech_brokers": 0.14}
    out = {}
    for name, (b, unit) in base.items():
        g = growth[name] + 0.02 * rng.standard_normal((n, 1))
        out[name] = xr.DataArray(b * np.exp(g * (t - 2023)[None, :]), dims=("sample", "time"),
                                 attrs={"units": unit})
    return xr.Dataset(out, coords={"sample": np.arange(n), "time": t})


@pytest.mark.parametrize("lang", LANGS)
def test_fan_figure(lang):
    from sim.analysis.ensembles.uncertainty import analyse
    from sim.present.reports.uncertainty_report import fan_figure

    targets = load_targets()
    ds = _ensemble()
    res = analyse("plan", None, ds, targets, central=ds.isel(sample=[0]))
    fig = fan_figure(res, targets, lang, title="plan (N = 40)",
                     color=scenario_styles(["baseline", "plan"])["plan"].color)
    assert_text_clean(fig)
    panel = "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "0% ± 0%" not in panel and "<1%" in panel and ">99%" in panel   # platforms, turnover
    legend = " ".join(t.get_text() for t in fig.axes[5].get_legend().get_texts())
    assert ("中心运行" if lang == "zh" else "central run") in legend   # the central run is named


def test_format_share():
    assert format_share(0.0, 0.0) == "<1%"
    assert format_share(1.0, 0.0) == ">99%"
    assert format_share(0.37, 0.04) == "37% ± 4%"
    assert format_share(0.02, 0.001) == "2%"
    assert format_share(float("nan")) == "-"


# --- sensitivity ---------------------------------------------------------------------------

def _assumption_labels():
    params = load_parameters()
    return {k: a.label for k, a in params.assumptions.items()}


def _morris_tables(targets, seed: int = 1) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    labels = _assumption_labels()
    names = sorted(labels, key=lambda k: -len(labels[k]["en"]))[:14]   # the longest labels
    outputs = [*targets.indicators, "all_targets", "fiscal_cost", "rd_intensity"]
    scale = {"tech_firms": 5000, "rd_expenditure": 300, "platforms": 60,
             "tech_contract_turnover": 800, "tech_brokers": 1500, "all_targets": 0.3,
             "fiscal_cost": 6, "rd_intensity": 0.01}
    central = {"tech_firms": 21319, "rd_expenditure": 686, "platforms": 139,
               "tech_contract_turnover": 1248, "tech_brokers": 3062, "all_targets": 0.0,
               "fiscal_cost": 81.5, "rd_intensity": 0.0347}
    rows = []
    tables: dict[str, pd.DataFrame] = {}
    for out in outputs:
        mu_star = np.sort(rng.uniform(0, scale[out], len(names)))
        for p, m in zip(names, mu_star, strict=True):
            rows.append({"output": out, "parameter": p, "mu": -m, "mu_star": m,
                         "sigma": 0.8 * m, "mu_star_conf": 1.2 * m})
        swing = rng.uniform(-0.3, 0.3, (len(names), 2)) * scale[out] * (out != "all_targets")
        tables[f"tornado_{out}"] = pd.DataFrame(
            {"low": central[out] + swing[:, 0], "high": central[out] + swing[:, 1],
             "swing": np.abs(swing[:, 1] - swing[:, 0]),
             "value_low": rng.uniform(0.01, 0.5, len(names)),
             "value_high": rng.uniform(0.6, 1500, len(names)), "central": central[out]},
            index=pd.Index(names, name="parameter"))
    for ind in targets.indicators:
        tables[f"per_year_{ind}"] = pd.DataFrame(rng.uniform(0, 1, (12, len(names))),
                                                 index=range(2024, 2036), columns=names)
    tables["indices"] = pd.DataFrame(rows)
    return tables


@pytest.mark.parametrize("lang", LANGS)
def test_sensitivity_figures(lang):
    from sim.present.reports.sensitivity_report import index_figures

    targets = load_targets()
    figs = index_figures(_morris_tables(targets), targets, "morris", lang, _assumption_labels())
    for stem, fig in figs.items():
        problems = text_problems(fig)
        assert not problems, f"{stem}: " + "\n".join(problems[:20])
    bars = figs[f"indices_{lang}"].axes[0]
    assert bars.get_xlim()[0] == 0
    for line in bars.lines + [c for c in bars.collections]:   # whiskers stop at 0
        segs = getattr(line, "get_segments", lambda: [])()
        for seg in segs:
            assert np.min(np.asarray(seg)[:, 0]) >= -1e-9
    assert "μ*" in bars.get_xlabel()
    assert ("基本效应" if lang == "zh" else "elementary effect") in bars.get_xlabel()
    torn = figs[f"tornado_{lang}"]
    titles = [ax.get_title() for ax in torn.axes if ax.axison]
    all_label = load_targets().labels()["all_targets"][lang].format(
        n=load_targets().count_word(lang))
    assert all_label not in titles   # the flat "all targets" panel is dropped ...
    assert all_label in torn.get_supxlabel()   # ... and named in the note
    first = torn.axes[0]
    assert first.get_xlabel() == ("家" if lang == "zh" else "firms")
    assert "–" in first.get_yticklabels()[-1].get_text()       # the parameter's low-high
    assert len(first.texts) == 2 * 12                          # each bar's value
    intensity = [ax for ax in torn.axes if ax.get_title() == targets.labels()[
        "rd_intensity"][lang]][0]
    assert intensity.get_xlabel() == "%" and intensity.get_xlim()[1] > 1   # 3.5%, not 0.035


@pytest.mark.parametrize("lang", LANGS)
def test_sobol_figures(lang):
    from sim.present.reports.sensitivity_report import index_figures

    targets = load_targets()
    tables = _morris_tables(targets)
    idx = tables["indices"]
    tables["indices"] = pd.DataFrame({"output": idx["output"], "parameter": idx["parameter"],
                                      "S1": idx["mu_star"] / idx["mu_star"].max() * 0.5,
                                      "S1_conf": 0.1, "ST": idx["mu_star"] / idx[
                                          "mu_star"].max() * 0.6, "ST_conf": 0.1})
    figs = index_figures(tables, targets, "sobol", lang, _assumption_labels())
    fig = figs[f"indices_{lang}"]
    assert_text_clean(fig)
    for c in fig.axes[0].collections:
        for seg in getattr(c, "get_segments", lambda: [])():
            assert np.min(np.asarray(seg)[:, 0]) >= -1e-9


@pytest.mark.parametrize("lang", LANGS)
def test_shapley_waterfall(lang):
    from sim.analysis.sensitivity.shapley import Attribution, shapley_tables
    from sim.present.reports.sensitivity_report import shapley_figure

    targets = load_targets()
    params = load_parameters()
    groups = list(params.groups)          # every lever group: the labels narrow the axes
    base = pd.Series({"tech_firms": 20576.0, "rd_expenditure": 674.2, "platforms": 136.1,
                      "tech_contract_turnover": 1159.0, "tech_brokers": 2775.0})
    plan = pd.Series({"tech_firms": 21319.0, "rd_expenditure": 686.4, "platforms": 139.6,
                      "tech_contract_turnover": 1248.3, "tech_brokers": 3062.0})
    diff = plan - base
    weights = np.resize([0.34, 0.40, 0.0, 0.24, 0.005, 0.015], len(groups))
    weights = weights / weights.sum()     # the steps add up to the change, as Shapley's do
    shap = pd.DataFrame(np.outer(weights, diff), index=pd.Index(groups, name="group"),
                        columns=base.index)
    att = Attribution(2028, shap, base, plan, {g: [] for g in groups}, pd.DataFrame(),
                      reference="plan", scenario="extra")
    names = ({"zh": "基准情景(行动计划前政策延续)", "en": "Baseline (pre-plan policy continued)"},
             {"zh": "追加投入", "en": "Extra money"})
    fig = shapley_figure(att, targets, lang, params.groups, names=names)
    assert_text_clean(fig)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0] == names[0][lang] and ticks[-1] == names[1][lang]
    assert ax.get_xlim()[0] > 10000   # the axis does not start at 0: the steps are visible
    values = [t.get_text() for t in ax.texts]
    assert "−0" in values or "+0" in values or all("e-" not in v for v in values)
    assert all(len(v) <= 8 for v in values)   # no -0.00638 printed over the titles
    totals = shapley_tables(att)["totals"]
    assert list(totals.index[:2]) == ["plan", "extra"]


# --- what it takes, returns, discover, calibration -----------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_requirement_figures(lang):
    from sim.present.figures.requirement_charts import (
        prim_trajectory,
        probability_curves,
        return_bars,
    )

    params = load_parameters()
    levers = [lid for lid, lv in params.levers.items() if lid.endswith("_share")][:3]
    spend = np.arange(0, 201, 25.0)
    curves = pd.concat([pd.DataFrame({"direction": d, "spend": spend,
                                      "tech_firms": np.linspace(0.24, 0.24 + 0.05 * (i + 1),
                                                                len(spend))})
                        for i, d in enumerate([*levers, "even"])])
    req = pd.DataFrame({"target": ["tech_firms"], "probability": [0.5], "reachable": [False],
                        "extra_budget_2024_2028": [np.nan]})
    fig, axes = new_figure(1, 1, figsize=(8, 5))
    probability_curves(axes[0, 0], curves, "tech_firms", lang=lang, probabilities=(0.5, 0.8),
                       requirements=req, names={k: params.levers[k].label for k in levers},
                       title="plan: " + load_targets().labels()["tech_firms"][lang])
    assert_text_clean(fig)
    table = pd.DataFrame({"indicator": "tech_firms", "group": list(params.groups)[:4],
                          "median": [30.0, 12.0, 5.0, 1.0], "P5": [10.0, 2.0, 1.0, 0.0],
                          "P95": [60.0, 20.0, 9.0, 2.0], "unit": "firms"})
    fig, axes = new_figure(1, 1, figsize=(8, 5))
    return_bars(axes[0, 0], table, "tech_firms", lang=lang, names=params.groups, title="x")
    assert_text_clean(fig)
    traj = pd.DataFrame({"target": "all", "box": [0] * 5 + [1] * 5,
                         "coverage": np.r_[np.linspace(1, 0.3, 5), np.linspace(0.3, 0.1, 5)],
                         "density": np.r_[np.linspace(0.1, 0.6, 5), np.linspace(0.6, 0.9, 5)]})
    fig, axes = new_figure(1, 1, figsize=(8, 5))
    prim_trajectory(axes[0, 0], traj, "all", lang=lang, chosen=[(0.3, 0.6)], title="plan")
    assert_text_clean(fig)


@pytest.mark.parametrize("lang", LANGS)
def test_calibration_figures(lang):
    from sim.present.reports.calibration_report import fit_figure, parameter_figure

    t = np.arange(2012, 2024, dtype=float)
    fit = pd.DataFrame({"indicator": ["tech_firms", "tech_firms", "rd_expenditure",
                                      "platforms", "tech_contract_turnover", "tech_brokers"],
                        "variable": ["tech_firms", "tech_firms", "rd_expenditure",
                                     "platforms", "tech_contract_turnover", "tech_brokers"],
                        "year": [2020, 2023, 2020, 2023, 2021, 2023],
                        "value": [8000.0, 11000.0, 300.0, 100.0, 320.0, 1700.0],
                        "status": ["sourced", "implied", "sourced", "implied", "lower_bound",
                                   "implied"]})
    bands = {v: pd.DataFrame({"time": t, "P5": 0.8 * b * 1.1 ** (t - 2012),
                              "P50": b * 1.1 ** (t - 2012), "P95": 1.2 * b * 1.1 ** (t - 2012),
                              "central": b * 1.1 ** (t - 2012)})
             for v, b in (("tech_firms", 3000.0), ("rd_expenditure", 150.0), ("platforms", 40.0),
                          ("tech_contract_turnover", 30.0), ("tech_brokers", 300.0))}
    assert_text_clean(fit_figure(fit, bands, lang))
    ids = list(_assumption_labels())[:6]
    params = pd.DataFrame({"prior_P5": 0.05, "prior_P95": 0.95, "post_P5": 0.3,
                           "post_P50": 0.4, "post_P95": 0.5, "moved": [True, False] * 3},
                          index=pd.Index(ids, name="assumption"))
    fig = parameter_figure(params, pd.Series(0.0, index=ids), pd.Series(1.0, index=ids), lang)
    assert_text_clean(fig)
