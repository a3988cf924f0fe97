"""What the generated document blocks compute, each piece once: :class:`DocContext`.

Runs every scenario, the documents' uncertainty ensemble (:data:`ENSEMBLE`), the step-halving
check and the parsed model lazily and caches them, so that the blocks of
:mod:`sim.present.documents.doc_blocks` share one computation. A variable a block needs that the model no
longer has raises :class:`~sim.errors.DocumentError` naming the block.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis.diagnostics.loops import calibrated_polarities
from sim.analysis.diagnostics.timestep import step_halving
from sim.analysis.ensembles.conditioning import HistoryMatch, central_run
from sim.analysis.ensembles.conditioning_settings import load_conditioning
from sim.analysis.ensembles.ensemble import history_simulate, simulate_design
from sim.analysis.ensembles.uncertainty import compute
from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
from sim.analysis.outcomes.targets import target_table
from sim.errors import DocumentError
from sim.model.declarations.calibrated import read_calibration_file
from sim.model.declarations.targets import load_targets
from sim.model.equations.graph import load_graph
from sim.model.equations.mdl import load_pysd_model
from sim.present.labels import format_number
from sim.scenarios import list_scenarios, load_scenario
from sim.simulate import Simulator

#: the documents' uncertainty ensemble: the canonical one (`plansim uncertainty` defaults,
#: the ensemble: section of scenarios/uncertainty.yaml), drawn from the posterior
_CANON = load_conditioning()
ENSEMBLE = {"samples": _CANON.samples, "seed": _CANON.seed, "sampling": "posterior",
            "scenarios": ("plan", "baseline")}
#: extreme-condition cases shown in model/README.md: the budget multiplier from the plan's
#: first year on (a lever override on the plan scenario), see :attr:`DocContext.extremes`
EXTREME_MULTIPLIERS = {"budget multiplier 0": 0, "budget multiplier 10": 10}
EXTREME_VARIABLES = {"tech_firms": "tech firms", "rd_expenditure": "R&D",
                     "tech_contract_turnover": "contracts"}


def num(x: float) -> str:
    return format_number(float(x))


class DocContext:
    """Everything the blocks compute, each piece once (lazily)."""

    def __init__(self, say: Callable[[str], None] = lambda _m: None):
        self.say = say

    # -- model and inputs ----------------------------------------------------------------------
    @cached_property
    def simulator(self):
        return Simulator("batch")

    @cached_property
    def targets(self):
        return load_targets()

    @property
    def extremes(self) -> dict[str, dict[str, dict[int, float]]]:
        """Extreme-condition cases: lever overrides of the plan scenario by case name."""
        start = self.targets.plan.start
        return {case: {"budget_multiplier": {start: m}}
                for case, m in EXTREME_MULTIPLIERS.items()}

    @cached_property
    def scenarios(self) -> list:
        """Every scenario file: baseline and plan first, then the others by name."""
        ids = [p.stem for p in list_scenarios()]
        first = [i for i in ("baseline", "plan") if i in ids]
        return [load_scenario(i) for i in first + [i for i in ids if i not in first]]

    @cached_property
    def runs(self) -> dict[str, xr.Dataset]:
        self.say("running every scenario")
        return {s.id: self.simulator.run(s) for s in self.scenarios}

    @cached_property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {sid: target_table(ds, self.targets).set_index("indicator")
                for sid, ds in self.runs.items()}

    def var(self, sid: str, name: str, block: str) -> xr.DataArray:
        ds = self.runs[sid]
        if name not in ds:
            raise DocumentError(f"block '{block}': the model has no variable '{name}'; update "
                                "sim/present/documents/doc_blocks.py")
        return ds[name].isel(sample=0)

    def value(self, sid: str, name: str, year: float, block: str) -> float:
        return float(self.var(sid, name, block).sel(time=year, method="nearest"))

    @cached_property
    def final_year(self) -> int:
        """The last row of a run (with calendar reporting the year ending at FINAL TIME)."""
        return int(round(self.simulator.row_years()[1]))

    @cached_property
    def pysd_doc(self) -> pd.DataFrame:
        model = load_pysd_model(self.simulator.model_path)
        doc = model.doc.copy()
        doc["value"] = [
            getattr(model.components, py)() if kind == "Constant" else np.nan
            for py, kind in zip(doc["Py Name"], doc["Type"], strict=True)]
        return doc

    # -- analyses ------------------------------------------------------------------------------
    @cached_property
    def spec(self):
        return load_uncertainty()

    @cached_property
    def uncertainty(self) -> dict:
        """The canonical posterior ensembles of ``plansim uncertainty`` (same library call,
        sample count, seed and sampling as the command the documents quote)."""
        sim = self.simulator
        match = HistoryMatch.from_history(
            list(sim.info.index), (sim.control("initial_time"), sim.control("final_time")),
            load_conditioning())
        cols = sorted(set(self.targets.indicators) | set(match.variables))

        def simulate(scenario, design):   # this context's simulator
            def evaluate(overrides):
                return sim.run(scenario, assumptions=overrides,
                               n_samples=len(next(iter(overrides.values()))),
                               return_columns=cols, check_divergence=False)
            return simulate_design(scenario, design, evaluate=evaluate, progress=False)

        def history_run(scenario, columns, final_time):   # the history period only
            def evaluate(overrides):
                return sim.run(scenario, assumptions=overrides,
                               n_samples=len(next(iter(overrides.values()))),
                               return_columns=columns, final_time=final_time,
                               check_divergence=False)
            return evaluate

        scenarios = [load_scenario(sid) for sid in ENSEMBLE["scenarios"]]
        results = compute(scenarios, self.spec, self.targets, samples=ENSEMBLE["samples"],
                          seed=ENSEMBLE["seed"], sampling=ENSEMBLE["sampling"],
                          simulate=simulate, say=self.say, match=match,
                          central=lambda sc: central_run(sim, sc, cols),
                          history=history_simulate(match, evaluate=history_run,
                                                   progress=False))
        return {r.scenario: r for r in results}

    @cached_property
    def step_check(self) -> pd.DataFrame:
        self.say("step-halving check")
        return step_halving(self.simulator, self.scenarios, self.targets)

    @cached_property
    def loop_graph(self):
        return load_graph(self.simulator.model_path)

    @cached_property
    def loop_polarities(self) -> list:
        """The loops of ``model/loops.yaml``, derived and measured on the calibrated run (as
        ``plansim diagram`` does)."""
        self.say("deriving the feedback loops and measuring their polarity")
        return calibrated_polarities(graph=self.loop_graph, simulator=self.simulator)

    @cached_property
    def calibration(self) -> dict:
        return read_calibration_file() or {}

    def extra_fiscal(self, block: str) -> tuple[float, float]:
        """Min and max of plan minus baseline fiscal S&T funds over the plan years."""
        years = np.arange(self.targets.plan.start, self.targets.year + 1)
        diff = [self.value("plan", "fiscal_st_funds", y, block)
                - self.value("baseline", "fiscal_st_funds", y, block) for y in years]
        return min(diff), max(diff)
