"""Kendall's tau-b with its p-value and the Theil-Sen slope, in numpy.

They reproduce ``scipy.stats.kendalltau`` (``method="auto"``, two-sided) and
``scipy.stats.theilslopes`` (``method="separate"``) -- the same counts, the same formulas, in
the same order -- without importing ``scipy.stats`` (about 0.8 s) and without the per-call
overhead of its argument handling (about 1 ms a call, more than the statistic itself on the
binned curves the trends pass in). ``tests/test_trends_rank.py`` compares them with scipy.
"""

from __future__ import annotations

import math
from functools import cache, lru_cache

import numpy as np

from ._order import median

_TRUE = np.ones(1, dtype=bool)


def _first_true(changed: np.ndarray) -> np.ndarray:
    """``np.r_[True, changed]`` (a boolean array), without np.r_'s parsing."""
    return np.concatenate((_TRUE, changed))


def _inversions(r: np.ndarray) -> int:
    """Pairs ``i < j`` with ``r[i] > r[j]`` of an array of dense ranks (1..K)."""
    n = r.size
    if n > 20_000:
        return _inversions_merge(r)
    if n <= 64:  # every pair at once: a few array calls instead of the blocks' dozen
        return int(np.count_nonzero((r[:, None] > r[None, :]) & _above_diagonal(n)))
    k = int(r.max()) if n else 0
    b = max(1, int(np.sqrt(n)))
    nb = -(-n // b)
    m = np.full(nb * b, k + 1, dtype=np.int64)  # padding at the end is never greater
    m[:n] = r
    blocks = m.reshape(nb, b)
    upper = np.triu(np.ones((b, b), dtype=bool), 1)
    within = int((blocks[:, :, None] > blocks[:, None, :])[:, upper].sum())
    # across blocks: per block, how many of its ranks exceed each value; summed over the
    # blocks before each element's own
    hist = np.bincount(
        (np.arange(nb)[:, None] * (k + 2) + blocks).ravel(), minlength=nb * (k + 2)
    ).reshape(nb, k + 2)
    greater = hist[:, ::-1].cumsum(axis=1)[:, ::-1]  # greater[:, v] = count of ranks >= v
    before = np.cumsum(greater, axis=0) - greater  # over the earlier blocks only
    rows = np.repeat(np.arange(nb), b)[:n]
    across = int(before[rows, np.minimum(r + 1, k + 1)].sum())
    return within + across


@cache
def _above_diagonal(n: int) -> np.ndarray:
    """The cells ``i < j`` of an ``n x n`` matrix (read-only; ``np.triu``'s, made once per
    size: np.triu builds its mask on every call)."""
    m = np.triu(np.ones((n, n), dtype=bool), 1)
    m.flags.writeable = False
    return m


def _inversions_merge(r: np.ndarray) -> int:
    """Pairs ``i < j`` with ``r[i] > r[j]`` of a non-negative integer array, by a bottom-up merge
    sort: each level counts, for every element of a right half-block, the elements of its left
    half-block that are greater (one ``searchsorted`` over all blocks), then merges the blocks
    (one ``sort``). O(n log^2 n), vectorised."""
    a = np.asarray(r, dtype=np.int64)
    n = a.size
    big = int(a.max()) + 2 if n else 1
    pos = np.arange(n, dtype=np.int64)
    total = 0
    w = 1
    while w < n:
        block = pos // (2 * w)
        right = (pos % (2 * w)) >= w
        key = block * big + a  # sorted within each half-block, half-blocks in order
        left_keys = key[~right]
        rk = key[right]
        rb = block[right]
        after = np.searchsorted(left_keys, rk, side="right")
        end = np.searchsorted(left_keys, (rb + 1) * big, side="left")
        total += int((end - after).sum())
        a = np.sort(key, kind="stable") - block * big
        w *= 2
    return total


def _tie_stats(ranks: np.ndarray) -> tuple[int, int, int]:
    cnt = np.bincount(ranks).astype("int64", copy=False)
    cnt = cnt[cnt > 1]
    return (
        int((cnt * (cnt - 1) // 2).sum()),
        int((cnt * (cnt - 1.0) * (cnt - 2)).sum()),
        int((cnt * (cnt - 1.0) * (2 * cnt + 5)).sum()),
    )


@lru_cache(maxsize=4096)
def _kendall_p_exact(n: int, c: int) -> float:
    """Two-sided exact p-value of ``c`` concordant pairs among ``n`` tie-free points (Kendall,
    Rank Correlation Methods, 1970; as scipy's ``_kendall_p_exact``). Remembered: a sweep asks
    for the same few (n, c) again and again, and one costs up to ~0.3 ms."""
    c = int(min(c, (n * (n - 1)) // 2 - c))
    if n <= 0:
        raise ValueError(f"n ({n}) must be positive")
    if c < 0 or 4 * c > n * (n - 1):
        raise ValueError(f"c ({c}) must satisfy 0 <= 4c <= n(n-1) = {n * (n - 1)}.")
    if n == 1 or n == 2:
        prob = 1.0
    elif c == 0:
        prob = 2.0 / math.factorial(n) if n < 171 else 0.0
    elif c == 1:
        prob = 2.0 / math.factorial(n - 1) if n < 172 else 0.0
    elif 4 * c == n * (n - 1):
        prob = 1.0
    elif n < 171:
        new = np.zeros(c + 1)
        new[0:2] = 1.0
        for j in range(3, n + 1):
            new = np.cumsum(new)
            if j <= c:
                new[j:] -= new[: c + 1 - j]
        prob = 2.0 * np.sum(new) / math.factorial(n)
    else:
        new = np.zeros(c + 1)
        new[0:2] = 1.0
        for j in range(3, n + 1):
            new = np.cumsum(new) / j
            if j <= c:
                new[j:] -= new[: c + 1 - j]
        prob = np.sum(new)
    return float(np.clip(prob, 0, 1))


def _norm_sf(z: float) -> float:
    """Upper tail of the standard normal (``scipy.special.ndtr(-z)``, which is 0 where
    ``exp(-z**2/2)`` underflows, rather than a subnormal number)."""
    x = z / math.sqrt(2.0)
    if x * x > 709.782712893384:  # cephes MAXLOG
        return 0.0
    return 0.5 * math.erfc(x)


def kendalltau(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Kendall's tau-b of ``x`` and ``y`` and its two-sided p-value: exact for tie-free samples
    of at most 33 points (or with at most one discordant or concordant pair), else the normal
    approximation with the tie-corrected variance. NaN, NaN when either is constant or empty."""
    x = np.asarray(x).ravel()
    y = np.asarray(y).ravel()
    if x.size != y.size:
        raise ValueError("Array shapes are incompatible for broadcasting.")
    size = int(x.size)
    nan = float("nan")
    if not size:
        return nan, nan
    perm = np.argsort(y)  # sort on y and convert y to dense ranks
    x, y = x[perm], y[perm]
    yr = _first_true(y[1:] != y[:-1]).cumsum(dtype=np.intp)
    y_distinct = int(yr[-1]) == size  # the top rank: how many distinct values
    perm = np.argsort(x, kind="mergesort")  # stable sort on x, x to dense ranks
    x, yr = x[perm], yr[perm]
    xr = _first_true(x[1:] != x[:-1]).cumsum(dtype=np.intp)
    x_distinct = int(xr[-1]) == size
    # discordant pairs: x strictly increasing and y strictly decreasing; within a run of equal
    # x the y ranks are ascending (stable sort after sorting on y), so those add none
    dis = _inversions(yr)
    # the tie counts below are sums over groups of equal values: all zero when there are none
    # (steps, the usual x, never repeat), so those are not counted then
    if x_distinct or y_distinct:
        ntie = 0
    else:
        obs = np.concatenate((_TRUE, (xr[1:] != xr[:-1]) | (yr[1:] != yr[:-1]), _TRUE))
        cnt = np.diff(np.nonzero(obs)[0]).astype("int64", copy=False)
        ntie = int((cnt * (cnt - 1) // 2).sum())  # joint ties
    xtie, x0, x1 = (0, 0, 0) if x_distinct else _tie_stats(xr)
    ytie, y0, y1 = (0, 0, 0) if y_distinct else _tie_stats(yr)
    tot = (size * (size - 1)) // 2
    if xtie == tot or ytie == tot:
        return nan, nan
    con_minus_dis = tot - xtie - ytie + ntie - 2 * dis
    tau = con_minus_dis / np.sqrt(tot - xtie) / np.sqrt(tot - ytie)
    tau = float(np.minimum(1.0, max(-1.0, tau)))
    if xtie == 0 and ytie == 0 and (size <= 33 or min(dis, tot - dis) <= 1):
        p = _kendall_p_exact(size, tot - dis)
    else:
        m = size * (size - 1.0)
        var = (
            (m * (2 * size + 5) - x1 - y1) / 18
            + (2 * xtie * ytie) / m
            + x0 * y0 / (9 * m * (size - 2))
        )
        z = con_minus_dis / np.sqrt(var)
        p = 2 * _norm_sf(abs(float(z)))
    return tau, float(p)


@cache
def _norm_ppf(q: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(q)


def _repeat_counts(arr: np.ndarray) -> np.ndarray:
    arr = np.sort(np.asarray(arr, np.float64).ravel())
    if arr.size == 0:
        return np.array([], np.intp)
    change = np.concatenate(([True], arr[1:] != arr[:-1]))
    freq = np.diff(np.concatenate(np.nonzero(change) + ([arr.size],)))
    return freq[freq > 1]


#: curves of at most this many points take their pairs from one shared table
_PAIRS_SHARED = 512
_pairs_table: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.intp), np.zeros(0, np.intp))


def _pairs_below(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the ``n (n - 1) / 2`` cells below the diagonal of an ``n x n``
    matrix (read-only), in ``np.tril_indices(n, -1)``'s order: row by row, each row's columns
    ascending. Row ``i`` holds only columns ``j < i``, so the pairs of a shorter curve are the
    first ones of a longer one's: one table, grown to the longest curve seen (up to
    :data:`_PAIRS_SHARED` points, 2 MB), serves every length by a slice. (It replaces a cache
    of the last four lengths, which a sweep's curves of many lengths kept rebuilding.)"""
    global _pairs_table
    m = n * (n - 1) // 2
    if n > _PAIRS_SHARED:
        i, j = np.tril_indices(n, -1)
        i.flags.writeable = False
        j.flags.writeable = False
        return i, j
    i, j = _pairs_table  # one read: another thread may replace the table meanwhile
    if i.size < m:
        i, j = np.tril_indices(max(n, _PAIRS_SHARED // 4), -1)
        i.flags.writeable = False
        j.flags.writeable = False
        _pairs_table = (i, j)
    return i[:m], j[:m]


def theilslopes(
    y: np.ndarray, x: np.ndarray, alpha: float = 0.95
) -> tuple[float, float, float, float]:
    """Theil-Sen slope of ``y`` against ``x``: (slope, intercept, low, high), the bounds at
    confidence ``alpha`` from Sen (1968), eq. 2.6; the intercept is
    ``median(y) - slope * median(x)``."""
    y = np.array(y, dtype=float, copy=True).ravel()
    x = np.array(x, dtype=float, copy=True).ravel()
    if len(x) != len(y):
        raise ValueError("Array shapes are incompatible for broadcasting.")
    if len(x) < 2:
        raise ValueError("`x` and `y` must have length at least 2.")
    if (x[1:] > x[:-1]).all():
        # ascending x (a prepared curve): the pairs with deltax > 0 are those below the
        # diagonal, the same slopes (in another order) from half the differences
        i, j = _pairs_below(x.size)
        slopes = (y[i] - y[j]) / (x[i] - x[j])
    else:
        deltax = x[:, np.newaxis] - x
        deltay = y[:, np.newaxis] - y
        pos = deltax > 0
        slopes = deltay[pos] / deltax[pos]
    nt = len(slopes)
    if alpha > 0.5:
        alpha = 1.0 - alpha
    z = _norm_ppf(alpha / 2.0)
    nxreps = _repeat_counts(x)
    nyreps = _repeat_counts(y)
    ny = len(y)
    sigsq = (
        1
        / 18.0
        * (
            ny * (ny - 1) * (2 * ny + 5)
            - sum(k * (k - 1) * (2 * k + 5) for k in nxreps)
            - sum(k * (k - 1) * (2 * k + 5) for k in nyreps)
        )
    )
    sigma = np.sqrt(sigsq)
    ru = min(int(np.round((nt - z * sigma) / 2.0)), nt - 1)
    rl = max(int(np.round((nt + z * sigma) / 2.0)) - 1, 0)
    # order statistics by one partial sort instead of sorting all n^2/2 slopes: the same values
    if nt == 0 or np.isnan(slopes).any():
        return theilslopes_sorted(slopes, x, y, rl, ru)
    h = nt // 2
    mid = [h - 1, h] if nt % 2 == 0 else [h]
    # (the indices within 0..nt-1, tested directly: a set of range(nt) cost up to 4 ms)
    kth = sorted(k for k in {*mid, rl, ru} if 0 <= k < nt)
    picked = _order_stats(slopes, kth) if nt >= _BRACKET_MIN else None
    if picked is None:
        part = np.partition(slopes, kth)
        picked = {k: part[k] for k in kth}
    medslope = np.mean(np.array([picked[k] for k in mid]))
    medinter = median(y) - medslope * median(x)
    return float(medslope), float(medinter), float(picked[rl]), float(picked[ru])


#: slope counts from which :func:`_order_stats` brackets the order statistics first
_BRACKET_MIN = 20_000
#: slopes sampled (evenly) to bracket them
_BRACKET_SAMPLE = 4096


def _order_stats(slopes: np.ndarray, kth: list[int]) -> dict[int, np.float64] | None:
    """The ``k``-th smallest of ``slopes`` (finite or inf, no NaN) for each ``k`` of ``kth``
    (ascending), as ``np.partition(slopes, kth)[k]``, without partitioning them all: an even
    sample of the slopes gives bounds ``lo <= hi`` around the wanted ranks, one pass counts the
    slopes below ``lo`` and keeps those within, and only those are partitioned. The bounds are
    checked (the count below ``lo`` at most the lowest rank wanted, the count up to ``hi``
    beyond the highest): the ranks then fall among the kept slopes, which are the very values
    the full partition would place there. None (partition them all) when the check fails or a
    pick is a zero (among equal zeros the two could return a different sign)."""
    nt = slopes.size
    stride = max(1, nt // _BRACKET_SAMPLE)
    sample = np.sort(slopes[::stride])
    m = sample.size
    margin = 4 * int(np.sqrt(m)) + 8  # ~8 standard deviations of a sampled rank
    lo = sample[max(0, kth[0] * m // nt - margin)]
    hi = sample[min(m - 1, -(-kth[-1] * m // nt) + margin)]
    below = int(np.count_nonzero(slopes < lo))
    keep = slopes >= lo
    keep &= slopes <= hi
    within = slopes[keep]
    if below > kth[0] or below + within.size <= kth[-1]:
        return None
    local = [k - below for k in kth]
    within.partition(local)
    out = {k: within[k - below] for k in kth}
    if any(v == 0 for v in out.values()):
        return None
    return out


def theilslopes_sorted(slopes, x, y, rl, ru) -> tuple[float, float, float, float]:
    """:func:`theilslopes` the way scipy computes it (all slopes sorted), for the edge cases."""
    slopes.sort()
    medslope = median(slopes)
    medinter = median(y) - medslope * median(x)
    try:
        low, high = float(slopes[rl]), float(slopes[ru])
    except (ValueError, IndexError):
        low = high = float("nan")
    return float(medslope), float(medinter), low, high


def _binom_small(n: int, k: int) -> float:
    """``n choose k`` for a small whole ``k`` (< 20) in floating point, multiplied out in the
    order ``scipy.special.binom`` uses, so the exact Mann-Whitney probabilities below divide by
    the very same number."""
    num = den = 1.0
    for i in range(1, k + 1):
        num *= i + n - k
        den *= i
        if abs(num) > 1e50:
            num /= den
            den = 1.0
    return num / den


@cache
def _mwu_counts(n1: int, n2: int) -> np.ndarray:
    """Number of arrangements of two tie-free samples of sizes ``n1 <= n2`` giving each value
    0..n1*n2//2 of the Mann-Whitney U statistic (Loeffler's recurrence over the sums of
    divisors, as ``scipy.stats.mannwhitneyu``'s exact method computes it: integers while they
    fit an unsigned 64-bit word, floating point after)."""
    top = n1 * n2 // 2
    sig = np.zeros(top + 1, dtype=int)
    for d in range(1, n1 + 1):
        sig[d::d] += d
    for d in range(n2 + 1, n2 + n1 + 1):
        sig[d::d] -= d
    sig = sig[1:]
    counts = np.zeros(top + 1, dtype=np.uint64)
    counts[0] = 1
    as_int = True
    big = np.iinfo(np.uint64).max
    for u in range(1, top + 1):
        val = np.dot(counts[:u], sig[u - 1 :: -1]) / u
        if as_int and val > big:
            counts = counts.astype(float)
            as_int = False
        counts[u] = val
    counts.flags.writeable = False
    return counts


def _mwu_exact_sf(u: int, n1: int, n2: int) -> float:
    """P(U >= u) for tie-free samples under the null hypothesis (symmetric distribution)."""
    a, b = min(n1, n2), max(n1, n2)
    total = _binom_small(a + b, a)
    k = min(u, a * b - u)
    pmf = _mwu_counts(a, b)[: k + 1] / total
    below = float(np.cumsum(pmf)[k])
    return 1.0 - below + float(pmf[k]) if u < a * b - u else below


def mannwhitney_greater(x: np.ndarray, y: np.ndarray) -> float:
    """One-sided p-value of the Mann-Whitney U test that ``x`` tends to be larger than ``y`` (as
    ``scipy.stats.mannwhitneyu(x, y, alternative="greater")`` with its defaults: exact when a
    sample has at most 8 points and there are no ties, else the normal approximation with the
    tie correction and a continuity correction). Finite, non-empty samples."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    n1, n2 = int(x.size), int(y.size)
    xy = np.concatenate([x, y])
    order = np.argsort(xy, kind="mergesort")
    srt = xy[order]
    starts = np.flatnonzero(_first_true(srt[1:] != srt[:-1]))
    counts = np.diff(np.append(starts, srt.size))
    mid_rank = starts + (counts + 1) / 2.0  # average of the 1-based ranks of each tie group
    ranks = np.empty(xy.size)
    ranks[order] = np.repeat(mid_rank, counts)
    u1 = float(np.sum(ranks[:n1])) - n1 * (n1 + 1) / 2
    ties = bool((counts > 1).any())
    if (n1 > 8 and n2 > 8) or ties:
        n = n1 + n2
        t = counts.astype(float)
        tie_term = float(np.sum(t**3 - t))
        s = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
        num = u1 - n1 * n2 / 2 - 0.5
        z = num / s if s > 0 else math.copysign(math.inf, num) if num else math.nan
        p = _norm_sf(z) if z > 0 else 0.5 * math.erfc(z / math.sqrt(2.0))
    else:
        p = _mwu_exact_sf(int(u1), n1, n2)
    return float(min(max(p, 0.0), 1.0))
