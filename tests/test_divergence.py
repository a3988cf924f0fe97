"""Divergence (sim.model.declarations.divergence) and per-sample screening (sim.analysis.diagnostics.screening).

Tiny inline models blow up or turn NaN at a known year; the real model with every lever and
assumption at its maximum must stop `plansim run`/`compare` with exit 3 and write nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from sim.analysis.diagnostics.checks import variables_needed
from sim.analysis.diagnostics.screening import keep_samples, sample_checks, screen
from sim.errors import DivergenceError, ModelError
from sim.model.declarations.checkspec import load_divergence, parse_checks
from sim.model.declarations.divergence import (
    DivergenceRule,
    find_divergence,
    parse_divergence,
    raise_if_diverged,
)

# X grows tenfold a year from 1 in 2000 (Euler, step 1): X(Y) = 10^(Y - 2000) exactly, so it
# first passes 1e8 in 2009. r falls by one a year from 3: its square root is NaN from 2004.
# Constants are given per sample (arrays), as in an ensemble.
TINY = """{UTF-8}
growth = 9
~ 1/Year
~ growth rate of x|
x = INTEG(x * growth, 1)
~ widgets
~ an exploding stock|
decline = 1
~ widgets/Year
~ fall of r|
r = INTEG(-decline, 3)
~ widgets
~ falls by one a year|
root = r ^ 0.5
~ widgets^0.5
~ NaN once r is negative|
INITIAL TIME = 2000
~ Year
~~|
FINAL TIME = 2012
~ Year
~~|
TIME STEP = 1
~ Year
~~|
SAVEPER = 1
~ Year
~~|
"""

RULE = DivergenceRule(1e8, ("all_stocks",), "tiny", "checks.yaml")


@pytest.fixture(scope="module")
def exploding_model(tmp_path_factory):
    from sim.engine import compile_model

    path = tmp_path_factory.mktemp("div") / "tiny.mdl"
    path.write_text(TINY, encoding="utf-8")
    return compile_model(path)


def test_blow_up_is_found_at_its_first_year_and_named(exploding_model):
    ds = exploding_model.run({"growth": np.array([9.0, 0.5, 9.0])}, 3, return_columns=["x"])
    found = find_divergence(ds, RULE, ["x"])
    assert found.mask.tolist() == [True, False, True]
    assert found.first["year"].tolist() == [2009.0, 2009.0]
    assert set(found.first["variable"]) == {"x"} and set(found.first["kind"]) == {"bound"}
    assert found.first["value"].iloc[0] == pytest.approx(1e9)
    summary = found.summary()
    assert summary.to_dict("records") == [{"variable": "x", "year": 2009.0, "kind": "bound",
                                           "count": 2}]


def test_nan_is_found_without_a_bound(exploding_model):
    ds = exploding_model.run({"decline": np.array([1.0])}, 1, return_columns=["root", "r"])
    found = find_divergence(ds)
    assert found.mask.tolist() == [True]
    row = found.first.iloc[0]
    assert (row["variable"], row["year"], row["kind"]) == ("root", 2004.0, "nan")


def test_bound_before_nan_names_the_stock(exploding_model):
    # x passes 1e3 in 2004, the same year root turns NaN: the bounded stock is named first
    ds = exploding_model.run({"decline": np.array([1.0])}, 1, return_columns=["x", "root"])
    found = find_divergence(ds, DivergenceRule(1e3), ["x"])
    assert found.first.iloc[0][["variable", "year"]].tolist() == ["x", 2004.0]


def test_a_sane_run_passes(exploding_model):
    ds = exploding_model.run({"growth": 0.1, "decline": 0.0}, 1, return_columns=["x", "r"])
    assert not find_divergence(ds, RULE, ["x", "r"]).any
    raise_if_diverged(ds, RULE, ["x", "r"], "fine")   # no error


def test_raise_names_variable_year_and_declaration(exploding_model):
    ds = exploding_model.run(None, 1, return_columns=["x"])
    with pytest.raises(DivergenceError) as info:
        raise_if_diverged(ds, RULE, ["x"], "tiny")
    err = info.value
    assert (err.variable, err.year, err.exit_code) == ("x", 2009.0, 3)
    msg = str(err)
    assert "'tiny'" in msg and "'x'" in msg and "2009" in msg and "checks.yaml" in msg
    assert "\n" not in msg


def test_simulator_run_raises_and_ensembles_may_opt_out(tmp_path, monkeypatch):
    from sim import paths
    from sim.simulate import Simulator

    (tmp_path / "tiny.mdl").write_text(TINY, encoding="utf-8")
    (tmp_path / "checks.yaml").write_text(
        "divergence: {max_abs: 1.0e+8, reason: tiny test}\n", encoding="utf-8")
    (tmp_path / "parameters.yaml").write_text(
        "groups: {g: {zh: 组, en: G}}\nlevers: {}\nassumptions:\n  growth:\n"
        "    variable: growth\n    min: 0\n    max: 20\n    label: {zh: 增长, en: Growth}\n"
        "    description: {zh: 增长率, en: Growth rate}\n",
        encoding="utf-8")
    (tmp_path / "baseline.yaml").write_text(
        "name: {zh: 基准, en: Baseline}\ndescription: tiny\nlevers: {}\n", encoding="utf-8")
    for key, name in (("MODEL_FILE", "tiny.mdl"), ("PARAMETERS_FILE", "parameters.yaml"),
                      ("CALIBRATION_FILE", "none.yaml")):
        monkeypatch.setattr(paths, key, tmp_path / name)
    monkeypatch.setattr(paths, "MODEL_DIR", tmp_path)
    monkeypatch.setattr(paths, "SCENARIO_DIR", tmp_path)
    sim = Simulator()
    # the Simulator reports calendar years: row 2008 holds the stock at the end of 2008 (t=2009)
    with pytest.raises(DivergenceError, match=r"'x' reaches 1e\+09 in 2008"):
        sim.run("baseline", return_columns=["x"])
    ok = sim.run("baseline", assumptions={"growth": 0.5}, return_columns=["x"])
    assert float(ok["x"].max()) < 1e8
    both = sim.run("baseline", assumptions={"growth": np.array([0.5, 9.0])},
                   return_columns=["x"], check_divergence=False)
    assert find_divergence(both, load_divergence(), ["x"]).mask.tolist() == [False, True]


@pytest.mark.parametrize("raw, message", [
    ({"max_abs": 0, "reason": "r"}, "max_abs: 0 is not allowed"),
    ({"max_abs": "1.0e8", "reason": "r"}, "max_abs: '1.0e8' is not allowed"),
    ({"max_abs": 1e8}, "reason: None is not allowed"),
    ({"max_abs": 1e8, "reason": "r", "vars": ["x"]}, "unknown key 'vars'"),
    ({"max_abs": 1e8, "reason": "r", "variables": []}, "variables: [] is not allowed"),
    ([1], "expected a mapping"),
])
def test_bad_declaration_is_one_clear_error(raw, message):
    with pytest.raises(ModelError, match=message.replace("[", r"\[").replace("]", r"\]")) as e:
        parse_divergence(raw, "m/checks.yaml")
    assert "m/checks.yaml: divergence" in str(e.value)


def test_the_model_declares_a_bound_with_a_reason():
    rule = load_divergence()
    assert rule is not None and rule.max_abs > 1e6 and len(rule.reason) > 40
    raw = yaml.safe_load(Path(rule.source).read_text(encoding="utf-8"))
    assert parse_checks(raw, rule.source).divergence == rule


# -- per-sample screening -------------------------------------------------------------------
def ensemble() -> xr.Dataset:
    """Four samples over 2012-2015: 0 fine, 1 brokers too many in 2014, 2 money leaks from 2013,
    3 firms NaN from 2015."""
    firms = np.array([[10, 11, 12, 13]] * 4, float)
    firms[3, 3] = np.nan
    brokers = np.array([[5, 6, 7, 8], [5, 50, 150, 90], [5, 5, 5, 5], [5, 5, 5, 5]], float)
    budget = np.array([[0, 10, 20, 30]] * 4, float)
    spent = budget.copy()
    spent[2, 1:] -= 1
    data = {"firms": firms, "brokers": brokers, "budget": budget, "spent": spent}
    return xr.Dataset({k: (("sample", "time"), v) for k, v in data.items()},
                      coords={"sample": np.arange(4), "time": np.arange(2012.0, 2016.0)})


CHECKS = parse_checks({
    "divergence": {"max_abs": 1e6, "reason": "test"},
    "bounds": [{"name": "stocks non-negative", "variables": ["all_stocks"], "min": 0},
               {"name": "brokers plausible", "variables": ["brokers"], "max": 100}],
    "conservation": [{"name": "money", "inflows": ["budget"], "accounted": ["spent"]}],
})


def test_sample_checks_per_sample_and_check():
    passed, failures = sample_checks(CHECKS, ensemble(), ["firms", "brokers"])
    assert passed.to_dict("list") == {
        "stocks non-negative": [True, True, True, False],
        "brokers plausible": [True, False, True, True],
        "money": [True, True, False, True],
    }
    rows = failures.set_index(["check", "variable"])
    assert rows.loc[("stocks non-negative", "firms"), "n_failed"] == 1
    assert rows.loc[("stocks non-negative", "firms"), "first_year"] == 2015
    assert rows.loc[("brokers plausible", "brokers"), "first_year"] == 2014
    assert rows.loc[("money", "sum(inflows) - sum(accounted)"), "first_year"] == 2013


def test_screen_keeps_only_clean_samples_and_reports_why():
    ds = ensemble()
    s = screen(ds, CHECKS, ["firms", "brokers"])
    assert s.keep.tolist() == [True, False, False, False]
    assert s.divergence.mask.tolist() == [False, False, False, True]
    lines = s.summary_lines()
    assert lines[0] == "1 of 4 samples kept"
    assert any("firms (nan) first in 2015: 1 samples" in x for x in lines)
    assert any("'brokers plausible'" in x for x in lines)
    kept = keep_samples(ds, s.keep)
    assert kept["sample"].values.tolist() == [0] and kept.attrs["samples_dropped"] == 3


def test_screen_without_checks_only_divergence():
    s = screen(ensemble())
    assert s.keep.tolist() == [True, True, True, False] and s.passed.empty


def test_screen_names_a_missing_variable():
    with pytest.raises(ModelError, match="'brokers' is not in the ensemble results"):
        sample_checks(CHECKS, ensemble().drop_vars("brokers"), ["firms"])


def test_real_checks_screen_the_real_ensemble_columns():
    """The real checks run per sample on the columns variables_needed asks for."""
    from sim.model.declarations.checkspec import load_checks
    from sim.simulate import Simulator

    checks = load_checks()
    sim = Simulator()
    stocks = list(sim.info.index[sim.info["kind"] == "stock"])
    cols = variables_needed(checks, stocks)
    ds = sim.run("plan", assumptions={"spin_off_fraction": np.array([0.15, 0.3])},
                 return_columns=cols)
    s = screen(ds, checks, stocks)
    assert s.passed.shape == (2, len(checks.bounds) + len(checks.conservation))
    assert s.keep.dtype == bool and not s.divergence.any


# -- the real model through the command line ---------------------------------------------------
def test_real_model_stays_finite_at_extreme_inputs():
    """With every lever and assumption at its maximum (allocation shares kept at the plan's, as
    their sum is constrained), the model's limits to growth keep it from diverging."""
    from sim.model.declarations.parameters import load_parameters
    from sim.scenarios.constraints import load_constraints
    from sim.simulate import Simulator

    p = load_parameters()
    shares = {n for c in load_constraints(p) for n in c.levers}
    assert shares, "the allocation shares are declared as a constraint"
    ds = Simulator().run("plan", levers={k: float(v.max) for k, v in p.levers.items()
                                         if k not in shares},
                         assumptions={k: float(v.max) for k, v in p.assumptions.items()})
    assert all(np.isfinite(ds[v].values).all() for v in ds.data_vars)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "compare"])
def test_cli_stops_on_divergence_and_writes_nothing(command, tmp_path, monkeypatch, capsys):
    """A run beyond the declared bound (here a bound of 1,000, which the real model's firm
    stocks pass in their first years) stops the command: exit 3, one line, nothing written."""
    import sim.simulate
    from sim.cli.main import main
    from sim.model.declarations.divergence import DivergenceRule

    monkeypatch.setattr(sim.simulate, "load_divergence",
                        lambda *a, **k: DivergenceRule(1.0e3, source="test bound"))
    out = tmp_path / "out"
    rc = main([command, "baseline", "plan", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 3, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert f"plansim {command}: error: scenario 'baseline' diverges:" in lines[0]
    assert "divergence bound" in lines[0] and " in 20" in lines[0]
    # --out is claimed (created, locked) before any work; no result is written into it
    written = [p.name for p in out.iterdir() if p.name != ".plansim.lock"] if out.exists() else []
    assert written == []
    assert [p.name for p in tmp_path.iterdir()] in ([], ["out"])
