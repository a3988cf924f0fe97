"""``plansim calibrate``: fit the uncertain assumptions to Qingdao's history and report the fit.

Which assumptions are estimated, the weights by data status and the treatment of the 2018 R&D
census break are set in ``model/calibration-settings.yaml``. The estimates are written to
``model/calibration.yaml`` (unless ``--no-write``), from where every later run starts; the fit
report (charts, MAPE, R², Theil statistics, estimates with intervals) goes to
``DIR/calibration/`` (default ``out/calibration``), replaced atomically. With ``hindcast:`` in the settings it
also fits on the rows up to ``fit_until`` and reports the forecast errors of the later years;
with ``profile: {points: N}`` the profile-likelihood interval of every estimate.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from sim import paths
from sim.cli.common import Progress
from sim.cli.formats import add_formats

DEFAULT_OUT = paths.DEFAULT_OUT
HEADER = ("# Written by `plansim calibrate` (sim/analysis/calibration.py); do not edit by hand.\n"
          "# Settings: model/calibration-settings.yaml. Report: out/calibration/report.md.\n"
          "# Only estimates.<id>.value is used to run; the rest documents the fit.\n")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "calibrate", help="fit uncertain assumptions to the history and report the fit",
        description="Estimate the assumptions listed in model/calibration-settings.yaml by "
                    "weighted least squares on log values against model/data/history.csv "
                    "(baseline scenario), write model/calibration.yaml and a fit report "
                    "(observed vs simulated charts, MAPE, R², Theil U^M/U^S/U^C, estimates "
                    "with approximate 95%% intervals, profile-likelihood intervals, the hindcast "
                    "fitted on the early years and its forecast errors) to DIR/calibration/.")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"output folder; the report goes to DIR/calibration/ (default: "
                        f"./{DEFAULT_OUT})")
    p.add_argument("--settings", type=Path, default=None,
                   help="calibration settings (default: model/calibration-settings.yaml)")
    p.add_argument("--no-write", action="store_true",
                   help="fit and report without replacing model/calibration.yaml")
    from sim.model.yamlio import LANGS

    p.add_argument("--lang", choices=LANGS, default=LANGS[0],
                   help=f"language of the console table (default: {LANGS[0]})")
    add_formats(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run)


def calibration_yaml(doc: dict) -> str:
    import yaml

    return HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def run(args) -> int:
    import numpy as np

    from sim.analysis.calibration import calibrate, calibration_document, load_settings
    from sim.analysis.hindcast import hindcast, hindcast_document
    from sim.analysis.profile_likelihood import profile_document, profile_likelihood
    from sim.present.atomic import atomic_write_text
    from sim.present.calibration_report import write_report
    from sim.present.outdir import claim
    from sim.present.tables import format_table
    from sim.simulate import Simulator

    say = Progress(args.quiet)
    claim(args.out, "calibrate", ["calibration"])  # check --out before any work
    date = _dt.date.today().isoformat()
    settings = load_settings(args.settings)
    say("compiling model (batch engine, without earlier calibration)")
    simulator = Simulator("batch", use_calibration=False)
    cal = calibrate(settings, simulator=simulator, say=say)
    r = cal.result
    cols = sorted(set(cal.observations["variable"]))
    runs = {key: simulator.run(settings.scenario, return_columns=cols,
                               assumptions={k: np.array([v]) for k, v in zip(r.ids, x,
                                                                             strict=True)})
            for key, x in (("calibrated", r.x), ("initial", r.x0))}
    hind = prof = None
    if settings.hindcast_until is not None:
        say(f"hindcast: fitting rows up to {settings.hindcast_until}, forecasting "
            f"{settings.forecast_years[0]}-{settings.forecast_years[1]}")
        hind = hindcast(cal)
    if settings.profile_points:
        say(f"profile likelihood: {settings.profile_points} points per assumption")
        prof = profile_likelihood(cal, say=say)
    final = write_report(cal, runs, Path(args.out) / "calibration", date, hind, prof,
                         lang=args.lang, formats=args.formats)
    say(f"report -> {final}")
    if not args.no_write:
        doc = calibration_document(cal, date)
        if prof is not None:
            for aid, entry in profile_document(prof).items():
                doc["estimates"][aid].update(entry)
        if hind is not None:
            doc["hindcast"] = hindcast_document(hind)
        atomic_write_text(paths.CALIBRATION_FILE, calibration_yaml(doc))
        say(f"estimates -> {paths.CALIBRATION_FILE}")
    print(format_table(cal.statistics_by_status, args.lang))
    print()
    print(format_table(r.table().drop(columns=["warning"]), args.lang))
    for aid, warning in zip(r.ids, r.warnings, strict=True):
        if warning:
            print(f"! {aid}: {warning}")
    if prof is not None:
        print()
        print(format_table(prof.table.drop(columns=["note", "max_deviance"]), args.lang))
    if hind is not None:
        print(f"\nhindcast: fit up to {hind.until}, forecast {hind.window[0]}-{hind.window[1]}"
              f" (held at .mdl values: {', '.join(hind.fixed) or 'none'})")
        print(format_table(hind.statistics, args.lang))
    print(f"\n-> {final}")
    return 0
