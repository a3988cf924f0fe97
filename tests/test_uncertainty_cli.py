"""`plansim uncertainty` pieces on a toy model: tables, workbook and fan charts, atomically."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sim.analysis.ensembles.ensemble import run_ensemble
from sim.analysis.ensembles.uncertainty import compute, tables
from sim.analysis.ensembles.uncertainty_spec import parse_uncertainty
from sim.errors import OutputError
from sim.model.declarations.targets import Target, Targets, load_targets
from sim.present.output.outdir import MARKER, marker_text
from sim.present.reports.uncertainty_report import write_outputs

YEARS = np.arange(2012.0, 2036.0)
BASES = {"tech_firms": 11000, "rd_expenditure": 400, "platforms": 100,
         "tech_contract_turnover": 600, "tech_brokers": 1700}
DECLARED = load_targets()   # the plan years and derived outcomes of model/targets.yaml
TARGETS = Targets(DECLARED.plan, tuple(
    Target(ind, 2.0 * b, ">", "u", {"zh": f"指标{i}", "en": f"indicator {i}"}, DECLARED.year)
    for i, (ind, b) in enumerate(BASES.items())), DECLARED.derived)
SPEC = parse_uncertainty({"assumptions": {
    "growth": {"distribution": "uniform", "min": 0.05, "max": 0.25, "source": "t",
               "confidence": "C"}}})


def toy(scale):
    def evaluate(ov):
        g = ov["growth"][:, None]
        t = np.clip(YEARS[None, :] - 2023, 0, None)
        return xr.Dataset({ind: (("sample", "time"), b * scale * (1 + g) ** t)
                           for ind, b in BASES.items()}, coords={"time": YEARS})
    return evaluate


def simulate(sc, design):
    return run_ensemble(toy(sc.scale), design, progress=False)


def test_compute_and_write(tmp_path):
    scenarios = [SimpleNamespace(id="plan", scale=1.0), SimpleNamespace(id="weak", scale=0.8)]
    results = compute(scenarios, SPEC, TARGETS, samples=64, seed=1,
                          sampling="lhs", simulate=simulate, say=lambda m: None)
    assert [r.scenario for r in results] == ["plan", "weak"]
    p_plan = results[0].probabilities.loc["all_targets", "probability"]
    p_weak = results[1].probabilities.loc["all_targets", "probability"]
    # (1+g)^5 > 2 <=> g > 0.1487: P = (0.25 - 0.1487) / 0.2 for the plan
    assert p_plan == pytest.approx((0.25 - (2 ** 0.2 - 1)) / 0.2, abs=0.03)
    assert p_weak < p_plan
    out = tmp_path / "uncertainty"
    (tmp_path / "uncertainty").mkdir()
    (out / "stale.csv").write_text("old")
    with pytest.raises(OutputError, match="not written by plansim"):  # not ours: kept
        write_outputs(results, TARGETS, out, say=lambda m: None)
    assert (out / "stale.csv").read_text() == "old"
    (out / MARKER).write_text(marker_text("uncertainty", ["stale.csv"]))  # ours, listed
    write_outputs(results, TARGETS, out, say=lambda m: None, formats=("png", "svg"))
    names = {p.name for p in out.iterdir()}
    assert "stale.csv" not in names
    for f in ("percentiles.csv", "probabilities.csv", "first_year.csv", "comparison.csv",
              "samples.csv", "uncertainty.xlsx", "fan_plan_zh.png", "fan_plan_en.svg",
              "fan_weak_zh.svg", "fan_weak_en.png"):
        assert f in names
    pct = pd.read_csv(out / "percentiles.csv")
    assert list(pct.columns) == ["scenario", "indicator", "time", "P5", "P25", "P50", "P75",
                                 "P95"]
    assert (pct["P5"] <= pct["P95"]).all() and len(pct) == 2 * 5 * len(YEARS)
    sheets = pd.read_excel(out / "uncertainty.xlsx", sheet_name=None, engine="openpyxl")
    assert list(sheets)[:2] == ["摘要", "指标逐年"] and list(sheets)[-1] == "单位与说明"
    assert {"百分位数", "达标概率", "首次达标年份", "情景对比", "样本"} <= set(sheets)
    assert len(sheets["单位与说明"]) >= len(TARGETS.indicators)      # the units sheet filled
    heads = " ".join(str(c) for name in ("首次达标年份", "情景对比") for c in sheets[name].columns)
    assert not any(w in heads for w in ("first_year", "comparison", "central", "P95"))
    import openpyxl

    from sim.present.reports.uncertainty_report import summary_tables
    from sim.present.tabular.tables import WIDTH, display_width, format_tables

    summary = summary_tables(results, TARGETS, "zh")
    assert max(display_width(x) for x in format_tables(summary, "zh").splitlines()) <= WIDTH
    rows = list(openpyxl.load_workbook(out / "uncertainty.xlsx")["摘要"].iter_rows(
        values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == "指标")
    assert rows[head][9] == "达标概率"
    for i, r in enumerate(results[0].probabilities["probability"]):   # the library's P(met)
        assert rows[head + 1 + i][9] == pytest.approx(r)
    fy = pd.read_csv(out / "first_year.csv")
    np.testing.assert_allclose(fy.groupby("scenario")["tech_firms"].sum(), [1.0, 1.0])
    assert fy["tech_firms"].between(0, 1).all()   # shares, not counts


def test_compute_from_the_posterior_with_central(tmp_path):
    """A posterior that pins growth near 0.15: the ensemble is its draws, the central run is
    shown beside the bands, the provenance table names the origin."""
    from sim.analysis.ensembles.conditioning import HistoryMatch
    from sim.analysis.estimation.posterior import Posterior

    def evaluate(ov):
        g = ov["growth"][:, None]
        return xr.Dataset({ind: (("sample", "time"), b * (1 + g) ** (YEARS[None, :] - 2023))
                           for ind, b in BASES.items()}, coords={"time": YEARS})

    post = Posterior(pd.DataFrame({"growth": np.linspace(0.14, 0.16, 101)}), 2023, SPEC,
                     {"data_cutoff": "2023-12-31", "data_hash": "abc"})
    match = HistoryMatch(post)
    central = evaluate({"growth": np.array([0.15])})
    results = compute([SimpleNamespace(id="plan")], SPEC, TARGETS, samples=50, seed=2,
                      sampling="lhs", simulate=lambda sc, d: run_ensemble(
                          evaluate, d, progress=False),
                      say=lambda m: None, match=match, central=lambda sc: central)
    r = results[0]
    g = r.design.values[:, 0]
    assert r.design.n == 50 and g.min() >= 0.14 and g.max() <= 0.16
    assert (r.probabilities["n"] == 50).all()
    assert r.probabilities.loc["tech_firms", "central"] == pytest.approx(11000 * 1.15 ** 5)
    frames = tables(results, TARGETS)
    assert list(frames["percentiles"].columns[:4]) == ["scenario", "indicator", "time",
                                                       "central"]
    cond = frames["conditioning"].iloc[0]
    assert cond["samples"] == 50 and cond["origin"] == 2023
    assert frames["history_match"].iloc[0]["origin"] == 2023
    assert frames["comparison"].set_index(["scenario", "indicator"]).loc[
        ("plan", "tech_firms"), "central"] == pytest.approx(11000 * 1.15 ** 5)
    write_outputs(results, TARGETS, tmp_path / "u", say=lambda m: None)
    assert (tmp_path / "u" / "conditioning.csv").is_file()
    assert (tmp_path / "u" / "history_match.csv").is_file()


def test_parser_defaults_and_help():
    from sim.cli.main import build_parser

    args = build_parser().parse_args(["uncertainty", "plan", "baseline", "--samples", "50"])
    assert args.scenarios == ["plan", "baseline"] and args.samples == 50
    assert args.seed is None and args.sampling == "lhs" and args.scheduler is None   # canonical
