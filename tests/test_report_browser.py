"""The HTML report in a real browser (headless Chromium via Selenium and the system chromedriver).

Checks what only a browser can: that hostile run/tag names do not execute, that sorting, filtering
and search work, that opening a run draws its charts (the page builds a run's section from its JSON
data when it is opened), that the page logs no console error, and that a 2,000-run sweep stays
responsive.
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
from analyzer.findings import SEVERITY_RANK
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
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


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


PAGE = 200  # rows the table shows before "Show more" (report.js)


def check_shown(driver, expect: set[str], n: int) -> None:
    """The table shows the runs ``expect`` (lower-cased names): the first PAGE of them as rows,
    all of them in the count."""
    shown = {r.get_attribute("data-name") for r in visible_rows(driver)}
    assert shown <= expect and len(shown) == min(PAGE, len(expect))
    assert driver.find_element(By.ID, "f-count").text == f"{len(expect)} of {n} runs"


def listed(rep) -> int:
    """Runs the table lists at first: the healthy ones are collapsed into a count (unless no
    other run is left)."""
    other = sum(rr.verdict != "healthy" for rr in rep.runs)
    return other or len(rep.runs)


def open_run(driver, idx: int):
    driver.execute_script(f"location.hash = '#run-{idx}'")
    sec = driver.find_element(By.ID, f"run-{idx}")
    assert sec.get_attribute("open") is not None
    return sec


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
    scripts = driver.execute_script("return Array.from(document.scripts).map(s => s.type)")
    assert scripts == ["application/json", ""]  # the data (never run) and our own script
    assert len(driver.find_elements(By.CSS_SELECTOR, ".run-body > .charts svg.chart")) == 2
    # the two runs share a folder: each one's overlay draws both, named as text too
    overlays = driver.find_elements(By.CSS_SELECTOR, "details.overlay svg.chart")
    assert len(overlays) == 2 and overlays[0].find_elements(By.CSS_SELECTOR, "path.trend")
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
    n = len(rep.runs)
    assert n >= 4
    rows = driver.find_elements(By.CSS_SELECTOR, "#runs-table tbody tr")
    assert len(rows) == min(listed(rep), PAGE)
    # problem runs first
    statuses = [r.get_attribute("data-status") for r in rows]
    firsts = statuses[: sum(rr.verdict == "problems" for rr in rep.runs)]
    assert set(firsts) <= {"problems"}
    driver.find_element(By.ID, "toggle-healthy").click()  # healthy runs listed too
    # no run section (and no chart) until a run is opened
    assert driver.find_elements(By.CSS_SELECTOR, "svg.chart") == [] or n <= 8
    # opening each run with a finding draws its charts and shows its cards
    for i, rr in enumerate(rep.runs):
        if not rr.findings or i % 7:
            continue
        sec = open_run(driver, i)
        cards = sec.find_elements(By.CSS_SELECTOR, "article.card")
        assert len(cards) == len(rr.findings)
        if rr.summary.get("train_best") is not None or rr.summary.get("val_best") is not None:
            assert sec.find_elements(By.CSS_SELECTOR, "svg.chart path.trend"), rr.run
    # expand all: the sections of the first runs shown, every chart laid out (non-zero size)
    driver.find_element(By.ID, "expand-all").click()
    assert len(driver.find_elements(By.CSS_SELECTOR, "details.run[open]")) >= min(n, 100)
    sizes = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart')).map(s => s.getBoundingClientRect().width)"
    )
    assert sizes and min(sizes) > 200
    assert not errors(driver.get_log("browser"))
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
    check_shown(driver, {r.run.lower() for r in rep.runs if word.lower() in r.run.lower()}, n)
    search.clear()
    search.send_keys("zzz-no-such-run")
    assert visible_rows(driver) == [] and driver.find_element(By.ID, "f-empty").is_displayed()
    search.clear()
    driver.execute_script("document.getElementById('f-search').dispatchEvent(new Event('input'))")
    assert len(visible_rows(driver)) == min(listed(rep), PAGE)

    # filter by kind and severity
    kinds = {f.kind for f in rep.findings}
    kind = sorted(kinds)[0]
    Select(driver.find_element(By.ID, "f-kind")).select_by_value(kind)
    expect = {rr.run.lower() for rr in rep.runs if any(f.kind == kind for f in rr.findings)}
    check_shown(driver, expect, n)
    Select(driver.find_element(By.ID, "f-kind")).select_by_value("")
    Select(driver.find_element(By.ID, "f-sev")).select_by_value("warning")
    expect = {
        rr.run.lower()
        for rr in rep.runs
        if any(f.severity in ("warning", "error") for f in rr.findings)
    }
    check_shown(driver, expect, n)
    Select(driver.find_element(By.ID, "f-sev")).select_by_value("none")
    expect = {rr.run.lower() for rr in rep.runs if not rr.findings}
    check_shown(driver, expect, n)
    Select(driver.find_element(By.ID, "f-sev")).select_by_value("")
    status = rep.runs[0].verdict
    Select(driver.find_element(By.ID, "f-status")).select_by_value(status)
    expect = {rr.run.lower() for rr in rep.runs if rr.verdict == status}
    check_shown(driver, expect, n)
    assert not errors(driver.get_log("browser"))


def test_link_opens_section_copy_button_and_print_layout(driver, fixtures_report):
    rep, res, page, _ = fixtures_report
    open_page(driver, page)
    i = int(visible_rows(driver)[0].get_attribute("data-idx"))  # the worst run comes first
    assert rep.runs[i].findings
    driver.execute_script("document.querySelectorAll('details.run').forEach(d => d.open = false)")
    driver.find_element(By.CSS_SELECTOR, f"#runs-table a[href='#run-{i}']").click()
    assert driver.find_element(By.ID, f"run-{i}").get_attribute("open") is not None
    copy = driver.find_elements(By.CSS_SELECTOR, f"#run-{i} button.copy")
    if copy:
        copy[0].click()
        time.sleep(0.2)
        assert copy[0].text in ("Copied", "Press Ctrl+C")
    # print: controls hidden, the opened section of a problem run laid out with its charts
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not driver.find_element(By.CSS_SELECTOR, ".controls").is_displayed()
        w = driver.execute_script(
            f"return document.querySelector('#run-{i} svg.chart').getBoundingClientRect().width"
        )
        assert w > 100 or rep.runs[i].verdict != "problems"
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert not errors(driver.get_log("browser"))


# --------------------------------------------------------------------------- a large sweep


def test_2000_run_sweep_opens_runs_and_filters(driver, tmp_path):
    n_runs = 2000
    rep, res = sample(n_runs, n=400)
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
    assert driver.find_element(By.ID, "f-count").text == f"{listed(rep)} of {n_runs} runs"
    assert len(visible_rows(driver)) == PAGE and not driver.find_elements(By.TAG_NAME, "svg")
    # opening a run (a click on its row) draws its charts, with the finding marks
    row = visible_rows(driver)[3]
    idx = int(row.get_attribute("data-idx"))
    t0 = time.perf_counter()
    row.find_element(By.TAG_NAME, "a").click()
    sec = driver.find_element(By.ID, f"run-{idx}")
    svg = sec.find_elements(By.CSS_SELECTOR, "svg.chart")
    open_s = time.perf_counter() - t0
    assert len(svg) == 1 and sec.get_attribute("open") is not None
    assert svg[0].find_elements(By.CSS_SELECTOR, "path.raw, path.trend")
    assert svg[0].find_elements(By.CSS_SELECTOR, ".vline, .band, .point, .hline")
    assert len(sec.find_elements(By.CSS_SELECTOR, "article.card")) == len(rep.runs[idx].findings)
    # search
    t0 = time.perf_counter()
    driver.find_element(By.ID, "f-search").send_keys("plateau-1")
    filter_s = time.perf_counter() - t0
    check_shown(driver, {r.run.lower() for r in rep.runs if "plateau-1" in r.run}, n_runs)
    assert sec.is_displayed() is ("plateau-1" in rep.runs[idx].run)
    driver.find_element(By.ID, "f-search").clear()
    driver.execute_script("document.getElementById('f-search').dispatchEvent(new Event('input'))")
    # kind and severity filters
    Select(driver.find_element(By.ID, "f-kind")).select_by_value("divergence")
    expect = {r.run.lower() for r in rep.runs if any(f.kind == "divergence" for f in r.findings)}
    check_shown(driver, expect, n_runs)
    Select(driver.find_element(By.ID, "f-kind")).select_by_value("")
    Select(driver.find_element(By.ID, "f-sev")).select_by_value("error")
    expect = {r.run.lower() for r in rep.runs if any(f.severity == "error" for f in r.findings)}
    check_shown(driver, expect, n_runs)
    Select(driver.find_element(By.ID, "f-sev")).select_by_value("none")
    check_shown(driver, {r.run.lower() for r in rep.runs if not r.findings}, n_runs)
    Select(driver.find_element(By.ID, "f-sev")).select_by_value("")
    # sorting all runs, and "Show more"
    t0 = time.perf_counter()
    driver.find_element(By.XPATH, "//th/button[normalize-space()='Val best']").click()
    sort_s = time.perf_counter() - t0
    vals = [
        float(r.find_elements(By.TAG_NAME, "td")[7].get_attribute("data-v"))
        for r in visible_rows(driver)
    ]
    assert vals == sorted(vals)
    # (a real click would scroll the table first, which shows more rows by itself)
    driver.execute_script("document.getElementById('show-more').click()")
    assert len(visible_rows(driver)) >= 2 * PAGE
    print(
        f"\n{n_runs} runs: html {size_mb:.1f} MB, render {render_s:.2f} s, load {load_s:.2f} s, "
        f"open {open_s:.2f} s, search {filter_s:.2f} s, sort {sort_s:.2f} s"
    )
    if os.environ.get("CURVELINT_SHOTS"):
        save_shots(driver, "report-2000")
    assert not errors(driver.get_log("browser"))
    assert size_mb < 5
    assert load_s < 10 and filter_s < 5 and sort_s < 5
    assert isinstance(res, LoadResult)


# --------------------------------------------------------------------------- triage (issue 14)


def test_triage_order_and_healthy_runs_collapsed(driver, fixtures_report):
    rep, res, page, _ = fixtures_report
    open_page(driver, page)
    n = len(rep.runs)
    healthy = {rr.run.lower() for rr in rep.runs if rr.verdict == "healthy"}
    assert healthy and len(healthy) < n
    rows = visible_rows(driver)
    names = [r.get_attribute("data-name") for r in rows]
    assert len(names) == min(n - len(healthy), PAGE) and not healthy & set(names)
    # problem runs first, by their worst finding (errors, then warnings), then the others
    by_name = {rr.run.lower(): rr for rr in rep.runs}

    def rank(name):
        rr = by_name[name]
        w = rr.worst()
        return (rr.verdict != "problems", -SEVERITY_RANK[w.severity] if w else 1)

    keys = [rank(x) for x in names]
    assert keys == sorted(keys) and keys[0] == (False, -SEVERITY_RANK["error"])
    assert {k[1] for k in keys if not k[0]} >= {-SEVERITY_RANK["error"], -SEVERITY_RANK["warning"]}
    note = driver.find_element(By.ID, "f-healthy")
    assert note.is_displayed() and note.text.startswith(f"{len(healthy)} healthy run")
    toggle = driver.find_element(By.ID, "toggle-healthy")
    toggle.click()
    assert len(visible_rows(driver)) == min(n, PAGE)
    assert toggle.get_attribute("aria-expanded") == "true"
    assert driver.find_element(By.ID, "f-count").text == f"{n} of {n} runs"
    toggle.click()
    assert [r.get_attribute("data-name") for r in visible_rows(driver)] == names
    assert not errors(driver.get_log("browser"))


def test_summary_chips_filter_the_table(driver, fixtures_report):
    rep, res, page, _ = fixtures_report
    open_page(driver, page)
    n = len(rep.runs)
    status = Select(driver.find_element(By.ID, "f-status"))
    chip = driver.find_element(By.CSS_SELECTOR, "button.chip[data-f='f-status'][data-v='healthy']")
    chip.click()  # the healthy runs, though collapsed by default
    check_shown(driver, {rr.run.lower() for rr in rep.runs if rr.verdict == "healthy"}, n)
    assert chip.get_attribute("aria-pressed") == "true"
    assert status.first_selected_option.get_attribute("value") == "healthy"
    chip.click()  # a second click clears the filter
    assert chip.get_attribute("aria-pressed") == "false"
    assert status.first_selected_option.get_attribute("value") == ""
    assert len(visible_rows(driver)) == min(listed(rep), PAGE)
    # a kind chip, then a severity chip on top of it
    kind = sorted({f.kind for f in rep.findings})[0]
    driver.find_element(By.CSS_SELECTOR, f"button.chip[data-f='f-kind'][data-v='{kind}']").click()
    check_shown(
        driver, {rr.run.lower() for rr in rep.runs if any(f.kind == kind for f in rr.findings)}, n
    )
    driver.find_element(By.CSS_SELECTOR, "button.chip[data-f='f-sev'][data-v='warning']").click()
    expect = {
        rr.run.lower()
        for rr in rep.runs
        if any(f.kind == kind and f.severity in ("warning", "error") for f in rr.findings)
    }
    check_shown(driver, expect, n)
    pressed = driver.find_elements(By.CSS_SELECTOR, "button.chip[aria-pressed=true]")
    assert sorted(c.get_attribute("data-v") for c in pressed) == sorted([kind, "warning"])
    assert not errors(driver.get_log("browser"))


_LIGATURES = str.maketrans({"\ufb01": "fi", "\ufb02": "fl", "\ufb00": "ff", "\ufb03": "ffi"})


def _norm(text: str) -> str:
    return "".join(text.translate(_LIGATURES).split()).lower()


def test_print_problem_runs_only_one_a_page_with_repeated_table_headers(driver, fixtures_report):
    """Printed (to PDF by Chromium): the table lists the problem runs only, its header row with
    its titles on every page it runs over; each opened problem run starts a page; an opened
    healthy run is not printed."""
    import base64
    import io

    pypdf = pytest.importorskip("pypdf")
    rep, res, page, _ = fixtures_report
    open_page(driver, page)
    problems = [i for i, rr in enumerate(rep.runs) if rr.verdict == "problems"]
    healthy = next(i for i, rr in enumerate(rep.runs) if rr.verdict == "healthy")
    for i in (*problems[:2], healthy):
        open_run(driver, i)
    driver.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    try:
        data = driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})["data"]
    finally:
        driver.execute_script("window.dispatchEvent(new Event('afterprint'))")
    pages = [
        _norm(p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(base64.b64decode(data))).pages
    ]
    sections = [k for k, p in enumerate(pages) if "·worst:" in p]  # a section's first line
    assert len(sections) == 2, len(pages)  # the two problem runs, not the healthy one
    for k, i in zip(sections, problems[:2], strict=True):
        assert _norm(rep.runs[i].run) in pages[k]  # its own page
    # the table: from the note above it to the first run section (the page's overview and sweep
    # sections before it may name runs of any verdict)
    note = _norm("Printed: the runs with problems only.")
    start = next(k for k, p in enumerate(pages) if note in p)
    table_pages = [pages[start].split(note, 1)[1], *pages[start + 1 : sections[0]]]
    table = [p for p in table_pages if any(_norm(rep.runs[i].run) in p for i in problems)]
    assert len(table) >= 2  # the table runs over pages ...
    head = "runworstfindingfindingstrainfinal"  # (no Status column: every printed run has problems)
    for p in table:  # ... and every one of them starts with the header's titles
        first_row = min(p.find(_norm(rep.runs[i].run)) % (len(p) + 1) for i in problems)
        assert 0 <= p.find(head) < first_row
    others = [_norm(rr.run) for rr in rep.runs if rr.verdict != "problems"]
    assert not any(o in p for o in others for p in table_pages if len(o) > 12)
    listed_problems = sum(any(_norm(rep.runs[i].run) in p for p in table) for i in problems)
    assert listed_problems >= len(problems) - 5  # names cut over a line break may not match
    assert len(pages) <= start + len(table_pages) + 2 * 3 + 3
    print(f"\nprinted {len(pages)} pages: {len(table)} of table, sections at {sections}")


_NESTED_SCROLL = """return Array.from(document.querySelectorAll('body *')).filter(function (e) {
  var s = getComputedStyle(e);
  return (/(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1) ||
    (/(auto|scroll)/.test(s.overflowX) && e.scrollWidth > e.clientWidth + 1);
}).map(function (e) { return e.tagName + '.' + e.className; });"""

# a run name's text pieces (words between break opportunities) that are split over two lines
_BROKEN_WORDS = """var out = [];
document.querySelectorAll('#runs-table td:first-child a, .rname').forEach(function (el) {
  var w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), t;
  while ((t = w.nextNode())) {
    var r = document.createRange(); r.selectNodeContents(t);
    var lines = {};
    Array.from(r.getClientRects()).forEach(function (q) { if (q.width > 0) lines[Math.round(q.top)] = 1; });
    if (Object.keys(lines).length > 1) out.push(t.textContent);
  }
});
return out;"""


def test_800px_layout(driver, fixtures_report):
    """At 800 px: no sideways scrolling, no scrollbar inside the page, run names broken only
    between words, a run's charts as wide as each other with the same x axis, chart text
    readable."""
    rep, res, page, _ = fixtures_report
    driver.set_window_size(800, 900)
    try:
        open_page(driver, page)
        assert driver.execute_script("return window.innerWidth") <= 800
        i = next(
            i
            for i, rr in enumerate(rep.runs)
            if rr.verdict == "problems" and (rr.roles.get("val_metric") or rr.roles.get("lr"))
        )
        sec = open_run(driver, i)
        driver.execute_script("arguments[0].scrollIntoView()", sec)
        svgs = sec.find_elements(By.CSS_SELECTOR, ".run-body > .charts svg.chart")
        assert len(svgs) >= 2
        widths = {s.get_attribute("width") for s in svgs}
        assert len(widths) == 1 and int(widths.pop()) <= 800
        xaxes = [
            driver.execute_script(
                "var ts = arguments[0].querySelectorAll('.axis text[text-anchor=middle]:not([transform])');"
                "return Array.from(ts).map(t => t.getAttribute('x') + ':' + t.textContent)",
                s,
            )
            for s in svgs
        ]
        assert all(x == xaxes[0] for x in xaxes) and len(xaxes[0]) >= 3, "\n".join(map(str, xaxes))
        heights = driver.execute_script(
            "return Array.from(arguments[0].querySelectorAll('.axis text')).map("
            "t => t.getBoundingClientRect().height)",
            sec,
        )
        assert min(heights) >= 10  # 11 px text drawn at its size, not scaled down
        assert driver.execute_script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        assert driver.execute_script(_NESTED_SCROLL) == []
        assert driver.execute_script(_BROKEN_WORDS) == []
        if os.environ.get("CURVELINT_SHOTS"):
            save_shots(driver, "report-800")
        # nor sideways scrolling at the widths between 800 px and a full table (every run listed)
        driver.execute_script("document.getElementById('toggle-healthy').click()")
        for width in (1000, 1100, 1200, 1280):
            driver.set_window_size(width, 900)
            assert driver.execute_script(
                "var d = document.documentElement; return d.scrollWidth <= d.clientWidth"
            ), width
        assert not errors(driver.get_log("browser"))
    finally:
        driver.set_window_size(1280, 900)


def test_huge_flat_curve_ticks_plateau_level_and_overlay(driver, tmp_path):
    """A loss stuck near 3.77e25 gets y ticks that differ (offsets from a base named on the
    axis), not five times "3.77e25"; the plateau level is drawn wide under the curve; the runs
    of one folder overlay on one chart."""
    from analyzer.findings import Finding, Mark, Report, RunReport

    from .test_report_html import make_run

    e = np.arange(300)
    runs = [
        make_run(f"sweep/seed{k}", {"loss": (e, 3.7666e25 + (k + 1) * 6e21 * np.exp(-e / 80))})
        for k in range(3)
    ]
    level = float(runs[0].curve("loss").values[-1])
    f = Finding(
        "PLT001", "loss-plateau", "plateau", "warning", "loss", 100, 299, 0.8, "stuck",
        {"plateau_level": level}, run="sweep/seed0",
        marks=(Mark("band", "plateau", 100, 299), Mark("hline", "plateau-level", 100, 299, level)),
    )  # fmt: skip
    rep = Report(
        [RunReport("sweep/seed0", "csv", {"train_loss": "loss"}, "problems", [f])]
        + [RunReport(r.id, "csv", {"train_loss": "loss"}, "healthy") for r in runs[1:]]
    )
    page = tmp_path / "huge.html"
    page.write_text(render_html(rep, LoadResult(runs, [], ["sweep"])), encoding="utf-8")
    open_page(driver, page)
    sec = open_run(driver, 0)
    svg = sec.find_element(By.CSS_SELECTOR, ".run-body > .charts svg.chart")
    ticks = [t.text for t in svg.find_elements(By.CSS_SELECTOR, ".axis text[text-anchor=end]")]
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks) and max(map(len, ticks)) <= 7
    assert "\u2212 3.76" in svg.find_element(By.CSS_SELECTOR, "text.alabel[transform]").text
    assert svg.find_elements(By.CSS_SELECTOR, ".under line.hl-under.mk-plateau")
    over = sec.find_element(By.CSS_SELECTOR, "details.overlay")
    assert "2 other runs" in over.text
    over.find_element(By.TAG_NAME, "summary").click()
    # the overlay is drawn on the details' toggle event, which the browser fires a task later
    osvg = WebDriverWait(driver, 5).until(
        lambda d: over.find_elements(By.CSS_SELECTOR, "svg.chart") or False
    )[0]
    assert len(osvg.find_elements(By.CSS_SELECTOR, "path.trend")) == 3
    assert "seed0 (this run)" in over.text and "seed2" in over.text
    assert not errors(driver.get_log("browser"))
