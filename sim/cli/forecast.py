"""``plansim forecast``: store today's history-conditioned forecast as a dated vintage.

Writes, atomically, ``DIR/<date>/`` (default ``forecasts/`` at the repository root):
``forecast.csv`` (scenario, indicator, year from the plan's start to the horizon, central, P5, P25, P50, P75, P95) and
``meta.yaml`` (hashes of model, data and calibration, seed, samples, survivors, date, version);
see :mod:`sim.analysis.vintage`. Score it later with ``plansim score``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sim import paths
from sim.cli.common import Progress, add_engine, sample_count, seed

DEFAULT_SAMPLES = 1000


def add_parser(sub) -> None:
    p = sub.add_parser(
        "forecast", help="store a dated forecast vintage (central and conditioned bands)",
        description="Run the history-conditioned ensemble of the baseline and plan scenarios "
                    "and store, per indicator (the targets and the reported indicators of "
                    "model/targets.yaml) and year (the plan's start to the horizon), the central value (the calibrated run) and "
                    "P5/P25/P50/P75/P95, with the hashes of model, data and calibration, as "
                    "DIR/<date>/forecast.csv and meta.yaml. The same seed gives the same "
                    "numbers.")
    from sim.analysis.sampling import DEFAULT_SEED

    p.add_argument("--samples", type=sample_count, default=DEFAULT_SAMPLES,
                   help=f"history-consistent samples per scenario (default {DEFAULT_SAMPLES})")
    p.add_argument("--seed", type=seed, default=DEFAULT_SEED,
                   help=f"random seed (default {DEFAULT_SEED})")
    p.add_argument("--out", type=Path, default=paths.FORECASTS_DIR,
                   help="directory of vintages (default: forecasts/ at the repository root)")
    add_engine(p, help="simulation engine (default: the compiled batch engine)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.analysis.conditioning import HistoryMatch, central_run, load_conditioning
    from sim.analysis.ensemble import history_simulate, shared_simulator, simulate_design
    from sim.analysis.uncertainty_spec import load_uncertainty
    from sim.analysis.vintage import SCENARIOS, forecast_indicators, make_forecast, write_vintage
    from sim.model.targets import load_targets
    from sim.present.outdir import claim, owned_dir
    from sim.scenarios import load_scenario

    say = Progress(args.quiet)
    scenarios = [load_scenario(s) for s in SCENARIOS]
    spec = load_uncertainty()
    settings = load_conditioning()
    indicators = forecast_indicators(load_targets())
    simulator = shared_simulator(args.engine)
    match = HistoryMatch.from_history(
        list(simulator.info.index),
        (simulator.control("initial_time"), simulator.control("final_time")), settings)
    cols = sorted(set(indicators) | set(match.variables))
    date = dt.datetime.now(dt.UTC).date().isoformat()
    claim(args.out, "forecast", [date])  # check --out before any work

    def simulate(sc, design):
        return simulate_design(sc, design, return_columns=cols, engine=args.engine,
                               progress=None if not args.quiet else False)

    table, meta = make_forecast(scenarios, spec, indicators, samples=args.samples,
                                seed=args.seed, simulate=simulate,
                                central=lambda sc: central_run(simulator, sc, cols),
                                match=match, date=date, say=say,
                                history=history_simulate(
                                    match, engine=args.engine,
                                    progress=None if not args.quiet else False))
    final = Path(args.out) / date
    with owned_dir(final) as tmp:
        write_vintage(tmp, table, meta)
    for sid, s in meta["survivors"].items():
        print(f"{sid}: {s['kept']} history-consistent samples kept, {s['passed']} of "
              f"{s['drawn']} drawn passed the history match")
    print(f"-> {final}")
    return 0
