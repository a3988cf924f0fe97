"""The briefing's words: the fixed texts (group brief of model/words.yaml), the generated
headline and findings of page 1, and the table of what each scenario assumes.

Every sentence is built from the numbers the page's tables show (the central run, P(met)
with the ensemble's N and Monte Carlo standard error, the fiscal cost, the change against the
reference, the Shapley attribution), in the page's language.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.model.declarations.words import in_group
from sim.model.declarations.words import word as word_of
from sim.present.labels import format_number, label, unit_label
from sim.scenarios.loader import year_range

word = in_group("brief")


def probability(row: pd.Series) -> str:
    """P(met) with its Monte Carlo standard error: ``"37% ± 2%"``; ``"<1%"``/``">99%"`` near
    the ends (a finite sample never shows 0 % or 100 %)."""
    p, se = float(row["probability"]), float(row["mc_se"])
    shown = "<1%" if p < 0.005 else ">99%" if p > 0.995 else f"{p:.0%}"
    return f"{shown} ± {se:.0%}"


def _sep(lang: str) -> str:
    return word_of("punctuation.list", lang)


def _samples(brief: Any, sid: str) -> int:
    return int(brief.uncertainty[sid].results.sizes["sample"])


def _met(brief: Any, sid: str) -> dict[str, bool]:
    probs = brief.uncertainty[sid].probabilities
    return {t.indicator: bool(t.met(float(probs.loc[t.indicator, "central"])))
            for t in brief.targets.items}


def headline(brief: Any, lang: str) -> str:
    """One sentence: how many targets the first scenario meets in the central forecast and
    the chance of meeting all of them (with N)."""
    # lazy: pulls xarray (90 ms)
    from sim.analysis.outcomes.targets import ALL_TARGETS

    sc = brief.scenarios[0]
    t = brief.targets
    met = _met(brief, sc.id)
    p = probability(brief.uncertainty[sc.id].probabilities.loc[ALL_TARGETS])
    key = "headline_all" if all(met.values()) else "headline_some"
    return word(key, lang, scenario=sc.label(lang), year=t.year, n=len(t.items),
                met=sum(met.values()), p=p, samples=_samples(brief, sc.id))


def findings(brief: Any, lang: str) -> list[str]:
    """Two or three sentences per scenario: the targets met (and missed) with their P(met);
    the fiscal cost and the extra money against the reference; the change against the
    reference and the lever group it comes from most."""
    out = []
    for sc in brief.scenarios:
        out.append(_targets_sentence(brief, sc, lang))
        cost = _cost_sentence(brief, sc, lang)
        if cost:
            out.append(cost)
        if brief.reference is not None:
            out.append(_change_sentence(brief, sc, lang))
    return out


def _targets_sentence(brief: Any, sc: Any, lang: str) -> str:
    t = brief.targets
    probs = brief.uncertainty[sc.id].probabilities
    met = _met(brief, sc.id)
    name = {i.indicator: label(i.label, lang) for i in t.items}
    each = _sep(lang).join(f"{name[i]} {probability(probs.loc[i])}" for i in name)
    hit = [name[i] for i, m in met.items() if m]
    text = (word("finding_met", lang, scenario=sc.label(lang), year=t.year,
                 met=_sep(lang).join(hit), probs=each) if hit
            else word("finding_none", lang, scenario=sc.label(lang), year=t.year, probs=each))
    missed = [name[i] for i, m in met.items() if not m]
    if hit and missed:
        text += (" " if lang == "en" else "") + word("finding_missed", lang,
                                                     missed=_sep(lang).join(missed))
    return text


def _cost_sentence(brief: Any, sc: Any, lang: str) -> str | None:
    # lazy: pulls xarray (112 ms); breaks the cycle brief_text <-> brief
    from sim.present.documents.brief import fiscal_costs

    costs = fiscal_costs(brief)
    if sc.id not in costs:
        return None
    extra = ""
    ref = brief.reference
    if ref is not None and ref.id in costs:
        d = costs[sc.id] - costs[ref.id]
        extra = word("finding_extra", lang, ref=ref.label(lang), amount=format_number(abs(d)),
                     sign=word("more" if d >= 0 else "less", lang),
                     more_less=word("more" if d >= 0 else "less", lang))
    return word("finding_cost", lang, start=brief.targets.plan.start, year=brief.targets.year,
                cost=format_number(costs[sc.id]), extra=extra)


def _change_sentence(brief: Any, sc: Any, lang: str) -> str:
    t = brief.targets
    ref = brief.reference
    p = brief.uncertainty[sc.id].probabilities
    q = brief.uncertainty[ref.id].probabilities
    parts = []
    for item in t.items:
        a, b = float(p.loc[item.indicator, "central"]), float(q.loc[item.indicator, "central"])
        rel = f" ({a / b - 1:+.0%})" if b else ""
        parts.append(f"{label(item.label, lang)} {a - b:+,.0f} {unit_label(item.unit, lang)}"
                     f"{rel}")
    text = word("finding_change", lang, ref=ref.label(lang), year=t.year,
                changes=_sep(lang).join(parts))
    att = brief.attributions.get(sc.id)
    if att is not None and len(att.shapley):
        total = att.total.reindex(att.shapley.columns).abs()
        weight = (att.shapley.abs() / total.where(total > 0)).fillna(0).sum(axis=1)
        group = str(weight.idxmax())
        ind = str((att.shapley.loc[group].abs() / total.where(total > 0)).fillna(0).idxmax())
        item = t[ind]
        text += (" " if lang == "en" else "") + word(
            "finding_driver", lang, group=label(brief.groups.get(group, group), lang),
            indicator=label(item.label, lang),
            value=f"{float(att.shapley.loc[group, ind]):+,.0f} {unit_label(item.unit, lang)}")
    return text


# -- what each scenario assumes ------------------------------------------------------------------
def _value(x: float) -> str:
    x = float(x)
    return f"{x:,.0f}" if x.is_integer() else format_number(x) if abs(x) >= 1 else f"{x:.3g}"


def change_rows(changes: list[Any], lang: str, ref_name: str, sc_name: str,
                parameters: Any) -> pd.DataFrame:
    """One row per lever and run of consecutive years in which the scenario holds one value:
    the lever (its declared label; marked when its path in the plan is an assumption of the
    scenario: ``plan_value: assumed`` in model/parameters.yaml), the years ("from <year>" when
    the run reaches the last year a scenario can set), the reference's value (first to last
    when it moves within the run) and the scenario's."""
    last = year_range()[1]
    rows = []
    for ch in changes:
        lever = parameters.levers[ch.lever]
        name = label(lever.label, lang) + (word("assumed", lang) if lever.assumed_in_plan else "")
        runs: list[list[Any]] = []
        for y, a, b in zip(ch.years, ch.reference.to_numpy(), ch.scenario.to_numpy(),
                           strict=True):
            if runs and y == runs[-1][1] + 1 and b == runs[-1][3]:
                runs[-1][1], runs[-1][2][1] = y, a
            else:
                runs.append([y, y, [a, a], b])
        for first, end, (a0, a1), b in runs:
            years = (word("from_year", lang, first=first) if end == last and end > first
                     else str(first) if first == end else f"{first}–{end}")
            ref = _value(a0) if a0 == a1 else f"{_value(a0)} → {_value(a1)}"
            rows.append({word("lever", lang): name, word("years", lang): years,
                         word("reference_value", lang, ref=ref_name): ref,
                         word("scenario_value", lang, scenario=sc_name): _value(b)})
            name = ""   # the lever's name once, on its first row
    return pd.DataFrame(rows)


def player_rows(att: Any, labels: dict[str, Any], parameters: Any, lang: str) -> pd.DataFrame:
    """The Shapley players of an attribution: each lever group and the levers it moves
    (shares included)."""
    return pd.DataFrame([{word("group", lang): label(labels.get(g, g), lang),
                          word("levers", lang): _sep(lang).join(
                              label(parameters.levers[lid].label, lang)
                              if lid in parameters.levers else lid for lid in ls)}
                         for g, ls in att.groups.items()])
