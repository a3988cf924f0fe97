"""`plansim brief`: a self-contained HTML page (and its PDF) carrying the indicator names and
the P(met) figures of the history-conditioned ensemble (the real model, a small ensemble)."""

import html
import re

import pytest

from sim.analysis.targets import ALL_TARGETS
from sim.cli.main import main
from sim.present import brief as br
from sim.present.labels import label
from sim.scenarios import load_scenario

SAMPLES = 40


@pytest.fixture(scope="module")
def computed():
    return br.compute_brief([load_scenario("plan")], load_scenario("baseline"),
                            samples=SAMPLES, seed=7)


def expected_strings(b, lang):
    """Indicator names and P(met) figures the page must carry."""
    probs = b.uncertainty["plan"].probabilities
    names = [label(t.label, lang) for t in b.targets.items]
    figures = [br._pct(probs.loc[i]) for i in [*b.targets.indicators, ALL_TARGETS]]
    return names, figures


def external_references(page: str) -> list[str]:
    """Every reference to something outside the page (fragment-only links are internal)."""
    refs = re.findall(r"""(?:href|src)\s*=\s*["']([^"']*)["']""", page)
    refs += re.findall(r"""url\(\s*["']?([^)"']*)""", page)
    bad = [r for r in refs if not r.startswith("#")]
    bad += re.findall(r"<(?:link|script|img|iframe|object)\b", page)
    bad += [u for u in re.findall(r"https?://[^\s\"'<>]+", page)
            if u not in ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink")]
    return bad


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_is_self_contained_and_carries_names_and_probabilities(computed, lang):
    page = br.render_html(computed, lang)
    assert external_references(page) == []
    assert "<svg" in page
    names, figures = expected_strings(computed, lang)
    for s in names + figures:
        assert html.escape(s) in page
    assert f"N = {SAMPLES}" in page
    assert computed.hashes["calibration"] in page


def test_external_reference_detector_finds_links():
    assert external_references('<img src="x.png"><a href="https://e.org">') != []
    assert external_references('<use xlink:href="#p1"/><g clip-path="url(#c1)"/>') == []


def test_fiscal_cost_and_per_yuan(computed):
    costs = br.fiscal_costs(computed)
    assert set(costs) == {"plan", "baseline"}
    assert costs["plan"] > costs["baseline"] > 0
    table = br.fiscal_table(computed, "en")
    assert table.shape == (2 + len(computed.targets.items), 2)


def test_influence_table_sorted_by_largest_correlation(computed):
    from sim.analysis.influence import rank_influence

    t = br.influence_table(computed, "plan", "en", top=5)
    strength = t.drop(columns=t.columns[0]).abs().max(axis=1).to_list()
    assert len(t) == 5 and strength == sorted(strength, reverse=True)
    rho = rank_influence(computed.uncertainty["plan"], computed.targets)   # the library's
    assert len(rho) == computed.uncertainty["plan"].design.frame().shape[1]
    assert all(f"({a})" in row for a, row in zip(rho.index[:5], t.iloc[:, 0], strict=True))
    assert t.iloc[:, 1:].to_numpy().tolist() == rho.iloc[:5].round(2).to_numpy().tolist()


def test_attribution_is_the_library_call_and_adds_up_to_the_central_change(computed):
    """The waterfall's ends are the headline's central values; its steps add up (efficiency)."""
    att = computed.attributions["plan"]
    probs = {sid: computed.uncertainty[sid].probabilities for sid in ("plan", "baseline")}
    for ind in computed.targets.indicators:
        assert att.plan[ind] == pytest.approx(float(probs["plan"].loc[ind, "central"]), rel=1e-9)
        assert att.baseline[ind] == pytest.approx(float(probs["baseline"].loc[ind, "central"]),
                                                  rel=1e-9)
        assert att.shapley[ind].sum() == pytest.approx(att.total[ind], rel=1e-6, abs=1e-9)
    # the allocation shares span several groups: one player, labelled from the constraint
    assert "allocation_shares" in att.shapley.index
    assert "allocation_shares" in computed.groups


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_carries_the_waterfall_section(computed, lang):
    page = br.render_html(computed, lang)
    ref = computed.reference.label(lang)
    head = br.word("waterfall", lang, scenario=computed.scenarios[0].label(lang), ref=ref)
    assert html.escape(head) in page
    section = page[page.index(html.escape(head)):]
    assert section.index("<svg") < section.index(html.escape(br.word("influence", lang)))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_shows_the_declared_caveats_in_its_language(computed, lang):
    """The caveats section holds every caveat of model/caveats.yaml in the page's language
    (Markdown bold and code rendered), and none in the other language."""
    from sim.model.caveats import load_caveats

    page = br.render_html(computed, lang)
    head = html.escape(br.word("caveats", lang))
    section = page[page.index(head):page.index(html.escape(br.word("sources", lang)))]
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
    src = br.sources()
    assert src["rows"].sum() > 20 and not src["source"].isna().any()


@pytest.mark.skipif(not br.pdf_available(), reason="WeasyPrint (and Pango) not installed")
def test_pdf_text_carries_names_and_probabilities(computed, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    for lang in ("zh", "en"):
        path = tmp_path / f"b_{lang}.pdf"
        br.write_pdf(br.render_html(computed, lang), path)
        reader = pypdf.PdfReader(path)
        assert 2 <= len(reader.pages) <= 8
        text = "\n".join(p.extract_text() for p in reader.pages)
        names, figures = expected_strings(computed, lang)
        for s in names + figures:
            assert s in text, s
        head = br.word("waterfall", lang, scenario=computed.scenarios[0].label(lang),
                       ref=computed.reference.label(lang))
        assert " ".join(head.split()) in " ".join(text.split()), head


def test_command_writes_the_page(tmp_path, capsys):
    assert main(["brief", "plan", "--samples", "20", "--lang", "en", "--out",
                 str(tmp_path), "-q"]) == 0
    files = {p.name for p in (tmp_path / "brief").iterdir()}
    assert "brief_en.html" in files
    assert ("brief_en.pdf" in files) == br.pdf_available()
    page = (tmp_path / "brief" / "brief_en.html").read_text(encoding="utf-8")
    assert "What each lever group adds" not in page   # no reference, no attribution


def test_command_bad_reference_exits_2(tmp_path, capsys):
    assert main(["brief", "plan", "--against", "nosuch", "--out", str(tmp_path)]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert not (tmp_path / "brief").exists()
