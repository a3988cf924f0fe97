"""`plansim brief`: a self-contained HTML page (and its PDF) carrying the headline, the
findings, what each scenario assumes, the indicator names and the P(met) figures of the
history-conditioned ensemble (the real model, a small ensemble)."""

import html
import re

import pytest

from sim.analysis.outcomes.targets import ALL_TARGETS
from sim.cli.main import main
from sim.present.documents import brief as br
from sim.present.documents import brief_page as bp
from sim.present.documents import brief_text as bt
from sim.present.labels import label
from sim.scenarios import load_scenario

SAMPLES = 40


# the tests using this fixture run on one xdist worker (xdist_group "brief-computed"): made once
@pytest.fixture(scope="module")
def computed():
    return br.compute_brief([load_scenario("plan")], load_scenario("baseline"),
                            samples=SAMPLES, seed=7)


@pytest.fixture(scope="module")
def page_of(computed):
    """The brief's page in a language, rendered once for the tests that read it (rendering
    draws its charts: about a second a page); ``render_html`` is a function of the brief."""
    pages: dict[str, str] = {}

    def page(lang: str) -> str:
        if lang not in pages:
            pages[lang] = bp.render_html(computed, lang)
        return pages[lang]

    return page


def expected_strings(b, lang):
    """Indicator names and P(met) figures the page must carry."""
    probs = b.uncertainty["plan"].probabilities
    names = [label(t.label, lang) for t in b.targets.items]
    figures = [bt.probability(probs.loc[i]) for i in [*b.targets.indicators, ALL_TARGETS]]
    return names, figures


def external_references(page: str) -> list[str]:
    """Everything the page would load from outside itself: a ``src``, an ``href`` of any
    element but a link (``<a>``: a <link>, an SVG <image> or <use>) or a CSS ``url()`` not
    pointing into the page (fragments; the embedded font subset's data URL), an ``@import``,
    an element that loads (link, script, img, iframe, object, embed). A web address printed
    as text or as a link to follow (the data sources' citations) is not a resource."""
    refs = re.findall(r"""\bsrc\s*=\s*["']([^"']*)["']""", page)
    for tag, attrs in re.findall(r"<([A-Za-z][\w:-]*)([^>]*)>", page):
        if tag.lower() != "a":
            refs += re.findall(r"""(?:^|\s)(?:xlink:)?href\s*=\s*["']([^"']*)["']""", attrs)
    refs += [u for u in re.findall(r"""url\(\s*["']?([^)"']*)""", page)
             if not u.startswith("data:font/")]   # the embedded font subset
    bad = [r for r in refs if not r.startswith("#")]
    bad += re.findall(r"@import\b[^;]*", page)
    bad += re.findall(r"<(?:link|script|img|iframe|object|embed)\b", page)
    return bad


@pytest.mark.xdist_group("brief-computed")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_is_self_contained_and_carries_names_and_probabilities(computed, page_of, lang):
    page = page_of(lang)
    assert external_references(page) == []
    assert "<svg" in page
    assert '<a href="http' in page   # the data sources' addresses, as links
    names, figures = expected_strings(computed, lang)
    for s in names + figures:
        assert html.escape(s) in page
    assert f"N = {SAMPLES}" in page
    assert computed.hashes["calibration"] in page


@pytest.mark.parametrize("page", [
    '<img src="x.png">', '<script src="a.js"></script>',
    '<link rel="stylesheet" href="https://e.org/a.css">',
    '<svg><image href="https://e.org/p.png"/></svg>',
    '<svg><use xlink:href="https://e.org/s.svg#p"/></svg>',
    '<style>@import "https://e.org/a.css";</style>',
    '<p style="background: url(https://e.org/b.png)">x</p>'])
def test_external_reference_detector_finds_resources(page):
    assert external_references(page) != []


def test_external_reference_detector_passes_fragments_and_cited_addresses():
    assert external_references('<use xlink:href="#p1"/><g clip-path="url(#c1)"/>') == []
    cited = ('<td>see <a href="https://e.org/x?a=1&amp;b=2">https://e.org/x?a=1&amp;b=2</a>; '
             'http://e.org/y</td>')
    assert external_references(cited) == []


def test_cited_addresses_become_links_with_the_punctuation_outside():
    text = 'A "B" & C, 2020, http://e.org/p?a=1&b=2; (see https://e.org/wiki/X_(y)).'
    assert bp.linked(text) == (
        'A &quot;B&quot; &amp; C, 2020, '
        '<a href="http://e.org/p?a=1&amp;b=2">http://e.org/p?a=1&amp;b=2</a>; (see '
        '<a href="https://e.org/wiki/X_(y)">https://e.org/wiki/X_(y)</a>).')
    assert bp.linked("no address") == "no address"


@pytest.mark.xdist_group("brief-computed")
def test_fiscal_cost_and_per_yuan(computed):
    costs = br.fiscal_costs(computed)
    assert set(costs) == {"plan", "baseline"}
    assert costs["plan"] > costs["baseline"] > 0
    table = br.fiscal_table(computed, "en")
    assert table.shape == (2 + len(computed.targets.items), 2)


@pytest.mark.xdist_group("brief-computed")
def test_influence_table_sorted_by_largest_correlation(computed):
    from sim.analysis.ensembles.influence import rank_influence

    t = br.influence_table(computed, "plan", "en", top=5)
    strength = t.drop(columns=t.columns[0]).abs().max(axis=1).to_list()
    assert len(t) == 5 and strength == sorted(strength, reverse=True)
    rho = rank_influence(computed.uncertainty["plan"], computed.targets)   # the library's
    assert len(rho) == computed.uncertainty["plan"].design.frame().shape[1]
    assert all(f"({a})" in row for a, row in zip(rho.index[:5], t.iloc[:, 0], strict=True))
    assert t.iloc[:, 1:].to_numpy().tolist() == rho.iloc[:5].round(2).to_numpy().tolist()


@pytest.mark.xdist_group("brief-computed")
def test_attribution_is_the_library_call_and_adds_up_to_the_central_change(computed):
    """The waterfall's ends are the headline's central values; its steps add up (efficiency)."""
    att = computed.attributions["plan"]
    probs = {sid: computed.uncertainty[sid].probabilities for sid in ("plan", "baseline")}
    for ind in computed.targets.indicators:
        assert att.plan[ind] == pytest.approx(float(probs["plan"].loc[ind, "central"]), rel=1e-9)
        assert att.baseline[ind] == pytest.approx(float(probs["baseline"].loc[ind, "central"]),
                                                  rel=1e-9)
        assert att.shapley[ind].sum() == pytest.approx(att.total[ind], rel=1e-6, abs=1e-9)
    # the allocation shares move with their groups: the equity fund's share is 拨改投's
    assert "allocation_shares" not in att.shapley.index
    assert "equity_fund_share" in att.groups["equity_fund"]


@pytest.mark.xdist_group("brief-computed")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_carries_the_waterfall_section(computed, page_of, lang):
    page = page_of(lang)
    ref = computed.reference.label(lang)
    head = bt.word("waterfall", lang, scenario=computed.scenarios[0].label(lang), ref=ref)
    assert html.escape(head) in page
    section = page[page.index(html.escape(head)):]
    assert section.index("<svg") < section.index(html.escape(bt.word("influence", lang)))


@pytest.mark.xdist_group("brief-computed")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_shows_the_declared_caveats_in_its_language(computed, page_of, lang):
    """The caveats section holds every caveat of model/caveats.yaml in the page's language
    (Markdown bold and code rendered), and none in the other language."""
    from sim.model.declarations.caveats import load_caveats

    page = page_of(lang)
    head = html.escape(bt.word("caveats", lang))
    section = page[page.index(head):page.index(html.escape(bt.word("sources", lang)))]
    declared = load_caveats()
    other = "en" if lang == "zh" else "zh"
    assert section.count("<li>") == len(declared) >= 10
    for c in declared:
        assert f"<li>{br.inline_html(c[lang])}</li>" in section
        assert br.inline_html(c[other]) not in page
    assert "**" not in section and "<strong>" in section
    if lang == "zh":
        assert "<strong>数据少</strong>" in section


def test_caveat_markup_is_escaped_then_rendered():
    assert br.inline_html("**A & B**: see `x<y`") == \
        "<strong>A &amp; B</strong>: see <code>x&lt;y</code>"


def test_caveats_and_sources_from_the_model_files():
    assert br.caveats("zh") != br.caveats("en") and len(br.caveats("zh")) >= 10
    for lang in ("zh", "en"):
        src = br.sources(lang)
        assert list(src.columns) == [bt.word(k, lang) for k in
                                     ("source", "indicators", "rows", "source_years")]
        assert src.iloc[:, 2].sum() > 20 and not src.iloc[:, 0].isna().any()


def lever_strings(b, sid, lang):
    """The label of every lever the scenario changes against its reference, and the values."""
    _against, changes = b.changes[sid]
    params = b.parameters
    return [label(params.levers[ch.lever].label, lang) for ch in changes], changes


def normal(text):
    return " ".join(text.split())


def pdf_text(path):
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(path)
    return len(reader.pages), normal("\n".join(p.extract_text() for p in reader.pages))


@pytest.mark.xdist_group("brief-computed")
@pytest.mark.skipif(not bp.pdf_available(), reason="WeasyPrint (and Pango) not installed")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pdf_carries_headline_findings_levers_and_prints_cleanly(computed, page_of, tmp_path, lang):
    """The printed page: the headline, the findings, each scenario's lever changes, the
    names and P(met) figures, the waterfall's heading; no text below 7 pt, none running out
    of its table cell or off the page (WeasyPrint's layout boxes)."""
    from weasyprint import HTML

    from tests.textcheck import page_problems

    page = page_of(lang)
    document = HTML(string=page).render()
    assert page_problems(document) == []
    path = tmp_path / f"b_{lang}.pdf"
    document.write_pdf(path)
    pages, text = pdf_text(path)
    assert 3 <= pages <= 12
    assert normal(bt.headline(computed, lang)) in text
    for f in bt.findings(computed, lang):
        assert normal(f)[:40] in text, f
    names, figures = expected_strings(computed, lang)
    for s in names + figures:
        assert s in text, s
    levers, changes = lever_strings(computed, "plan", lang)
    assert len(levers) >= 20
    for name in levers:
        assert normal(name) in text, name
    budget = next(ch for ch in changes if ch.lever == "fiscal_budget")
    assert f"{budget.scenario[2026]:.1f}" in text      # amounts by year
    head = bt.word("waterfall", lang, scenario=computed.scenarios[0].label(lang),
                   ref=computed.reference.label(lang))
    assert normal(head) in text, head
    assert "model/" not in "".join(re.findall(r"<h[1-3]>(.*?)</h[1-3]>", page))


@pytest.mark.xdist_group("brief-computed")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_charts_print_at_seven_points_or_more_without_text_problems(computed, lang):
    """The charts are drawn at the A4 column's width: printed, no text is below 7 pt, and no
    two texts overlap (the waterfalls and the indicator chart)."""
    from tests.textcheck import smallest_chart_pt, text_problems

    width_pt = bp.COLUMN_IN * 72
    for fig in (bp.chart_figure(computed, lang), bp.waterfall_figure(computed, "plan", lang)):
        assert fig.get_size_inches()[0] <= bp.COLUMN_IN + 1e-9
        assert smallest_chart_pt(fig, width_pt) >= bp.MIN_PT
        assert text_problems(fig) == []


@pytest.mark.xdist_group("brief-computed")
def test_the_page_embeds_the_font_subset_it_uses(computed, page_of):
    import base64
    import io

    from fontTools.ttLib import TTFont

    page = page_of("zh")
    data = re.search(r"url\(data:font/woff2;base64,([A-Za-z0-9+/=]+)\)", page)[1]
    font = TTFont(io.BytesIO(base64.b64decode(data)))
    cmap = font.getBestCmap()
    visible = html.unescape(re.sub(r"<svg.*?</svg>|<[^>]+>", "", page, flags=re.S))
    assert {c for c in visible if ord(c) > 127} <= {chr(u) for u in cmap}
    assert len(cmap) < 3000 and len(data) < 1_500_000   # a subset, not the 16 MB font


@pytest.mark.xdist_group("brief-computed")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_table_of_changes_marks_the_levers_the_plan_gives_no_figure_for(computed, page_of, lang):
    """The plan's table of changes marks exactly the levers declared ``plan_value: assumed``
    in model/parameters.yaml (fiscal budget, innovation vouchers, broker training places),
    each once, on its first row, and the page carries it."""
    _, changes = computed.changes["plan"]
    levers = computed.parameters.levers
    rows = bt.change_rows(changes, lang, computed.reference.label(lang),
                          computed.scenarios[0].label(lang), computed.parameters)
    mark = bt.word("assumed", lang)
    named = [n for n in rows.iloc[:, 0] if n]
    marked = {n.removesuffix(mark) for n in named if n.endswith(mark)}
    assert marked == {label(levers[lid].label, lang) for lid in
                      ("fiscal_budget", "innovation_vouchers", "broker_training_places")}
    assert len(named) == len({c.lever for c in changes}) > len(marked)
    page = page_of(lang)
    assert page.count(html.escape(mark)) >= len(marked)


def test_mine_against_plan_compares_the_two_directly(tmp_path):
    """`brief mine --against plan`: the headline and findings name the two, the assumptions
    list exactly the levers mine changes against the plan (by year), and the waterfall gives
    the equity group its money."""
    from tests.test_attribution import equity_doubled

    mine = equity_doubled()
    b = br.compute_brief([mine], load_scenario("plan"), samples=20, seed=3)
    against, changes = b.changes[mine.id]
    assert against.id == "plan"
    assert {c.lever for c in changes} == {"equity_fund_share", "industry_share",
                                          "rd_reward_cap"}
    cap = next(c for c in changes if c.lever == "rd_reward_cap")
    assert cap.years == [2027, 2028] and set(cap.scenario) == {250.0}
    assert abs(b.attributions[mine.id].shapley.loc["equity_fund"]).max() > 0
    for lang in ("zh", "en"):
        page = bp.render_html(b, lang)
        assert html.escape(bt.word("against_title", lang, names=mine.label(lang),
                                   ref=b.reference.label(lang))) in page
        rows = bt.change_rows(changes, lang, b.reference.label(lang), mine.label(lang),
                              b.parameters)
        assert "2027–2028" in rows.iloc[:, 1].to_list()
        assert html.escape(b.reference.label(lang)) in bt.findings(b, lang)[-1] or \
            b.reference.label(lang) in bt.findings(b, lang)[-1]


@pytest.mark.xdist_group("brief-computed")
def test_two_calls_keep_both_languages_and_one_call_writes_both(computed, tmp_path,
                                                                  monkeypatch):
    """A call for one language never removes the other's files; --lang zh,en writes both
    from one computation."""
    calls = []

    def fake(*args, **kwargs):
        calls.append(args)
        return computed

    monkeypatch.setattr(br, "compute_brief", fake)
    monkeypatch.setattr(bp, "pdf_available", lambda: False)
    out = tmp_path / "out"
    for lang in ("zh", "en"):
        assert main(["brief", "plan", "--against", "baseline", "--lang", lang, "--out",
                     str(out), "-q"]) == 0
    assert {"brief_zh.html", "brief_en.html"} <= {p.name for p in (out / "brief").iterdir()}
    zh = (out / "brief" / "brief_zh.html").read_text(encoding="utf-8")
    assert 'lang=\'zh-CN\'' in zh
    both = tmp_path / "both"
    assert main(["brief", "plan", "--against", "baseline", "--lang", "zh,en", "--out",
                 str(both), "-q"]) == 0
    assert len(calls) == 3
    assert {"brief_zh.html", "brief_en.html"} <= {p.name for p in (both / "brief").iterdir()}
    with pytest.raises(SystemExit):
        main(["brief", "plan", "--lang", "zh,fr", "--out", str(both)])


def test_command_writes_the_page(tmp_path, capsys):
    assert main(["brief", "plan", "--samples", "20", "--lang", "en", "--out",
                 str(tmp_path), "-q"]) == 0
    files = {p.name for p in (tmp_path / "brief").iterdir()}
    assert "brief_en.html" in files
    assert ("brief_en.pdf" in files) == bp.pdf_available()
    page = (tmp_path / "brief" / "brief_en.html").read_text(encoding="utf-8")
    assert "What each lever group adds" not in page   # no reference, no attribution


def test_command_bad_reference_exits_2(tmp_path, capsys):
    assert main(["brief", "plan", "--against", "nosuch", "--out", str(tmp_path)]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert not (tmp_path / "brief").exists()


@pytest.mark.skipif(not bp.pdf_available(), reason="WeasyPrint (and Pango) not installed")
def test_page_check_finds_small_and_overflowing_text():
    from weasyprint import HTML

    from tests.textcheck import page_problems

    page = ("<html><body><p style='font-size:5pt'>tiny</p><table style='table-layout:fixed;"
            "width:20mm'><tr><td style='width:10mm;white-space:nowrap'>a very long cell text"
            "</td><td>x</td></tr></table></body></html>")
    problems = page_problems(HTML(string=page).render())
    assert any("tiny" in p and "5.0 pt" in p for p in problems)
    assert any("runs out of its cell" in p for p in problems)


@pytest.mark.xdist_group("brief-computed")
def test_the_forked_printer_gives_the_one_process_pages(computed):
    """Drawn and printed beside the main process (the waterfalls and the PDFs in a forked
    worker), the pages and the PDFs are those of one process, byte for byte."""
    import multiprocessing

    from sim.present.documents.printer import Printer

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("fork: Linux and macOS only")   # CI: Linux (forced here even beside
        # pytest-xdist's thread, which the command's own check would decline)
    with Printer(fork=False) as alone:
        one = alone.pages(computed, ["zh", "en"])
    with Printer(fork=True) as printer:
        assert printer.pool is not None
        two = printer.pages(computed, ["zh", "en"])
    assert one.keys() == two.keys() == {"zh", "en"}
    for lang in one:
        assert one[lang][0] == two[lang][0]
        assert one[lang][1] == two[lang][1]
        assert (one[lang][1] is not None) == bp.pdf_available()
