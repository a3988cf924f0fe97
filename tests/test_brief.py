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
    t = br.influence_table(computed, "plan", "en", top=5)
    strength = t.drop(columns=t.columns[0]).abs().max(axis=1).to_list()
    assert len(t) == 5 and strength == sorted(strength, reverse=True)


def test_caveats_and_sources_from_the_model_files():
    assert len(br.caveats()) >= 3
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


def test_command_writes_the_page(tmp_path, capsys):
    assert main(["brief", "plan", "--samples", "20", "--lang", "en", "--out",
                 str(tmp_path), "-q"]) == 0
    files = {p.name for p in (tmp_path / "brief").iterdir()}
    assert "brief_en.html" in files
    assert ("brief_en.pdf" in files) == br.pdf_available()


def test_command_bad_reference_exits_2(tmp_path, capsys):
    assert main(["brief", "plan", "--against", "nosuch", "--out", str(tmp_path)]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert not (tmp_path / "brief").exists()
