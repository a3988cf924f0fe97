"""``plansim returns``: change in each target-year indicator per 亿元 of extra money, by lever
group.

Writes, atomically, ``DIR/returns_<scenario>/``: ``returns.csv`` (group, indicator, unit,
median, P5, P95, extra_money, rests_on, rank_correlation, n) and a bar chart per indicator
(``returns_<indicator>_<zh|en>.png``, ``--formats`` for others). Method:
:mod:`sim.analysis.decisions.returns`.
"""

from __future__ import annotations

import time
from pathlib import Path

from sim.cli.common import Progress, add_common, add_ensemble, money
from sim.model.declarations.words import LANGS


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    from sim.model.declarations.targets import load_targets

    fill = load_targets().fill   # the plan's years from model/targets.yaml
    p = sub.add_parser(
        "returns", help=fill("change in each {year} indicator per 亿元, by lever group", "en"),
        description=fill("For each lever group, spend AMOUNT extra 亿元 over {start}-{year} "
                         "through its allocation lines and report the change in each {year} "
                         "indicator per 亿元 over the canonical ensemble of posterior draws "
                         "(median, P5-P95), with the assumption each return rests on most "
                         "(largest rank correlation).", "en"))
    from sim.analysis.decisions.returns import DEFAULT_AMOUNT

    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or id (e.g. plan)")
    p.add_argument("--amount", type=money, default=DEFAULT_AMOUNT, metavar="X",
                   help=fill("extra 亿元 over {start}-{year} per group ", "en")
                   + f"(default {DEFAULT_AMOUNT:g})")
    add_ensemble(p)
    add_common(p, lang=True, engine=False)
    p.set_defaults(func=run)


def headline(amount: float) -> str:
    """What the console table shows, the plan's years from model/targets.yaml."""
    from sim.model.declarations.targets import load_targets

    return load_targets().fill("change in the {year} indicator per 亿元 spent over "
                               "{start}-{year} ", "en") + f"({amount:g} 亿元 per group)"


def run(args) -> int:
    from sim.analysis.decisions.returns import returns_table
    from sim.analysis.decisions.what_it_takes import conditioned_ensemble
    from sim.model.declarations.targets import load_targets
    from sim.present.figures.chartutil import new_figure
    from sim.present.figures.requirement_charts import return_bars
    from sim.present.output.atomic import save_figure
    from sim.present.output.outdir import claim, owned_dir
    from sim.present.tabular.columns import known_labels
    from sim.present.tabular.tables import format_table, write_csv
    from sim.scenarios import load_scenario

    say = Progress(args.quiet)
    sc = load_scenario(args.scenario)
    name = f"returns_{sc.id}"
    claim(args.out, "returns", [name])
    t0 = time.perf_counter()
    ens = conditioned_ensemble(sc, samples=args.samples, seed=args.seed, say=say)
    table = returns_table(ens, args.amount, say=say)
    final = Path(args.out) / name
    groups = ens.simulator.parameters.groups
    with owned_dir(final) as tmp:
        write_csv(table, tmp / "returns.csv")
        for t in load_targets().items:
            for lang in LANGS:
                fig, axes = new_figure(1, 1, figsize=(8, 4.5))
                return_bars(axes[0, 0], table, t.indicator, lang=lang, names=groups,
                            title=f"{sc.label(lang)}: {t.label.get(lang, t.indicator)}")
                save_figure(fig, tmp / f"returns_{t.indicator}_{lang}", args.formats)
    print(f"\n{sc.id}: {headline(args.amount)}, N = {ens.n}, {time.perf_counter() - t0:.0f} s")
    cols = ["group", "indicator", "median", "P5", "P95", "rests_on", "rank_correlation"]
    print(format_table(table[cols].round(3), args.lang, labels=known_labels()))
    print(f"\n-> {final}")
    return 0
