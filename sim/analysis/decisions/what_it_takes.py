"""``what it takes`` on the model: the conditioned ensemble, mixes as lever overrides, and the
scenario files that reproduce a requirement.

The ensemble is conditioned once (:func:`sim.analysis.ensembles.conditioning.condition`: one set of
surviving assumption samples) and every mix is run on that same set (common random numbers):
``Simulator.run(scenario, levers=mix_levers(...), assumptions=<per-sample arrays>)``. The
money routing is :mod:`sim.analysis.decisions.money`, the search :mod:`sim.analysis.decisions.requirements`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import paths
from sim.analysis.decisions import money
from sim.analysis.decisions.requirements import (
    ALL,
    GREEDY_STEPS,
    Outcome,
    Problem,
    Requirement,
    cheapest_seen,
    curves,
    least_budget,
    requirements_table,
)
from sim.analysis.ensembles.conditioning import HistoryMatch, posterior_design
from sim.analysis.ensembles.conditioning_settings import load_conditioning
from sim.analysis.ensembles.ensemble import check_request, shared_simulator
from sim.analysis.ensembles.uncertainty import at_year
from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
from sim.errors import UncertaintyError
from sim.model.cache import results
from sim.model.declarations.targets import load_targets
from sim.model.declarations.words import LANGS, word
from sim.scenarios import Scenario, load_scenario

if TYPE_CHECKING:
    import xarray as xr

    from sim.analysis.ensembles.conditioning import Conditioned
    from sim.model.declarations.targets import Targets
    from sim.simulate import Simulator

DEFAULT_BUDGET_MAX = 200.0
DEFAULT_PROBABILITIES = (0.5, 0.8)


@dataclass
class Ensemble:
    """A conditioned ensemble of one scenario ready to evaluate mixes on."""

    scenario: Scenario
    simulator: Simulator
    base: money.MoneyBase
    assumptions: dict[str, np.ndarray]   # per-sample values of the surviving samples
    targets: Targets
    conditioned: Conditioned | None = None
    reference: xr.Dataset | None = None  # the scenario's own run (for the measured money)

    @property
    def n(self) -> int:
        return len(next(iter(self.assumptions.values())))

    def run(self, x: Sequence[float], columns: Sequence[str] = (),
            final_time: float | None = None) -> xr.Dataset:
        """The mix ``x`` on every draw; ``final_time`` (model time) stops the run early (the
        rows before it are those of the full run: the same steps)."""
        cols = sorted({*self.targets.indicators, money.FUNDS, *columns})
        levers = money.mix_levers(self.base, x) if np.any(np.asarray(x) > 0) else None
        return self.simulator.run(self.scenario, levers=levers, assumptions=self.assumptions,
                                  n_samples=self.n, return_columns=cols,
                                  final_time=final_time, check_divergence=False)

    def subset(self, step: int) -> Ensemble:
        """The same ensemble on every ``step``-th draw (a fixed subset: common random numbers
        still hold between the mixes run on it)."""
        from dataclasses import replace

        return replace(self, assumptions={k: np.asarray(v)[::step]
                                          for k, v in self.assumptions.items()})

    def outcome(self, x: Sequence[float]) -> Outcome:
        ds = self.run(x, final_time=self.targets.year + 1)
        return outcome_of(ds, self.targets, money.extra_money(ds, self.reference,
                                                              self.base.years))


def outcome_of(ds: xr.Dataset, targets: Targets, spend: float) -> Outcome:
    """Margins and met flags of every target in the targets' year."""
    times = np.asarray(ds["time"].values, dtype=float)
    hit = np.flatnonzero(np.isclose(times, targets.year, atol=1e-6))
    margins, met = [], []
    for t in targets.items:
        da = ds[t.indicator]
        if hit.size and da.dims == ("sample", "time"):   # the usual layout: plain numpy
            v = np.asarray(da.values[:, int(hit[0])], dtype=float)
        else:
            v = at_year(da, targets.year)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.log(np.where(v > 0, v, np.nan) / t.target)
        ok = np.asarray(t.met(v), bool) & np.isfinite(v)
        margins.append(np.where(np.isfinite(m), m, -np.inf))
        met.append(ok)
    return Outcome(np.column_stack(margins), np.column_stack(met), spend)


def conditioned_ensemble(scenario: Scenario, *, samples: int | None = None,
                         seed: int | None = None, simulator: Simulator | None = None,
                         say: Callable[[str], None] | None = None) -> Ensemble:
    """Posterior draws of ``scenario`` (the canonical ensemble's N and seed of
    ``scenarios/uncertainty.yaml`` unless given), wrapped: the draws of
    :func:`sim.analysis.ensembles.conditioning.condition` (the same ``posterior_design`` call, so the
    same samples as ``plansim uncertainty``), not run here: every mix runs them itself, the
    scenario's own as the mix of no extra money."""
    spec, settings, targets = load_uncertainty(), load_conditioning(), load_targets()
    samples = settings.samples if samples is None else samples
    seed = settings.seed if seed is None else seed
    match = HistoryMatch.from_history([], None, settings, checks=None, say=say)
    simulator = simulator or shared_simulator()
    cols = sorted(set(targets.indicators) | set(match.variables))
    check_request(samples, seed, runs_per_count=1, dim=spec.dim, columns=len(cols))
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 1:
        raise UncertaintyError(f"samples is {samples!r}; allowed: a positive integer")
    design = posterior_design(match.posterior, spec.names, int(samples), seed)
    base = money.money_base(simulator, scenario, end=targets.year)
    reference = simulator.run(scenario, return_columns=[money.FUNDS])
    return Ensemble(scenario, simulator, base, design.overrides(), targets, None, reference)


#: the marginal analysis ranks its candidate steps on one draw in this many (at least
#: SCREEN_MIN draws; smaller ensembles are searched whole)
SCREEN_STEP, SCREEN_MIN = 5, 100


def problem_of(ensemble: Ensemble, say: Callable[[str], None] | None = None,
               screen: bool = True) -> Problem:
    """The search problem on ``ensemble``; with ``screen``, candidate steps are ranked on a
    fixed subset of its draws (:class:`sim.analysis.decisions.requirements.Problem`)."""
    sub = None
    if screen and ensemble.n // SCREEN_STEP >= SCREEN_MIN:
        sub = problem_of(ensemble.subset(SCREEN_STEP), screen=False)
    whole = Problem(list(ensemble.base.lines), list(ensemble.targets.indicators),
                    ensemble.base.upper(), ensemble.outcome, say or (lambda _m: None),
                    screen=sub)
    if sub is not None:
        sub.evaluate = screen_from(whole, sub.evaluate, SCREEN_STEP)
    return whole


def screen_from(whole: Problem, evaluate: Callable[[np.ndarray], Outcome], step: int
              ) -> Callable[[np.ndarray], Outcome]:
    """``evaluate`` on the subset of every ``step``-th draw, taken from ``whole``'s outcome
    where that mix has been run on every draw (the same numbers: each draw runs alone, and
    the money is measured on draw 0, in both), run otherwise."""
    def screened(x: np.ndarray) -> Outcome:
        out = whole.peek(x)
        if out is None:
            return evaluate(x)
        return Outcome(np.ascontiguousarray(out.margins[::step]),
                       np.ascontiguousarray(out.met[::step]), out.spend)

    return screened


def target_columns(requested: Sequence[str], targets: Targets) -> list[int | None]:
    """Column indices for target ids (``all`` -> None, meaning all targets together)."""
    known = list(targets.indicators)
    out: list[int | None] = []
    for t in requested:
        if t == ALL:
            out.append(None)
        elif t in known:
            out.append(known.index(t))
        else:
            raise UncertaintyError(f"target {t!r}: allowed: {', '.join([*known, ALL])}")
    return out


@dataclass
class WhatItTakes:
    scenario: str
    requirements: list[Requirement]
    table: pd.DataFrame
    curves: pd.DataFrame
    lines: list[str]
    ensemble: Ensemble
    runs: int
    cached: bool = False   # read back from the user's cache (sim.model.cache.results)


def what_it_takes(scenario: Scenario, *, targets: Sequence[str] = (), probabilities:
                  Sequence[float] = DEFAULT_PROBABILITIES, budget_max: float =
                  DEFAULT_BUDGET_MAX, samples: int | None = None, seed: int | None = None,
                  refine_iter: int = 6, say: Callable[[str], None] | None = None,
                  on_target: Callable[[str, pd.DataFrame, pd.DataFrame], None] | None = None
                  ) -> WhatItTakes:
    """Least extra money per target and probability (see :mod:`sim.analysis.decisions.requirements`).

    ``on_target(target, rows, curves)``, if given, is called as soon as a target's searches
    are done with its rows of the table as they stand then (:func:`preview`), e.g. to draw
    its chart while the others are searched; a later search may still find a cheaper mix
    (the final table says), so a caller compares them with the final rows.

    The answer is kept in the user's cache (:mod:`sim.model.cache.results`) by the scenario's
    contents, the question (targets, probabilities, budget, samples, seed) and the code and
    model files; asked again, it is read back (``cached``; no search, no ``on_target`` call)
    with the ensemble's draws but no simulator."""
    say = say or (lambda _m: None)
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    for p in probabilities:
        if not (isinstance(p, int | float) and 0 < p <= 1):
            raise UncertaintyError(f"probability {p!r}: allowed: a number in (0, 1]")
    if not (math.isfinite(budget_max) and budget_max > 0):
        raise UncertaintyError(f"budget_max {budget_max!r}: allowed: a number > 0 (亿元)")
    cols = target_columns(list(targets) or [*load_targets().indicators, ALL], load_targets())
    canon = load_conditioning()
    samples = canon.samples if samples is None else samples
    seed = canon.seed if seed is None else seed
    question = ((scenario.id, scenario.levers, scenario.assumptions), cols,
                [float(p) for p in probabilities], float(budget_max), samples, seed,
                refine_iter)
    done = results.load("what-it-takes", question)
    if done is not None:
        say("the search of this question, as done before (kept in the cache)")
        return replace(done, ensemble=replace(done.ensemble, scenario=scenario), cached=True)
    w = _search(scenario, cols, probabilities, budget_max, samples, seed, refine_iter, say,
                on_target)
    results.store("what-it-takes", question,
                  replace(w, ensemble=replace(w.ensemble, simulator=None)))
    return w


def _search(scenario: Scenario, cols: list[int | None], probabilities: Sequence[float],
            budget_max: float, samples: int | None, seed: int | None, refine_iter: int,
            say: Callable[[str], None], on_target: Callable | None) -> WhatItTakes:
    """The search of :func:`what_it_takes` (its arguments checked)."""
    ens = conditioned_ensemble(scenario, samples=samples, seed=seed, say=say)
    problem = problem_of(ens, say)
    budget = min(budget_max, float(problem.upper.max()))
    curve = curves(problem, budget)
    found = {}
    one_missed = math.inf   # the least probability no mix was found to reach for one target
    for c in sorted(cols, key=lambda c: c is None):   # each target before all of them
        # a higher probability than one no mix reached: unreachable too, no second search;
        # all targets together at a probability one of them does not reach: the same (the
        # best P of every mix evaluated is still reported)
        missed = one_missed if c is None else math.inf
        for p in sorted(probabilities):
            again = p < missed
            r = least_budget(problem, c, float(p), budget, refine_iter=refine_iter if again
                             else 0, greedy_steps=GREEDY_STEPS if again else 0)
            if not r.reachable:
                missed = min(missed, p)
            found[c, p] = r
            say(f"{r.target} at P >= {p:g}: " + (f"{r.extra_budget:.1f} 亿元" if r.reachable
                                                  else f"unreachable (best P {r.achieved:.2f})")
                + f" ({problem.runs} runs so far)")
        if c is not None:
            one_missed = min(one_missed, missed)
        if on_target is not None:
            rows = preview(problem, [found[c, p] for p in probabilities], c)
            if rows is not None:
                on_target(rows["target"].iloc[0], rows, curve)
    reqs = [found[c, p] for c in cols for p in probabilities]
    reqs = [_recheck(problem, r, c) for r, c in zip(reqs, [c for c in cols for _ in
                                                          probabilities], strict=True)]
    return WhatItTakes(scenario.id, reqs, requirements_table(reqs, problem.lines), curve,
                       list(problem.lines), ens, problem.runs)


def _recheck(problem: Problem, r: Requirement, c: int | None) -> Requirement:
    """A cheaper mix meeting ``r`` that a later search evaluated (same samples) replaces it."""
    x = cheapest_seen(problem, c, r.probability,
                      float(r.mix.sum()) if r.reachable else math.inf)
    if x is None:
        return r
    out = problem(x)
    q = float(out.column(c)[0].mean())
    return Requirement(r.target, r.probability, True, x, out.spend + 0.0, q,
                       math.sqrt(q * (1 - q) / r.n), r.n)


def preview(problem: Problem, reqs: Sequence[Requirement], c: int | None
            ) -> pd.DataFrame | None:
    """The table rows ``reqs`` of column ``c`` would have if the search ended now (each
    :func:`_recheck`-ed), from the runs made so far: None if that would need a run (the
    search is left exactly as it was: no run is added)."""
    n = problem.runs
    rows = [_recheck(problem, r, c) for r in reqs]
    return None if problem.forget_since(n) else requirements_table(rows, problem.lines)


def scenario_name(req: Requirement) -> str:
    """File stem of a requirement's scenario: ``<target>-p<P>`` (e.g. ``rd_expenditure-p0.8``)."""
    return f"{req.target}-p{req.probability:g}"


def extends_ref(source, folder) -> str:
    """``extends:`` of a file written into ``folder`` for the scenario read from ``source``: a
    file of ``scenarios/`` by its name (found there from anywhere), another file by its path
    relative to ``folder`` (so that moving both together keeps it working)."""
    import os
    from pathlib import Path

    source = Path(source).resolve()
    if source.parent == paths.SCENARIO_DIR.resolve():
        return source.name
    return Path(os.path.relpath(source, Path(folder).resolve())).as_posix()


def scenario_text(ens: Ensemble, req: Requirement, extends: str) -> str:
    """A scenario file extending ``extends`` with the requirement's mix (YAML)."""
    import yaml

    levers = money.mix_levers(ens.base, req.mix)
    names = {**{t.indicator: t.label for t in ens.targets.items},
             ALL: ens.targets.labels()["all_targets"]}
    doc = {
        "name": {k: word("what_it_takes.scenario_name", k, p=req.probability,
                         name=names.get(req.target, {}).get(k, req.target)) for k in LANGS},
        "description": (
            f"Written by plansim what-it-takes: scenario '{ens.scenario.id}' plus "
            f"{req.extra_budget:.3f} 亿元 over {ens.base.years[0]}-{ens.base.years[-1]} split "
            "across the allocation lines ("
            + ", ".join(f"{lid} {v:.3f}" for lid, v in zip(ens.base.lines, req.mix, strict=True))
            + f" 亿元); P = {req.achieved:.3f} +/- {req.mc_se:.3f} over {req.n} "
            "history-conditioned samples."),
        "extends": extends,
        "levers": {k: {int(y): float(v) for y, v in s.items()} for k, s in levers.items()},
    }
    head = "# yaml-language-server: $schema=./schema.json\n"
    return head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
