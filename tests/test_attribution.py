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
