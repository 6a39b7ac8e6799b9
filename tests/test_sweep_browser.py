"""The sweep section of the HTML report in headless Chromium: rendered at the top, one chart per
claim with one dot per run, markup in setting values shown as text, no console error."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.engine import check
from analyzer.report.html import render_html
from analyzer.runs import load

from .test_report_browser import ARTIFACTS, errors, open_page
from .test_report_browser import driver as driver  # noqa: F401 (the module's fixture)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "fixtures" / "sweep"


def test_sweep_section_renders(driver, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    rep = check(SWEEP)
    page = tmp_path / "report.html"
    page.write_text(render_html(rep, load(SWEEP)), encoding="utf-8")
    log = open_page(driver, page)
    assert not errors(log), log
    section = driver.find_element(By.ID, "sweep")
    assert section.is_displayed()
    # at the top: above the runs table
    top = driver.execute_script(
        "return [document.getElementById('sweep').getBoundingClientRect().top,"
        " document.getElementById('overview').getBoundingClientRect().top]"
    )
    assert top[0] < top[1]
    rows = section.find_elements(By.CSS_SELECTOR, "#sweep-claims tbody tr")
    assert len(rows) == len(rep.sweep["claims"]) >= 2
    charts = section.find_elements(By.CSS_SELECTOR, "figure.sw-chart svg")
    assert len(charts) == len(rows)
    for svg in charts:
        assert svg.size["width"] > 200 and svg.size["height"] > 100
        assert len(svg.find_elements(By.TAG_NAME, "circle")) == len(rep.runs)
    first = rows[0].text
    assert rep.sweep["claims"][0]["kind"] in first and "lr" in first
    best = section.find_element(By.ID, "sweep-best").text
    assert rep.sweep["best_run"]["run"] in best
    ARTIFACTS.mkdir(exist_ok=True)
    section.screenshot(str(ARTIFACTS / "report-sweep-light.png"))


def test_sweep_section_hostile_values_stay_text(driver, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    from .test_sweep import _hostile_sweep_report

    rep, evil = _hostile_sweep_report()
    page = tmp_path / "hostile.html"
    page.write_text(render_html(rep), encoding="utf-8")
    log = open_page(driver, page)
    assert not errors(log), log
    assert driver.title != "1"  # the onerror never ran
    section = driver.find_element(By.ID, "sweep")
    assert section.find_elements(By.TAG_NAME, "img") == []
    assert section.find_elements(By.CSS_SELECTOR, "b") == []
    assert "opt" in section.find_element(By.ID, "sweep-claims").text
