"""The run's one remedy list in a real browser (headless Chromium, as tests/test_report_browser.py):
each remedy once per run, the run's framework's snippet first, the cards linking to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.engine import check
from analyzer.report.html import render_html
from analyzer.runs import load

from .test_report_browser import driver, errors, open_page  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]

from selenium.webdriver.common.by import By  # noqa: E402


def test_one_remedy_list_with_the_runs_framework_first(driver, tmp_path):  # noqa: F811
    path = ROOT / "fixtures" / "training" / "diverge-wine-warmup-sgdm-s4"  # Lightning, 3 findings
    report = check(path)
    (rr,) = report.runs
    page = tmp_path / "report.html"
    page.write_text(render_html(report, load(path)))
    log = open_page(driver, page)
    driver.find_element(By.CSS_SELECTOR, "#runs-table a[href='#run-0']").click()
    section = driver.find_element(By.ID, "run-0")
    lists = section.find_elements(By.CSS_SELECTOR, ".remedies")
    assert len(lists) == 1  # one list for the run, not one per finding
    items = lists[0].find_elements(By.CSS_SELECTOR, "li.remedy")
    ids = [li.get_attribute("data-id") for li in items]
    assert ids == [e.remedy.id for e in rr.remedies] and len(ids) == len(set(ids))
    for li in items:
        first = li.find_elements(By.CSS_SELECTOR, ".snip")[0]
        assert first.get_attribute("data-fw") in ("lightning", "pytorch")
        assert first.is_displayed()
        # the other frameworks' snippets are folded away, Keras among them
        others = li.find_elements(By.CSS_SELECTOR, "details.snips-more .snip")
        assert all(not o.is_displayed() for o in others)
        assert all(o.get_attribute("data-fw") != first.get_attribute("data-fw") for o in others)
    assert "lightning" in lists[0].find_element(By.TAG_NAME, "h4").text.lower()
    # every card links to the remedies it suggests
    cards = section.find_elements(By.CSS_SELECTOR, "article.card")
    assert len(cards) == len(rr.findings)
    for card in cards:
        links = card.find_elements(By.CSS_SELECTOR, ".to-try a")
        assert links and all(
            a.get_attribute("href").split("#")[1].startswith("run-0-r") for a in links
        )
    assert not errors(log + driver.get_log("browser"))
    lists[0].screenshot(str(tmp_path / "remedies.png"))
