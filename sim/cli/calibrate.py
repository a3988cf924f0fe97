"""``plansim calibrate``: the one Bayesian estimation of the model from Qingdao's history.

Priors are the declared ranges and shapes (model/parameters.yaml, scenarios/uncertainty.yaml);
the likelihood and the sampler are set in model/calibration-settings.yaml. Writes the posterior
draws (model/posterior.csv.gz, with the data hash, seed and sampler settings), their summary
(model/calibration.yaml: prior and posterior per assumption, the fit, the state at the origin;
``estimates.<id>.value`` = posterior median, the central run) unless ``--no-write``, and a report
(fit per series, prior vs posterior, charts) to DIR/calibration/ (default out/calibration).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from sim import paths
from sim.cli.common import Progress
from sim.cli.formats import add_formats

DEFAULT_OUT = paths.DEFAULT_OUT


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    p = sub.add_parser(
        "calibrate", help="estimate the posterior of the assumptions from the history",
        description="Sample the posterior of every declared assumption the history informs "
                    "(emcee; priors: the declared ranges and shapes; likelihood: observation "
                    "error by status and model discrepancy, model/calibration-settings.yaml) "
                    "against model/data/history.csv; write model/posterior.csv.gz, "
                    "model/calibration.yaml and a report to DIR/calibration/.")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"output folder; the report goes to DIR/calibration/ (default: "
                        f"./{DEFAULT_OUT})")
    p.add_argument("--settings", type=Path, default=None,
                   help="estimation settings (default: model/calibration-settings.yaml)")
    p.add_argument("--no-write", action="store_true",
                   help="estimate and report without replacing model/posterior.csv.gz and "
                        "model/calibration.yaml")
    from sim.model.declarations.words import LANGS

    p.add_argument("--lang", choices=LANGS, default=LANGS[0],
                   help=f"language of the console table (default: {LANGS[0]})")
    add_formats(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.analysis.estimation.calibration import calibrate, history_bands, write_outputs
    from sim.analysis.estimation.calibration_settings import load_settings
    from sim.present.output.outdir import claim
    from sim.present.reports.calibration_report import fit_by_series, write_report
    from sim.present.tabular.tables import format_table
    from sim.simulate import Simulator

    say = Progress(args.quiet)
    claim(args.out, "calibrate", ["calibration"])  # check --out before any work
    date = _dt.date.today().isoformat()
    settings = load_settings(args.settings)
    say("estimate: compiling model (batch engine, without an earlier estimation)")
    simulator = Simulator("batch", use_calibration=False)
    cal = calibrate(settings, simulator=simulator, say=say)
    bands = history_bands(simulator, cal)
    final = write_report(cal, bands, Path(args.out) / "calibration", date, lang=args.lang,
                         formats=args.formats)
    say(f"report -> {final}")
    if not args.no_write:
        write_outputs(cal, say=say, date=date)
    print(format_table(fit_by_series(cal.fit).set_index(["status", "indicator"]), args.lang))
    print()
    print(format_table(cal.parameters, args.lang))
    print()
    print(format_table(cal.origin.drop(columns=["as_of"]).set_index("indicator"), args.lang))
    print(f"\n-> {final}")
    return 0
