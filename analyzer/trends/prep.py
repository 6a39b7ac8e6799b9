"""Turning raw (step, value) arrays into clean, sorted arrays every other trend function can use.

Logs are messy: steps repeat (several values logged for one step, gradient-accumulation loggers,
resumed runs), arrive out of order, and values can be NaN or infinite once training diverges. The
functions here normalise that once, say what was found, and decide whether the curve should be
analysed in log space (a positive curve spanning more than about a decade, where noise and changes
are multiplicative rather than additive).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ._order import median, quantile

Space = Literal["auto", "linear", "log"]

#: Default number of decades a positive curve must span before it is analysed in log space.
DEFAULT_MIN_DECADES = 1.0


@dataclass(frozen=True, eq=False)
class Prepared:
    """A curve made ready for analysis.

    ``steps``/``values`` hold only finite points, sorted by step with duplicate steps averaged.
    ``work`` is the same values in the working space (``log10(values)`` when ``log_space``).
    ``all_steps``/``all_values``/``finite`` keep every unique step, so callers can see *where*
    the curve stopped being finite (divergence) even though analysis ignores those points.
    """

    steps: np.ndarray
    values: np.ndarray
    work: np.ndarray
    all_steps: np.ndarray
    all_values: np.ndarray
    finite: np.ndarray
    first_nonfinite_step: float | None
    finite_after_first_nonfinite: int
    n_input: int
    n_duplicates: int
    n_nan: int
    n_posinf: int
    n_neginf: int
    log_space: bool
    decades: float

    @property
    def n(self) -> int:
        """Number of finite, unique-step points."""
        return int(self.steps.size)

    @property
    def n_nonfinite(self) -> int:
        """Number of unique steps whose value is NaN or infinite."""
        return self.n_nan + self.n_posinf + self.n_neginf

    def to_work(self, values: np.ndarray | float) -> np.ndarray | float:
        """Map values in original units to the working space."""
        v = np.asarray(values, dtype=float)
        if self.log_space:
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.log10(v)
        return v if v.ndim else float(v)

    def from_work(self, work: np.ndarray | float) -> np.ndarray | float:
        """Map values in the working space back to original units."""
        w = np.asarray(work, dtype=float)
        if self.log_space:
            with np.errstate(over="ignore"):
                w = np.power(10.0, w)
        return w if w.ndim else float(w)


def span_decades(values: np.ndarray) -> float:
    """Decades spanned by the finite values (robust 1%-99% range), or NaN if any is <= 0.

    Robust quantiles keep one stray point near zero from deciding the space on its own.
    """
    v = np.asarray(values, dtype=float)
    return _decades(v[np.isfinite(v)])


def _decades(v: np.ndarray) -> float:
    """:func:`span_decades` of finite values."""
    if v.size < 2 or np.any(v <= 0):
        return float("nan")
    lo, hi = quantile(v, [0.01, 0.99])
    return float(np.log10(hi) - np.log10(lo))  # no overflow when hi/lo exceeds the float range


def choose_log_space(values: np.ndarray, *, min_decades: float = DEFAULT_MIN_DECADES) -> bool:
    """Whether to analyse ``values`` in log10 space.

    True when every finite value is strictly positive and they span more than ``min_decades``
    decades: then noise and improvements are multiplicative, and a linear-space analysis would be
    dominated by the first few points.
    """
    d = span_decades(values)
    return bool(np.isfinite(d) and d > min_decades)


def _group_steps(s: np.ndarray, v: np.ndarray, fin: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per unique step of sorted ``s``: the step, its count, the mean of its finite values,
    whether it has one, whether it is NaN / +inf / -inf (NaN wins over inf, +inf over -inf)
    when it has none, and its value (the mean, or that non-finite value)."""
    uniq, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    n_fin = np.bincount(inverse, weights=fin.astype(float), minlength=uniq.size)
    sums = np.bincount(inverse, weights=np.where(fin, v, 0.0), minlength=uniq.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = sums / n_fin
    finite = n_fin > 0
    has_nan = np.bincount(inverse, weights=np.isnan(v).astype(float), minlength=uniq.size) > 0
    has_pinf = np.bincount(inverse, weights=(v == np.inf).astype(float), minlength=uniq.size) > 0
    kind_nan = ~finite & has_nan
    kind_pinf = ~finite & ~has_nan & has_pinf
    kind_ninf = ~finite & ~has_nan & ~has_pinf
    all_values = avg.copy()
    all_values[kind_nan] = np.nan
    all_values[kind_pinf] = np.inf
    all_values[kind_ninf] = -np.inf
    return uniq, counts, avg, finite, kind_nan, kind_pinf, kind_ninf, all_values


def _distinct_finite(s: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
    """:func:`_group_steps` for the usual curve, distinct steps and every value finite, without
    the grouping: each value is averaged with itself alone, ``(0.0 + v) / 1.0`` (a bincount
    adds to zeros, so -0.0 becomes 0.0), i.e. ``v + 0.0``."""
    n = s.size
    avg = v + 0.0
    none = np.zeros(n, dtype=bool)
    return s, np.ones(n, dtype=np.intp), avg, np.ones(n, dtype=bool), none, none, none, avg.copy()


def prepare(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    space: Space = "auto",
    min_decades: float = DEFAULT_MIN_DECADES,
) -> Prepared:
    """Sort by step, average duplicate steps, separate non-finite points, pick the working space.

    Rows whose *step* is not finite are dropped (they count in ``n_input`` only). For a duplicated step, the finite values are averaged; the step is non-finite
    only if all of its values are. ``space="log"`` falls back to linear when a value is <= 0.
    Raises ``ValueError`` only when the two arrays differ in length (a programming error).
    """
    s = np.asarray(steps, dtype=float).ravel()
    v = np.asarray(values, dtype=float).ravel()
    if s.size != v.size:
        raise ValueError(f"steps and values differ in length: {s.size} != {v.size}")
    n_input = int(s.size)
    if _is_clean(s, v):
        return _prepare_clean(s, v, space=space, min_decades=min_decades)
    keep = np.isfinite(s)
    s, v = s[keep], v[keep]
    order = np.argsort(s, kind="stable")
    s, v = s[order], v[order]
    fin = np.isfinite(v)
    if s.size and fin.all() and (s[1:] > s[:-1]).all():
        grouped = _distinct_finite(s, v)
    else:
        grouped = _group_steps(s, v, fin)
    uniq, counts, avg, finite, kind_nan, kind_pinf, kind_ninf, all_values = grouped

    clean_s = uniq[finite]
    clean_v = avg[finite]
    if (~finite).any():
        first_bad = float(uniq[~finite][0])
        after = int(np.count_nonzero(clean_s > first_bad))
    else:
        first_bad = None
        after = 0

    decades = _decades(clean_v)
    log_space = _log_space(clean_v, decades, space, min_decades)
    work = np.log10(clean_v) if log_space else clean_v.copy()
    return Prepared(
        steps=clean_s,
        values=clean_v,
        work=work,
        all_steps=uniq,
        all_values=all_values,
        finite=finite,
        first_nonfinite_step=first_bad,
        finite_after_first_nonfinite=after,
        n_input=n_input,
        n_duplicates=int(np.sum(counts - 1)),
        n_nan=int(kind_nan.sum()),
        n_posinf=int(kind_pinf.sum()),
        n_neginf=int(kind_ninf.sum()),
        log_space=log_space,
        decades=decades,
    )


def _is_clean(s: np.ndarray, v: np.ndarray) -> bool:
    """Whether 1-D float arrays of the same length are the usual curve that :func:`prepare`
    passes through as it is (:func:`_prepare_clean`): steps strictly increasing and finite,
    every value finite, at least one point."""
    return bool(
        s.size
        and np.isfinite(s[0])
        and np.isfinite(s[-1])
        and (s[1:] > s[:-1]).all()
        and np.isfinite(v).all()
    )


def clean_arrays(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(prep.steps, prep.values)`` of ``prepare(steps, values)`` for the usual curve (see
    :func:`_prepare_clean`): the steps as floats and ``values + 0.0``, without building the
    rest of a :class:`Prepared` (its working space, the decades it spans); None for any other
    curve, which needs :func:`prepare` itself. The steps may be the caller's array (not a
    copy): callers only read them."""
    s = np.asarray(steps, dtype=float).ravel()
    v = np.asarray(values, dtype=float).ravel()
    if s.size != v.size or not _is_clean(s, v):
        return None
    return s, v + 0.0


def working(
    steps: np.ndarray, values: np.ndarray, space: Space
) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """``(prep.steps, prep.work, prep.log_space)`` of ``prepare(steps, values, space=space)``
    for the usual curve (:func:`clean_arrays`) in a space the caller fixed (``"log"``, which
    falls back to linear when a value is <= 0, or ``"linear"``), without the rest of a
    :class:`Prepared` (the decades spanned, which only ``"auto"`` needs to choose); None for
    any other curve or space. Callers only read the arrays."""
    if space != "log" and space != "linear":
        return None
    clean = clean_arrays(steps, values)
    if clean is None:
        return None
    s, v = clean
    log_space = space == "log" and bool(np.all(v > 0))
    return s, (np.log10(v) if log_space else v), log_space


def _prepare_clean(s: np.ndarray, v: np.ndarray, *, space: Space, min_decades: float) -> Prepared:
    """:func:`prepare` of the usual curve, as most callers pass it (the arrays of a prepared
    curve, or a slice of them): steps strictly increasing (so distinct, and finite between
    finite ends), every value finite. Nothing to drop, sort or group: each value is averaged
    with itself alone, ``v + 0.0`` (see :func:`_distinct_finite`); the same numbers, without
    the dozen array calls that find that out."""
    n = s.size
    clean_v = v + 0.0
    decades = _decades(clean_v)
    log_space = _log_space(clean_v, decades, space, min_decades)
    return Prepared(
        steps=s.copy(),
        values=clean_v,
        work=np.log10(clean_v) if log_space else clean_v.copy(),
        all_steps=s.copy(),
        all_values=clean_v.copy(),
        finite=np.ones(n, dtype=bool),
        first_nonfinite_step=None,
        finite_after_first_nonfinite=0,
        n_input=n,
        n_duplicates=0,
        n_nan=0,
        n_posinf=0,
        n_neginf=0,
        log_space=log_space,
        decades=decades,
    )


def _log_space(clean_v: np.ndarray, decades: float, space: str, min_decades: float) -> bool:
    """Whether :func:`prepare` works in log10 space (``space``; ``decades`` spanned)."""
    if space == "log":
        log_space = bool(clean_v.size > 0 and np.all(clean_v > 0))
    elif space == "linear":
        log_space = False
    elif space == "auto":  # choose_log_space(clean_v), from the decades computed above
        log_space = bool(np.isfinite(decades) and decades > min_decades)
    else:
        raise ValueError(f"space must be 'auto', 'linear' or 'log', not {space!r}")
    return log_space


def bin_medians(
    steps: np.ndarray, values: np.ndarray, *, max_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deterministically shrink a long curve to at most ``max_points`` points.

    Consecutive points are grouped into equal-count bins; each bin is represented by the median of
    its steps and the median of its values (robust to spikes). Returns ``(steps, values, starts)``
    where ``starts[i]`` is the index in the input of bin ``i``'s first point. A curve already short
    enough is returned unchanged (``starts = arange(n)``). Used to keep O(n^2) methods fast.
    """
    s = np.asarray(steps, dtype=float)
    v = np.asarray(values, dtype=float)
    n = s.size
    if max_points < 1:
        raise ValueError("max_points must be >= 1")
    if n <= max_points:
        return s.copy(), v.copy(), np.arange(n)
    k = int(np.ceil(n / max_points))
    full = n // k
    starts = np.arange(0, n, k)
    bs = np.median(s[: full * k].reshape(full, k), axis=1)
    bv = np.median(v[: full * k].reshape(full, k), axis=1)
    if full * k < n:
        bs = np.append(bs, median(s[full * k :]))
        bv = np.append(bv, median(v[full * k :]))
    return bs, bv, starts


def value_quantum(values: np.ndarray) -> float | None:
    """The grid step of quantised (rounded) values, or None if the values are not quantised.

    Values count as quantised when there are at most half as many distinct values as points and
    every distinct value lies on a grid of the smallest gap between them. Rounded logs (``0.12``,
    ``0.13``) have a median absolute deviation of zero, so noise estimates need this floor.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 4:
        return None
    u = np.unique(v)
    if u.size < 2:
        return None
    if u.size > 0.5 * v.size:
        return None
    gaps = np.diff(u)
    scale = max(float(np.max(np.abs(u))), np.finfo(float).tiny)
    gaps = gaps[gaps > 1e-12 * scale]
    if gaps.size == 0:
        return None
    q = float(gaps.min())
    k = (u - u[0]) / q
    if np.all(np.abs(k - np.round(k)) < 1e-3):
        return q
    return None


def rel_to_level(delta_work: float, level_work: float, log_space: bool) -> float:
    """Express a difference in the working space as a fraction of the level (original units).

    Linear space: ``delta / |level|``. Log space: ``10**delta - 1`` (a change of ``delta`` decades
    as a fractional change). NaN when the level is zero. Scale-free in both spaces.
    """
    if not np.isfinite(delta_work):
        return float("nan")
    if log_space:
        with np.errstate(over="ignore"):
            return float(np.power(10.0, delta_work) - 1.0)
    if not np.isfinite(level_work) or level_work == 0:
        return float("nan")
    return float(delta_work / abs(level_work))


def window_mask(
    steps: np.ndarray,
    *,
    start: float | None = None,
    end: float | None = None,
    last_fraction: float | None = None,
) -> np.ndarray:
    """Boolean mask of the steps inside a window.

    ``start``/``end`` are inclusive step bounds; ``last_fraction`` (0-1] keeps the final fraction
    of the step span instead (combined with ``end`` if both are given).
    """
    s = np.asarray(steps, dtype=float)
    mask = np.ones(s.size, dtype=bool)
    if s.size == 0:
        return mask
    if last_fraction is not None:
        if not 0 < last_fraction <= 1:
            raise ValueError("last_fraction must be in (0, 1]")
        lo = s[-1] - last_fraction * (s[-1] - s[0])
        mask &= s >= lo
    if start is not None:
        mask &= s >= start
    if end is not None:
        mask &= s <= end
    return mask


#: Curves with more points than this are condensed before analysis (:func:`condense`): far
#: above the longest curves of the bundled fixtures (~100k points), so their results are exact.
LONG_CURVE = 200_000
#: The number of bins a condensed curve has (its points: one per bin, plus its non-finite ones).
CONDENSED_POINTS = 50_000


def condense(
    values: np.ndarray, *, max_points: int = CONDENSED_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """Shrink a very long curve (values in step order) for analysis that is linear in its length.

    Consecutive points are grouped into equal-count bins of ``k = ceil(n / max_points)``; a bin
    whose values are all finite becomes one point, the median of its values at its middle point
    (an index of the input, so steps stay logged steps); a bin holding a NaN or infinity is kept
    point by point, so where a curve stops being finite (divergence) is exact. The last,
    incomplete bin is kept as it is. Returns ``(index, values)``: input positions, ascending,
    and the value at each. Single-point spikes within an all-finite bin are smoothed away; the
    statistics the rules use on such curves (levels, trends, swings over many points) are
    medians of many points anyway."""
    v = np.asarray(values, dtype=float)
    n = v.size
    k = int(np.ceil(n / max_points)) if max_points >= 1 else n
    if k <= 1:
        return np.arange(n), v.copy()
    full = n // k
    bins = v[: full * k].reshape(full, k)
    ok = np.isfinite(bins).all(axis=1)
    med = np.median(bins[ok], axis=1)
    mid = np.flatnonzero(ok) * k + k // 2
    raw = np.flatnonzero(np.repeat(~ok, k))
    raw = np.concatenate([raw, np.arange(full * k, n)])
    index = np.concatenate([mid, raw])
    out = np.concatenate([med, v[raw]])
    order = np.argsort(index, kind="stable")
    return index[order], out[order]
