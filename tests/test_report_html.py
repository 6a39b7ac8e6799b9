"""The HTML report: structure, escaping of hostile names, chart marks, sizes. Fast, no browser."""

from __future__ import annotations

import base64
import csv
import hashlib
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
from analyzer.report.html import build_charts, fmt_evidence, render_html
from analyzer.report.plot import (
    Band,
    Chart,
    Point,
    Series,
    VLine,
    decimate,
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


# --------------------------------------------------------------------------- page structure


def test_page_has_header_table_sections_charts_and_cards():
    rep, res = sample(4)
    html = render_html(rep, res)
    t = parse(html)
    assert html.startswith("<!doctype html>")
    assert f"curvelint {__version__}" in html
    assert "sweep" in html  # the analysed path
    rows = [a for tag, a in t.tags if tag == "tr" and "data-idx" in a]
    sections = [a for tag, a in t.tags if tag == "details" and "run" in a.get("class", "").split()]
    assert len(rows) == len(sections) == 4
    cards = [a for tag, a in t.tags if tag == "article" and "card" in a.get("class", "")]
    assert len(cards) == len(rep.findings) == 4  # overfit 1, plateau 2, diverge 1, healthy 0
    assert [a["data-kind"] for a in cards] == [f.kind for f in rep.findings]
    svgs = [a for tag, a in t.tags if tag == "svg"]
    assert len(svgs) == 4  # one loss chart per run (no metric or lr logged)
    # header counts: runs by verdict, findings by kind
    assert re.search(r"3 problems", html) and re.search(r"1 healthy", html)
    for k in ("1 plateau", "1 oscillation", "1 overfitting", "1 divergence"):
        assert k in html
    # the overview table carries sortable values and filter data
    assert rows[2]["data-f"] == "divergence:error" and rows[3]["data-f"] == ""
    assert rows[0]["data-status"] == "problems"


def test_summary_numbers_in_overview_table():
    rep, res = sample(1)
    html = render_html(rep, res)
    s = rep.runs[0].summary
    assert fmt_num(s["train_final"]) in html and fmt_num(s["val_best"]) in html
    assert f'data-v="{float(s["val_best_step"])!r}"' in html


def test_finding_card_has_evidence_why_and_copyable_snippets():
    rep, res = sample(1)
    f = rep.runs[0].findings[0]
    rep.runs[0].findings[0] = replace(f, why=f"Because {f.code} matters.\n\nSecond.")
    html = render_html(rep, res)
    assert "Because OVF001 matters." in html and "<p>Second.</p>" in html
    assert "best step" in html and ">0.31<" in html  # evidence, formatted
    assert html.count('class="copy"') == 2  # Keras + PyTorch
    assert "<pre><code>keras.callbacks.EarlyStopping(monitor=&#39;val_loss&#39;" in html
    assert "confidence 90%" in html


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
    assert "train loss: &#39;loss&#39; — the only training loss" in html
    assert "step = row number (no epoch column)" in html
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
    assert len(scripts) == 1 and "".join(t.script_text).strip()
    digest = base64.b64encode(hashlib.sha256("".join(t.script_text).encode()).digest()).decode()
    csp = next(a["content"] for tag, a in t.tags if tag == "meta" and a.get("http-equiv"))
    assert f"'sha256-{digest}'" in csp and "default-src 'none'" in csp


def test_without_load_result_cards_but_no_charts():
    rep, _ = sample(2)
    html = render_html(rep, None, title="Sweep 7")
    assert "<title>Sweep 7</title>" in html
    assert "<svg" not in html and "No curve to plot" in html
    assert html.count('class="card ') == len(rep.findings)


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
    # the only script element is ours, and no element carries an event handler or a src
    assert [tag for tag, _ in t.tags].count("script") == 1
    assert "__xss" not in "".join(t.script_text)
    for tag, attrs in t.tags:
        assert tag not in ("img", "iframe", "svg") or tag == "svg" and "onload" not in attrs
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
    # the names are there, as text
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;.csv" in html
    assert "&lt;img src=x onerror=window.__xss=2&gt;val_loss" in html
    assert "&lt;svg onload=window.__xss=3&gt;" in html
    assert "&lt;iframe srcdoc=x&gt;" in html
    assert "a &lt; b and c &gt; d" in html and "x = &#39;&lt;/code&gt;&#39;" in html
    for raw in ("<script>window", "<img", "<svg onload", "<iframe", "<b>junk", "<b>title"):
        assert raw not in html
    # the tag name shows in the chart legend and its SVG title too
    assert html.count("onerror=window.__xss=2&gt;val_loss") >= 3


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
    assert (
        fmt_evidence("best_step", 1200.0) == "1,200" and fmt_evidence("rise", 0.123456) == "0.1235"
    )
    assert fmt_evidence("x", [1, 2]) == "1, 2" and fmt_evidence("ok", True) == "yes"


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
    assert html.count('<details class="run"') == 3 and html.count('<svg class="chart"') == 3
    assert "overfit/history.csv" in html and "wrote" in capsys.readouterr().err
    # the divergence the rules find is drawn on its chart
    assert "first non-finite value" in html
