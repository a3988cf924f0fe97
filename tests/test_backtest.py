"""Rolling-origin backtest: known answers on a tiny inline model with a fake estimator (the
naive forecast exact on an exponential series, horizon and origin bookkeeping, what the
estimator sees, band coverage, lower bounds), the report's files, and one run on the real model
(slow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from inline_mdl import control_section

from sim.analysis.forecasts.backtest import (
    BOUND_COLUMNS,
    COLUMNS,
    backtest,
    by_horizon,
    naive_forecast,
    parse_origins,
    point_rows,
)
from sim.errors import ForecastError

# the tests share tiny models' compiled kernels: on one worker each is compiled once (two
# workers starting a file's tests together would each compile it)
pytestmark = pytest.mark.xdist_group("backtest-kernel")

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
rd = firms * rd per firm * 0.01
~ Dmnl ~ |
""" + control_section(2025, initial_time=2012)
TRUE = {"birth_rate": 0.3, "rd_per_firm": 2.0, "basis_factor": 0.85}


class FakePosterior:
    def __init__(self, draws, origin):
        self.draws, self.origin = draws, origin

    def sample(self, n, seed):
        return self.draws.iloc[:n].reset_index(drop=True)


def test_naive_forecast_is_exact_on_an_exponential_series():
    years = np.arange(2010, 2016)
    pts = pd.DataFrame({"indicator": "x", "year": years, "value": 50 * np.exp(0.12 * (years - 2010))})
    gappy = pts[pts["year"].isin([2010, 2011, 2013])]       # last two 2011 and 2013: a gap
    out = naive_forecast(gappy, "x", 2014, [2016.0, 2021.0])   # ends of 2015 and 2020
    assert out == pytest.approx(50 * np.exp(0.12 * np.array([5, 10])), rel=1e-12)
    # only what is at or before the origin counts; one value: carried flat; none: NaN
    assert naive_forecast(pts, "x", 2010, [2013.0]) == pytest.approx([50.0])
    assert np.isnan(naive_forecast(pts, "x", 2009, [2013.0])).all()
    assert np.isnan(naive_forecast(pts, "y", 2014, [2016.0])).all()


@pytest.fixture(scope="module")
def synthetic_history(tmp_path_factory):
    from sim.engine import compile_model

    path = tmp_path_factory.mktemp("tiny") / "tiny.mdl"
    path.write_text(TINY, encoding="utf-8")
    bm = compile_model(path)
    truth = bm.run(dict(TRUE), reporting="calendar").isel(sample=0)

    def forecast(draws, variables, final_time):
        values = {k: draws[k].to_numpy(float) for k in draws.columns}
        return bm.run(values, n_samples=len(draws), reporting="calendar")[list(variables)]

    def at(var, y):
        return float(truth[var].sel(time=y))

    rows = [("firms", y, at("firms", y), "sourced", None, y + 1.0) for y in range(2013, 2023)]
    rows += [("rd", y, at("rd", y), "sourced", None, y + 1.0) for y in (2016, 2019, 2021)]
    rows += [("firms", 2024, 1.0, "implied", None, 2025.0),      # not scored: implied
             # a stock as of mid-2020: halfway between the ends of 2019 and 2020
             ("firms", 2020, (at("firms", 2019) + at("firms", 2020)) / 2, "sourced",
              "2020-06-30", 2020.5),
             ("patents", 2020, 5.0, "sourced", None, 2021.0),     # not a model variable
             ("firms", 2021, 1.0, "lower_bound", "2021-09-01", 2021.67),
             ("firms", 2022, 1e9, "lower_bound", None, 2023.0)]
    hist = pd.DataFrame(rows, columns=["indicator", "year", "value", "status", "as_of", "time"])
    return hist.assign(unit="", source="synthetic"), forecast, set(truth.data_vars)


def _compare(known):
    """As the likelihood maps rows: a dated sourced stock at its date, the rest on the row."""
    def compare(rows):
        rows = rows[rows["indicator"].isin(known)].reset_index(drop=True)
        dated = rows["as_of"].notna() & (rows["status"] == "sourced")
        return rows.assign(variable=rows["indicator"],
                           at=np.where(dated, "instant", "row"))
    return compare


class FakeEstimator:
    """Draws of ``birth_rate`` given (others at their true values); records what it saw."""

    name = "fake"

    def __init__(self, birth_rates):
        self.birth_rates = np.asarray(birth_rates, float)
        self.seen: list[int] = []

    def __call__(self, observations, *, seed):
        self.seen.append(int(observations["year"].max()))
        n = len(self.birth_rates)
        draws = pd.DataFrame({"birth_rate": self.birth_rates,
                              "rd_per_firm": np.full(n, TRUE["rd_per_firm"]),
                              "basis_factor": np.full(n, TRUE["basis_factor"])})
        return FakePosterior(draws, self.seen[-1])


def _run(synthetic_history, estimator, origins=(2015, 2019)):
    hist, forecast, known = synthetic_history
    return backtest(hist, origins, estimate=estimator, forecast=forecast,
                    compare=_compare(known), samples=len(estimator.birth_rates), seed=1,
                    estimator=estimator.name)


def test_backtest_bookkeeping_and_exact_model(synthetic_history):
    est = FakeEstimator(np.linspace(0.25, 0.35, 11))       # median draw = the true value
    b = _run(synthetic_history, est)
    rows = b.rows
    assert tuple(rows.columns) == COLUMNS
    assert est.seen == [2015, 2019]                       # only the rows up to each origin
    # scored: sourced, no as_of, a model variable, after the origin, up to the last year
    want = {2015: [("firms", y) for y in range(2016, 2023)] + [("rd", 2016), ("rd", 2019),
                                                                ("rd", 2021), ("firms", 2020)],
            2019: [("firms", y) for y in range(2020, 2023)] + [("rd", 2021), ("firms", 2020)]}
    for origin, keys in want.items():
        got = rows[rows["origin"] == origin]
        assert sorted(zip(got["indicator"], got["year"], strict=True)) == sorted(keys)
    assert (rows["horizon"] == rows["year"] - rows["origin"]).all()
    assert rows["error_pct"].abs().max() < 1e-6           # the true parameters' run
    assert rows["inside_90"].all()
    assert list(b.per_origin["scored_rows"]) == [11, 5]
    # no naive forecast where the indicator has no value up to the origin (rd before 2016)
    no_naive = rows["naive_error_pct"].isna()
    assert (no_naive == ((rows["indicator"] == "rd") & (rows["origin"] == 2015))).all()
    assert (rows.loc[~no_naive, "naive_error_pct"].abs() > 0.1).any()
    summary = b.by_horizon()
    assert summary.iloc[-1]["rows"] == 16
    assert summary.iloc[-1]["coverage_90"] == 1.0


def test_coverage_of_a_biased_ensemble_and_bounds(synthetic_history):
    b = _run(synthetic_history, FakeEstimator(np.full(5, 0.5)), origins=[2019])   # far too many births
    assert not b.rows["inside_90"].any()
    assert (b.rows["error_pct"] > 0).all()
    assert b.by_horizon().iloc[-1]["coverage_90"] == 0.0
    assert tuple(b.bounds.columns) == BOUND_COLUMNS
    met = dict(zip(b.bounds["year"], b.bounds["met_share"], strict=True))
    assert met == {2021: 1.0, 2022: 0.0}                   # bound 1 met by all, 1e9 by none
    assert set(b.bounds["as_of"]) == {"2021-09-01", ""}


def test_naive_forecast_in_model_time():
    # a level as of mid-year and one at the end of the next year: growth per year of time
    pts = pd.DataFrame({"indicator": "x", "year": [2020, 2021], "value": [100.0, 150.0],
                        "time": [2020.5, 2022.0]})
    rate = np.log(1.5) / 1.5
    assert naive_forecast(pts, "x", 2021, [2023.0]) == pytest.approx([150 * np.exp(rate)])


def test_by_horizon_known_answer():
    rows = pd.DataFrame({"horizon": [1, 1, 2], "error_pct": [10.0, -20.0, 5.0],
                         "naive_error_pct": [30.0, np.nan, -1.0],
                         "inside_90": [True, False, True]})
    s = by_horizon(rows).set_index("horizon")
    assert s.loc[1, "model_mape"] == 15.0 and s.loc[1, "naive_mape"] == 30.0
    assert s.loc[1, "naive_rows"] == 1 and s.loc[1, "coverage_90"] == 0.5
    assert s.loc["all", "rows"] == 3
    assert s.loc["all", "coverage_90"] == pytest.approx(2 / 3)


def test_origins_checked(synthetic_history):
    assert parse_origins("2017..2019") == [2017, 2018, 2019]
    assert parse_origins("2018, 2016") == [2018, 2016]
    for bad in ("", "x..2019", "17..19"):
        with pytest.raises(ForecastError, match="--origins"):
            parse_origins(bad)
    with pytest.raises(ForecastError, match="origin 2022 has no scored row"):
        _run(synthetic_history, FakeEstimator([0.3]), origins=[2020, 2022])


def test_point_rows_without_as_of_column():
    hist = pd.DataFrame({"indicator": ["a", "a"], "year": [1, 2], "value": [1.0, 2.0],
                         "status": ["sourced", "implied"]})
    assert list(point_rows(hist)["year"]) == [1]


def test_report_files_and_chart(synthetic_history, tmp_path):
    from sim.present.figures.chartutil import new_figure
    from sim.present.reports.backtest_report import errors_chart, errors_figure, write_backtest

    b = _run(synthetic_history, FakeEstimator(np.linspace(0.25, 0.35, 5)))
    _, axes = new_figure(1, 1)
    assert errors_chart(axes[0, 0], b.rows, "en") is axes[0, 0]
    assert errors_figure(b.rows, "zh", "note").axes
    final = write_backtest(b, tmp_path / "backtest", lang="en", formats=("png",))
    names = {p.name for p in final.iterdir()}
    assert {"backtest.csv", "bounds.csv", "by_horizon.csv", "origins.csv", "backtest.xlsx",
            "README.md", "errors_by_horizon_zh.png", "errors_by_horizon_en.png"} <= names
    assert tuple(pd.read_csv(final / "backtest.csv").columns) == COLUMNS


@pytest.mark.slow
def test_backtest_on_the_real_model(tmp_path):
    """The real model, the posterior estimator with a short chain (50 steps per walker: the
    bookkeeping is checked here, not convergence), two origins."""
    from sim.analysis.forecasts.backtest_model import model_compare, model_estimate, model_forecast
    from sim.model.declarations.history import load_history
    from sim.present.reports.backtest_report import write_backtest
    from sim.simulate import Simulator

    sim = Simulator("batch", use_calibration=False)
    b = backtest(load_history(), [2019, 2021], estimate=model_estimate(sim, steps=50),
                 forecast=model_forecast(sim), compare=model_compare(sim), samples=16,
                 seed=3, estimator="posterior")
    rows = b.rows
    assert tuple(rows.columns) == COLUMNS
    assert set(rows["origin"]) == {2019, 2021}
    assert (rows["horizon"] == rows["year"] - rows["origin"]).all()
    assert rows["central"].notna().all() and (rows["P5"] <= rows["P95"]).all()
    assert not (rows["indicator"] == "gdp").any()            # an input, never scored
    assert (b.bounds["met_share"].between(0, 1)).all()
    final = write_backtest(b, tmp_path / "backtest", lang="en", formats=("png",))
    assert (final / "errors_by_horizon_en.png").is_file()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_errors_figure_text_is_clean(lang):
    from sim.present.reports.backtest_report import errors_figure
    from tests.textcheck import assert_text_clean

    rows = pd.DataFrame({"horizon": [1, 1, 2, 3, 6], "error_pct": [12.0, -40.0, 5.0, 80.0, 9.0],
                         "naive_error_pct": [20.0, np.nan, -3.0, 210.0, 150.0]})
    assert_text_clean(errors_figure(rows, lang, "origins 2017-2022; N = 200 per origin; "
                                                "estimator: Bayesian posterior"))


def test_per_origin_bookkeeping(synthetic_history):
    est = FakeEstimator(np.linspace(0.25, 0.35, 3))
    b = _run(synthetic_history, est, origins=[2019, 2015])                 # sorted, each estimated once
    po = b.per_origin.set_index("origin")
    assert list(po.index) == [2015, 2019]
    hist = synthetic_history[0]
    assert po.loc[2015, "history_rows"] == (hist["year"] <= 2015).sum()
    assert po.loc[2019, "bound_rows"] == 2 and po.loc[2019, "posterior_draws"] == 3
    assert po["likelihood_rows"].isna().all() and po["converged"].isna().all()   # not given
