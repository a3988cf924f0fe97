"""``plansim levers``: the catalogue of policy levers (model/parameters.yaml) with their units,
groups, ranges and values in the baseline and a scenario; see :mod:`sim.present.tabular.catalogue`."""

from __future__ import annotations

from sim.cli.common import add_engine


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    p = sub.add_parser(
        "levers", help="catalogue of the policy levers",
        description="List every lever of model/parameters.yaml: id, name, unit (from the "
                    ".mdl), group, allowed range, and its value in the baseline and in "
                    "SCENARIO (default plan) in the plan's first and target years, and what "
                    "it means (its description in model/parameters.yaml); one entry per lever, "
                    "wrapped to 100 columns.")
    from sim.model.declarations.words import LANGS

    p.add_argument("--scenario", default="plan", metavar="S",
                   help="scenario file or id whose values to show (default plan)")
    p.add_argument("--lang", choices=LANGS, default=LANGS[0],
                   help=f"language of names and headers (default: {LANGS[0]})")
    add_engine(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.present.tabular.catalogue import catalogue_text, lever_note, lever_table, wrap_text
    from sim.scenarios import load_scenario
    from sim.simulate import Simulator

    scenario = load_scenario(args.scenario)
    print("\n".join(wrap_text(lever_note(args.lang))) + "\n")
    print(catalogue_text(lever_table(args.lang, scenario, simulator=Simulator(args.engine)),
                         args.lang))
    return 0
