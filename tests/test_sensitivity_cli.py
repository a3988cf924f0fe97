"""`plansim sensitivity` pieces on a toy model: tables, charts and the Shapley report."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sim.analysis.ensembles.ensemble import run_ensemble
from sim.analysis.ensembles.uncertainty_spec import parse_uncertainty
from sim.analysis.sensitivity import compute_indices, regenerate_design
from sim.analysis.sensitivity.shapley import Attribution, shapley_tables
from sim.model.declarations.targets import Target, Targets, load_targets
from sim.present.reports.sensitivity_report import index_figures, shapley_figure, write_outputs

YEARS = np.arange(2020.0, 2036.0)
BASES = {"tech_firms": 11000, "rd_expenditure": 400, "platforms": 100,
         "tech_contract_turnover": 600, "tech_brokers": 1700}
DECLARED = load_targets()   # the plan years and derived outcomes of model/targets.yaml
TARGETS = Targets(DECLARED.plan, tuple(Target(ind, 2.0 * b, ">", "u", {"zh": ind, "en": ind},
                                              DECLARED.year) for ind, b in BASES.items()),
                  DECLARED.derived)
SPEC = parse_uncertainty({"assumptions": {
    "growth": {"distribution": "uniform", "min": 0.05, "max": 0.25, "source": "t",
               "confidence": "C"},
    "boost": {"distribution": "triangular", "min": 0.0, "mode": 0.1, "max": 0.3,
              "source": "t", "confidence": "B"},
    "noise": {"distribution": "uniform", "min": 0.0, "max": 1.0, "source": "t",
              "confidence": "A"}}})


def evaluate(ov):
    g = ov["growth"][:, None] + 0.2 * ov["boost"][:, None]
    t = np.clip(YEARS[None, :] - 2023, 0, None)
    data = {ind: (("sample", "time"), b * (1 + g) ** t + 0 * ov["noise"][:, None])
            for ind, b in BASES.items()}
    data["annual_fiscal_outlay"] = (("sample", "time"), 10 + ov["boost"][:, None] * t)
    return xr.Dataset(data, coords={"time": YEARS})


def simulate(sc, design):
    return run_ensemble(evaluate, design, progress=False)


@pytest.mark.parametrize("method, n", [("sobol", 64), ("morris", 10)])
def test_compute_and_write_indices(tmp_path, method, n):
    tables = compute_indices(SimpleNamespace(id="plan"), SPEC, TARGETS, method=method,
                                 samples=n, seed=3, second_order=(method == "sobol"),
                                 simulate=simulate, say=lambda m: None)
    idx = tables["indices"].set_index(["output", "parameter"])
    key = "ST" if method == "sobol" else "mu_star"
    firms = idx.loc["tech_firms", key]
    assert firms["growth"] > firms["boost"] > firms["noise"] - 1e-12
    assert abs(firms["noise"]) < 1e-9
    assert idx.loc[("fiscal_cost", "boost"), key] > idx.loc[("fiscal_cost", "growth"), key]
    assert list(tables["per_year_platforms"].index) == list(range(2024, 2036))
    torn = tables["tornado_tech_firms"]
    assert torn.loc["growth", "high"] > torn.loc["growth", "central"] > torn.loc["growth", "low"]
    assert torn.loc["noise", "swing"] == pytest.approx(0.0)
    assert ("second_order" in tables) == (method == "sobol")
    figs = index_figures(tables, TARGETS, method, "zh", {"growth": {"zh": "增长", "en": "g"}})
    assert set(figs) == {"indices_zh", "tornado_zh", "per_year_zh"}
    if method == "morris":  # rendering is slow: write the files once, for sobol
        return
    out = write_outputs(tables, figs, tmp_path / "s")
    names = {p.name for p in out.iterdir()}
    assert {"indices.csv", "second_order.csv", "sensitivity.xlsx", "indices_zh.png",
            "tornado_zh.png", "per_year_zh.png", "design.csv", "README.md"} <= names
    assert not [n for n in names if n.endswith(".svg")]   # PNG unless asked
    assert "samples.csv" not in names        # the design is its recipe, not its rows
    assert "regenerate_design" in (out / "README.md").read_text(encoding="utf-8")
    sheets = pd.read_excel(out / "sensitivity.xlsx", sheet_name=None, engine="openpyxl")
    assert "design" in sheets and not any(len(df) > 1000 for df in sheets.values())
    again = regenerate_design(out, spec=SPEC)   # unconditioned: drawn from the spec
    assert again.n == n * (2 * 3 + 2) and again.names == ["growth", "boost", "noise"]


def test_figures_rendered_in_a_worker_are_the_same_bytes(tmp_path):
    from sim.present.output.render import FigurePool, render
    from sim.present.reports.sensitivity_report import KINDS, index_jobs, warm_up

    tables = compute_indices(SimpleNamespace(id="plan"), SPEC, TARGETS, method="morris",
                             samples=4, seed=3, second_order=False, simulate=simulate,
                             say=lambda m: None)
    jobs = index_jobs(tables, TARGETS, "morris", {}, ("zh", "en"), formats=("svg",))
    assert [j.stem for j in jobs] == [f"{k}_{lang}" for lang in ("zh", "en") for k in KINDS]
    assert all(set(j.args[1]) < set(tables) for j in jobs)   # only the tables each one reads
    here = {j.stem: render(j) for j in jobs}
    with FigurePool(1, warm=warm_up) as pool:   # started first, shared, read after a write
        figures = pool.submit_all(jobs)
        out = write_outputs(tables, {}, tmp_path / "w", renderings=figures)
    assert {r.job.stem: r.get() for r in figures} == here
    assert (out / "indices_zh.svg").read_bytes() == here["indices_zh"]["svg"]
    assert (out / "per_year_en.svg").read_bytes() == here["per_year_en"]["svg"]


def test_shapley_report(tmp_path):
    shap = pd.DataFrame({ind: [2.0 * b, b] for ind, b in BASES.items()},
                        index=pd.Index(["fiscal", "brokers"], name="group"))
    base = pd.Series(BASES, dtype=float)
    att = Attribution(2028, shap, base, base + 3 * base, {"fiscal": ["a"], "brokers": ["b"]},
                      pd.DataFrame([base, base + 3 * base]))
    tables = shapley_tables(att)
    totals = tables["totals"]
    np.testing.assert_allclose(totals.loc["difference"], totals.loc["sum_of_shapley"])
    figs = {f"waterfall_{lang}": shapley_figure(att, TARGETS, lang, {}) for lang in ("zh", "en")}
    out = write_outputs(tables, figs, tmp_path / "shap", formats=("svg",))
    assert (out / "waterfall_en.svg").is_file() and (out / "shapley.csv").is_file()
    assert not (out / "waterfall_en.png").exists()


def test_parser():
    from sim.cli.main import build_parser

    a = build_parser().parse_args(["sensitivity", "plan", "--method", "shapley"])
    assert a.method == "shapley" and a.against == "baseline"
    a = build_parser().parse_args(["sensitivity", "plan", "--method", "sobol", "--second-order"])
    assert a.second_order and a.samples is None


def test_bad_sample_count_is_one_line_error(capsys):
    from sim.cli.main import main

    assert main(["sensitivity", "plan", "--method", "sobol", "--samples", "100", "-q"]) == 2
    assert "power of two (e.g. 64 or 128)" in capsys.readouterr().err
    assert main(["uncertainty", "plan", "--sampling", "sobol", "--samples", "100", "-q",
                 "--unconditioned"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("plansim uncertainty: error: --samples is 100")


def test_conditioned_indices_and_given_data_s1(tmp_path):
    """With a posterior the designs come from its draws' marginals; the tornado turns around
    the given centre; given-data S1 comes from the draws themselves."""
    from sim.analysis.ensembles.conditioning import HistoryMatch
    from sim.analysis.ensembles.conditioning_settings import parse_conditioning
    from sim.analysis.estimation.posterior import Posterior

    def evaluate_hist(ov):
        ds = evaluate(ov)
        g = ov["growth"][:, None] + 0.2 * ov["boost"][:, None]
        ds["tech_firms"] = (("sample", "time"), 11000 * (1 + g) ** (YEARS[None, :] - 2023))
        return ds

    rng = np.random.default_rng(0)
    growth = rng.uniform(0.1, 0.2, 400)
    post = Posterior(pd.DataFrame({"growth": growth, "boost": 3 * (0.2 - growth)}),
                     2023, SPEC)
    settings = parse_conditioning({"samples": 100, "seed": 1, "sensitivity_samples": 200})
    match = HistoryMatch(post, settings)
    seen = []
    tables = compute_indices(
        SimpleNamespace(id="plan"), SPEC, TARGETS, method="morris", samples=10, seed=3,
        second_order=False, say=lambda m: None, match=match,
        simulate=lambda sc, d: seen.append(d) or run_ensemble(evaluate_hist, d, progress=False),
        center={"growth": 0.12, "boost": 0.1, "noise": 0.5})
    ran = np.concatenate([d.values for d in seen if d.method == "morris"])
    out = write_outputs(tables, {}, tmp_path / "s")
    assert (out / "design_marginals.csv.gz").is_file()
    np.testing.assert_array_equal(regenerate_design(out).values, ran)   # the very same rows
    cond = tables["conditioning"].iloc[0]
    assert cond["samples"] == 200 and 0 < cond["design_passing_checks"] <= 1
    design = regenerate_design(tables["design"], tables["design_marginals"])
    growth = design.values[:, design.names.index("growth")]
    assert len(growth) == 10 * 4    # morris: N (D + 1) runs
    assert growth.max() - growth.min() < 0.2   # narrower than the prior's 0.05-0.25
    torn = tables["tornado_tech_firms"]
    assert torn["central"].iloc[0] == pytest.approx(11000 * 1.14 ** 5)
    s1 = tables["given_data_S1"].set_index(["output", "parameter"])["S1"]
    assert s1[("tech_firms", "noise")] < 0.1


def test_given_data_first_order_known_answer():
    from sim.analysis.sensitivity import given_data_first_order

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(4000, 2))
    design = SimpleNamespace(values=x, names=["a", "b"])
    out = pd.DataFrame({"y": 2 * x[:, 0] + x[:, 1], "flat": np.ones(4000)})
    s1 = given_data_first_order(design, out, seed=1)["S1"]
    assert s1[("y", "a")] == pytest.approx(0.8, abs=0.05)
    assert s1[("y", "b")] == pytest.approx(0.2, abs=0.05)
    assert s1[("flat", "a")] == 0.0


def test_an_outcome_met_in_almost_no_sample_is_too_rare_to_estimate():
    from sim.analysis.sensitivity.study import rare_outcomes
    from sim.present.tabular.summary import indices_table

    hard = Targets(TARGETS.plan, tuple(Target(t.indicator, 10 * t.target if t.indicator ==
                                              "platforms" else t.target, ">", "u", t.label,
                                              t.year) for t in TARGETS.items), TARGETS.derived)
    tables = compute_indices(SimpleNamespace(id="plan"), SPEC, hard, method="sobol",
                             samples=32, seed=3, second_order=False, simulate=simulate,
                             say=lambda m: None)
    idx = tables["indices"].set_index(["output", "parameter"])
    assert idx.loc["all_targets", "ST"].isna().all()            # no noise shown as indices
    assert (idx.loc["all_targets", "met_share"] == 0).all()
    assert idx.loc["tech_firms", "ST"].notna().all()
    assert rare_outcomes(pd.DataFrame({"a": [0.0] * 99 + [1.0], "b": [0.5, 1.0] * 50})) == \
        {"a": 0.01}
    table = indices_table(tables, "ST", hard, "zh", {})
    assert "all_targets" not in table.frame.columns
    assert "过于罕见，无法估计" in table.title and "不足2%" in table.title
    fig = index_figures(tables, hard, "sobol", "en", {}, kinds=("indices",))["indices_en"]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("Too rare to estimate" in t for t in texts)


def test_indices_print_in_fixed_notation():
    from sim.present.tabular.tables import format_table

    table = pd.DataFrame({"ST": [2.85e-08, 0.5]}, index=pd.Index(["a", "b"], name="p"))
    text = format_table(table, "en")
    assert "e-" not in text and "0.5" in text


def test_the_console_head_line_is_in_the_chosen_language():
    import re

    from sim.present.tabular.summary import indices_head

    zh = indices_head("行动计划全面实施", "ST", 120, "zh")
    assert "120" in zh and not re.search(r"[a-z]{3,}", zh)
    assert "posterior draws" in indices_head("Plan", "ST", 120, "en")
