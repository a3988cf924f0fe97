"""The explorer's state and page without a browser: the saved file runs to the numbers shown,
bad files and broken constraints give the library's one-line messages, the language switch,
and the command's arguments. (In a real browser: tests/test_explorer_browser.py.)"""

from __future__ import annotations

import pytest

from sim.errors import ScenarioError
from sim.scenarios.loader import Inherited


def test_points_after_keeps_the_later_points_of_nested_values():
    from sim.present.explorer.session import points_after

    assert points_after(3.0, 2028) == {}
    assert points_after({2024: 1.0, 2029: 2.0}, 2028) == {2029: 2.0}
    nested = Inherited({2024: 1.0, 2030: 5.0}, {2029: 0.0, 2035: 1.0})
    assert points_after(nested, 2028) == {2029: 0.0, 2035: 1.0}
    assert points_after(Inherited({2031: 4.0}, {2033: 1.0}), 2028) == {2031: 4.0, 2033: 1.0}


def test_step_and_snap():
    from sim.present.explorer.session import snap, step_of

    assert step_of(0, 200) == pytest.approx(0.1)
    assert step_of(0, 1) == pytest.approx(0.001)
    assert step_of(0, 10000) == pytest.approx(10.0)
    assert snap(0.30000000000000004, 0.001) == 0.3
    assert snap(1234.0000001, 10.0) == 1234.0


def test_saved_file_runs_to_exactly_the_numbers_shown(simulator, tmp_path):
    from sim.analysis.outcomes.targets import target_table
    from sim.model.declarations.targets import load_targets
    from sim.present.explorer.session import Session
    from sim.scenarios import load_scenario

    s = Session(simulator, "support-ends-2028")
    shown0 = s.run().table
    ref = target_table(simulator.run("support-ends-2028"), load_targets()).set_index("indicator")
    assert (shown0["value_2028"] == ref["value_2028"]).all()   # unmoved: the scenario itself
    s.set_value("fiscal_budget", 2026, 30.00000000001)
    s.set_value("broker_training_places", 2025, 1200)
    shown = s.run().table
    assert shown.loc["tech_firms", "value_2028"] > shown0.loc["tech_firms", "value_2028"]
    doc = s.document()
    assert doc["extends"] == "support-ends-2028.yaml"
    assert doc["levers"]["fiscal_budget"] == {2024: 15.6, 2025: 17.2, 2026: 30.0, 2027: 20.8,
                                              2028: 22.9, 2029: 9.6, 2035: 11.4}
    path = tmp_path / s.file_name
    path.write_text(s.yaml_text(), encoding="utf-8")
    saved = load_scenario(path)
    run = target_table(simulator.run(saved), load_targets()).set_index("indicator")
    assert (run["value_2028"] == shown["value_2028"]).all()
    assert (run["year_reached"] == shown["year_reached"]).all()


def test_upload_gives_the_command_line_message(simulator, tmp_path):
    from sim.present.explorer.session import Session
    from sim.scenarios import load_scenario

    s = Session(simulator, "plan")
    text = b"name: {zh: x, en: x}\nextends: plan.yaml\nlevers:\n  fiscal_budget: {2026: 900}\n"
    bad = tmp_path / "too-much.yaml"
    bad.write_bytes(text)
    with pytest.raises(ScenarioError) as cli:
        load_scenario(bad)
    with pytest.raises(ScenarioError) as page:
        s.upload("too-much.yaml", text)
    assert str(page.value) == str(cli.value).replace(str(bad.resolve()), bad.name)
    assert str(page.value).startswith("too-much.yaml: levers.fiscal_budget.2026: 900")
    assert s.base.id == "plan"                                  # the page keeps its settings
    s.upload("mine.yaml", text.replace(b"900", b"40"))
    assert s.base.id == "mine" and s.values["fiscal_budget"][2026] == 40.0
    assert s.document()["extends"] == "plan.yaml"


def test_shares_rebalance_to_the_bound_and_the_rest_is_unallocated():
    from sim.present.explorer.session import rebalance

    shares = {"a": 0.38, "b": 0.36, "c": 0.12, "d": 0.14}
    out = rebalance(shares, "c", 0.24, 1.0, 0.001)
    assert out["c"] == 0.24 and sum(out.values()) == pytest.approx(1.0, abs=1e-12)
    assert out["a"] / out["b"] == pytest.approx(0.38 / 0.36, rel=0.01)   # in proportion
    assert all(len(repr(v)) <= 5 for v in out.values())              # to the slider's decimals
    low = rebalance(shares, "c", 0.02, 1.0, 0.001)                      # lowered: rest unallocated
    assert low == {**shares, "c": 0.02}
    assert rebalance(shares, "a", 1.0, 1.0, 0.001) == {"a": 1.0, "b": 0.0, "c": 0.0, "d": 0.0}


def test_declared_values_lie_on_the_slider_grid():
    import yaml

    from sim import paths
    from sim.model.declarations.parameters import load_parameters
    from sim.present.explorer.session import step_of

    levers = load_parameters().levers
    for f in paths.SCENARIO_DIR.glob("*.yaml"):
        for lid, v in (yaml.safe_load(f.read_text(encoding="utf-8")).get("levers") or {}).items():
            lv = levers[lid]
            for x in (v.values() if isinstance(v, dict) else [v]):
                k = (x - lv.min) / step_of(lv.min, lv.max)
                assert abs(k - round(k)) < 1e-6, (f.name, lid, x)


def test_page_shares_typed_values_and_language(simulator):
    pytest.importorskip("panel")
    from sim.present.explorer.server import make_app

    app = make_app("plan", simulator=simulator, lang="zh")
    assert "科技型企业数量" in app.table.object
    shares = app.s.share_groups["equity_fund_share"].levers
    app.sliders[("industry_share", 2026)].param.trigger("value_throttled")   # focus, no move
    assert not app.s.moved
    app.set_lever("equity_fund_share", 2025, 0.24)              # shares would sum above 1
    assert app.message.object == "" and app.stale.object == ""
    assert sum(app.s.values[k][2025] for k in shares) == pytest.approx(1.0, abs=1e-12)
    assert app.s.values["industry_share"][2025] < 0.38
    assert app.s.values["industry_share"][2024] == 0.38          # other years untouched
    assert app.controls.boxes[("industry_share", 2025)].value == repr(
        app.s.values["industry_share"][2025])                    # the box shows it as saved
    assert set(app.s.moved) == set(shares)
    assert set(app.s.document()["levers"]) - {*shares, *app.s.base.raw.get("levers", {})} \
        == set()
    shown = app.outcome.table["value_2028"].copy()
    app.controls.boxes[("fiscal_budget", 2026)].value = "900"   # beyond the declared range
    assert "“900”无效" in app.message.object and "0 至 200" in app.message.object
    assert 'data-testid="stale"' in app.stale.object
    assert (app.outcome.table["value_2028"] == shown).all()      # the last valid answer stays
    app.controls.boxes[("fiscal_budget", 2026)].value = "25"
    assert app.message.object == "" and app.stale.object == ""
    assert app.s.values["fiscal_budget"][2026] == 25.0
    assert (app.outcome.table["value_2028"] != shown).any()
    app.set_lang("en")
    assert "Technology-based firms" in app.table.object
    assert "Fiscal cost" in app.fiscal.object
    assert "Fiscal S&T programmes" in app.group_select.options
    assert "Budget allocation shares" in app.group_select.options
    app.group_select.value = "finance"
    assert app.group_view.objects[0] is app.group_columns["finance"]
    app.reset("baseline")
    assert app.s.base.id == "baseline" and not app.s.moved


def test_explore_command_refuses_bad_arguments(capsys):
    from sim.cli.main import main

    assert main(["explore", "no-such-scenario", "--no-browser"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scenario file not found" in err[0]
    with pytest.raises(SystemExit) as exc:
        main(["explore", "--port", "0"])
    assert exc.value.code == 2
    assert "allowed: a port number from 1 to 65535" in capsys.readouterr().err


def test_change_is_rounded_as_the_value_is_shown():
    pytest.importorskip("panel")
    from sim.present.explorer.app import change_text

    assert change_text(5000.0, 5000.0258) == "0"                  # not -0.0258 (-0.0%)
    assert change_text(5743.2, 5000.0) == "+743 (+14.9%)"
    assert change_text(12.34, 12.0) == "+0.3 (+2.8%)"
