"""Smoothers and noise-scale estimates.

Two smoothers, for two jobs:

* :func:`rolling_median` — centred, with symmetric windows that shrink at the edges. It reproduces
  any monotone stretch exactly and keeps level shifts sharp, so it is the baseline for spike
  detection and the detrender for oscillation analysis.
* :func:`robust_smooth` — LOWESS-style local-linear fit with tricube weights and bisquare
  robustness iterations, automatic window, and deterministic binning for long curves. It follows
  trends without lag and is unbiased at the end of the curve for locally linear trends, which
  matters because "the last smoothed value" feeds most rules.

Noise scales are robust (median absolute deviations), with a floor for quantised values.
"""

from __future__ import annotations

import functools
import sys
from typing import Literal

import numpy as np

from ._order import median
from .prep import bin_medians, value_quantum

MAD_TO_SIGMA = 1.4826


def _odd(k: int) -> int:
    return k if k % 2 == 1 else k + 1


def auto_window(n: int, *, frac: float = 0.1, minimum: int = 5, maximum: int | None = None) -> int:
    """An odd window length of about ``frac * n`` points, at least ``minimum`` and at most ``n``."""
    k = max(minimum, int(round(frac * n)))
    if maximum is not None:
        k = min(k, maximum)
    k = _odd(k)
    if k > n:
        k = n if n % 2 == 1 else n - 1
    return max(k, 1)


#: Window medians that neither the small-matrix nor the sorted-window way below takes are taken
#: with numpy (a matrix of the windows: ~20 ns per point and window width) until this process
#: has spent ``_NUMPY_BUDGET`` such cells, or imported scipy.ndimage: importing it costs ~0.3 s,
#: while its filter is far faster on long curves. So a ``check`` of ordinary runs never
#: imports it, and a process with long curves imports it once it has spent ~0.05 s on them (or
#: at the first window matrix larger than ``_NUMPY_CALL``). Both give the same numbers (a median
#: of an odd window is one of its values).
_NUMPY_BUDGET = 3_000_000
_NUMPY_CALL = 1_000_000  # at most this many cells at once (8 MB)
_numpy_spent = 0
#: window matrices up to this many cells are always numpy's, and not counted in the budget
#: (scipy would never take them over): on a short curve (an evaluation-cadence curve of a few
#: dozen points) scipy.ndimage's argument handling costs several times the selection. (They
#: were counted once: a sweep's short curves then imported scipy after ~1,000 runs, 0.3 s of
#: CPU in every worker, to save ~10 microseconds a run on the few matrices scipy takes.)
_NUMPY_SMALL = 4096


def median_filter(x: np.ndarray, width: int) -> np.ndarray:
    """Centred medians of ``x`` (finite) over an odd ``width``, the edges padded with the end
    values (``scipy.ndimage.median_filter(x, size=width, mode="nearest")``)."""
    global _numpy_spent
    h = width // 2
    cells = x.size * width
    if 0 < cells <= _NUMPY_SMALL and not (x == 0).any():
        # the edge padding and window view of the branch below, without np.pad's and
        # sliding_window_view's argument handling; among equal zeros the two might pick a
        # different sign, so a curve holding one takes the way it always did
        padded = np.concatenate((np.repeat(x[:1], h), x, np.repeat(x[-1:], h)))
        step = padded.strides[0]
        windows = np.lib.stride_tricks.as_strided(
            padded, shape=(x.size, width), strides=(step, step), writeable=False
        )
        return np.partition(windows, h, axis=1)[:, h].copy()
    if _SORTED_WIDTH <= width <= _SORTED_MAX and not (x == 0).any():
        return _sliding_median(x, width)
    if (
        cells <= _NUMPY_CALL
        and _numpy_spent + cells <= _NUMPY_BUDGET
        and "scipy.ndimage" not in sys.modules
    ):
        _numpy_spent += cells
        padded = np.pad(x, h, mode="edge")
        windows = np.lib.stride_tricks.sliding_window_view(padded, width)
        return np.ascontiguousarray(np.partition(windows, h, axis=1)[:, h])
    from scipy import ndimage  # lazily: a slow import

    return ndimage.median_filter(x, size=width, mode="nearest")


#: windows at least this wide slide a sorted list instead (:func:`_sliding_median`): a window
#: matrix costs width cells per point, the sorted list one insertion and one removal (each a
#: move of up to ``width`` list items: above ``_SORTED_MAX`` scipy's filter is the faster)
_SORTED_WIDTH = 64
_SORTED_MAX = 2048


def _sliding_median(x: np.ndarray, width: int) -> np.ndarray:
    """:func:`median_filter` by one sorted list of the window, slid over the edge-padded
    curve: each step removes the value leaving and inserts the one entering (both found by
    bisection), and the middle item is the median (an odd window: one of its values, as the
    window matrix's partition gives). Not for a curve holding a zero (``-0.0`` and ``0.0``
    compare equal: the one removed could be the other)."""
    from bisect import bisect_left, insort

    h = width // 2
    first, last = float(x[0]), float(x[-1])
    vals = x.tolist()
    padded = [first] * h + vals + [last] * h
    window = sorted(padded[:width])
    out = [window[h]]
    for i in range(width, len(padded)):
        del window[bisect_left(window, padded[i - width])]
        insort(window, padded[i])
        out.append(window[h])
    return np.array(out, dtype=float)


def rolling_median(values: np.ndarray, *, window: int) -> np.ndarray:
    """Centred rolling median whose window shrinks symmetrically at the edges.

    Point ``i`` gets the median of ``values[i-h : i+h+1]`` with ``h = min(window//2, i, n-1-i)``,
    so the end points are returned unchanged and any monotone run is reproduced exactly (no edge
    bias, no lag). Non-finite values are ignored and returned as they were.
    """
    return rolling_medians(values, (window,))[0]


def rolling_medians(values: np.ndarray, windows: tuple[int, ...]) -> list[np.ndarray]:
    """:func:`rolling_median` of ``values`` over each of ``windows``, the shrinking edges shared:
    the median of the first (last) ``2i + 1`` points does not depend on the window, so the
    edges of all windows are one set of prefix medians."""
    v = np.asarray(values, dtype=float)
    fin = np.isfinite(v)
    x = v[fin]
    n = x.size
    if n == 0:
        return [v.copy() for _ in windows]
    # per window: (odd width, points of each edge), None when it leaves v as it is
    shapes: list[tuple[int, int] | None] = []
    for window in windows:
        if window <= 1:
            shapes.append(None)
            continue
        w = min(_odd(int(window)), n if n % 2 == 1 else n - 1)
        shapes.append((w, min(w // 2, n)))
    k_max = max((k for _, k in filter(None, shapes)), default=0)
    head = _prefix_medians(x, k_max) if k_max else None
    tail = _prefix_medians(x[::-1], k_max)[::-1] if k_max else None
    out = []
    for shape in shapes:
        o = v.copy()
        if shape is not None:
            w, k = shape
            sm = median_filter(x, w)
            if k:
                assert head is not None and tail is not None
                sm[:k] = head[:k]
                sm[n - k :] = tail[k_max - k :]
            o[fin] = sm
        out.append(o)
    return out


#: edges of up to this many points are sorted by insertion (:func:`_prefix_medians`), longer
#: ones go to two heaps (each insertion moves up to 2k list items: quadratic, but ~2x faster
#: than the heaps' Python steps until a few thousand points)
_PREFIX_INSERT = 2048


def _prefix_medians(x: np.ndarray, k: int) -> np.ndarray:
    """``median(x[:2i+1])`` for ``i < k`` (``x`` finite, at least ``2k - 1`` points).

    The first ``2i + 1`` values kept sorted by insertion, or, for long edges, in two heaps:
    O(k log k) instead of the O(k^2) of one np.median per point (a window a quarter of a
    40,000-point curve wide made the shrinking edges quadratic). The median of an odd count is
    one of the values, so both give the same numbers; values holding a zero go to the heaps
    (the two might pick a different sign of zero among equal values)."""
    if 0 < k <= _PREFIX_INSERT:
        head = x[: 2 * k - 1]
        if not (head == 0).any():
            from bisect import insort

            xs = head.tolist()
            ordered = xs[:1]
            meds = xs[:1]
            for i in range(1, k):
                insort(ordered, xs[2 * i - 1])
                insort(ordered, xs[2 * i])
                meds.append(ordered[i])
            return np.array(meds, dtype=float)
    return _heap_prefix_medians(x, k)


def _heap_prefix_medians(x: np.ndarray, k: int) -> np.ndarray:
    """:func:`_prefix_medians` with two heaps (the lower half negated in a max-heap)."""
    import heapq

    lo: list[float] = []  # max-heap (negated) of the lower half
    hi: list[float] = []  # min-heap of the upper half
    out = np.empty(k)
    for i in range(k):
        for v in (x[0],) if i == 0 else (x[2 * i - 1], x[2 * i]):
            v = float(v)
            if lo and v > -lo[0]:
                heapq.heappush(hi, v)
            else:
                heapq.heappush(lo, -v)
            if len(lo) > len(hi) + 1:
                heapq.heappush(hi, -heapq.heappop(lo))
            elif len(hi) > len(lo):
                heapq.heappush(lo, -heapq.heappop(hi))
        out[i] = -lo[0]
    return out


def _window_starts(n: int, window: int) -> tuple[int, np.ndarray]:
    """The width ``k`` of each point's contiguous window (at least 3, at most ``n``) and the
    index it starts at (centred, shifted inside the curve at the ends)."""
    k = int(min(max(window, 3), n))
    return k, np.minimum(np.maximum(np.arange(n) - k // 2, 0), n - k)  # np.clip's numbers


def _tricube_windows(x: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Index matrix (n x k) of each point's contiguous window and its tricube weights."""
    k, lo = _window_starts(x.size, window)
    idx = lo[:, None] + np.arange(k)[None, :]
    return idx, _tricube(x, x[idx])


#: windows of at least this many cells (points x window) look for rows of distances repeated
#: from the row before (:func:`_tricube`)
_TRICUBE_SHARE = 4096


def _tricube(x: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Tricube weights of each point's window ``X`` (rows) by distance from the point.

    The two cubes are the costly part (``**`` calls a power function per cell: ~15 ns, against
    ~1 ns for a subtraction). A row's weights depend only on its row of distances, and a curve
    logged at an even cadence has the same distances in every window away from its ends, so on
    larger matrices the cubes are taken once per run of equal consecutive rows and copied to
    the others: the same numbers (each cell is the same expression of the same two operands)."""
    d = np.abs(X - x[:, None])
    h = d.max(axis=1) * 1.0001
    h[h == 0] = 1.0
    n = d.shape[0]
    if d.size >= _TRICUBE_SHARE and n > 4:
        new_row = np.empty(n, dtype=bool)
        new_row[0] = True
        # a distance row equal to the one before (distances are |.|: no -0.0, no NaN for
        # finite steps; a NaN row compares unequal and is computed on its own)
        np.any(d[1:] != d[:-1], axis=1, out=new_row[1:])
        first = np.flatnonzero(new_row)
        if 2 * first.size <= n:
            u = d[first] / h[first, None]
            return ((1.0 - u**3) ** 3)[np.cumsum(new_row) - 1]
    # d <= max d <= h, so d / h <= 1 and 1 - (d / h)^3 >= 0: no weight to clip at 0
    return (1.0 - (d / h[:, None]) ** 3) ** 3


#: windows of at least this many cells (points x window) are gathered as rows of a sliding view
#: (one copy per row), smaller ones through an index matrix (fewer calls)
_ROWS_GATHER = 20_000


def lowess(x: np.ndarray, y: np.ndarray, *, window: int, iterations: int = 2) -> np.ndarray:
    """Local-linear regression with tricube weights over ``window`` neighbouring points.

    ``x`` ascending, ``y`` finite. Windows are contiguous and shifted inwards at the edges, so the
    end values are extrapolated from a local line rather than copied from one noisy point.
    ``iterations`` bisquare robustness passes down-weight spikes. O(n * window) memory.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    if n < 3:
        return y.copy()
    k, lo = _window_starts(n, window)
    if n * k >= _ROWS_GATHER:
        rows = np.lib.stride_tricks.sliding_window_view

        def gather(a: np.ndarray) -> np.ndarray:
            return rows(a, k)[lo]

    else:
        idx = lo[:, None] + np.arange(k)[None, :]

        def gather(a: np.ndarray) -> np.ndarray:
            return a[idx]

    X = gather(x)
    Y = gather(y)
    w = _tricube(x, X)
    fit = y
    # Each pass: the weighted local line at every point. The products and sums are those of
    # the plain expressions (same operands, same order, each sum over a fresh C-ordered matrix);
    # the first pass has no robustness weights (w * 1 is w).
    W = w
    rowsum = functools.partial(np.add.reduce, axis=1)  # M.sum(axis=1), without its wrapper
    with np.errstate(invalid="ignore", divide="ignore"):
        for it in range(iterations + 1):
            sw = rowsum(W)
            ok = sw > 0
            all_ok = bool(ok.all())
            if not all_ok:
                sw[~ok] = 1.0
            mx = rowsum(W * X) / sw
            my = rowsum(W * Y) / sw
            dx = X - mx[:, None]
            wdx = W * dx  # the products below, evaluated left to right as (W * dx) * ...
            sxx = rowsum(wdx * dx)
            sxy = rowsum(wdx * (Y - my[:, None]))
            pos = sxx > 0
            beta = np.where(pos, sxy / np.where(pos, sxx, 1.0), 0.0)
            line = my + beta * (x - mx)
            fit = line if all_ok else np.where(ok, line, y)
            if it == iterations:
                break
            r = y - fit
            s = median(np.abs(r))
            if s <= 0:
                break
            u = r / (6.0 * s)
            rob = np.where(np.abs(u) < 1, (1 - u * u) ** 2, 0.0)
            rob = np.maximum(rob, 1e-3)
            W = w * gather(rob)
    return fit if fit is not y else y.copy()


def lowess_variance_factor(x: np.ndarray, *, window: int) -> np.ndarray:
    """Per point, ``sum_j L_ij**2`` of the (non-robust) LOWESS smoother matrix ``L``.

    ``sigma**2`` times this is the variance of the smoothed value under white noise: small in the
    interior, several times larger at the ends where the local line is extrapolated. Lets callers
    set honest, position-dependent tolerances around a smoothed curve.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 3:
        return np.ones(n)
    idx, w = _tricube_windows(x, window)
    X = x[idx]
    sw = w.sum(axis=1)
    mx = (w * X).sum(axis=1) / sw
    dx = X - mx[:, None]
    sxx = (w * dx * dx).sum(axis=1)
    safe = np.where(sxx > 0, sxx, 1.0)
    lij = w * (
        1.0 / sw[:, None]
        + np.where(sxx > 0, 1.0, 0.0)[:, None] * dx * (x - mx)[:, None] / safe[:, None]
    )
    return (lij * lij).sum(axis=1)


def robust_smooth(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    window: int | None = None,
    frac: float = 0.1,
    iterations: int = 2,
    max_points: int = 1000,
) -> np.ndarray:
    """Robust LOWESS-style smooth of a curve, returned at every input step.

    ``steps`` ascending; non-finite values are ignored and returned as NaN. The window (in points,
    after binning) defaults to ``frac`` of the curve, at least 5 points. Curves longer than
    ``max_points`` are first reduced to bin medians (deterministic) and the smooth is interpolated
    back, keeping a 100k-point curve in the millisecond range.
    """
    s = np.asarray(steps, dtype=float)
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, np.nan)
    fin = np.isfinite(v) & np.isfinite(s)
    xs, ys = s[fin], v[fin]
    if xs.size < 3:
        out[fin] = ys
        return out
    bx, by, _ = bin_medians(xs, ys, max_points=max_points)
    k = window if window is not None else auto_window(bx.size, frac=frac)
    fit = lowess(bx, by, window=k, iterations=iterations)
    out[fin] = fit if bx.size == xs.size else np.interp(xs, bx, fit)
    return out


def mad_sigma(x: np.ndarray) -> float:
    """Gaussian-consistent robust scale: 1.4826 * median(|x - median(x)|); NaN for empty input."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan")
    return float(MAD_TO_SIGMA * median(np.abs(x - median(x))))


NoiseMethod = Literal["diff", "diff2", "residual"]


def noise_scale(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    method: NoiseMethod = "diff2",
    window: int | None = None,
) -> float:
    """Robust estimate of the point-to-point noise standard deviation of a curve.

    * ``"diff2"`` (default): MAD of second differences / sqrt(6). Insensitive to slopes and to
      level shifts, needs no smoother, works on short curves; over-estimates when curvature
      dominates the noise (conservative).
    * ``"diff"``: MAD of first differences / sqrt(2). Biased up by steep trends.
    * ``"residual"``: MAD of the residual from :func:`robust_smooth` (``window`` points).

    Returns 0.0 for perfectly smooth or quantised-flat curves and NaN for fewer than 3 finite
    points; see :func:`effective_noise` for a floored version.
    """
    s = np.asarray(steps, dtype=float)
    v = np.asarray(values, dtype=float)
    fin = np.isfinite(v) & np.isfinite(s)
    s, v = s[fin], v[fin]
    if v.size < 3:
        return float("nan")
    if method == "diff2":
        return mad_sigma(np.diff(v, n=2)) / np.sqrt(6.0)
    if method == "diff":
        return mad_sigma(np.diff(v)) / np.sqrt(2.0)
    if method == "residual":
        r = v - robust_smooth(s, v, window=window)
        return mad_sigma(r)
    raise ValueError(f"unknown noise method {method!r}")


class _Unset:
    """ "Not given" (:func:`effective_noise`'s ``quantum``, which may be None)."""


_UNSET = _Unset()


def effective_noise(
    sigma: float,
    work: np.ndarray,
    *,
    values: np.ndarray | None = None,
    log_space: bool = False,
    quantum: float | None | _Unset = _UNSET,
) -> float:
    """Floor a noise estimate so that quantised or noise-free curves do not divide by zero.

    The floor is half the quantum of rounded values (converted to log units when ``log_space``,
    using the median level) and ``1e-9`` of the curve's scale. ``work`` are the values in the
    working space, ``values`` the original ones (defaults to ``work``). ``quantum``: their
    :func:`analyzer.trends.prep.value_quantum`, when the caller has it already.
    """
    w = np.asarray(work, dtype=float)
    w = w[np.isfinite(w)]
    scale = float(np.max(np.abs(w))) if w.size else 1.0
    if log_space:
        scale = max(scale, 1.0)
    floor = 1e-9 * (scale if scale > 0 else 1.0)
    if isinstance(quantum, _Unset):
        quantum = value_quantum(values if values is not None else w)
    q = quantum
    if q is not None:
        if log_space:
            orig = np.asarray(values, dtype=float)
            level = float(median(np.abs(orig[np.isfinite(orig)])))
            q = q / (level * np.log(10.0)) if level > 0 else 0.0
        floor = max(floor, 0.5 * q)
    s = sigma if np.isfinite(sigma) else 0.0
    return float(max(s, floor))
