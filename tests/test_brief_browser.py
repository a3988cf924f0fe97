"""The briefing page in a real browser with no Chinese system font: Chromium (Debian's, driven
by Playwright) shows Chinese from the font subset the page embeds, not empty boxes."""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("explorer-browser")]

CHROMIUM = os.environ.get("PLANSIM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]
PAIRS = ("科", "技")


def test_chinese_renders_from_the_embedded_font(tmp_path):
    """The embedded family loads; two different Chinese characters in it render as two
    different pictures (a missing glyph draws the same empty box for both), and differently
    from the browser's fallback."""
    pw = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from sim.present.documents.brief_page import CSS, FONT_FAMILY, font_face

    probe = "".join(PAIRS)
    spans = "".join(f"<span id='{f}{i}' style=\"font-family:{fam};font-size:40px\">{c}</span> "
                    for f, fam in (("e", f"'{FONT_FAMILY}'"), ("f", "'NoSuchFont'"))
                    for i, c in enumerate(PAIRS))
    page = (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><style>"
            f"{font_face('简报' + probe)}{CSS}</style></head><body><h1>简报</h1>{spans}"
            "</body></html>")
    path = tmp_path / "brief_zh.html"
    path.write_text(page, encoding="utf-8")
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            pg = browser.new_page()
            pg.goto(path.as_uri())
            status = pg.evaluate(
                "async () => { await document.fonts.ready; return [...document.fonts]"
                ".filter(f => f.family.includes('PlansimCJK')).map(f => f.status); }")
            assert status == ["loaded"]
            shots = {k: pg.locator(f"#{k}").screenshot() for k in ("e0", "e1", "f0", "f1")}
            pg.screenshot(path=str(tmp_path / "page.png"), full_page=True)
        finally:
            browser.close()
    assert shots["e0"] != shots["e1"]          # real glyphs, not one box twice
    assert shots["e0"] != shots["f0"]          # not what the fallback draws
