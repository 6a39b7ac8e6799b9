"""The best point of a (validation) curve and how significantly it got worse afterwards.

Built for overfitting checks on per-epoch validation curves, which are often short (5-30 points):
instead of a patience counter that cannot fire on short runs, the minimum of a lightly smoothed
curve is located and the part after it is tested, two ways, for a real rise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from .prep import Space, prepare
from .slope import _trend_from_arrays
from .smoothing import (
    effective_noise,
    mad_sigma,
    noise_scale,
    robust_smooth,
    rolling_median,
)

Mode = Literal["min", "max"]


@dataclass(frozen=True)
class BestPoint:
    """Best point of a curve and the deterioration after it.

    ``mode="min"`` (losses) or ``"max"`` (accuracies). ``best_*`` come from the smoothed curve,
    ``raw_best_*`` from the raw points. ``rise`` is how much worse the smoothed end is than the
    smoothed best, in working-space units (always >= 0 means worse, whatever the mode);
    ``rise_orig`` the same in original units. ``rise_rel_range``: over the smoothed curve's range;
    ``rise_rel_gain``: over the improvement from the start to the best (the fraction of the gain
    given back); ``rise_rel_level``: as a fraction of the best level; ``rise_sigma``: in noise
    scales. Significance: ``rise_p_value`` is the one-sided Mann-Kendall p-value for a worsening
    trend over the points *after* the best one (the best point itself is left out: it was selected
    for being low, and keeping it would make pure noise look like a rise); ``rise_z`` compares the mean of the last half of the post-best
    points with the mean around the best. ``significant`` needs both at ``alpha``.
    """

    best_step: float
    best_index: int
    best_value: float
    raw_best_step: float
    raw_best_value: float
    end_value: float
    rise: float
    rise_orig: float
    max_rise: float
    rise_rel_range: float
    rise_rel_gain: float
    rise_rel_level: float
    rise_sigma: float
    rise_z: float
    rise_p_value: float
    significant: bool
    n_after: int
    noise_sigma: float
    mode: Mode
    n: int
    log_space: bool
    insufficient: bool = False
    reason: str | None = None


def best_point(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    mode: Mode = "min",
    space: Space = "auto",
    window: int | None = None,
    alpha: float = 0.05,
    min_points: int = 4,
) -> BestPoint:
    """Locate the best point of the smoothed curve and test the deterioration after it.

    Smoothing: a 3-point rolling median below 10 points, else robust LOWESS over ``window``
    points (default ~15% of the curve, at least 5; counted after binning long curves to 1000
    bin medians). Needs ``min_points`` finite points. The
    trend test needs 3 points after the best to run and 4 to reach p < 0.05 (exact test), so on
    a 6-epoch run a minimum at epoch 3 cannot be called significant; false positives on pure
    noise stay at the nominal ``alpha``.
    """
    if mode not in ("min", "max"):
        raise ValueError("mode must be 'min' or 'max'")
    prep = prepare(steps, values, space=space)
    n = prep.n
    nan = float("nan")
    if n < min_points:
        return BestPoint(
            nan,
            -1,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            False,
            0,
            nan,
            mode,
            n,
            prep.log_space,
            True,
            f"only {n} finite points (need {min_points})",
        )
    sign = 1.0 if mode == "min" else -1.0
    s = prep.steps
    y = sign * prep.work  # lower is better from here on
    if n < 10 and window is None:
        sm = rolling_median(y, window=3)
    else:
        sm = robust_smooth(s, y, window=window, frac=0.15)
    b = int(np.argmin(sm))
    rb = int(np.argmin(y))
    sigma = mad_sigma(y - sm)
    if n < 10 or not sigma > 0:
        sigma = noise_scale(s, y, method="diff2")
    sigma = effective_noise(sigma, y, values=prep.values, log_space=prep.log_space)

    rise = float(sm[-1] - sm[b])
    max_rise = float(np.max(sm[b:]) - sm[b])
    rng = float(np.ptp(sm))
    gain = float(sm[0] - sm[b])
    best_o = float(prep.from_work(sign * sm[b]))
    end_o = float(prep.from_work(sign * sm[-1]))
    rise_orig = (end_o - best_o) * sign
    n_after = n - 1 - b

    seg_s, seg_y = s[b + 1 :], y[b + 1 :]
    p_rise = nan
    if seg_s.size >= 3:
        tt = _trend_from_arrays(seg_s, seg_y, alpha=alpha, max_points=1000)
        p_rise = 1.0 if tt.insufficient else tt.p_increasing
    z = nan
    if n_after >= 2:
        k_late = max(2, n_after // 2)
        late = y[-k_late:]
        nb = y[max(0, b - 1) : b + 2]
        z = float((late.mean() - nb.mean()) / (sigma * np.sqrt(1 / late.size + 1 / nb.size)))
    significant = bool(
        np.isfinite(p_rise) and p_rise < alpha and np.isfinite(z) and z > stats.norm.ppf(1 - alpha)
    )
    return BestPoint(
        best_step=float(s[b]),
        best_index=b,
        best_value=best_o,
        raw_best_step=float(s[rb]),
        raw_best_value=float(prep.values[rb]),
        end_value=end_o,
        rise=rise,
        rise_orig=rise_orig,
        max_rise=max_rise,
        rise_rel_range=rise / rng if rng > 0 else 0.0,
        rise_rel_gain=rise / gain if gain > 0 else float("inf") if rise > 0 else 0.0,
        rise_rel_level=rise_orig / abs(best_o) if best_o != 0 else nan,
        rise_sigma=rise / sigma,
        rise_z=z,
        rise_p_value=p_rise,
        significant=significant,
        n_after=n_after,
        noise_sigma=sigma,
        mode=mode,
        n=n,
        log_space=prep.log_space,
    )


@dataclass(frozen=True)
class LevelShift:
    """How the end of a curve compares with the stretch around its minimum.

    ``best_level`` is the median of the points nearest the minimum (an eighth of them, at least
    three), ``late_level`` the median of the points in the last ``late_fraction`` of the run
    (after that window); ``relative`` is ``late_level / best_level - 1``; ``p_value`` the
    one-sided Mann-Whitney p-value that the late points are larger than those around the
    minimum (a comparison of two groups of points, so a curve whose single points are noisy can
    still show a significant shift of its level); ``above_share`` the share of late points
    above ``best_level``."""

    best_level: float
    late_level: float
    relative: float
    p_value: float
    above_share: float
    best_step: float
    late_points: int


def level_shift(
    steps: np.ndarray,
    values: np.ndarray,
    best_index: int,
    *,
    late_fraction: float = 1 / 3,
) -> LevelShift | None:
    """Compare the level of the last ``late_fraction`` of a positive curve with the level around
    its minimum at ``best_index`` (an index into the finite points). None when fewer than three
    points are late, or the late stretch overlaps the minimum's window."""
    s = np.asarray(steps, dtype=float)
    v = np.asarray(values, dtype=float)
    fin = np.isfinite(v) & np.isfinite(s)
    s, v = s[fin], v[fin]
    n = v.size
    if n < 6 or not 0 <= best_index < n:
        return None
    k = max(3, int(round(n / 8)))
    lo = max(0, min(best_index - k // 2, n - k))
    around = slice(lo, lo + k)
    late = (s >= s[-1] - late_fraction * (s[-1] - s[0])) & (np.arange(n) >= lo + k)
    if late.sum() < 3:
        return None
    b = float(np.median(v[around]))
    e = float(np.median(v[late]))
    p = float(stats.mannwhitneyu(v[late], v[around], alternative="greater").pvalue)
    return LevelShift(
        best_level=b,
        late_level=e,
        relative=e / b - 1.0 if b > 0 else float("inf"),
        p_value=p,
        above_share=float(np.mean(v[late] > b)),
        best_step=float(s[best_index]),
        late_points=int(late.sum()),
    )


def blowup_onset(
    values: np.ndarray, *, min_jump: float = 10.0, min_ratio: float = 100.0, hold: float = 0.7
) -> int | None:
    """Index of the first finite point of a positive curve at which it blows up for good: it is
    at least ``min_jump`` times the lowest value before it, at least ``hold`` of the points from
    there on stay that high, and their median is ``min_ratio`` times that lowest value, or
    ``min_jump`` times it when the point itself jumped ``min_jump`` times above the one before
    (abrupt, not a gradual rise). Indexes refer to the finite points; None when there is none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 3 or not (v > 0).all():
        return None
    lowest = np.minimum.accumulate(v)
    for i in range(1, v.size):
        base = lowest[i - 1]
        if v[i] < min_jump * base:
            continue
        later = v[i:]
        if np.mean(later >= min_jump * base) < hold:
            continue
        ratio = float(np.median(later)) / base
        if ratio >= min_ratio or (v[i] / v[i - 1] >= min_jump and ratio >= min_jump):
            return i
        return None
    return None
