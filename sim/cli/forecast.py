"""``plansim forecast``: store today's forecast, from the posterior, as a dated vintage.

Writes, atomically, ``DIR/<date>/`` (default ``forecasts/`` at the repository root):
``forecast.csv`` (scenario, indicator, year from the plan's start to the horizon, central, P5,
P25, P50, P75, P95) and ``meta.yaml`` (origin, data cut-off, hashes of model, data and
posterior, seed, samples, date, version); see :mod:`sim.analysis.forecasts.vintage`. When
model/data/history.csv changed since the stored posterior (new outturns appended), the
posterior is estimated again first (with a notice), so the vintage is conditioned on them.
Score it later with ``plansim score``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sim import paths
from sim.cli.common import Progress, add_engine, sample_count, seed


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    p = sub.add_parser(
        "forecast", help="store a dated forecast vintage (central and conditioned bands)",
        description="Run the baseline and plan scenarios on the canonical ensemble of "
                    "posterior draws and store, per indicator (the targets and the reported "
                    "indicators of model/targets.yaml) and year (the plan's start to the "
                    "horizon), the central run (posterior-median assumptions) and "
                    "P5/P25/P50/P75/P95, with the origin, the data cut-off and the hashes of "
                    "model, data and posterior, as DIR/<date>/forecast.csv and meta.yaml. If "
                    "model/data/history.csv changed since the stored posterior, it is "
                    "estimated again first. The same seed gives the same numbers.")
    p.add_argument("--samples", type=sample_count, default=None,
                   help="posterior draws per scenario (default: the canonical ensemble's N)")
    p.add_argument("--seed", type=seed, default=None,
                   help="random seed (default: the canonical ensemble's seed)")
    p.add_argument("--out", type=Path, default=paths.FORECASTS_DIR,
                   help="directory of vintages (default: forecasts/ at the repository root)")
    add_engine(p, help="simulation engine (default: the compiled batch engine)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.analysis.ensembles.conditioning import HistoryMatch, central_run
    from sim.analysis.ensembles.conditioning_settings import load_conditioning
    from sim.analysis.ensembles.ensemble import shared_simulator, simulate_design
    from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
    from sim.analysis.forecasts.vintage import (
        SCENARIOS,
        forecast_indicators,
        make_forecast,
        write_vintage,
    )
    from sim.model.declarations.targets import load_targets
    from sim.present.output.outdir import claim, owned_dir
    from sim.scenarios import load_scenario

    say = Progress(args.quiet)
    scenarios = [load_scenario(s) for s in SCENARIOS]
    spec = load_uncertainty()
    settings = load_conditioning()
    samples = settings.samples if args.samples is None else args.samples
    seed_ = settings.seed if args.seed is None else args.seed
    indicators = forecast_indicators(load_targets())
    date = dt.datetime.now(dt.UTC).date().isoformat()
    claim(args.out, "forecast", [date])  # check --out before any work
    from sim.analysis.estimation.posterior_file import canonical_posterior

    posterior = canonical_posterior(say=say)   # re-estimated first if the history changed
    simulator = shared_simulator(args.engine)  # reads the central values written by it
    match = HistoryMatch.from_history(list(simulator.info.index), None, settings,
                                      posterior=posterior)
    cols = sorted(set(indicators) | set(match.variables))

    def simulate(sc, design):
        return simulate_design(sc, design, return_columns=cols, engine=args.engine,
                               progress=None if not args.quiet else False)

    table, meta = make_forecast(scenarios, spec, indicators, samples=samples, seed=seed_,
                                simulate=simulate,
                                central=lambda sc: central_run(simulator, sc, cols),
                                match=match, date=date, say=say)
    final = Path(args.out) / date
    with owned_dir(final) as tmp:
        write_vintage(tmp, table, meta)
    print(f"origin {meta['origin']} (data cut-off {meta['data_cutoff']}); N = {samples} "
          f"posterior draws, seed {seed_}; central = the central run (posterior-median "
          "assumptions)")
    for sid, s in meta["checks"].items():
        print(f"{sid}: {s['failing_a_check']} draws fail a check (reported, kept)")
    print(f"-> {final}")
    return 0
