"""Generalisation gap: validation minus training, on a common step grid, and its trend."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .prep import prepare, window_mask
from .slope import TrendTest, _trend_from_arrays
from .smoothing import robust_smooth


@dataclass(frozen=True, eq=False)
class GapTrend:
    """The gap ``val - train`` at common steps, with its Theil-Sen trend.

    The grid is the sparser curve's steps inside the overlap of both curves (with one dense-step
    spacing of slack at the ends); the denser curve is robust-smoothed before interpolation (per-iteration training noise would otherwise dominate).
    ``ratio`` is ``val / train`` when both are positive, else None. ``slope`` is in value units
    per step; ``gap_start``/``gap_end`` are the Theil-Sen line at the window's ends;
    ``relative_growth`` is ``slope * span / level`` with ``level`` the median |val| on the grid
    (scale-free; ``_low``/``_high`` from the slope's confidence interval). ``trend`` is a
    Mann-Kendall test of the gap in the window.
    """

    steps: np.ndarray
    train: np.ndarray
    val: np.ndarray
    gap: np.ndarray
    ratio: np.ndarray | None
    slope: float
    slope_low: float
    slope_high: float
    gap_start: float
    gap_end: float
    relative_growth: float
    relative_growth_low: float
    relative_growth_high: float
    level: float
    trend: TrendTest
    n: int
    insufficient: bool = False
    reason: str | None = None


def generalization_gap(
    train_steps: np.ndarray,
    train_values: np.ndarray,
    val_steps: np.ndarray,
    val_values: np.ndarray,
    *,
    start: float | None = None,
    last_fraction: float | None = None,
    confidence: float = 0.95,
    alpha: float = 0.05,
    min_points: int = 4,
) -> GapTrend:
    """Interpolate train and validation curves to common steps and measure the gap's growth.

    ``start``/``last_fraction`` restrict the slope and trend test to a window of the grid (e.g.
    the part after the validation minimum); the returned series cover the whole overlap.
    Non-finite points are ignored. Fewer than ``min_points`` common steps in the window gives an
    ``insufficient`` result with NaN numbers.
    """
    tr = prepare(train_steps, train_values, space="linear")
    va = prepare(val_steps, val_values, space="linear")
    nan = float("nan")
    empty = np.array([])

    def insufficient(reason: str, n: int = 0) -> GapTrend:
        t = TrendTest(nan, nan, nan, nan, "none", n, alpha, True, reason)
        return GapTrend(
            empty,
            empty,
            empty,
            empty,
            None,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            t,
            n,
            True,
            reason,
        )

    if tr.n < 2 or va.n < 2:
        return insufficient("a curve has fewer than 2 finite points")
    sparse, dense = (va, tr) if va.n <= tr.n else (tr, va)
    # Allow one dense-step spacing of slack at the ends: validation at step 2000 (end of the
    # last epoch) must pair with training logged up to step 1999.
    slack = float(np.median(np.diff(dense.steps)))
    lo = max(sparse.steps[0], dense.steps[0] - slack)
    hi = min(sparse.steps[-1], dense.steps[-1] + slack)
    if hi <= lo:
        return insufficient("the curves do not overlap in steps")
    grid = sparse.steps[(sparse.steps >= lo) & (sparse.steps <= hi)]
    dense_vals = dense.values
    if dense.n >= 2 * max(grid.size, 1) and dense.n >= 10:
        dense_vals = robust_smooth(dense.steps, dense.values)
    dense_on_grid = np.interp(grid, dense.steps, dense_vals)
    sparse_on_grid = sparse.values[(sparse.steps >= lo) & (sparse.steps <= hi)]
    if sparse is va:
        val_g, train_g = sparse_on_grid, dense_on_grid
    else:
        val_g, train_g = dense_on_grid, sparse_on_grid
    gap = val_g - train_g
    ratio = val_g / train_g if np.all(val_g > 0) and np.all(train_g > 0) else None
    mask = window_mask(grid, start=start, last_fraction=last_fraction)
    gs, gg = grid[mask], gap[mask]
    if gs.size < min_points:
        r = insufficient(
            f"only {gs.size} common steps in the window (need {min_points})", int(gs.size)
        )
        return GapTrend(
            grid,
            train_g,
            val_g,
            gap,
            ratio,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            r.trend,
            int(gs.size),
            True,
            r.reason,
        )
    res = stats.theilslopes(gg, gs, alpha=confidence)
    slope, icpt, s_lo, s_hi = (float(res[0]), float(res[1]), float(res[2]), float(res[3]))
    span = float(gs[-1] - gs[0])
    level = float(np.median(np.abs(val_g)))

    def rel(x: float) -> float:
        return x * span / level if level > 0 else nan

    return GapTrend(
        steps=grid,
        train=train_g,
        val=val_g,
        gap=gap,
        ratio=ratio,
        slope=slope,
        slope_low=s_lo,
        slope_high=s_hi,
        gap_start=icpt + slope * float(gs[0]),
        gap_end=icpt + slope * float(gs[-1]),
        relative_growth=rel(slope),
        relative_growth_low=rel(s_lo),
        relative_growth_high=rel(s_hi),
        level=level,
        trend=_trend_from_arrays(gs, gg, alpha=alpha, max_points=1000),
        n=int(gs.size),
    )
