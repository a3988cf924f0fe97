"""``plansim compare``: several scenarios side by side (the first one is the reference)."""

from __future__ import annotations

from sim.cli.common import Progress, add_common, check_distinct
from sim.errors import ScenarioError


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare", help="compare scenarios: overlay chart and difference table",
        description="Overlay the indicators of several scenarios (the reference dashed) "
                    "and tabulate target-year values, differences from the reference and the year "
                    "each target is reached, into DIR/compare/. The reference is 'baseline' if "
                    "given, else the first scenario; --against names one or more references.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="two or more scenario files or ids")
    p.add_argument("--against", nargs="+", metavar="REF", default=None,
                   help="reference scenario(s) the differences are taken against (ids or "
                        "files; each is run too if not among the scenarios)")
    add_common(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.dims import stack_scenarios
    from sim.model.declarations.targets import load_targets
    from sim.present.output.outdir import claim
    from sim.present.output.render import FigurePool
    from sim.present.reports.run_report import write_comparison
    from sim.present.tabular.tables import format_tables
    from sim.scenarios import load_scenario
    from sim.simulate import Simulator

    say = Progress(args.quiet)
    scenarios = [load_scenario(r) for r in args.scenarios]
    refs = [load_scenario(r) for r in args.against or []]
    ids = [s.id for s in scenarios]
    scenarios += [r for r in refs if r.id not in ids]
    ids = [s.id for s in scenarios]
    if len(scenarios) < 2:
        raise ScenarioError("compare needs at least two scenarios")
    check_distinct(scenarios)
    claim(args.out, "compare", ["compare"])  # check --out before any work
    references = (list(dict.fromkeys(r.id for r in refs)) if refs
                  else ["baseline" if "baseline" in ids else ids[0]])
    targets = load_targets()

    def show(tables) -> None:   # as soon as the numbers exist, before any file is written
        print(f"\n-> {args.out / 'compare'}\n")
        print(format_tables(tables, args.lang), flush=True)

    with FigurePool() as pool:   # its workers start now, so their imports overlap the runs
        say(f"compiling model ({args.engine} engine)")
        sim = Simulator(args.engine)
        runs = []  # each run checked for divergence, then one Dataset with a scenario dim
        for i, sc in enumerate(scenarios, 1):
            say(f"[{i}/{len(scenarios)}] {sc.id}: simulating")
            runs.append(sim.run(sc))
        write_comparison(stack_scenarios(runs), scenarios, targets, args.out / "compare",
                         lang=args.lang, references=references, say=say, formats=args.formats,
                         pool=pool, show=show)
    say("done")
    return 0
