"""Where a curve turned for the worse: a lasting level shift after its best point (overfitting on
noisy validation curves) and the onset of a blow-up by orders of magnitude (divergence)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._order import median, quantile
from ._rank import mannwhitney_greater


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
    b = float(median(v[around]))
    e = float(median(v[late]))
    p = mannwhitney_greater(v[late], v[around])
    return LevelShift(
        best_level=b,
        late_level=e,
        relative=e / b - 1.0 if b > 0 else float("inf"),
        p_value=p,
        above_share=float(np.mean(v[late] > b)),
        best_step=float(s[best_index]),
        late_points=int(late.sum()),
    )


#: a rise counts as abrupt when it happens within one evaluation interval or within this share
#: of a curve's evaluations, whichever is more: evaluating twice as often splits one jump into
#: two, and the same blow-up must read the same at any evaluation cadence
ABRUPT_SHARE = 0.05


def blowup_onset(
    values: np.ndarray,
    *,
    min_jump: float = 10.0,
    min_ratio: float = 100.0,
    hold: float = 0.9,
    abrupt_share: float = ABRUPT_SHARE,
) -> int | None:
    """Index of the first finite point of a positive curve at which it blows up for good: it is
    at least ``min_jump`` times the lowest value before it, at least ``hold`` of the points from
    there on stay that high and at most one comes back within ``sqrt(min_jump)`` times that
    lowest value (a curve that keeps returning to its best is swinging, not blown up), their
    median is ``min_jump`` times the median of the five points before and the upper quartile of
    all points before the rise (a new level, not one the curve already visited), and that median is ``min_ratio`` times that lowest value, or ``min_jump`` times it when the
    point rose ``min_jump`` times above the lowest of the points just before it (abrupt, not a
    gradual rise): the one before, or those of the last ``abrupt_share`` of the evaluations when
    that is more (a jump between two epochs is split over several evaluations when the curve is
    evaluated several times an epoch); an abrupt rise is dated from its first point
    ``sqrt(min_jump)`` times above that lowest point. Indexes refer to the finite points; None
    when there is none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 3 or not (v > 0).all():
        return None
    lowest = np.minimum.accumulate(v)
    # only the points min_jump times above the lowest before them can be the onset (the first
    # test of the loop, vectorised: a long curve has few of them)
    jumps = np.flatnonzero(v[1:] >= min_jump * lowest[:-1]) + 1
    w = max(1, int(round(abrupt_share * v.size)))  # evaluations an abrupt rise may take
    for i in jumps.tolist():
        base = lowest[i - 1]
        later = v[i:]
        if np.mean(later >= min_jump * base) < hold:
            continue
        if np.sum(later < np.sqrt(min_jump) * base) > 1:
            continue
        # the foot of the rise: the lowest of the points just before it (the one before when
        # the curve jumped in one evaluation)
        a = max(0, i - w) + int(np.argmin(v[max(0, i - w) : i]))
        typical = max(float(median(v[max(0, a - 4) : a + 1])), float(quantile(v[: a + 1], 0.75)))
        if median(later) < min_jump * typical:
            continue  # no higher than the curve already was: swings, not a blow-up
        ratio = float(median(later)) / base
        if v[i] / v[a] >= min_jump and ratio >= min_jump:
            # abrupt: dated from its first point clearly above the foot (sqrt(min_jump) times,
            # as frozen_after_rise dates its onset), so that the part before it holds no rise
            up = v[a + 1 : i + 1] >= np.sqrt(min_jump) * v[a]
            return a + 1 + int(np.argmax(up))
        if ratio >= min_ratio:
            return i
        return None
    return None


def frozen_after_rise(
    values: np.ndarray,
    *,
    min_ratio: float = 10.0,
    band: float = 0.01,
    min_fraction: float = 0.25,
    min_points: int = 3,
) -> tuple[int, int] | None:
    """(onset, frozen) indexes when a positive curve rose to ``min_ratio`` times its lowest
    value before and then froze: every point of its trailing stretch lies within ``band``
    (relative) of the last value with no drift across its second half (a straight-line fit
    moves less than a tenth of ``band``), that stretch holding ``min_fraction`` of the points or more (and
    ``min_points``). A loss repeating one value to several digits far above its best is
    a network that stopped computing anything useful (dead units, saturated outputs), not a
    model that fits its training data too well: overfitting moves with the training loss.
    ``onset`` is the first point after that lowest value from which the curve stays above
    ``sqrt(min_ratio)`` times it. Indexes refer to the finite points; None otherwise."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = v.size
    if n < min_points + 2 or not (v > 0).all():
        return None
    off = np.abs(v / v[-1] - 1.0) > band
    idx = np.flatnonzero(off)
    if not idx.size:
        return None  # constant from the first point: nothing rose
    frozen = int(idx[-1]) + 1
    if n - frozen < max(min_points, min_fraction * n):
        return None
    seg = v[frozen:][(n - frozen) // 2 :]  # its second half: past any settling-in
    drift = float(np.polyfit(np.arange(seg.size), seg, 1)[0]) * (seg.size - 1) / float(v[-1])
    if abs(drift) > band / 10:
        return None  # still creeping (a saturating rise): not one value repeated
    ib = int(np.argmin(v[:frozen]))
    base = float(v[ib])
    if v[-1] < min_ratio * base:
        return None
    high = v[ib + 1 :] >= np.sqrt(min_ratio) * base
    stays = np.flip(np.logical_and.accumulate(np.flip(high)))
    onset = ib + 1 + int(np.argmax(stays))
    return onset, frozen


def diverged_at(
    values: np.ndarray, *, min_jump: float = 10.0, min_ratio: float = 100.0
) -> tuple[int, bool] | None:
    """(index, frozen) of a positive curve's blow-up: ``blowup_onset``, else the onset of
    ``frozen_after_rise`` to ``min_jump`` times its best; ``frozen`` when the curve then froze
    (``frozen_after_rise`` holds, whichever found the onset). Indexes refer to the finite
    points; None when it did neither."""
    i = blowup_onset(values, min_jump=min_jump, min_ratio=min_ratio)
    fr = frozen_after_rise(values, min_ratio=min_jump)
    if i is not None:
        return i, fr is not None
    return (fr[0], True) if fr is not None else None


def risen_from_start(values: np.ndarray, *, min_ratio: float = 3.0) -> int | None:
    """Index of the point from which a positive curve stays above ``sqrt(min_ratio)`` times its
    first value, when it ends ``min_ratio`` times above that first value or more (the median of
    its last third, with four in five of those points at least half that high); None otherwise
    (or when it was that high from its first point on). Indexes refer to the finite points."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 6 or not (v > 0).all():
        return None
    first = float(v[0])
    late = v[-max(3, v.size // 3) :]
    if median(late) < min_ratio * first or np.mean(late >= 0.5 * min_ratio * first) < 0.8:
        return None
    high = v >= np.sqrt(min_ratio) * first
    stays = np.flip(np.logical_and.accumulate(np.flip(high)))
    i = int(np.argmax(stays))
    return i if i > 0 else None


def collapsed(values: np.ndarray, *, max_fraction: float = 0.5) -> int | None:
    """Index of the evaluation from which a bounded higher-is-better metric (accuracy, F1: values
    in [0, 1]) stays collapsed: its end level (the median of its last third) is ``max_fraction``
    of its best or less, the best came before that last third, and from the returned index on
    every point is closer to the end level than to the best. None otherwise, for fewer than six
    finite points or values outside [0, 1]. Indexes refer to the finite points."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 6 or not ((v >= 0.0) & (v <= 1.0)).all():
        return None
    third = max(2, v.size // 3)
    end = float(median(v[-third:]))
    ib = int(np.argmax(v))
    best = float(v[ib])
    if best <= 0.0 or end > max_fraction * best or ib >= v.size - third:
        return None
    high = v > 0.5 * (best + end)
    last_high = int(np.flatnonzero(high)[-1])
    return last_high + 1 if last_high + 1 < v.size else None


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
    start_level = float(median(tv[:3]))
    k = max(1, min(3, vv.size // 5))
    ref = np.maximum(start_level, np.interp(vs[:k], ts, tv))
    at_start = float(median(vv[:k] / ref))
    overall = float(median(vv) / start_level)
    if at_start < min_ratio or overall < min_overall:
        return None
    return OffScale(at_start=at_start, overall=overall, first_step=float(vs[0]))
