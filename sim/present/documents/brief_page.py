"""The briefing page (``plansim brief``): one self-contained HTML page per language and its PDF.

:func:`render_html` lays out a :class:`~sim.present.documents.brief.Brief` in one language. Page 1
opens with the generated headline and findings (:mod:`sim.present.documents.brief_text`) and the target
tables; then what each scenario assumes (its description and every lever it changes against
its reference, by year), the fiscal cost, the indicator chart, the attribution waterfalls
with their players, the influential assumptions, the caveats, the data sources (full
citations) and the file versions. Charts are inline SVG (text as paths), drawn at the width of
the A4 text column so that no chart text prints below :data:`MIN_PT`; the page embeds the
subset of the project's CJK font it uses (:func:`font_face`), so a browser without a Chinese
font shows Chinese, and WeasyPrint prints the PDF with that same font (:func:`pdf_bytes`).
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import OutputError
from sim.model.cache.diskcache import cache_root
from sim.model.declarations.history import load_history
from sim.present.documents.brief import (
    caveats,
    fiscal_table,
    headline_table,
    influence_table,
    inline_html,
    sources,
)
from sim.present.documents.brief_text import change_rows, findings, headline, player_rows, word
from sim.present.figures.styles import relabel, scenario_styles
from sim.present.labels import check_lang, label
from sim.present.output.atomic import atomic_write_bytes

#: the A4 text column (210 mm less 2 x 12 mm margins), in inches: charts are drawn this wide
COLUMN_IN = 186 / 25.4
#: no text on the printed page is smaller than this (points)
MIN_PT = 7.0
FONT_FAMILY = "PlansimCJK"

CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: 'PlansimCJK', sans-serif; font-size: 10pt; color: #111;
       max-width: 186mm; margin: auto; }
h1 { font-size: 16pt; margin: 0 0 4pt; }
.headline { font-size: 13pt; font-weight: bold; margin: 6pt 0; }
h2 { font-size: 13pt; margin: 14pt 0 4pt; border-bottom: 1px solid #999;
     page-break-after: avoid; }
h3 { font-size: 11pt; margin: 8pt 0 3pt; page-break-after: avoid; }
ul.findings li { margin: 2pt 0; }
table { border-collapse: collapse; margin: 4pt 0; page-break-inside: avoid; font-size: 8.5pt;
        max-width: 100%; }
th, td { border: 1px solid #bbb; padding: 2pt 4pt; text-align: right; vertical-align: top;
         overflow-wrap: break-word; }
th:first-child, td:first-child { text-align: left; }
table.text td, table.text th { text-align: left; }
table.changes td:nth-child(2), table.targets td:nth-child(4) { white-space: nowrap; }
th { background: #eee; }
.note { color: #444; font-size: 8.5pt; page-break-after: avoid; }
.chart svg { max-width: 100%; height: auto; }
.chart { page-break-inside: avoid; }
code { font-size: 7.5pt; word-break: break-all; }
table.sources { table-layout: fixed; width: 100%; page-break-inside: auto; }
table.sources tr { page-break-inside: avoid; }
table.sources th, table.sources td { box-sizing: border-box; }
table.sources th:nth-child(1) { width: 54%; }
table.sources th:nth-child(2) { width: 26%; }
table.sources th:nth-child(3) { width: 8%; }
table.sources th:nth-child(4) { width: 12%; }
table.sources td { overflow-wrap: anywhere; word-break: break-word; }
table.sources td:nth-child(4) { white-space: nowrap; }
table.sources a { color: inherit; }
"""


def _table(df: pd.DataFrame, cls: str = "") -> str:
    out = df.to_html(index=False, escape=True, border=0, na_rep="")
    return out.replace('<table class="dataframe', f'<table class="dataframe {cls}', 1)


#: a web address in a citation (ending before spaces, quotes and CJK punctuation)
URL = re.compile(r"https?://[^\s<>\"'，。；、）]+")


def linked(text: str) -> str:
    """``text`` escaped for HTML, its web addresses as links (a cited address is a link to
    follow, not a resource the page loads); trailing punctuation stays outside the link."""
    out, at = [], 0
    for m in URL.finditer(text):
        url = m[0].rstrip(".,;:")
        while url.endswith(")") and url.count("(") < url.count(")"):
            url = url[:-1]
        out += [html.escape(text[at:m.start()]),
                f"<a href=\"{html.escape(url)}\">{html.escape(url)}</a>"]
        at = m.start() + len(url)
    return "".join(out) + html.escape(text[at:])


def sources_table(df: pd.DataFrame) -> str:
    """The data sources (:func:`sim.present.documents.brief.sources`) as a table the column's width:
    fixed column widths, the long citations and their addresses wrapped anywhere (an address
    has no break point), the addresses as links."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = "".join("<tr>" + "".join(f"<td>{linked(str(v))}</td>" for v in row) + "</tr>"
                   for row in df.itertuples(index=False))
    return (f"<table class='text sources'><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def short_label(s: str, lang: str, width: int | None = None, lines: int = 2) -> str:
    """A scenario or group name for a chart's bar: a closing parenthesis dropped
    ("基准情景(行动计划前政策延续)" -> "基准情景"), wrapped to ``lines`` lines of ``width``
    characters, an ellipsis where cut."""
    import math
    import textwrap

    short = re.sub(r"\s*[(（][^()（）]*[)）]\s*$", "", s).strip() or s
    width = width or (7 if lang == "zh" else 16)
    if lang == "zh":   # lines of equal length
        step = math.ceil(len(short) / max(1, math.ceil(len(short) / width)))
        out = [short[i:i + step] for i in range(0, len(short), step)]
    else:
        out = textwrap.wrap(short, width, break_long_words=False) or [short]
    return "\n".join(out[:lines - 1] + [out[lines - 1][:width - 1] + "…"]
                     if len(out) > lines else out)


# -- charts ----------------------------------------------------------------------------------------
def chart_figure(brief: Any, lang: str) -> Any:
    """The indicator chart of the conditioned ensembles (bands), the column's width."""
    # lazy: pulls matplotlib (303 ms)
    from sim.present.figures.charts import indicator_figure

    every = brief.scenarios + ([brief.reference] if brief.reference else [])
    runs = {s.label(lang): brief.uncertainty[s.id].results for s in every}
    styles = relabel(scenario_styles([s.id for s in every], brief.reference.id
                                     if brief.reference is not None else None),
                     {s.id: s.label(lang) for s in every})
    return indicator_figure(runs, list(brief.targets), lang=lang, history=load_history(),
                            title=word("chart", lang), ncols=2, styles=styles,
                            panel=(COLUMN_IN / 2, 2.55), attainment=False)


def waterfall_figure(brief: Any, sid: str, lang: str) -> Any:
    """The lever attribution of ``sid`` against the reference, one waterfall per indicator
    (the figure of ``plansim sensitivity --method shapley``), the column's width."""
    # lazy: pulls matplotlib (310 ms)
    from sim.present.reports.sensitivity_report import shapley_figure

    att = brief.attributions[sid]
    sc = next(s for s in brief.scenarios if s.id == sid)
    labels = {g: short_label(label(brief.groups.get(g, g), lang), lang) for g in att.groups}
    names = (short_label(brief.reference.label(lang), lang), short_label(sc.label(lang), lang))
    bars = len(att.groups) + 2   # the two ends and the groups (Shapley values add up: no
    # interaction bar); 0.29 inch (21 pt) a bar holds two-line names at 7 pt apart, and three
    # rows of panels with the section's heading fit on one A4 page
    fig = shapley_figure(att, brief.targets, lang, labels, names=names, cols=2,
                         panel=(COLUMN_IN / 2, max(2.0, 0.8 + 0.29 * bars)))
    for ax in fig.axes:
        ax.tick_params(axis="y", labelsize=MIN_PT)
    return fig


def svg(fig: Any) -> str:
    """A figure as inline SVG text at its own size, its texts as text in the page's embedded
    font (the font matplotlib laid them out with: the same metrics; a few hundred text nodes
    print much faster than thousands of glyph paths, and the PDF's chart text can be
    searched)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "plansim"}):
        fig.savefig(buf, format="svg")
    svg_text = buf.getvalue()
    svg_text = re.sub(r"<metadata>.*?</metadata>", "", svg_text, flags=re.S)  # licence links
    svg_text = re.sub(r"font-family:[^;\"]*", f"font-family: '{FONT_FAMILY}'", svg_text)
    return svg_text[svg_text.index("<svg"):]


# -- the embedded font -----------------------------------------------------------------------------
def font_face(text: str) -> str:
    """An ``@font-face`` rule with the glyphs of ``text`` subset from the project's CJK font
    (:func:`sim.present.figures.fonts.cjk_font_path`), as WOFF2 in a data URL."""
    data = base64.b64encode(font_subset(text)).decode("ascii")
    return (f"@font-face {{ font-family: '{FONT_FAMILY}'; "
            f"src: url(data:font/woff2;base64,{data}) format('woff2'); }}")


def font_subset(text: str) -> bytes:
    """The WOFF2 subset of the project's CJK font holding the characters of ``text`` (and
    the printable ASCII), kept in the user's cache folder by its characters (a second page
    with the same words costs nothing)."""
    # lazy: pulls matplotlib (86 ms)
    import hashlib

    import fontTools

    from sim.present.figures.fonts import cjk_font_path

    chars = "".join(sorted({c for c in text if ord(c) > 126} | {chr(i) for i in range(32, 127)}))
    font = cjk_font_path()
    stat = font.stat()
    key = hashlib.sha256(f"{font.name}|{stat.st_size}|{stat.st_mtime_ns}|{fontTools.version}|"
                         f"{SUBSET_VERSION}|{chars}".encode()).hexdigest()[:32]
    root = cache_root()
    path = root / "fonts" / f"{key}.woff2" if root is not None else None
    if path is not None and path.is_file():
        data = path.read_bytes()
        if data[:4] == b"wOF2":
            return data
    data = _subset(font, chars)
    if path is not None:
        try:
            path.parent.mkdir(mode=0o700, exist_ok=True)
            atomic_write_bytes(path, data)
        except (OSError, OutputError):
            pass   # no cache: the subset is made again next time
    return data


#: bump when the subset's options change (the cached subsets are then made again)
SUBSET_VERSION = 1


def _subset(font_path: Path, chars: str) -> bytes:
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["kern", "liga", "vert", "palt"]
    options.name_IDs = [1, 2]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = True
    font = subset.load_font(str(font_path), options, lazy=True)
    try:
        sub = subset.Subsetter(options)
        sub.populate(unicodes=[ord(c) for c in chars])
        sub.subset(font)
        buf = io.BytesIO()
        subset.save_font(font, buf, options)
    finally:
        font.close()
    return buf.getvalue()


# -- the page --------------------------------------------------------------------------------------
def render_html(brief: Any, lang: str, figures: dict[str, str] | None = None) -> str:
    """The briefing page in ``lang`` (self-contained: styles, the font subset and SVG charts
    inline). ``figures``: SVG text of the charts already drawn (key ``chart`` and
    ``waterfall:<scenario id>``); those missing are drawn here."""
    check_lang(lang)
    figures = dict(figures or {})
    esc = html.escape
    t = brief.targets
    names = " / ".join(s.label(lang) for s in brief.scenarios)
    if brief.reference is not None:
        names = word("against_title", lang, names=names, ref=brief.reference.label(lang))
    first = brief.uncertainty[brief.ids[0]]
    cond = first.conditioned
    body = [f"<h1>{esc(word('title', lang))}: {esc(names)}</h1>",
            f"<p class='headline'>{esc(headline(brief, lang))}</p>",
            f"<h2>{esc(word('findings', lang))}</h2><ul class='findings'>",
            *[f"<li>{esc(f)}</li>" for f in findings(brief, lang)], "</ul>",
            f"<p class='note'>{esc(word('method', lang, n=first.results.sizes['sample'], drawn=cond.drawn if cond is not None else brief.samples, seed=brief.seed, date=brief.date))}</p>",  # noqa: E501
            f"<h2>{esc(word('headline', lang))}</h2>"]
    for sc in brief.scenarios:
        body += [f"<h3>{esc(sc.label(lang))}</h3>", _table(headline_table(brief, sc.id, lang), "targets")]
    body += _assumptions(brief, lang)
    fiscal = fiscal_table(brief, lang)
    if fiscal is not None:
        body += [f"<h2>{esc(word('fiscal', lang))}</h2>", _table(fiscal)]
    if "chart" not in figures:
        figures["chart"] = svg(chart_figure(brief, lang))
    body += [f"<h2>{esc(word('chart', lang))}</h2>", f"<div class='chart'>{figures['chart']}</div>"]
    for sc in brief.scenarios:
        if sc.id not in brief.attributions:
            continue
        att = brief.attributions[sc.id]
        ref = brief.reference.label(lang)
        key = f"waterfall:{sc.id}"
        if key not in figures:
            figures[key] = svg(waterfall_figure(brief, sc.id, lang))
        body += [f"<h2>{esc(word('waterfall', lang, scenario=sc.label(lang), ref=ref))}</h2>",
                 f"<div class='chart'>{figures[key]}</div>",   # under its heading on one page
                 f"<p class='note'>{esc(word('waterfall_note', lang, ref=ref, year=t.year, scenario=sc.label(lang), n=len(att.groups)))}</p>",  # noqa: E501
                 f"<p class='note'>{esc(word('players_note', lang))}</p>",
                 _table(player_rows(att, brief.groups, brief.parameters, lang), "text")]
    body += [f"<h2>{esc(word('influence', lang))}</h2>",
             f"<p class='note'>{esc(word('influence_note', lang, scenario=brief.scenarios[0].label(lang), year=t.year))}</p>",  # noqa: E501
             _table(influence_table(brief, brief.ids[0], lang)),
             f"<h2>{esc(word('caveats', lang))}</h2><ul>"]
    body += [f"<li>{inline_html(c)}</li>" for c in caveats(lang)]
    body += ["</ul>", f"<h2>{esc(word('sources', lang))}</h2>", sources_table(sources(lang)),
             f"<h2>{esc(word('version', lang))}</h2><table class='text'>"]
    body += [f"<tr><td>{esc(k)}</td><td><code>{esc(v or '-')}</code></td></tr>"
             for k, v in brief.hashes.items()]
    body.append(f"<tr><td>{esc(word('date', lang))}</td><td>{esc(brief.date)}</td></tr>"
                "</table>")
    text = "\n".join(body)
    visible = html.unescape(re.sub(r"<[^>]+>", "", text))   # the charts' texts included
    title = f"{word('title', lang)}: {names}"
    return (f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head>"
            f"<meta charset='utf-8'><title>{esc(title)}</title>"
            f"<style>{font_face(visible + title)}{CSS}</style></head><body>\n{text}\n"
            "</body></html>")


def _assumptions(brief: Any, lang: str) -> list[str]:
    """What each scenario assumes: its description and the levers it changes, by year."""
    esc = html.escape
    out = [f"<h2>{esc(word('assumes', lang))}</h2>"]
    every = brief.scenarios + ([brief.reference] if brief.reference is not None else [])
    for sc in every:
        against, changes = brief.changes.get(sc.id, (None, []))
        ref_name = against.label(lang) if against is not None else word("assumes_defaults", lang)
        out += [f"<h3>{esc(sc.label(lang))}</h3>"]
        if sc.description:
            out.append(f"<p class='note'>{esc(' '.join(str(sc.description).split()))}</p>")
        if not changes:
            out.append(f"<p>{esc(word('assumes_nothing', lang))}</p>")
            continue
        out += [f"<p>{esc(word('assumes_against', lang, ref=ref_name))}</p>",
                _table(change_rows(changes, lang, ref_name, sc.label(lang), brief.parameters),
                       "changes")]
    return out


def pdf_available() -> bool:
    import warnings

    try:
        with warnings.catch_warnings():   # it warns when HarfBuzz-subset is missing
            warnings.simplefilter("ignore", DeprecationWarning)
            import weasyprint  # noqa: F401
    except (ImportError, OSError):   # OSError: the Pango system library is missing
        return False
    return True


def pdf_bytes(html_text: str) -> bytes:
    """``html_text`` printed with WeasyPrint: the PDF's bytes. Each inline chart is handed
    to WeasyPrint as an SVG image (:func:`as_images`): the same drawing, text and fonts (the
    printed pages are pixel for pixel the same), without styling every SVG node as part of
    the page (0.3 of its 2 s)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from weasyprint import HTML

    return HTML(string=as_images(html_text)).write_pdf()


def as_images(html_text: str) -> str:
    """``html_text`` with every inline ``<svg>`` as an ``<img>`` of it (a data URL). For the
    PDF only: a browser draws an SVG image without the page's embedded font, WeasyPrint
    with it."""
    def image(m: re.Match) -> str:
        data = base64.b64encode(m.group(0).encode("utf-8")).decode("ascii")
        return f"<img src='data:image/svg+xml;base64,{data}'>"

    return re.sub(r"<svg\b.*?</svg>", image, html_text, flags=re.S)
