"""``plansim sensitivity``: which uncertain assumptions, and which lever groups, drive the outcomes.

``--method morris`` (screening) or ``--method sobol`` (variance-based, S1/ST with bootstrap
confidence intervals, S2 with ``--second-order``) over the assumptions in
scenarios/uncertainty.yaml, conditioned on the history (designs drawn from the marginals of a
history-matched ensemble, see :func:`sim.analysis.conditioning.marginals`); the tornado moves
each assumption alone around the central run (the calibrated run); ``--method shapley`` splits the SCENARIO-minus-``--against``
difference in each indicator in the target year among the lever groups of model/parameters.yaml
(exact Shapley values, 2^G runs). Writes, atomically, ``DIR/sensitivity_<scenario>_<method>/``.
Indicators, derived outcomes and years: model/targets.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.cli.common import Progress, add_common, chunk_size, sample_count, seed

DEFAULT_SAMPLES = {"sobol": 256, "morris": 20}
#: parameters shown per chart panel (the largest; the CSV and Excel files hold all)
TOP_BARS = 12
TOP_LINES = 6


def add_parser(sub) -> None:
    from sim.analysis.sampling import DEFAULT_SEED

    p = sub.add_parser(
        "sensitivity", help="Morris / Sobol sensitivity, Shapley attribution to lever groups",
        description="--method morris|sobol: sample the uncertain assumptions and write "
                    "sensitivity indices (with bootstrap confidence intervals) for each "
                    "indicator in the target year and each derived outcome ('all targets "
                    "met', the fiscal cost, ...; model/targets.yaml), indices per year from "
                    "the plan's start to the horizon, tornado (one at a time, P5/P95) and bar "
                    "charts, CSV and Excel. --method shapley: attribute SCENARIO minus the "
                    "--against scenario (default baseline) in each indicator to the lever "
                    "groups by exact Shapley values (all 2^G coalitions as one batch; the values "
                    "add up to the total difference) with waterfall charts. Output: "
                    "DIR/sensitivity_<scenario>_<method>/.")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or id (e.g. plan)")
    p.add_argument("--method", choices=("morris", "sobol", "shapley"), default="morris",
                   help="morris (default), sobol or shapley")
    p.add_argument("--samples", type=sample_count, default=None,
                   help="sobol: base N, a power of two (default 256; runs N*(D+2), or "
                        "N*(2D+2) with --second-order); morris: trajectories (default 20; "
                        "runs N*(D+1))")
    p.add_argument("--seed", type=seed, default=DEFAULT_SEED, help=f"default {DEFAULT_SEED}")
    p.add_argument("--second-order", action="store_true", help="sobol: also S2 indices")
    p.add_argument("--against", default="baseline", metavar="SCENARIO",
                   help="shapley: the reference scenario (default baseline)")
    p.add_argument("--spec", type=Path, default=None,
                   help="uncertainty file (default scenarios/uncertainty.yaml)")
    p.add_argument("--cost-variable", default=None,
                   help="model variable for the fiscal cost: a cumulative_* stock (its rise "
                        "over the plan years) or a flow (summed over the plan years); default: "
                        "the fiscal cost declared in model/targets.yaml")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="run on a dask.distributed cluster, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--chunk-size", type=chunk_size, default=None, help="samples per engine call")
    add_common(p)
    p.set_defaults(func=run)


Simulate = Callable[[Any, Any], Any]   # (scenario, design) -> xr.Dataset


def compute_indices(scenario: Any, spec: Any, targets: Any, *, method: str, samples: int,
                    seed: int, second_order: bool, simulate: Simulate,
                    cost_variable: str | None = None,
                    say: Callable[[str], None] = print, match: Any = None,
                    center: dict[str, float] | None = None) -> dict[str, pd.DataFrame]:
    """Run the design and the tornado runs; return the output tables by name.

    With ``match`` (a :class:`~sim.analysis.conditioning.HistoryMatch`) the designs are drawn
    from the marginals of a history-matched ensemble of the scenario; ``center`` (assumption
    values of the central run) is the tornado's centre (default: the medians).
    Tables: ``indices`` (long: output, parameter, ...), ``second_order`` (sobol with S2),
    ``per_year_<indicator>`` (year x parameter), ``tornado_<output>`` (parameter x low, high,
    swing, central), ``samples`` (the design), ``conditioning`` and ``given_data_S1``
    (with ``match``: first-order indices on the history-matched ensemble itself, a check on
    the marginals' independence).
    """
    from sim.analysis import conditioning, sampling, sensitivity

    dist, cond = spec, None
    if match is not None:
        n = match.settings.sensitivity_samples
        say(f"{scenario.id}: history-matching {n} samples for the conditioned marginals")
        cond = conditioning.condition(scenario, spec, n, seed=seed, simulate=simulate,
                                      match=match, say=say)
        dist = conditioning.marginals(cond)
    if method == "sobol":
        design = sampling.saltelli(dist, samples, second_order=second_order, seed=seed)
    else:
        design = sampling.morris(dist, samples, seed=seed)
    say(f"{scenario.id}: {method} design, {design.n} runs over {spec.dim} assumptions")
    ds = simulate(scenario, design)
    outputs = sensitivity.outputs_at_year(ds, targets, cost_variable=cost_variable)
    long, second = sensitivity.analyse_outputs(design, outputs, method=method, seed=seed)
    out: dict[str, pd.DataFrame] = {"indices": long.reset_index()}
    if second is not None:
        out["second_order"] = second.reset_index()
    years = targets.plan.years
    say(f"{scenario.id}: indices per year {years[0]}-{years[-1]}")
    for ind in targets.indicators:
        out[f"per_year_{ind}"] = sensitivity.per_year_indices(
            design, ds[ind], years, method=method, seed=seed)
    oat = sampling.one_at_a_time(dist, center=center)
    say(f"{scenario.id}: tornado, {oat.n} runs")
    oat_out = sensitivity.outputs_at_year(simulate(scenario, oat), targets,
                                          cost_variable=cost_variable)
    for col in oat_out.columns:
        table, base = sensitivity.tornado_table(oat, oat_out[col].to_numpy())
        out[f"tornado_{col}"] = table.assign(central=base)
    out["samples"] = design.frame().reset_index()
    if cond is not None:
        consistent = match.passes(ds)
        out["conditioning"] = conditioning.summary_table([cond], match.settings).assign(
            design_runs=design.n, design_history_consistent=float(consistent.mean()))
        say(f"{scenario.id}: {cond.kept} survivors of {cond.drawn} drawn; "
            f"{consistent.mean():.0%} of the {method} design is history-consistent")
        cond_out = sensitivity.outputs_at_year(cond.results, targets,
                                               cost_variable=cost_variable)
        out["given_data_S1"] = sensitivity.given_data_first_order(
            cond.design, cond_out, seed=seed).reset_index()
    return out


def _grid(n: int):
    from sim.present.chartutil import new_figure

    cols = 3 if n > 4 else max(n, 1)
    rows = int(np.ceil(n / cols))
    fig, axes = new_figure(rows, cols, figsize=(6.0 * cols, 5.0 * rows))
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_axis_off()
    return fig, flat


def _morris_bars(ax, df: pd.DataFrame, lang: str, labels, title) -> None:
    from sim.present.labels import label

    d = df.sort_values("mu_star")
    y = np.arange(len(d))
    ax.barh(y, d["mu_star"], xerr=d["mu_star_conf"], color="tab:blue",
            error_kw={"linewidth": 0.8})
    ax.set_yticks(y, [label(labels.get(k, k), lang) for k in d.index])
    ax.set_xlabel("μ*" + (" (Morris)" if lang == "en" else "（Morris 筛选）"))
    ax.set_title(label(title, lang))


def index_figures(tables: Mapping[str, pd.DataFrame], targets: Any, method: str, lang: str,
                  labels: Mapping[str, Any]) -> dict[str, Any]:
    """Figures by file stem: bar charts of indices, tornado charts, per-year lines."""
    from sim.present.analysis_charts import bar_indices, lines_over_time, tornado

    titles = targets.labels()
    long = tables["indices"].set_index(["output", "parameter"])
    outputs = list(dict.fromkeys(long.index.get_level_values("output")))
    figs = {}
    fig, axes = _grid(len(outputs))
    for ax, out in zip(axes[:len(outputs)], outputs, strict=True):
        df = long.loc[out]
        df = df.loc[df["ST" if method == "sobol" else "mu_star"].abs()
                    .sort_values(ascending=False).index[:TOP_BARS]]
        if method == "sobol":
            bar_indices(ax, df, lang=lang, labels=labels, title=titles.get(out, out))
        else:
            _morris_bars(ax, df, lang, labels, titles.get(out, out))
    figs[f"indices_{lang}"] = fig
    torn = [k for k in tables if k.startswith("tornado_")]
    fig, axes = _grid(len(torn))
    for ax, key in zip(axes[:len(torn)], torn, strict=True):
        out = key.removeprefix("tornado_")
        df = tables[key]
        tornado(ax, df, base=float(df["central"].iloc[0]), lang=lang, labels=labels,
                title=titles.get(out, out), max_bars=TOP_BARS)
    figs[f"tornado_{lang}"] = fig
    years = [k for k in tables if k.startswith("per_year_")]
    fig, axes = _grid(len(years))
    for ax, key in zip(axes[:len(years)], years, strict=True):
        ind = key.removeprefix("per_year_")
        ylabel = ({"zh": "总效应指数 ST", "en": "Total-order ST"} if method == "sobol"
                  else {"zh": "μ*（相对）", "en": "μ* (relative)"})
        df = tables[key]
        df = df[df.abs().mean().sort_values(ascending=False).index[:TOP_LINES]]
        lines_over_time(ax, df, lang=lang, labels=labels, ylabel=ylabel,
                        title=titles.get(ind, ind), plan_period=targets.plan.period)
    figs[f"per_year_{lang}"] = fig
    return figs


def shapley_figure(att: Any, targets: Any, lang: str, labels: Mapping[str, Any]):
    from sim.present.analysis_charts import waterfall

    fig, axes = _grid(len(targets.items))
    names = {"zh": ("基准情景", "行动计划"), "en": ("Baseline", "Plan")}[lang]
    for ax, t in zip(axes[:len(targets.items)], targets.items, strict=True):
        waterfall(ax, att.shapley[t.indicator], float(att.baseline[t.indicator]),
                  float(att.plan[t.indicator]), lang=lang, labels=labels, title=t.label,
                  unit=t.unit, start_label=names[0], end_label=names[1])
    return fig


def shapley_tables(att: Any) -> dict[str, pd.DataFrame]:
    total = pd.DataFrame([att.baseline, att.plan, att.total, att.shapley.sum(axis=0)],
                         index=pd.Index(["baseline", "plan", "difference", "sum_of_shapley"],
                                        name="row"))
    groups = pd.DataFrame([(g, lid) for g, ls in att.groups.items() for lid in ls],
                          columns=["group", "lever"])
    return {"shapley": att.shapley, "totals": total, "coalitions": att.coalition_values,
            "groups": groups}


def write_outputs(tables: Mapping[str, pd.DataFrame], figures: Mapping[str, Any],
                  final: Path) -> Path:
    """CSV per table, one workbook, PNG+SVG per figure, all into ``final`` atomically."""
    from sim.present.atomic import save_figure
    from sim.present.outdir import owned_dir
    from sim.present.tables import write_csv, write_excel

    with owned_dir(final) as tmp:
        for name, df in tables.items():
            write_csv(df, tmp / f"{name}.csv")
        sheets = {name[:31]: df for name, df in tables.items()}
        write_excel(tmp / "sensitivity.xlsx", sheets)
        for stem, fig in figures.items():
            save_figure(fig, tmp / stem)
    return Path(final)


def run(args) -> int:
    from sim.analysis.ensemble import check_memory, saved_times, simulate_design
    from sim.analysis.targets import derived_variables
    from sim.model.targets import load_targets
    from sim.present.labels import LANGS
    from sim.present.outdir import claim
    from sim.present.tables import format_table
    from sim.scenarios import load_scenario
    from sim.simulate import Simulator

    say = Progress(args.quiet)
    scenario = load_scenario(args.scenario)
    targets = load_targets()
    final = Path(args.out) / f"sensitivity_{scenario.id}_{args.method}"
    if args.method == "sobol" and args.samples is not None:
        from sim.analysis.sampling import check_power_of_two

        check_power_of_two(args.samples)  # before compiling the model
    claim(args.out, "sensitivity", [final.name])  # check --out before any work
    say(f"compiling model ({args.engine} engine)")
    simulator = Simulator(args.engine)
    params = simulator.parameters
    if args.method == "shapley":
        from sim.analysis.attribution import attribute

        against = load_scenario(args.against)
        att = attribute(against, scenario, simulator=simulator, parameters=params,
                        indicators=targets.indicators, year=targets.year)
        say(f"{len(att.groups)} lever groups differ, {2 ** len(att.groups)} runs")
        tables = shapley_tables(att)
        figures = {f"waterfall_{lang}": shapley_figure(att, targets, lang, params.groups)
                   for lang in LANGS}
        write_outputs(tables, figures, final)
        print(format_table(att.shapley, args.lang,
                           labels={t.indicator: t.label for t in targets.items}))
        print(f"\n-> {final}")
        return 0

    from sim.analysis.conditioning import HistoryMatch, central_assumptions, load_conditioning
    from sim.analysis.uncertainty_spec import load_uncertainty

    spec = load_uncertainty(args.spec, parameters=params)
    samples = args.samples or DEFAULT_SAMPLES[args.method]
    cost = args.cost_variable
    cols = list(targets.indicators) + derived_variables(targets, simulator.info.index, cost)
    match = HistoryMatch.from_history(
        list(simulator.info.index),
        (simulator.control("initial_time"), simulator.control("final_time")),
        load_conditioning(args.spec))
    cols = list(dict.fromkeys(cols + match.variables))
    per = {"sobol": spec.dim * (2 if args.second_order else 1) + 2, "morris": spec.dim + 1}
    check_memory(samples, runs_per_count=per[args.method], dim=spec.dim, columns=len(cols),
                 times=saved_times(args.engine))  # before drawing the design

    def simulate(sc, design):
        return simulate_design(sc, design, return_columns=cols, engine=args.engine,
                               scheduler=args.scheduler, chunk_size=args.chunk_size,
                               progress=None if not args.quiet else False)

    tables = compute_indices(scenario, spec, targets, method=args.method, samples=samples,
                             seed=args.seed, second_order=args.second_order,
                             simulate=simulate, cost_variable=cost, say=say, match=match,
                             center=central_assumptions(simulator, scenario, spec.names))
    labels = {k: a.label for k, a in params.assumptions.items()}
    figures = {}
    for lang in LANGS:
        figures.update(index_figures(tables, targets, args.method, lang, labels))
    write_outputs(tables, figures, final)
    key = "ST" if args.method == "sobol" else "mu_star"
    wide = tables["indices"].pivot(index="parameter", columns="output", values=key)
    cond = tables["conditioning"].iloc[0]
    print(f"\n{scenario.id}: {key} by output; designs drawn from the marginals of "
          f"{cond['kept']} history-consistent samples ({cond['drawn']} drawn)")
    print(format_table(wide, args.lang))
    central = pd.Series({k.removeprefix("tornado_"): float(df["central"].iloc[0])
                         for k, df in tables.items() if k.startswith("tornado_")},
                        name="central")
    print(f"\n{scenario.id}: central (the calibrated run) in {targets.year}")
    print(format_table(central.to_frame(), args.lang))
    print(f"\n-> {final}")
    say("done")
    return 0
