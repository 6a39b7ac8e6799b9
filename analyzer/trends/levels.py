"""A curve reduced to the levels most rules reason with, and how its end moves.

:func:`summarize` smooths a curve once (robustly, in log space for curves spanning decades) and
returns its starting, final and best levels with its noise; :func:`tail` tests whether the end is
still moving; :func:`flat_since` says from which step it stays flat; :func:`final_at_chance`
whether a cross-entropy sits at ln(C).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._order import median
from .prep import Prepared, prepare, value_quantum
from .slope import robust_slope, trend_test
from .smoothing import effective_noise, noise_scale, robust_smooth

#: fewest finite points a summary needs before it says anything about a curve's shape
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
    #: results of the functions of this module computed from this summary (:func:`tail`), kept
    #: so that the rules of a run that ask for the same one share it (they are immutable)
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

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


def summarize(steps: np.ndarray, values: np.ndarray) -> Levels | None:
    """Summarise a lower-is-better curve (negate a higher-is-better metric first); None when
    it has fewer than :data:`MIN_POINTS` finite points."""
    prep = prepare(steps, np.asarray(values, dtype=float))
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
    final = float(median(sm[-k:]))
    # the start: the first smoothed point, but never below the first raw value's neighbourhood
    head = v[: max(2, min(3, prep.n // 5 + 1))]
    initial = float(max(sm[0], median(head)))
    i = int(np.argmin(sm))
    sigma = noise_scale(prep.steps, v)
    q = value_quantum(v)  # of the values (finite): both floors below use it
    sigma = effective_noise(sigma if np.isfinite(sigma) else 0.0, v, quantum=q)
    sw = noise_scale(prep.steps, prep.work) if prep.log_space else sigma
    sw = (
        effective_noise(
            sw if np.isfinite(sw) else 0.0,
            prep.work,
            values=v,
            log_space=prep.log_space,
            quantum=q,
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
    run length so that "how much would another run of this length gain" is scale-free.
    Computed once per summary and fraction (several rules ask for the same tail)."""
    key = ("tail", float(fraction))
    if key not in L.memo:
        L.memo[key] = _tail(L, fraction)
    return L.memo[key]


def _tail(L: Levels, fraction: float) -> Tail | None:
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
