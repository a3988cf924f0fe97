"""Calibration: observations, recovery of known parameters on a tiny model, the real file."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from sim.analysis.calibration import (
    Break,
    Settings,
    fit,
    load_settings,
    observations,
    series_statistics,
    simulated_at,
)
from sim.errors import CalibrationError

TINY = """{UTF-8}
firms = INTEG(births - exits, 500)
~ firms ~ |
births = birth rate * firms / (1 + firms / 20000)
~ firms/Year ~ |
exits = firms * 0.05
~ firms/Year ~ |
birth rate = 0.2
~ 1/Year ~ |
rd per firm = 1
~ Dmnl ~ |
basis factor = 0.9
~ Dmnl ~ |
inert = 1
~ Dmnl ~ assumption with no effect on anything observed |
rd = firms * rd per firm * 0.01 + inert * 0
~ Dmnl ~ |
rd old basis = rd / basis factor
~ Dmnl ~ |
INITIAL TIME = 2012
~ Year ~ |
FINAL TIME = 2025
~ Year ~ |
TIME STEP = 0.25
~ Year ~ |
SAVEPER = 1
~ Year ~ |
"""
TRUE = {"birth_rate": 0.3, "rd_per_firm": 2.0, "basis_factor": 0.85}
BOUNDS = {"birth_rate": (0.05, 0.6), "rd_per_firm": (0.5, 5.0), "basis_factor": (0.7, 1.0),
          "inert": (0.0, 2.0)}
SETTINGS = Settings(estimate=("birth_rate", "rd_per_firm", "basis_factor"),
                    weights={"sourced": 1.0, "implied": 0.5, "conflicting": 0.0},
                    exclude={"gdp": "exogenous"},
                    exclude_rows={("firms", 2012): "initial value"},
                    breaks=(Break("rd", 2018, "rd_old_basis"),))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from sim.engine import compile_model

    path = tmp_path_factory.mktemp("tiny") / "tiny.mdl"
    path.write_text(TINY, encoding="utf-8")
    bm = compile_model(path)

    def simulate(values):
        n = len(next(iter(values.values())))
        return bm.run(dict(values), n_samples=n, reporting="calendar")

    return bm, simulate


def _history(bm, seed=3, sigma=0.01):
    """Synthetic gappy history from the true parameters, with multiplicative noise."""
    rng = np.random.default_rng(seed)
    ds = bm.run({k: v for k, v in TRUE.items()}, reporting="calendar").isel(sample=0)
    rows = []
    for year in (2012, 2014, 2017, 2019, 2022):
        rows.append(("firms", year, float(ds["firms"].sel(time=year)), "sourced"))
    for year in (2013, 2016, 2020, 2023):
        var = "rd_old_basis" if year < 2018 else "rd"
        rows.append(("rd", year, float(ds[var].sel(time=year)), "sourced"))
    rows.append(("firms", 2024, float(ds["firms"].sel(time=2024)), "implied"))
    rows += [("firms", 2010, 100.0, "sourced"), ("firms", 2021, 1.0, "conflicting"),
             ("gdp", 2020, 5.0, "sourced"), ("patents", 2020, 5.0, "sourced")]
    df = pd.DataFrame(rows, columns=["indicator", "year", "value", "status"])
    df["value"] *= np.exp(rng.normal(0, sigma, len(df)))
    return df.assign(unit="", source="synthetic")


def test_observations_weights_breaks_and_skips(tiny):
    bm, _ = tiny
    obs, skipped = observations(_history(bm), SETTINGS, list(bm.variables), (2012, 2024))
    assert len(obs) == 9
    rd = obs[obs["indicator"] == "rd"].set_index("year")["variable"]
    assert rd.to_dict() == {2013: "rd_old_basis", 2016: "rd_old_basis", 2020: "rd", 2023: "rd"}
    assert obs.set_index(["indicator", "year"]).loc[("firms", 2024), "weight"] == 0.5
    reasons = skipped.set_index("indicator")["reason"]
    assert reasons["gdp"].startswith("excluded")
    assert reasons["patents"] == "not a model variable"
    assert set(skipped["year"]) == {2010, 2012, 2021, 2020}
    assert (skipped.set_index(["indicator", "year"]).loc[("firms", 2012), "reason"]
            == "excluded: initial value")


def test_fit_recovers_known_parameters(tiny):
    bm, simulate = tiny
    obs, _ = observations(_history(bm), SETTINGS, list(bm.variables), (2012, 2024))
    ids = list(SETTINGS.estimate)
    start = [0.15, 1.0, 0.95]
    res = fit(simulate, obs, ids, start, [BOUNDS[i][0] for i in ids], [BOUNDS[i][1] for i in ids])
    truth = np.array([TRUE[i] for i in ids])
    np.testing.assert_allclose(res.x, truth, rtol=0.03)
    assert res.success and res.dof == len(obs) - 3
    assert np.all(res.ci_low < truth) and np.all(truth < res.ci_high)
    assert res.constrained.all(), res.warnings
    # residuals are weighted log errors; statistics per series are small
    stats = series_statistics(obs, res.simulated)
    assert set(stats.index) == {"firms", "rd"}
    assert (stats["mape"] < 3).all()
    assert stats.loc["firms", "r2"] > 0.99
    np.testing.assert_allclose(stats[["um", "us", "uc"]].sum(axis=1), 1.0)


def test_exact_data_give_exact_estimates_and_jacobian_matches(tiny):
    bm, simulate = tiny
    obs, _ = observations(_history(bm, sigma=0.0), SETTINGS, list(bm.variables), (2012, 2024))
    ids = list(SETTINGS.estimate)
    res = fit(simulate, obs, ids, [0.2, 3.0, 0.75], [BOUNDS[i][0] for i in ids],
              [BOUNDS[i][1] for i in ids])
    np.testing.assert_allclose(res.x, [TRUE[i] for i in ids], rtol=1e-4)
    # d ln(rd)/d rd_per_firm = 1/rd_per_firm for the rd rows (weight 1)
    rd_rows = (obs["indicator"] == "rd").to_numpy()
    np.testing.assert_allclose(res.jac[rd_rows, 1], 1 / TRUE["rd_per_firm"], rtol=1e-3)


def test_unidentified_and_at_bound_parameters_are_flagged(tiny):
    bm, simulate = tiny
    obs, _ = observations(_history(bm), SETTINGS, list(bm.variables), (2012, 2024))
    ids = ["birth_rate", "rd_per_firm", "basis_factor", "inert"]
    res = fit(simulate, obs, ids, [0.2, 1.0, 0.9, 1.0], [BOUNDS[i][0] for i in ids],
              [BOUNDS[i][1] for i in ids])
    table = res.table()
    assert not table.loc["inert", "constrained"]
    assert "not identified" in table.loc["inert", "warning"]
    assert table.loc["birth_rate", "constrained"]
    # the truth 2.0 lies above a bound of 1.5: the estimate sits at the bound, flagged
    res2 = fit(simulate, obs, ids[:3], [0.2, 1.0, 0.9], [0.05, 0.5, 0.7], [0.6, 1.5, 1.0])
    assert res2.x[1] == pytest.approx(1.5)
    assert "at the bound" in res2.warnings[1] and not res2.constrained[1]


def test_simulated_at_picks_years(tiny):
    bm, _ = tiny
    ds = bm.run({"birth_rate": np.array([0.1, 0.2])}, n_samples=2)
    obs = pd.DataFrame({"variable": ["firms", "rd"], "year": [2015, 2020]})
    got = simulated_at(ds, obs)
    assert got.shape == (2, 2)
    assert got[1, 0] == pytest.approx(float(ds["firms"].isel(sample=1).sel(time=2015)))


def test_settings_errors(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("estimate: []\nweights: {sourced: 1}\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match="estimate"):
        load_settings(p)
    p.write_text("estimate: [a]\nweights: {sourced: -1}\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match="weights.sourced"):
        load_settings(p)
    p.write_text("estimate: [a]\nweights: {sourced: 1}\nbreaks: [{indicator: rd}]\n",
                 encoding="utf-8")
    with pytest.raises(CalibrationError, match=r"breaks\[0\]"):
        load_settings(p)


TINY_PARAMS = """
groups: {}
levers: {}
assumptions:
  birth_rate: {variable: birth rate, min: 0.05, max: 0.6, label: {zh: 出生率, en: Birth rate},
    description: {zh: 测试用说明, en: A test declaration}}
  rd_per_firm: {variable: rd per firm, min: 0.5, max: 5, label: {zh: 户均研发, en: R&D per firm},
    description: {zh: 测试用说明, en: A test declaration}}
  basis_factor: {variable: basis factor, min: 0.7, max: 1, label: {zh: 口径系数, en: Basis},
    description: {zh: 测试用说明, en: A test declaration}}
"""
TINY_SETTINGS = """
scenario: baseline
estimate: [birth_rate, rd_per_firm, basis_factor]
weights: {sourced: 1.0, implied: 0.5, conflicting: 0}
exclude: {gdp: exogenous trend}
breaks:
  - {indicator: rd, before: 2018, variable: rd old basis}
hindcast: {fit_until: 2017, forecast: [2019, 2024]}
profile: {points: 5}
"""


def test_cli_fits_reports_and_writes_a_loadable_file(tiny, tmp_path, monkeypatch):
    import yaml

    from sim import paths
    from sim.analysis.calibration import data_hash
    from sim.cli import calibrate as cli
    from sim.model.calibrated import load_calibrated_values

    bm, _ = tiny
    (tmp_path / "tiny.mdl").write_text(TINY, encoding="utf-8")
    (tmp_path / "parameters.yaml").write_text(TINY_PARAMS, encoding="utf-8")
    (tmp_path / "settings.yaml").write_text(TINY_SETTINGS, encoding="utf-8")
    (tmp_path / "baseline.yaml").write_text(
        "name: {zh: 基准, en: Baseline}\ndescription: tiny\nlevers: {}\n", encoding="utf-8")
    _history(bm).to_csv(tmp_path / "history.csv", index=False)
    for key, name in (("MODEL_FILE", "tiny.mdl"), ("PARAMETERS_FILE", "parameters.yaml"),
                      ("HISTORY_FILE", "history.csv"), ("CALIBRATION_FILE", "calibration.yaml")):
        monkeypatch.setattr(paths, key, tmp_path / name)
    monkeypatch.setattr(paths, "SCENARIO_DIR", tmp_path)
    out = tmp_path / "report" / "calibration"

    def main(argv):   # only this command: others may read the real model when registered
        from sim.present.outdir import release_all

        parser = argparse.ArgumentParser()
        cli.add_parser(parser.add_subparsers())
        args = parser.parse_args(argv)
        try:
            return args.func(args)
        finally:
            release_all()

    argv = ["calibrate", "--out", str(out.parent), "--settings", str(tmp_path / "settings.yaml"),
            "-q"]
    assert main([*argv, "--no-write"]) == 0
    assert not (tmp_path / "calibration.yaml").exists()
    for name in ("fit_statistics.csv", "estimates.csv", "observations.csv", "skipped.csv",
                 "calibration.xlsx", "fit_zh.png", "fit_en.png", "report.md",
                 "fit_statistics_by_status.csv", "hindcast.csv", "hindcast_rows.csv",
                 "profile.csv", "profile_curves.csv", "profile_en.png"):
        assert (out / name).stat().st_size > 0, name
    assert main(argv) == 0
    doc = yaml.safe_load((tmp_path / "calibration.yaml").read_text(encoding="utf-8"))
    assert doc["data_hash"] == data_hash(tmp_path / "history.csv")
    assert set(doc["fit"]) == {"firms", "rd"}
    values = load_calibrated_values(tmp_path / "calibration.yaml")
    np.testing.assert_allclose([values[k] for k in TRUE], list(TRUE.values()), rtol=0.03)
    est = doc["estimates"]["rd_per_firm"]
    assert est["ci_low"] < est["value"] < est["ci_high"] and est["constrained"] is True
    assert est["profile_low"] < est["value"] < est["profile_high"]
    assert doc["hindcast"]["fit_until"] == 2017 and doc["hindcast"]["forecast"] == [2019, 2024]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Hindcast: fit up to 2017" in report and "profile likelihood" in report
    stats = pd.read_csv(out / "fit_statistics.csv").set_index(["indicator", "fit"])
    assert stats.loc[("firms", "calibrated"), "mape"] < stats.loc[("firms", "initial"), "mape"]


# -- the real calibration file (model/calibration.yaml) -----------------------------------------
def _real_calibration() -> dict:
    import yaml

    from sim import paths

    if not paths.CALIBRATION_FILE.is_file():
        pytest.skip("no model/calibration.yaml: the .mdl values stand (run plansim calibrate)")
    return yaml.safe_load(paths.CALIBRATION_FILE.read_text(encoding="utf-8"))


def test_real_calibration_is_current():
    """Stale estimates fail: the file must match the history data and the settings."""
    from sim import paths
    from sim.analysis.calibration import data_hash
    from sim.model.calibrated import load_calibrated_values

    doc = _real_calibration()
    assert doc["data_hash"] == data_hash(paths.HISTORY_FILE), \
        "model/data/history.csv changed since the calibration: run plansim calibrate"
    settings = load_settings()
    assert list(doc["estimates"]) == list(settings.estimate), \
        "model/calibration-settings.yaml changed since the calibration: run plansim calibrate"
    values = load_calibrated_values()          # ids declared, values inside the bounds
    assert set(values) == set(settings.estimate)
    for aid, est in doc["estimates"].items():
        assert isinstance(est["constrained"], bool)
        if est["ci_low"] is not None:
            assert est["ci_low"] <= est["value"] <= est["ci_high"], aid


def test_calibrated_baseline_reproduces_the_reported_fit():
    """A fresh run of the calibrated baseline gives the MAPE per series in the file (so the
    .mdl, the scenario and the estimates still belong together)."""
    from sim.analysis.calibration import observations, series_statistics, simulated_at
    from sim.model.history import load_history
    from sim.simulate import Simulator

    doc = _real_calibration()
    settings = load_settings()
    simulator = Simulator("batch")                      # applies model/calibration.yaml
    obs, _ = observations(load_history(), settings, list(simulator.info.index),
                          simulator.row_years())
    ds = simulator.run(settings.scenario, return_columns=sorted(set(obs["variable"])))
    stats = series_statistics(obs, simulated_at(ds, obs)[0])
    assert set(stats.index) == set(doc["fit"])
    for ind, row in doc["fit"].items():
        assert stats.loc[ind, "mape"] == pytest.approx(row["mape"], rel=1e-3, abs=0.02), ind
        assert stats.loc[ind, "n"] == row["n"], ind
