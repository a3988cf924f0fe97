"""``plansim assumptions``: the catalogue of uncertain assumptions (model/parameters.yaml) with
their units, ranges, the values the runs use and their distributions; see
:mod:`sim.present.tabular.catalogue`."""

from __future__ import annotations

from sim.cli.common import add_engine


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    p = sub.add_parser(
        "assumptions", help="catalogue of the uncertain assumptions",
        description="List every assumption of model/parameters.yaml: id, name, unit (from the "
                    ".mdl), allowed range, the value the runs use (calibrated where "
                    "model/calibration.yaml estimates it), whether it is calibrated, and its "
                    "distribution in scenarios/uncertainty.yaml, and what it means (its "
                    "description in model/parameters.yaml); wrapped to 100 columns.")
    from sim.model.declarations.words import LANGS

    p.add_argument("--lang", choices=LANGS, default=LANGS[0],
                   help=f"language of names and headers (default: {LANGS[0]})")
    add_engine(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.present.tabular.catalogue import assumption_table, catalogue_text
    from sim.simulate import Simulator

    print(catalogue_text(assumption_table(args.lang, simulator=Simulator(args.engine)),
                         args.lang))
    return 0
