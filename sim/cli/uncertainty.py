"""``plansim uncertainty``: Monte Carlo over the uncertain assumptions for one or more scenarios.

Writes, atomically, ``DIR/uncertainty/``:

- ``percentiles.csv``: scenario, indicator, time, P5, P25, P50, P75, P95;
- ``probabilities.csv``: per scenario the probability of meeting each target in the target year
  and all of them together, with its Monte Carlo standard error;
- ``first_year.csv``: per scenario and indicator, how many samples first reach the target in each
  year (and ``not by <horizon>``);
- ``comparison.csv``: P5/P50/P95 in the target year and probabilities side by side across
  scenarios;
- ``samples.csv``: the sampled assumption values of each scenario's ensemble;
- ``conditioning.csv``: per scenario, how many prior samples were drawn, passed the history
  match and were kept; ``history_match.csv``: the history rows compared (see
  :mod:`sim.analysis.conditioning`);
- ``uncertainty.xlsx``: all of the above, one sheet each;
- ``fan_<scenario>_<zh|en>.png/.svg``: fan charts of the indicators with their targets.

Indicators, targets and years: model/targets.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.uncertainty import compute  # noqa: F401  (the library function this command runs)
from sim.cli.common import Progress, add_common, check_distinct, chunk_size, sample_count, seed

DEFAULT_SAMPLES = 1000


def add_parser(sub) -> None:
    from sim.analysis.sampling import DEFAULT_SEED

    p = sub.add_parser(
        "uncertainty", help="Monte Carlo: percentiles, probability of meeting the targets",
        description="Sample the uncertain assumptions (scenarios/uncertainty.yaml), run each "
                    "scenario once per sample and write percentiles over time, the probability "
                    "of meeting each target of model/targets.yaml and all of them together "
                    "(with Monte Carlo "
                    "standard errors), the first year each target is reached, fan charts "
                    "(zh and en, PNG and SVG), CSV and Excel into DIR/uncertainty/. The "
                    "ensemble is conditioned on the history (history matching, settings in "
                    "the conditioning: section of the uncertainty file): prior samples are "
                    "drawn until N are not ruled out. 'central' is the calibrated run (plansim "
                    "run). All scenarios draw the same prior samples (common random numbers).")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="scenario files or ids in scenarios/ (e.g. plan baseline)")
    p.add_argument("--samples", type=sample_count, default=DEFAULT_SAMPLES,
                   help=f"number of samples (default {DEFAULT_SAMPLES}; a power of two "
                        "with --sampling sobol)")
    p.add_argument("--seed", type=seed, default=DEFAULT_SEED,
                   help=f"random seed (default {DEFAULT_SEED}); the same seed gives the same "
                        "numbers, locally or on Dask")
    p.add_argument("--sampling", choices=("lhs", "sobol"), default="lhs",
                   help="Latin hypercube (default) or scrambled Sobol sequence")
    p.add_argument("--spec", type=Path, default=None,
                   help="uncertainty file (default scenarios/uncertainty.yaml)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="run on a dask.distributed cluster, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--chunk-size", type=chunk_size, default=None,
                   help="samples per engine call (bounds memory; default 4096)")
    p.add_argument("--unconditioned", action="store_true",
                   help="sample the prior only, without the history match (for comparison)")
    add_common(p)
    p.set_defaults(func=run)




def tables(results: Sequence[Any], targets: Any) -> dict[str, pd.DataFrame]:
    """The output tables by name (see the module docstring)."""
    from sim.analysis.conditioning import summary_table
    from sim.analysis.uncertainty import compare_scenarios

    pct, probs, first = [], [], []
    for r in results:
        for ind in r.percentiles.data_vars:
            da = r.percentiles[ind]
            wide = pd.DataFrame(da.values.T, index=da["time"].values,
                                columns=[f"P{int(q)}" for q in da["percentile"].values])
            if r.central is not None and ind in r.central:
                wide.insert(0, "central", r.central[ind].isel(sample=0)
                            .sel(time=wide.index.values).values)
            wide.index.name = "time"
            wide = wide.reset_index()
            wide.insert(0, "indicator", ind)
            wide.insert(0, "scenario", r.scenario)
            pct.append(wide)
        probs.append(r.probabilities.reset_index().assign(scenario=r.scenario))
        fy = r.first_years.copy()
        fy.index = fy.index.map(str)
        first.append(fy.reset_index().assign(scenario=r.scenario))
    front = ["scenario"]
    comparison = compare_scenarios({r.scenario: r.results for r in results}, targets)
    comparison.insert(1, "central", [
        float(r.probabilities.loc[ind, "central"]) if "central" in r.probabilities else None
        for r in results for ind in r.probabilities.index])
    out = {
        "percentiles": pd.concat(pct, ignore_index=True),
        "probabilities": _front(pd.concat(probs, ignore_index=True), front),
        "first_year": _front(pd.concat(first, ignore_index=True), front),
        "comparison": comparison.reset_index(),
        "samples": pd.concat([r.design.frame().reset_index().assign(scenario=r.scenario)
                              for r in results], ignore_index=True),
    }
    out["samples"] = _front(out["samples"], front)
    conds = [r.conditioned for r in results if r.conditioned is not None]
    if conds:
        out["conditioning"] = summary_table(conds, conds[0].match.settings)
        out["history_match"] = conds[0].match.table()
    return out


def _front(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return df[cols + [c for c in df.columns if c not in cols]]


def fan_figure(result: Any, targets: Any, lang: str, title: str | None = None):
    """Fan charts, one panel per indicator (targets drawn) and a panel of probabilities, in a
    grid of three columns sized from the number of indicators."""
    import math

    from sim.present.analysis_charts import fan_chart
    from sim.present.chartutil import new_figure

    nrows = math.ceil((len(targets.items) + 1) / 3)
    fig, axes = new_figure(nrows, 3, figsize=(15, 4.25 * nrows))
    flat = axes.ravel()
    central = {"zh": "中心预测（校准运行）", "en": "central (calibrated run)"}[lang]
    for ax, t in zip(flat[:len(targets.items)], targets.items, strict=True):
        da = result.percentiles[t.indicator]
        fan_chart(ax, da, target=t, target_year=targets.year, lang=lang, title=t.label,
                  plan_period=targets.plan.period)
        if result.central is not None and t.indicator in result.central:
            c = result.central[t.indicator].isel(sample=0)
            ax.plot(c["time"].values, c.values, color="black", lw=1.0, ls="--", label=central)
        if result.conditioned is not None:
            obs = result.conditioned.match.obs
            obs = obs[obs["variable"] == t.indicator]
            ax.plot(obs["year"], obs["value"], "o", color="tab:red", ms=4)
    for ax in flat[len(targets.items):]:
        ax.set_axis_off()
    _probability_panel(flat[len(targets.items)], result, targets, lang)
    if title:
        fig.suptitle(title)
    return fig


def _probability_panel(ax, result: Any, targets: Any, lang: str) -> None:
    """Text panel: probability (± Monte Carlo standard error) of meeting each target."""
    from sim.present.labels import label

    probs = result.probabilities
    head = {"zh": f"{targets.year}年达标概率", "en": f"P(target met in {targets.year})"}[lang]
    lines = [head, ""]
    for t in targets.items:
        p = probs.loc[t.indicator]
        lines.append(f"{label(t.label, lang)}: {p['probability']:.0%} ± {p['mc_se']:.0%}")
    p = probs.loc["all_targets"]
    every = {"zh": f"{targets.count_word('zh')}项全部达标",
             "en": f"All {targets.count_word('en')}"}[lang]
    lines += ["", f"{every}: {p['probability']:.0%} ± {p['mc_se']:.0%}"]
    ax.text(0.02, 0.95, "\n".join(lines), va="top", ha="left", fontsize=11,
            transform=ax.transAxes)


def write_outputs(results: Sequence[Any], targets: Any, final: Path, *,
                  scenario_names: dict[str, dict[str, str]] | None = None,
                  say: Callable[[str], None] = print) -> Path:
    """Write every table (CSV and one workbook) and the fan charts into ``final`` atomically."""
    from sim.present.atomic import save_figure
    from sim.present.labels import LANGS
    from sim.present.outdir import owned_dir
    from sim.present.tables import write_csv, write_excel

    frames = tables(results, targets)
    with owned_dir(final) as tmp:
        for name, df in frames.items():
            write_csv(df, tmp / f"{name}.csv")
        write_excel(tmp / "uncertainty.xlsx", frames)
        for r in results:
            for lang in LANGS:
                name = (scenario_names or {}).get(r.scenario, {}).get(lang, r.scenario)
                n = r.results.sizes["sample"]
                note = {"zh": "历史匹配，虚线为中心预测（校准运行），圆点为历史数据",
                        "en": "history-matched; dashed: central (calibrated run); dots: "
                              "history"}[lang] if r.conditioned is not None else ""
                fig = fan_figure(r, targets, lang, title=f"{name} (N = {n}) {note}".strip())
                save_figure(fig, tmp / f"fan_{r.scenario}_{lang}")
                say(f"{r.scenario}: fan charts ({lang}) written")
    return Path(final)


def run(args) -> int:
    from sim.analysis.conditioning import HistoryMatch, central_run, load_conditioning
    from sim.analysis.ensemble import check_memory, saved_times, shared_simulator, simulate_design
    from sim.analysis.uncertainty_spec import load_uncertainty
    from sim.model.targets import load_targets
    from sim.present.outdir import claim
    from sim.present.tables import format_table
    from sim.scenarios import load_scenario

    say = Progress(args.quiet)
    scenarios = [load_scenario(r) for r in args.scenarios]  # validate all before running any
    check_distinct(scenarios)
    if args.sampling == "sobol":
        from sim.analysis.sampling import check_power_of_two

        check_power_of_two(args.samples)
    claim(args.out, "uncertainty", ["uncertainty"])  # check --out before any work
    spec = load_uncertainty(args.spec)
    settings = None if args.unconditioned else load_conditioning(args.spec)
    targets = load_targets()
    say(f"{spec.dim} uncertain assumptions, {args.samples} samples ({args.sampling}), "
        f"seed {args.seed}, engine {args.engine}"
        + (f", scheduler {args.scheduler}" if args.scheduler else "")
        + ("" if settings else ", unconditioned (prior only)"))
    simulator = shared_simulator(args.engine)
    match = None
    cols = list(targets.indicators)
    if settings is not None:
        match = HistoryMatch.from_history(
            list(simulator.info.index),
            (simulator.control("initial_time"), simulator.control("final_time")), settings)
        cols = sorted(set(cols) | set(match.variables))
    check_memory(args.samples, runs_per_count=len(scenarios), dim=spec.dim, columns=len(cols),
                 times=saved_times(args.engine))  # before drawing the design

    def simulate(sc, design):
        return simulate_design(sc, design, return_columns=cols, engine=args.engine,
                               scheduler=args.scheduler, chunk_size=args.chunk_size,
                               progress=None if not args.quiet else False)

    results = compute(scenarios, spec, targets, samples=args.samples, seed=args.seed,
                      sampling=args.sampling, simulate=simulate, say=say, match=match,
                      central=lambda sc: central_run(simulator, sc, cols))
    final = write_outputs(results, targets, Path(args.out) / "uncertainty",
                          scenario_names={s.id: s.name for s in scenarios}, say=say)
    for r in results:
        p = r.probabilities[["target", "central", "probability", "mc_se"]]
        n = r.results.sizes["sample"]
        c = r.conditioned
        how = (f"N = {n} history-consistent of {c.drawn} drawn ({c.passed} passed)"
               if c is not None else f"N = {n}, unconditioned")
        print(f"\n{r.scenario}: P(target met in {targets.year}), {how}; central = the "
              "calibrated run")
        print(format_table(p, args.lang))
    print(f"\n-> {final}")
    say("done")
    return 0
