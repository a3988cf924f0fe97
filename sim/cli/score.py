"""``plansim score``: score a forecast vintage against an outturn file.

Writes, atomically, ``DIR/score/score.csv`` with columns ``indicator, year, value, central,
P5, P95, error_pct, inside_50, inside_90`` (see :mod:`sim.analysis.forecasts.scoring`) and prints the
rows and a summary line.
"""

from __future__ import annotations

from pathlib import Path

from sim.cli.common import Progress, add_common


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    p = sub.add_parser(
        "score", help="score a forecast vintage against outturns",
        description="Compare an outturn file (CSV with columns indicator,year,value; other "
                    "columns are ignored) with a stored forecast vintage (default: the latest "
                    "under forecasts/): per row the central value, the P5-P95 band, the error "
                    "in percent and whether the value lies inside the 50%% and 90%% bands; a "
                    "summary line; DIR/score/score.csv. Unknown indicators are listed as "
                    "skipped.")
    p.add_argument("outturn", type=Path, metavar="OUTTURN.csv", help="the outturn file")
    p.add_argument("--vintage", default=None, metavar="V",
                   help="a vintage date under forecasts/ (e.g. 2026-11-28) or a vintage "
                        "directory (default: the latest)")
    p.add_argument("--scenario", default="plan",
                   help="the vintage's scenario to score (default plan: the plan is under way)")
    p.add_argument("--forecasts", type=Path, default=None, help="directory of vintages "
                   "(default: forecasts/ at the repository root)")
    add_common(p, lang=True, engine=False, charts=False)
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.analysis.forecasts.scoring import SCORE_COLUMNS, read_outturn, score
    from sim.analysis.forecasts.vintage import find_vintage, load_vintage
    from sim.present.output.outdir import claim, owned_dir
    from sim.present.tabular.columns import known_labels
    from sim.present.tabular.tables import format_table, write_csv

    say = Progress(args.quiet)
    claim(args.out, "score", ["score"])  # check --out before any work
    outturn = read_outturn(args.outturn)
    vintage = load_vintage(find_vintage(args.forecasts, args.vintage))
    say(f"scoring {len(outturn)} outturn rows against vintage {vintage.path}")
    result = score(vintage.table, outturn, scenario=args.scenario, vintage=vintage.name)
    final = Path(args.out) / "score"
    with owned_dir(final) as tmp:
        write_csv(result.table[list(SCORE_COLUMNS)], tmp / "score.csv")
    if len(result.table):
        shown = result.table[["indicator", "year", "value", "central", "P5", "P25", "P75",
                              "P95", "error_pct", "inside_50", "inside_90"]]
        print(format_table(shown.set_index("indicator"), args.lang, labels=known_labels()))
    for r in result.skipped.to_dict("records"):
        print(f"skipped: {r['indicator']} {r['year']} (line {r['line']}): {r['reason']}")
    print(result.summary())
    print(f"-> {final}")
    return 0
