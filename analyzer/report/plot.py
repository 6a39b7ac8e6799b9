"""Hand-built inline SVG charts for the HTML report.

Why not matplotlib: a sweep of hundreds of runs must render in about the time the analysis takes,
the page must be one small file, and the charts must follow the page's light/dark theme. So each
chart is a few ``<path>`` elements whose points are reduced to a few hundred per line (min/max
bucketing keeps spikes visible) and written as short relative moves, coloured by CSS classes (``currentColor`` for axes), with every
piece of text escaped. This module only draws: the numbers it marks come from findings.

The page itself draws the charts in the browser (``templates/report.js``) from compact numbers:
:meth:`Chart.data` gives one chart's series (decimated for display, min/max kept, each value a
9-bit integer over the series' own range, two values packed into three URL-safe base64 characters,
:func:`encode_values`), its marks and labels; nothing there is markup. :meth:`Chart.svg` draws the
same chart server-side (kept for tools and tests).

Public pieces: :func:`decimate`, :func:`encode_values`, :func:`decode_values`, :func:`display_smooth`, :func:`nice_ticks`, :func:`log_ticks`,
:func:`fmt_num`, the :class:`Series` / :class:`Band` / :class:`VLine` / :class:`HLine` /
:class:`Point` primitives, and :class:`Chart` whose :meth:`Chart.svg` returns safe markup.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
from markupsafe import Markup, escape

RAW_BUCKETS = 200  # default min/max buckets for raw lines: at most 400 points each
PX_PER_BUCKET = 4  # charts use one bucket per 4 px of plot width (two points: min and max)
SMOOTH_POINTS = 160  # points kept of a smoothed trend (it has no spikes to preserve)
SMOOTH_MIN_POINTS = 40  # shorter curves are drawn as they are (with dots), not smoothed
LOG_RATIO = 20.0  # use a log y-axis when max/min of the plotted values exceeds this
CHAR_W = 6.2  # approximate width of one character of the 11px label font, in SVG units
QBITS = 9  # values are sent to the page as 9-bit integers over their own range: 1.5 characters
QMAX = (1 << QBITS) - 1
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64 = np.frombuffer(B64.encode("ascii"), dtype=np.uint8)


def fmt_num(x: float, digits: int = 3) -> str:
    """A short human form of a number: ``0.0123``, ``0.5``, ``1.5e-5``, ``48,110``, ``3.77e25``."""
    if x is None or not isinstance(x, (int, float, np.floating, np.integer)):
        return str(x)
    x = float(x)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x == 0:
        return "0"
    ax = abs(x)
    if 10**digits <= ax < 1e6 and x == round(x):
        return f"{x:,.0f}"
    if ax >= 10**digits or ax < 1e-3:
        m, e = f"{x:.{max(digits - 1, 0)}e}".split("e")
        m = m.rstrip("0").rstrip(".") if "." in m else m
        return f"{m}e{int(e)}"
    return f"{x:.{digits}g}"


def fmt_step(x: float) -> str:
    """Axis form of a step count: 950, 1.5k, 20k, 1.2M."""
    x = float(x)
    ax = abs(x)
    if ax >= 1e6:
        return f"{x / 1e6:.3g}M"
    if ax >= 1e4:
        return f"{x / 1e3:.3g}k"
    if ax >= 1000 and x % 1000:
        return f"{x / 1e3:.3g}k"
    if ax >= 1000:
        return f"{int(x / 1000)}k"
    return f"{x:.4g}"


def decimate(
    x: np.ndarray, y: np.ndarray, buckets: int = RAW_BUCKETS
) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a line to at most ``2 * buckets`` points, keeping each bucket's min and max.

    ``x`` ascending, ``y`` finite. The points are split into ``buckets`` runs of consecutive indices;
    from each run the lowest and highest point are kept, in their original order, so spikes and
    dips survive and the line's envelope is exact at the resolution of a screen.
    """
    n = len(x)
    if n <= 2 * buckets:
        return x, y
    bounds = np.linspace(0, n, buckets + 1).astype(np.int64)
    chunk = np.repeat(np.arange(buckets), np.diff(bounds))
    order = np.lexsort((y, chunk))  # per chunk, ascending by value
    first = bounds[:-1]
    last = bounds[1:] - 1
    i_min = order[first]
    i_max = order[last]
    keep = np.unique(np.concatenate([i_min, i_max]))
    return x[keep], y[keep]


def display_smooth(y: np.ndarray) -> np.ndarray:
    """A zero-lag smooth for display: an EMA run forwards and backwards (``filtfilt``).

    One pass of an EMA lags behind a curve that moves fast (an explosion, a drop after an LR
    decay); the backward pass cancels the lag, and odd padding at the ends keeps a trend going
    through the last point instead of bending towards the past. The span of each pass is about
    1/60 of the curve (at least 2 points). Only for drawing; the rules use their own smoothing.
    Non-finite input must be removed before.
    """
    from scipy.signal import filtfilt

    y = np.asarray(y, dtype=float)
    n = len(y)
    if n < 4:
        return y.copy()
    span = max(2.0, n / 60.0)
    w = 1.0 - 2.0 / (span + 1.0)
    pad = int(min(n - 1, 3 * span))
    return filtfilt([1.0 - w], [1.0, -w], y, padtype="odd", padlen=pad)


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 x 10^k steps) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = mag
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            step = m * mag
            break
    start = math.ceil(lo / step - 1e-9) * step
    ticks: list[float] = []
    t = start
    while t <= hi + step * 1e-9 and len(ticks) < 50:
        ticks.append(round(t, 12) + 0.0)
        t += step
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    """Tick values for a log axis over [lo, hi] (both > 0): decades, with 2 and 5 on short spans."""
    if lo <= 0 or hi <= lo:
        return []
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    decades = b - a
    mults = (1, 2, 5) if decades <= 2 else (1,)
    stride = max(1, math.ceil(decades / 7))
    out = []
    for e in range(a, b + 1):
        if (e - a) % stride:
            continue
        for m in mults:
            v = m * 10.0**e
            if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9):
                out.append(v)
    return out


@dataclass
class Series:
    """One curve to draw: raw points faint, optional smoothed trend bold. ``cls`` names its colour."""

    label: str
    steps: np.ndarray
    values: np.ndarray
    cls: str = "s0"
    smooth: bool = True
    dashed: bool = False


@dataclass
class Band:
    """A shaded step window (plateau, oscillation) with a label."""

    start: float
    end: float
    label: str
    cls: str = "mk-plateau"
    title: str = ""


@dataclass
class VLine:
    """A vertical marker at a step (onset, first non-finite value) with a label."""

    step: float
    label: str
    cls: str = "mk-onset"
    title: str = ""


@dataclass
class HLine:
    """A horizontal dashed level (fitted asymptote, plateau level), optionally over a step window."""

    value: float
    label: str
    cls: str = "mk-level"
    start: float | None = None
    end: float | None = None
    title: str = ""


@dataclass
class Point:
    """A marked point (best checkpoint)."""

    step: float
    value: float
    label: str
    cls: str = "mk-best"
    title: str = ""


@dataclass
class Chart:
    """A chart of a few series and finding marks, drawn as one inline SVG element."""

    title: str
    series: list[Series] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    vlines: list[VLine] = field(default_factory=list)
    hlines: list[HLine] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    ylabel: str = ""
    xlabel: str = "step"
    width: int = 880
    height: int = 300
    log: bool | None = None  # None: decide from the data
    notes: list[str] = field(default_factory=list)  # said under the chart (e.g. values off-chart)

    # ---- layout
    ml, mr, mt, mb = 62, 14, 12, 34

    def is_empty(self) -> bool:
        return not any(np.isfinite(s.values).any() for s in self.series)

    def _prepared(self) -> list[tuple[Series, np.ndarray, np.ndarray]]:
        out = []
        for s in self.series:
            x = np.asarray(s.steps, dtype=float)
            y = np.asarray(s.values, dtype=float)
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.any():
                x, y = x[ok], y[ok]
                if len(x) > 1 and np.any(np.diff(x) < 0):
                    o = np.argsort(x, kind="stable")
                    x, y = x[o], y[o]
                out.append((s, x, y))
        return out

    def svg(self) -> Markup:
        """The chart as safe SVG markup (every text escaped), or an empty Markup when no data."""
        data = self._prepared()
        if not data:
            return Markup("")
        W, H = self.width, self.height
        x0, x1 = self.ml, W - self.mr
        # label rows above the plot area grow the top margin
        labels = self._label_layout(data)
        rows = max((r for _, _, r, _ in labels), default=-1) + 1
        top = self.mt + rows * 13
        y0, y1 = H - self.mb, top  # y0 bottom pixel, y1 top pixel

        # ---- x range
        xs_all = np.concatenate([d[1] for d in data])
        xmin, xmax = float(xs_all.min()), float(xs_all.max())
        for m in [
            *(b.start for b in self.bands),
            *(b.end for b in self.bands),
            *(v.step for v in self.vlines),
            *(p.step for p in self.points),
        ]:
            if m is not None and math.isfinite(m):
                xmin, xmax = min(xmin, m), max(xmax, m)
        if xmax <= xmin:
            xmin, xmax = xmin - 1, xmax + 1

        # ---- y range
        ys_all = np.concatenate([d[2] for d in data])
        ylo, yhi = float(ys_all.min()), float(ys_all.max())
        log = self.log
        if log is None:
            log = ylo > 0 and yhi / ylo > LOG_RATIO
        extras = [h.value for h in self.hlines] + [p.value for p in self.points]
        span = (math.log10(yhi) - math.log10(ylo)) if log else (yhi - ylo)
        off_chart: list[str] = []
        for e in extras:
            if e is None or not math.isfinite(e):
                continue
            if log and e <= 0:
                off_chart.append(fmt_num(e))
                continue
            ev = math.log10(e) if log else e
            lo_v = math.log10(ylo) if log else ylo
            hi_v = math.log10(yhi) if log else yhi
            if lo_v - span <= ev <= hi_v + span or span == 0:
                ylo, yhi = min(ylo, e), max(yhi, e)
            else:
                off_chart.append(fmt_num(e))
        if log:
            lyl, lyh = math.log10(ylo), math.log10(yhi)
            pad = (lyh - lyl) * 0.04 or 0.5
            lyl, lyh = lyl - pad, lyh + pad
            ticks = log_ticks(10**lyl, 10**lyh)

            def ty(v):
                return y0 - (np.log10(np.maximum(v, 1e-300)) - lyl) / (lyh - lyl) * (y0 - y1)
        else:
            pad = (yhi - ylo) * 0.05 or (abs(yhi) * 0.1 or 1.0)
            lo_, hi_ = ylo - pad, yhi + pad
            if ylo >= 0 and lo_ < 0:
                lo_ = 0.0
            ticks = nice_ticks(lo_, hi_, 5)

            def ty(v):
                return y0 - (np.asarray(v, dtype=float) - lo_) / (hi_ - lo_) * (y0 - y1)

        def tx(v):
            return x0 + (np.asarray(v, dtype=float) - xmin) / (xmax - xmin) * (x1 - x0)

        p: list[str] = []
        p.append(
            f'<svg class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
            f'aria-label="{escape(self.title)}" xmlns="http://www.w3.org/2000/svg">'
        )
        p.append(f"<title>{escape(self.title)}</title>")
        # grid + y ticks
        p.append('<g class="grid">')
        for t in ticks:
            yy = float(ty(t))
            p.append(f'<line x1="{x0}" x2="{x1}" y1="{yy:.1f}" y2="{yy:.1f}"/>')
        p.append("</g>")
        # bands under the lines
        for b in self.bands:
            a, z = float(tx(b.start)), float(tx(b.end))
            w = max(z - a, 2.0)
            p.append(
                f'<rect class="band {escape(b.cls)}" x="{a:.1f}" y="{y1}" width="{w:.1f}" '
                f'height="{y0 - y1}"><title>{escape(b.title or b.label)}</title></rect>'
            )
        # series
        buckets = max(20, int((x1 - x0) / PX_PER_BUCKET))
        for s, x, y in data:
            px, py = tx(x), ty(y)
            n = len(x)
            cls = escape(s.cls)
            dash = " dashed" if s.dashed else ""
            if s.smooth and n >= SMOOTH_MIN_POINTS:
                rx, ry = decimate(px, py, buckets)
                sparse = " sparse" if n <= 2 * buckets else ""  # every point drawn: show more
                p.append(f'<path class="raw{sparse} {cls}" d="{path_d(rx, ry, 1)}"/>')
                # smooth what the eye sees: in log space on a log axis
                sm = ty(10 ** display_smooth(np.log10(y))) if log else ty(display_smooth(y))
                stride = max(1, math.ceil(n / SMOOTH_POINTS))
                idx = np.arange(0, n, stride)
                if idx[-1] != n - 1:
                    idx = np.append(idx, n - 1)
                p.append(
                    f'<path class="trend {cls}{dash}" d="{path_d(px[idx], sm[idx])}">'
                    f"<title>{escape(s.label)}</title></path>"
                )
            else:
                rx, ry = decimate(px, py, buckets)
                p.append(
                    f'<path class="trend {cls}{dash}" d="{path_d(rx, ry)}">'
                    f"<title>{escape(s.label)}</title></path>"
                )
                if n <= 60:
                    p.append(
                        f'<g class="dots {cls}">'
                        + "".join(
                            f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2"/>'
                            for a, b in zip(rx.tolist(), ry.tolist(), strict=False)
                        )
                        + "</g>"
                    )
        # levels, vertical lines, points
        used_y: list[float] = []
        for h in self.hlines:
            if h.value is None or not math.isfinite(h.value) or (log and h.value <= 0):
                continue
            yy = float(ty(h.value))
            if not (y1 - 1 <= yy <= y0 + 1):
                continue
            a = float(tx(h.start)) if h.start is not None else x0
            z = float(tx(h.end)) if h.end is not None else x1
            text = ""
            if h.label and h.start is None:  # full-width levels carry a text label at the right
                ly = yy - 4
                while any(abs(ly - u) < 11 for u in used_y):
                    ly -= 11
                used_y.append(ly)
                text = (
                    f'<text x="{z - 3:.1f}" y="{ly:.1f}" text-anchor="end">{escape(h.label)}</text>'
                )
            p.append(
                f'<g class="hline {escape(h.cls)}"><line x1="{a:.1f}" x2="{z:.1f}" y1="{yy:.1f}" '
                f'y2="{yy:.1f}"/>{text}<title>{escape(h.title or h.label)}</title></g>'
            )
        for v in self.vlines:
            xx = float(tx(v.step))
            p.append(
                f'<line class="vline {escape(v.cls)}" x1="{xx:.1f}" x2="{xx:.1f}" y1="{y1}" '
                f'y2="{y0}"><title>{escape(v.title or v.label)}</title></line>'
            )
        for pt in self.points:
            if pt.value is None or not math.isfinite(pt.value) or (log and pt.value <= 0):
                continue
            xx, yy = float(tx(pt.step)), float(ty(pt.value))
            p.append(
                f'<g class="point {escape(pt.cls)}"><circle cx="{xx:.1f}" cy="{yy:.1f}" r="5"/>'
                f"<title>{escape(pt.title or pt.label)}</title></g>"
            )
        # labels of marks (above the plot area, stacked so they do not overlap)
        for text, xpos, row, label_cls in labels:
            xx = float(tx(xpos))
            anchor = "start"
            width = len(text) * CHAR_W
            if xx + width > x1:
                anchor = "end"
            yy = self.mt + row * 13 + 8
            p.append(
                f'<text class="mlabel {escape(label_cls)}" x="{xx:.1f}" y="{yy}" '
                f'text-anchor="{anchor}">{escape(text)}</text>'
            )
        # axes
        p.append(
            f'<g class="axis"><line x1="{x0}" x2="{x0}" y1="{y1}" y2="{y0}"/>'
            f'<line x1="{x0}" x2="{x1}" y1="{y0}" y2="{y0}"/>'
        )
        for t in ticks:
            yy = float(ty(t))
            p.append(
                f'<text x="{x0 - 6}" y="{yy + 3.5:.1f}" text-anchor="end">{escape(fmt_num(t))}</text>'
            )
        for t in nice_ticks(xmin, xmax, 7 if W > 600 else 4):
            xx = float(tx(t))
            p.append(
                f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{y0}" y2="{y0 + 4}"/>'
                f'<text x="{xx:.1f}" y="{y0 + 16}" text-anchor="middle">{escape(fmt_step(t))}</text>'
            )
        p.append(
            f'<text class="alabel" x="{(x0 + x1) / 2:.0f}" y="{H - 3}" text-anchor="middle">'
            f"{escape(self.xlabel)}</text>"
        )
        ylab = self.ylabel + (" (log scale)" if log else "")
        p.append(
            f'<text class="alabel" transform="translate(12 {(y0 + y1) / 2:.0f}) rotate(-90)" '
            f'text-anchor="middle">{escape(ylab)}</text>'
        )
        p.append("</g></svg>")
        if off_chart:
            self.notes.append("level(s) outside the plotted range: " + ", ".join(off_chart))
        self.log = log
        return Markup("".join(p))

    def _label_layout(self, data) -> list[tuple[str, float, int, str]]:
        """Place the labels of bands, vertical lines and points in rows above the plot."""
        xs = np.concatenate([d[1] for d in data])
        xmin, xmax = float(xs.min()), float(xs.max())
        for m in [
            *(b.start for b in self.bands),
            *(b.end for b in self.bands),
            *(v.step for v in self.vlines),
            *(p.step for p in self.points),
        ]:
            if m is not None and math.isfinite(m):
                xmin, xmax = min(xmin, m), max(xmax, m)
        span = (xmax - xmin) or 1.0
        plot_w = self.width - self.ml - self.mr
        items = [(b.label, b.start, b.cls) for b in self.bands if b.label]
        items += [(v.label, v.step, v.cls) for v in self.vlines if v.label]
        items += [(p.label, p.step, p.cls) for p in self.points if p.label]
        items.sort(key=lambda t: t[1])
        rows_end: list[float] = []
        out = []
        for text, x, cls in items:
            px = (x - xmin) / span * plot_w
            w = len(text) * CHAR_W + 8
            a, z = (px - w, px) if px + w > plot_w else (px, px + w)
            for r, end in enumerate(rows_end):
                if a >= end:
                    rows_end[r] = z
                    break
            else:
                rows_end.append(z)
                r = len(rows_end) - 1
            out.append((text, x, r, cls))
        return out


def path_d(x: np.ndarray, y: np.ndarray, scale: int = 10) -> str:
    """SVG path data for a line: ``M x y`` then relative moves ``l dx dy ...``.

    Coordinates are rounded to ``1/scale`` px first (10: one decimal, for bold lines; 1: whole px,
    for faint raw lines) and the moves are differences of the rounded values, so there is no drift
    and most moves take 3-6 characters.
    """
    xi = np.round(np.asarray(x, dtype=float) * scale).astype(np.int64)
    yi = np.round(np.asarray(y, dtype=float) * scale).astype(np.int64)
    if not len(xi):
        return ""
    nums = np.empty(2 * len(xi), dtype=np.int64)
    nums[0::2] = np.diff(xi, prepend=0)
    nums[1::2] = np.diff(yi, prepend=0)
    vals = nums.tolist()
    toks = [str(v) for v in vals] if scale == 1 else [_d(v, scale) for v in vals]
    head = f"M{toks[0]} {toks[1]}"
    if len(toks) == 2:
        return head
    rest = toks[2:]
    # a minus sign separates numbers by itself; anything else needs a space
    return head + "l" + rest[0] + "".join(t if t[0] == "-" else " " + t for t in rest[1:])


def path_points(d: str) -> np.ndarray:
    """The absolute (x, y) points of a path written by :func:`path_d` (for tests and tools)."""
    nums = [float(v) for v in re.findall(r"-?(?:\d+(?:\.\d*)?|\.\d+)", d)]
    pts = np.array(nums, dtype=float).reshape(-1, 2)
    return np.cumsum(pts, axis=0)


def _d(v: int, scale: int = 10) -> str:
    q, r = divmod(abs(v), scale)
    s = f"{q}.{r}" if r else f"{q}"
    if s.startswith("0."):
        s = s[1:]  # ".5" is valid SVG number syntax
    return "-" + s if v < 0 else s


# ---------------------------------------------------------------------------- compact chart data


def _short_float(v: float) -> float | int:
    """A number as JSON writes it shortly: integers as ints, others with 7 significant digits."""
    v = float(v)
    if v == int(v) and abs(v) < 1e15:
        return int(v)
    return float(f"{v:.7g}")


def encode_values(v: np.ndarray, log: bool = False) -> list:
    """``v`` (finite; > 0 when ``log``) as ``[lo, hi, q]`` (``[lo, hi, q, 1]`` in log10 space):
    ``q`` holds one 9-bit integer per value, its place in [lo, hi]; each pair of values is one
    18-bit number written as three URL-safe base64 characters (high bits first), and an odd last
    value is two characters. The page decodes ``lo + k / 511 * (hi - lo)``: the error is at most
    1/1022 of the series' range (relative, on a log scale), under half a pixel of a chart."""
    v = np.asarray(v, dtype=float)
    if log:
        v = np.log10(v)
    vmin, vmax = float(v.min()), float(v.max())
    lo, hi = _short_float(vmin), _short_float(vmax)
    if lo > vmin:  # rounding must not cut the range
        lo = _short_float(vmin - abs(vmin) * 1e-6 - 1e-300)
    if hi < vmax:
        hi = _short_float(vmax + abs(vmax) * 1e-6 + 1e-300)
    span = hi - lo
    raw = np.zeros(len(v)) if span <= 0 else np.round((v - lo) / span * QMAX)
    k: np.ndarray = np.clip(raw, 0, QMAX).astype(np.int64)
    pairs = (k[0 : len(k) - 1 : 2] << QBITS) | k[1::2]
    chars = np.empty((len(pairs), 3), dtype=np.uint8)
    chars[:, 0] = _B64[pairs >> 12]
    chars[:, 1] = _B64[(pairs >> 6) & 63]
    chars[:, 2] = _B64[pairs & 63]
    q = chars.tobytes()
    if len(k) % 2:
        q += bytes(_B64[[k[-1] >> 6, k[-1] & 63]])
    out: list = [lo, hi, q.decode("ascii")]
    if log:
        out.append(1)
    return out


def decode_values(enc: list) -> np.ndarray:
    """The values :func:`encode_values` wrote (to its precision), as the page decodes them."""
    codes = np.frombuffer(enc[2].encode("ascii"), dtype=np.uint8)
    rank = np.zeros(256, dtype=np.int64)
    rank[_B64] = np.arange(64)
    r = rank[codes]
    m = len(r) // 3 * 3
    packed = r[0:m:3] << 12 | r[1:m:3] << 6 | r[2:m:3]
    k = np.empty(2 * len(packed) + (len(r) - m) // 2, dtype=np.int64)
    k[0 : 2 * len(packed) : 2] = packed >> QBITS
    k[1 : 2 * len(packed) : 2] = packed & QMAX
    if len(r) - m == 2:
        k[-1] = r[m] << 6 | r[m + 1]
    v = enc[0] + k / QMAX * (enc[1] - enc[0])
    return 10**v if len(enc) > 3 and enc[3] else v


def encode_steps(x: np.ndarray) -> list:
    """Steps: ``[x0, dx]`` when evenly spaced (most logs), else :func:`encode_values`."""
    x = np.asarray(x, dtype=float)
    if len(x) == 1:
        return [_short_float(x[0]), 1]
    d = np.diff(x)
    if len(d) and np.all(d == d[0]) and d[0] > 0 and x[0] == _short_float(x[0]):
        dx = _short_float(d[0])
        if np.array_equal(x[0] + dx * np.arange(len(x)), x):
            return [_short_float(x[0]), dx]
    return encode_values(x)


def decode_steps(enc: list, n: int) -> np.ndarray:
    if len(enc) == 2:
        return enc[0] + enc[1] * np.arange(n)
    return decode_values(enc)


def _chart_log(data: list[tuple[Series, np.ndarray, np.ndarray]], log: bool | None) -> bool:
    if log is not None:
        return log
    ys = np.concatenate([d[2] for d in data])
    ylo, yhi = float(ys.min()), float(ys.max())
    return bool(ylo > 0 and yhi / ylo > LOG_RATIO)


def _series_log(y: np.ndarray) -> bool:
    lo, hi = float(y.min()), float(y.max())
    return bool(lo > 0 and hi / lo > LOG_RATIO)


def _xy(x: np.ndarray, y: np.ndarray) -> dict:
    return {"x": encode_steps(x), "y": encode_values(y, _series_log(y))}


def chart_data(chart: Chart) -> dict | None:
    """What the page's script needs to draw ``chart`` as :meth:`Chart.svg` would: size, axis
    labels, log scale or not, each series decimated to what the plot can show (min and max per
    4 px, so spikes stay) as encoded numbers — with its smoothed trend when the series was too
    long to send whole — and the marks (numbers and plain texts, escaped by the page). None when
    the chart has no finite data."""
    data = chart._prepared()
    if not data:
        return None
    log = _chart_log(data, chart.log)
    plot_w = chart.width - chart.ml - chart.mr
    buckets = max(20, int(plot_w / PX_PER_BUCKET))
    series = []
    for s, x, y in data:
        n = len(x)
        rx, ry = decimate(x, y, buckets)
        item: dict = {"l": s.label, "c": s.cls, "n": n, **_xy(rx, ry)}
        if not s.smooth:
            item["sm"] = 0
        if s.dashed:
            item["da"] = 1
        if s.smooth and n >= SMOOTH_MIN_POINTS and len(rx) < n:
            # decimated: the page cannot smooth what it does not have, so the trend comes along
            sm = 10 ** display_smooth(np.log10(y)) if log else display_smooth(y)
            stride = max(1, math.ceil(n / SMOOTH_POINTS))
            idx = np.arange(0, n, stride)
            if idx[-1] != n - 1:
                idx = np.append(idx, n - 1)
            tx, ty = x[idx], sm[idx]
            ok = np.isfinite(ty) & (ty > 0 if log else True)
            item["t"] = _xy(tx[ok], ty[ok])
        series.append(item)
    out: dict = {"yl": chart.ylabel, "w": chart.width, "h": chart.height, "s": series}
    if log:
        out["log"] = 1
    if chart.xlabel != "step":
        out["xl"] = chart.xlabel
    if chart.notes:
        out["nt"] = list(chart.notes)
    f = _short_float
    if chart.bands:
        out["b"] = [[f(b.start), f(b.end), b.label, b.cls, b.title] for b in chart.bands]
    if chart.vlines:
        out["v"] = [[f(v.step), v.label, v.cls, v.title] for v in chart.vlines]
    if chart.hlines:
        out["hl"] = [
            [
                f(h.value) if h.value is not None and math.isfinite(h.value) else None,
                h.label,
                h.cls,
                None if h.start is None else f(h.start),
                None if h.end is None else f(h.end),
                h.title,
            ]
            for h in chart.hlines
        ]
    if chart.points:
        out["p"] = [
            [f(p.step), f(p.value) if p.value is not None and math.isfinite(p.value) else None]
            + [p.label, p.cls, p.title]
            for p in chart.points
        ]
    chart.log = log
    return out
