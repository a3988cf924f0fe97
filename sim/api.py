"""The Python API for notebooks: load a scenario, run it, get an xarray Dataset.

>>> import sim
>>> ds = sim.run("plan")                     # dims: time; units in ds[var].attrs["units"]
>>> sim.targets_table(ds)                    # each target in the target year
>>> runs = sim.run_scenarios("baseline", "plan")   # dims: scenario, time
>>> sim.compare("plan", against="baseline")        # the table of `plansim compare`
>>> ens = sim.uncertainty("plan", "baseline", samples=200)  # dims: scenario, sample, time
>>> sim.probabilities(ens)                         # P(met) per scenario and target
>>> sim.sensitivity("plan", method="morris", samples=10)
>>> sim.levers(lang="en")                          # the lever catalogue

Several scenarios are one Dataset with a named ``scenario`` dim (:mod:`sim.dims`): select one
with ``ds.sel(scenario="plan")``, reduce over samples with ``ds.mean("sample")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import pandas as pd
import xarray as xr

from sim import paths
from sim.analysis.decisions.discover import boxes_frame
from sim.analysis.decisions.discover import discover as _discover
from sim.analysis.decisions.returns import returns_table
from sim.analysis.decisions.what_it_takes import conditioned_ensemble
from sim.analysis.decisions.what_it_takes import what_it_takes as _wit
from sim.analysis.diagnostics.loops import calibrated_polarities
from sim.analysis.ensembles import conditioning as cond
from sim.analysis.ensembles.bounds import DEFAULT_SEED, check_samples
from sim.analysis.ensembles.conditioning_settings import load_conditioning
from sim.analysis.ensembles.ensemble import check_request, shared_simulator, simulate_design
from sim.analysis.ensembles.sampling import sample
from sim.analysis.ensembles.uncertainty import analyse, indicator_percentiles, target_probabilities
from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
from sim.analysis.outcomes.compare import compare_table
from sim.analysis.outcomes.targets import derived_variables, target_table
from sim.analysis.sensitivity import compute_indices, get_method
from sim.analysis.sensitivity.shapley import player_labels
from sim.dims import SAMPLE, scenario_runs, stack_scenarios
from sim.engine import BACKGROUND_COMPILE
from sim.engine.kernel import PARALLEL_MIN
from sim.engine.timeloop import one_sample
from sim.model.declarations.history import load_history
from sim.model.declarations.targets import Targets, load_targets
from sim.present.tabular.catalogue import lever_table
from sim.scenarios import Scenario, list_scenarios, load_scenario
from sim.simulate import Simulator, warm_cache


@lru_cache(maxsize=2)
def simulator(engine: str = "batch") -> Simulator:
    """The shared simulator for ``engine`` ("batch" or "pysd"), compiled once (the one the
    ensembles use too)."""
    return shared_simulator(engine)


def run(scenario: Scenario | str | Path = "baseline", *, engine: str = "batch",
        levers: dict | None = None, assumptions: dict | None = None) -> xr.Dataset:
    """Run one scenario (an id such as ``"plan"``, a path, or a :class:`Scenario`).

    Returns a Dataset with dimension ``time``; every variable has ``units`` and ``description``.
    """
    ds = simulator(engine).run(scenario, levers=levers, assumptions=assumptions)
    return one_sample(ds)


ScenarioRef = Scenario | str | Path


def _scenario(ref: ScenarioRef) -> Scenario:
    return ref if isinstance(ref, Scenario) else load_scenario(ref)


def run_scenarios(*scenarios: ScenarioRef, engine: str = "batch") -> xr.Dataset:
    """Run several scenarios (each checked for divergence as :func:`run` is).

    Returns one Dataset with dims ``("scenario", "time")``: coordinate ``scenario`` the ids,
    ``name_zh``/``name_en`` their names.
    """
    sim_ = simulator(engine)
    runs = [sim_.run(_scenario(s)) for s in scenarios]
    return stack_scenarios(runs).isel({SAMPLE: 0}, drop=True)


def compare(*scenarios: ScenarioRef | xr.Dataset, against: ScenarioRef | None = None,
            engine: str = "batch") -> pd.DataFrame:
    """The table of ``plansim compare``: each scenario's value in the target year, its
    difference from ``against`` (absolute and %) and the year each target is reached.

    ``scenarios``: ids, paths or :class:`Scenario` objects (``against`` is run too when it is
    not among them), or one Dataset from :func:`run_scenarios`. ``against`` defaults to
    ``"baseline"`` if given, else the first scenario.
    """
    if len(scenarios) == 1 and isinstance(scenarios[0], xr.Dataset):
        runs = scenarios[0]
    else:
        scs = [_scenario(s) for s in scenarios]
        ref = _scenario(against) if against is not None else None
        if ref is not None and ref.id not in [s.id for s in scs]:
            scs.insert(0, ref)
        runs = run_scenarios(*scs, engine=engine)
    ids = [str(i) for i in runs["scenario"].values]
    ref_id = (_scenario(against).id if against is not None
              else "baseline" if "baseline" in ids else ids[0])
    return compare_table(runs, load_targets(), ref_id)


def uncertainty(*scenarios: ScenarioRef, samples: int | None = None, seed: int | None = None,
                conditioned: bool = True, sampling: str = "lhs",
                engine: str = "batch") -> xr.Dataset:
    """The Monte Carlo ensemble of ``plansim uncertainty`` (same samples and seed give the
    same numbers): one Dataset with dims ``("scenario", "sample", "time")``.

    Every scenario runs on the same samples of the uncertain assumptions; with
    ``conditioned`` (default) those are ``samples`` draws of the posterior
    (:mod:`sim.analysis.ensembles.conditioning`; default N and seed: the canonical ensemble of
    scenarios/uncertainty.yaml), else prior draws. Summaries: :func:`probabilities`,
    :func:`percentiles`, :func:`plot_fan`.
    """
    canon = load_conditioning()   # None: the canonical ensemble's N and seed
    samples = canon.samples if samples is None else samples
    seed = canon.seed if seed is None else seed
    check_samples(samples, seed)       # the command line's bounds, before reading scenarios
    scs = [_scenario(s) for s in scenarios]
    spec, tg = load_uncertainty(), load_targets()
    sim_ = shared_simulator(engine)
    cols = list(tg.indicators)
    match = None
    if conditioned:
        match = cond.HistoryMatch.from_history(list(sim_.info.index), None, canon)
        cols = sorted(set(cols) | set(match.variables))
    check_request(samples, seed, runs_per_count=len(scs), dim=spec.dim,
                  columns=len(cols), engine=engine)   # the command line's bounds, before any work

    def simulate(sc, design):
        return simulate_design(sc, design, return_columns=cols, engine=engine, progress=False)

    if match is not None:
        return cond.ensemble(cond.condition_all(scs, spec, samples, seed=seed,
                                                simulate=simulate, match=match,
                                                method=sampling))
    design = sample(spec, samples, method=sampling, seed=seed)
    return stack_scenarios({sc.id: simulate(sc, design) for sc in scs})


def probabilities(ensemble: xr.Dataset, year: int | None = None) -> pd.DataFrame:
    """P(target met) in ``year`` (default the target year) with its Monte Carlo standard
    error, per scenario and indicator (and all targets together); see
    :func:`sim.analysis.ensembles.uncertainty.target_probabilities`."""
    return target_probabilities(ensemble, load_targets(), year)


def percentiles(ensemble: xr.Dataset, q: Sequence[float] = (5, 25, 50, 75, 95)) -> xr.Dataset:
    """Percentiles over ``sample`` of each indicator: dims ``(percentile, scenario, time)``."""
    return indicator_percentiles(ensemble, load_targets().indicators, q)


def sensitivity(scenario: ScenarioRef = "plan", *, method: str = "morris",
                samples: int | None = None, seed: int = DEFAULT_SEED,
                against: ScenarioRef = "baseline", history_samples: int | None = None,
                engine: str = "batch") -> pd.DataFrame:
    """Which assumptions (Morris, Sobol) or lever groups (Shapley) drive the outcomes.

    ``method="shapley"``: the plan-minus-``against`` change of each indicator in the target
    year split among the lever groups (rows: groups; the values add up to the change).
    Design methods (``"morris"``, ``"sobol"``, see ``plansim sensitivity --method``): the
    indices of every outcome (long table: ``output``, ``parameter`` and the method's
    indices, e.g. ``mu_star``), the design drawn from the posterior marginals as
    ``plansim sensitivity`` does; ``samples`` defaults to the method's default and
    ``history_samples`` (the survivors behind the marginals) to ``sensitivity_samples`` of
    scenarios/uncertainty.yaml (fewer are quicker and coarser).
    """
    sc, tg = _scenario(scenario), load_targets()
    m = get_method(method)
    sim_ = simulator(engine)
    if m.kind == "attribution":
        att = m.attribute(_scenario(against), sc, simulator=sim_, parameters=sim_.parameters,
                          indicators=tg.indicators, year=tg.year)
        names = player_labels(sim_.parameters)   # the players' declared names, for legends
        att.shapley.attrs["labels"] = {p: dict(names[p]) for p in att.shapley.index
                                       if p in names}
        return att.shapley
    spec = load_uncertainty(parameters=sim_.parameters)
    samples = samples or m.default_samples
    check_request(samples, seed, runs_per_count=m.runs_per_sample(spec.dim, second_order=False),
                  dim=spec.dim, times=len(tg.plan.years),   # as plansim sensitivity
                  columns=len(tg.indicators) + len(tg.derived))
    if history_samples is not None:
        check_samples(history_samples)
    years = (sim_.control("initial_time"), sim_.control("final_time"))
    settings = load_conditioning()
    if history_samples is not None:
        settings = replace(settings, sensitivity_samples=history_samples)
    match = cond.HistoryMatch.from_history(list(sim_.info.index), years, settings)
    cols = list(dict.fromkeys([*tg.indicators, *derived_variables(tg, sim_.info.index),
                               *match.variables]))

    def simulate(s, design):
        return simulate_design(s, design, return_columns=cols, engine=engine, progress=False)

    tables = compute_indices(sc, spec, tg, method=method, samples=samples,
                             seed=seed, second_order=False, simulate=simulate,
                             say=lambda _m: None, match=match,
                             center=cond.central_assumptions(sim_, sc, spec.names),
                             given_data=False)
    return tables["indices"]


def levers(lang: str = "zh", scenario: ScenarioRef = "plan", engine: str = "batch"
           ) -> pd.DataFrame:
    """The lever catalogue of ``plansim levers``: id, name in ``lang``, unit, group, allowed
    range and the values in the baseline and in ``scenario``."""
    return lever_table(lang, _scenario(scenario), simulator=simulator(engine))


def targets() -> Targets:
    """The plan's outcomes as declared in model/targets.yaml: years, indicators, targets."""
    return load_targets()


def targets_table(ds: xr.Dataset) -> pd.DataFrame:
    """Target, value in the target year, ratio and year reached for each indicator of one
    run."""
    return target_table(ds, load_targets())


def plot_indicators(runs: dict[str, xr.Dataset] | xr.Dataset, *, lang: str = "zh",
                    history: bool = True):
    """One panel per indicator of ``runs`` ({label: Dataset}, or a Dataset with a
    ``scenario`` dim, labelled by the scenario names in ``lang``) with its target drawn;
    returns the matplotlib Figure."""
    # lazy: pulls matplotlib (303 ms)
    from sim.present.figures.charts import indicator_figure
    from sim.present.figures.fonts import use_cjk_font

    use_cjk_font()
    return indicator_figure(_by_label(runs, lang), list(load_targets()), lang=lang,
                            history=load_history() if history else None)


def _by_label(runs: dict[str, xr.Dataset] | xr.Dataset, lang: str) -> dict[str, xr.Dataset]:
    if not isinstance(runs, xr.Dataset):
        return dict(runs)
    return {str(ds.attrs.get(f"name_{lang}", sid)): ds for sid, ds in scenario_runs(runs).items()}


def plot_compare(runs: xr.Dataset, *, against: str | None = None, lang: str = "zh"):
    """Each scenario of ``runs`` (from :func:`run_scenarios`) as a share of each target over
    time and in the target year, ``against`` (default baseline, else the first) dashed and
    hatched; returns the matplotlib Figure."""
    # lazy: pulls matplotlib (303 ms)
    from sim.present.figures.charts import compare_figure
    from sim.present.figures.fonts import use_cjk_font

    use_cjk_font()
    ids = [str(i) for i in runs["scenario"].values]
    ref = against or ("baseline" if "baseline" in ids else ids[0])
    by_label = _by_label(runs, lang)
    ref_label = list(by_label)[ids.index(ref)]
    return compare_figure(by_label, list(load_targets()), lang=lang, baseline_key=ref_label)


def plot_fan(ensemble: xr.Dataset, scenario: str, *, lang: str = "zh", central: bool = True):
    """Fan chart of one scenario of an :func:`uncertainty` ensemble: percentile bands of each
    indicator with its target, the central (calibrated) run dashed with ``central``, and the
    probabilities panel; returns the matplotlib Figure."""
    # lazy: pulls matplotlib (307 ms)
    from sim.present.figures.fonts import use_cjk_font
    from sim.present.reports.uncertainty_report import fan_figure

    use_cjk_font()
    tg = load_targets()
    one = scenario_runs(ensemble)[scenario]
    mid = simulator().run(_scenario(scenario)) if central else None
    result = analyse(scenario, None, one, tg, central=mid)
    name = str(one.attrs.get(f"name_{lang}", scenario))
    return fan_figure(result, tg, lang, title=f"{name} (N = {one.sizes[SAMPLE]})")


def use_cjk_font() -> str:
    """Make matplotlib draw Chinese labels (the CJK font plansim's charts use); call it before
    drawing your own charts with Chinese text. Returns the font's name."""
    # lazy: pulls matplotlib (85 ms)
    from sim.present.figures.fonts import use_cjk_font as _use

    return _use()


def history() -> pd.DataFrame:
    """Observed figures with status and source."""
    return load_history()


def scenario_ids() -> list[str]:
    """Ids of the scenario files in ``scenarios/``."""
    return [p.stem for p in list_scenarios()]


__all__ = ["compare", "discover", "history", "levers", "load_scenario", "percentiles",
           "plot_compare", "plot_fan", "plot_indicators", "probabilities", "returns", "run",
           "run_scenarios", "scenario_ids", "sensitivity", "simulator", "targets",
           "targets_table", "uncertainty", "use_cjk_font", "what_it_takes"]


def what_it_takes(scenario: Scenario | str | Path = "plan", **kwargs):
    """Least extra money over the plan years (and its split across the allocation lines) meeting
    each target and all of them with the chosen probabilities; see
    :func:`sim.analysis.decisions.what_it_takes.what_it_takes` (``targets``, ``probabilities``,
    ``budget_max``, ``samples``, ``seed``). ``.table`` is ``requirements.csv``."""
    return _wit(scenario, **kwargs)


def returns(scenario: Scenario | str | Path = "plan", *, amount: float = 10.0,
            samples: int = 200, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Change in each target-year indicator per 亿元 by lever group (see
    :mod:`sim.analysis.decisions.returns`)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return returns_table(conditioned_ensemble(sc, samples=samples, seed=seed), amount)


def discover(scenario: Scenario | str | Path = "plan", targets: tuple[str, ...] = ("all",), *,
             samples: int = 500, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """PRIM boxes (``boxes.csv`` of ``plansim discover``) for ``targets`` ('all' or ids)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return boxes_frame(_discover(conditioned_ensemble(sc, samples=samples, seed=seed),
                                 targets))


def warm_start(scenarios: Sequence[str] = paths.DEFAULT_SCENARIOS) -> None:
    """Fill the user's caches with what a user's first commands compile, so none of them
    starts cold; ``make setup`` runs it once after installing. Each step is the command's own
    code, compiling in this process (no background compile left behind):

    - ``plansim run``: the default scenarios' runs (:func:`sim.simulate.warm_cache`: the
      ``.mdl`` parsed, the serial kernel of each scenario);
    - ``uncertainty``, ``brief``, ``explore``'s band, what-it-takes: an ensemble of the same
      scenarios, large enough (:data:`~sim.engine.kernel.PARALLEL_MIN` samples) to run on the
      parallel kernel, which compiles apart from the serial one;
    - ``diagram``: the loop polarities measured on the calibrated run (a kernel of its own:
      the runs pin the causes of each link).

    Every entry is an ordinary signed cache entry keyed by the model's bytes and the engine's
    code (an edit makes it stale; it is then made again by the first command that needs it).
    Not part of the notebook API (``__all__``): ``make setup`` calls it."""
    warm_cache(scenarios)
    was, BACKGROUND_COMPILE["on"] = BACKGROUND_COMPILE["on"], False   # compiled here
    try:
        uncertainty(*scenarios, samples=PARALLEL_MIN, conditioned=False)
        calibrated_polarities()
    finally:
        BACKGROUND_COMPILE["on"] = was
