"""Forecast vintages and their scoring, with synthetic outturns made from a stored vintage
(never real 2024+ data)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from sim.analysis.forecasts import scoring, vintage
from sim.errors import ForecastError
from sim.model.declarations.targets import load_targets

YEARS = np.arange(2012.0, 2036.0)


def ensemble(n=101):
    g = np.linspace(0.0, 0.2, n)[:, None]
    ds = xr.Dataset({"a": (("sample", "time"), 100 * (1 + g) ** (YEARS - 2023))},
                    coords={"time": YEARS})
    central = ds.isel(sample=[50])
    return ds, central


def test_forecast_table_columns_and_values():
    ds, central = ensemble()
    t = vintage.forecast_table("plan", ds, central, ["a"], years=[2024, 2028])
    assert list(t.columns) == list(vintage.COLUMNS)
    row = t.set_index("year").loc[2028]
    assert row["central"] == pytest.approx(100 * 1.1 ** 5)
    assert row["P50"] == pytest.approx(100 * 1.1 ** 5)
    assert row["P5"] < row["P25"] < row["P50"] < row["P75"] < row["P95"]


def stored(tmp_path, name="2026-11-28"):
    ds, central = ensemble()
    t = pd.concat([vintage.forecast_table(s, ds, central, ["a"]) for s in ("baseline", "plan")])
    d = tmp_path / name
    d.mkdir(parents=True)
    vintage.write_vintage(d, t, {"date": name, "seed": 1})
    return d


def test_write_find_load(tmp_path):
    stored(tmp_path, "2026-11-28")
    stored(tmp_path, "2027-03-01")
    (tmp_path / "notes").mkdir()
    assert vintage.find_vintage(tmp_path).name == "2027-03-01"
    assert vintage.find_vintage(tmp_path, "2026-11-28").name == "2026-11-28"
    v = vintage.load_vintage(vintage.find_vintage(tmp_path))
    assert v.meta["seed"] == 1 and len(v.table) == 2 * len(load_targets().plan.years)
    with pytest.raises(ForecastError, match="allowed: 2026-11-28, 2027-03-01"):
        vintage.find_vintage(tmp_path, "2020-01-01")
    with pytest.raises(ForecastError, match="no forecast vintage stored"):
        vintage.find_vintage(tmp_path / "empty")


def test_score_synthetic_outturn(tmp_path):
    v = vintage.load_vintage(stored(tmp_path))
    fc = v.table[v.table["scenario"] == "plan"].set_index(["indicator", "year"])
    f26, f30 = fc.loc[("a", 2026)], fc.loc[("a", 2030)]
    between = (f30["P75"] + f30["P95"]) / 2         # inside 90%, outside 50%
    outturn = pd.DataFrame({
        "indicator": ["a", "a", "a", "gdp", "a"],
        "year": [2026, 2030, 2028, 2026, 2040],
        "value": [f26["P50"], between, 0.5 * fc.loc[("a", 2028), "P5"], 1.0, 1.0],
        "line": [2, 3, 4, 5, 6]})
    s = scoring.score(v.table, outturn, scenario="plan", vintage=v.name)
    t = s.table.set_index("year")
    assert t.loc[2026, "inside_50"] and t.loc[2026, "inside_90"]
    assert not t.loc[2030, "inside_50"] and t.loc[2030, "inside_90"]
    assert not t.loc[2028, "inside_50"] and not t.loc[2028, "inside_90"]
    assert t.loc[2030, "error_pct"] == pytest.approx(100 * (f30["central"] - between) / between)
    assert t.loc[2026, "error_pct"] == pytest.approx(0.0, abs=1e-9)
    assert list(s.skipped["reason"]) == ["unknown indicator", "year not in the vintage"]
    line = s.summary()
    assert "3 row(s) scored" in line and "50% band 1/3" in line and "90% band 2/3" in line
    assert "unknown indicators: gdp" in line and "\n" not in line
    with pytest.raises(ForecastError, match="no scenario 'squeeze'"):
        scoring.score(v.table, outturn, scenario="squeeze", vintage=v.name)


@pytest.mark.parametrize("text, words", [
    ("indicator,yr,value\na,2026,1\n", ["missing column(s) year"]),
    ("indicator,year,value\na,2026,1\na,20x6,1\n", ["row 2 (line 3)", "column year", "'20x6'"]),
    ("indicator,year,value\na,2026,lots\n", ["row 1 (line 2)", "column value", "'lots'"]),
    ("indicator,year,value\n,2026,1\n", ["row 1 (line 2)", "column indicator", "empty"]),
    ("indicator,year,value\n", ["no data rows"]),
])
def test_bad_outturn_is_one_line_error(tmp_path, text, words):
    f = tmp_path / "out.csv"
    f.write_text(text)
    with pytest.raises(ForecastError) as exc:
        scoring.read_outturn(f)
    msg = str(exc.value)
    assert str(f) in msg and "\n" not in msg and all(w in msg for w in words), msg


def test_outturn_ignores_other_columns(tmp_path):
    f = tmp_path / "out.csv"
    f.write_text("source,indicator,value,year\nbureau,a,\"1,234.5\",2026\n")
    df = scoring.read_outturn(f)
    assert df.iloc[0].to_dict() == {"indicator": "a", "year": 2026, "value": 1234.5, "line": 2}


# -- the commands on the real model ----------------------------------------------------------
def test_forecast_is_deterministic_and_scores(tmp_path, capsys):
    from sim.cli.main import main

    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["forecast", "--samples", "60", "--seed", "5", "--out", str(a), "-q"]) == 0
    assert main(["forecast", "--samples", "60", "--seed", "5", "--out", str(b), "-q"]) == 0
    va, vb = vintage.find_vintage(a), vintage.find_vintage(b)
    assert (va / "forecast.csv").read_bytes() == (vb / "forecast.csv").read_bytes()
    table = pd.read_csv(va / "forecast.csv")
    meta = yaml.safe_load((va / "meta.yaml").read_text())
    assert set(table["scenario"]) == {"baseline", "plan"}
    assert set(table["indicator"]) >= {"tech_firms", "tech_brokers", "high_tech_enterprises",
                                       "tech_smes"}
    assert sorted(set(table["year"])) == list(range(2024, 2036))
    assert (table["P5"] <= table["P25"]).all() and (table["P75"] <= table["P95"]).all()
    assert meta["seed"] == 5 and meta["samples"] == 60
    assert meta["checks"]["plan"]["failing_a_check"] >= 0   # reported, never dropped
    from sim import paths
    from sim.model.declarations.history import history_hash, load_history

    assert meta["sha256"]["model"] == history_hash(paths.MODEL_FILE)
    assert meta["sha256"]["history"] == history_hash(paths.HISTORY_FILE)
    # the origin and the data cut-off of the fitted data
    fitted = load_history().query("status in ('sourced', 'lower_bound')")
    assert meta["origin"] <= fitted["year"].max() and meta["data_cutoff"].startswith("20")
    assert meta["posterior_data_hash"] == history_hash(paths.HISTORY_FILE)
    # central = the central run at the posterior medians (plansim run)
    from sim.simulate import Simulator

    run = Simulator().run("plan", return_columns=["tech_firms"])
    c = table[(table["scenario"] == "plan") & (table["indicator"] == "tech_firms")
              & (table["year"] == 2028)]["central"].iloc[0]
    assert c == pytest.approx(float(run["tech_firms"].sel(time=2028).values[0]), rel=1e-5)
    capsys.readouterr()
    # a synthetic outturn from the stored vintage: its own P50s, plus an unknown indicator
    plan = table[(table["scenario"] == "plan") & (table["year"] <= 2025)]
    out = plan[["indicator", "year"]].assign(value=plan["P50"].to_numpy(), note="synthetic")
    out = pd.concat([out, pd.DataFrame([{"indicator": "gdp", "year": 2024, "value": 1.0}])])
    f = tmp_path / "outturn.csv"
    out.to_csv(f, index=False)
    assert main(["score", str(f), "--forecasts", str(a), "--out", str(tmp_path / "s"),
                 "-q"]) == 0
    printed = capsys.readouterr().out
    assert "skipped: gdp 2024" in printed and f"{len(plan)} row(s) scored" in printed
    scored = pd.read_csv(tmp_path / "s" / "score" / "score.csv")
    assert list(scored.columns) == list(scoring.SCORE_COLUMNS)
    assert len(scored) == len(plan) and scored["inside_90"].all()
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator,year,value\ntech_firms,2025,many\n")
    assert main(["score", str(bad), "--forecasts", str(a), "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "row 1 (line 2), column value" in err
    assert (tmp_path / "s" / "score" / "score.csv").is_file()   # the earlier result kept
