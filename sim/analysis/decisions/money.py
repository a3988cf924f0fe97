"""Extra fiscal money routed through the declared allocation lines, as lever overrides.

The money levers are the allocation shares of the fiscal S&T budget: the levers of the sum
constraint in ``model/parameters.yaml`` (``constraints:``, see
:mod:`sim.scenarios.constraints`). A *mix* ``x`` gives, per line, the extra money (亿元) spent
through that line over the plan years (the plan's start to the targets' year), an equal amount each
year. It is turned into lever values of the scenario, nothing else changes:

- ``budget multiplier`` (a step lever) scales the scenario's fiscal S&T funds ``F_y`` so that
  they rise by ``X_y = sum(x) / years`` in each plan year: ``m'_y = m_y (F_y + X_y) / F_y``;
- each share becomes ``s'_g = (s_g F_y + x_g / years) / (F_y + X_y)``, so the line receives its
  old allocation plus its extra money, and the shares still sum to at most 1 (money is
  conserved; the declared constraint holds);
- from the year after the plan the scenario's own values return (no extra money after the targets' year).

``F_y`` is the scenario's own ``fiscal ST funds`` row for year ``y`` (rows are calendar years,
flows annual totals; ARCHITECTURE.md "Time convention"). The extra money is *measured* from the
model, not assumed: :func:`extra_money` sums plan-minus-scenario ``fiscal_st_funds`` over the
rows of the plan years.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from sim.errors import UncertaintyError

if TYPE_CHECKING:
    from sim.scenarios import Scenario
    from sim.simulate import Simulator

FUNDS = "fiscal_st_funds"
MULTIPLIER = "budget_multiplier"


@dataclass(frozen=True)
class MoneyBase:
    """What a scenario spends through each allocation line in each plan year."""

    scenario: Scenario
    years: tuple[int, ...]
    lines: tuple[str, ...]          # lever ids of the allocation shares
    groups: tuple[str, ...]         # each line's lever group
    funds: np.ndarray               # (years,) the scenario's fiscal S&T funds rows, 亿元/yr
    multiplier: np.ndarray          # (years + 1,) budget multiplier, last: the year after
    shares: np.ndarray              # (lines, years + 1)
    multiplier_max: float

    @property
    def n_years(self) -> int:
        return len(self.years)

    def upper(self) -> np.ndarray:
        """Largest extra money (亿元 over the plan years) one line can take within the bounds of
        the budget multiplier (shares stay within [0, 1] by construction)."""
        room = float(np.min(self.funds * (self.multiplier_max / self.multiplier[:-1] - 1)))
        return np.full(len(self.lines), max(room, 0.0) * self.n_years)


def money_base(simulator: Simulator, scenario: Scenario, *, start: int | None = None,
               end: int | None = None) -> MoneyBase:
    """The allocation lines and the scenario's funds, multiplier and shares in ``start..end``
    (default: the plan's first year to the targets' year, as declared in model/targets.yaml)."""
    # lazy: pulls yaml (43 ms)
    from sim.model.declarations.targets import load_targets
    from sim.scenarios.constraints import load_constraints

    targets = load_targets()
    start = int(start if start is not None else targets.plan.start)
    end = int(end if end is not None else targets.year)
    params = simulator.parameters
    sums = [c for c in load_constraints(params) if c.max_sum == 1]
    if not sums:
        raise UncertaintyError(f"{params.source}: constraints: no allocation-share constraint "
                               "(max_sum: 1); the money levers cannot be found")
    lines = tuple(sums[0].levers)
    years = tuple(range(start, end + 1))
    names = [params.levers[lid].py_name for lid in (MULTIPLIER, *lines)]
    run = simulator.run(scenario, return_columns=[FUNDS, *names])
    times = np.round(run["time"].values).astype(int)

    def rows(var: str, at: Sequence[int]) -> np.ndarray:
        vals = run[var].isel(sample=0).values
        return np.array([float(vals[times == y][0]) for y in at])

    at = [*years, end + 1]
    funds = rows(FUNDS, years)
    levers = [rows(n, at) for n in names]
    if np.any(funds <= 0):
        raise UncertaintyError(f"scenario '{scenario.id}': fiscal S&T funds are not positive in "
                               f"{years[0]}-{years[-1]}; extra money cannot be routed")
    return MoneyBase(scenario, years, lines, tuple(params.levers[lid].group for lid in lines),
                     funds, levers[0], np.array(levers[1:]),
                     float(params.levers[MULTIPLIER].max))


def mix_levers(base: MoneyBase, x: Sequence[float]) -> dict[str, dict[int, float]]:
    """Lever overrides (``{lever: {year: value}}``) spending ``x`` (亿元 per line over the plan
    years) on top of the scenario."""
    x = np.asarray(x, float)
    if x.shape != (len(base.lines),) or np.any(x < 0) or not np.all(np.isfinite(x)):
        raise UncertaintyError(f"extra money {x.tolist()}: expected {len(base.lines)} finite "
                               f"amounts >= 0 (亿元) for {', '.join(base.lines)}")
    per_year = x / base.n_years
    total = float(per_year.sum())
    new_funds = base.funds + total
    mult = base.multiplier[:-1] * new_funds / base.funds
    if np.any(mult > base.multiplier_max + 1e-12):
        raise UncertaintyError(f"extra money {x.sum():.4g} 亿元 needs a budget multiplier of "
                               f"{mult.max():.4g}; allowed: at most {base.multiplier_max:g}")
    after = base.years[-1] + 1
    out: dict[str, dict[int, float]] = {
        MULTIPLIER: {**{y: float(m) for y, m in zip(base.years, mult, strict=True)},
                     after: float(base.multiplier[-1])}}
    for i, lid in enumerate(base.lines):
        s = (base.shares[i, :-1] * base.funds + per_year[i]) / new_funds
        out[lid] = {**{y: float(v) for y, v in zip(base.years, s, strict=True)},
                    after: float(base.shares[i, -1])}
    return out


def extra_money(mix: xr.Dataset, scenario: xr.Dataset, years: Sequence[int]) -> float:
    """Plan-minus-scenario ``fiscal_st_funds`` summed over the rows of ``years`` (亿元)."""
    def rows(ds: xr.Dataset) -> np.ndarray:   # the runs may end at different times
        keep = np.isin(np.round(ds["time"].values).astype(int), list(years))
        return ds[FUNDS].isel(sample=0).values[keep]

    diff = rows(mix) - rows(scenario)
    return float(np.round(diff.sum(), 9)) + 0.0
