"""``plansim discover``: which assumption ranges make a target (default: all together) likely.

PRIM (:mod:`sim.analysis.decisions.prim`) over SCENARIO's ensemble of posterior draws. Writes,
atomically, ``DIR/discover_<scenario>/``: ``boxes.csv`` (target, cases, n, box, coverage,
density, mass, assumption, lower, upper, range_min, range_max; a target met by fewer than 10
samples has one row without a box), ``trajectory.csv`` (the peeling trajectories) and a chart per target with
cases (``prim_<target>_<zh|en>.png``, other formats with ``--formats``).
"""

from __future__ import annotations

import time
from pathlib import Path

from sim.cli.common import Progress, add_common, add_ensemble
from sim.model.declarations.words import LANGS


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    from sim.model.declarations.targets import load_targets

    p = sub.add_parser(
        "discover", help="scenario discovery (PRIM): assumption ranges that make targets likely",
        description=load_targets().fill(
            "Find, with PRIM (Friedman and Fisher 1999), boxes of assumption ranges in which "
            "SCENARIO's posterior draws meet the target (default 'all': all {n} together, then "
            "each target), with coverage and density.", "en"))

    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or id (e.g. plan)")
    p.add_argument("--target", action="append", default=None, metavar="ID",
                   help="target indicator id or 'all' (repeatable; default: all, then each)")
    add_ensemble(p)
    add_common(p, lang=True, engine=False)
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.analysis.decisions.discover import MIN_CASES, boxes_frame, discover, trajectory_frame
    from sim.analysis.decisions.requirements import ALL
    from sim.analysis.decisions.what_it_takes import conditioned_ensemble, target_columns
    from sim.model.declarations.targets import load_targets
    from sim.present.figures.chartutil import new_figure
    from sim.present.figures.requirement_charts import prim_trajectory
    from sim.present.output.atomic import save_figure
    from sim.present.output.outdir import claim, owned_dir
    from sim.present.tabular.columns import known_labels
    from sim.present.tabular.tables import format_table, write_csv
    from sim.scenarios import load_scenario

    say = Progress(args.quiet)
    sc = load_scenario(args.scenario)
    targets = load_targets()
    wanted = args.target or [ALL, *targets.indicators]
    target_columns(wanted, targets)
    name = f"discover_{sc.id}"
    claim(args.out, "discover", [name])
    t0 = time.perf_counter()
    ens = conditioned_ensemble(sc, samples=args.samples, seed=args.seed, say=say)
    found = discover(ens, wanted, say=say)
    boxes, traj = boxes_frame(found), trajectory_frame(found)
    final = Path(args.out) / name
    with owned_dir(final) as tmp:
        write_csv(boxes, tmp / "boxes.csv")
        write_csv(traj, tmp / "trajectory.csv")
        for d in found:
            if not d.boxes:
                continue
            for lang in LANGS:
                names = {k: v[lang] for k, v in targets.labels().items()}
                names[ALL] = names.get("all_targets", ALL)
                fig, axes = new_figure(1, 1, figsize=(6, 5))
                prim_trajectory(axes[0, 0], traj, d.target, lang=lang,
                                chosen=[(b.coverage, b.density) for b in d.boxes],
                                title=f"{sc.label(lang)}: {names.get(d.target, d.target)} "
                                      f"({d.cases}/{d.n})")
                save_figure(fig, tmp / f"prim_{d.target}_{lang}", args.formats)
    print(f"\n{sc.id}: PRIM boxes over N = {ens.n} posterior draws, "
          f"{time.perf_counter() - t0:.0f} s")
    for d in found:
        if not d.boxes:
            print(f"\n{d.target}: met in {d.cases} of {d.n} samples, fewer than {MIN_CASES}; "
                  "no box")
            continue
        print(f"\n{d.target}: met in {d.cases} of {d.n} samples")
        print(format_table(d.table[["box", "coverage", "density", "mass", "assumption",
                                    "lower", "upper"]].round(3), args.lang,
                           labels=known_labels()))
    print(f"\n-> {final}")
    return 0
