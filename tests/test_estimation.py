"""The one Bayesian estimation on tiny inline models with known answers: the history loader,
the likelihood by status (lower bounds flat above the bound, as-of rows at their date), the
recovery of a known parameter, the posterior file, seeds, and new outturns as one step."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from sim import paths
from sim.analysis.estimation import likelihood as lk
from sim.analysis.estimation.calibration_settings import Break, Sampler, Settings
from sim.errors import CalibrationError, ModelError
from sim.model.declarations.history import COLUMNS, load_history

# the tests share tiny models' compiled kernels: on one worker each is compiled once (two
# workers starting a file's tests together would each compile it)
pytestmark = pytest.mark.xdist_group("estimation-kernel")

TINY = """{UTF-8}
firms = INTEG(births, 100)
~ firms ~ |
births = birth rate * firms
~ firms/Year ~ |
birth rate = 0.2
~ 1/Year ~ |
inert = 1
~ Dmnl ~ an assumption acting on nothing observed |
rd = firms * 0.01 + inert * 0
~ Dmnl ~ |
linear stock = INTEG(10, 100)
~ Dmnl ~ |
INITIAL TIME = 2012
~ Year ~ |
FINAL TIME = 2026
~ Year ~ |
TIME STEP = 0.125
~ Year ~ |
SAVEPER = 1
~ Year ~ |
"""
PARAMS = """
groups: {}
levers: {}
assumptions:
  birth_rate: {variable: birth rate, min: 0.05, max: 0.6, label: {zh: 出生率, en: Birth rate},
    description: {zh: 测试, en: A test declaration}}
  inert: {variable: inert, min: 0, max: 2, label: {zh: 无关, en: Inert},
    description: {zh: 测试, en: A test declaration}}
"""
UNCERTAINTY = """
assumptions:
  birth_rate: {distribution: uniform, confidence: C}
  inert: {distribution: triangular, mode: 1, confidence: C}
ensemble: {samples: 50, seed: 3, sensitivity_samples: 20}
"""
SETTINGS_YAML = """
scenario: baseline
observation_sd: {sourced: 0.05, lower_bound: 0.05, implied: 0.15}
discrepancy_sd: 0.0
sampler: {walkers: 8, steps: 400, draws: 400, seed: 5, init_pool: 4}
"""
TRUE_RATE = 0.3
SETTINGS = Settings({"sourced": 0.05, "lower_bound": 0.05, "implied": 0.15}, 0.0,
                    annual_registries=("registry",), breaks=(Break("rd", 2015, "rd_old"),))


def history_frame(rows) -> pd.DataFrame:
    """Rows (indicator, year, value, status[, as_of]) as a history CSV frame."""
    out = []
    for r in rows:
        ind, year, value, status = r[:4]
        out.append({"indicator": ind, "year": year, "value": value, "unit": "",
                    "status": status, "as_of": r[4] if len(r) > 4 else "",
                    "source": "synthetic test row", "note": ""})
    return pd.DataFrame(out, columns=list(COLUMNS))


def write_history(path, rows) -> None:
    history_frame(rows).to_csv(path, index=False)


# -- the loader ---------------------------------------------------------------------------------
def test_loader_reads_the_format_any_year_and_dates(tmp_path):
    f = tmp_path / "h.csv"
    write_history(f, [("firms", 2020, 10.0, "sourced"), ("firms", 2031, 5.0, "sourced"),
                      ("smes", 2022, 7.0, "lower_bound", "2022-07-02"),
                      ("x_target", 2028, 1.0, "policy_target")])
    h = load_history(f)
    assert list(h["year"]) == [2020, 2031, 2022, 2028]
    assert h.loc[2, "as_of"] == "2022-07-02" and h.loc[0, "as_of"] is None
    assert h.loc[0, "time"] == 2021.0 and abs(h.loc[2, "time"] - (2022 + 183 / 365)) < 1e-12


@pytest.mark.parametrize("row, column", [
    (("firms", 2020, 1.0, "estimated"), "status"),
    (("firms", "soon", 1.0, "sourced"), "year"),
    (("firms", 2020, "many", "sourced"), "value"),
    (("firms", 2020, 1.0, "sourced", "2021-01-05"), "as_of"),
    (("firms", 2020, 1.0, "sourced", "5 May"), "as_of"),
])
def test_loader_errors_name_line_column_and_value(tmp_path, row, column):
    f = tmp_path / "h.csv"
    write_history(f, [("firms", 2019, 1.0, "sourced"), row])
    with pytest.raises(ModelError, match=rf"h.csv: line 3: column {column} is .*; allowed"):
        load_history(f)


def test_loader_refuses_duplicates_and_bad_columns(tmp_path):
    f = tmp_path / "h.csv"
    write_history(f, [("firms", 2019, 1.0, "sourced"), ("firms", 2019, 2.0, "sourced")])
    with pytest.raises(ModelError, match="line 3: duplicate of line 2"):
        load_history(f)
    write_history(f, [("firms", 2019, 1.0, "sourced"), ("firms", 2019, 2.0, "lower_bound")])
    assert len(load_history(f)) == 2
    history_frame([("firms", 2019, 1.0, "sourced")]).drop(columns="as_of").to_csv(f, index=False)
    with pytest.raises(ModelError, match="columns are .*; allowed: exactly"):
        load_history(f)


def test_the_committed_history_loads_and_has_no_outturn_after_2023():
    h = load_history()
    outturns = h[~h["status"].isin(["policy_target", "policy_rule"])]
    assert outturns["year"].max() <= 2023


# -- the likelihood -----------------------------------------------------------------------------
def obs_table(rows, units=None, years=(2012, 2025)):
    units = units or {"firms": "firms", "births": "firms/Year", "registry": "firms",
                      "rd": "Dmnl", "rd_old": "Dmnl", "linear_stock": "Dmnl"}
    return lk.observations(load_history_frame(rows), SETTINGS, units, years)


def load_history_frame(rows, tmp=None):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "h.csv"
        write_history(f, rows)
        return load_history(f)


def test_lower_bound_is_flat_above_the_bound_and_penalises_below():
    fitted, _, _ = obs_table([("firms", 2020, 100.0, "lower_bound")])
    sd = float(fitted["sd"].iloc[0])
    sim = 100.0 * np.exp(sd * np.array([-3.0, -1.0, 0.0, 4.0, 6.0, 20.0]))[:, None]
    ll = lk.log_likelihood(sim, fitted)
    assert np.all(np.diff(ll) >= 0)
    assert np.all(np.abs(ll[3:]) < 1e-4)          # no penalty above the bound
    assert ll[0] < -5 and ll[1] < ll[2] < 0       # a growing one below
    point, _, _ = obs_table([("firms", 2020, 100.0, "sourced")])
    lp = lk.log_likelihood(sim, point)
    assert lp[2] == lp.max() and lp[-1] < lp[2] - 100   # a sourced figure is a point


def test_rows_go_where_their_status_and_date_say():
    fitted, checks, skipped = obs_table([
        ("firms", 2016, 10.0, "sourced"), ("firms", 2023, 20.0, "implied"),
        ("firms", 2017, 30.0, "conflicting"), ("firms", 2017, 31.0, "projection"),
        ("births", 2018, 5.0, "lower_bound", "2018-06-30"),      # part-year flow: the year
        ("births", 2019, 5.0, "sourced", "2019-06-30"),          # must be a lower bound
        ("registry", 2020, 7.0, "lower_bound", "2020-09-02"),     # annual registry: the year
        ("linear_stock", 2015, 135.0, "sourced", "2015-07-02"),   # a level: at its date
        ("rd", 2014, 1.0, "sourced"), ("rd", 2016, 1.0, "sourced"), ("gdp", 2016, 1.0,
                                                                     "sourced")])
    assert list(checks["indicator"]) == ["firms"] and checks["status"].iloc[0] == "implied"
    at = dict(zip(fitted["indicator"] + fitted["year"].astype(str), fitted["at"], strict=True))
    assert at == {"firms2016": "row", "births2018": "row", "registry2020": "row",
                  "linear_stock2015": "instant", "rd2014": "row", "rd2016": "row"}
    assert fitted.loc[fitted["year"] == 2014, "variable"].item() == "rd_old"   # the break
    reasons = dict(zip(skipped["indicator"] + skipped["status"], skipped["reason"],
                       strict=True))
    assert "never fitted" in reasons["firmsconflicting"]
    assert "never fitted" in reasons["firmsprojection"]
    assert "must be a lower_bound" in reasons["birthssourced"]
    assert reasons["gdpsourced"] == "not a model variable"


@pytest.fixture(scope="module")
def as_of_model(tmp_path_factory):
    from tests.inline_mdl import numpy_model

    d = tmp_path_factory.mktemp("tiny")
    (d / "tiny.mdl").write_text(TINY, encoding="utf-8")
    return d, numpy_model(d / "tiny.mdl")


def test_an_as_of_stock_is_compared_on_its_date(as_of_model):
    """A linear stock (100 at the start of 2012, +10 a year) as of 2 July 2015 (t = 2015.5)
    is 135; the end-of-year rows around it are 130 and 140."""
    _, model = as_of_model
    ds = model.run({}, reporting="calendar")
    fitted, _, _ = lk.observations(
        load_history_frame([("linear_stock", 2015, 135.0, "sourced", "2015-07-02"),
                            ("linear_stock", 2015, 140.0, "sourced")]),
        SETTINGS, {"linear_stock": "Dmnl"}, (2012, 2025))
    sim = lk.simulated_at(ds, fitted)[0]
    assert sim[1] == pytest.approx(140.0)
    assert sim[0] == pytest.approx(100 + 10 * (3 + 183 / 365), rel=1e-9)


# -- the estimation on the tiny model -----------------------------------------------------------
@pytest.fixture
def tiny_project(as_of_model, tmp_path, monkeypatch):
    """The tiny model as the project: its parameters, priors, settings, a synthetic history
    (exact values at birth rate 0.3) and the posterior files, all in tmp_path."""
    d, model = as_of_model
    for name, text in (("parameters.yaml", PARAMS), ("uncertainty.yaml", UNCERTAINTY),
                       ("settings.yaml", SETTINGS_YAML),
                       ("baseline.yaml", "name: {zh: 基准, en: Baseline}\ndescription: tiny\n"
                                         "levers: {}\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    ds = model.run({"birth_rate": TRUE_RATE}, reporting="calendar").isel(sample=0)
    rows = [("firms", y, float(ds["firms"].sel(time=y)), "sourced") for y in (2014, 2017, 2020)]
    rows.append(("firms", 2022, 0.9 * float(ds["firms"].sel(time=2022)), "lower_bound"))
    rows.append(("firms", 2023, 1.0, "implied"))
    write_history(tmp_path / "history.csv", rows)
    for key, path in (("MODEL_FILE", d / "tiny.mdl"),
                      ("PARAMETERS_FILE", tmp_path / "parameters.yaml"),
                      ("UNCERTAINTY_FILE", tmp_path / "uncertainty.yaml"),
                      ("CALIBRATION_SETTINGS_FILE", tmp_path / "settings.yaml"),
                      ("HISTORY_FILE", tmp_path / "history.csv"),
                      ("POSTERIOR_FILE", tmp_path / "posterior.csv.gz"),
                      ("CALIBRATION_FILE", tmp_path / "calibration.yaml"),
                      ("SCENARIO_DIR", tmp_path)):
        monkeypatch.setattr(paths, key, path)
    return tmp_path


def tiny_estimate(seed=5):
    from sim.analysis.estimation.calibration_settings import load_settings
    from sim.analysis.estimation.posterior import estimate
    from sim.simulate import Simulator

    return estimate(load_history(), seed=seed, settings=load_settings(),
                    simulator=Simulator("batch", use_calibration=False))


def test_estimation_recovers_a_known_parameter(tiny_project):
    post = tiny_estimate()
    assert post.ids == ["birth_rate"]           # inert acts on nothing observed: prior only
    lo, hi = np.quantile(post.draws["birth_rate"], [0.05, 0.95])
    assert lo < TRUE_RATE < hi and hi - lo < 0.05   # the data pin it inside a wide prior
    assert post.origin == 2022 and post.info["data_cutoff"] == "2022-12-31"
    assert list(post.checks["status"]) == ["implied"]
    assert post.info["sampler"] == "emcee" and post.info["tau_max"] > 0
    s = post.sample(30, seed=1)
    assert list(s.columns) == ["birth_rate", "inert"] and len(s) == 30
    assert s["inert"].between(0, 2).all() and s["inert"].nunique() == 30   # from its prior


def test_the_seed_reproduces_the_draws_exactly(tiny_project):
    a, b = tiny_estimate(seed=5), tiny_estimate(seed=5)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    pd.testing.assert_frame_equal(a.sample(20, 9), a.sample(20, 9))
    assert not a.sample(20, 9).equals(a.sample(20, 10))
    assert not a.draws.equals(tiny_estimate(seed=6).draws)


def test_the_posterior_file_round_trips(tiny_project):
    from sim.analysis.estimation.posterior_file import read_posterior, write_posterior

    post = tiny_estimate()
    post.info["data_hash"] = "abc"
    f = write_posterior(post, tiny_project / "p.csv.gz")
    first = f.read_bytes()
    back = read_posterior(f)
    assert back.origin == post.origin and back.info == post.info
    np.testing.assert_allclose(back.draws.to_numpy(), post.draws.to_numpy(), rtol=1e-5)
    write_posterior(back, f)
    assert f.read_bytes() == first                 # byte-for-byte reproducible
    f.write_bytes(b"not gzip")
    with pytest.raises(CalibrationError, match="not a gzip CSV written by plansim calibrate"):
        read_posterior(f)


def test_new_outturns_are_one_step(tiny_project, capsys):
    """Append a (synthetic) outturn for a later year: the stored posterior no longer matches
    the history's hash; the canonical posterior is estimated again, with a notice, and its
    origin moves to the new year (or, when asked not to re-estimate, one line says what to
    run)."""
    from sim.analysis.estimation.calibration import calibrate, write_outputs
    from sim.analysis.estimation.posterior_file import canonical_posterior, read_posterior

    write_outputs(calibrate())
    assert canonical_posterior(say=print).origin == 2022       # current: read, not estimated
    assert "notice" not in capsys.readouterr().out
    hist = pd.read_csv(paths.HISTORY_FILE, dtype=str, keep_default_na=False)
    new = history_frame([("firms", 2024, 1000.0 * np.exp(TRUE_RATE * 13), "sourced")])
    pd.concat([hist, new.astype(str)]).to_csv(paths.HISTORY_FILE, index=False)
    with pytest.raises(CalibrationError, match="changed since the stored posterior.*run "
                                               "`plansim calibrate`"):
        canonical_posterior(reestimate=False)
    post = canonical_posterior(say=print)
    assert "notice: history.csv changed" in capsys.readouterr().out
    assert post.origin == 2024 and read_posterior().origin == 2024
    assert canonical_posterior(reestimate=False).data_hash == post.data_hash


def test_calibration_document_reports_prior_posterior_and_origin(tiny_project):
    import yaml

    from sim.analysis.estimation.calibration import calibrate, write_outputs
    from sim.model.declarations.calibrated import load_calibrated_values

    cal = calibrate()
    write_outputs(cal, date="2026-01-01")
    doc = yaml.safe_load(paths.CALIBRATION_FILE.read_text(encoding="utf-8"))
    e = doc["estimates"]["birth_rate"]
    assert e["moved_by_data"] and e["sd_ratio"] < 0.2
    assert e["prior"]["P5"] < e["posterior"]["P5"] < TRUE_RATE < e["posterior"]["P95"]
    assert load_calibrated_values() == {"birth_rate": e["value"]}   # the central run
    assert doc["origin"] == 2022 and doc["likelihood"]["n_lower_bounds"] == 1
    assert set(doc["fit"]) == {"sourced", "lower_bound", "implied"}
    assert doc["origin_state"][0]["pinned"]    # the posterior pins the state at the origin
    assert replace(Sampler(), steps=5).steps == 5


def test_the_committed_posterior_and_its_summary_agree():
    """model/posterior.csv.gz starts at the last sourced year, its columns are declared
    assumptions, and the central values of model/calibration.yaml are its medians (whether it
    is current, estimated on the inputs as they are: tests/test_regen.py)."""
    from sim.analysis.estimation.posterior_file import read_posterior
    from sim.model.declarations.calibrated import load_calibrated_values

    post = read_posterior()
    assert post.origin == load_history().query("status == 'sourced'")["year"].max()
    central = load_calibrated_values()
    assert set(central) == set(post.ids)
    for aid, v in central.items():
        assert v == pytest.approx(float(post.draws[aid].median()), rel=1e-4)


def test_regen_estimates_again_only_when_an_input_changed(tiny_project, capsys, monkeypatch):
    """The stored posterior carries the hash of what the estimation read: a new sketch
    layout or a relabelled assumption leaves it current; a changed setting makes it stale,
    `plansim regen --check` says so and writes nothing, `plansim regen` estimates again."""
    from sim.analysis.estimation.calibration import calibrate, write_outputs
    from sim.analysis.estimation.posterior_file import stale_reason
    from sim.cli.main import main
    from sim.model.equations.sketch import SKETCH_MARK

    assert "no stored posterior" in stale_reason()
    write_outputs(calibrate())
    assert stale_reason() == ""
    params = paths.PARAMETERS_FILE
    params.write_text(params.read_text(encoding="utf-8").replace("en: Birth rate",
                                                                 "en: Births per firm"),
                      encoding="utf-8")
    assert stale_reason() == ""                           # a label is not an input
    with monkeypatch.context() as m:                      # nor the sketch of the .mdl
        drawn = tiny_project / "drawn.mdl"
        drawn.write_text(paths.MODEL_FILE.read_text(encoding="utf-8") + SKETCH_MARK
                         + "\nV300  Do not put anything below this section\n", encoding="utf-8")
        m.setattr(paths, "MODEL_FILE", drawn)
        assert stale_reason() == ""
    settings = paths.CALIBRATION_SETTINGS_FILE
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "discrepancy_sd: 0.0", "discrepancy_sd: 0.05"), encoding="utf-8")
    assert "changed since the estimation" in stale_reason()
    before = paths.POSTERIOR_FILE.read_bytes()
    assert main(["regen", "--check", "calibration", "-q"]) == 1
    assert "calibration: STALE" in capsys.readouterr().out
    assert paths.POSTERIOR_FILE.read_bytes() == before
    assert main(["regen", "calibration", "-q"]) == 0
    assert "calibration: rewritten" in capsys.readouterr().out
    assert stale_reason() == "" and paths.POSTERIOR_FILE.read_bytes() != before


def test_calibrate_command_writes_posterior_summary_and_report(tiny_project, capsys):
    from sim.cli.main import main

    out = tiny_project / "out"
    assert main(["calibrate", "--out", str(out), "-q", "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    assert "birth_rate" in printed and "lower_bound" in printed
    report = out / "calibration"
    for name in ("fit_en.png", "parameters_zh.png", "fit_rows.csv", "fit_by_series.csv",
                 "parameters.csv", "origin.csv", "skipped.csv", "report.md"):
        assert (report / name).is_file(), name
    by = pd.read_csv(report / "fit_by_series.csv").set_index("status")
    assert by.loc["lower_bound", "share_at_or_above"] > 0.95   # 10% below the true path
    assert paths.POSTERIOR_FILE.is_file() and paths.CALIBRATION_FILE.is_file()
    assert "emcee" in (report / "report.md").read_text(encoding="utf-8")
