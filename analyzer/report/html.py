"""The self-contained HTML report: one file, opens from disk, nothing fetched.

``render_html(report, result)`` turns the findings of :func:`analyzer.engine.analyze` and the curves
of :func:`analyzer.runs.load` into a page with

* a header (what was analysed, when, by which version; runs by verdict, findings by kind),
* an overview table of the runs (sortable, filterable by kind/severity/status, searchable),
* one collapsible section per run: a loss chart with every finding drawn on it, a chart of the
  metric and the learning rate when logged, one card per finding (message, evidence, why it matters,
  remedies with copyable Keras and PyTorch snippets), the role choices and the reader notes,
* the files that were skipped and why.

Everything that comes from the logs (run and tag names, paths, notes, hyper-parameters) is treated
as hostile: Jinja2 autoescapes it, the SVG charts escape their text, the small inline script reads
data attributes only and never builds markup, and a Content-Security-Policy allows no script but the
report's own (by hash) and no network access at all. This module draws; it does not analyse.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from .. import __version__
from ..findings import PROBLEM_KINDS, SEVERITY_RANK, Finding, Report, RunReport, step_range
from .plot import Band, Chart, HLine, Point, Series, VLine, fmt_num

TEMPLATES = Path(__file__).parent / "templates"
VERDICT_ORDER = ("problems", "insufficient-data", "healthy")
OPEN_RUNS_UP_TO = 8  # run sections start expanded when there are at most this many runs
STEP_KEYS = ("step", "steps", "period", "epoch", "epochs", "window", "points", "count", "patience")


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_num
    env.filters["step"] = _fmt_step_value
    return env


@lru_cache(maxsize=1)
def _static() -> tuple[str, str]:
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    js = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    return css, js


def _fmt_step_value(x: Any) -> str:
    if x is None:
        return "–"
    try:
        return f"{int(x):,}"
    except (TypeError, ValueError):
        return str(x)


def fmt_evidence(key: str, value: Any) -> str:
    """One evidence value as text: steps as integers with separators, floats with 4 digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if (
        isinstance(value, float)
        and math.isfinite(value)
        and (any(key.endswith(k) for k in STEP_KEYS) and value == int(value))
    ):
        return f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return fmt_num(value, 4)
    if isinstance(value, (list, tuple)):
        shown = [fmt_evidence(key, v) for v in list(value)[:8]]
        return ", ".join(shown) + (" …" if len(value) > 8 else "")
    if isinstance(value, dict):
        return ", ".join(f"{k}: {fmt_evidence(str(k), v)}" for k, v in list(value.items())[:8])
    return str(value)


def _num_or_none(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


# ---------------------------------------------------------------------------- charts


Refs = dict[tuple, tuple[Any, list[int], str]]


def _put(refs: Refs, chart: Chart, name: str, mark: Any, n: int) -> None:
    """Add ``mark`` for finding number ``n`` to ``chart.<name>``; a mark equal to one already there
    (same kind, place and text, e.g. non-finite train and val loss at one step) is shared, and its
    label lists both numbers (``#2, #3 DIV001 ...``) instead of stacking duplicates."""
    pos = tuple(getattr(mark, a, None) for a in ("start", "end", "step", "value"))
    key = (id(chart), name, mark.cls, pos, mark.label)
    if key in refs:
        refs[key][1].append(n)
    else:
        refs[key] = (mark, [n], mark.label)
        getattr(chart, name).append(mark)
    m, ns, text = refs[key]
    m.label = ", ".join(f"#{k}" for k in ns) + " " + text


def _marks(refs: Refs, chart: Chart, f: Finding, n: int) -> None:
    """Draw finding ``f`` (card number ``n``) on ``chart``: the marks its rule gave it, and a band
    (or line) over its steps for a problem whose marks do not place it."""

    def put(name: str, mark: Any) -> None:
        _put(refs, chart, name, mark, n)

    title = f"#{n} {f.code} {f.name}: {f.message}"
    for m in f.marks:
        start, end = _num_or_none(m.start), _num_or_none(m.end)
        end = end if end is not None else start
        value = _num_or_none(m.value)
        if m.role == "plateau" and start is not None:
            put(
                "bands",
                Band(
                    start, start if end is None else end, f"{f.code} plateau", "mk-plateau", title
                ),
            )
        elif m.role == "plateau-level" and value is not None:
            label = f"plateau {fmt_num(value)}"
            put("hlines", HLine(value, label, "mk-plateau", start, end, title))
        elif m.role == "oscillation" and start is not None:
            period = _num_or_none(m.period)
            label = f"{f.code} oscillation" + (
                f", period ≈ {fmt_num(period)} steps" if period else ""
            )
            put("bands", Band(start, start if end is None else end, label, "mk-osc", title))
        elif m.role == "onset" and start is not None:
            put("vlines", VLine(start, f"{f.code} overfitting onset", "mk-onset", title))
        elif m.role == "best" and start is not None and value is not None:
            where = f"step {int(start):,}"
            tip = f"best checkpoint: {fmt_num(value, 4)} at {where}"
            put("points", Point(start, value, f"best checkpoint, {where}", "mk-best", tip))
        elif m.role == "nonfinite" and start is not None:
            label = f"{f.code} first non-finite value, step {int(start):,}"
            put("vlines", VLine(start, label, "mk-nonfinite", title))
        elif m.role == "diverge" and start is not None:
            put("vlines", VLine(start, f"{f.code} {f.name}", "mk-diverge", title))
        elif m.role == "asymptote" and value is not None:
            tip = f"{title} (fitted asymptote {fmt_num(value, 4)})"
            put("hlines", HLine(value, f"fitted asymptote {fmt_num(value)}", "mk-asym", title=tip))
    start, end = _num_or_none(f.start_step), _num_or_none(f.end_step)
    placed = any(m.role != "asymptote" for m in f.marks)  # a fitted level places nothing
    if not placed and f.severity != "info" and start is not None:
        if end is not None and end > start:
            put("bands", Band(start, end, f"{f.code} {f.kind}", "mk-other", title))
        else:
            put("vlines", VLine(start, f"{f.code} {f.kind}", "mk-other", title))


def _curve_series(run: Any, tag: str | None, label: str, cls: str) -> Series | None:
    if run is None or tag is None:
        return None
    try:
        c = run.curve(tag)
    except Exception:
        return None
    if c is None or not len(c):
        return None
    return Series(f"{label}: {tag}", c.steps, c.values, cls)


def build_charts(run: Any, rr: RunReport) -> list[Chart]:
    """The loss chart (with every finding drawn) and, when logged, metric and learning-rate charts."""
    roles = getattr(run, "roles", None)
    loss = Chart(f"{rr.run}: loss", ylabel="loss")
    metric = Chart(f"{rr.run}: metric", ylabel="metric", width=560, height=230)
    lr = Chart(f"{rr.run}: learning rate", ylabel="learning rate", width=560, height=230)
    if roles is not None:
        for tag, label, cls in (
            (roles.train_loss, "train", "s-train"),
            (roles.val_loss, "val", "s-val"),
        ):
            s = _curve_series(run, tag, label, cls)
            if s:
                loss.series.append(s)
        if not loss.series:  # no primary loss (e.g. adversarial losses): show a few losses
            for i, (tag, info) in enumerate(sorted(roles.tags.items())):
                if info.kind == "loss" and len(loss.series) < 4:
                    s = _curve_series(run, tag, "loss", f"s{i % 4}")
                    if s:
                        loss.series.append(s)
        for tag, label, cls in (
            (roles.train_metric, "train", "s-train"),
            (roles.val_metric, "val", "s-val"),
        ):
            s = _curve_series(run, tag, label, cls)
            if s:
                metric.series.append(s)
        if metric.series:
            metric.ylabel = " / ".join(
                dict.fromkeys(s.label.split(": ", 1)[1] for s in metric.series)
            )
        s = _curve_series(run, roles.lr, "lr", "s-lr")
        if s:
            s.smooth = False
            lr.series.append(s)
    charts_by_tag: dict[str, Chart] = {}
    for c in (loss, metric, lr):
        for s in c.series:
            charts_by_tag[s.label.split(": ", 1)[1]] = c
    refs: Refs = {}
    for n, f in enumerate(rr.findings, 1):
        _marks(refs, charts_by_tag.get(f.curve or "", loss), f, n)
    return [c for c in (loss, metric, lr) if not c.is_empty()]


MARK_NAMES = {
    ("band", "mk-plateau"): "plateau window",
    ("band", "mk-osc"): "oscillation span",
    ("band", "mk-other"): "finding span",
    ("vline", "mk-onset"): "overfitting onset",
    ("vline", "mk-nonfinite"): "first non-finite value",
    ("vline", "mk-diverge"): "divergence onset",
    ("vline", "mk-other"): "finding",
    ("point", "mk-best"): "best checkpoint",
    ("hline", "mk-asym"): "fitted asymptote",
    ("hline", "mk-plateau"): "plateau level",
}


def _legend(chart: Chart) -> list[tuple[str, str]]:
    """(swatch classes, text) for each kind of mark drawn on ``chart``, in a stable order."""
    used = {("band", b.cls) for b in chart.bands} | {("vline", v.cls) for v in chart.vlines}
    used |= {("point", p.cls) for p in chart.points} | {("hline", h.cls) for h in chart.hlines}
    return [
        (f"sw-{shape} {cls}", text)
        for (shape, cls), text in MARK_NAMES.items()
        if (shape, cls) in used
    ]


# ---------------------------------------------------------------------------- view model


@dataclass
class RunView:
    idx: int
    rr: RunReport
    charts: list[tuple[Markup, Chart, list[tuple[str, str]]]] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)
    worst: Finding | None = None
    filter_tags: str = ""
    hparams: list[tuple[str, str]] = field(default_factory=list)


def _run_view(idx: int, rr: RunReport, run: Any) -> RunView:
    v = RunView(idx, rr, worst=rr.worst())
    for chart in build_charts(run, rr):
        svg = chart.svg()
        v.charts.append((svg, chart, _legend(chart)))
    for n, f in enumerate(rr.findings, 1):
        v.cards.append(
            {
                "n": n,
                "f": f,
                "where": step_range(f.start_step, f.end_step, label=True),
                "evidence": [
                    (k.replace("_", " "), fmt_evidence(k, val))
                    for k, val in (f.evidence or {}).items()
                ],
                "why": [p.strip() for p in f.why.split("\n\n") if p.strip()],
                "conf": f"{round(100 * float(f.confidence))}%",
            }
        )
    v.filter_tags = " ".join(sorted({f"{f.kind}:{f.severity}" for f in rr.findings}))
    hp = getattr(run, "hparams", None) or {}
    v.hparams = [(str(k), _short(val)) for k, val in list(hp.items())[:200]]
    return v


def _short(x: Any, limit: int = 200) -> str:
    s = str(x)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _sort_value(x: Any) -> str:
    v = _num_or_none(x)
    return "" if v is None else repr(v)


def render_html(
    report: Report, result: Any = None, *, title: str | None = None, verification: str | None = None
) -> str:
    """The whole report as one HTML document (str). ``result`` is the LoadResult the report came
    from (its runs give the curves for the charts, its roots the header); without it the page has
    everything but the charts. ``verification``: the fragment from
    :func:`analyzer.verify.html.verify_section` (built with every user text escaped), shown as a
    "Verification" section."""
    runs_by_id = {r.id: r for r in getattr(result, "runs", None) or []}
    roots = [str(p) for p in getattr(result, "roots", None) or []]
    views = [_run_view(i, rr, runs_by_id.get(rr.run)) for i, rr in enumerate(report.runs)]

    verdicts = Counter(r.verdict for r in report.runs)
    verdict_counts = [(v, verdicts[v]) for v in VERDICT_ORDER if verdicts[v]]
    verdict_counts += [(v, n) for v, n in sorted(verdicts.items()) if v not in VERDICT_ORDER]
    findings = report.findings
    kinds = Counter(f.kind for f in findings)
    kind_order = [k for k in PROBLEM_KINDS if kinds[k]] + sorted(
        k for k in kinds if k not in PROBLEM_KINDS
    )
    kind_counts = [(k, kinds[k], _kind_worst(findings, k)) for k in kind_order]
    sev = Counter(f.severity for f in findings)
    sev_counts = [(s, sev[s]) for s in ("error", "warning", "info") if sev[s]]

    css, js = _static()
    js_hash = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{js_hash}'; base-uri 'none'; form-action 'none'"
    )
    page_title = title or ("curvelint report" + (f" — {', '.join(roots)}" if roots else ""))
    tmpl = _env().get_template("report.html.j2")
    return tmpl.render(
        title=page_title,
        roots=roots,
        generated=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip(),
        version=report.version or __version__,
        views=views,
        n_runs=len(report.runs),
        n_findings=len(findings),
        verdict_counts=verdict_counts,
        kind_counts=kind_counts,
        sev_counts=sev_counts,
        skipped=list(report.skipped),
        open_runs=len(report.runs) <= OPEN_RUNS_UP_TO,
        severity_rank=SEVERITY_RANK,
        sort_value=_sort_value,
        css=Markup(css),  # our own static file, not user data
        js=Markup(js),  # idem; its hash is in the CSP
        csp=csp,
        # built by analyzer.verify.html with html.escape on every text from the user's files
        verification=Markup(verification) if verification else None,
    )


def _kind_worst(findings: list[Finding], kind: str) -> str:
    return max((f.severity for f in findings if f.kind == kind), key=SEVERITY_RANK.__getitem__)
