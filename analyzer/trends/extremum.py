"""Where a curve turned for the worse: a lasting level shift after its best point (overfitting on
noisy validation curves) and the onset of a blow-up by orders of magnitude (divergence)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    from scipy import stats  # lazily: a slow import

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


@dataclass(frozen=True)
class OffScale:
    """A validation loss far above the training loss from its first evaluations on: ``at_start``
    is the median ratio of its first evaluations to the training loss's level there (the larger
    of the training loss's starting level and its value at those steps), ``overall`` the median
    ratio of all its evaluations to the training loss's starting level; ``first_step`` the step of
    its first evaluation."""

    at_start: float
    overall: float
    first_step: float


def val_off_scale(
    train_steps: np.ndarray,
    train_values: np.ndarray,
    val_steps: np.ndarray,
    val_values: np.ndarray,
    *,
    min_ratio: float = 100.0,
    min_overall: float = 10.0,
) -> OffScale | None:
    """The validation loss starts ``min_ratio`` times or more above the training loss and stays
    ``min_overall`` times above its starting level for most of the run (the median): it blew up
    within the first interval (or evaluation differs from training), which a training loss that
    falls or merely memorises never shows at the start. Positive, finite points only; None when
    there are fewer than three of each or the ratios are below the thresholds."""
    ts, tv = np.asarray(train_steps, dtype=float), np.asarray(train_values, dtype=float)
    vs, vv = np.asarray(val_steps, dtype=float), np.asarray(val_values, dtype=float)
    ok_t = np.isfinite(ts) & np.isfinite(tv) & (tv > 0)
    ok_v = np.isfinite(vs) & np.isfinite(vv) & (vv > 0)
    ts, tv, vs, vv = ts[ok_t], tv[ok_t], vs[ok_v], vv[ok_v]
    if tv.size < 3 or vv.size < 3:
        return None
    start_level = float(np.median(tv[:3]))
    k = max(1, min(3, vv.size // 5))
    ref = np.maximum(start_level, np.interp(vs[:k], ts, tv))
    at_start = float(np.median(vv[:k] / ref))
    overall = float(np.median(vv) / start_level)
    if at_start < min_ratio or overall < min_overall:
        return None
    return OffScale(at_start=at_start, overall=overall, first_step=float(vs[0]))
