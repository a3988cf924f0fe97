"""``plansim what-it-takes``: the least extra money, and its split across the allocation lines,
that meets each target (and all of them) in the target year with a chosen probability (the
years and the count in the help come from model/targets.yaml).

Writes, atomically, ``DIR/what-it-takes_<scenario>/``: ``requirements.csv`` (target,
probability, reachable, extra_budget_2024_2028, achieved_probability, mc_se, n, one column per
line: 亿元 over the plan years), ``curves.csv`` (P along each line and the even split), one
scenario file ``<target>-p<P>.yaml`` per reachable row (it extends SCENARIO), and per target a
chart of P against extra money (``p_<target>_<zh|en>.png``, ``--formats`` for others). Method
and limits: :mod:`sim.analysis.decisions.requirements`.
"""

from __future__ import annotations

import time
from pathlib import Path

from sim.cli.common import Progress, add_common, add_ensemble, money
from sim.model.declarations import targets as declared  # read when called (tests swap it)
from sim.model.declarations.words import LANGS, word


# lazy (command module): the parser imports every command, so its imports sit in functions
def _probability(text: str) -> float:
    import argparse

    try:
        p = float(text)
    except ValueError:
        p = float("nan")
    if not 0 < p <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}; allowed: a number in (0, 1]")
    return p


def add_parser(sub) -> None:
    fill = declared.load_targets().fill   # the plan years and the indicator count
    p = sub.add_parser(
        "what-it-takes", help="least extra money (and its split) to meet targets with P >= p",
        description=fill("Condition SCENARIO's ensemble on the history once, then search the "
                         "least extra fiscal money over {start}-{year} (beyond SCENARIO's own), "
                         "split across the allocation lines, that meets each target and all {n} "
                         "in {year} with probability at least P over that same ensemble (common "
                         "random numbers). Writes requirements.csv, the P curves, a scenario "
                         "file per reachable row and charts (zh and en) into "
                         "DIR/what-it-takes_<scenario>/.", "en"))
    from sim.analysis.decisions.what_it_takes import DEFAULT_BUDGET_MAX, DEFAULT_PROBABILITIES

    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or id (e.g. plan)")
    p.add_argument("--target", action="append", default=None, metavar="ID",
                   help="target indicator id or 'all' (repeatable; default: each and all)")
    p.add_argument("--probability", action="append", type=_probability, default=None,
                   metavar="P", help="probability to reach (repeatable; default "
                   + " and ".join(f"{x:g}" for x in DEFAULT_PROBABILITIES) + ")")
    p.add_argument("--budget-max", type=money, default=DEFAULT_BUDGET_MAX, metavar="X",
                   help=fill("most extra money considered, 亿元 over {start}-{year} ", "en")
                   + f"(default {DEFAULT_BUDGET_MAX:g})")
    add_ensemble(p)
    add_common(p, lang=True, engine=False)
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.analysis.decisions import what_it_takes as wit
    from sim.analysis.decisions.requirements import ALL
    from sim.model.declarations.parameters import load_parameters
    from sim.present.output.outdir import claim
    from sim.present.output.render import FigurePool
    from sim.present.tabular.requirement_table import requirements_view
    from sim.present.tabular.tables import format_table
    from sim.scenarios import load_scenario

    say = Progress(args.quiet)
    sc = load_scenario(args.scenario)
    targets, levers = declared.load_targets(), load_parameters().levers
    wanted = args.target or [*targets.indicators, ALL]
    wit.target_columns(wanted, targets)                  # bad ids: one line, before any work
    probs = args.probability or list(wit.DEFAULT_PROBABILITIES)
    claim(args.out, "what-it-takes", [f"what-it-takes_{sc.id}"])
    t0 = time.perf_counter()
    with FigurePool(here=True) as pool:   # workers fork now, before the search starts threads
        early: dict = {}   # target -> (its rows, line labels, renderings) drawn while searching
        def drawn(target, rows, curves):
            lines = {c: levers[c].label for c in rows.columns if c in levers}
            early[target] = (rows, lines, pool.submit_all(
                _jobs(args, sc, targets, [target], probs, curves, rows, lines)))
        w = wit.what_it_takes(sc, targets=wanted, probabilities=probs,
                              budget_max=args.budget_max, samples=args.samples,
                              seed=args.seed, say=say, on_target=drawn)
        final, lines = _write(args, sc, targets, wanted, probs, w, pool, early)
    start, year, secs = targets.plan.start, targets.year, time.perf_counter() - t0
    print(word("what_it_takes.head", args.lang, label=sc.label(args.lang), id=sc.id, year=year,
               start=start, n=w.ensemble.n, runs=w.runs, secs=secs))
    if w.cached:
        print(word("what_it_takes.cached", args.lang))
    names = {**{t.indicator: t.label for t in targets.items},
             ALL: targets.labels()["all_targets"]}
    print(format_table(requirements_view(w.table, lines, names, args.lang, start, year),
                       args.lang))
    print(f"\n-> {final}")
    return 0


def _jobs(args, sc, targets, wanted, probs, curves, table, lines) -> list:
    """The chart jobs of the targets ``wanted``, each in every language."""
    from sim.analysis.decisions.requirements import ALL
    from sim.present.figures.requirement_charts import probability_figure
    from sim.present.output.render import FigureJob

    names = {t.indicator: t.label for t in targets.items}
    jobs = []
    for t in wanted:
        for lang in LANGS:
            label = (names.get(t, {}).get(lang, t) if t != ALL
                     else targets.labels()["all_targets"][lang])
            jobs.append(FigureJob(f"p_{t}_{lang}", probability_figure, (
                curves, t, lang, list(probs), table, lines,
                f"{sc.label(lang)}: {label}"), {}, tuple(args.formats)))
    return jobs


def _write(args, sc, targets, wanted, probs, w, pool, early) -> tuple[Path, dict]:
    """requirements.csv, curves.csv, the scenario files and the charts (those drawn during
    the search kept where their rows are final) into DIR/what-it-takes_<scenario>/."""
    from sim.analysis.decisions.what_it_takes import extends_ref, scenario_name, scenario_text
    from sim.model.declarations.parameters import load_parameters
    from sim.present.output.outdir import owned_dir
    from sim.present.output.render import write_renderings
    from sim.present.tabular.tables import write_csv

    final = Path(args.out) / f"what-it-takes_{sc.id}"
    levers = load_parameters().levers
    lines = {lid: levers[lid].label for lid in w.lines}
    figures = []
    for t in wanted:
        rows, drew, done = early.get(t, (None, None, None))
        now = w.table[w.table["target"] == t].reset_index(drop=True)
        if rows is None or drew != lines or not rows.reset_index(drop=True).equals(now):
            done = pool.submit_all(_jobs(args, sc, targets, [t], probs, w.curves, w.table,
                                         lines))
        figures.extend(done)
    with owned_dir(final) as tmp:
        write_csv(w.table, tmp / "requirements.csv")
        write_csv(w.curves, tmp / "curves.csv")
        for r in w.requirements:
            if r.reachable:
                (tmp / f"{scenario_name(r)}.yaml").write_text(
                    scenario_text(w.ensemble, r, extends_ref(sc.source, final)), encoding="utf-8")
        write_renderings(figures, tmp, lambda _m: None)
    return final, lines
