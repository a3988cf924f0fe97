"""The summary tables of ``run``, ``compare``, ``uncertainty`` and ``sensitivity``: built once
from the library's results, printed on the console (:func:`sim.present.tabular.tables.format_tables`)
and written as the first sheet of the command's workbook (:mod:`sim.present.tabular.workbook`), so the
two never differ.

Per target (model/targets.yaml, declared order): its label and unit in the reader's language,
the target, the value in the target year, the share of the target reached, the year it is first
met and, for ensembles, P(met); and the fiscal cost of the plan years (the ``plan_sum`` outcome
of model/targets.yaml, 亿元) per scenario.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sim.analysis.outcomes.targets import (
    ALL_TARGETS,
    at_year,
    fiscal_cost,
    fiscal_cost_outcome,
    target_table,
    year_reached,
)
from sim.analysis.sensitivity.study import RARE
from sim.model.declarations.targets import Targets
from sim.model.declarations.words import entry, group, in_group, texts
from sim.present.labels import label, unit_label
from sim.present.tabular.columns import Col, Table

WORDS = group("summary")
word = in_group("summary")


def _words(key: str, **fmt: Any) -> dict[str, str]:
    return texts(f"summary.{key}", **fmt)


def _indicator_cols(targets: Targets, lang: str) -> tuple[dict[str, list], dict[str, Col]]:
    data = {"indicator": [label(t.label, lang) for t in targets],
            "unit": [unit_label(t.unit, lang) for t in targets],
            "target": [t.target for t in targets]}
    cols = {"indicator": Col(WORDS["indicator"], kind="text"),
            "unit": Col(WORDS["unit"], kind="text"),
            "target": Col(_words("target", year=targets.year))}
    return data, cols


def _last(ds: xr.Dataset) -> int:
    return int(round(float(ds["time"].values[-1])))


def run_summary(ds: xr.Dataset, targets: Targets, lang: str, scenario: str = ""
                ) -> Table:
    """Per target of one run: target, value in the target year, share of the target, the year
    first met (:func:`sim.analysis.outcomes.targets.target_table`)."""
    tt = target_table(ds, targets)
    data, cols = _indicator_cols(targets, lang)
    y = targets.year
    data.update(value=tt[f"value_{y}"].to_numpy(), share=tt["ratio"].to_numpy(),
                reached=tt["year_reached"].to_numpy())
    cols.update(value=Col(_words("value", year=y)), share=Col(WORDS["share"], kind="share"),
                reached=Col(WORDS["reached"], kind="year"))
    title = word("targets_title", lang, year=y)
    return Table(pd.DataFrame(data), cols, f"{scenario}: {title}" if scenario else title)


def fiscal_costs(runs: Mapping[str, xr.Dataset], targets: Targets) -> dict[str, float]:
    """The fiscal cost of the plan years of each run (the central run: first sample), 亿元."""
    out = {}
    for sid, ds in runs.items():
        v = fiscal_cost(ds, targets)
        if v is not None:
            out[sid] = float(np.asarray(v).ravel()[0])
    return out


def fiscal_table(runs: Mapping[str, xr.Dataset], targets: Targets, lang: str,
                 names: Mapping[str, str], references: Sequence[str] = ()) -> Table | None:
    """One row per scenario: the fiscal cost of the plan years (亿元), the extra cost against
    each reference and the number of targets met in the target year; None when no fiscal cost
    is declared or the runs lack its variables."""
    d = fiscal_cost_outcome(targets)
    costs = fiscal_costs(runs, targets)
    if d is None or not costs:
        return None
    span = texts("summary_parts.span", start=targets.plan.start, end=targets.year)
    head = {lang: f"{label(d.label, lang)} {span[lang]}" for lang in span}
    rows = {"scenario": [names.get(s, s) for s in costs], "cost": list(costs.values())}
    cols = {"scenario": Col(WORDS["scenario"], kind="text"), "cost": Col(head, d.unit)}
    for ref in references:
        if ref in costs and any(s != ref for s in costs):   # never a scenario against itself
            rows[f"extra_{ref}"] = [c - costs[ref] if s != ref else np.nan
                                    for s, c in costs.items()]
            cols[f"extra_{ref}"] = Col(_words("extra", ref=names.get(ref, ref)), d.unit)
    rows["met"] = [f"{_met(runs[s], targets)}/{len(targets)}" for s in costs]
    cols["met"] = Col(_words("met", year=targets.year), kind="text")
    return Table(pd.DataFrame(rows), cols, word("fiscal_title", lang))


def _met(ds: xr.Dataset, targets: Targets) -> int:
    """Targets met in the target year by one run (sample 0)."""
    return sum(bool(t.met(float(np.asarray(at_year(ds[t.indicator], t.year)).ravel()[0])))
               for t in targets)


# -- compare -----------------------------------------------------------------------------------
def compare_summary(table: pd.DataFrame, runs: Mapping[str, xr.Dataset], targets: Targets,
                    lang: str, names: Mapping[str, str], references: Sequence[str]
                    ) -> list[Table]:
    """The tables of ``plansim compare`` from its comparison table
    (:func:`sim.present.reports.run_report.compare_table`): values in the target year, share of the
    target, the change against each reference, the year each target is met, the fiscal cost."""
    y = targets.year
    ids = list(runs)
    base, base_cols = _indicator_cols(targets, lang)
    out = []

    def block(title: str, keys: dict[str, tuple[str, Col]], with_target: bool = True) -> Table:
        data = {k: v for k, v in base.items() if with_target or k != "target"}
        cols = {k: v for k, v in base_cols.items() if with_target or k != "target"}
        for key, (column, col) in keys.items():
            data[key] = table[column].to_numpy()
            cols[key] = col
        return Table(pd.DataFrame(data), cols, title)

    out.append(block(word("values_title", lang, year=y),
                     {s: (f"{s}_{y}", Col(names[s])) for s in ids}))
    out.append(block(word("share_title", lang, year=y),
                     {s: (f"{s}_ratio", Col(names[s], kind="share")) for s in ids}, False))
    for ref in references:
        others = [s for s in ids if s != ref]
        keys: dict[str, tuple[str, Col]] = {}
        for s in others:
            keys[f"{s}_d"] = (f"{s}_minus_{ref}", Col(_words("minus", sc=names[s])))
            keys[f"{s}_p"] = (f"{s}_vs_{ref}_pct", Col(_words("pct", sc=names[s]),
                                                       kind="change"))
        out.append(block(word("change_title", lang, year=y, ref=names[ref]), keys, False))
    last = max(_last(ds) for ds in runs.values())
    out.append(block(word("reached_title", lang, last=last),
                     {s: (f"{s}_year_reached", Col(names[s], kind="year")) for s in ids},
                     False))
    fiscal = fiscal_table(runs, targets, lang, names, references)
    if fiscal is not None:
        out.append(fiscal)
    return out


# -- uncertainty -------------------------------------------------------------------------------
def uncertainty_summary(result: Any, comparison: pd.DataFrame, targets: Targets, lang: str,
                        name: str) -> Table:
    """Per target of one scenario's ensemble (rows of the ``comparison`` table of
    :func:`sim.analysis.ensembles.uncertainty.tables`): the central run (posterior-median values), its
    share of the target and the year it is met, P5/P50/P95 and P(met) with its Monte Carlo
    standard error; and a row for all targets together."""
    y = targets.year
    rows = comparison[comparison["scenario"] == result.scenario].set_index("indicator")
    data, cols = _indicator_cols(targets, lang)
    central = result.central
    inds = targets.indicators
    cval = [float(rows.loc[i, "central"]) if "central" in rows
            and rows.loc[i, "central"] is not None else np.nan for i in inds]
    data["central"] = cval
    data["share"] = [v / t.target for v, t in zip(cval, targets, strict=True)]
    data["reached"] = [float(year_reached(central[t.indicator].isel(sample=0), t))
                       if central is not None and t.indicator in central else np.nan
                       for t in targets]
    for q in ("P5", "P50", "P95"):
        data[q] = [float(rows.loc[i, q]) for i in inds]
    data["pmet"] = [float(rows.loc[i, "probability"]) for i in inds]
    data["mc_se"] = [float(rows.loc[i, "mc_se"]) for i in inds]
    frame = pd.DataFrame(data)
    every = {"indicator": word("all", lang, n=targets.count_word(lang)),
             "pmet": float(rows.loc[ALL_TARGETS, "probability"]),
             "mc_se": float(rows.loc[ALL_TARGETS, "mc_se"])}
    frame = pd.concat([frame, pd.DataFrame([every])], ignore_index=True)
    frame[["unit"]] = frame[["unit"]].fillna("")
    cols.update(central=Col(_words("central", year=y)), share=Col(WORDS["share"], kind="share"),
                reached=Col(WORDS["reached"], kind="year"),
                P5=Col("P5"), P50=Col("P50"), P95=Col("P95"),
                pmet=Col(WORDS["pmet"], kind="probability"),
                mc_se=Col(WORDS["mc_se"], kind="probability"))
    return Table(frame, cols, f"{name}: {word('targets_title', lang, year=y)}")


# -- sensitivity -------------------------------------------------------------------------------
def sensitivity_summary(central: xr.Dataset, indices: pd.DataFrame, index: str,
                        targets: Targets, lang: str, name: str,
                        labels: Mapping[str, Any], index_label: Any = None) -> Table:
    """Per target: the central run's value, share and year met (:func:`run_summary`) and the
    assumption with the largest ``index`` for that indicator (the ``indices`` table)."""
    t = run_summary(central, targets, lang)
    long = indices.set_index(["output", "parameter"])[index]
    tops, vals = _largest((long.loc[ind] if ind in long.index.get_level_values("output")
                           else pd.Series() for ind in targets.indicators), labels, lang)
    t.frame["top"] = tops
    t.frame["top_value"] = vals
    t.cols["top"] = Col(WORDS["top"], kind="text")
    shown = label(index_label or index, lang)
    t.cols["top_value"] = Col({lang: word("top_value", lang, index=shown)})
    t.title = f"{name}: {word('sensitivity_title', lang, year=targets.year)}"
    return t


def _largest(series, names: Mapping[str, Any], lang: str) -> tuple[list[str], list[float]]:
    """Of each series (one per indicator): the label of its entry largest in absolute value and
    that value ("" and NaN for an empty series)."""
    tops, vals = [], []
    for s in series:
        if s.empty:
            tops.append("")
            vals.append(np.nan)
            continue
        k = s.abs().idxmax()
        tops.append(label(names.get(k, k), lang))
        vals.append(float(s[k]))
    return tops, vals


def shapley_summary(att: Any, targets: Targets, lang: str, names: Mapping[str, str],
                    groups: Mapping[str, Any]) -> Table:
    """Per target: the reference's and the scenario's value in the target year, the
    difference and the lever group that contributes most (its Shapley value)."""
    data, cols = _indicator_cols(targets, lang)
    ref, sc = names["reference"], names["scenario"]
    inds = targets.indicators
    data.pop("target")
    cols.pop("target")
    data["reference"] = [float(att.baseline[i]) for i in inds]
    data["scenario"] = [float(att.plan[i]) for i in inds]
    data["difference"] = [float(att.total[i]) for i in inds]
    largest, share = _largest((att.shapley[i] if i in att.shapley else pd.Series(dtype=float)
                               for i in inds), groups, lang)
    data["largest"], data["its_share"] = largest, share
    cols.update(reference=Col(ref), scenario=Col(sc),
                difference=Col(WORDS["difference"]),
                largest=Col(WORDS["largest"], kind="text"), its_share=Col(WORDS["its_share"]))
    return Table(pd.DataFrame(data), cols,
                 word("shapley_title", lang, year=att.year, sc=sc, ref=ref))


def sensitivity_tables(central: xr.Dataset, tables: Mapping[str, pd.DataFrame], index: str,
                       targets: Targets, lang: str, name: str, labels: Mapping[str, Any],
                       sid: str = "", index_label: Any = None) -> list[Table]:
    """The summary of ``plansim sensitivity --method morris|sobol``: the targets of the
    central run with the most influential assumption (:func:`sensitivity_summary`), then the
    central run's fiscal cost."""
    out = [sensitivity_summary(central, tables["indices"], index, targets, lang, name, labels,
                               index_label)]
    fiscal = fiscal_table({sid or name: central}, targets, lang, {sid or name: name})
    return out + ([fiscal] if fiscal is not None else [])


RARE_WORDS = entry("summary_notes.rare")


def rare_text(share: float, lang: str) -> str:
    """What an outcome met (or missed) in almost no sample shows instead of indices."""
    met = share < 0.5
    what = entry("summary_parts.met" if met else "summary_parts.not_met")[lang]
    return RARE_WORDS[lang].format(share=f"{(share if met else 1 - share):.1%}", what=what,
                                   rare=f"{RARE:.0%}")


def indices_head(name: str, key: str, samples: int, lang: str) -> str:
    """The line above the console's table of sensitivity indices, in ``lang``."""
    return entry("summary_parts.indices_head")[lang].format(name=name, key=key, samples=samples)


def indices_table(tables: Mapping[str, pd.DataFrame], index: str, targets: Targets, lang: str,
                  labels: Mapping[str, Any], index_label: Any = None) -> Table:
    """``index`` of each assumption (rows, by label, the largest relative to each output's
    largest first) for each output (columns, by label)."""
    long = tables["indices"]
    rare = {}
    if "met_share" in long.columns:
        shares = long.dropna(subset=["met_share"]).groupby("output")["met_share"].first()
        rare = {str(k): float(v) for k, v in shares.items()}
        long = long[~long["output"].isin(list(rare))]
    wide = long.pivot(index="parameter", columns="output", values=index)
    order = [o for o in [*targets.indicators, *(d.id for d in targets.derived)]
             if o in wide.columns]
    wide = wide[order + [c for c in wide.columns if c not in order]]
    scaled = wide.abs() / wide.abs().max().replace(0, 1)      # rank on each output's own scale
    wide = wide.loc[scaled.max(axis=1).sort_values(ascending=False).index]
    names = targets.labels()
    frame = wide.reset_index()
    frame["parameter"] = [label(labels.get(k, k), lang) for k in frame["parameter"]]
    cols = {"parameter": Col(entry("summary_parts.assumption"), kind="text")}
    cols.update({o: Col(names.get(o, o)) for o in wide.columns})
    notes = [f"{label(names.get(o, o), lang)}: {rare_text(v, lang)}".replace("\n", " ")
             for o, v in rare.items()]
    return Table(frame, cols, "\n".join([label(index_label or index, lang), *notes]))

