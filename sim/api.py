"""The Python API for notebooks: load a scenario, run it, get an xarray Dataset.

>>> import sim
>>> ds = sim.run("plan")                     # dims: time; units in ds[var].attrs["units"]
>>> sim.targets_table(ds)                    # each target in the target year
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
import xarray as xr

from sim.analysis.targets import target_table
from sim.engine.timeloop import one_sample
from sim.model.history import load_history
from sim.model.targets import Targets, load_targets
from sim.scenarios import Scenario, list_scenarios, load_scenario
from sim.simulate import Simulator


@lru_cache(maxsize=2)
def simulator(engine: str = "batch") -> Simulator:
    """The shared simulator for ``engine`` ("batch" or "pysd"), compiled once."""
    return Simulator(engine)


def run(scenario: Scenario | str | Path = "baseline", *, engine: str = "batch",
        levers: dict | None = None, assumptions: dict | None = None) -> xr.Dataset:
    """Run one scenario (an id such as ``"plan"``, a path, or a :class:`Scenario`).

    Returns a Dataset with dimension ``time``; every variable has ``units`` and ``description``.
    """
    ds = simulator(engine).run(scenario, levers=levers, assumptions=assumptions)
    return one_sample(ds)


def targets() -> Targets:
    """The plan's outcomes as declared in model/targets.yaml: years, indicators, targets."""
    return load_targets()


def targets_table(ds: xr.Dataset) -> pd.DataFrame:
    """Target, value in the target year, ratio and year reached for each indicator of one
    run."""
    return target_table(ds, load_targets())


def plot_indicators(runs: dict[str, xr.Dataset], *, lang: str = "zh", history: bool = True):
    """One panel per indicator of ``runs`` ({label: Dataset}) with its target drawn;
    returns the matplotlib Figure."""
    from sim.present.charts import indicator_figure
    from sim.present.fonts import use_cjk_font

    use_cjk_font()
    return indicator_figure(runs, list(load_targets()), lang=lang,
                            history=load_history() if history else None)


def history() -> pd.DataFrame:
    """Observed figures with status and source."""
    return load_history()


def scenario_ids() -> list[str]:
    """Ids of the scenario files in ``scenarios/``."""
    return [p.stem for p in list_scenarios()]


__all__ = ["history", "load_scenario", "plot_indicators", "run", "scenario_ids", "simulator", "targets",
           "targets_table"]


def what_it_takes(scenario: Scenario | str | Path = "plan", **kwargs):
    """Least extra money 2024-2028 (and its split across the allocation lines) meeting each
    target and all five with the chosen probabilities; see
    :func:`sim.analysis.what_it_takes.what_it_takes` (``targets``, ``probabilities``,
    ``budget_max``, ``samples``, ``seed``). ``.table`` is ``requirements.csv``."""
    from sim.analysis.what_it_takes import what_it_takes as _wit

    return _wit(scenario, **kwargs)


def returns(scenario: Scenario | str | Path = "plan", *, amount: float = 10.0,
            samples: int = 200, seed: int = 20240101) -> pd.DataFrame:
    """Change in each 2028 indicator per 亿元 by lever group (see :mod:`sim.analysis.returns`)."""
    from sim.analysis.returns import returns_table
    from sim.analysis.what_it_takes import conditioned_ensemble

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return returns_table(conditioned_ensemble(sc, samples=samples, seed=seed), amount)


def discover(scenario: Scenario | str | Path = "plan", targets: tuple[str, ...] = ("all",), *,
             samples: int = 500, seed: int = 20240101) -> pd.DataFrame:
    """PRIM boxes (``boxes.csv`` of ``plansim discover``) for ``targets`` ('all' or ids)."""
    from sim.analysis.discover import boxes_frame
    from sim.analysis.discover import discover as _discover
    from sim.analysis.what_it_takes import conditioned_ensemble

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return boxes_frame(_discover(conditioned_ensemble(sc, samples=samples, seed=seed),
                                 targets))
