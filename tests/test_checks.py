"""Behaviour checks (sim.analysis.diagnostics.checks) on hand-built result Datasets."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sim.analysis.diagnostics.checks import (
    BALANCE,
    evaluate_all,
    evaluate_checks,
    model_stocks,
    summarize,
    variables_needed,
)
from sim.errors import ModelError
from sim.model.declarations.checkspec import load_checks, parse_checks

TIMES = np.arange(2012.0, 2016.0)

CHECKS = {
    "bounds": [
        {"name": "stocks non-negative", "variables": ["all_stocks"], "min": 0},
        {"name": "brokers plausible", "variables": ["brokers"], "min": 0, "max": 100},
    ],
    "conservation": [
        {"name": "money conserved", "description": "in = out",
         "inflows": ["budget_total"], "accounted": ["spent", "balance"], "rtol": 1e-9},
    ],
}


def dataset(**overrides) -> xr.Dataset:
    """Two samples, four years: firms and brokers stocks, a budget that is spent or held."""
    base = {
        "firms": [[10, 11, 12, 13], [10, 12, 14, 16]],
        "brokers": [[5, 6, 7, 8], [5, 5, 5, 5]],
        "budget_total": [[0, 10, 20, 30], [0, 5, 10, 15]],
        "spent": [[0, 6, 14, 21], [0, 5, 9, 10]],
        "balance": [[0, 4, 6, 9], [0, 0, 1, 5]],
    }
    base.update(overrides)
    return xr.Dataset({k: (("sample", "time"), np.asarray(v, float)) for k, v in base.items()},
                      coords={"sample": [0, 1], "time": TIMES})


def run(ds: xr.Dataset, stocks=("firms", "brokers")):
    return evaluate_checks(parse_checks(CHECKS), ds, "plan", stocks)


def test_all_pass_on_good_results():
    table = run(dataset())
    assert list(table["variable"]) == ["firms", "brokers", "brokers", BALANCE]
    assert table["passed"].all()
    assert set(table["scenario"]) == {"plan"}


def test_negative_stock_fails_with_worst_value_and_time():
    table = run(dataset(firms=[[10, 11, 12, 13], [10, -1, -3, 2]]))
    row = table[(table["check"] == "stocks non-negative") & (table["variable"] == "firms")]
    assert not row["passed"].item()
    assert row["worst"].item() == -3 and row["time"].item() == 2014 and row["sample"].item() == 1
    assert table[table["variable"] == "brokers"]["passed"].all()


def test_max_bound_and_nan_fail():
    table = run(dataset(brokers=[[5, 6, 7, 8], [5, 150, 5, 5]]))
    row = table[table["check"] == "brokers plausible"]
    assert not row["passed"].item() and row["worst"].item() == 150
    table = run(dataset(firms=[[10, np.nan, 12, 13], [10, 11, 12, 13]]))
    row = table[table["variable"] == "firms"]
    assert not row["passed"].item() and np.isnan(row["worst"].item())
    assert row["time"].item() == 2013


def test_conservation_fails_when_money_leaks():
    table = run(dataset(balance=[[0, 4, 6, 9], [0, 0, 1, 4]]))
    row = table[table["variable"] == BALANCE]
    assert not row["passed"].item()
    assert row["time"].item() == 2015 and row["sample"].item() == 1
    assert row["worst"].item() == pytest.approx(1 / 15)


def test_conservation_tolerance():
    checks = dict(CHECKS, conservation=[dict(CHECKS["conservation"][0], rtol=0.1)])
    leaky = dataset(balance=[[0, 4, 6, 9], [0, 0, 1, 4]])
    table = evaluate_checks(parse_checks(checks), leaky, "plan", ["firms"])
    assert table[table["variable"] == BALANCE]["passed"].item()


def test_evaluate_all_and_summary():
    table = evaluate_all(parse_checks(CHECKS),
                         {"plan": dataset(), "squeeze": dataset(firms=[[1, 0, -2, 0]] * 2)},
                         stocks=["firms", "brokers"])
    summary = summarize(table)
    assert len(summary) == 6
    failed = summary[~summary["passed"]]
    assert list(zip(failed["check"], failed["scenario"], strict=True)) == \
        [("stocks non-negative", "squeeze")]
    assert failed["worst"].item() == -2 and failed["n_failed"].item() == 1
    # a passing check reports the variable closest to its bound: brokers (5) before firms (10)
    plan = summary[(summary["scenario"] == "plan") & (summary["check"] == "stocks non-negative")]
    assert plan["variable"].item() == "brokers" and plan["worst"].item() == 5
    assert variables_needed(parse_checks(CHECKS), ["firms"]) == \
        ["firms", "brokers", "budget_total", "spent", "balance"]


def test_missing_variable_is_a_model_error():
    with pytest.raises(ModelError, match="'nothing'.*scenario 'plan'"):
        evaluate_checks(parse_checks({"bounds": [{"name": "x", "variables": ["nothing"],
                                                  "min": 0}]}), dataset(), "plan")


@pytest.mark.parametrize("raw, match", [
    ({"bound": []}, "unknown key 'bound'"),
    ({"bounds": [{"name": "a", "variables": ["x"]}]}, "give 'min', 'max'"),
    ({"bounds": [{"name": "a", "variables": "x", "min": 0}]}, r"bounds\[0\].variables"),
    ({"bounds": [{"name": "a", "variables": ["x"], "min": "zero"}]}, r"min: 'zero'"),
    ({"bounds": [{"name": "a", "variables": ["x"], "min": 2, "max": 1}]}, "must be >= min"),
    ({"bounds": [{"name": "a", "variables": ["x"], "mni": 0}]}, "unknown key 'mni'"),
    ({"conservation": [{"name": "c", "inflows": ["a"]}]}, "key 'accounted' is missing"),
    ({"conservation": [{"name": "c", "inflows": ["a"], "accounted": ["b"], "rtol": -1}]},
     "rtol: -1"),
    ({"bounds": [{"name": "a", "variables": ["x"], "min": 0}],
      "conservation": [{"name": "a", "inflows": ["a"], "accounted": ["b"]}]}, "used twice"),
])
def test_bad_checks_file_is_rejected(raw, match):
    with pytest.raises(ModelError, match=match):
        parse_checks(raw, "checks.yaml")


def test_load_checks_names_file(tmp_path):
    path = tmp_path / "checks.yaml"
    path.write_text("bounds:\n  - name: s\n    variables: [all_stocks]\n    min: 0\n")
    assert load_checks(path).bounds[0].variables == ("all_stocks",)
    path.write_text("bounds: 3\n")
    with pytest.raises(ModelError, match=str(path)):
        load_checks(path)
    with pytest.raises(ModelError, match="not found"):
        load_checks(tmp_path / "missing.yaml")


def test_model_stocks_lists_integ_elements(tmp_path):
    mdl = tmp_path / "m.mdl"
    mdl.write_text("{UTF-8}\nTech Firms = INTEG(births, 1) ~ firms ~ |\n"
                   "births = 1 ~ firms/Year ~ |\nPool = INTEG(-births, 5) ~ firms ~ |\n"
                   "FINAL TIME = 1 ~ Year ~ |\nINITIAL TIME = 0 ~ Year ~ |\n"
                   "SAVEPER = 1 ~ Year ~ |\nTIME STEP = 1 ~ Year ~ |\n", encoding="utf-8")
    assert model_stocks(mdl) == ["tech_firms", "pool"]
