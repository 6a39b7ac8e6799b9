"""The self-contained HTML report: one file, opens from disk, nothing fetched.

``render_html(report, result)`` turns the findings of :func:`analyzer.engine.analyze` and the curves
of :func:`analyzer.runs.load` into a page with

* a header (what was analysed, when, by which version; runs by verdict, findings by kind),
* an overview table of the runs (problem runs first; sortable, filterable by kind/severity/status,
  searchable; drawn by the page's script from JSON rows, 200 at a time),
* a section per *opened* run, built by the script from that run's JSON line: a loss chart with
  every finding drawn on it, a chart of the metric and the learning rate when logged (SVG drawn in
  the browser from decimated, 9-bit encoded series, see ``plot.chart_data``), one card per finding
  (message, evidence, why it matters, the run's one remedy list with copyable snippets, its framework's first), the role
  choices, the reader notes and the hyper-parameters,
* the files that were skipped and why.

Everything that comes from the logs (run and tag names, paths, notes, hyper-parameters) is treated
as hostile: Jinja2 autoescapes what the template writes, the JSON block has every ``<``, ``>`` and
``&`` written as \\u escapes, the script puts texts in the page with textContent/setAttribute only
and never parses markup, and a Content-Security-Policy allows no script but the report's own (by
hash) and no network access at all. This module draws; it does not analyse.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from .. import __version__
from ..findings import (
    FRAMEWORK_LABELS,
    PROBLEM_KINDS,
    SEVERITY_RANK,
    Finding,
    Report,
    RunReport,
    finite_or_none,
    step_range,
)
from ..readers.base import restart_steps
from .plot import Band, Chart, HLine, Point, Series, VLine, chart_data, fmt_num
from .sweep_view import render_sweep

TEMPLATES = Path(__file__).parent / "templates"
VERDICT_ORDER = ("problems", "insufficient-data", "healthy")
OPEN_RUNS_UP_TO = 8  # run sections start expanded when there are at most this many runs


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


FACTS_SHOWN = 5  # a card shows at most this many facts


def fmt_fact(fmt: str, value: Any) -> str | None:
    """One fact of a finding (``Finding.facts``) in words: ``step 1,200``, ``×12.5``, ``55%``,
    ``p < 0.001`` ...; None when there is nothing to say (missing, NaN, an empty list)."""
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        value = value.item()
    if fmt == "text" or isinstance(value, str):
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        return str(value) if value not in (None, "", "nan") else None
    if isinstance(value, bool):
        return "yes" if value else "no"
    x = finite_or_none(value)
    if x is None:
        return None
    if fmt == "step":
        return f"step {round(x):,}"
    if fmt == "steps":
        return f"{fmt_num(x) if abs(x) < 1000 else f'{round(x):,}'} steps"
    if fmt == "int":
        return f"{round(x):,}"
    if fmt == "x":
        return f"×{fmt_num(x)}"
    if fmt in ("%", "+%"):
        pc = 100 * x
        text = f"{pc:.0f}%" if abs(pc) >= 10 else f"{fmt_num(pc, 2)}%"
        return ("+" + text) if fmt == "+%" and pc > 0 else text
    if fmt == "p":
        return "< 0.001" if x < 0.001 else fmt_num(x, 2)
    if fmt == "noise":
        return f"{fmt_num(x)} × the noise"
    if fmt == "value":
        return fmt_num(x, 4)
    return fmt_num(x)


def finding_facts(f: Finding) -> list[tuple[str, str]]:
    """(label, value in words) of the first :data:`FACTS_SHOWN` facts of ``f`` that its evidence
    holds (the rule's FACTS, in its order); the raw evidence keys are left to the JSON."""
    out = []
    for key, label, fmt in f.facts:
        if key in f.evidence:
            text = fmt_fact(fmt, f.evidence[key])
            if text is not None:
                out.append((label, text))
        if len(out) == FACTS_SHOWN:
            break
    return out


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
        start, end = finite_or_none(m.start), finite_or_none(m.end)
        end = end if end is not None else start
        value = finite_or_none(m.value)
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
            period = finite_or_none(m.period)
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
    start, end = finite_or_none(f.start_step), finite_or_none(f.end_step)
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


SMALL_CHART_HEIGHT = 210  # metric and learning-rate charts: as wide as the loss chart, lower


def _constant(s: Series) -> float | None:
    """The value of a series that never changes (all finite values equal), else None."""
    v = np.asarray(s.values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size and float(v.min()) == float(v.max()):
        return float(v[0])
    return None


def build_charts(run: Any, rr: RunReport) -> list[Chart]:
    """The loss chart (with every finding drawn) and, when logged, metric and learning-rate
    charts, all as wide (their x axes line up on the page); a constant learning rate is said
    under the loss chart instead of drawn; restarts (a resumed run, from the reader notes) are
    marked on every chart."""
    roles = getattr(run, "roles", None)
    loss = Chart(f"{rr.run}: loss", ylabel="loss")
    metric = Chart(f"{rr.run}: metric", ylabel="metric", height=SMALL_CHART_HEIGHT)
    lr = Chart(f"{rr.run}: learning rate", ylabel="learning rate", height=SMALL_CHART_HEIGHT)
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
            level = _constant(s)
            if level is None:
                lr.series.append(s)
            else:
                loss.notes.append(f"learning rate {roles.lr}: constant {fmt_num(level, 4)}")
    charts_by_tag: dict[str, Chart] = {}
    for c in (loss, metric, lr):
        for s in c.series:
            charts_by_tag[s.label.split(": ", 1)[1]] = c
    refs: Refs = {}
    for n, f in enumerate(rr.findings, 1):
        _marks(refs, charts_by_tag.get(f.curve or "", loss), f, n)
    restarts = restart_steps([*rr.notes, *(getattr(run, "notes", None) or [])])
    for c in (loss, metric, lr):
        c.vlines.extend(VLine(s, "restart", "mk-restart", RESTART_TIP) for s in restarts)
    return [c for c in (loss, metric, lr) if not c.is_empty()]


RESTART_TIP = "training resumed from a checkpoint here (the points it replaced are dropped)"


MARK_NAMES = {
    ("band", "mk-plateau"): "plateau window",
    ("band", "mk-osc"): "oscillation span",
    ("band", "mk-other"): "finding span",
    ("vline", "mk-onset"): "overfitting onset",
    ("vline", "mk-nonfinite"): "first non-finite value",
    ("vline", "mk-diverge"): "divergence onset",
    ("vline", "mk-other"): "finding",
    ("vline", "mk-restart"): "restart (resumed)",
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


# ---------------------------------------------------------------------------- page data
#
# The page carries every run's details once, as numbers and plain texts, in one
# <script type="application/json"> element, one run a line (the page parses a run's line when it
# is opened, never the whole block): the run sections — charts, cards, roles, notes, hparams — are
# built by report.js with textContent/setAttribute only. Texts shared by many findings (why it
# matters, remedies) are written once in the first line and referred to by number.


class _Shared:
    """Texts written once for the whole page: 'why it matters' paragraphs and remedies."""

    def __init__(self) -> None:
        self.why: dict[str, int] = {}
        self.remedies: dict[tuple, int] = {}
        self.strings: dict[str, int] = {}
        self.rows: list[list[Any]] = []

    def s(self, text: Any) -> int:
        """A short text that many runs of a sweep repeat (role reasons, tag names, evidence keys)
        as a number in the shared string table."""
        return self.strings.setdefault(str(text), len(self.strings))

    def why_ref(self, text: str) -> int:
        paras = [p.strip() for p in (text or "").split("\n\n") if p.strip()]
        if not paras:
            return -1
        return self.why.setdefault("\n\n".join(paras), len(self.why))

    def remedy_ref(self, r: Any) -> int:
        key = (r.id, r.title, r.why, r.keras, r.pytorch, r.lightning, r.hf)
        return self.remedies.setdefault(key, len(self.remedies))

    def header(self) -> dict[str, Any]:
        return {
            "why": [t.split("\n\n") for t in self.why],
            "rem": [list(k) for k in self.remedies],
            "str": list(self.strings),
            "mk": [[shape, cls, text] for (shape, cls), text in MARK_NAMES.items()],
            "rows": self.rows,
        }


ROLE_LABELS = (
    ("train_loss", "train loss"),
    ("val_loss", "val loss"),
    ("train_metric", "train metric"),
    ("val_metric", "val metric"),
    ("lr", "learning rate"),
)


def _title_ref(title: str, std: dict[str, int]) -> Any:
    """A mark's tooltip: the number of the finding whose standard title it is (the page rebuilds
    "#n CODE name: message" from the card data), [number, suffix] when it extends one, or text."""
    if not title:
        return ""
    if title in std:
        return std[title]
    for t, n in std.items():
        if title.startswith(t):
            return [n, title[len(t) :]]
    return title


def _chart_record(
    chart: Chart, run_name: str, std: dict[str, int], shared: _Shared
) -> dict[str, Any] | None:
    d = chart_data(chart)
    if d is None:
        return None
    prefix = f"{run_name}: "
    d["t"] = shared.s(chart.title[len(prefix) :] if chart.title.startswith(prefix) else chart.title)
    d["yl"] = shared.s(d["yl"])
    if (d["w"], d["h"]) == (Chart.width, Chart.height):  # the page knows the default size
        del d["w"], d["h"]
    for se in d["s"]:
        se["l"] = shared.s(se["l"])
        se["c"] = shared.s(se["c"])
    for key, at in (("b", 4), ("v", 3), ("hl", 5), ("p", 4)):
        for m in d.get(key, ()):
            m[at] = _title_ref(m[at], std)
    return d


def run_record(rr: RunReport, run: Any, shared: _Shared) -> dict[str, Any]:
    """Everything a run's section shows, as plain data (the page's script builds the section)."""
    worst = rr.worst()
    rec: dict[str, Any] = {"v": rr.verdict, "fmt": shared.s(rr.format)}
    if worst is not None:
        rec["wc"], rec["wn"] = worst.code, shared.s(worst.name)
    files = [str(p) for p in rr.files]
    top = (
        os.path.commonpath(files) if len(files) > 1 else os.path.dirname(files[0]) if files else ""
    )
    if top and all(f.startswith(top + "/") for f in files):
        rec["fd"] = shared.s(top)  # the page puts the folder back in front
        files = [f[len(top) + 1 :] for f in files]
    rec["files"] = files
    roles = [
        [i, shared.s(rr.roles.get(k))] for i, (k, _) in enumerate(ROLE_LABELS) if rr.roles.get(k)
    ]
    if roles:
        rec["roles"] = roles
    if rr.role_reasons:
        rec["why_roles"] = [shared.s(r) for r in rr.role_reasons]
    if rr.notes:
        rec["notes"] = [shared.s(r) for r in rr.notes]
    hp = getattr(run, "hparams", None) or {}
    if hp:
        rec["hp"] = [[str(k), _short(val)] for k, val in list(hp.items())[:200]]
    cards = []
    std: dict[str, int] = {}
    entries = rr.remedies
    number = {e.remedy.id: k for k, e in enumerate(entries, 1)}
    if entries:
        # the run's one remedy list: [shared remedy, [numbers of the findings it addresses]]
        rec["rem"] = [[shared.remedy_ref(e.remedy), [i + 1 for i in e.findings]] for e in entries]
        setup = rr.setup
        rec["fw"] = list(setup.order())
        if setup.framework:
            reason = next((x for x in setup.evidence if x.startswith(setup.framework + ":")), "")
            rec["fwl"] = FRAMEWORK_LABELS[setup.framework] + (
                f" ({reason.split(': ', 1)[1]})" if reason else ""
            )
    for n, f in enumerate(rr.findings, 1):
        std.setdefault(f"#{n} {f.code} {f.name}: {f.message}", n)
        card: dict[str, Any] = {
            "c": f.code,
            "n": shared.s(f.name),
            "k": shared.s(f.kind),
            "s": shared.s(f.severity),
            "m": f.message,
            "cf": round(100 * float(f.confidence)),
        }
        if f.curve:
            card["cu"] = shared.s(f.curve)
        where = step_range(f.start_step, f.end_step, label=True)
        if where:
            card["w"] = where
        facts = finding_facts(f)
        if facts:
            card["e"] = [[shared.s(label), text] for label, text in facts]
        y = shared.why_ref(f.why)
        if y >= 0:
            card["y"] = y
        if f.remedies:  # numbers in the run's remedy list
            card["r"] = [number[r.id] for r in f.remedies]
        cards.append(card)
    if cards:
        rec["cards"] = cards
    charts = []
    if run is not None:
        for chart in build_charts(run, rr):
            c = _chart_record(chart, rr.run, std, shared)
            if c is not None:
                charts.append(c)
    if charts:
        rec["charts"] = charts
    return rec


_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}
_JSON_ESCAPES.update({0x2028: "\\u2028", 0x2029: "\\u2029"})


def json_for_script(obj: Any) -> str:
    """``obj`` as JSON on one line that is inert inside ``<script>``: no ``<``, ``>`` or ``&``
    is left (so no ``</script>`` and no ``<!--``), non-finite numbers become null."""
    try:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):  # a NaN or a numpy number somewhere: clean, then write
        text = json.dumps(_finite(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_JSON_ESCAPES)


def _finite(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, (np.integer, np.floating)):
        return _finite(x.item())
    return x


def run_group(rr: RunReport) -> str:
    """The folder that holds the run's folder (its own folder when the run is a file): the runs
    of one group are siblings (seeds, versions) that the page can overlay on one chart."""
    head, _, name = rr.run.rpartition("/")
    is_file = any(os.path.basename(str(f)) == name for f in rr.files)
    run_dir = head if is_file else rr.run
    return run_dir.rpartition("/")[0]


def _row(idx: int, rr: RunReport, shared: _Shared) -> list[Any]:
    """The runs table's row of a run: [idx, name, format, verdict, worst severity, worst code,
    worst name, findings, train final, train best, val final, val best, best val step,
    "kind:severity ..." of its findings, its group (:func:`run_group`, a shared string)]."""
    w = rr.worst()
    s = rr.summary or {}
    nums = [
        finite_or_none(s.get(k))
        for k in ("train_final", "train_best", "val_final", "val_best", "val_best_step")
    ]
    return [
        idx,
        rr.run,
        rr.format,
        rr.verdict,
        w.severity if w else "",
        w.code if w else "",
        w.name if w else "",
        len(rr.findings),
        *[None if v is None else float(f"{v:.6g}") for v in nums],
        " ".join(sorted({f"{f.kind}:{f.severity}" for f in rr.findings})),
        shared.s(run_group(rr)),
    ]


def page_data(report: Report, runs_by_id: dict[str, Any]) -> str:
    """The JSON block of the page: a first line of shared texts and the runs table's rows
    (problem runs first), then one line per run (in the order of ``report.runs``), as a JSON
    array."""
    shared = _Shared()
    lines = [json_for_script(run_record(rr, runs_by_id.get(rr.run), shared)) for rr in report.runs]
    views = sorted((_row_view(i, rr) for i, rr in enumerate(report.runs)), key=_row_order)
    shared.rows = [_row(v.idx, v.rr, shared) for v in views]
    return "[\n" + ",\n".join([json_for_script(shared.header()), *lines]) + "\n]"


# ---------------------------------------------------------------------------- view model


@dataclass
class RowView:
    idx: int
    rr: RunReport
    worst: Finding | None = None
    filter_tags: str = ""


def _row_view(idx: int, rr: RunReport) -> RowView:
    v = RowView(idx, rr, worst=rr.worst())
    v.filter_tags = " ".join(sorted({f"{f.kind}:{f.severity}" for f in rr.findings}))
    return v


def _row_order(v: RowView) -> tuple:
    """Problem runs first (worst severity first), then insufficient data, then healthy."""
    verdict = VERDICT_ORDER.index(v.rr.verdict) if v.rr.verdict in VERDICT_ORDER else 1
    sev = SEVERITY_RANK[v.worst.severity] if v.worst is not None else -1
    return (verdict, -sev, v.idx)


def _short(x: Any, limit: int = 200) -> str:
    s = str(x)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def render_html(
    report: Report, result: Any = None, *, title: str | None = None, verification: str | None = None
) -> str:
    """The whole report as one HTML document (str). ``result`` is the LoadResult the report came
    from (its runs give the curves for the charts, its roots the header; anything with ``runs``
    — objects with ``id``, ``roles``, ``curve(tag)`` and ``hparams`` — will do); without it the
    page has everything but the charts. ``verification``: the fragment from
    :func:`analyzer.verify.html.verify_section` (built with every user text escaped), shown as a
    "Verification" section."""
    runs_by_id = {r.id: r for r in getattr(result, "runs", None) or []}
    roots = [str(p) for p in getattr(result, "roots", None) or []]
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
    env = _env()
    tmpl = env.get_template("report.html.j2")
    return tmpl.render(
        title=page_title,
        roots=roots,
        generated=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip(),
        version=report.version or __version__,
        has_runs=bool(report.runs),
        n_runs=len(report.runs),
        n_findings=len(findings),
        verdict_counts=verdict_counts,
        kind_counts=kind_counts,
        sev_counts=sev_counts,
        skipped=list(report.skipped),
        open_runs=len(report.runs) <= OPEN_RUNS_UP_TO,
        severity_rank=SEVERITY_RANK,
        css=Markup(css),  # our own static file, not user data
        js=Markup(js),  # idem; its hash is in the CSP
        csp=csp,
        # JSON with every "<", ">" and "&" written as \u escapes: inert inside <script>
        data=Markup(page_data(report, runs_by_id)),
        # built by analyzer.verify.html with html.escape on every text from the user's files
        verification=Markup(verification) if verification else None,
        # the sweep section, rendered by its own auto-escaping template (report/sweep_view.py)
        sweep=render_sweep(report, env),
    )


def _kind_worst(findings: list[Finding], kind: str) -> str:
    return max((f.severity for f in findings if f.kind == kind), key=SEVERITY_RANK.__getitem__)
