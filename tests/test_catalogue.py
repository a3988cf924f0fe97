"""`plansim levers` and `plansim assumptions`: one row per declared lever/assumption, names in
the chosen language, values from the calibrated runs."""

import pytest

from sim.cli.main import main
from sim.model.calibrated import load_calibrated_values
from sim.model.parameters import load_parameters
from sim.present import catalogue as cat
from sim.present.labels import format_number, label
from sim.present.tables import WIDTH, display_width
from sim.scenarios import load_scenario
from sim.simulate import Simulator


@pytest.fixture(scope="module")
def sim():
    return Simulator("batch")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_lever_table_rows_labels_and_values(sim, lang):
    params = load_parameters()
    t = cat.lever_table(lang, simulator=sim)
    assert list(t.iloc[:, 0]) == list(params.levers)
    assert list(t.iloc[:, 1]) == [label(lv.label, lang) for lv in params.levers.values()]
    plan = sim.run(load_scenario("plan"))
    lever = params.levers["fiscal_budget"]
    expected = format_number(float(plan[lever.py_name].isel(sample=0).sel(time=2028)))
    assert t.set_index(t.columns[0]).loc["fiscal_budget"].iloc[-1] == expected
    # the plan changes the budget from the baseline
    row = t.set_index(t.columns[0]).loc["fiscal_budget"]
    assert row.iloc[-3] != row.iloc[-2]


def test_assumption_table_marks_calibrated_values(sim):
    t = cat.assumption_table("en", simulator=sim).set_index("id")
    calibrated = load_calibrated_values()
    assert set(t.index) == set(load_parameters().assumptions)
    for aid, value in calibrated.items():
        assert t.loc[aid, "calibrated"] == "yes"
        assert t.loc[aid, "value used"] == format_number(value)
    assert (t["calibrated"] == "no").sum() == len(t) - len(calibrated)


def test_commands_print_the_tables(capsys):
    assert main(["levers", "--lang", "en", "--scenario", "plan"]) == 0
    out = capsys.readouterr().out
    assert "fiscal_budget" in out and "Plan fully" in out    # headers wrap to fit 100 columns
    assert max(display_width(line) for line in out.splitlines()) <= WIDTH
    assert main(["assumptions", "--lang", "zh"]) == 0
    assert "是否校准" in capsys.readouterr().out


def test_levers_unknown_scenario_exits_2(capsys):
    assert main(["levers", "--scenario", "nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err
