"""``plansim sensitivity``: which uncertain assumptions (Morris, Sobol; designs conditioned on
the history, :func:`sim.analysis.ensembles.conditioning.marginals`) and which lever groups (exact
Shapley values) drive the outcomes; options and ``DIR/sensitivity_<scenario>_<method>/``: add_parser."""

from __future__ import annotations

from pathlib import Path

from sim.cli.common import Progress, add_common, chunk_size, sample_count, seed

TOP = 15    # assumptions printed (all of them in the CSV and the workbook)


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
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
    from sim.analysis.ensembles.bounds import DEFAULT_SEED
    from sim.analysis.sensitivity import REGISTRY, cli_methods

    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or id (e.g. plan)")
    methods = cli_methods()
    p.add_argument("--method", choices=methods, default=methods[0],
                   help="; ".join(f"{k}: {REGISTRY[k].help}" for k in methods)
                   + f" (default {methods[0]})")
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


def run(args) -> int:
    from sim.analysis.ensembles.ensemble import check_request, shared_simulator, simulate_design
    from sim.analysis.outcomes.targets import derived_variables
    from sim.analysis.sensitivity import compute_indices, get_method
    from sim.analysis.sensitivity.shapley import player_labels
    from sim.model.declarations.targets import load_targets
    from sim.present.labels import LANGS
    from sim.present.output.outdir import claim
    from sim.present.output.render import FigurePool
    from sim.present.reports import sensitivity_report as report
    from sim.present.tabular.summary import (
        indices_head,
        indices_table,
        sensitivity_tables,
        shapley_summary,
    )
    from sim.present.tabular.tables import format_table, format_tables
    from sim.scenarios import load_scenario

    say = Progress(args.quiet)
    scenario = load_scenario(args.scenario)
    targets = load_targets()
    final = Path(args.out) / f"sensitivity_{scenario.id}_{args.method}"
    method = get_method(args.method)
    if method.kind == "design" and args.samples is not None:
        method.check_samples(args.samples)  # before compiling the model
    claim(args.out, "sensitivity", [final.name])  # check --out before any work
    say(f"compiling model ({args.engine} engine)")
    simulator = shared_simulator(args.engine)  # the one the design runs use: compiled once
    params = simulator.parameters
    if method.kind == "attribution":
        against = load_scenario(args.against)
        att = method.attribute(against, scenario, simulator=simulator, parameters=params,
                        indicators=targets.indicators, year=targets.year)
        say(f"{len(att.groups)} lever groups differ, {2 ** len(att.groups)} runs")
        tables = method.tables(att)
        figures = {f"waterfall_{lang}": report.shapley_figure(
            att, targets, lang, player_labels(params), names=(against.name, scenario.name))
            for lang in LANGS}
        names = {"reference": against.label(args.lang), "scenario": scenario.label(args.lang)}
        summary = [shapley_summary(att, targets, args.lang, names, player_labels(params))]
        report.write_outputs(tables, figures, final, lang=args.lang, summary=summary,
                             targets=targets, central=simulator.run(scenario),
                             title=summary[0].title, formats=args.formats)
        print(format_tables(summary, args.lang))
        print(f"\n-> {final}")
        return 0

    labels = {k: a.label for k, a in params.assumptions.items()}
    with FigurePool(warm=report.warm_up) as pool:  # its workers start while the model runs
        from sim.analysis.ensembles.conditioning import HistoryMatch, central_assumptions
        from sim.analysis.ensembles.conditioning_settings import load_conditioning
        from sim.analysis.ensembles.uncertainty_spec import load_uncertainty

        spec = load_uncertainty(args.spec, parameters=params)
        samples, cost = args.samples or method.default_samples, args.cost_variable
        span = (simulator.control("initial_time"), simulator.control("final_time"))
        match = HistoryMatch.from_history(list(simulator.info.index), span,
                                          load_conditioning(args.spec))
        cols = list(dict.fromkeys([*targets.indicators, *derived_variables(
            targets, simulator.info.index, cost), *match.variables]))
        per = method.runs_per_sample(spec.dim, second_order=args.second_order)  # before the design
        check_request(samples, args.seed, runs_per_count=per, dim=spec.dim, times=len(
            targets.plan.years), columns=len(targets.indicators) + len(targets.derived))

        def simulate(sc, design):
            return simulate_design(sc, design, return_columns=cols, engine=args.engine,
                                   scheduler=args.scheduler, chunk_size=args.chunk_size,
                                   progress=None if not args.quiet else False)

        tables = compute_indices(scenario, spec, targets, method=args.method, samples=samples,
                                 seed=args.seed, second_order=args.second_order,
                                 simulate=simulate, cost_variable=cost, say=say, match=match,
                                 center=central_assumptions(simulator, scenario, spec.names))
        say("charts")  # drawn by the workers while the tables are written, then by all
        figures = pool.submit_all(report.index_jobs(tables, targets, args.method, labels, LANGS,
                                                    args.formats))
        key, name = method.main_index, scenario.label(args.lang)
        central = simulator.run(scenario)
        summary = sensitivity_tables(central, tables, key, targets, args.lang, name, labels,
                                     scenario.id, method.index_label)
        report.write_outputs(tables, {}, final, renderings=figures, lang=args.lang, summary=summary,
                             central=central, targets=targets, title=f"{name}: {args.method}")
    cond = tables["conditioning"].iloc[0]
    print(indices_head(name, key, int(cond["samples"]), args.lang))
    table = indices_table(tables, key, targets, args.lang, labels, method.index_label)
    print("\n".join(table.title.splitlines()[1:]))   # outcomes too rare to estimate
    print(format_table(table, args.lang, max_rows=TOP))
    print("\n" + format_tables(summary, args.lang))
    print(f"\n-> {final}")
    say("done")
    return 0
