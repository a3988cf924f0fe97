"""``plansim run``: simulate scenarios and write tables, a workbook and charts for each."""

from __future__ import annotations

from sim.cli.common import Progress, add_common, check_distinct
from sim.paths import DEFAULT_SCENARIOS


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    p = sub.add_parser(
        "run", help="run scenarios and write tables and charts",
        description="Run each scenario and write DIR/<scenario>/timeseries.csv (+ units "
                    "sidecar), targets.csv, <scenario>.xlsx and charts (PNG; --formats png,svg "
                    "adds SVG). With no scenario, runs baseline and plan.")
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                   help="scenario files or ids in scenarios/ (default: baseline plan)")
    add_common(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.scenarios import load_scenario

    refs = args.scenarios or list(DEFAULT_SCENARIOS)
    scenarios = [load_scenario(r) for r in refs]  # validate all (before the heavy imports)
    check_distinct(scenarios)

    from sim.model.declarations.history import load_history
    from sim.model.declarations.sectors import check_sector_variables, load_sectors
    from sim.model.declarations.targets import load_targets
    from sim.present.figures.styles import scenario_styles
    from sim.present.output.outdir import claim
    from sim.present.output.render import FigurePool
    from sim.present.reports.run_report import scenario_figures, scenario_summary, write_scenario
    from sim.present.tabular.summary import fiscal_table
    from sim.present.tabular.tables import format_table
    from sim.simulate import Simulator

    say = Progress(args.quiet)
    claim(args.out, "run", [sc.id for sc in scenarios])  # check --out before any work
    targets = load_targets()
    sectors = load_sectors()
    history = load_history()
    with FigurePool() as pool:   # its workers start now, so their imports overlap the runs
        say(f"compiling model ({args.engine} engine)")
        sim = Simulator(args.engine)
        check_sector_variables(sectors, set(sim.info.index))
        runs = []  # every scenario runs (and is checked for divergence) before any is written
        for i, sc in enumerate(scenarios, 1):
            say(f"[{i}/{len(scenarios)}] {sc.id}: simulating")
            runs.append(sim.run(sc))
        styles = scenario_styles([sc.id for sc in scenarios])  # one look per scenario
        figures = [pool.submit_all(scenario_figures(
            ds, sc, targets, sectors, lang=args.lang, history=history, style=styles[sc.id],
            formats=args.formats)) for sc, ds in zip(scenarios, runs, strict=True)]
        # the results on the console as soon as the numbers exist; files and charts after
        names = {sc.id: sc.label(args.lang) for sc in scenarios}
        summaries = [scenario_summary(ds, targets, args.lang, names[sc.id], sc.id)
                     for sc, ds in zip(scenarios, runs, strict=True)]
        for sc, summary in zip(scenarios, summaries, strict=True):
            print(f"\n{summary[0].title} -> {args.out / sc.id}")
            print(format_table(summary[0], args.lang))
        fiscal = fiscal_table({sc.id: ds for sc, ds in zip(scenarios, runs, strict=True)},
                              targets, args.lang, names, [scenarios[0].id])
        if fiscal is not None:
            print(f"\n{fiscal.title}")
            print(format_table(fiscal, args.lang))
        from sim.present.reports.how_sure import how_sure_lines

        print("\n" + "\n".join(how_sure_lines(args.out, scenarios, targets, args.lang)),
              flush=True)
        for sc, ds, figs, summary in zip(scenarios, runs, figures, summaries, strict=True):
            write_scenario(ds, sc, targets, sectors, args.out, lang=args.lang, say=say,
                           figures=figs, summary=summary)
    say("done")
    return 0
