"""``plansim diagram``: stock-and-flow diagrams per sector, the causal-loop diagram and the derived
loop table; with ``--write-sketch`` also the Vensim sketch of the ``.mdl``."""

from __future__ import annotations

import re
from pathlib import Path

from sim import paths
from sim.cli.common import Progress
from sim.model.words import LANGS

DIAGRAM_FILE = re.compile(r"^(sector-[\w-]+|loops|loop-table)\.(zh|en)\.(dot|svg|png|md)$")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "diagram", help="stock-and-flow and causal-loop diagrams (SVG, PNG), loop table",
        description="Draw the stock-and-flow diagram of each sector (the sector's view of the "
                    "model's sketch) and the causal-loop diagram of the loops declared in "
                    "model/loops.yaml, with the polarity of every link measured on the "
                    "calibrated run; print the loop table derived from the equations. The "
                    "committed copies live in model/diagrams (regenerate: plansim diagram "
                    "--write-sketch --out model/diagrams, which also refreshes the loop tables "
                    "of model/README.md and model/README.zh.md).")
    p.add_argument("--lang", choices=LANGS, default=None,
                   help="language of the labels (default: both)")
    p.add_argument("--sector", action="append", default=None, metavar="S",
                   help="only this sector of model/sectors.yaml (repeatable; default: all)")
    p.add_argument("--out", type=Path, default=paths.DEFAULT_OUT / "diagrams",
                   help="output directory (default: ./out/diagrams)")
    p.add_argument("--write-sketch", action="store_true",
                   help="first rewrite the sketch (views) of the .mdl from its equations")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if the .mdl sketch or the diagrams in --out are "
                        "not what the model gives")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run)


def _check_out(out: Path) -> None:
    from sim.errors import OutputError

    if out.exists() and not out.is_dir():
        raise OutputError(f"--out: '{out}' exists and is not a directory")
    if out.is_dir():
        other = sorted(p.name for p in out.iterdir() if not DIAGRAM_FILE.match(p.name))
        if other:
            raise OutputError(f"--out: '{out}' holds files that are not diagrams ({other[:3]}); "
                              "give an empty directory or one with diagrams only")


def run(args) -> int:
    from sim.analysis.loops import calibrated_polarities
    from sim.errors import OutputError
    from sim.model.loopspec import load_loops
    from sim.model.sectors import load_sectors
    from sim.model.sketch import write_sketch
    from sim.present.diagrams import Drawer, diagram_sources
    from sim.scenarios.loader import load_scenario

    say = Progress(args.quiet)
    langs = (args.lang,) if args.lang else LANGS
    known = [s.id for s in load_sectors()]
    for s in args.sector or ():
        if s not in known:
            raise OutputError(f"--sector: {s!r} is not a sector of model/sectors.yaml; "
                              f"allowed: {', '.join(known)}")
    out = Path(args.out)
    if not args.check:
        _check_out(out)
    if args.write_sketch and not args.check:
        say("writing the sketch of the .mdl")
        write_sketch()
    decl = load_loops()
    run_scenario = load_scenario(decl.polarity_run)
    say(f"deriving loops and measuring link polarities on the calibrated '{run_scenario.id}' run")
    from sim.model.graph import load_graph

    graph = load_graph()   # parsed once for the loops and the diagrams
    with Drawer() as drawer:
        if not args.check:   # the sector diagrams are drawn while the polarities are measured
            drawer.start(diagram_sources(langs, args.sector, graph=graph))
        pols = calibrated_polarities(decl, graph=graph)
        sources = diagram_sources(langs, args.sector, pols, graph=graph, run=run_scenario)
        return _finish(args, out, langs, sources, pols, drawer, say)


def _finish(args, out: Path, langs, sources: dict, pols, drawer, say) -> int:
    from sim.model.sketch import sketch_is_current
    from sim.present.atomic import atomic_dir
    from sim.present.diagrams import diagrams_are_current, update_model_readmes, write_diagrams

    if args.check:
        ok_sketch, why_sketch = sketch_is_current()
        ok_diag, why_diag = diagrams_are_current(args.out, sources)
        for ok, what, why in ((ok_sketch, "sketch of the .mdl", why_sketch),
                              (ok_diag, f"diagrams in {args.out}", why_diag)):
            print(f"{what}: {'current' if ok else 'STALE: ' + why}")
        return 0 if ok_sketch and ok_diag else 1
    say(f"drawing {sum(1 for k in sources if not k.startswith('loop-table'))} diagrams")
    if args.sector or args.lang:
        written = write_diagrams(out, sources, drawer)
    else:
        with atomic_dir(out) as tmp:
            write_diagrams(tmp, sources, drawer)
        written = sorted(out.iterdir())
        if out.resolve() == (paths.MODEL_DIR / "diagrams").resolve():
            for f in update_model_readmes(sources, paths.MODEL_DIR):
                say(f"updated the loop table in {f}")
    lang = langs[0]
    print(sources[f"loop-table.{lang}"], end="")
    unconfirmed = [p.loop.spec.id for p in pols if not p.confirmed]
    if unconfirmed:
        print(f"\nloops whose measured polarity differs from model/loops.yaml: "
              f"{', '.join(unconfirmed)}")
    print(f"\n{len(written)} files -> {out}")
    say("done")
    return 0
