"""Attribution of the plan's effect to lever groups by exact Shapley values.

Players are lever groups (``groups`` in model/parameters.yaml). A coalition S is the baseline
scenario with the levers of the groups in S taken from the plan. With v(S) an indicator in the
target year, each group's Shapley value is

    phi_g = sum over S not containing g of  |S|! (G-|S|-1)! / G!  * (v(S + g) - v(S))

and the values add up to v(all groups) - v(no group) = plan minus baseline (efficiency). All 2^G
coalitions (G <= :data:`MAX_GROUPS`) run as one batch through ``Simulator.run_scenarios`` (one Dataset, dim ``scenario``).
Only groups in which the plan changes at least one lever are players; the others have zero value
by the dummy axiom and are left out. Money moves with the groups it pays for: each group's
player holds its own levers including the allocation share(s) that route the budget to it
(``equity_fund_share`` belongs to the 拨改投 equity group), so a scenario that gives a group
more money attributes the effect of that money to the group. Shares of one sum constraint
(``constraints:`` in model/parameters.yaml, the allocation shares summing to at most 1) taken
group by group could break the constraint in a coalition (a group's larger share while the
reference keeps the others); the shares outside the coalition then give up the room pro rata,
year by year (:func:`fit_shares`): the money a coalition takes comes out of the other lines in
proportion to their shares. v(no group) and v(all groups) are the two scenarios themselves, so
the values still sum exactly to the total change. Registered as the ``shapley`` method (kind
``attribution``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.outcomes.lever_paths import lever_paths
from sim.analysis.outcomes.targets import value_at
from sim.analysis.sensitivity.base import Method, register
from sim.dims import SCENARIO
from sim.errors import UncertaintyError
from sim.scenarios.constraints import load_constraints

if TYPE_CHECKING:
    from sim.model.declarations.parameters import Parameters
    from sim.scenarios import Scenario
    from sim.simulate import Simulator

MAX_GROUPS = 8


def coalitions(players: Sequence[str]) -> list[frozenset[str]]:
    """All 2^G subsets of ``players``, ordered by bit mask (empty set first, all last)."""
    g = len(players)
    return [frozenset(p for i, p in enumerate(players) if mask >> i & 1) for mask in range(2 ** g)]


def shapley_values(players: Sequence[str],
                   value: Mapping[frozenset, Any] | Callable[[frozenset], Any]) -> pd.DataFrame:
    """Exact Shapley values.

    ``value`` gives v(S) for every coalition S (a mapping, or a function of a frozenset) as a
    scalar, a 1-D array (K,) or a pandas Series of K outputs. Returns a DataFrame (player x
    output); with scalar values the single column is ``value``.
    """
    players = list(players)
    if len(set(players)) != len(players):
        raise UncertaintyError(f"players must be distinct; got {players}")
    g = len(players)
    get = value if callable(value) else value.__getitem__
    table = {s: get(s) for s in coalitions(players)}
    first = table[frozenset()]
    columns = list(first.index) if isinstance(first, pd.Series) else None
    vals = {s: np.atleast_1d(np.asarray(v, dtype=float)) for s, v in table.items()}
    weights = [math.factorial(k) * math.factorial(g - k - 1) / math.factorial(g)
               for k in range(g)]
    phi = np.zeros((g, vals[frozenset()].shape[0]))
    for i, p in enumerate(players):
        for s, v in vals.items():
            if p in s:
                continue
            phi[i] += weights[len(s)] * (vals[s | {p}] - v)
    if columns is None:
        columns = ["value"] if phi.shape[1] == 1 else list(range(phi.shape[1]))
    return pd.DataFrame(phi, index=pd.Index(players, name="group"), columns=columns)


def _lever_differs(a: object, b: object) -> bool:
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        return dict(a or {}) != dict(b or {})
    return a != b


def lever_groups(baseline: Scenario, plan: Scenario, parameters: Parameters
                 ) -> dict[str, list[str]]:
    """Group -> the levers of that group which the plan sets differently from the baseline.

    Groups in which the plan changes nothing are left out. Order follows ``parameters.groups``.
    """
    groups: dict[str, list[str]] = {}
    for lid, lever in parameters.levers.items():
        if (lid in plan.levers or lid in baseline.levers) and _lever_differs(
                plan.levers.get(lid), baseline.levers.get(lid)):
            groups.setdefault(lever.group, []).append(lid)
    order = list(getattr(parameters, "groups", {}) or {})
    groups = dict(sorted(groups.items(), key=lambda kv: order.index(kv[0])
                         if kv[0] in order else len(order)))
    return groups


def _constraints(parameters: Any) -> tuple:
    return load_constraints(parameters) if getattr(parameters, "source", None) else ()


def player_labels(parameters: Any) -> dict[str, Any]:
    """Bilingual labels of every possible player: the lever groups (and, for results written
    before the shares moved with their groups, the sum constraints)."""
    labels: dict[str, Any] = dict(getattr(parameters, "groups", {}) or {})
    labels.update({c.id: c.attribution_label or c.label for c in _constraints(parameters)
                   if c.attribution_label or c.label})
    return labels


def coalition_scenarios(baseline: Scenario, plan: Scenario,
                        groups: Mapping[str, Sequence[str]], simulator: Simulator | None = None
                        ) -> list[tuple[frozenset, Scenario]]:
    """(coalition, scenario) for every coalition of ``groups``; the scenario is the baseline
    with the coalition's levers taken from the plan (and, given the ``simulator``, the shares
    outside it fitted to a sum constraint: :func:`fit_shares`)."""
    players = list(groups)
    if len(players) > MAX_GROUPS:
        raise UncertaintyError(
            f"{len(players)} lever groups differ between plan and baseline; exact Shapley "
            f"values allow at most {MAX_GROUPS} (2^{MAX_GROUPS} runs)"
        )
    fit = _share_fitter(baseline, plan, groups, simulator)
    value = _plan_values(baseline, plan, groups, simulator)
    out = []
    for s in coalitions(players):
        taken = {lid: value[lid] for g in players if g in s for lid in groups[g]}
        if 0 < len(s) < len(players):
            taken.update(fit(taken))
        sid = f"{baseline.id}+" + "+".join(g for g in players if g in s) if s else baseline.id
        out.append((s, baseline.with_levers(taken, id=sid) if taken else baseline))
    return out


def fit_shares(taken: Sequence[str], constraint: Any, ref: pd.DataFrame, sc: pd.DataFrame
               ) -> dict[str, dict[int, float]]:
    """The shares of ``constraint`` not ``taken`` from the scenario, scaled down pro rata in
    each year where the taken scenario shares and the reference's others would sum above the
    constraint's maximum (``ref``/``sc``: the year-by-year paths of the two scenarios,
    :func:`sim.analysis.outcomes.lever_paths.lever_paths`); empty when every year fits."""
    inside = [lid for lid in constraint.levers if lid in taken]
    outside = [lid for lid in constraint.levers if lid not in taken]
    if not inside or not outside:
        return {}
    room = constraint.max_sum - sc[inside].sum(axis=1)
    others = ref[outside].sum(axis=1)
    k = np.where(others > room, np.clip(room, 0, None) / others.where(others > 0, 1.0), 1.0)
    if (k >= 1).all():
        return {}
    years = [int(y) for y in ref.index]
    return {lid: dict(zip(years, (ref[lid].to_numpy() * k).tolist(), strict=True))
            for lid in outside}


def _plan_values(baseline: Any, plan: Any, groups: Mapping[str, Sequence[str]],
                 simulator: Any) -> dict[str, Any]:
    """The plan's value of every lever of ``groups``: as the plan sets it, or, for a lever only
    the reference sets (a plan compared against a scenario that extends it), the plan's path
    year by year (the model's default)."""
    levers = [lid for ls in groups.values() for lid in ls]
    missing = [lid for lid in levers if lid not in plan.levers]
    out = {lid: plan.levers[lid] for lid in levers if lid in plan.levers}
    if missing:
        if simulator is None:
            raise UncertaintyError(f"{plan.id}: levers {missing} are set only by "
                                   f"{baseline.id}; the attribution needs the simulator")
        paths = lever_paths(simulator, plan, missing)
        out.update({lid: {int(y): float(v) for y, v in paths[lid].items()} for lid in missing})
    return out


def _share_fitter(baseline: Any, plan: Any, groups: Mapping[str, Sequence[str]],
                  simulator: Any) -> Callable[[dict], dict]:
    """A function of a coalition's taken levers giving the fitted outside shares."""
    changed = {lid for ls in groups.values() for lid in ls}
    cons = [c for c in _constraints(getattr(simulator, "parameters", None))
            if changed & set(c.levers)]
    if not cons:
        return lambda _taken: {}
    levers = sorted({lid for c in cons for lid in c.levers})
    ref, sc = lever_paths(simulator, baseline, levers), lever_paths(simulator, plan, levers)

    def fit(taken: dict) -> dict:
        out: dict = {}
        for c in cons:
            out.update(fit_shares(list(taken), c, ref, sc))
        return out
    return fit


@dataclass
class Attribution:
    """Shapley attribution of plan-minus-baseline in ``year``.

    ``shapley``: DataFrame (group x indicator); ``baseline``/``plan``: Series (indicator) of
    v(no group) and v(all groups); ``groups``: group -> levers; ``coalition_values``:
    DataFrame (coalition label x indicator); ``reference``/``scenario``: the ids of the two
    scenarios compared (v(no group) is the reference's).
    """

    year: int
    shapley: pd.DataFrame
    baseline: pd.Series
    plan: pd.Series
    groups: dict[str, list[str]]
    coalition_values: pd.DataFrame
    reference: str = "baseline"
    scenario: str = "plan"

    @property
    def total(self) -> pd.Series:
        return self.plan - self.baseline


def attribute(baseline: Scenario, plan: Scenario, *, simulator: Simulator,
              parameters: Parameters,
              indicators: Sequence[str], year: int) -> Attribution:
    """Run every coalition as one batch and split each indicator's plan-minus-baseline change
    in ``year`` among the lever groups."""
    groups = lever_groups(baseline, plan, parameters)
    pairs = coalition_scenarios(baseline, plan, groups, simulator)
    ds = simulator.run_scenarios([sc for _, sc in pairs], return_columns=list(indicators))
    # one run per coalition: dims (scenario, sample=1, time) -> the target year's values
    at = {ind: value_at(ds[ind], year).isel(sample=0).transpose(SCENARIO).values
          for ind in indicators}
    values = pd.DataFrame(at, index=["+".join(sorted(s)) or "(baseline)" for s, _ in pairs])
    by_set = {s: values.iloc[i] for i, (s, _) in enumerate(pairs)}
    shap = shapley_values(list(groups), by_set) if groups else pd.DataFrame(
        columns=list(indicators), index=pd.Index([], name="group"), dtype=float)
    values.index.name = "coalition"
    return Attribution(year, shap, values.iloc[0], values.iloc[-1], groups, values,
                       reference=str(baseline.id), scenario=str(plan.id))


def shapley_tables(att: Attribution) -> dict[str, pd.DataFrame]:
    """The report's tables: Shapley values, totals (rows named by the reference and scenario
    ids, their difference and the sum of the Shapley values, a check of efficiency), coalition
    values and the levers of each group."""
    total = pd.DataFrame([att.baseline, att.plan, att.total,
                          att.shapley.sum(axis=0).reindex(att.total.index, fill_value=0.0)],
                         index=pd.Index([att.reference, att.scenario, "difference",
                                         "sum_of_shapley"], name="row"))
    groups = pd.DataFrame([(g, lid) for g, ls in att.groups.items() for lid in ls],
                          columns=["group", "lever"])
    return {"shapley": att.shapley, "totals": total, "coalitions": att.coalition_values,
            "groups": groups}


@register
class Shapley(Method):
    name = "shapley"
    kind = "attribution"
    help = "exact Shapley attribution of a scenario difference to lever groups"

    def attribute(self, baseline: Scenario, plan: Scenario, *, simulator: Simulator,
                  parameters: Parameters,
                  indicators: Sequence[str], year: int) -> Attribution:
        return attribute(baseline, plan, simulator=simulator, parameters=parameters,
                         indicators=indicators, year=year)

    def tables(self, att: Attribution) -> dict[str, pd.DataFrame]:
        return shapley_tables(att)
