"""Hindcast and profile likelihood on a tiny model with known parameters: a hindcast on
noise-free data forecasts the later rows exactly, an assumption nothing responds to is held
(hindcast) and flagged not identified (profile), sourced and implied rows are reported apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_calibration import TINY

from sim.analysis.calibration import calibrate, load_settings
from sim.analysis.hindcast import hindcast, hindcast_document
from sim.analysis.profile_likelihood import (
    IDENTIFIED,
    NOT_IDENTIFIED,
    profile_document,
    profile_likelihood,
)
from sim.errors import CalibrationError

PARAMS = """
groups: {}
levers: {}
assumptions:
  birth_rate: {variable: birth rate, min: 0.05, max: 0.6, label: {zh: 出生率, en: Birth rate},
    description: {zh: 测试用说明, en: A test declaration}}
  rd_per_firm: {variable: rd per firm, min: 0.5, max: 5, label: {zh: 户均研发, en: R&D per firm},
    description: {zh: 测试用说明, en: A test declaration}}
  inert: {variable: inert, min: 0, max: 2, label: {zh: 无关, en: Inert},
    description: {zh: 测试用说明, en: A test declaration}}
"""
SETTINGS = """
scenario: baseline
estimate: [birth_rate, rd_per_firm, inert]
weights: {sourced: 1.0, implied: 0.5, conflicting: 0}
hindcast: {fit_until: 2017, forecast: [2018, 2024]}
profile: {points: 7}
starts: 2
seed: 1
"""
TRUE = {"birth_rate": 0.3, "rd_per_firm": 2.0}


@pytest.fixture
def setup(tmp_path, monkeypatch):
    from sim import paths
    from sim.engine import compile_model
    from sim.simulate import Simulator

    (tmp_path / "tiny.mdl").write_text(TINY, encoding="utf-8")
    (tmp_path / "parameters.yaml").write_text(PARAMS, encoding="utf-8")
    (tmp_path / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
    (tmp_path / "baseline.yaml").write_text(
        "name: {zh: 基准, en: Baseline}\ndescription: tiny\nlevers: {}\n", encoding="utf-8")
    ds = compile_model(tmp_path / "tiny.mdl").run(TRUE, reporting="calendar").isel(sample=0)
    rows = [("firms", y, float(ds["firms"].sel(time=y)), "sourced") for y in range(2013, 2023)]
    rows += [("rd", y, float(ds["rd"].sel(time=y)), "sourced") for y in (2014, 2016, 2020)]
    rows.append(("firms", 2024, float(ds["firms"].sel(time=2024)), "implied"))
    hist = pd.DataFrame(rows, columns=["indicator", "year", "value", "status"])
    hist = hist.assign(unit="", source="synthetic")
    hist.to_csv(tmp_path / "history.csv", index=False)
    for key, name in (("MODEL_FILE", "tiny.mdl"), ("PARAMETERS_FILE", "parameters.yaml"),
                      ("HISTORY_FILE", "history.csv")):
        monkeypatch.setattr(paths, key, tmp_path / name)
    monkeypatch.setattr(paths, "SCENARIO_DIR", tmp_path)
    settings = load_settings(tmp_path / "settings.yaml")
    cal = calibrate(settings, simulator=Simulator("batch", use_calibration=False),
                    history_path=tmp_path / "history.csv")
    return cal


def test_hindcast_on_exact_data_forecasts_exactly(setup):
    cal = setup
    h = hindcast(cal)
    assert h.fixed == ["inert"]                     # nothing responds to it: held at .mdl value
    assert h.values["inert"] == 1.0
    assert h.n_train == 7                           # firms 2013-2017, rd 2014 and 2016
    assert h.values["birth_rate"] == pytest.approx(TRUE["birth_rate"], rel=1e-4)
    assert set(h.rows["year"]) == {2018, 2019, 2020, 2021, 2022, 2024}
    assert np.max(np.abs(h.rows["error_pct"])) < 0.05
    assert ("firms", "implied") in h.statistics.index and ("firms", "sourced") in h.statistics.index
    doc = hindcast_document(h)
    assert doc["held_at_mdl_value"] == ["inert"] and doc["fit_until"] == 2017


def test_hindcast_errors_are_model_minus_observed(setup):
    cal = setup
    h = hindcast(cal, until=2013, window=(2014, 2016))   # firms 2013 only: rd not informed
    assert "rd_per_firm" in h.fixed
    row = h.rows.iloc[0]
    assert row["error_pct"] == pytest.approx(100 * (row["forecast"] - row["value"])
                                             / row["value"])
    with pytest.raises(CalibrationError, match="no fitted row"):
        hindcast(cal, until=2030, window=(2031, 2032))


def test_profiles_bound_the_identified_and_flag_the_inert(setup):
    cal = setup
    cal.result.s2 = 1e-4         # exact data: give the deviance a noise scale (1% errors)
    p = profile_likelihood(cal)
    t = p.table
    assert t.loc["inert", "status"] == NOT_IDENTIFIED
    assert t.loc["inert", "low_open"] and t.loc["inert", "high_open"]
    for aid, true in TRUE.items():
        assert t.loc[aid, "status"] == IDENTIFIED, aid
        assert t.loc[aid, "profile_low"] < true < t.loc[aid, "profile_high"], aid
        assert t.loc[aid, "min"] < t.loc[aid, "profile_low"] < t.loc[aid, "profile_high"] < \
            t.loc[aid, "max"], aid
    assert p.threshold == pytest.approx(3.841, abs=1e-3)
    at_estimate = p.curves[np.isclose(p.curves["deviance"], 0.0, atol=1e-9)]
    assert set(at_estimate["assumption"]) == {"birth_rate", "rd_per_firm", "inert"}
    assert profile_document(p)["inert"]["status"] == NOT_IDENTIFIED


def test_sourced_and_implied_rows_are_reported_apart(setup):
    cal = setup
    by = cal.statistics_by_status
    assert by.loc[("implied", "firms"), "n"] == 1
    assert by.loc[("sourced", "firms"), "n"] == 10
    assert "rd" not in by.loc["implied"].index


@pytest.mark.parametrize("text, match", [
    ("hindcast: {fit_until: 2019, forecast: [2018, 2023]}", "hindcast.forecast"),
    ("hindcast: {fit_until: soon, forecast: [2020, 2023]}", "hindcast.fit_until"),
    ("profile: {points: 1}", "profile.points"),
])
def test_settings_errors(tmp_path, text, match):
    p = tmp_path / "s.yaml"
    p.write_text(f"estimate: [a]\nweights: {{sourced: 1}}\n{text}\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match=match):
        load_settings(p)
