"""The HTML report in a real browser (headless Chromium via Selenium and the system chromedriver).

Checks what only a browser can: that hostile run/tag names do not execute, that sorting, filtering
and search work, that the page logs no console error, and that a 500-run sweep stays responsive.
Screenshots (light and dark) are saved to ``artifacts/`` at the repo root for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from analyzer.engine import analyze
from analyzer.report.html import render_html
from analyzer.runs import LoadResult, load

from .test_report_html import hostile_report, make_report, sample, write_hostile_logs

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
CHROMEDRIVER = shutil.which("chromedriver")

webdriver = pytest.importorskip("selenium.webdriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "needs chromium and chromedriver (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


@pytest.fixture(scope="module")
def driver():
    profile = tempfile.mkdtemp(prefix="curvelint-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.set_page_load_timeout(60)
    yield d
    d.quit()
    shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, path: Path, dark: bool = False) -> list[dict]:
    """Load ``path``; return the console messages of the load (the log is drained)."""
    driver.get_log("browser")
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]},
    )
    driver.get(path.resolve().as_uri())
    return driver.get_log("browser")


def errors(log: list[dict]) -> list[dict]:
    return [e for e in log if e["level"] in ("SEVERE", "ERROR")]


def visible_rows(driver):
    return [
        r for r in driver.find_elements(By.CSS_SELECTOR, "#runs-table tbody tr") if r.is_displayed()
    ]


def save_shots(driver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for dark in (False, True):
        driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]},
        )
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(ARTIFACTS / f"{name}-{'dark' if dark else 'light'}.png"))
        first_card = driver.find_elements(By.CSS_SELECTOR, "details.run[open] .card")
        if first_card:
            sec = first_card[0].find_element(By.XPATH, "./ancestor::details[1]")
            driver.execute_script("arguments[0].scrollIntoView()", sec)
            sec.screenshot(str(ARTIFACTS / f"{name}-run-{'dark' if dark else 'light'}.png"))


# --------------------------------------------------------------------------- safety


@pytest.mark.parametrize("with_csp", [True, False], ids=["with-csp", "escaping-alone"])
def test_hostile_names_do_not_execute_and_show_as_text(driver, tmp_path, with_csp):
    rep, res = hostile_report(write_hostile_logs(tmp_path / "logs"))
    html = render_html(rep, res)
    if not with_csp:  # prove that escaping alone is enough, without the CSP's help
        start = html.index('<meta http-equiv="Content-Security-Policy"')
        html = html[:start] + html[html.index(">", start) + 1 :]
        assert "Content-Security-Policy" not in html
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    log = open_page(driver, page)
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    time.sleep(0.3)  # let any (unwanted) image error / onload handler fire
    assert driver.execute_script("return window.__xss === undefined")
    assert driver.find_elements(By.TAG_NAME, "img") == []
    assert driver.find_elements(By.TAG_NAME, "iframe") == []
    assert len(driver.find_elements(By.TAG_NAME, "script")) == 1
    text = driver.find_element(By.TAG_NAME, "body").text
    assert "<script>window.__xss=1</script>.csv" in text
    assert '"><img src=x onerror=window.__xss=4>/history.csv' in text
    assert "<img src=x onerror=window.__xss=2>val_loss" in text
    assert "<svg onload=window.__xss=3>" in text
    assert "Message about" in text and "<script>window.__xss=6</script>" in text
    assert not errors(log), log


# --------------------------------------------------------------------------- the fixtures report


@pytest.fixture(scope="module")
def fixtures_report(tmp_path_factory):
    """The report of bundled fixtures plus a tmp folder of synthetic logs, analysed for real."""
    tmp = tmp_path_factory.mktemp("browser")
    logs = tmp / "logs"
    rep_s, res_s = sample(4)
    for run in res_s.runs:  # write the synthetic runs as Keras CSV logs
        d = logs / run.id.split("/")[-1]
        d.mkdir(parents=True)
        tr, va = run.train, run.val
        lines = ["epoch,loss,val_loss"] + [
            f"{s},{a!r},{b!r}"
            for s, a, b in zip(
                tr.steps.tolist(), tr.values.tolist(), va.values.tolist(), strict=False
            )
        ]
        (d / "history.csv").write_text("\n".join(lines).replace("nan", "NaN") + "\n")
    # the demo folders (every format) and the first labelled set; the other labelled sets
    # (fixtures/gen*, holdout*) only add more runs of the same formats
    demo = [ROOT / "fixtures" / name for name in ("tensorboard", "text", "training", "gen4")]
    paths = [p for p in (*demo, logs) if p.exists()]
    res = load(paths)
    rep = analyze(res)
    if not rep.findings:  # the rules found nothing: add hand-made findings so cards get tested
        rep = make_report(res.runs, ["overfit", "plateau", "diverge", "healthy"] * len(res.runs))
    page = tmp / "report.html"
    html = render_html(rep, res)
    page.write_text(html, encoding="utf-8")
    return rep, res, page, html


def test_fixtures_report_structure_and_no_console_errors(driver, fixtures_report):
    rep, res, page, html = fixtures_report
    log = open_page(driver, page)
    assert not errors(log), log
    assert len(rep.runs) >= 4
    sections = driver.find_elements(By.CSS_SELECTOR, "details.run")
    assert len(sections) == len(rep.runs)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#runs-table tbody tr")) == len(rep.runs)
    cards = driver.find_elements(By.CSS_SELECTOR, "article.card")
    assert len(cards) == len(rep.findings) > 0
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == html.count('<svg class="chart"') >= len(res.runs)
    # every run with a training or validation loss has its loss chart in its own section
    per_section = driver.execute_script(
        "return Array.from(document.querySelectorAll('details.run')).map("
        "d => d.querySelectorAll('svg.chart').length)"
    )
    runs = {r.id: r for r in res.runs}

    def drawable(rr) -> bool:  # a loss with at least one finite value (all-NaN: nothing to draw)
        run = runs[rr.run]
        return any(
            (c := run.curve(t)) is not None and np.isfinite(c.values).any()
            for t in (rr.roles.get("train_loss"), rr.roles.get("val_loss"))
            if t
        )

    for i, rr in enumerate(rep.runs):
        if drawable(rr):
            assert per_section[i] >= 1, rr.run
    # expand all, then every section's charts are laid out (non-zero size)
    driver.find_element(By.ID, "expand-all").click()
    sizes = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart')).map(s => s.getBoundingClientRect().width)"
    )
    assert min(sizes) > 200
    save_shots(driver, "report-fixtures")
    assert (ARTIFACTS / "report-fixtures-light.png").stat().st_size > 10_000


def test_sorting_filtering_and_search(driver, fixtures_report):
    rep, res, page, _ = fixtures_report
    open_page(driver, page)
    n = len(rep.runs)

    def column_values(col):
        return [
            r.find_elements(By.TAG_NAME, "td")[col].get_attribute("data-v")
            for r in visible_rows(driver)
        ]

    # sort by "Train final" (column 4): ascending, then descending; missing values last
    btn = driver.find_element(By.XPATH, "//th/button[normalize-space()='Train final']")
    btn.click()
    vals = column_values(4)
    nums = [float(v) for v in vals if v]
    assert nums == sorted(nums) and all(v == "" for v in vals[len(nums) :])
    btn.click()
    nums = [float(v) for v in column_values(4) if v]
    assert nums == sorted(nums, reverse=True)
    th = btn.find_element(By.XPATH, "..")
    assert th.get_attribute("aria-sort") == "descending"
    # sort by name
    driver.find_element(By.XPATH, "//th/button[normalize-space()='Run']").click()
    names = [r.get_attribute("data-name") for r in visible_rows(driver)]
    assert names == sorted(names)

    # search by name: a substring of one run
    target = rep.runs[-1].run
    word = target.split("/")[-2] if "/" in target else target
    search = driver.find_element(By.ID, "f-search")
    search.send_keys(word)
    shown = [r.get_attribute("data-name") for r in visible_rows(driver)]
    assert shown and all(word.lower() in s for s in shown)
    assert len(shown) == sum(word.lower() in r.run.lower() for r in rep.runs)
    assert driver.find_element(By.ID, f"run-{len(rep.runs) - 1}").is_displayed()
    hidden_sections = driver.execute_script(
        "return Array.from(document.querySelectorAll('details.run')).filter(d => d.hidden).length"
    )
    assert hidden_sections == n - len(shown)
    assert driver.find_element(By.ID, "f-count").text == f"{len(shown)} of {n} runs"
    search.clear()
    search.send_keys("zzz-no-such-run")
    assert visible_rows(driver) == [] and driver.find_element(By.ID, "f-empty").is_displayed()
    search.clear()
    driver.execute_script("document.getElementById('f-search').dispatchEvent(new Event('input'))")
    assert len(visible_rows(driver)) == n

    # filter by kind and severity
    kinds = {f.kind for f in rep.findings}
    kind = sorted(kinds)[0]
    Select(driver.find_element(By.ID, "f-kind")).select_by_value(kind)
    expect = {rr.run.lower() for rr in rep.runs if any(f.kind == kind for f in rr.findings)}
    assert {r.get_attribute("data-name") for r in visible_rows(driver)} == expect
    Select(driver.find_element(By.ID, "f-kind")).select_by_value("")
    Select(driver.find_element(By.ID, "f-sev")).select_by_value("warning")
    expect = {
        rr.run.lower()
        for rr in rep.runs
        if any(f.severity in ("warning", "error") for f in rr.findings)
    }
    assert {r.get_attribute("data-name") for r in visible_rows(driver)} == expect
    Select(driver.find_element(By.ID, "f-sev")).select_by_value("none")
    expect = {rr.run.lower() for rr in rep.runs if not rr.findings}
    assert {r.get_attribute("data-name") for r in visible_rows(driver)} == expect
    Select(driver.find_element(By.ID, "f-sev")).select_by_value("")
    status = rep.runs[0].verdict
    Select(driver.find_element(By.ID, "f-status")).select_by_value(status)
    expect = {rr.run.lower() for rr in rep.runs if rr.verdict == status}
    assert {r.get_attribute("data-name") for r in visible_rows(driver)} == expect
    assert not errors(driver.get_log("browser"))


def test_link_opens_section_copy_button_and_print_layout(driver, fixtures_report):
    rep, res, page, _ = fixtures_report
    open_page(driver, page)
    i = next(i for i, rr in enumerate(rep.runs) if rr.findings)
    driver.execute_script("document.querySelectorAll('details.run').forEach(d => d.open = false)")
    driver.find_element(By.CSS_SELECTOR, f"#runs-table a[href='#run-{i}']").click()
    assert driver.find_element(By.ID, f"run-{i}").get_attribute("open") is not None
    copy = driver.find_elements(By.CSS_SELECTOR, f"#run-{i} button.copy")
    if copy:
        copy[0].click()
        time.sleep(0.2)
        assert copy[0].text in ("Copied", "Press Ctrl+C")
    # print: controls hidden, closed sections' charts still laid out
    driver.execute_script("document.querySelectorAll('details.run').forEach(d => d.open = false)")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not driver.find_element(By.CSS_SELECTOR, ".controls").is_displayed()
        w = driver.execute_script(
            "return document.querySelector('details.run svg.chart').getBoundingClientRect().width"
        )
        assert w > 100
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert not errors(driver.get_log("browser"))


# --------------------------------------------------------------------------- a large sweep


def test_500_run_sweep_stays_responsive(driver, tmp_path):
    rep, res = sample(500, n=400)
    t0 = time.perf_counter()
    html = render_html(rep, res)
    render_s = time.perf_counter() - t0
    page = tmp_path / "sweep.html"
    page.write_text(html, encoding="utf-8")
    size_mb = len(html.encode()) / 1e6
    t0 = time.perf_counter()
    log = open_page(driver, page)
    load_s = time.perf_counter() - t0
    assert not errors(log), log
    assert len(driver.find_elements(By.CSS_SELECTOR, "details.run")) == 500
    t0 = time.perf_counter()
    driver.find_element(By.ID, "f-search").send_keys("plateau-0")
    filter_s = time.perf_counter() - t0
    assert len(visible_rows(driver)) == sum("plateau-0" in r.run for r in rep.runs)
    t0 = time.perf_counter()
    driver.find_element(By.XPATH, "//th/button[normalize-space()='Val best']").click()
    sort_s = time.perf_counter() - t0
    print(
        f"\n500 runs: html {size_mb:.1f} MB, render {render_s:.2f} s, load {load_s:.2f} s, "
        f"search {filter_s:.2f} s, sort {sort_s:.2f} s"
    )
    if os.environ.get("CURVELINT_SHOTS"):
        save_shots(driver, "report-500")
    assert size_mb < 15
    assert load_s < 20 and filter_s < 5 and sort_s < 5
    assert isinstance(res, LoadResult)
