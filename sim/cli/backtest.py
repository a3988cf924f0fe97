"""``plansim backtest``: rolling-origin forecast skill of the estimation, against a naive forecast.

For each origin ``Y`` (``--origins``, default 2017..2022) the Bayesian estimation
(:func:`sim.analysis.estimation.posterior.estimate`) sees only the history rows up to ``Y``; ``--samples`` draws of its posterior are run to the last observed year and
compared with every sourced outturn after ``Y`` (:mod:`sim.analysis.forecasts.backtest`). Prints MAPE by
horizon for the model and for the naive forecast (the last value carried forward at its
historical growth rate) and the 90% band coverage; writes ``DIR/backtest/`` (default
``out/backtest``): ``backtest.csv``, ``by_horizon.csv``, ``bounds.csv``, a workbook, a README and
the chart of absolute errors by horizon (:mod:`sim.present.reports.backtest_report`).
"""

from __future__ import annotations

from pathlib import Path

from sim.analysis.ensembles.bounds import DEFAULT_SEED
from sim.cli.common import Progress, add_common, sample_count, seed
from sim.model.declarations.words import word

DEFAULT_ORIGINS = "2017..2022"
DEFAULT_SAMPLES = 200


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    p = sub.add_parser(
        "backtest", help="rolling-origin backtest: forecast errors by horizon, model vs naive",
        description="For each origin year, estimate on the history rows up to it, forecast the "
                    "years after it up to the last observed year, and score every sourced "
                    "outturn: the ensemble's median, P5/P95 and error, the naive forecast's "
                    "error (last value carried forward at its growth rate), whether the value "
                    "is inside the 90%% band. Prints MAPE by horizon and the coverage; writes "
                    "DIR/backtest/.")
    p.add_argument("--origins", default=DEFAULT_ORIGINS,
                   help=f"origin years, FIRST..LAST or a comma list (default {DEFAULT_ORIGINS})")
    p.add_argument("--samples", type=sample_count, default=DEFAULT_SAMPLES,
                   help=f"posterior draws per origin (default {DEFAULT_SAMPLES})")
    p.add_argument("--seed", type=seed, default=DEFAULT_SEED,
                   help=f"random seed (default {DEFAULT_SEED}, the canonical ensemble's)")
    p.add_argument("--steps", type=sample_count, default=None,
                   help="emcee steps per walker of each origin's estimation (default: "
                        "sampler.steps of model/calibration-settings.yaml; fewer for a quick "
                        "look)")
    add_common(p, engine=False)
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.analysis.forecasts.backtest import backtest, parse_origins
    from sim.analysis.forecasts.backtest_model import (
        ESTIMATOR,
        model_compare,
        model_estimate,
        model_forecast,
    )
    from sim.model.declarations.history import load_history
    from sim.present.output.outdir import claim
    from sim.present.output.render import FigurePool
    from sim.present.reports.backtest_report import (
        figure_jobs,
        note,
        origins_table,
        summary_table,
        write_backtest,
    )
    from sim.present.tabular.tables import format_tables
    from sim.simulate import Simulator

    say = Progress(args.quiet)
    origins = parse_origins(args.origins)
    claim(args.out, "backtest", ["backtest"])  # check --out before any work
    history = load_history()
    with FigurePool() as pool:     # its workers start now, before the runs start threads
        say("compiling model (batch engine, without the calibration fitted on every row)")
        simulator = Simulator("batch", use_calibration=False)
        estimate = model_estimate(simulator, steps=args.steps, say=say)
        result = backtest(history, origins, estimate=estimate,
                          forecast=model_forecast(simulator),
                          compare=model_compare(simulator), samples=args.samples,
                          seed=args.seed, say=say, estimator=ESTIMATOR)
        figures = pool.submit_all(figure_jobs(result, args.formats))
        final = write_backtest(result, Path(args.out) / "backtest", lang=args.lang,
                               figures=figures, formats=args.formats, say=say)
    print(note(result, args.lang))
    print(format_tables([summary_table(result, args.lang), origins_table(result, args.lang)],
                        args.lang))
    if len(result.bounds):
        met = result.bounds["met_share"].mean()
        print(word("backtest_console.bounds", args.lang, rows=len(result.bounds), met=100 * met))
    print(f"\n-> {final}")
    return 0
