"""``plansim regen`` (``make regen``): rebuild every committed generated file, in dependency
order (:mod:`sim.present.output.artefacts`): the ``.mdl`` sketch, the estimation (only when its inputs
changed), the scenario schema, the diagrams, PySD's reference runs (only when their fingerprint
changed), the generated blocks of the documents. ``--check`` writes nothing and exits 1 listing
every stale one (a test runs it)."""

from __future__ import annotations

import argparse

from sim.cli.common import Progress

STALE_EXIT = 1
COMMAND = "make regen"


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    p = sub.add_parser(
        "regen", help="rebuild every committed generated file (sketch, estimation, schema, "
                      "diagrams, PySD reference runs, document blocks)",
        description="Bring every generated file the repository holds up to date, each after "
                    "the ones it is made from: the Vensim sketch of the .mdl, the estimation "
                    "(model/posterior.csv.gz and model/calibration.yaml: slow, so redone only "
                    "when the hash of its inputs stored with the draws no longer matches), "
                    "scenarios/schema.json, model/diagrams (Graphviz sources and SVG), "
                    "model/reference (PySD's runs of the model at its own step, of every "
                    "scenario file and of the sampled cases of one seeded draw of assumptions, "
                    "which the agreement tests compare the engine with: PySD runs only when the "
                    "fingerprint of the .mdl, the inputs, the code and PySD's version stored "
                    "with them no longer matches) and the generated blocks of README.md, "
                    "model/README.md and model/README.zh.md. "
                    "Files already current are left byte for byte.")
    from sim.present.output.artefacts import ARTEFACTS

    def artefact(name: str) -> str:
        if name not in ARTEFACTS:
            raise argparse.ArgumentTypeError(f"{name!r} is not a generated artefact; allowed: "
                                             f"{', '.join(ARTEFACTS)}")
        return name

    p.add_argument("artefacts", nargs="*", type=artefact, metavar="ARTEFACT",
                   help=f"only these, still in order: {', '.join(ARTEFACTS)} (default: all)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 listing every stale file")
    p.add_argument("--no-calibrate", action="store_true",
                   help="never run the estimation: a stale one is reported and the later "
                        "files are made from the stored posterior")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.present.output.artefacts import ARTEFACTS, regenerate

    say = Progress(args.quiet)
    stale = regenerate(args.artefacts or None, write=not args.check,
                       calibrate=not args.no_calibrate, say=say)
    for s in stale:
        state = "rewritten" if s.written else "STALE"
        print(f"{s.artefact}: {state}: {s.reason}")
    left = [s for s in stale if not s.written]
    if not stale:
        print(f"every generated file is current ({', '.join(args.artefacts or ARTEFACTS)})")
    elif not left:
        print(f"{len(stale)} file(s) or block(s) rewritten; commit them")
    if left and args.check:
        print(f"{len(left)} stale; run `{COMMAND}` (or `plansim regen`) to regenerate them")
        if any(s.artefact == "calibration" for s in left):
            print("note: the files after the estimation were checked against the stored "
                  "posterior; the new estimation may change them too")
        return STALE_EXIT
    if left:
        print("the estimation is stale and was left as it is (--no-calibrate); run "
              f"`{COMMAND}` to estimate again")
    say("done")
    return 0
