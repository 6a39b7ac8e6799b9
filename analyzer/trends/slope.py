"""Robust slopes with confidence intervals, and a monotonic-trend test.

Theil-Sen (median of pairwise slopes) ignores spikes and needs no noise model; its interval comes
from Kendall's tau. The Mann-Kendall test is Kendall's tau between step and value, with the tie
correction (tau-b) and the exact null distribution for short tie-free curves (as scipy decides;
``_rank`` computes both as scipy does, without importing scipy.stats).
Both are O(n^2) or O(n log n); long curves are first reduced to bin medians, which also keeps
autocorrelated per-iteration noise from making tiny drifts "significant".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ._order import median
from ._rank import kendalltau, theilslopes
from .prep import (
    Prepared,
    Space,
    bin_medians,
    clean_arrays,
    prepare,
    rel_to_level,
    window_mask,
    working,
)

Direction = Literal["increasing", "decreasing", "none"]


@dataclass(frozen=True)
class SlopeResult:
    """Theil-Sen slope of a window, in working-space units per step.

    ``relative_change`` is the change over the window's step span as a fraction of the level
    (``slope*span/|level|`` in linear space, ``10**(slope*span) - 1`` in log space): scale-free.
    ``low``/``high`` bound the slope at the requested confidence; ``relative_low``/``high`` the
    relative change. When ``insufficient`` the numbers are NaN and ``reason`` says why.
    """

    slope: float
    low: float
    high: float
    intercept: float
    relative_change: float
    relative_low: float
    relative_high: float
    span: float
    level: float
    n: int
    log_space: bool
    insufficient: bool = False
    reason: str | None = None

    def covers(self, slope: float) -> bool:
        """Whether the confidence interval contains ``slope``."""
        return bool(self.low <= slope <= self.high)


@dataclass(frozen=True)
class TrendTest:
    """Mann-Kendall trend test result.

    ``tau`` is Kendall's tau-b between step and value; ``p_value`` two-sided;
    ``p_increasing``/``p_decreasing`` one-sided. ``direction`` is ``"none"`` unless the two-sided
    test rejects at ``alpha``.
    """

    tau: float
    p_value: float
    p_increasing: float
    p_decreasing: float
    direction: Direction
    n: int
    alpha: float
    insufficient: bool = False
    reason: str | None = None

    @property
    def significant(self) -> bool:
        """True when a monotonic trend was detected at ``alpha``."""
        return self.direction != "none"


def _nan_slope(n: int, log_space: bool, reason: str) -> SlopeResult:
    nan = float("nan")
    return SlopeResult(nan, nan, nan, nan, nan, nan, nan, nan, nan, n, log_space, True, reason)


def slope_of(
    prep: Prepared,
    *,
    mask: np.ndarray | None = None,
    confidence: float = 0.95,
    max_points: int = 500,
    min_points: int = 4,
) -> SlopeResult:
    """Theil-Sen slope of an already prepared curve (optionally restricted by ``mask``)."""
    s = prep.steps if mask is None else prep.steps[mask]
    w = prep.work if mask is None else prep.work[mask]
    return _slope(s, w, prep.log_space, confidence, max_points, min_points)


def _slope(
    s: np.ndarray,
    w: np.ndarray,
    log_space: bool,
    confidence: float,
    max_points: int,
    min_points: int,
) -> SlopeResult:
    """:func:`slope_of` of the steps ``s`` and working-space values ``w`` of a window."""
    n = int(s.size)
    if n < min_points:
        return _nan_slope(n, log_space, f"only {n} points (need {min_points})")
    span = float(s[-1] - s[0])
    if span <= 0:
        return _nan_slope(n, log_space, "window has no step span")
    bs, bw, _ = bin_medians(s, w, max_points=max_points)
    slope, intercept, low, high = theilslopes(bw, bs, alpha=confidence)
    level = float(median(w))

    def rel(x: float) -> float:
        return rel_to_level(x * span, level, log_space)

    return SlopeResult(
        slope=slope,
        low=low,
        high=high,
        intercept=intercept,
        relative_change=rel(slope),
        relative_low=rel(low),
        relative_high=rel(high),
        span=span,
        level=level,
        n=n,
        log_space=log_space,
    )


def robust_slope(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    start: float | None = None,
    end: float | None = None,
    last_fraction: float | None = None,
    confidence: float = 0.95,
    space: Space = "auto",
    max_points: int = 500,
) -> SlopeResult:
    """Theil-Sen slope of ``values`` against ``steps`` over a window, with a confidence interval.

    The window is ``[start, end]`` (inclusive steps) and/or the final ``last_fraction`` of the
    step span; default the whole curve. Works in log10 space when ``space`` says so (``"auto"``:
    positive curve spanning more than a decade), in which case the slope is in decades per step.
    Long windows are reduced to ``max_points`` bin medians first.
    """
    fixed = working(steps, values, space)  # a clean curve in a space fixed by the caller
    if fixed is not None:
        s, w, log_space = fixed
        mask = window_mask(s, start=start, end=end, last_fraction=last_fraction)
        return _slope(s[mask], w[mask], log_space, confidence, max_points, 4)
    prep = prepare(steps, values, space=space)
    mask = window_mask(prep.steps, start=start, end=end, last_fraction=last_fraction)
    return slope_of(prep, mask=mask, confidence=confidence, max_points=max_points)


def trend_from_arrays(
    s: np.ndarray, w: np.ndarray, *, alpha: float, max_points: int, min_points: int = 3
) -> TrendTest:
    n = int(s.size)
    nan = float("nan")
    if n < min_points:
        return TrendTest(
            nan, nan, nan, nan, "none", n, alpha, True, f"only {n} points (need {min_points})"
        )
    bs, bw, _ = bin_medians(s, w, max_points=max_points)
    if np.ptp(bw) == 0:
        return TrendTest(0.0, 1.0, 1.0, 1.0, "none", n, alpha, True, "constant values")
    tau, p = kendalltau(bs, bw)
    if not np.isfinite(tau) or not np.isfinite(p):
        return TrendTest(nan, nan, nan, nan, "none", n, alpha, True, "test undefined")
    half = p / 2.0
    p_inc = half if tau > 0 else 1.0 - half
    p_dec = half if tau < 0 else 1.0 - half
    if tau == 0:
        p_inc = p_dec = 1.0 - half
    direction: Direction = "none"
    if p < alpha:
        direction = "increasing" if tau > 0 else "decreasing"
    return TrendTest(tau, p, p_inc, p_dec, direction, n, alpha)


def trend_test(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    start: float | None = None,
    end: float | None = None,
    last_fraction: float | None = None,
    alpha: float = 0.05,
    max_points: int = 1000,
) -> TrendTest:
    """Mann-Kendall test for a monotonic trend (Kendall's tau-b of value against step).

    Rank-based, so the working space does not matter. Needs at least 3 points; a constant window
    gives an ``insufficient`` result with tau 0 and p 1. Long windows are reduced to
    ``max_points`` bin medians first.
    """
    clean = clean_arrays(steps, values)  # prepare's steps and values, without the rest
    if clean is not None:
        s, v = clean
    else:
        prep = prepare(steps, values, space="linear")
        s, v = prep.steps, prep.values
    mask = window_mask(s, start=start, end=end, last_fraction=last_fraction)
    return trend_from_arrays(s[mask], v[mask], alpha=alpha, max_points=max_points)
