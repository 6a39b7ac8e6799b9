"""Helpers shared by the rules: level summaries of a curve built on analyzer.trends."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

from analyzer.curves import Curve, CurveSet
from analyzer.trends.extremum import blowup_onset
from analyzer.trends.prep import Prepared, prepare
from analyzer.trends.smoothing import effective_noise, noise_scale, robust_smooth

#: fewest finite points a rule needs before it says anything about a curve's shape
MIN_POINTS = 5


@dataclass(frozen=True)
class Levels:
    """A curve reduced to the numbers most rules reason with (original units unless noted)."""

    prep: Prepared
    smooth: np.ndarray  # smoothed values at prep.steps (original units)
    initial: float  # level at the start (smoothed, robust to one wild first point)
    final: float  # level at the end (median of the last ~10% of the smoothed curve)
    best: float  # best smoothed level (minimum for a loss)
    best_step: int
    noise: float  # point-to-point noise sigma (original units, floored)
    positive: bool  # every finite value > 0: ratios are meaningful
    noise_work: float = (
        0.0  # the same in the working space (log10 units for curves spanning decades)
    )

    @property
    def log_space(self) -> bool:
        return self.prep.log_space

    def units(self, a: float, b: float) -> float:
        """How many noise sigmas level ``b`` lies above level ``a`` (in log space for curves that
        span decades, where noise is multiplicative)."""
        if self.log_space and a > 0 and b > 0:
            d = float(np.log10(b) - np.log10(a))
            return d / self.noise_work if self.noise_work > 0 else float("inf") * np.sign(d)
        return (b - a) / self.noise if self.noise > 0 else float("inf") * np.sign(b - a)

    def above(self, level: float, k: float) -> float:
        """``level`` raised by ``k`` noise sigmas (multiplicatively in log space)."""
        if self.log_space and level > 0:
            return float(level * 10.0 ** (k * self.noise_work))
        return level + k * self.noise

    @property
    def steps(self) -> np.ndarray:
        return self.prep.steps

    @property
    def first_step(self) -> int:
        return int(self.prep.steps[0])

    @property
    def last_step(self) -> int:
        return int(self.prep.steps[-1])

    @property
    def span(self) -> float:
        return float(self.prep.steps[-1] - self.prep.steps[0]) or 1.0

    @property
    def n(self) -> int:
        return self.prep.n


def smooth_frac(n: int) -> float:
    """Smoothing window as a fraction of the curve: wider for long noisy curves, light for short."""
    if n <= 12:
        return 0.3
    if n <= 60:
        return 0.15
    return 0.08


#: levels() of the curves seen last: every rule of a run summarises the same curves, so the
#: smoothing is done once per curve. Keyed by object identity; the entry keeps the curve itself
#: alive so an id cannot be reused while it is cached.
_LEVELS_CACHE: OrderedDict[tuple[int, float], tuple[Curve, Levels | None]] = OrderedDict()
_LEVELS_CACHE_SIZE = 16
_LEVELS_LOCK = threading.Lock()


def levels(curve: Curve, *, sign: float = 1.0) -> Levels | None:
    """Summarise a curve; ``sign=-1`` turns a higher-is-better metric into a lower-is-better one.

    None when there are fewer than :data:`MIN_POINTS` finite points. Cached for the last few
    curves (curves are immutable).
    """
    key = (id(curve), float(sign))
    with _LEVELS_LOCK:
        hit = _LEVELS_CACHE.get(key)
        if hit is not None and hit[0] is curve:
            _LEVELS_CACHE.move_to_end(key)
            return hit[1]
    out = _levels(curve, sign)
    if out is not None:  # shared between rules: nobody may change it in place
        p = out.prep
        for a in (out.smooth, p.steps, p.values, p.work, p.all_steps, p.all_values, p.finite):
            if isinstance(a, np.ndarray):
                a.flags.writeable = False
    with _LEVELS_LOCK:
        _LEVELS_CACHE[key] = (curve, out)
        _LEVELS_CACHE.move_to_end(key)
        while len(_LEVELS_CACHE) > _LEVELS_CACHE_SIZE:
            _LEVELS_CACHE.popitem(last=False)
    return out


def _levels(curve: Curve, sign: float) -> Levels | None:
    prep = prepare(curve.steps, sign * np.asarray(curve.values, dtype=float))
    if prep.n < MIN_POINTS:
        return None
    v = prep.values
    if prep.n >= 7:
        if prep.log_space:
            sm = np.power(10.0, robust_smooth(prep.steps, prep.work, frac=smooth_frac(prep.n)))
        else:
            sm = robust_smooth(prep.steps, v, frac=smooth_frac(prep.n))
    else:
        sm = v.copy()
    sm = np.where(np.isfinite(sm), sm, v)
    k = max(1, int(round(0.1 * prep.n)))
    final = float(np.median(sm[-k:]))
    # the start: the first smoothed point, but never below the first raw value's neighbourhood
    head = v[: max(2, min(3, prep.n // 5 + 1))]
    initial = float(max(sm[0], np.median(head)))
    i = int(np.argmin(sm))
    sigma = noise_scale(prep.steps, v)
    sigma = effective_noise(sigma if np.isfinite(sigma) else 0.0, v)
    sw = noise_scale(prep.steps, prep.work) if prep.log_space else sigma
    sw = (
        effective_noise(
            sw if np.isfinite(sw) else 0.0, prep.work, values=v, log_space=prep.log_space
        )
        if prep.log_space
        else sigma
    )
    return Levels(
        prep=prep,
        smooth=sm,
        initial=initial,
        final=final,
        best=float(sm[i]),
        best_step=int(prep.steps[i]),
        noise=float(sigma),
        positive=bool(np.all(v > 0)),
        noise_work=float(sw),
    )


def fmt(x: float) -> str:
    """Numbers for messages: 3 significant digits, thousands separators for big ones."""
    if x is None or not np.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax >= 1e6 or (0 < ax < 1e-3):
        return f"{x:.3g}"
    if ax >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def pct(x: float) -> str:
    return f"{100 * x:.0f}%" if abs(x) >= 0.01 else f"{100 * x:.2g}%"


def last_lr(curves) -> float | None:
    """The learning rate at the end of the run, when logged."""
    lr = curves.lr
    if lr is None or not len(lr):
        return None
    v = np.asarray(lr.values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v[-1]) if v.size else None


def max_lr(curves) -> float | None:
    lr = curves.lr
    if lr is None or not len(lr):
        return None
    v = np.asarray(lr.values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.max()) if v.size else None


def lr_decayed(curves, *, ratio: float = 0.2) -> bool:
    """Whether the logged learning rate ended below ``ratio`` of its maximum (a decaying schedule)."""
    lo, hi = last_lr(curves), max_lr(curves)
    return bool(lo is not None and hi and hi > 0 and lo <= ratio * hi)


def clamp01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


@dataclass(frozen=True)
class Tail:
    """How the end of a curve moves: the last ``fraction`` of its steps."""

    rel_per_run: (
        float  # relative change of the level if the tail's slope held for one more run length
    )
    rel_low: float  # same at the confidence bounds (low = most negative)
    rel_high: float
    p_decreasing: float  # Mann-Kendall one-sided p-value of a decrease in the tail
    p_increasing: float
    n: int


def tail(L: Levels, *, fraction: float = 1 / 3) -> Tail | None:
    """Theil-Sen slope and Mann-Kendall test of the last ``fraction`` of the curve, scaled to a
    run length so that "how much would another run of this length gain" is scale-free."""
    from analyzer.trends.slope import robust_slope, trend_test

    steps, values = L.prep.steps, L.prep.values
    frac = fraction
    # at least 4 points in the window
    if np.sum(steps >= steps[-1] - frac * L.span) < 4:
        frac = min(1.0, (steps[-1] - steps[max(0, L.n - 4)]) / L.span)
    sr = robust_slope(steps, values, last_fraction=frac, space="log" if L.positive else "linear")
    tt = trend_test(steps, values, last_fraction=frac)
    if sr.insufficient or tt.insufficient and tt.reason != "constant values":
        return None

    def per_run(slope: float) -> float:
        if sr.log_space:
            with np.errstate(over="ignore"):  # a curve climbing 300+ decades per run: inf
                return float(np.power(10.0, slope * L.span) - 1.0)
        return float(slope * L.span / abs(sr.level)) if sr.level else 0.0

    p_dec = tt.p_decreasing if np.isfinite(tt.p_decreasing) else 1.0
    p_inc = tt.p_increasing if np.isfinite(tt.p_increasing) else 1.0
    return Tail(per_run(sr.slope), per_run(sr.low), per_run(sr.high), p_dec, p_inc, sr.n)


def flat_since(L: Levels, *, rel_band: float = 0.05) -> int:
    """The earliest step after which the smoothed curve stays within a band around its final
    level: ``rel_band`` of the level (positive curves) or a few noise sigmas, whichever is wider."""
    sm = L.smooth
    band = 3.0 * L.noise / np.sqrt(max(1.0, smooth_frac(L.n) * L.n))
    if L.positive:
        band = max(band, rel_band * abs(L.final))
    else:
        band = max(band, rel_band * max(abs(L.initial - L.best), 1e-12))
    outside = np.abs(sm - L.final) > band
    if not outside.any():
        return L.first_step
    last_out = int(np.nonzero(outside)[0][-1])
    return int(L.steps[min(last_out + 1, L.n - 1)])


def final_at_chance(final: float, *, max_classes: int = 10, tol: float = 0.01) -> int | None:
    """If ``final`` is within ``tol`` (relative) of ln(k) for a class count 2 <= k <= max_classes,
    return k: a cross-entropy stuck there is a classifier predicting uniform probabilities. Larger
    k are not tried: their ln(k) lie so close together that any value would match one."""
    if not np.isfinite(final) or final <= 0:
        return None
    for k in range(2, max_classes + 1):
        if abs(final - np.log(k)) <= tol * np.log(k):
            return k
    return None


def best_metric(curve) -> float | None:
    if curve is None or not len(curve):
        return None
    v = np.asarray(curve.values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return None
    return float(v.max() if curve.direction == "max" else v.min())


def epoch_level(train: Curve, val: Curve | None) -> tuple[np.ndarray, np.ndarray]:
    """The training loss on the validation schedule: when training is logged much more often
    than validation (per iteration vs per epoch), average it over each interval between two
    evaluations, so minibatch noise does not pass for a swing. Finite points only."""
    s, m, _ = epoch_means(train, val, dense=np.iinfo(np.int64).max)
    return s, m


def epoch_means(
    train: Curve, val: Curve | None, *, dense: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """:func:`epoch_level` plus the standard error of each interval mean relative to it (the
    sampling noise of an average of a few noisy minibatch losses), or None when no averaging was
    needed (the training loss is logged at the evaluation cadence). Without a validation
    curve, a curve of at least ``dense`` points is averaged over runs of ~sqrt(n) points."""
    s = np.asarray(train.steps)
    v = np.asarray(train.values, dtype=float)
    fin = np.isfinite(v)
    s, v = s[fin], v[fin]
    if val is None:
        if len(s) < dense:
            return s, v, None
        # no evaluation cadence: a long (per-iteration) curve is averaged over runs of about
        # sqrt(n) points, which plays the role of the interval between evaluations
        q = int(np.ceil(np.sqrt(len(s))))
        vs = s[q - 1 :: q] if (len(s) - 1) % q == q - 1 else np.r_[s[q - 1 :: q], s[-1]]
    elif len(s) <= 2 * len(val):
        return s, v, None
    else:
        vs = np.unique(np.asarray(val.steps))
    idx = np.searchsorted(vs, s, side="left")  # point i belongs to the interval ending at vs[idx]
    keep = idx < len(vs)
    idx, v = idx[keep], v[keep]
    counts = np.bincount(idx, minlength=len(vs))
    sums = np.bincount(idx, weights=v, minlength=len(vs))
    ok = counts > 0
    n = counts[ok].astype(float)
    means = sums[ok] / n
    dev2 = (v - (sums / np.maximum(counts, 1))[idx]) ** 2
    var = np.bincount(idx, weights=dev2, minlength=len(vs))[ok] / np.maximum(n - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_se = np.where((n > 1) & (means != 0), np.sqrt(var / n) / np.abs(means), np.nan)
    return vs[ok], means, rel_se


def before_divergence(curves: CurveSet, *, min_points: int) -> CurveSet | None:
    """The curves cut just before the run diverges: the first NaN/inf of the training or
    validation loss, or the step where the validation loss blows up by orders of magnitude
    (DIV001/DIV002 report those; LABELS-SPEC judges the other kinds on what came before). The
    curves as they are when nothing diverges; None when fewer than ``min_points`` evaluations
    of the validation loss (or metric) come before."""
    cuts = []
    for c in (curves.train, curves.val):
        if c is None:
            continue
        bad = ~np.isfinite(np.asarray(c.values, dtype=float))
        if bad.any():
            cuts.append(int(np.asarray(c.steps)[np.argmax(bad)]))
    if curves.val is not None:
        v = np.asarray(curves.val.values, dtype=float)
        fin = np.isfinite(v)
        i = blowup_onset(v[fin])
        if i is not None:
            cuts.append(int(np.asarray(curves.val.steps)[fin][i]))
    if not cuts:
        return curves
    cut = min(cuts)

    def before(c):
        if c is None:
            return None
        keep = np.asarray(c.steps) < cut
        return replace(c, steps=np.asarray(c.steps)[keep], values=np.asarray(c.values)[keep])

    out = replace(
        curves,
        train=before(curves.train),
        val=before(curves.val),
        val_metric=before(curves.val_metric),
    )
    judged = out.val if out.val is not None else out.val_metric
    if judged is None or len(judged) < min_points:
        return None
    return out
