"""``plansim uncertainty``: Monte Carlo over the uncertain assumptions for one or more scenarios.

Writes, atomically, ``DIR/uncertainty/``:

- ``percentiles.csv``: scenario, indicator, time, P5, P25, P50, P75, P95;
- ``probabilities.csv``: per scenario the probability of meeting each target in the target year
  and all of them together, with its Monte Carlo standard error;
- ``first_year.csv``: per scenario and indicator, the share of the samples (0-1) that first
  reach the target in each year (and ``not by <horizon>``);
- ``comparison.csv``: P5/P50/P95 in the target year and probabilities side by side across
  scenarios;
- ``samples.csv``: the sampled assumption values of each scenario's ensemble;
- ``conditioning.csv``: per scenario, the posterior draws run and how many fail a check
  (reported, never dropped); ``history_match.csv``: the posterior's origin, data cut-off and
  data hash (see :mod:`sim.analysis.ensembles.conditioning`);
- ``uncertainty.xlsx``: the summary the console prints, the indicators by year (central and
  percentiles), then the tables above (those over 5,000 rows or 50,000 cells, such as the
  samples of a large ensemble, in CSV only) and units;
- ``fan_<scenario>_<zh|en>.png`` (``.svg``, ``.pdf`` with ``--formats``): fan charts of the
  indicators with their targets.

Indicators, targets and years: model/targets.yaml.
"""

from __future__ import annotations

from pathlib import Path

from sim.cli.common import Progress, add_common, check_distinct, chunk_size, sample_count, seed


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    p = sub.add_parser(
        "uncertainty", help="Monte Carlo: percentiles, probability of meeting the targets",
        description="Sample the uncertain assumptions (scenarios/uncertainty.yaml), run each "
                    "scenario once per sample and write percentiles over time, the probability "
                    "of meeting each target of model/targets.yaml and all of them together "
                    "(with Monte Carlo "
                    "standard errors), the first year each target is reached, fan charts "
                    "(zh and en; PNG, --formats for SVG or PDF), CSV and Excel into "
                    "DIR/uncertainty/. The "
                    "ensemble is N draws of the posterior (model/posterior.csv.gz, plansim "
                    "calibrate; N and seed of the canonical ensemble: the ensemble: section of "
                    "the uncertainty file). 'central' is the central run (posterior-median "
                    "assumptions, plansim run); P50 the posterior median. All scenarios run the "
                    "same draws (common random numbers): a scenario's figures do not depend on "
                    "the others in the call.")

    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="scenario files or ids in scenarios/ (e.g. plan baseline)")
    p.add_argument("--samples", type=sample_count, default=None,
                   help="number of samples (default: the canonical ensemble's N, "
                        "scenarios/uncertainty.yaml ensemble.samples)")
    p.add_argument("--seed", type=seed, default=None,
                   help="random seed (default: the canonical ensemble's seed); the same seed "
                        "gives the same numbers, locally or on Dask")
    p.add_argument("--sampling", choices=("lhs", "sobol"), default="lhs",
                   help="design of the prior-only ensemble (--unconditioned): Latin hypercube "
                        "(default) or scrambled Sobol sequence")
    p.add_argument("--spec", type=Path, default=None,
                   help="uncertainty file (default scenarios/uncertainty.yaml)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="run on a dask.distributed cluster, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--chunk-size", type=chunk_size, default=None,
                   help="samples per engine call (bounds memory; default 4096)")
    p.add_argument("--unconditioned", action="store_true",
                   help="sample the prior only, without the posterior (for comparison)")
    add_common(p)
    p.set_defaults(func=run)




def run(args) -> int:
    from sim.analysis.ensembles.conditioning import HistoryMatch, central_run
    from sim.analysis.ensembles.conditioning_settings import load_conditioning
    from sim.analysis.ensembles.ensemble import check_request, shared_simulator, simulate_design
    from sim.analysis.ensembles.uncertainty import compute, tables
    from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
    from sim.analysis.outcomes.targets import derived_variables
    from sim.model.declarations.targets import load_targets
    from sim.present.output.outdir import claim
    from sim.present.reports.uncertainty_report import summary_tables, write_outputs
    from sim.present.tabular.tables import format_tables
    from sim.scenarios import load_scenario

    say = Progress(args.quiet)
    scenarios = [load_scenario(r) for r in args.scenarios]  # validate all before running any
    check_distinct(scenarios)
    canon = load_conditioning(args.spec)
    args.samples = canon.samples if args.samples is None else args.samples
    args.seed = canon.seed if args.seed is None else args.seed
    if args.sampling == "sobol" and args.unconditioned:
        from sim.analysis.ensembles.sampling import check_power_of_two

        check_power_of_two(args.samples)
    claim(args.out, "uncertainty", ["uncertainty"])  # check --out before any work
    spec = load_uncertainty(args.spec)
    settings = None if args.unconditioned else canon
    targets = load_targets()
    say(f"{spec.dim} uncertain assumptions, {args.samples} samples "
        f"({'prior ' + args.sampling if settings is None else 'posterior draws'}), "
        f"seed {args.seed}, engine {args.engine}"
        + (f", scheduler {args.scheduler}" if args.scheduler else "")
        + ("" if settings else ", unconditioned (prior only)"))
    simulator = shared_simulator(args.engine)
    match = None
    cols = list(targets.indicators)
    if settings is not None:
        match = HistoryMatch.from_history(
            list(simulator.info.index), None, settings, say=say)
        cols = sorted(set(cols) | set(match.variables))
    costs = derived_variables(targets, simulator.info.index)   # the central runs' fiscal cost
    check_request(args.samples, args.seed, runs_per_count=len(scenarios), dim=spec.dim,
                  columns=len(cols), engine=args.engine)  # before drawing the design

    def simulate(sc, design):
        return simulate_design(sc, design, return_columns=cols, engine=args.engine,
                               scheduler=args.scheduler, chunk_size=args.chunk_size,
                               progress=None if not args.quiet else False)

    results = compute(scenarios, spec, targets, samples=args.samples, seed=args.seed,
                      sampling=args.sampling, simulate=simulate, say=say, match=match,
                      central=lambda sc: central_run(simulator, sc,
                                                     list(dict.fromkeys(cols + costs))))
    names = {s.id: s.label(args.lang) for s in scenarios}
    frames = tables(results, targets)             # once, for the console and the files
    summary = summary_tables(results, targets, args.lang, names, frames)
    for r in results:
        n = r.results.sizes["sample"]
        c = r.conditioned
        how = (f"N = {n} posterior draws (seed {args.seed}, origin {c.match.posterior.origin}); "
               f"{c.screened_out} fail a check (reported, kept)"
               if c is not None else f"N = {n}, prior only (unconditioned)")
        print(f"{names[r.scenario]}:\n  {how}; P(met) ± its Monte Carlo standard error "
              f"sqrt(p(1-p)/N); central = the central run (posterior-median assumptions), "
              f"P50 = the posterior median")
    print("\n" + format_tables(summary, args.lang), flush=True)   # before the files
    final = write_outputs(results, targets, Path(args.out) / "uncertainty",
                          scenario_names={s.id: s.name for s in scenarios}, say=say,
                          lang=args.lang, summary=summary, frames=frames,
                          formats=args.formats)
    print(f"\n-> {final}")
    say("done")
    return 0
