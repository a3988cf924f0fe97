"""Exact Shapley values: efficiency, symmetry, dummy; coalition scenarios run as one batch."""

from dataclasses import dataclass, field, replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sim.analysis.sensitivity import shapley as attribution
from sim.errors import UncertaintyError


def test_additive_game_gives_each_player_its_own_term():
    w = {"a": 3.0, "b": -1.5, "c": 0.25}
    phi = attribution.shapley_values(list(w), lambda s: sum(w[p] for p in s))
    np.testing.assert_allclose(phi["value"], list(w.values()), rtol=1e-12)


def test_multiplicative_game_axioms():
    players = ["fiscal", "equity", "brokers", "dummy"]
    scale = {"fiscal": 2.0, "equity": 2.0, "brokers": 1.5, "dummy": 1.0}

    def v(s):  # a vector of two outputs; fiscal and equity are symmetric, dummy adds nothing
        prod = np.prod([scale[p] for p in s]) if s else 1.0
        return pd.Series({"y1": 10 * prod, "y2": prod ** 2})

    phi = attribution.shapley_values(players, v)
    total = v(frozenset(players)) - v(frozenset())
    np.testing.assert_allclose(phi.sum(axis=0), total, rtol=1e-12)          # efficiency
    np.testing.assert_allclose(phi.loc["fiscal"], phi.loc["equity"])        # symmetry
    np.testing.assert_allclose(phi.loc["dummy"], 0.0, atol=1e-12)           # dummy
    assert phi.loc["fiscal", "y1"] > phi.loc["brokers", "y1"] > 0
    # two-player product x*y from 1: phi_x = (x-1)/2 + (xy - y)/2
    two = attribution.shapley_values(["x", "y"], {frozenset(): 1.0, frozenset({"x"}): 3.0,
                                                  frozenset({"y"}): 2.0,
                                                  frozenset({"x", "y"}): 6.0})
    np.testing.assert_allclose(two["value"], [(2 + 4) / 2, (1 + 3) / 2])


def test_coalitions_and_limits():
    cs = attribution.coalitions(["a", "b", "c"])
    assert len(cs) == 8 and cs[0] == frozenset() and cs[-1] == {"a", "b", "c"}
    with pytest.raises(UncertaintyError, match="distinct"):
        attribution.shapley_values(["a", "a"], lambda s: 0.0)


@dataclass(frozen=True)
class FakeScenario:
    id: str
    levers: dict = field(default_factory=dict)

    def with_levers(self, levers, *, id=None):
        return replace(self, id=id or self.id, levers={**self.levers, **levers})


class FakeSimulator:
    """y = budget * (1 + award) + 5 * brokers: an interaction between two groups."""

    def __init__(self):
        self.calls = 0

    def run_scenarios(self, scenarios, return_columns=None):
        self.calls += 1
        y = [s.levers["budget"] * (1 + s.levers["award"]) + 5 * s.levers["brokers"]
             for s in scenarios]
        data = np.array(y)[:, None, None] * np.ones((1, 1, 3))
        return xr.Dataset({"tech_firms": (("scenario", "sample", "time"), data)},
                          coords={"time": [2027.0, 2028.0, 2029.0],
                                  "scenario": [s.id for s in scenarios]})


def test_attribute_runs_one_batch_and_is_efficient():
    params = SimpleNamespace(
        groups={"fiscal": {}, "awards": {}, "brokers": {}, "unused": {}},
        levers={"budget": SimpleNamespace(group="fiscal"),
                "award": SimpleNamespace(group="awards"),
                "brokers": SimpleNamespace(group="brokers"),
                "other": SimpleNamespace(group="unused")})
    base = FakeScenario("baseline", {"budget": 10, "award": 0.0, "brokers": 1, "other": 3})
    plan = FakeScenario("plan", {"budget": 20, "award": 0.5, "brokers": 1, "other": 3})
    sim = FakeSimulator()
    res = attribution.attribute(base, plan, simulator=sim, parameters=params,
                                indicators=["tech_firms"], year=2028)
    assert sim.calls == 1
    assert list(res.groups) == ["fiscal", "awards"]          # brokers/unused unchanged
    assert res.baseline["tech_firms"] == 15 and res.plan["tech_firms"] == 35
    assert res.shapley["tech_firms"].sum() == pytest.approx(res.total["tech_firms"], rel=1e-12)
    # v: {}=15, f=25, a=20, fa=35 -> phi_f = (10 + 15)/2, phi_a = (5 + 10)/2
    np.testing.assert_allclose(res.shapley["tech_firms"], [12.5, 7.5])
    assert res.coalition_values.shape == (4, 1)


def test_shares_move_with_the_groups_they_pay_for():
    """Each allocation share is part of its own group's player (the money a group receives
    belongs to it); a coalition whose shares would break the sum constraint takes the room from
    the other shares pro rata, and every coalition scenario passes the constraint."""
    from sim.analysis.sensitivity.shapley import coalition_scenarios, lever_groups
    from sim.model.declarations.parameters import load_parameters
    from sim.scenarios import load_scenario
    from sim.scenarios.constraints import load_constraints
    from sim.simulate import Simulator

    params = load_parameters()
    base, plan = load_scenario("baseline"), load_scenario("plan")
    shares = set(load_constraints(params)[0].levers)
    groups = lever_groups(base, plan, params)
    assert "allocation_shares" not in groups
    assert "equity_fund_share" in groups["equity_fund"]
    for g, ls in groups.items():
        assert all(params.levers[lid].group == g for lid in ls)
    sim = Simulator()
    pairs = coalition_scenarios(base, plan, groups, sim)
    for s, sc in pairs:
        sim.inputs(sc)   # raises ScenarioError if the shares broke the constraint
        if s == frozenset({"equity_fund"}):   # 0.12 equity + the baseline's 1.0 elsewhere
            paths = attribution_paths(sim, sc, shares)
            assert paths.loc[2025].sum() == pytest.approx(1.0)
            assert paths.loc[2025, "equity_fund_share"] == pytest.approx(0.12)
            assert paths.loc[2025, "industry_share"] == pytest.approx(0.9 * 0.88)
    # a plan changing the shares of one group only keeps them in that group
    one = base.with_levers({"equity_fund_share": {2024: 0.1}, "equity_ticket_cap": 500})
    assert lever_groups(base, one, params) == {"equity_fund": ["equity_fund_share",
                                                               "equity_ticket_cap"]}


def attribution_paths(sim, sc, levers):
    from sim.analysis.outcomes.lever_paths import lever_paths

    return lever_paths(sim, sc, sorted(levers))


def equity_doubled():
    """The user's scenario of issue 22: the plan with the equity fund's share doubled from 2025
    (taken from the project grants) and the R&D reward cap cut in 2027-28."""
    from sim.scenarios import load_scenario

    return load_scenario("plan").with_levers(
        {"equity_fund_share": {2024: 0.12, 2025: 0.24},
         "industry_share": {2024: 0.38, 2025: 0.26},
         "rd_reward_cap": {2024: 500, 2027: 250, 2029: 500}}, id="equity-x2")


def test_equity_fund_money_is_attributed_to_the_equity_group():
    """Against the plan, the doubled equity share is the equity group's: a clearly non-zero
    part of the change, and the values sum to the total change."""
    from sim.model.declarations.parameters import load_parameters
    from sim.model.declarations.targets import load_targets
    from sim.scenarios import load_scenario
    from sim.simulate import Simulator

    sim, targets = Simulator(), load_targets()
    att = attribution.attribute(load_scenario("plan"), equity_doubled(), simulator=sim,
                                parameters=load_parameters(), indicators=targets.indicators,
                                year=targets.year)
    assert set(att.groups) == {"fiscal_programs", "equity_fund", "enterprise_incentives"}
    assert att.groups["equity_fund"] == ["equity_fund_share"]
    for ind in targets.indicators:
        assert att.shapley[ind].sum() == pytest.approx(att.total[ind], rel=1e-9, abs=1e-9)
    share = (att.shapley.loc["equity_fund"].abs()
             / att.shapley.abs().sum(axis=0).where(lambda x: x > 0)).dropna()
    assert share.max() > 0.1, att.shapley


def test_reversed_comparison_takes_the_default_path():
    """The baseline against the plan (a lever only the reference sets) has the same players
    and the opposite values."""
    from sim.model.declarations.parameters import load_parameters
    from sim.model.declarations.targets import load_targets
    from sim.scenarios import load_scenario
    from sim.simulate import Simulator

    sim, targets, params = Simulator(), load_targets(), load_parameters()
    base, plan = load_scenario("baseline"), load_scenario("plan")
    kw = {"simulator": sim, "parameters": params, "indicators": targets.indicators[:1],
          "year": targets.year}
    back = attribution.attribute(plan, base, **kw)
    ahead = attribution.attribute(base, plan, **kw)
    assert set(back.groups) == set(ahead.groups)
    np.testing.assert_allclose(back.total, -ahead.total, rtol=1e-9)
    ind = targets.indicators[0]
    assert back.shapley[ind].sum() == pytest.approx(back.total[ind], rel=1e-9)
