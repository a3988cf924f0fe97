"""what-it-takes, returns, discover: the least-budget search, PRIM and the written scenarios."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_engine_helpers import write_model

from sim.analysis.decisions import prim
from sim.analysis.decisions.requirements import Outcome, Problem, least_budget
from tests.inline_mdl import numpy_model

# out = a (1 + e1 x1 + e2 x2): line 1 gives twice what line 2 gives per 亿元
BODY = """
out = a * (1 + 0.5 * x1 + 0.25 * x2)
~ widgets ~~|
a = 1
~ widgets ~~|
x1 = 0
~ yi ~~|
x2 = 0
~ yi ~~|
"""
TARGET = 2.0


@pytest.fixture(scope="module")
def two_lever_model(tmp_path_factory):
    return numpy_model(write_model(tmp_path_factory.mktemp("wit"), BODY))


def _problem(bm, a):
    def evaluate(x):
        ds = bm.run({"a": a, "x1": float(x[0]), "x2": float(x[1])}, n_samples=len(a),
                    return_columns=["out"])
        v = ds["out"].isel(time=-1).values
        with np.errstate(divide="ignore"):
            margin = np.log(v / TARGET)
        return Outcome(margin[:, None], (v > TARGET)[:, None], float(np.sum(x)))

    return Problem(["x1", "x2"], ["out"], np.array([100.0, 100.0]), evaluate)


@pytest.mark.parametrize("p", [0.5, 0.8, 0.95])
def test_least_budget_known_answer(two_lever_model, p):
    n = 20
    a = np.arange(1, n + 1) / n                      # a_(k) = (n - k + 1) / n
    k = math.ceil(p * n)
    exact = (TARGET / ((n - k + 1) / n) - 1) / 0.5   # all on line 1, the better one
    r = least_budget(_problem(two_lever_model, a), 0, p, budget_max=100.0)
    assert r.reachable
    assert exact - 1e-9 <= r.extra_budget <= exact + 0.1
    assert r.mix[0] >= r.mix.sum() - 0.1             # (almost) all on the better line
    assert r.achieved >= p and r.achieved == pytest.approx(k / n)


def test_already_met_costs_nothing(two_lever_model):
    a = np.full(10, 3.0)
    r = least_budget(_problem(two_lever_model, a), 0, 0.9, budget_max=100.0)
    assert r.reachable and r.extra_budget == 0 and r.achieved == 1.0


def test_unreachable_is_reported_not_faked(two_lever_model):
    a = np.array([0.0, 0.0, 0.5, 1.0])               # two samples can never meet the target
    r = least_budget(_problem(two_lever_model, a), 0, 0.8, budget_max=100.0)
    assert not r.reachable
    assert r.achieved == 0.5 and r.achieved < 0.8
    assert r.mc_se == pytest.approx(math.sqrt(0.25 / 4))


def test_prim_finds_a_known_box():
    rng = np.random.default_rng(7)
    x = rng.uniform(size=(3000, 3))
    y = (x[:, 0] > 0.6) & (x[:, 1] < 0.3)
    boxes, traj = prim.cover(x, y, boxes=1)
    b = boxes[0]
    assert b.lower[0] == pytest.approx(0.6, abs=0.05)
    assert b.upper[1] == pytest.approx(0.3, abs=0.05)
    assert list(np.flatnonzero(b.restricted(x))) == [0, 1]   # x2 is irrelevant
    assert b.density > 0.9 and b.coverage > 0.8
    table = prim.box_table(boxes, x, ["x0", "x1", "x2"])
    assert list(table["assumption"]) == ["x0", "x1"]
    assert traj[0][0].coverage == 1.0 and traj[0][0].mass == 1.0


def test_prim_refuses_mismatched_input():
    from sim.errors import UncertaintyError

    with pytest.raises(UncertaintyError):
        prim.peel(np.zeros((3, 2)), np.zeros(4, bool))


def test_money_routing_is_measured_and_conserves_shares():
    from sim.analysis.decisions.money import FUNDS, extra_money, mix_levers, money_base
    from sim.analysis.ensembles.ensemble import shared_simulator
    from sim.scenarios import load_scenario

    sim, sc = shared_simulator(), load_scenario("plan")
    base = money_base(sim, sc)
    x = np.arange(1.0, len(base.lines) + 1)
    levers = mix_levers(base, x)
    for y in base.years:
        assert sum(levers[lid][y] for lid in base.lines) <= 1 + 1e-12
    run = sim.run(sc, levers=levers, return_columns=[FUNDS])
    assert extra_money(run, sim.run(sc, return_columns=[FUNDS]), base.years) == \
        pytest.approx(x.sum(), rel=1e-9)


# the tests using this fixture run on one xdist worker (xdist_group "what-it-takes-contracts"): made once
@pytest.fixture(scope="module")
def contracts():
    """A target the plan misses on these 60 draws unless money is added (brokers at P 0.55)."""
    from sim.analysis.decisions.what_it_takes import what_it_takes

    return what_it_takes("plan", targets=["tech_brokers"], probabilities=[0.55],
                         samples=60, budget_max=100.0)


@pytest.mark.xdist_group("what-it-takes-contracts")
def test_written_scenario_reproduces_with_another_seed(contracts, tmp_path):
    from sim.analysis.decisions.what_it_takes import (
        conditioned_ensemble,
        scenario_name,
        scenario_text,
    )
    from sim.scenarios import load_scenario
    from sim.simulate import Simulator

    r = contracts.requirements[0]
    assert r.reachable and r.extra_budget > 0 and r.achieved >= 0.55
    path = tmp_path / f"{scenario_name(r)}.yaml"
    path.write_text(scenario_text(contracts.ensemble, r, str(load_scenario("plan").source)),
                    encoding="utf-8")
    sc = load_scenario(path)
    assert Simulator().run(sc, return_columns=["tech_brokers"]).sizes["time"] > 0
    other = conditioned_ensemble(sc, samples=60, seed=99)
    q = float(other.outcome(np.zeros(len(other.base.lines))).met[:, 4].mean())
    se = math.sqrt(r.mc_se ** 2 + q * (1 - q) / other.n)
    assert abs(q - r.achieved) <= 3 * se


@pytest.mark.xdist_group("what-it-takes-contracts")
def test_table_columns(contracts):
    t = contracts.table
    assert list(t.columns[:6]) == ["target", "probability", "reachable",
                                   "extra_budget_2024_2028", "achieved_probability", "mc_se"]
    assert set(contracts.lines) <= set(t.columns)
    assert set(contracts.curves["direction"]) == {*contracts.lines, "even"}



@pytest.mark.parametrize("args", [
    ["what-it-takes", "plan", "--target", "nonsense"],
    ["discover", "plan", "--target", "nonsense"],
])
def test_bad_target_one_line(args, tmp_path, run_cli):
    code, err = run_cli(*args, "--out", str(tmp_path / "o"))
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "nonsense" in err
    assert not (tmp_path / "o").exists()


def test_bad_probability_exit_2(tmp_path, run_cli):
    code, err = run_cli("what-it-takes", "plan", "--probability", "1.5", "--out",
                     str(tmp_path / "o"))
    assert code == 2 and "Traceback" not in err and "1.5" in err


def test_returns_and_discover_commands(tmp_path):
    from sim.cli.main import main

    assert main(["returns", "plan", "--samples", "30", "--out", str(tmp_path), "-q"]) == 0
    table = pd.read_csv(tmp_path / "returns_plan" / "returns.csv")
    assert {"group", "indicator", "median", "P5", "P95", "rests_on"} <= set(table.columns)
    assert (table["P5"] <= table["median"] + 1e-12).all()
    assert (tmp_path / "returns_plan" / "returns_rd_expenditure_zh.png").is_file()
    assert main(["discover", "plan", "--samples", "60", "--target", "all", "--target",
                 "tech_brokers", "--out", str(tmp_path), "-q"]) == 0
    boxes = pd.read_csv(tmp_path / "discover_plan" / "boxes.csv")
    assert set(boxes["target"]) == {"all", "tech_brokers"}
    row = boxes[boxes["target"] == "all"].iloc[0]
    if row["cases"] < 10:
        assert pd.isna(row["box"])                   # (almost) never met: no fake box


# line 1 pays 0.2 per 亿元 up to 5 亿元, line 2 pays 0.05 per 亿元 without limit
SATURATING = """
out = a * (1 + 0.2 * MIN(x1, 5) + 0.05 * x2)
~ widgets ~~|
a = 1
~ widgets ~~|
x1 = 0
~ yi ~~|
x2 = 0
~ yi ~~|
"""


def test_mix_beats_every_single_line_and_the_even_split(tmp_path):
    bm = numpy_model(write_model(tmp_path, SATURATING))
    a = np.full(4, 1.0)
    # need a gain of 1.5 (out > 2.5): best is x1 = 5 (gain 1), x2 = 10 (gain 0.5): 15 亿元;
    # line 2 alone needs 30, the even split 20, line 1 alone never gets there
    target = 2.5

    def evaluate(x):
        ds = bm.run({"a": a, "x1": float(x[0]), "x2": float(x[1])}, n_samples=len(a),
                    return_columns=["out"])
        v = ds["out"].isel(time=-1).values
        return Outcome(np.log(v / target)[:, None], (v > target)[:, None], float(np.sum(x)))

    problem = Problem(["x1", "x2"], ["out"], np.array([100.0, 100.0]), evaluate)
    r = least_budget(problem, 0, 0.5, budget_max=40.0)
    assert r.reachable and r.achieved == 1.0
    assert 15 - 1e-9 <= r.extra_budget <= 16


def test_console_table_says_what_it_holds_in_the_chosen_language():
    from sim.model.declarations.parameters import load_parameters
    from sim.present.tabular.requirement_table import requirements_view
    from sim.present.tabular.tables import format_table

    levers = load_parameters().levers
    lines = {lid: levers[lid].label for lid in ("industry_share", "platform_award_share")}
    table = pd.DataFrame([
        {"target": "all", "probability": 0.8, "reachable": False,
         "extra_budget_2024_2028": float("nan"), "achieved_probability": 0.31, "mc_se": 0.03,
         "n": 200, "industry_share": float("nan"), "platform_award_share": float("nan")},
        {"target": "tech_brokers", "probability": 0.5, "reachable": True,
         "extra_budget_2024_2028": 12.345, "achieved_probability": 0.52, "mc_se": 0.03,
         "n": 200, "industry_share": 10.0, "platform_award_share": 2.345}])
    names = {"all": {"zh": "五项目标全部完成", "en": "All five targets met"},
             "tech_brokers": {"zh": "技术经纪人", "en": "Technology brokers"}}
    zh = format_table(requirements_view(table, lines, names, "zh", 2024, 2028), "zh")
    assert "无法达到" in zh and "五项目标全部完成" in zh and "否" in zh and "是" in zh
    assert "占比" not in zh and "平台奖补" in zh and "亿元" in zh
    assert "True" not in zh and "False" not in zh and "all" not in zh.lower()
    unreachable = next(line for line in zh.splitlines() if "无法达到" in line)
    assert not any(ch.isdigit() for ch in unreachable.split("无法达到")[1].replace("31%", "")
                   .replace("3%", ""))   # no money figure after the word
    en = format_table(requirements_view(table, lines, names, "en", 2024, 2028), "en")
    assert "unreachable" in en and "All five targets met" in en and "yes" in en
    assert "Share for" not in en and "platform awards" in en


def test_written_files_extend_relatively(tmp_path):
    from sim import paths
    from sim.analysis.decisions.what_it_takes import extends_ref

    assert extends_ref(paths.SCENARIO_DIR / "plan.yaml", tmp_path / "out") == "plan.yaml"
    mine = tmp_path / "mine" / "equity.yaml"
    assert extends_ref(mine, tmp_path / "out" / "what-it-takes_equity") == \
        "../../mine/equity.yaml"


# two lines with per-sample returns: line 1 pays b per 亿元 up to 5 亿元, line 2 pays 0.05
HETERO = """
out = a * (1 + b * MIN(x1, 5) + 0.05 * x2)
~ widgets ~~|
a = 1
~ widgets ~~|
b = 0.2
~ 1/yi ~~|
x1 = 0
~ yi ~~|
x2 = 0
~ yi ~~|
"""
BRUTE_STEP = 0.25


@pytest.fixture(scope="module")
def hetero(tmp_path_factory):
    bm = numpy_model(write_model(tmp_path_factory.mktemp("hetero"), HETERO))
    rng = np.random.default_rng(7)
    n = 200
    a, b = rng.uniform(0.8, 1.2, n), rng.uniform(0.1, 0.3, n)

    def problem(rows: slice = slice(None)) -> Problem:
        aa, bb = a[rows], b[rows]

        def evaluate(x):
            ds = bm.run({"a": aa, "b": bb, "x1": float(x[0]), "x2": float(x[1])},
                        n_samples=len(aa), return_columns=["out"])
            v = ds["out"].isel(time=-1).values
            return Outcome(np.log(v / 2.5)[:, None], (v > 2.5)[:, None], float(np.sum(x)))

        return Problem(["x1", "x2"], ["out"], np.array([100.0, 100.0]), evaluate)

    # brute force: P on a fine grid of (x1, x2), one batch run per x1 (every x2 and sample)
    grid = np.arange(0.0, 40.0 + 1e-9, BRUTE_STEP)
    prob = np.empty((grid.size, grid.size))
    for i, x1 in enumerate(grid):
        ds = bm.run({"a": np.tile(a, grid.size), "b": np.tile(b, grid.size), "x1": x1,
                     "x2": np.repeat(grid, n)}, n_samples=n * grid.size, return_columns=["out"])
        prob[i] = (ds["out"].isel(time=-1).values.reshape(grid.size, n) > 2.5).mean(axis=1)
    total = grid[:, None] + grid[None, :]
    return problem, prob, total


@pytest.mark.parametrize("p", [0.5, 0.8])
def test_screened_search_matches_brute_force(hetero, p):
    """Ranking the marginal analysis's steps on one draw in five finds a mix as cheap as the
    search on every draw and as a fine brute-force grid, with fewer runs on every draw; its
    P is that of the whole ensemble."""
    problem_of, prob, total = hetero
    brute = float(total[prob >= p].min())          # least total on the grid meeting p
    whole = problem_of()
    old = least_budget(whole, 0, p, budget_max=40.0)
    screened = problem_of()
    screened.screen = problem_of(slice(None, None, 5))
    new = least_budget(screened, 0, p, budget_max=40.0)
    assert new.reachable and new.achieved >= p
    assert new.achieved == screened.probability(new.mix, 0)   # P on all 200 draws
    assert brute - 2 * BRUTE_STEP <= new.extra_budget <= brute + 0.05 * brute
    assert abs(new.extra_budget - brute) <= abs(old.extra_budget - brute) + BRUTE_STEP
    assert screened.runs < whole.runs


def test_screened_search_unreachable_reports_the_best_p(hetero):
    problem_of, prob, total = hetero
    best = float(prob[total <= 8.0 + 1e-9].max())  # the best P within 8 亿元 on the grid
    whole = problem_of()
    old = least_budget(whole, 0, 0.99, budget_max=8.0)
    screened = problem_of()
    screened.screen = problem_of(slice(None, None, 5))
    new = least_budget(screened, 0, 0.99, budget_max=8.0)
    assert not new.reachable and not old.reachable
    assert new.achieved == screened.probability(new.mix, 0)
    assert best - 0.05 <= new.achieved <= best + 0.02
    assert abs(new.achieved - best) <= abs(old.achieved - best) + 0.01


def test_all_targets_at_a_probability_one_target_misses_is_not_searched_again():
    """All five together cannot be met with a probability one of them is not met with: that
    row is reported unreachable (with the best P seen) without a second marginal analysis."""
    from sim.analysis.decisions.what_it_takes import what_it_takes

    kw = dict(probabilities=[0.5], samples=40, budget_max=50.0)
    alone = what_it_takes("plan", targets=["platforms"], **kw)
    both = what_it_takes("plan", targets=["all", "platforms"], **kw)
    assert not alone.requirements[0].reachable         # the plan's platforms: P about 0.04
    row_all, row_one = both.requirements                # in the order asked for
    assert (row_all.target, row_one.target) == ("all", "platforms")
    assert not row_all.reachable and row_all.achieved <= row_one.achieved
    assert both.runs <= alone.runs + 1                  # no second search


def test_screen_takes_the_subset_of_a_run_on_every_draw_bitwise(hetero):
    """A mix already run on every draw gives its screening outcome by slicing: the same bits
    as a run on the subset (each draw runs alone); a mix not run yet is run on the subset."""
    from sim.analysis.decisions.what_it_takes import screen_from

    problem_of, _, _ = hetero
    whole, fresh, sub = problem_of(), problem_of(slice(None, None, 5)), \
        problem_of(slice(None, None, 5))
    calls, run_sub = [], sub.evaluate
    sub.evaluate = screen_from(whole, lambda x: calls.append(x) or run_sub(x), 5)
    for x in ([3.0, 1.0], [0.0, 7.5], [12.25, 0.5]):
        whole(x)
        a, b = sub(x), fresh(x)
        assert a.margins.tobytes() == b.margins.tobytes()
        assert a.met.tobytes() == b.met.tobytes() and a.spend == b.spend
    assert not calls
    sub([1.0, 1.0])
    assert len(calls) == 1


def test_preview_gives_the_rows_the_table_will_hold_and_runs_nothing(hetero):
    from sim.analysis.decisions.requirements import requirements_table
    from sim.analysis.decisions.what_it_takes import preview

    problem_of, _, _ = hetero
    problem = problem_of()
    reqs = [least_budget(problem, 0, p, budget_max=40.0) for p in (0.5, 0.8)]
    n = problem.runs
    rows = preview(problem, reqs, 0)
    assert problem.runs == n
    assert rows.equals(requirements_table(reqs, problem.lines))


def test_forget_since_leaves_the_search_as_it_was(hetero):
    problem_of, _, _ = hetero
    problem = problem_of()
    kept = problem([1.0, 2.0])
    problem([2.0, 2.0])
    problem([3.0, 0.0])
    assert problem.forget_since(1) and problem.runs == 1
    assert problem.peek([1.0, 2.0]) is kept
    assert problem.peek([2.0, 2.0]) is None and problem.peek([3.0, 0.0]) is None
    assert not problem.forget_since(1)
