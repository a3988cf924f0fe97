"""The meeting briefing (``plansim brief``): what it shows, computed once for every language.

:func:`compute_brief` runs the calibrated (central) run of each scenario and the
history-conditioned ensemble through the same library call as ``plansim uncertainty``
(:func:`sim.analysis.ensembles.uncertainty.compute` with :mod:`sim.analysis.ensembles.conditioning`), and, with a
reference (any scenario: ``brief mine --against plan`` compares the two directly), the Shapley
attribution of each scenario's change to the lever groups through the library call of
``plansim sensitivity --method shapley``, and the levers each scenario changes against its
reference year by year (:mod:`sim.analysis.outcomes.lever_paths`). The page is laid out by
:mod:`sim.present.documents.brief_page`; its words and sentences come from :mod:`sim.present.documents.brief_text`.

Tables: the targets (per target: central value in the target year, P(met) with its Monte
Carlo standard error, the year reached, the change against the reference), the fiscal cost of
the plan years (the ``plan_sum`` derived outcome of model/targets.yaml) and the change in each
indicator per 亿元 of extra money, the assumptions most rank-correlated with the indicators
(:mod:`sim.analysis.ensembles.influence`), the model's key caveats (model/caveats.yaml) and the data
sources as full citations (the ``source`` column of model/data/history.csv).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.ensembles.conditioning import HistoryMatch, central_run
from sim.analysis.ensembles.conditioning_settings import load_conditioning
from sim.analysis.ensembles.ensemble import history_simulate, shared_simulator, simulate_design
from sim.analysis.ensembles.influence import rank_influence
from sim.analysis.ensembles.uncertainty import compute
from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
from sim.analysis.forecasts.vintage import file_hashes
from sim.analysis.outcomes.lever_paths import lever_changes
from sim.analysis.outcomes.targets import ALL_TARGETS, fiscal_cost, target_table
from sim.analysis.sensitivity import get_method
from sim.analysis.sensitivity.shapley import player_labels
from sim.model.cache import results
from sim.model.declarations.caveats import load_caveats
from sim.model.declarations.history import load_history
from sim.model.declarations.parameters import load_parameters
from sim.model.declarations.targets import load_targets
from sim.present.documents.brief_text import probability, word
from sim.present.labels import check_lang, declared_labels, format_number, label, unit_label

TOP_ASSUMPTIONS = 10


@dataclass
class Brief:
    """What the briefing shows, computed once for every language."""

    scenarios: list[Any]           # the scenarios of the page (Scenario objects)
    reference: Any                 # the reference scenario or None
    targets: Any
    runs: dict[str, Any]           # scenario id -> calibrated run (all variables)
    uncertainty: dict[str, Any]    # scenario id -> UncertaintyResult
    seed: int
    samples: int
    date: str
    hashes: dict[str, str | None]
    attributions: dict[str, Any] = field(default_factory=dict)  # scenario id -> Attribution
    groups: dict[str, Any] = field(default_factory=dict)  # attribution player -> labels
    #: scenario id -> (the scenario it is described against or None for the model's
    #: defaults, the levers it changes: sim.analysis.outcomes.lever_paths.LeverChange)
    changes: dict[str, tuple[Any, list[Any]]] = field(default_factory=dict)
    parameters: Any = None

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.scenarios]


def compute_brief(scenarios: Sequence[Any], reference: Any = None, *,
                  samples: int | None = None, seed: int | None = None,
                  engine: str = "batch", say: Callable[[str], None] = lambda _m: None) -> Brief:
    """Run the central runs and the posterior ensembles (the library call of ``plansim
    uncertainty``, common random numbers across scenarios); ``samples``/``seed`` default to the
    canonical ensemble's (``ensemble:`` of scenarios/uncertainty.yaml), as every command's.

    The computed part (runs, ensembles, attribution, lever changes: the same in every
    language) is kept in the user's cache (:mod:`sim.model.cache.results`) by the scenarios'
    contents, the reference, ``samples``, ``seed``, ``engine``, the code and the model's files;
    asked again (another language, an edited page), it is read back bit for bit."""
    canon = load_conditioning()
    samples = canon.samples if samples is None else samples
    seed = canon.seed if seed is None else seed
    targets = load_targets()
    question = ([(sc.id, sc.levers, sc.assumptions) for sc in scenarios],
                None if reference is None else (reference.id, reference.levers,
                                                reference.assumptions),
                samples, seed, engine)
    done = results.load("brief", question)
    if done is None:
        done = _compute(scenarios, reference, targets, canon, samples, seed, engine, say)
        results.store("brief", question, done)
    else:
        say("the runs, ensembles and attribution of this question, as computed before "
            "(kept in the cache)")
    parameters = load_parameters()
    changes = {sid: (reference if reference is not None and sid != reference.id else None, ch)
               for sid, ch in done["changes"].items()}
    return Brief(list(scenarios), reference, targets, done["runs"], done["uncertainty"],
                 seed, samples, dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"), file_hashes(),
                 done["attributions"], done["groups"], changes, parameters)


def _compute(scenarios: Sequence[Any], reference: Any, targets: Any, canon: Any, samples: int,
             seed: int, engine: str, say: Callable[[str], None]) -> dict[str, Any]:
    """The computed part of the brief (see :func:`compute_brief`)."""
    sim = shared_simulator(engine)   # the ensemble's: one compiled model, one set of inputs
    every = list(scenarios) + ([reference] if reference is not None else [])
    say("central runs")
    runs = {sc.id: central_run(sim, sc) for sc in every}   # the central runs, all variables
    match = HistoryMatch.from_history(
        list(sim.info.index), (sim.control("initial_time"), sim.control("final_time")),
        canon)
    cols = sorted(set(targets.indicators) | set(match.variables))

    def simulate(sc, design):
        return simulate_design(sc, design, return_columns=cols, engine=engine, progress=False)

    results = compute(every, load_uncertainty(), targets, samples=samples, seed=seed,
                      sampling="lhs", simulate=simulate, say=say, match=match,
                      central=lambda sc: runs[sc.id][cols],   # not run a second time
                      history=history_simulate(match, engine=engine, progress=False))
    attributions = {}
    if reference is not None:   # the library call of `plansim sensitivity --method shapley`
        shapley = get_method("shapley")
        for sc in scenarios:
            say(f"attribution of {sc.id} against {reference.id}")
            attributions[sc.id] = shapley.attribute(
                reference, sc, simulator=sim, parameters=sim.parameters,
                indicators=targets.indicators, year=targets.year)
    changes = {sid: ch for sid, (_, ch) in assumed_changes(sim, scenarios, reference).items()}
    return {"runs": runs, "uncertainty": {r.scenario: r for r in results},
            "attributions": attributions, "groups": player_labels(sim.parameters),
            "changes": changes}


def assumed_changes(sim: Any, scenarios: Sequence[Any], reference: Any
                    ) -> dict[str, tuple[Any, list[Any]]]:
    """The levers each scenario changes against the reference (the reference itself, and every
    scenario when there is none, against the model's defaults)."""
    out = {}
    for sc in [*scenarios, *([reference] if reference is not None else [])]:
        against = reference if reference is not None and sc is not reference else None
        base = against if against is not None else replace(sc, id=f"{sc.id}.defaults",
                                                           levers={}, extends=None)
        out[sc.id] = (against, lever_changes(sim, sc, base))
    return out


# -- tables ------------------------------------------------------------------------------------
def fiscal_costs(brief: Brief) -> dict[str, float]:
    """The fiscal cost (the ``plan_sum`` derived outcome) of each calibrated run, 亿元
    (:func:`sim.analysis.outcomes.targets.fiscal_cost`)."""
    out = {}
    for sid, ds in brief.runs.items():
        v = fiscal_cost(ds, brief.targets)
        if v is not None:
            out[sid] = float(np.asarray(v).ravel()[0])
    return out


def headline_table(brief: Brief, sid: str, lang: str) -> pd.DataFrame:
    """One row per target (and all together): central value, P(met) ± s.e., year reached,
    change against the reference."""
    t = brief.targets
    probs = brief.uncertainty[sid].probabilities
    reached = target_table(brief.runs[sid], t).set_index("indicator")["year_reached"]
    ref = brief.reference.id if brief.reference is not None else None
    ref_probs = brief.uncertainty[ref].probabilities if ref else None
    rows = []
    for item in t.items:
        ind = item.indicator
        central = float(probs.loc[ind, "central"])
        row = {
            word("indicator", lang): label(item.label, lang),
            word("target", lang): f"{format_number(item.target)} {unit_label(item.unit, lang)}",
            word("central", lang, year=t.year): format_number(central),
            word("pmet", lang): probability(probs.loc[ind]),
            word("reached", lang): (str(reached[ind]) if not pd.isna(reached[ind])
                                    else word("never", lang, h=_last_year(brief, sid))),
        }
        if ref:
            rc = float(ref_probs.loc[ind, "central"])
            row[word("change", lang, ref=brief.reference.label(lang))] = (
                f"{central - rc:+,.0f} ({(central / rc - 1):+.0%})" if rc else
                f"{central - rc:+,.0f}")
        rows.append(row)
    every = {word("indicator", lang): word("all", lang), word("pmet", lang):
             probability(probs.loc[ALL_TARGETS])}
    rows.append(every)
    return pd.DataFrame(rows).fillna("")


def _last_year(brief: Brief, sid: str) -> int:
    return int(round(float(brief.runs[sid]["time"].values[-1])))


def fiscal_table(brief: Brief, lang: str) -> pd.DataFrame | None:
    """One column per scenario: fiscal cost, extra cost against the reference and the change
    of each target indicator (central, target year) per 亿元 of extra money."""
    costs = fiscal_costs(brief)
    if not costs:
        return None
    t = brief.targets
    ref = brief.reference
    rows: dict[str, dict[str, str]] = {}
    for sc in brief.scenarios:
        col = sc.label(lang)
        rows.setdefault(word("cost", lang, start=t.plan.start, year=t.year), {})[col] = (
            format_number(costs[sc.id]))
        if ref is None or ref.id not in costs:
            continue
        extra = costs[sc.id] - costs[ref.id]
        rows.setdefault(word("extra", lang, ref=ref.label(lang)), {})[col] = f"{extra:+,.1f}"
        p = brief.uncertainty[sc.id].probabilities
        q = brief.uncertainty[ref.id].probabilities
        for item in t.items:
            d = float(p.loc[item.indicator, "central"]) - float(q.loc[item.indicator, "central"])
            head = (f"{label(item.label, lang)}: {word('per', lang, year=t.year)}"
                    f" ({unit_label(item.unit, lang)})")
            rows.setdefault(head, {})[col] = format_number(d / extra) if abs(extra) > 1e-9 else "-"
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = ""
    return out.reset_index()


def influence_table(brief: Brief, sid: str, lang: str, top: int = TOP_ASSUMPTIONS
                    ) -> pd.DataFrame:
    """The ``top`` assumptions most rank-correlated with the indicators in the target year
    over the conditioned ensemble of ``sid`` (:func:`sim.analysis.ensembles.influence.rank_influence`),
    labelled in ``lang``."""
    rho = rank_influence(brief.uncertainty[sid], brief.targets, top).round(2)
    assumptions = load_parameters().assumptions
    rho.columns = [label(item.label, lang) for item in brief.targets.items]
    rho.index = [f"{label(assumptions[a].label, lang)} ({a})" if a in assumptions else a
                 for a in rho.index]
    rho.index.name = word("assumption", lang)
    return rho.reset_index()


def caveats(lang: str) -> list[str]:
    """The model's key caveats in ``lang`` (Markdown paragraphs), as model/caveats.yaml declares
    them."""
    check_lang(lang)
    return [c[lang] for c in load_caveats()]


def inline_html(markdown: str) -> str:
    """One paragraph of the caveats' Markdown as HTML: escaped, ``**bold**`` and ```code```."""
    text = html.escape(markdown, quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def sources(lang: str = "en") -> pd.DataFrame:
    """The data sources of model/data/history.csv as full citations (its ``source`` column,
    read by :func:`sim.model.declarations.history.load_history`), with the indicators, rows and years each
    gives; headers in ``lang``."""
    hist = load_history()
    names = {k: label(v, lang) for k, v in declared_labels().items()}
    names.update({t.indicator: label(t.label, lang) for t in load_targets().items})

    def name(ind: str) -> str:   # a plan target row is named by its indicator
        base = ind.removesuffix("_target")
        return names.get(ind) or (names[base] + (f"（{word('target', lang)}）" if lang == "zh"
                                                 else f" ({word('target', lang).lower()})")
                                  if base in names else ind)

    rows = []
    for src, g in hist.groupby("source", sort=False):
        a, b = int(g["year"].min()), int(g["year"].max())
        inds = list(dict.fromkeys(name(str(i)) for i in g["indicator"]))
        rows.append({word("source", lang): str(src), word("indicators", lang):
                     ("、" if lang == "zh" else ", ").join(inds),
                     word("rows", lang): len(g),
                     word("source_years", lang): f"{a}–{b}" if a != b else str(a)})
    return pd.DataFrame(rows)
