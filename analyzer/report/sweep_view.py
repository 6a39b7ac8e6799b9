"""The sweep section of the HTML report (``report.sweep``, made by :mod:`analyzer.sweep`): a table
of the claims that survived, one small chart per claim (the setting on x, one dot per run
coloured by what the run got), the seed-sensitive settings and the best healthy run.

Rendered on the server by the ``sweep.html.j2`` template (auto-escaped: run names and values are
text), with the charts as inline SVG computed here; the page's script is not involved, so the
section shows as it is, also when printed or with scripts off.
"""

from __future__ import annotations

import math
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from ..findings import Report, RunReport

WIDTH, HEIGHT = 320, 150
LEFT, RIGHT, TOP, BOTTOM = 14, 14, 10, 34
DOT = 3.5

#: dot classes, in the legend's order
CLASSES = (
    ("k", "has the problem of the claim"),
    ("p", "another problem"),
    ("h", "healthy"),
    ("i", "insufficient data"),
)


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:g}"


def _value(rr: RunReport, claim: dict[str, Any]) -> Any:
    hp = rr.hparams or {}
    for key in (claim["hparam"], *claim.get("aliases", ())):
        if key in hp:
            return hp[key]
    return None


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def chart(report: Report, claim: dict[str, Any]) -> dict[str, Any]:
    """A claim's chart as positions and texts for the template."""
    points = [(rr, v) for rr in report.runs if (v := _value(rr, claim)) is not None]
    numeric = claim["op"] != "==" and all(_is_num(v) for _, v in points)
    x0, x1 = LEFT + DOT, WIDTH - RIGHT - DOT
    values = sorted({v for _, v in points}) if numeric else sorted({str(v) for _, v in points})
    pos: dict[Any, float] = {}
    log = False
    if numeric:
        lo, hi = float(values[0]), float(values[-1])
        log = lo > 0 and hi / lo >= 100

        def tx(v: float) -> float:
            a, b, x = (math.log10(lo), math.log10(hi), math.log10(v)) if log else (lo, hi, v)
            return x0 + (x1 - x0) * ((x - a) / (b - a) if b > a else 0.5)

        pos = {v: tx(float(v)) for v in values}
    else:
        step = (x1 - x0) / max(1, len(values))
        pos = {v: x0 + step * (i + 0.5) for i, v in enumerate(values)}
    # runs of one value stack up from the axis; a tall stack is squeezed to fit
    columns: dict[float, list[tuple[RunReport, Any]]] = {}
    for rr, v in points:
        x = pos[v if numeric else str(v)]
        columns.setdefault(round(x / (2 * DOT)), []).append((rr, v))
    tallest = max((len(c) for c in columns.values()), default=1)
    room = HEIGHT - TOP - BOTTOM - DOT
    gap = min(2 * DOT + 1.5, room / max(1, tallest - 1)) if tallest > 1 else 0
    dots = []
    kind = claim["kind"]
    for col in columns.values():
        col.sort(key=lambda p: (_class(p[0], kind), p[0].run))
        for i, (rr, v) in enumerate(col):
            kinds = sorted({f.kind for f in rr.findings})
            dots.append(
                {
                    "x": round(pos[v if numeric else str(v)], 1),
                    "y": round(HEIGHT - BOTTOM - DOT - i * gap, 1),
                    "c": _class(rr, kind),
                    "title": f"{rr.run}: {claim['hparam']} = {_fmt(v)}; {rr.verdict}"
                    + (f" ({', '.join(kinds)})" if kinds else ""),
                }
            )
    # the claimed side: from the midpoint of the split's gap to the end of the axis
    cut: float | None
    band: tuple[float, float]
    if numeric:
        inside = [
            v
            for v in values
            if (v >= claim["value"] if claim["op"] == ">=" else v <= claim["value"])
        ]
        outside = [v for v in values if v not in inside]
        edge_in = pos[min(inside)] if claim["op"] == ">=" else pos[max(inside)]
        edge_out = (
            (pos[max(outside)] if claim["op"] == ">=" else pos[min(outside)]) if outside else None
        )
        cut = (
            (edge_in + edge_out) / 2
            if edge_out is not None
            else (x0 if claim["op"] == ">=" else x1)
        )
        band = (cut, float(WIDTH - RIGHT)) if claim["op"] == ">=" else (float(LEFT), cut)
    else:
        half = (x1 - x0) / max(1, len(values)) / 2
        at = pos.get(str(claim["value"]), x0)
        cut = None
        band = (at - half, at + half)
    ticks = [{"x": round(pos[v], 1), "t": _fmt(v)} for v in values]
    if len(ticks) > 8:  # many values (a random search): the ends and a few between
        keep = {0, len(ticks) - 1, *range(0, len(ticks), math.ceil(len(ticks) / 6))}
        ticks = [t for i, t in enumerate(ticks) if i in keep]
    return {
        "w": WIDTH,
        "h": HEIGHT,
        "dots": dots,
        "r": DOT,
        "band": (round(band[0], 1), round(band[1] - band[0], 1)),
        "cut": round(cut, 1) if cut is not None else None,
        "axis_y": HEIGHT - BOTTOM + DOT + 2,
        "ticks": ticks,
        "label": f"{claim['hparam']}{' (log scale)' if log else ''}",
        "top": TOP,
    }


def _class(rr: RunReport, kind: str) -> str:
    if any(f.kind == kind for f in rr.findings):
        return "k"
    if rr.verdict == "problems":
        return "p"
    if rr.verdict == "healthy":
        return "h"
    return "i"


def _where(c: dict[str, Any]) -> str:
    op = {"==": "=", "<=": "≤", ">=": "≥"}[c["op"]]
    return f"{c['hparam']} {op} {_fmt(c['value'])}"


def render_sweep(report: Report, env: Environment) -> Markup | None:
    """The section's HTML (every text from the runs escaped by the template), or None when the
    report has no sweep."""
    s = report.sweep
    if not s:
        return None
    claims = [
        {
            **c,
            "where": _where(c),
            "diff": f"{c['risk_difference']:+.0%}",
            "chart": chart(report, c),
            "n": i,
        }
        for i, c in enumerate(s["claims"], 1)
    ]
    names = [
        h["name"] + (f" (= {', '.join(h['aliases'])})" if h["aliases"] else "")
        for h in s["hparams"]
    ]
    html = env.get_template("sweep.html.j2").render(
        sweep=s, claims=claims, names=names, classes=CLASSES, fmt=_fmt
    )
    return Markup(html)  # noqa: S704 (rendered by the auto-escaping template above)
