"""`plansim levers` and `plansim assumptions`: one row per declared lever/assumption, names in
the chosen language, values from the calibrated runs."""

import pytest

from sim.cli.main import main
from sim.model.declarations.calibrated import load_calibrated_values
from sim.model.declarations.parameters import load_parameters
from sim.present.labels import format_number, label
from sim.present.tabular import catalogue as cat
from sim.present.tabular.tables import display_width
from sim.scenarios import load_scenario


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_lever_table_rows_labels_and_values(simulator, lang):
    params = load_parameters()
    t = cat.lever_table(lang, simulator=simulator)
    assert list(t.iloc[:, 0]) == list(params.levers)
    assert list(t.iloc[:, 1]) == [label(lv.label, lang) for lv in params.levers.values()]
    plan = simulator.run(load_scenario("plan"))
    lever = params.levers["fiscal_budget"]
    expected = format_number(float(plan[lever.py_name].isel(sample=0).sel(time=2028)))
    row = t.set_index(t.columns[0]).loc["fiscal_budget"]
    assert row.iloc[-1] == label(lever.description, lang)  # what it means, last
    assert row.iloc[-2] == expected
    # the plan changes the budget from the baseline
    assert row.iloc[-4] != row.iloc[-3]


def test_assumption_table_marks_calibrated_values(simulator):
    t = cat.assumption_table("en", simulator=simulator).set_index("id")
    calibrated = load_calibrated_values()
    assert set(t.index) == set(load_parameters().assumptions)
    for aid, value in calibrated.items():
        assert t.loc[aid, "calibrated"] == "yes"
        assert t.loc[aid, "value used"] == format_number(value)
    assert (t["calibrated"] == "no").sum() == len(t) - len(calibrated)
    assert t.loc["private_venture_2012", "range"] == "10–40"   # sim.model.declarations.numtext.format_range


def test_commands_print_the_tables_with_descriptions_in_100_columns(capsys):
    params = load_parameters()
    assert main(["levers", "--lang", "en", "--scenario", "plan"]) == 0
    out = capsys.readouterr().out
    assert "fiscal_budget" in out and "Plan fully carried out" in out
    flat = " ".join(out.split())
    assert all(" ".join(lv.description["en"].split()) in flat for lv in params.levers.values())
    assert "{2027: 250, 2029: 500}" in flat and "sum to at most 1 in every year" in flat
    assert "written as: a number or {year: value} (steps: held until the next year written); " \
           "with the other allocation shares sums to at most 1 in every year" in flat
    assert max(display_width(line) for line in out.splitlines()) <= cat.CONSOLE_WIDTH
    assert main(["assumptions", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "是否校准" in out
    assert max(display_width(line) for line in out.splitlines()) <= cat.CONSOLE_WIDTH
    joined = "".join(line.strip() for line in out.splitlines())
    assert all("".join(a.description["zh"].split()) in joined.replace(" ", "")
               for a in params.assumptions.values())


@pytest.mark.parametrize("width", [12, 30, 100])
def test_wrap_text_counts_wide_characters_twice_and_loses_nothing(width):
    text = ("每年安排的市级财政科技专项资金总额，基准情景按历史趋势增长。Municipal fiscal S&T "
            "special fund appropriated each year (亿元/年), 0.8–3.")
    lines = cat.wrap_text(text, width, indent="  ")
    assert all(display_width(line) <= width for line in lines)
    assert all(line.startswith("  ") for line in lines)
    assert "".join(line.strip() for line in lines).replace(" ", "") == text.replace(" ", "")
    assert not any(line.strip()[0] in "，。" for line in lines)  # no line starts with ，or 。
    if width >= 30:
        assert any("0.8–3." in line for line in lines)  # a range is not broken


def test_levers_unknown_scenario_exits_2(capsys):
    assert main(["levers", "--scenario", "nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err
