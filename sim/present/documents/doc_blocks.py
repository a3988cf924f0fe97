"""The generated blocks of README.md and model/README.md: each number recomputed by the library
(the Chinese blocks of model/README.zh.md and the loop tables: :mod:`sim.present.documents.doc_blocks_zh`).

:func:`generators` maps each stable block name to a function returning the block's Markdown,
computed (through one shared :class:`~sim.present.documents.doc_context.DocContext`) from whatever the
model, the scenarios, the data and ``model/calibration.yaml`` are now. The documents'
ensemble is fixed in :data:`~sim.present.documents.doc_context.ENSEMBLE` and stated in the text with the
command that reproduces it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim import paths
from sim.analysis.diagnostics.checks import evaluate_all
from sim.analysis.diagnostics.timestep import TOLERANCE
from sim.analysis.ensembles.uncertainty import at_year
from sim.errors import DocumentError
from sim.model.declarations.checkspec import Checks, load_checks
from sim.model.declarations.history import load_history
from sim.model.declarations.numtext import format_range
from sim.present.documents.doc_blocks_zh import BLOCKS
from sim.present.documents.doc_caveats import BLOCKS as CAVEAT_BLOCKS
from sim.present.documents.doc_context import (
    ENSEMBLE,
    EXTREME_VARIABLES,
    DocContext,
    num,
)
from sim.present.documents.doc_ranges import BLOCKS as RANGE_BLOCKS
from sim.present.documents.docs import md_table, percent, signed_percent, wrap
from sim.present.labels import declared_labels, label
from sim.scenarios import load_scenario
from sim.scenarios.loader import read_scenario_file


# -- README.md ---------------------------------------------------------------------------------
def _comparison(c: str) -> str:
    return {">": ">", ">=": "≥"}.get(c, c)


def block_targets(ctx: DocContext) -> str:
    rows = [{"id": f"`{t.indicator}`", "indicator": f"{t.label['zh']} {t.label['en']}",
             f"{ctx.targets.year} target": f"{_comparison(t.comparison)} {num(t.target)} "
                                            f"{t.unit.replace('/Year', '/yr')}"}
            for t in ctx.targets]
    return md_table(pd.DataFrame(rows))


def _first_met(table: pd.DataFrame, ind: str, final: int) -> str:
    y = table.loc[ind, "year_reached"]
    return f"not by {final}" if pd.isna(y) else str(int(y))


def block_forecast(ctx: DocContext) -> str:
    year = ctx.targets.year
    unc = ctx.uncertainty

    se = max(float(r.probabilities["mc_se"].max()) for r in unc.values())
    n = ENSEMBLE["samples"]
    post = next(r.conditioned.match.posterior for r in unc.values()
                if r.conditioned is not None)
    head = (f"Central run (posterior-median assumptions; `plansim run`) and the probability of "
            f"meeting each {year} target over N = {n:,} posterior draws of the "
            f"{ctx.spec.dim} uncertain assumptions ({len(post.ids)} estimated from "
            f"`model/data/history.csv` by `plansim calibrate`, the others from their declared "
            f"priors; origin {post.origin}), the same draws in every scenario (`plansim "
            f"uncertainty {' '.join(ENSEMBLE['scenarios'])}`, the canonical ensemble: seed "
            f"{ENSEMBLE['seed']}; Monte Carlo standard error at most {100 * se:.1f} percentage "
            "points). Draws failing a check of `model/checks.yaml` are reported, not dropped; "
            + "; ".join(f"{sid}: {r.conditioned.screened_out:,} of {r.conditioned.kept:,}"
                        for sid, r in unc.items() if r.conditioned is not None) + ":")
    rows = []
    base, plan = ctx.tables["baseline"], ctx.tables["plan"]
    for t in ctx.targets:
        ind = t.indicator
        rows.append({"indicator": f"`{ind}`",
                     f"baseline {year}": num(base.loc[ind, f"value_{year}"]),
                     f"plan {year}": num(plan.loc[ind, f"value_{year}"]),
                     "plan: target first met": _first_met(plan, ind, ctx.final_year),
                     f"P(met {year}) baseline":
                         percent(unc["baseline"].probabilities.loc[ind, "probability"]),
                     f"P(met {year}) plan":
                         percent(unc["plan"].probabilities.loc[ind, "probability"])})
    rows.append({"indicator": f"all {ctx.targets.count_word('en')} together",
                 f"baseline {year}": "", f"plan {year}": "",
                 "plan: target first met": "",
                 f"P(met {year}) baseline":
                     percent(unc["baseline"].probabilities.loc["all_targets", "probability"]),
                 f"P(met {year}) plan":
                     percent(unc["plan"].probabilities.loc["all_targets", "probability"])})
    return head + "\n\n" + md_table(pd.DataFrame(rows))


def _shares(ctx: DocContext, sid: str) -> str:
    table = ctx.tables[sid]
    return ", ".join(f"`{t.indicator}` {percent(table.loc[t.indicator, 'ratio'])}"
                     for t in ctx.targets)


def block_plan_money(ctx: DocContext) -> str:
    year = ctx.targets.year
    lo, hi = ctx.extra_fiscal("plan-money")
    base, plan = ctx.tables["baseline"], ctx.tables["plan"]
    col = f"value_{year}"
    changes = ", ".join(f"`{t.indicator}` "
                        f"{signed_percent(plan.loc[t.indicator, col] / base.loc[t.indicator, col] - 1)}"
                        for t in ctx.targets)
    rd = plan.loc["rd_expenditure", f"value_{year}"]
    return (f"The plan against the baseline in {year}: {changes}. Its extra fiscal money "
            f"({format_range(lo, hi)} 亿元 a year in {ctx.targets.plan.start}-{year}, an assumed "
            "figure: the "
            f"plan says only 大幅提升) compares with {num(rd)} 亿元 of society-wide R&D in "
            f"{year}. Share of each target reached under the plan in {year}: "
            f"{_shares(ctx, 'plan')}.")


def block_scenarios(ctx: DocContext) -> str:
    """The scenario files, each with its English name and description (from the YAML)."""
    return "\n".join(f"- `{sc.id}`: {sc.name['en']}. {' '.join(sc.description.split())}"
                     for sc in ctx.scenarios)


# -- model/README.md ---------------------------------------------------------------------------
def block_model_elements(ctx: DocContext) -> str:
    doc = ctx.pysd_doc
    counts = doc["Type"].value_counts()
    stateful = doc[doc["Type"] == "Stateful"]["Subtype"].value_counts()
    subscripted = doc["Subscripts"].map(lambda s: bool(s)).any()
    kinds = ", ".join(f"{stateful[k]} {k.upper()}" for k in sorted(stateful.index))
    return (f"{'A subscripted' if subscripted else 'One unsubscripted'} model, {len(doc)} PySD "
            f"elements: {counts.get('Constant', 0)} constants (the four time controls among "
            f"them), {counts.get('Lookup', 0)} lookups, {counts.get('Auxiliary', 0)} "
            f"auxiliaries, {counts.get('Stateful', 0)} stateful elements ({kinds}).")


def block_time_controls(ctx: DocContext) -> str:
    c = ctx.simulator.control
    dt = c("time_step")
    frac = f" (1/{1 / dt:g})" if dt < 1 and float(1 / dt).is_integer() else ""
    return (f"`INITIAL TIME` {c('initial_time'):g}, `FINAL TIME` {c('final_time'):g}, "
            f"`SAVEPER` {c('saveper'):g}, `TIME STEP` {dt:g} year{frac}.")


def block_timestep_check(ctx: DocContext) -> str:
    df = ctx.step_check
    dt = ctx.simulator.control("time_step")
    ids = [s.id for s in ctx.scenarios]
    head = (f"**Time-step check** (batch engine, all {len(ids)} scenarios, max relative change "
            f"of any of the {len(ctx.targets.items)} indicators in {ctx.targets.year} when the "
            "step is halved):")
    rows = []
    for step, r in df.iterrows():
        bold = "**" if np.isclose(step, dt) else ""
        rows.append({"step -> half step": f"{bold}{step:g} -> {r['half']:g}{bold}",
                     **{i: f"{bold}{100 * r[i]:.2f}%{bold}" for i in ids}})
    own = float(df.loc[np.isclose(df.index, dt), ids].to_numpy().max())
    coarser = df[df.index > dt * 1.5]
    verdict = "meets" if own <= TOLERANCE else "fails"
    text = (f"Halving the model's step {dt:g} moves no indicator by more than {100 * own:.2f}%: "
            f"it {verdict} the {100 * TOLERANCE:g}% criterion.")
    if len(coarser):
        step = float(coarser.index.min())
        worst = float(coarser.loc[step, ids].max())
        text += (f" The next coarser step, {step:g}, "
                 f"{'meets' if worst <= TOLERANCE else 'fails'} it (largest change "
                 f"{100 * worst:.2f}%).")
    return head + "\n\n" + md_table(pd.DataFrame(rows)) + "\n\n" + text


def block_money_identity(ctx: DocContext) -> str:
    checks = load_checks()
    table = evaluate_all(Checks(conservation=checks.conservation), ctx.runs)
    worst = float(table["worst"].max()) if len(table) else np.nan
    return (f"In the batch-engine runs of all {len(ctx.runs)} scenarios the largest relative "
            f"residual is {worst:.1g}.")


def block_scenario_results(ctx: DocContext) -> str:
    year, final = ctx.targets.year, ctx.final_year
    ids = list(ctx.tables)
    rows = []
    for t in ctx.targets:
        row = {"indicator (target)": f"{t.indicator} ({t.comparison}{num(t.target)})"}
        row.update({f"{sid} {year}": num(ctx.tables[sid].loc[t.indicator, f"value_{year}"])
                    for sid in ids})
        row["first met: " + " / ".join(ids)] = " / ".join(
            _first_met(ctx.tables[sid], t.indicator, final).replace(f"not by {final}", "never")
            for sid in ids)
        rows.append(row)
    return (f"{year} values and the first year in which each indicator meets its {year} target "
            f"(\"never\": not by {final}):\n\n" + md_table(pd.DataFrame(rows)))


def block_reading(ctx: DocContext) -> str:
    year, name = ctx.targets.year, "reading"
    lo, hi = ctx.extra_fiscal(name)
    base, plan = ctx.tables["baseline"], ctx.tables["plan"]
    met_base = [t.indicator for t in ctx.targets if t.met(base.loc[t.indicator, f"value_{year}"])]
    hist = load_history()
    turnover = hist[(hist["indicator"] == "tech_contract_turnover")
                    & (hist["status"] == "sourced")].sort_values("year")
    first, last = turnover.iloc[0], turnover.iloc[-1]
    years = [y for y in range(year - 2, year + 1)]

    def mean(sid: str, var: str) -> float:
        return float(np.mean([ctx.value(sid, var, y, name) for y in years]))

    lines = [
        f"- Extra fiscal S&T money under the plan (plan minus baseline `fiscal_st_funds`): "
        f"{format_range(lo, hi)} 亿元 a year in {ctx.targets.plan.start}-{year}, against "
        f"{num(plan.loc['rd_expenditure', f'value_{year}'])} 亿元 of society-wide R&D in "
        f"{year}.",
        f"- Share of each target reached in {year}: baseline {_shares(ctx, 'baseline')}; plan "
        f"{_shares(ctx, 'plan')}.",
        f"- Met already in the baseline in {year}: "
        f"{', '.join(f'`{i}`' for i in met_base) or 'none'}. Sourced contract-turnover "
        f"history: {num(first['value'])} 亿元 ({int(first['year'])}) to {num(last['value'])} "
        f"亿元 ({int(last['year'])}); implied {year - 5} base "
        f"{num(ctx.targets['tech_contract_turnover'].base)} 亿元.",
        f"- Payout ratios under the plan, mean of {years[0]}-{years[-1]}: enterprise incentives "
        f"{mean('plan', 'enterprise_payout_ratio'):.2f} "
        f"({ctx.value('plan', 'enterprise_payout_ratio', ctx.final_year, name):.2f} in "
        f"{ctx.final_year}), tech-finance subsidies {mean('plan', 'finance_payout_ratio'):.2f}.",
        "- Idle equity-fund cash in " + str(year) + ": " + ", ".join(
            f"{sid} {num(ctx.value(sid, 'equity_fund_cash', year, name))} 亿元"
            for sid in ctx.runs if sid != "baseline") + ".",
    ]
    return "\n".join(lines)


def block_extreme_conditions(ctx: DocContext) -> str:
    year, name = ctx.targets.year, "extreme-conditions"
    stocks = list(ctx.simulator.info.index[ctx.simulator.info["kind"] == "stock"])
    parts, problems = [], []
    for case, levers in ctx.extremes.items():
        ds = ctx.simulator.run(load_scenario("plan"), levers=levers)
        changes = []
        for var, text in EXTREME_VARIABLES.items():
            new = float(ds[var].isel(sample=0).sel(time=year, method="nearest"))
            changes.append(f"{text} {signed_percent(new / ctx.value('plan', var, year, name) - 1)}")
        first = min(next(iter(lv)) for lv in levers.values())
        parts.append(f"{case} from {first} ({', '.join(changes)})")
        negative = [s for s in stocks if s in ds and float(ds[s].min()) < -1e-9]
        problems += [f"{case}: negative {s}" for s in negative]
    verdict = ("no stock negative and no NaN or inf in either run (a NaN or inf stops every run, "
               "see `divergence` in `model/checks.yaml`)" if not problems
               else "problems: " + "; ".join(problems))
    return (f"Changes in {year} against the plan: " + "; ".join(parts) + f". {verdict[0].upper()}"
            f"{verdict[1:]}.")


def fit_summary(cal: dict) -> pd.DataFrame:
    """Per status and series of ``model/calibration.yaml``'s fit: rows, the median absolute
    error of the posterior median (%) and the share of draws within 2 sd."""
    rows = [{"status": status, **r} for status, part in (cal.get("fit") or {}).items()
            for r in part]
    if not rows:
        raise DocumentError(f"{paths.CALIBRATION_FILE} has no fit; run plansim calibrate")
    df = pd.DataFrame(rows).assign(abs_err=lambda d: d["error_pct"].abs())
    g = df.groupby(["status", "indicator"], sort=True)
    return pd.DataFrame({"n": g.size(), "median_abs_error_pct": g["abs_err"].median(),
                         "within_2sd": g["within_2sd"].mean()}).reset_index()


def block_fit(ctx: DocContext) -> str:
    cal = ctx.calibration
    fs = fit_summary(cal)
    rows = [{"status": r.status,
             "series": f"{r.indicator} {label(declared_labels().get(r.indicator, r.indicator), 'zh')}",
             "n": str(int(r.n)), "median abs. error of the posterior median (%)":
                 f"{r.median_abs_error_pct:.3g}",
             "share of draws within 2 sd": f"{r.within_2sd:.2f}"} for r in fs.itertuples()]
    lik = cal.get("likelihood") or {}
    est = cal.get("estimates") or {}
    moved = [k for k, e in est.items() if e.get("moved_by_data")]
    head = (f"Estimation of {cal.get('date', '?')} (origin {cal.get('origin', '?')}, data "
            f"cut-off {cal.get('data_cutoff', '?')}): {lik.get('n_rows', '?')} rows in the "
            f"likelihood ({lik.get('n_lower_bounds', '?')} lower bounds), "
            f"{lik.get('n_implied_checks', '?')} implied bases reported apart as checks; "
            f"{len(est)} assumptions estimated, {len(moved)} moved by the data "
            f"({', '.join(f'`{k}`' for k in moved)}).")
    return head + "\n\n" + md_table(pd.DataFrame(rows))


def block_ensemble_range(ctx: DocContext) -> str:
    year = ctx.targets.year
    v = at_year(ctx.uncertainty["plan"].results["tech_firms"], year)
    p5, p95 = np.nanpercentile(v, [5, 95])
    return (f"- The documents' ensemble (README: {ENSEMBLE['samples']} samples of the "
            f"{ctx.spec.dim} uncertain assumptions) gives tech firms in {year} under the plan a "
            f"P5-P95 range of {format_range(p5, p95)}: the firm-birth elasticities and saturation "
            "scale are weakly known.")


def _setting(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v:g}" for k, v in value.items()) + "}"
    return f"{value:g}"


def block_scenario_levers(ctx: DocContext) -> str:
    """What each scenario file sets itself (levers and assumptions), and what it extends."""
    rows = []
    for sc in ctx.scenarios:
        raw = read_scenario_file(sc.source) or {}
        own = {**(raw.get("levers") or {}), **(raw.get("assumptions") or {})}
        rows.append({"scenario": f"`{sc.id}`", "extends": f"`{raw['extends']}`"
                     if raw.get("extends") else "",
                     "sets": "; ".join(f"`{k}` {_setting(v)}" for k, v in own.items())
                     or "nothing (the `.mdl` defaults)"})
    return md_table(pd.DataFrame(rows))


def block_constants(ctx: DocContext) -> str:
    doc = ctx.pysd_doc
    doc = doc[doc["Type"].isin(["Constant", "Lookup"])]
    rows = []
    for _, r in sorted(doc.iterrows(), key=lambda kv: kv[1]["Real Name"]):
        value = "lookup" if r["Type"] == "Lookup" else f"{float(r['value']):g}"
        units = r["Units"] if isinstance(r["Units"], str) else ""
        comment = r["Comment"] if isinstance(r["Comment"], str) else ""
        rows.append({"Vensim name": r["Real Name"], "value": value, "units": units,
                     "source / reasoning": " ".join(comment.split())})
    return md_table(pd.DataFrame(rows))


def generators(ctx: DocContext | None = None) -> dict[str, Callable[[], str]]:
    """Block name -> a function computing its Markdown (sharing one :class:`DocContext`)."""
    ctx = ctx or DocContext()
    table = {
        "targets": block_targets, "forecast": block_forecast, "plan-money": block_plan_money,
        "model-elements": block_model_elements, "time-controls": block_time_controls,
        "timestep-check": block_timestep_check, "money-identity": block_money_identity,
        "scenario-results": block_scenario_results, "reading": block_reading,
        "extreme-conditions": block_extreme_conditions, "fit": block_fit,
        "ensemble-range": block_ensemble_range, "constants": block_constants,
        "scenarios": block_scenarios, "scenario-levers": block_scenario_levers,
    }
    table.update(BLOCKS)
    table.update(RANGE_BLOCKS)
    table.update(CAVEAT_BLOCKS)
    return {name: (lambda f=f: wrap(f(ctx))) for name, f in table.items()}

