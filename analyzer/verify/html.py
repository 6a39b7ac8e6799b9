"""A small self-contained HTML page for a verification: the verdicts with their numbers and, per
remedy, the validation-loss curves of the baseline and the remedied runs overlaid (inline SVG, no
scripts, no external resources). Written next to ``verify.json`` in the output folder."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from .decide import RunOutcome, pct

W, H, PAD, LEFT = 560, 220, 40, 64
COLORS = {"baseline": "#888", "remedy": "#1f6fd1", "control": "#c2410c"}
VERDICT_CLASS = {
    "resolved": "good",
    "improved": "good",
    "no effect": "meh",
    "worse": "bad",
    "inconclusive": "meh",
    "not applied": "bad",
    "failed": "bad",
}


def _fmt(x: object) -> str:
    if isinstance(x, float):
        return f"{x:.4g}" if math.isfinite(x) else ("nan" if math.isnan(x) else "∞")
    return html.escape(str(x))


def overlay_svg(base: Sequence[RunOutcome], rem: Sequence[RunOutcome], color: str) -> str:
    """Validation loss per epoch, baseline runs in grey, remedied runs in ``color``; y on a log
    scale when the losses span more than a decade. Non-finite points are left out."""
    series = [(r, COLORS["baseline"]) for r in base] + [(r, color) for r in rem]
    pts = [
        (i, v) for r, _ in series for i, v in enumerate(r.val_loss) if math.isfinite(v) and v > 0
    ]
    if not pts:
        return '<p class="muted">no finite validation loss to plot</p>'
    xmax = max(max(len(r.val_loss) for r, _ in series) - 1, 1)
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    logy = hi / lo > 10
    f = math.log10 if logy else (lambda v: v)
    ylo, yhi = f(lo), f(hi)
    if yhi - ylo < 1e-12:
        yhi = ylo + 1.0

    def xy(i: int, v: float) -> str:
        x = LEFT + (W - LEFT - PAD) * i / xmax
        y = H - PAD + (2 * PAD - H) * (f(v) - ylo) / (yhi - ylo)
        return f"{x:.1f},{y:.1f}"

    lines = []
    for r, c in series:
        segs, cur = [], []
        for i, v in enumerate(r.val_loss):
            if math.isfinite(v) and v > 0:
                cur.append(xy(i, v))
            elif cur:
                segs.append(cur)
                cur = []
        if cur:
            segs.append(cur)
        for s in segs:
            title = html.escape(f"{r.arm} seed {r.seed}")
            lines.append(
                f'<polyline fill="none" stroke="{c}" stroke-width="1.6" points="{" ".join(s)}">'
                f"<title>{title}</title></polyline>"
            )
    axis = (
        f'<line x1="{LEFT}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#999"/>'
        f'<line x1="{LEFT}" y1="{PAD}" x2="{LEFT}" y2="{H - PAD}" stroke="#999"/>'
        f'<text x="{LEFT}" y="{H - PAD + 16}" font-size="11">0</text>'
        f'<text x="{W - PAD}" y="{H - PAD + 16}" font-size="11" text-anchor="end">{xmax} epochs</text>'
        f'<text x="{LEFT - 4}" y="{PAD + 4}" font-size="11" text-anchor="end">{_fmt(hi)}</text>'
        f'<text x="{LEFT - 4}" y="{H - PAD}" font-size="11" text-anchor="end">{_fmt(lo)}</text>'
        f'<text x="{W / 2}" y="{PAD - 12}" font-size="11" text-anchor="middle">'
        f"validation loss{' (log scale)' if logy else ''}</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" role="img">{axis}{"".join(lines)}</svg>'
    )


def verify_section(result) -> str:
    """The verification as an HTML fragment (every text from the user's files escaped), for the
    "Verification" section of the main report and for the stand-alone page."""
    base = [r for r in result.runs if r.arm == "baseline"]
    t = result.target
    rows, charts = [], []
    for v in result.verdicts:
        arm = v.arm or v.remedy
        rem = [r for r in result.runs if r.arm == arm]
        ch = result.changes.get(arm)
        label = html.escape(v.remedy) + (" <em>(random control)</em>" if v.control else "")
        if v.dose != 1:
            label += f" at x{10**v.dose}"
        ci = "" if v.ci_low is None else f"[{pct(v.ci_low)}, {pct(v.ci_high)}]"
        rows.append(
            f"<tr><td>{label}</td><td class='{VERDICT_CLASS[v.verdict]}'>{v.verdict}</td>"
            f"<td>{_fmt(v.baseline_mean)} ± {_fmt(v.baseline_std)}</td>"
            f"<td>{_fmt(v.remedy_mean)} ± {_fmt(v.remedy_std)}</td>"
            f"<td>{pct(v.rel_change)} {ci}</td><td>{v.wins}/{v.n_pairs}</td>"
            f"<td>{v.sign_p:.2g}</td></tr>"
        )
        color = COLORS["control"] if v.control else COLORS["remedy"]
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in v.notes)
        charts.append(
            f"<section><h2>{label}: <span class='{VERDICT_CLASS[v.verdict]}'>{v.verdict}</span></h2>"
            f"<p>{html.escape(ch.description if ch else '')}</p>"
            f"<p>{html.escape(v.reason)}</p>{overlay_svg(base, rem, color)}"
            f"<p class='muted'>grey: baseline, one line per seed; coloured: {html.escape(arm)}"
            f"</p>{f'<ul>{notes}</ul>' if notes else ''}</section>"
        )
    na = "".join(
        f"<li><b>{html.escape(k)}</b>: {html.escape(r)}</li>"
        for k, r in result.not_applicable.items()
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
    diag = (
        f"<p><b>Diagnosis</b> ({html.escape(t.source)}): {html.escape(t.message)}</p>" if t else ""
    )
    if result.judged_on:
        diag += f"<p><b>Judged on</b>: {html.escape(result.judged_on)}</p>"
    if result.failure:
        diag += f"<p class='bad'>Nothing can be judged: {html.escape(result.failure)}</p>"
    return f"""<h2>Verification</h2>
<p>Experiment <code>{html.escape(result.experiment)}</code>, {result.epochs} epochs,
seeds {", ".join(map(str, result.seeds))}, metric: {html.escape(result.metric)} held-out loss
(means ± sd are arithmetic; the change is the geometric mean of the per-seed ratios),
{result.seconds:.0f}s in total.</p>
{diag}
<table><tr><th>remedy</th><th>verdict</th><th>baseline</th><th>remedy</th>
<th>change (95% CI)</th><th>seeds better</th><th>sign test p</th></tr>
{"".join(rows)}</table>
{"".join(charts)}
{f"<h2>Not applicable</h2><ul>{na}</ul>" if na else ""}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
"""


def render_verify_html(result) -> str:
    """The stand-alone page for a :class:`~analyzer.verify.runner.VerifyResult`."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>curvelint verify — {html.escape(result.experiment)}</title>
<style>
body{{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse}}td,th{{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}}
.good{{color:#15803d;font-weight:600}}.bad{{color:#b91c1c;font-weight:600}}.meh{{color:#666}}
.muted{{color:#777;font-size:12px}}section{{margin:1.5em 0}}
</style></head><body>
{verify_section(result)}
</body></html>
"""
