"""The meeting briefing (``plansim brief``): one self-contained HTML page and its PDF.

:func:`compute_brief` runs the calibrated (central) run of each scenario and the
history-conditioned ensemble through the same library call as ``plansim uncertainty``
(:func:`sim.analysis.uncertainty.compute` with :mod:`sim.analysis.conditioning`), and, with a
reference, the Shapley attribution of each scenario's change to the lever groups through the
library call of ``plansim sensitivity --method shapley``; it gathers what the page shows; :func:`render_html` lays it out in one language (charts inline as SVG, no
external resource); :func:`write_pdf` prints the HTML with WeasyPrint when it is installed.

Contents: the headline table (per target: central value in the target year, P(met) with its
Monte Carlo standard error, the year reached, the change against the reference), the fiscal
cost of the plan years (the ``plan_sum`` derived outcome of model/targets.yaml) and the change
in each indicator per 亿元 of extra money, the indicator chart with 5-95 % bands, the lever
attribution waterfalls (the figure of ``plansim sensitivity --method shapley``), the
assumptions most rank-correlated with the indicators (:mod:`sim.analysis.influence`), the
model's key caveats in the page's language (model/caveats.yaml), the data sources (model/data/history.csv) and the sha256 of the model, data
and calibration files with the date.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import paths
from sim.present.labels import check_lang, format_number, label, unit_label

DEFAULT_SAMPLES = 500
TOP_ASSUMPTIONS = 10

WORDS = {
    "title": {"zh": "科技强市行动计划情景简报", "en": "S&T action plan: scenario briefing"},
    "headline": {"zh": "目标完成情况", "en": "Targets"},
    "indicator": {"zh": "指标", "en": "Indicator"},
    "target": {"zh": "目标", "en": "Target"},
    "central": {"zh": "{year}年中心预测", "en": "Central {year}"},
    "pmet": {"zh": "达标概率", "en": "P(met)"},
    "reached": {"zh": "达标年份", "en": "Year reached"},
    "change": {"zh": "较{ref}变化", "en": "Change vs {ref}"},
    "all": {"zh": "全部目标", "en": "All targets"},
    "never": {"zh": "{h}年前未达标", "en": "not by {h}"},
    "fiscal": {"zh": "财政成本与单位投入效果", "en": "Fiscal cost and result per 亿元"},
    "cost": {"zh": "{start}—{year}年财政总成本（亿元）",
             "en": "Total fiscal cost {start}-{year} (亿元)"},
    "extra": {"zh": "较{ref}新增（亿元）", "en": "Extra vs {ref} (亿元)"},
    "per": {"zh": "每亿元新增投入带来的{year}年变化", "en": "Change in {year} per 亿元 extra"},
    "chart": {"zh": "指标走势（中位数与5%–95%区间，历史匹配集合）",
              "en": "Indicators (median and 5-95% band, history-matched ensemble)"},
    "waterfall": {"zh": "各类政策对变化的贡献：{scenario}较{ref}",
                  "en": "What each lever group adds: {scenario} against {ref}"},
    "waterfall_note": {
        "zh": "{year}年各指标从{ref}到{scenario}的变化，按{n}类政策杠杆分解（Shapley值：逐一"
              "加入各类杠杆的平均边际贡献，各项之和等于总变化）；校准后的中心运行。",
        "en": "The change in each indicator in {year} from {ref} to {scenario}, split among the "
              "{n} lever groups (Shapley values: the average gain from adding a group, over "
              "every order of adding them; they sum to the total change); calibrated central "
              "runs."},
    "influence": {"zh": "影响最大的假设", "en": "Most influential assumptions"},
    "influence_note": {
        "zh": "{scenario}情景历史匹配集合中，各假设取值与{year}年指标值的Spearman秩相关系数；"
              "按绝对值最大者排序。",
        "en": "Spearman rank correlation between each assumption and the {year} indicator "
              "values over the history-matched ensemble of {scenario}; sorted by the largest "
              "absolute value."},
    "assumption": {"zh": "假设", "en": "Assumption"},
    "caveats": {"zh": "模型的主要局限（model/caveats.yaml）",
                "en": "Key caveats of the model (model/caveats.yaml)"},
    "sources": {"zh": "数据来源（model/data/history.csv）",
                "en": "Data sources (model/data/history.csv)"},
    "rows": {"zh": "行数", "en": "rows"},
    "version": {"zh": "版本", "en": "Version"},
    "method": {
        "zh": "概率来自历史匹配集合（N = {n}，抽样 {drawn} 个，种子 {seed}，拉丁超立方）；"
              "中心预测为校准运行；± 为蒙特卡洛标准误。生成日期：{date}。",
        "en": "Probabilities from the history-matched ensemble (N = {n} of {drawn} drawn, seed "
              "{seed}, Latin hypercube); central = the calibrated run; ± is the Monte Carlo "
              "standard error. Generated {date}."},
}


def word(key: str, lang: str, **fmt: Any) -> str:
    return WORDS[key][lang].format(**fmt)


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

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.scenarios]


def compute_brief(scenarios: Sequence[Any], reference: Any = None, *,
                  samples: int = DEFAULT_SAMPLES, seed: int | None = None,
                  engine: str = "batch", say: Callable[[str], None] = lambda _m: None) -> Brief:
    """Run the calibrated runs and the history-conditioned ensembles (the library call of
    ``plansim uncertainty``, common random numbers across scenarios)."""
    from sim.analysis.conditioning import HistoryMatch, central_run, load_conditioning
    from sim.analysis.ensemble import history_simulate, simulate_design
    from sim.analysis.sampling import DEFAULT_SEED
    from sim.analysis.sensitivity.shapley import player_labels
    from sim.analysis.uncertainty import compute
    from sim.analysis.uncertainty_spec import load_uncertainty
    from sim.analysis.vintage import file_hashes
    from sim.model.targets import load_targets
    from sim.simulate import Simulator

    seed = DEFAULT_SEED if seed is None else seed
    targets = load_targets()
    sim = Simulator(engine)
    every = list(scenarios) + ([reference] if reference is not None else [])
    say("calibrated runs")
    runs = {sc.id: sim.run(sc) for sc in every}
    match = HistoryMatch.from_history(
        list(sim.info.index), (sim.control("initial_time"), sim.control("final_time")),
        load_conditioning())
    cols = sorted(set(targets.indicators) | set(match.variables))

    def simulate(sc, design):
        return simulate_design(sc, design, return_columns=cols, engine=engine, progress=False)

    results = compute(every, load_uncertainty(), targets, samples=samples, seed=seed,
                      sampling="lhs", simulate=simulate, say=say, match=match,
                      central=lambda sc: central_run(sim, sc, cols),
                      history=history_simulate(match, engine=engine, progress=False))
    attributions = {}
    if reference is not None:   # the library call of `plansim sensitivity --method shapley`
        from sim.analysis.sensitivity import get_method

        shapley = get_method("shapley")
        for sc in scenarios:
            say(f"attribution of {sc.id} against {reference.id}")
            attributions[sc.id] = shapley.attribute(
                reference, sc, simulator=sim, parameters=sim.parameters,
                indicators=targets.indicators, year=targets.year)
    return Brief(list(scenarios), reference, targets, runs,
                 {r.scenario: r for r in results}, seed, samples,
                 dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"), file_hashes(),
                 attributions, player_labels(sim.parameters))


# -- tables ------------------------------------------------------------------------------------
def fiscal_costs(brief: Brief) -> dict[str, float]:
    """The fiscal cost (the ``plan_sum`` derived outcome) of each calibrated run, 亿元
    (:func:`sim.analysis.targets.fiscal_cost`)."""
    from sim.analysis.targets import fiscal_cost

    out = {}
    for sid, ds in brief.runs.items():
        v = fiscal_cost(ds, brief.targets)
        if v is not None:
            out[sid] = float(np.asarray(v).ravel()[0])
    return out


def headline_table(brief: Brief, sid: str, lang: str) -> pd.DataFrame:
    """One row per target (and all together): central value, P(met) ± s.e., year reached,
    change against the reference."""
    from sim.analysis.targets import ALL_TARGETS, target_table

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
            word("pmet", lang): _pct(probs.loc[ind]),
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
             _pct(probs.loc[ALL_TARGETS])}
    rows.append(every)
    return pd.DataFrame(rows).fillna("")


def _last_year(brief: Brief, sid: str) -> int:
    return int(round(float(brief.runs[sid]["time"].values[-1])))


def _pct(row: pd.Series) -> str:
    p, se = float(row["probability"]), float(row["mc_se"])
    shown = "<1%" if 0 < p < 0.005 else f"{p:.0%}"
    return f"{shown} ± {se:.0%}"


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
    over the conditioned ensemble of ``sid`` (:func:`sim.analysis.influence.rank_influence`),
    labelled in ``lang``."""
    from sim.analysis.influence import rank_influence
    from sim.model.parameters import load_parameters

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
    from sim.model.caveats import load_caveats

    check_lang(lang)
    return [c[lang] for c in load_caveats()]


def inline_html(markdown: str) -> str:
    """One paragraph of the caveats' Markdown as HTML: escaped, ``**bold**`` and ```code```."""
    text = html.escape(markdown, quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def sources() -> pd.DataFrame:
    """Data sources of model/data/history.csv with their rows and years."""
    hist = pd.read_csv(paths.HISTORY_FILE)
    g = hist.groupby("source")["year"]
    return pd.DataFrame({"source": g.size().index, "rows": g.size().values,
                         "years": [f"{a}-{b}" if a != b else str(a)
                                   for a, b in zip(g.min(), g.max(), strict=True)]})


# -- rendering ---------------------------------------------------------------------------------
CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: 'PlansimCJK', 'Noto Sans CJK SC', 'Noto Sans CJK', sans-serif; font-size: 10pt;
       color: #111; max-width: 190mm; margin: auto; }
h1 { font-size: 17pt; margin: 0 0 4pt; } h2 { font-size: 13pt; margin: 14pt 0 4pt;
     border-bottom: 1px solid #999; page-break-after: avoid; }
h3 { font-size: 11pt; margin: 8pt 0 3pt; }
table { border-collapse: collapse; margin: 4pt 0; page-break-inside: avoid; font-size: 9pt; }
th, td { border: 1px solid #bbb; padding: 2pt 5pt; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #eee; }
.note { color: #444; font-size: 8.5pt; page-break-after: avoid; }
.chart svg { width: 100%; height: auto; }
.chart { page-break-inside: avoid; }
code { font-size: 8pt; word-break: break-all; }
"""


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, escape=True, border=0, na_rep="")


def chart_svg(brief: Brief, lang: str) -> str:
    """The indicator chart of the conditioned ensembles (bands) as inline SVG text."""
    from sim.model.history import load_history
    from sim.present.charts import indicator_figure

    runs = {(s.label(lang)): brief.uncertainty[s.id].results
            for s in brief.scenarios + ([brief.reference] if brief.reference else [])}
    fig = indicator_figure(runs, list(brief.targets), lang=lang, history=load_history(),
                           title=word("chart", lang))
    return _svg(fig)


def waterfall_svg(brief: Brief, sid: str, lang: str) -> str:
    """The lever attribution of ``sid`` against the reference, one waterfall per indicator
    (the figure of ``plansim sensitivity --method shapley``), as inline SVG text."""
    from sim.present.sensitivity_report import shapley_figure

    return _svg(shapley_figure(brief.attributions[sid], brief.targets, lang, brief.groups))


def _svg(fig: Any) -> str:
    """A figure as inline SVG text (text as paths: no font needed), the figure closed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)  # links to licences
    return svg[svg.index("<svg"):]


def render_html(brief: Brief, lang: str) -> str:
    """The briefing page in ``lang`` (self-contained: styles and SVG charts inline)."""
    check_lang(lang)
    t = brief.targets
    names = " / ".join(s.label(lang) for s in brief.scenarios)
    esc = html.escape
    first = brief.uncertainty[brief.ids[0]]
    cond = first.conditioned
    parts = [f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head>"
             f"<meta charset='utf-8'><title>{esc(word('title', lang))}: {esc(names)}</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>{esc(word('title', lang))}: {esc(names)}</h1>",
             f"<p class='note'>{esc(word('method', lang, n=first.results.sizes['sample'], drawn=cond.drawn if cond is not None else brief.samples, seed=brief.seed, date=brief.date))}</p>",  # noqa: E501
             f"<h2>{esc(word('headline', lang))}</h2>"]
    for sc in brief.scenarios:
        parts.append(f"<h3>{esc(sc.label(lang))} ({esc(sc.id)})</h3>")
        parts.append(_table(headline_table(brief, sc.id, lang)))
    fiscal = fiscal_table(brief, lang)
    if fiscal is not None:
        parts += [f"<h2>{esc(word('fiscal', lang))}</h2>", _table(fiscal)]
    parts += [f"<h2>{esc(word('chart', lang))}</h2>",
              f"<div class='chart'>{chart_svg(brief, lang)}</div>"]
    for sc in brief.scenarios:
        if sc.id not in brief.attributions:
            continue
        ref = brief.reference.label(lang)
        parts += [f"<h2>{esc(word('waterfall', lang, scenario=sc.label(lang), ref=ref))}</h2>",
                  f"<p class='note'>{esc(word('waterfall_note', lang, ref=ref, year=t.year, scenario=sc.label(lang), n=len(brief.attributions[sc.id].groups)))}</p>",  # noqa: E501
                  f"<div class='chart'>{waterfall_svg(brief, sc.id, lang)}</div>"]
    parts += [f"<h2>{esc(word('influence', lang))}</h2>",
              f"<p class='note'>{esc(word('influence_note', lang, scenario=brief.scenarios[0].label(lang), year=t.year))}</p>",  # noqa: E501
              _table(influence_table(brief, brief.ids[0], lang)),
              f"<h2>{esc(word('caveats', lang))}</h2><ul>"]
    parts += [f"<li>{inline_html(c)}</li>" for c in caveats(lang)]
    parts += ["</ul>", f"<h2>{esc(word('sources', lang))}</h2>", _table(sources()),
              f"<h2>{esc(word('version', lang))}</h2><table>"]
    parts += [f"<tr><td>{esc(k)}</td><td><code>{esc(v or '-')}</code></td></tr>"
              for k, v in brief.hashes.items()]
    parts.append(f"<tr><td>date</td><td>{esc(brief.date)}</td></tr></table></body></html>")
    return "\n".join(parts)


def pdf_available() -> bool:
    import warnings

    try:
        with warnings.catch_warnings():   # it warns when HarfBuzz-subset is missing
            warnings.simplefilter("ignore", DeprecationWarning)
            import weasyprint  # noqa: F401
    except (ImportError, OSError):   # OSError: the Pango system library is missing
        return False
    return True


def write_pdf(html_text: str, path: Path) -> None:
    """Print ``html_text`` to ``path`` with WeasyPrint, the project's CJK font (mplfonts)
    embedded (added to the page's styles for printing only; the HTML itself stays
    self-contained)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from weasyprint import HTML

    from sim.present.fonts import cjk_font_path

    face = (f"@font-face {{ font-family: 'PlansimCJK'; "
            f"src: url('{cjk_font_path().as_uri()}'); }}")
    HTML(string=html_text.replace("<style>", f"<style>{face}", 1)).write_pdf(path)
