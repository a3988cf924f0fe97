"""Units checker (sim.analysis.diagnostics.units) and its unit algebra, on tiny inline Vensim models."""

from __future__ import annotations

import pytest

from sim.analysis.diagnostics.unit_algebra import DMNL, UnitSyntaxError, parse_unit
from sim.analysis.diagnostics.units import check_units
from sim.errors import ModelError

CONTROL = """
********************************************************
\t.Control
********************************************************~
\t\tSimulation Control Parameters
\t|
FINAL TIME = 2035 ~ Year ~ |
INITIAL TIME = 2012 ~ Year ~ |
SAVEPER = 1 ~ Year [0,?] ~ |
TIME STEP = 0.25 ~ Year [0,?] ~ |
"""

BASE = """
Firms = INTEG(births - exits, 100) ~ firms ~ a stock |
births = budget * firms per yuan ~ firms/Year ~ |
exits = Firms / firm life ~ firms/Year ~ |
budget = 5 ~ 亿元/Year ~ |
firms per yuan = 2 ~ firms/亿元 ~ |
firm life = 8 ~ Years ~ |
"""


def write(tmp_path, body: str):
    path = tmp_path / "m.mdl"
    path.write_text("{UTF-8}\n" + body + CONTROL, encoding="utf-8")
    return path


def errors(tmp_path, body: str) -> list:
    return [f for f in check_units(write(tmp_path, body)) if f.severity == "error"]


# -- unit algebra ------------------------------------------------------------------------------
def test_algebra_products_quotients_powers():
    assert parse_unit("亿元/Year") * parse_unit("firms/亿元") == parse_unit("firms/Year")
    assert parse_unit("firms/(Year*亿元)") == parse_unit("firms/Year/亿元")
    assert parse_unit("m^2") / parse_unit("m") == parse_unit("m")
    assert parse_unit("m^(1/2)") ** 2 == parse_unit("m")
    assert str(parse_unit("万元/firm/Year")) == "万元/(Year*firm)"


def test_algebra_dimensionless_time_aliases_and_plurals():
    for text in ("Dmnl", "dmnl", "dimensionless", "1", "亿元/亿元"):
        assert parse_unit(text) == DMNL
    assert parse_unit("Year") == parse_unit("Years") == parse_unit("year")
    assert parse_unit("firm") != parse_unit("firms")
    assert parse_unit("1/Year") != parse_unit("1/Month")
    with pytest.raises(UnitSyntaxError):
        parse_unit("")
    with pytest.raises(UnitSyntaxError):
        parse_unit("firms/(Year")


# -- the checker ---------------------------------------------------------------------------------
def test_consistent_model_passes(tmp_path):
    assert check_units(write(tmp_path, BASE)) == []


def test_wrong_flow_unit_names_variable_and_both_units(tmp_path):
    body = BASE.replace("exits = Firms / firm life ~ firms/Year", "exits = Firms ~ firms/Year")
    found = errors(tmp_path, body)
    assert [f.variable for f in found] == ["exits"]
    assert "firms" in found[0].message and "firms/Year" in found[0].message


def test_integ_rate_must_be_stock_per_time(tmp_path):
    body = BASE.replace("births = budget * firms per yuan ~ firms/Year",
                        "births = budget * firms per yuan ~ firms")
    found = errors(tmp_path, body)
    names = {f.variable for f in found}
    assert "births" in names and "Firms" in names
    firms = next(f for f in found if f.variable == "Firms")
    assert "firms/Year" in firms.message and "births" in firms.message


def test_integ_initial_must_be_stock_units(tmp_path):
    body = BASE.replace("INTEG(births - exits, 100)", "INTEG(births - exits, budget)")
    found = errors(tmp_path, body)
    assert len(found) == 1 and found[0].variable == "Firms"
    assert "亿元/Year" in found[0].message and "initial" in found[0].message


def test_missing_unit_fails(tmp_path):
    found = errors(tmp_path, BASE + "orphan = 3 ~ ~ |\n")
    assert [(f.variable, f.message) for f in found] == [("orphan", "has no units")]


def test_sum_of_unlike_units_fails(tmp_path):
    found = errors(tmp_path, BASE + "mix = budget + Firms ~ firms ~ |\n")
    assert len(found) == 1 and found[0].variable == "mix"
    assert "亿元/Year" in found[0].message and "firms" in found[0].message
    assert "budget + firms" in found[0].message


def test_plural_is_a_different_unit(tmp_path):
    found = errors(tmp_path, BASE + "one firm = Firms ~ firm ~ |\n")
    assert [f.variable for f in found] == ["one firm"]


def test_dmnl_handling(tmp_path):
    body = BASE + ("share = Firms / (Firms + 1) ~ Dmnl ~ |\n"
                   "growth = EXP(share) * LN(1 + share) ~ dimensionless ~ |\n"
                   "bad exp = EXP(firm life) ~ Dmnl ~ |\n"
                   "elastic = (Firms / firms ref) ^ share ~ Dmnl ~ |\n"
                   "firms ref = 100 ~ firms ~ |\n"
                   "bad power = Firms ^ share ~ firms ~ |\n")
    found = errors(tmp_path, body)
    assert sorted(f.variable for f in found) == ["bad exp", "bad power"]


def test_numbers_adapt_to_context(tmp_path):
    body = BASE + ("floor = MAX(0, births - 3) ~ firms/Year ~ |\n"
                   "switch = IF THEN ELSE(Time > 2024, births, 0) ~ firms/Year ~ |\n"
                   "half = births / 2 ~ firms/Year ~ |\n"
                   "constant = 7 ~ persons ~ |\n"
                   "per life = 1 / firm life ~ 1/Year ~ |\n")
    assert errors(tmp_path, body) == []
    # in a product a number is dimensionless, so it cannot supply missing units
    assert [f.variable for f in errors(tmp_path, BASE + "x = 3 / firm life ~ firms/Year ~ |\n")] \
        == ["x"]


def test_if_then_else_branches_must_agree(tmp_path):
    found = errors(tmp_path, BASE + "y = IF THEN ELSE(Time > 2024, births, budget) ~ "
                                    "firms/Year ~ |\n")
    assert len(found) == 1 and "IF THEN ELSE" in found[0].message


def test_smooth_and_delay_rules(tmp_path):
    ok = BASE + ("perceived = SMOOTH(births, firm life) ~ firms/Year ~ |\n"
                 "late = DELAY3I(births, firm life, 0) ~ firms/Year ~ |\n"
                 "trend = TREND(births, firm life, 0) ~ 1/Year ~ |\n")
    assert errors(tmp_path, ok) == []
    bad = BASE + "perceived = SMOOTH(births, share) ~ firms/Year ~ |\nshare = 0.5 ~ Dmnl ~ |\n"
    found = errors(tmp_path, bad)
    assert len(found) == 1 and "delay time" in found[0].message and "Year" in found[0].message


def test_xidz_step_ramp_and_lookups(tmp_path):
    body = BASE + ("rate = XIDZ(births, Firms, 0) ~ 1/Year ~ |\n"
                   "bad rate = XIDZ(births, Firms, budget) ~ 1/Year ~ |\n"
                   "jump = STEP(births, 2024) ~ firms/Year ~ |\n"
                   "ramped = RAMP(births, 2024, 2028) ~ firms ~ |\n"
                   "effect table ((0,0),(1,2)) ~ Dmnl ~ |\n"
                   "effect = effect table(Firms / 100) ~ Dmnl ~ |\n"
                   "bad effect = effect table(Firms) ~ firms ~ |\n")
    found = errors(tmp_path, body)
    assert sorted(f.variable for f in found) == ["bad effect", "bad rate"]


def test_unreadable_model_raises_model_error(tmp_path):
    with pytest.raises(ModelError, match="nope.mdl"):
        check_units(tmp_path / "nope.mdl")


# -- the command line ----------------------------------------------------------------------------
def test_cli_units_only_exit_codes(tmp_path, capsys):
    from sim.cli.main import main

    assert main(["check", "--units-only", "-q", "--model", str(write(tmp_path, BASE))]) == 0
    out = capsys.readouterr().out
    assert "dimensional consistency" in out and "PASS" in out and "FAIL" not in out
    bad = write(tmp_path, BASE + "mix = budget + Firms ~ firms ~ |\n")
    assert main(["check", "--units-only", "-q", "--model", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "error: mix:" in out


def test_quoted_chinese_and_subscripted_names(tmp_path):
    body = ('"R&D per firm" = 0.1 ~ 亿元/(firms*Year) ~ |\n'
            '"R&D spending" = 科技 企业 * "R&D per firm" ~ 亿元/Year ~ |\n'
            '科技 企业 = 10 ~ firms ~ |\n'
            'line : grants, equity ~ ~ |\n'
            'allocation[line] = "R&D spending" * share[line] ~ 亿元/Year ~ |\n'
            'share[grants] = 0.7 ~~|\nshare[equity] = 0.3 ~ Dmnl ~ |\n'
            'total = SUM(allocation[line!]) ~ 亿元/Year ~ |\n'
            'Pool[line] = INTEG(allocation[line], 0) ~ 亿元 ~ |\n')
    assert errors(tmp_path, body) == []
    found = errors(tmp_path, body + 'bad[line] = allocation[line] + 科技 企业 ~ 亿元/Year ~ |\n')
    assert [f.variable for f in found] == ["bad"] and "firms" in found[0].message
