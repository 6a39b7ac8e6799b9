"""The HTML report: structure, escaping of hostile names, chart marks, sizes. Fast, no browser."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import re
import time
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyzer import __version__
from analyzer.engine import summarize
from analyzer.findings import Finding, Mark, Remedy, Report, RunReport
from analyzer.report.html import (
    build_charts,
    finding_facts,
    fmt_fact,
    json_for_script,
    render_html,
)
from analyzer.report.plot import (
    Band,
    Chart,
    Point,
    Series,
    VLine,
    chart_data,
    decimate,
    decode_steps,
    decode_values,
    fmt_num,
    log_ticks,
    nice_ticks,
    path_d,
    path_points,
)
from analyzer.runs import LoadResult, Run, assign, load

XSS_DIR = "<script>window.__xss=1<"  # + file "script>.csv" -> run id "<script>window.__xss=1</script>.csv"
XSS_TAG = '"><img src=x onerror=window.__xss=2>val_loss'
XSS_NOTE = "<svg onload=window.__xss=3>"

# --------------------------------------------------------------------------- builders


def make_run(run_id: str, curves: dict[str, tuple], fmt: str = "keras-csv", **kw) -> Run:
    """A Run built in memory from {tag: (steps, values)}, with roles assigned as the loader does."""
    rows = []
    for tag, (steps, values) in curves.items():
        rows.append(
            pd.DataFrame(
                {
                    "run": run_id,
                    "tag": tag,
                    "step": np.asarray(steps, np.int64),
                    "value": np.asarray(values, float),
                    "wall_time": np.nan,
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True).sort_values(["tag", "step"], kind="stable")
    run = Run(run_id, fmt, [f"{run_id}/history.csv"], frame.reset_index(drop=True), None, **kw)
    assign(run)
    return run


def shapes(n: int = 120, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Curves of every kind, keyed by name: (train, val) value arrays over n epochs."""
    rng = np.random.default_rng(seed)
    e = np.arange(n, dtype=float)
    base = 2.3 * np.exp(-e / 15)
    over_tr = base + 0.05 + rng.normal(0, 0.01, n)
    over_va = base + 0.25 + 0.004 * np.maximum(e - 40, 0) + rng.normal(0, 0.02, n)
    plat = np.where(e < 30, 2.3 * np.exp(-e / 8) + 0.6, 0.6 + 0.03 * np.sin(e / 2))
    div = np.exp(-e / 30) * np.where(e > 70, np.exp((e - 70) / 3), 1.0)
    div[90:] = np.nan
    healthy = base + 0.1 + rng.normal(0, 0.005, n)
    return {
        "overfit": (over_tr, over_va),
        "plateau": (plat, plat + 0.05),
        "diverge": (div, div * 1.1),
        "healthy": (healthy, healthy + 0.05),
    }


REMEDY = Remedy(
    "early-stopping",
    "Stop at the best checkpoint",
    "Keep the weights of the best epoch.",
    keras="keras.callbacks.EarlyStopping(monitor='val_loss', restore_best_weights=True)",
    pytorch="if val_loss < best:\n    torch.save(model.state_dict(), 'best.pt')",
)


def findings_for(kind: str, run_id: str, train: str, val: str, va: np.ndarray) -> list[Finding]:
    """Hand-made findings like the rules make, with the marks the rules give them to draw."""
    if kind == "overfit":
        i = int(np.nanargmin(va))
        return [
            Finding(
                "OVF001",
                "val-loss-rising",
                "overfitting",
                "warning",
                val,
                i,
                len(va) - 1,
                0.9,
                "Validation loss rose after its minimum.",
                {"best_step": i, "best_value": float(va[i]), "onset_step": i + 2, "rise": 0.31},
                (REMEDY,),
                run_id,
                marks=(
                    Mark("vline", "onset", start=i + 2),
                    Mark("point", "best", start=i, value=float(va[i])),
                ),
            )
        ]
    if kind == "plateau":
        return [
            Finding(
                "PLT001",
                "loss-plateau",
                "plateau",
                "warning",
                train,
                35,
                119,
                0.8,
                "Training loss is flat at 0.60.",
                {"plateau_level": 0.6, "asymptote": 0.598},
                (REMEDY,),
                run_id,
                marks=(
                    Mark("band", "plateau", start=35, end=119),
                    Mark("hline", "plateau-level", start=35, end=119, value=0.6),
                    Mark("hline", "asymptote", value=0.598),
                ),
            ),
            Finding(
                "OSC001",
                "loss-oscillation",
                "oscillation",
                "warning",
                train,
                40,
                110,
                0.7,
                "Loss oscillates.",
                {"period": 12.57, "amplitude": 0.03},
                (),
                run_id,
                marks=(Mark("band", "oscillation", start=40, end=110, period=12.57),),
            ),
        ]
    if kind == "diverge":
        return [
            Finding(
                "DIV001",
                "non-finite-loss",
                "divergence",
                "error",
                train,
                90,
                90,
                1.0,
                "Loss became NaN at epoch 90.",
                {"first_nonfinite_step": 90},
                (REMEDY,),
                run_id,
                marks=(Mark("vline", "nonfinite", start=90),),
            )
        ]
    return []


def make_report(runs: list[Run], kinds: list[str], skipped=()) -> Report:
    reports = []
    for run, kind in zip(runs, kinds, strict=False):
        cs = run.curve_set()
        fs = findings_for(
            kind,
            run.id,
            run.roles.train_loss,
            run.roles.val_loss,
            cs.val.values if cs.val is not None else np.array([np.nan]),
        )
        fs.sort(key=Finding.sort_key)
        verdict = "problems" if fs else "healthy"
        reports.append(
            RunReport(
                run.id,
                run.format,
                run.roles.primary(),
                verdict,
                fs,
                run.files,
                run.notes,
                run.roles.reasons,
                summarize(cs),
            )
        )
    return Report(reports, [dict(s) for s in skipped], __version__)


def sample(n_runs: int = 4, n: int = 120) -> tuple[Report, LoadResult]:
    sh = shapes(n)
    kinds = [list(sh)[i % len(sh)] for i in range(n_runs)]
    runs = []
    for i, k in enumerate(kinds):
        tr, va = sh[k]
        steps = np.arange(len(tr))
        runs.append(make_run(f"sweep/{k}-{i:03d}", {"loss": (steps, tr), "val_loss": (steps, va)}))
    return make_report(runs, kinds), LoadResult(runs, [], ["sweep"])


def write_hostile_logs(root: Path) -> Path:
    """Keras-CSV-style logs whose folder, file and column names are HTML/JS payloads."""
    e = np.arange(60)
    tr = 2.0 * np.exp(-e / 10) + 0.1
    va = tr + 0.1 + 0.01 * np.maximum(e - 30, 0)
    d = root / XSS_DIR
    d.mkdir(parents=True)
    rows = [[i, f"{a:.5f}", f"{b:.5f}"] for i, a, b in zip(e, tr, va, strict=False)]
    with open(d / "script>.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["epoch", "loss", XSS_TAG], *rows])
    d2 = root / '"><img src=x onerror=window.__xss=4>'
    d2.mkdir()
    with open(d2 / "history.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["epoch", "loss", "val_loss"], *rows])
    (root / "<b>junk.dat").write_bytes(b"\x00\x01\x02")
    return root


def hostile_report(root: Path) -> tuple[Report, LoadResult]:
    """Load the hostile logs and attach findings and notes that carry the payloads too."""
    res = load(root)
    assert len(res.runs) == 2, [r.id for r in res.runs]
    for run in res.runs:
        run.notes.append(XSS_NOTE)
        run.hparams["<iframe srcdoc=x>"] = "<script>window.__xss=5</script>"
    rep = make_report(res.runs, ["overfit", "overfit"], [s.to_dict() for s in res.skipped])
    for rr in rep.runs:
        f = rr.findings[0]
        rr.findings[0] = Finding(
            f.code,
            f.name,
            f.kind,
            f.severity,
            f.curve,
            f.start_step,
            f.end_step,
            f.confidence,
            f"Message about {f.curve} <script>window.__xss=6</script>",
            f.evidence,
            (
                Remedy(
                    "x", "<b>title</b>", "why <i>", keras="a < b and c > d", pytorch="x = '</code>'"
                ),
            ),
            rr.run,
        )
    return rep, res


class Tags(HTMLParser):
    """Collects start tags and their attributes (what a browser would build)."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text.append(data)


def parse(html: str) -> Tags:
    p = Tags()
    p.feed(html)
    return p


def page_data(html: str) -> tuple[dict, list[dict]]:
    """The page's JSON block: (shared texts and table rows, one record per run)."""
    start = html.index('<script type="application/json" id="run-data">')
    start = html.index(">", start) + 1
    text = html[start : html.index("</script>", start)]
    head, *runs = json.loads(text)
    return head, runs


def texts(head: dict, refs) -> list[str]:
    return [head["str"][i] if isinstance(i, int) else i for i in refs]


# --------------------------------------------------------------------------- page structure


def test_page_has_header_table_sections_charts_and_cards():
    rep, res = sample(4)
    html = render_html(rep, res)
    head, runs = page_data(html)
    assert html.startswith("<!doctype html>")
    assert f"curvelint {__version__}" in html
    assert "sweep" in html  # the analysed path
    assert len(head["rows"]) == len(runs) == 4 and 'id="runs-table"' in html
    cards = [c for r in runs for c in r.get("cards", [])]
    assert len(cards) == len(rep.findings) == 4  # overfit 1, plateau 2, diverge 1, healthy 0
    assert texts(head, [c["k"] for c in cards]) == [f.kind for f in rep.findings]
    assert [len(r["charts"]) for r in runs] == [1, 1, 1, 1]  # a loss chart (no metric or lr)
    # header counts: runs by verdict, findings by kind
    assert re.search(r"3 problems", html) and re.search(r"1 healthy", html)
    for k in ("1 plateau", "1 oscillation", "1 overfitting", "1 divergence"):
        assert k in html
    # the table's rows: problem runs first (an error first), with their filter data
    assert [r[0] for r in head["rows"]] == [2, 0, 1, 3]
    assert head["rows"][0][13] == "divergence:error" and head["rows"][3][13] == ""
    assert head["rows"][0][3] == "problems" and head["rows"][3][3] == "healthy"


def test_summary_numbers_in_overview_table():
    rep, res = sample(1)
    head, _ = page_data(render_html(rep, res))
    s = rep.runs[0].summary
    row = head["rows"][0]
    assert row[8] == pytest.approx(s["train_final"], rel=1e-5)
    assert row[11] == pytest.approx(s["val_best"], rel=1e-5) and row[12] == s["val_best_step"]


def test_finding_card_has_evidence_why_and_copyable_snippets():
    rep, res = sample(1)
    f = rep.runs[0].findings[0]
    from rules import overfitting

    facts = tuple((k, label, fm) for k, (label, fm) in overfitting.FACTS.items())
    f = replace(f, why=f"Because {f.code} matters.\n\nSecond.", facts=facts)
    rep.runs[0].findings[0] = f
    html = render_html(rep, res)
    head, runs = page_data(html)
    (card,) = runs[0]["cards"]
    assert head["why"][card["y"]] == ["Because OVF001 matters.", "Second."]
    evidence = {
        t: v for t, (_, v) in zip(texts(head, [k for k, _ in card["e"]]), card["e"], strict=True)
    }
    # the rule's words and units, in its order; keys it does not list ("rise") stay in the JSON
    assert list(evidence) == ["best value at", "best value"]
    assert evidence["best value at"] == f"step {f.evidence['best_step']:,}"
    assert "onset_step" not in html and "best_step" not in html and "rise" not in evidence
    # the card names its remedies by their numbers in the run's one remedy list
    (k,) = card["r"]
    shared_ref, addresses = runs[0]["rem"][k - 1]
    remedy = head["rem"][shared_ref]
    assert addresses == [1]  # the remedy says which findings it is for
    assert "keras.callbacks.EarlyStopping(monitor='val_loss'" in remedy[3] and remedy[4]
    assert card["cf"] == 90


def test_why_it_matters_comes_from_the_rule_docs():
    import rules
    from rules import overfitting

    from .helpers import cs

    e = np.arange(40)
    tr = 2.0 * np.exp(-e / 8) + 0.05
    va = np.r_[2.0 * np.exp(-e[:15] / 8) + 0.3, 2.0 * np.exp(-14 / 8) + 0.3 + 0.03 * (e[15:] - 14)]
    (f,) = overfitting.check(cs(train=(e, tr), val=(e, va)))
    text = rules.get("OVF001").sections()["Why it matters"].strip()
    assert text and f.why == text
    assert text.split("\n\n")[0].split()[0] in render_html(
        Report([RunReport("r", "csv", {}, "problems", [f])], version="t")
    )


def test_roles_notes_and_skipped_are_shown():
    rep, res = sample(1)
    rep.runs[0].notes = ["step = row number (no epoch column)"]
    rep.skipped = [{"path": "logs/model.h5", "reason": "not a training log"}]
    html = render_html(rep, res)
    head, runs = page_data(html)
    assert "train loss: 'loss' — the only training loss" in texts(head, runs[0]["why_roles"])
    assert texts(head, runs[0]["notes"]) == ["step = row number (no epoch column)"]
    assert "logs/model.h5" in html and "not a training log" in html


def test_self_contained_no_network_and_csp_allows_only_own_script():
    rep, res = sample(2)
    html = render_html(rep, res)
    t = parse(html)
    assert not [a for tag, a in t.tags if tag in ("link", "img", "iframe", "object", "embed")]
    assert not [
        a for tag, a in t.tags if "src" in a or ("href" in a and not a["href"].startswith("#"))
    ]
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}
    scripts = [a for tag, a in t.tags if tag == "script"]
    assert scripts == [{"type": "application/json", "id": "run-data"}, {}]  # data, then ours
    own = html[html.rindex("<script>") + len("<script>") : html.rindex("</script>")]
    digest = base64.b64encode(hashlib.sha256(own.encode()).digest()).decode()
    csp = next(a["content"] for tag, a in t.tags if tag == "meta" and a.get("http-equiv"))
    assert f"'sha256-{digest}'" in csp and "default-src 'none'" in csp


def test_without_load_result_cards_but_no_charts():
    rep, _ = sample(2)
    html = render_html(rep, None, title="Sweep 7")
    assert "<title>Sweep 7</title>" in html
    _, runs = page_data(html)
    assert not any("charts" in r for r in runs)
    assert sum(len(r.get("cards", [])) for r in runs) == len(rep.findings)


def test_empty_report_renders():
    html = render_html(
        Report([], [{"path": "a.txt", "reason": "no numbers"}], __version__),
        LoadResult([], [], ["logs"]),
    )
    assert "No run could be read" in html and "a.txt" in html


# --------------------------------------------------------------------------- escaping


def test_hostile_names_are_escaped(tmp_path):
    rep, res = hostile_report(write_hostile_logs(tmp_path / "logs"))
    html = render_html(rep, res)
    t = parse(html)
    # the only executable script is ours, and no element carries an event handler or a src
    assert [a.get("type") for tag, a in t.tags if tag == "script"] == ["application/json", None]
    assert "__xss" not in t.script_text[-1]
    for tag, attrs in t.tags:
        assert tag not in ("img", "iframe", "svg") or tag == "svg" and "onload" not in attrs
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
    # no markup from the logs anywhere: the names travel as JSON with "<" written \u003c
    for raw in ("<script>window", "<img", "<svg onload", "<iframe", "<b>junk", "<b>title"):
        assert raw not in html
    assert "&lt;b&gt;junk.dat" in html  # skipped paths are HTML, escaped
    head, runs = page_data(html)
    names = {r[1] for r in head["rows"]}
    assert "<script>window.__xss=1</script>.csv" in names
    assert any(n.startswith('"><img src=x onerror=window.__xss=4>') for n in names)
    everything = json.dumps([head, runs], ensure_ascii=False)
    for payload in (XSS_TAG, XSS_NOTE, "<iframe srcdoc=x>", "a < b and c > d", "x = '</code>'"):
        assert payload in everything
    assert "\\u003cscript\\u003ewindow.__xss=1\\u003c/script\\u003e.csv" in html


def test_json_in_the_page_cannot_end_its_script_or_open_a_comment():
    text = json_for_script({"a": "</script><!-- <script>x</script> & \u2028", "n": float("nan")})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- <script>x</script> & \u2028", "n": None}


def test_svg_text_is_escaped():
    c = Chart(
        "<t>&",
        series=[Series("<a>", np.arange(5), np.arange(5.0) + 1, "s-train")],
        bands=[Band(1, 2, "</text><script>x</script>")],
        vlines=[VLine(3, "<v>")],
        points=[Point(2, 3.0, "<p>")],
    )
    svg = str(c.svg())
    assert "<script>" not in svg and "&lt;/text&gt;&lt;script&gt;" in svg
    assert "&lt;t&gt;&amp;" in svg and "&lt;v&gt;" in svg and "&lt;p&gt;" in svg


# --------------------------------------------------------------------------- charts


def _line_points(svg: str) -> list[tuple[str, np.ndarray]]:
    return [
        (m.group(1), path_points(m.group(2)))
        for m in re.finditer(r'<path class="([^"]+)" d="([^"]*)"', svg)
    ]


def test_findings_are_drawn_on_the_loss_chart():
    rep, res = sample(4)
    charts = {rr.run: build_charts(r, rr) for r, rr in zip(res.runs, rep.runs, strict=False)}
    over, plat, div, healthy = (charts[r.id][0] for r in res.runs)
    assert (
        over.vlines[0].cls == "mk-onset"
        and over.vlines[0].step == rep.runs[0].findings[0].evidence["onset_step"]
    )
    assert over.points[0].cls == "mk-best"
    assert {b.cls for b in plat.bands} == {"mk-plateau", "mk-osc"}
    assert any("period ≈ 12.6 steps" in b.label for b in plat.bands)
    assert {h.cls for h in plat.hlines} == {"mk-plateau", "mk-asym"}
    assert div.vlines[0].cls == "mk-nonfinite" and div.vlines[0].step == 90
    assert not (healthy.bands or healthy.vlines or healthy.points or healthy.hlines)
    svg = str(plat.svg())
    assert svg.count('class="band mk-plateau"') == 1 and svg.count('class="band mk-osc"') == 1
    assert "fitted asymptote 0.598" in svg


def test_band_and_marker_positions_match_steps():
    x = np.arange(0, 101)
    c = Chart(
        "t",
        series=[Series("a", x, 1.0 + x / 100.0, "s-train")],
        bands=[Band(20, 40, "b")],
        vlines=[VLine(50, "v")],
        log=False,
    )
    svg = str(c.svg())
    x0, x1 = c.ml, c.width - c.mr
    m = re.search(r'<rect class="band mk-plateau" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    assert float(m.group(1)) == pytest.approx(x0 + 0.2 * (x1 - x0), abs=0.1)
    assert float(m.group(2)) == pytest.approx(0.2 * (x1 - x0), abs=0.2)
    m = re.search(r'<line class="vline mk-onset" x1="([\d.]+)"', svg)
    assert float(m.group(1)) == pytest.approx(x0 + 0.5 * (x1 - x0), abs=0.1)


def test_nonfinite_values_are_not_plotted_and_log_scale_is_chosen():
    v = np.r_[np.geomspace(10, 0.01, 50), [np.nan, np.inf, -np.inf]]
    c = Chart("t", series=[Series("a", np.arange(len(v)), v, "s-train")])
    svg = str(c.svg())
    assert c.log is True and "log scale" in svg
    for _, pts in _line_points(svg):
        assert np.isfinite(pts).all()
        assert len(pts) == 50  # short curve: drawn as is
    flat = Chart("t", series=[Series("a", np.arange(50), np.linspace(1, 0.5, 50), "s-train")])
    flat.svg()
    assert flat.log is False
    neg = Chart("t", series=[Series("a", np.arange(50), np.linspace(1, -50, 50), "s-train")])
    neg.svg()
    assert neg.log is False


def test_long_curves_are_decimated_and_smoothed():
    n = 100_000
    rng = np.random.default_rng(1)
    y = 1 + np.exp(-np.arange(n) / 2e4) + rng.normal(0, 0.05, n)
    y[54_321] = 50.0  # a spike must survive decimation
    c = Chart("t", series=[Series("a", np.arange(n), y, "s-train")], log=False)
    svg = str(c.svg())
    lines = dict(_line_points(svg))
    raw, trend = lines["raw s-train"], lines["trend s-train"]
    assert len(raw) <= 600 and len(trend) <= 301
    top = raw[np.argmin(raw[:, 1])]  # highest value = smallest pixel y
    assert top[1] == pytest.approx(c.mt + 0, abs=30)
    assert len(svg) < 20_000


def test_decimate_keeps_extremes_and_order():
    rng = np.random.default_rng(2)
    x = np.arange(10_000.0)
    y = rng.normal(size=10_000)
    xd, yd = decimate(x, y, 100)
    assert len(xd) <= 200 and np.all(np.diff(xd) > 0)
    assert yd.max() == y.max() and yd.min() == y.min()
    xs, ys = decimate(x[:50], y[:50], 100)
    assert len(xs) == 50


def test_path_data_round_trips_and_is_compact():
    rng = np.random.default_rng(4)
    x = np.sort(rng.uniform(0, 800, 300))
    y = rng.uniform(0, 300, 300)
    d = path_d(x, y)
    assert np.allclose(path_points(d), np.c_[x, y], atol=0.051)
    assert np.allclose(path_points(path_d(x, y, 1)), np.c_[x, y], atol=0.51)
    assert path_d([10.0, 10.5, 10.3], [5.0, 4.0, 4.06]) == "M10 5l.5-1-.2 .1"
    assert len(path_d(x, y, 1)) < 300 * 8


def test_ticks_and_numbers():
    assert nice_ticks(0, 1, 5) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(3, 1003, 5) == [200, 400, 600, 800, 1000]
    assert nice_ticks(0.013, 0.094, 5) == pytest.approx([0.02, 0.04, 0.06, 0.08])
    assert log_ticks(0.01, 10) == [0.01, 0.1, 1.0, 10.0]
    assert log_ticks(0.15, 3) == pytest.approx([0.2, 0.5, 1, 2])
    assert fmt_num(0.000123) == "1.23e-4" and fmt_num(12345.6) == "1.23e4"
    assert (
        fmt_num(48110.0) == "48,110" and fmt_num(3.77e25) == "3.77e25" and fmt_num(-2.5) == "-2.5"
    )
    assert fmt_num(0.5) == "0.5" and fmt_num(float("nan")) == "nan"
    assert fmt_fact("step", 1200.0) == "step 1,200" and fmt_fact("value", 0.123456) == "0.1235"
    assert fmt_fact("text", ["NaN", "inf"]) == "NaN, inf" and fmt_fact("int", True) == "yes"
    assert fmt_fact("x", 108.133) == "×108" and fmt_fact("%", 0.2076) == "21%"
    assert fmt_fact("+%", 0.0552) == "+5.5%" and fmt_fact("+%", -0.69) == "-69%"
    assert fmt_fact("p", 2.8e-7) == "< 0.001" and fmt_fact("p", 0.0286) == "0.029"
    assert (
        fmt_fact("steps", 12.5) == "12.5 steps" and fmt_fact("noise", 23.85) == "23.9 × the noise"
    )
    assert fmt_fact("value", 3.77e25) == "3.77e25"
    for nothing in (None, float("nan"), "nan", [], "inf"):  # nothing to say: no line
        assert fmt_fact("%", nothing) is None or nothing == "inf"


def test_metric_and_lr_get_their_own_chart_and_findings_follow_their_curve():
    e = np.arange(80)
    run = make_run(
        "r",
        {
            "loss": (e, np.exp(-e / 20) + 0.1),
            "val_loss": (e, np.exp(-e / 20) + 0.2),
            "val_accuracy": (e, 1 - np.exp(-e / 10)),
            "learning_rate": (e, 1e-3 * 0.5 ** (e // 20)),
        },
    )
    f = Finding(
        "LRS001",
        "lr-schedule",
        "schedule",
        "warning",
        "learning_rate",
        20,
        60,
        0.5,
        "m",
        {"asymptote": 2e-4},
        (),
        "r",
        marks=(Mark("hline", "asymptote", value=2e-4),),
    )
    rr = RunReport("r", "keras-csv", run.roles.primary(), "problems", [f])
    charts = build_charts(run, rr)
    assert [c.ylabel for c in charts] == ["loss", "val_accuracy", "learning rate"]
    assert charts[2].bands and charts[2].hlines and not charts[0].bands


# --------------------------------------------------------------------------- size and speed


def test_size_and_time_for_a_sweep_of_long_runs():
    n_runs, n = 60, 5000
    rng = np.random.default_rng(3)
    steps = np.arange(n)
    runs = []
    for i in range(n_runs):
        tr = 2 * np.exp(-steps / (500 + 10 * i)) + 0.1 + rng.normal(0, 0.02, n)
        runs.append(
            make_run(
                f"sweep/run-{i:03d}",
                {"loss": (steps, tr), "val_loss": (steps[::10], tr[::10] + 0.1)},
            )
        )
    rep = make_report(runs, ["overfit"] * n_runs)
    t0 = time.perf_counter()
    html = render_html(rep, LoadResult(runs, [], ["sweep"]))
    dt = time.perf_counter() - t0
    per_run = len(html.encode()) / n_runs
    assert per_run < 30_000, per_run  # 500 such runs stay under 15 MB
    assert dt < 0.1 * n_runs, dt  # well under 100 ms a run even on a slow machine


def test_cli_writes_the_report_with_the_real_rules(tmp_path, capsys):
    from analyzer.cli import main

    logs = tmp_path / "logs"
    sh = shapes(120)
    for kind in ("overfit", "diverge", "healthy"):
        tr, va = sh[kind]
        d = logs / kind
        d.mkdir(parents=True)
        rows = [f"{i},{a:.6g},{b:.6g}" for i, (a, b) in enumerate(zip(tr, va, strict=True))]
        (d / "history.csv").write_text("epoch,loss,val_loss\n" + "\n".join(rows) + "\n")
    out = tmp_path / "report.html"
    code = main(["check", str(logs), "--format", "html", "-o", str(out), "--no-config"])
    assert code in (0, 1)
    html = out.read_text(encoding="utf-8")
    head, runs = page_data(html)
    assert len(head["rows"]) == 3 and all(r.get("charts") for r in runs)
    assert "overfit/history.csv" in html and "wrote" in capsys.readouterr().err
    # the divergence the rules find is drawn on its chart
    marks = [m[1] for r in runs for c in r["charts"] for m in c.get("v", [])]
    assert any("first non-finite value" in m for m in marks)


def test_page_size_per_run_is_bounded_for_a_large_sweep():
    """Issue 19: each run's curves once, compactly; 2,000 runs stay under 2.5 KB a run."""
    rep, res = sample(2000, n=400)
    t0 = time.perf_counter()
    html = render_html(rep, res)
    dt = time.perf_counter() - t0
    per_run = len(html.encode()) / 2000
    assert per_run < 2_500, per_run
    assert dt < 20, dt


def test_chart_data_keeps_a_spike_and_the_envelope():
    n = 100_000
    rng = np.random.default_rng(1)
    x = np.arange(n) * 10
    y = 1 + np.exp(-np.arange(n) / 2e4) + rng.normal(0, 0.05, n)
    y[54_321] = 50.0
    y[77_777] = -3.0
    d = chart_data(Chart("t", series=[Series("a", x, y, "s-train")], log=False))
    (se,) = d["s"]
    yy = decode_values(se["y"])
    xx = decode_steps(se["x"], len(yy))
    assert len(yy) <= 500 and se["n"] == n and "t" in se  # decimated, with its trend
    assert yy.max() == pytest.approx(50.0, rel=1e-3) and yy.min() == pytest.approx(-3.0, abs=0.02)
    assert xx[np.argmax(yy)] == pytest.approx(543_210, abs=(x[-1] - x[0]) / 511)
    assert np.all(np.diff(xx) >= 0)
    # an evenly logged short curve is sent whole, steps as (first, stride)
    d = chart_data(Chart("t", series=[Series("a", np.arange(5, 105), np.linspace(2, 1, 100))]))
    assert d["s"][0]["x"] == [5, 1] and "t" not in d["s"][0]
    assert np.allclose(decode_values(d["s"][0]["y"]), np.linspace(2, 1, 100), atol=1 / 1000)


def test_values_are_encoded_to_9_bits_in_log_space_when_they_span_decades():
    from analyzer.report.plot import encode_values

    v = np.geomspace(1e-4, 10, 300)
    enc = encode_values(v, log=True)
    assert len(enc[2]) == 450 and enc[3] == 1  # two values per three characters
    # at most 1/1022 of the 5 decades off: ~1.1% of a value, under half a pixel of a chart
    assert np.allclose(decode_values(enc), v, rtol=1.2e-2)
    odd = encode_values(v[:7])
    assert len(odd[2]) == 11 and len(decode_values(odd)) == 7


def test_every_finding_of_the_fixtures_shows_facts_in_words():
    """Each finding the rules make on the bundled fixtures shows 2-5 facts labelled by its
    rule's FACTS (never a raw evidence key), none of them empty or NaN; the JSON keeps the raw
    evidence."""
    import rules
    from analyzer.engine import analyze
    from analyzer.findings import FACT_FORMATS

    for r in rules.all_rules():
        facts = getattr(r.module, "FACTS", None)
        assert facts, r.code
        assert all(fm in FACT_FORMATS and label for label, fm in facts.values()), r.code
    res = load([Path(__file__).resolve().parents[1] / "fixtures" / n for n in ("training", "gen4")])
    rep = analyze(res)
    seen = set()
    for f in rep.findings:
        shown = finding_facts(f)
        labels = {label for _, (label, _) in rules.get(f.code).module.FACTS.items()}
        assert 2 <= len(shown) <= 5 or (f.evidence.get("pattern") == "validation-off-scale"), f
        assert {label for label, _ in shown} <= labels
        assert all(v and "nan" not in v and "None" not in v for _, v in shown), shown
        assert set(f.to_dict()["evidence"]) == set(f.evidence)
        seen.add(f.code)
    assert len(seen) >= 5, seen


# --------------------------------------------------------------------------- triage (issue 14)


def test_restart_steps_are_read_from_the_readers_own_notes(tmp_path):
    """The charts mark a resumed run where the readers' notes say it restarted: the notes are
    made here by the readers themselves, so a change of their wording fails this test."""
    from analyzer.readers import apply_restarts, make_frame
    from analyzer.readers.base import restart_steps

    # one session 0..19, resumed at 12 (logs 12..29), resumed again at 25 (logs 25..39)
    steps = [*range(20), *range(12, 30), *range(25, 40)]
    frame = make_frame("r", "loss", steps, np.arange(len(steps), dtype=float))
    _, notes = apply_restarts(pd.concat([frame, frame.assign(tag="acc")]), "r")
    assert len(notes) == 2  # one note a tag, with the same steps
    assert restart_steps(notes) == [12, 25]
    # short sessions: restarts at 1 and at 2; the points that climb after a start are that
    # session's, not restarts
    frame = make_frame("r", "loss", [0, 1, 2, 3, 1, 2, 3, 4, 5, 2, 3, 4, 5, 6], np.zeros(14))
    assert restart_steps(apply_restarts(frame, "r")[1]) == [1, 2]
    # TensorBoard's SessionLog.START note names the sessions' steps
    tb = "run: SessionLog.START (a session restarted at step 501, 1001, 1501): 8 point(s) ..."
    assert restart_steps([tb, "something else entirely"]) == [501, 1001, 1501]
    assert restart_steps([]) == [] and restart_steps(["restart(s) detected"]) == []


def test_charts_share_a_width_restarts_marked_and_a_constant_lr_is_said_not_drawn():
    e = np.arange(60)
    run = make_run(
        "r",
        {
            "loss": (e, np.exp(-e / 20) + 0.1),
            "val_accuracy": (e, 1 - np.exp(-e / 10)),
            "learning_rate": (e, np.full(60, 1e-3)),
        },
    )
    note = "loss: 1 restart(s) detected (step went back to 30); 10 point(s) logged before ..."
    rr = RunReport("r", "keras-csv", run.roles.primary(), "healthy", [], notes=[note])
    charts = build_charts(run, rr)
    assert [c.ylabel for c in charts] == ["loss", "val_accuracy"]  # no chart of a flat line
    assert len({c.width for c in charts}) == 1
    assert any("constant 0.001" in n for n in charts[0].notes)
    for c in charts:
        marks = [(v.step, v.cls) for v in c.vlines]
        assert marks == [(30, "mk-restart")]
        assert chart_data(c)["v"][0][:3] == [30, "restart", "mk-restart"]
    # a changing learning rate keeps its chart
    run = make_run("r", {"loss": (e, np.exp(-e / 20)), "lr": (e, 1e-3 * 0.5 ** (e // 20))})
    rr = RunReport("r", "keras-csv", run.roles.primary(), "healthy", [])
    assert [c.ylabel for c in build_charts(run, rr)] == ["loss", "learning rate"]


def test_rows_carry_the_folder_their_runs_share():
    """The table rows name each run's group (the folder holding its folder): the page overlays
    the runs of one group on one chart."""
    from analyzer.report.html import run_group

    def rr(run, files):
        return RunReport(run, "csv", {}, "healthy", [], files=files)

    assert run_group(rr("sweep/seed0", ["sweep/seed0/history.csv"])) == "sweep"
    assert run_group(rr("a/lightning_logs/version_3", ["a/lightning_logs/version_3/m.csv"])) == (
        "a/lightning_logs"
    )
    assert run_group(rr("a/b/training_log.csv", ["a/b/training_log.csv"])) == "a"  # a file run
    assert run_group(rr("top", ["top/history.csv"])) == ""
    rep, res = sample(3)
    head, _ = page_data(render_html(rep, res))
    assert {texts(head, [r[14]])[0] for r in head["rows"]} == {"sweep"}


def test_summary_chips_are_buttons_naming_a_filter_value_that_exists():
    rep, res = sample(4)
    html = render_html(rep, res)
    tags = parse(html).tags
    options: dict[str, set[str]] = {}
    current = None
    for tag, attrs in tags:
        if tag == "select":
            current = attrs["id"]
            options[current] = set()
        elif tag == "option" and current:
            options[current].add(attrs["value"])
    chips = [a for t, a in tags if t == "button" and "chip" in a.get("class", "")]
    assert {a["data-f"] for a in chips} == {"f-status", "f-kind", "f-sev"}
    for a in chips:
        assert a["data-v"] in options[a["data-f"]] and a["aria-pressed"] == "false"
    assert {a["data-v"] for a in chips if a["data-f"] == "f-status"} == {"problems", "healthy"}
    # the table's header cells carry their titles for the printed (repeated) header rows
    titles = [a.get("data-t") for t, a in tags if t == "th" and "aria-sort" in a]
    assert titles[:3] == ["Run", "Status", "Worst finding"] and all(titles)


def test_a_link_from_the_top_to_the_verification_section_when_there_is_one():
    rep, res = sample(1)
    section = '<section id="verification"><h2>Verification</h2></section>'
    html = render_html(rep, res, verification=section)
    top = html[: html.index("<main")]
    assert 'href="#verification"' in top and 'id="verification"' in html[len(top) :]
    assert 'href="#verification"' not in render_html(rep, res)
