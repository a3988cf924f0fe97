"""``plansim explore`` in a real browser: Playwright driving Debian's Chromium (never a browser
build of Playwright's own) against the command's server on a free 127.0.0.1 port.

One server (the real ``python -m sim explore --no-browser``) serves every test of this module
(they share one xdist worker through ``xdist_group``); each test opens a fresh browser context,
waits on page state (never sleeps) and saves a screenshot under its ``tmp_path``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim import paths

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("explorer-browser")]

CHROMIUM = os.environ.get("PLANSIM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]
TIMEOUT_MS = 60_000
INDICATORS = ("tech_firms", "rd_expenditure", "platforms", "tech_contract_turnover",
              "tech_brokers")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("explore") / "server.log"
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT), "MPLBACKEND": "Agg"}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sim", "explore", "--no-browser",
                                 "--port", str(port), "--quiet"], stdout=out,
                                stderr=subprocess.STDOUT, env=env, cwd=paths.ROOT)
    deadline = time.monotonic() + 180
    before = _project_files()
    try:
        while "serving at" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"plansim explore did not start:\n{log.read_text()}")
            time.sleep(0.2)  # polling the server's log for its first line, not page state
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert _project_files() == before, "the page wrote into the project"


def _project_files() -> dict[str, float]:
    """Files (and their modification times) of the folders a run could write into."""
    roots = [paths.SCENARIO_DIR, paths.MODEL_DIR, paths.ROOT / "out"]
    return {str(f): f.stat().st_mtime for r in roots if r.is_dir() for f in r.rglob("*")
            if f.is_file() and "__pycache__" not in f.parts}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install the system package chromium "
                    "(make system-deps does, as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:   # a fresh temporary profile for every launch
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1500, "height": 1000},
                                  accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    outside: list[str] = []
    pg.on("request", lambda r: outside.append(r.url)
          if not r.url.startswith((server, "blob:", "data:")) else None)
    pg.goto(server)
    pg.locator("[data-testid=value-tech_firms]").wait_for()
    pg.evaluate("document.fonts.ready")
    yield pg
    pg.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    context.close()
    assert not outside, f"the page fetched outside resources: {outside}"


def _values(page) -> dict[str, float]:
    return {i: float(page.locator(f"[data-testid=value-{i}]").get_attribute("data-value"))
            for i in INDICATORS}


def _drag(page, lever: str, year: int, dx: float) -> None:
    handle = page.locator(f".lever-{lever}-{year} .noUi-handle")
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=4)
    page.mouse.up()


def _wait_changed(page, before: dict[str, float], indicator: str = "tech_firms"
                  ) -> dict[str, float]:
    """Wait until the shown 2028 value of ``indicator`` differs from ``before``; return the
    new values."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id(f"value-{indicator}")).not_to_have_attribute(
        "data-value", repr(before[indicator]), timeout=TIMEOUT_MS)
    return _values(page)


def _plansim_run(scenario: Path, out: Path) -> pd.DataFrame:
    """`plansim run` in this process (the command as `python -m sim run` runs it)."""
    from sim.cli.main import main

    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    return pd.read_csv(out / scenario.stem / "targets.csv").set_index("indicator")


def test_slider_moves_the_answer_and_the_saved_file_runs_to_the_same_numbers(page, tmp_path):
    before = _values(page)
    _drag(page, "fiscal_budget", 2026, 60)
    after = _wait_changed(page, before)
    assert after["tech_firms"] > before["tech_firms"]
    assert page.get_by_test_id("fiscal").get_attribute("data-value")
    with page.expect_download() as dl:
        page.get_by_text("保存情景（YAML）").click()
    saved = tmp_path / dl.value.suggested_filename
    dl.value.save_as(saved)
    assert saved.name == "plan-explored.yaml"
    from sim.scenarios import load_scenario

    sc = load_scenario(saved)                       # validates as any scenario file
    assert sc.levers["fiscal_budget"][2026] > 18.9
    table = _plansim_run(saved, tmp_path / "out")
    for ind, value in after.items():
        assert table.loc[ind, "value_2028"] == value   # exactly the numbers shown


def test_upload_a_saved_file_and_a_bad_one(page, tmp_path, capsys):
    good = tmp_path / "mine.yaml"
    good.write_text("name: {zh: 测试, en: Test}\nextends: plan.yaml\n"
                    "levers:\n  broker_training_places: {2024: 2000}\n", encoding="utf-8")
    before = _values(page)
    page.locator("input[type=file]").set_input_files(str(good))
    after = _wait_changed(page, before, "tech_brokers")
    assert after["tech_brokers"] > before["tech_brokers"]
    from sim.analysis.outcomes.targets import target_table
    from sim.api import simulator
    from sim.model.declarations.targets import load_targets

    table = target_table(simulator().run(good), load_targets()).set_index("indicator")
    assert all(table.loc[i, "value_2028"] == v for i, v in after.items())   # as plansim run

    page.get_by_text("English").click()
    page.get_by_text("Policy levers").first.wait_for()
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: {zh: 坏, en: Bad}\nlevers:\n  fiscal_budgett: 12\n", encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(bad))
    error = page.get_by_test_id("error")
    error.wait_for()
    from sim.cli.main import main

    capsys.readouterr()
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1].split("error: ", 1)[1]
    from sim.errors import ScenarioError
    from sim.present.explorer.guard import page_message

    shown = page_message(ScenarioError(line.replace(str(bad.resolve()), bad.name)), "en")
    assert error.inner_text() == "Error: " + shown   # server paths cut to their last part
    assert "did you mean 'fiscal_budget'" in error.inner_text()


def test_language_switch_and_chinese_font(page):
    assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '科技型企业数量')")
    assert page.get_by_text("科技型企业数量").first.is_visible()
    page.get_by_text("English").click()
    page.get_by_text("Technology-based firms").first.wait_for()
    assert page.get_by_text("Policy levers").first.is_visible()
    page.locator(".lever-group select").select_option(label="Technology finance")
    page.get_by_text("Loan interest and guarantee subsidy").first.wait_for()
    page.get_by_text("中文").click()
    page.get_by_text("政策杠杆").first.wait_for()
    from playwright.sync_api import expect

    expect(page.get_by_test_id("targets")).to_contain_text("科技型企业数量")
    expect(page.get_by_test_id("fiscal")).to_contain_text("财政成本")


def test_band_adds_probabilities(page):
    page.locator(".band-switch input[type=checkbox]").check()
    page.get_by_test_id("pmet-all_targets").wait_for(timeout=120_000)
    p = float(page.get_by_test_id("pmet-tech_firms").get_attribute("data-value"))
    assert 0.0 <= p <= 1.0
    before = _values(page)
    _drag(page, "fiscal_budget", 2027, 80)
    _wait_changed(page, before)
    assert page.get_by_test_id("pmet-tech_firms").is_visible()




def test_typed_values_arrow_keys_and_shares_that_cannot_exceed_one(page, tmp_path):
    from playwright.sync_api import expect

    before = _values(page)
    page.locator(".lever-group select").select_option(label="企业创新激励")
    box = page.locator(".box-rd_reward_cap-2027 input")
    box.fill("250")
    box.press("Enter")
    after = _wait_changed(page, before)
    expect(box).to_have_value("250")
    page.locator(".lever-group select").select_option(label="财政科技计划")
    handle = page.locator(".lever-fiscal_budget-2025 .noUi-handle")
    handle.focus()
    handle.press("ArrowRight")                                   # one slider step: 0.1
    expect(page.locator(".box-fiscal_budget-2025 input")).to_have_value("17.3")
    after = _wait_changed(page, after)
    bad = page.locator(".box-fiscal_budget-2026 input")           # refused in the page's words
    bad.fill("900")
    bad.press("Enter")
    expect(page.get_by_test_id("error")).to_contain_text("“900”无效")
    page.get_by_test_id("stale").wait_for()
    bad.fill("18.9")
    bad.press("Enter")
    expect(page.get_by_test_id("stale")).to_have_count(0)

    page.locator(".lever-group select").select_option(label="资金分配比例")
    share = page.locator(".box-equity_fund_share-2025 input")
    share.fill("0.24")
    share.press("Enter")
    expect(page.locator(".box-industry_share-2025 input")).not_to_have_value("0.38")
    expect(page.get_by_test_id("unallocated-2025")).to_have_attribute("data-value", "0.0")
    shares = ("industry_share", "platform_award_share", "enterprise_incentive_share",
              "equity_fund_share", "tech_transfer_share", "pilot_scale_share",
              "tech_finance_share")
    shown = {s: float(page.locator(f".box-{s}-2025 input").input_value()) for s in shares}
    assert shown["equity_fund_share"] == 0.24 and shown["industry_share"] < 0.38
    assert abs(sum(shown.values()) - 1.0) < 1e-9
    _wait_changed(page, after)
    page.locator(".lever-group select").select_option(label="科技金融")
    page.locator(".lever-finance_subsidy-2026 .noUi-handle").click()   # focus alone: no change
    page.locator(".box-finance_subsidy-2026 input").focus()
    page.locator(".box-finance_subsidy-2026 input").blur()
    with page.expect_download() as dl:
        page.get_by_text("保存情景（YAML）").click()
    saved = tmp_path / dl.value.suggested_filename
    dl.value.save_as(saved)
    import yaml

    levers = yaml.safe_load(saved.read_text(encoding="utf-8"))["levers"]
    moved = {s for s in shares if shown[s] != {"industry_share": 0.38, "platform_award_share":
             0.03, "enterprise_incentive_share": 0.36, "equity_fund_share": 0.12,
             "tech_transfer_share": 0.04, "pilot_scale_share": 0.04,
             "tech_finance_share": 0.03}[s]}
    assert set(levers) == {"rd_reward_cap", "fiscal_budget", *moved}
    assert levers["rd_reward_cap"][2027] == 250 and levers["fiscal_budget"][2025] == 17.3
    assert levers["fiscal_budget"][2026] == 18.9
    for s in moved:
        assert levers[s][2025] == shown[s]                        # exactly the values shown
