"""analyzer.trends._rank reproduces scipy.stats.kendalltau and theilslopes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analyzer.trends._rank import (
    _inversions,
    _inversions_merge,
    kendalltau,
    mannwhitney_greater,
    theilslopes,
)


def _samples():
    rng = np.random.default_rng(0)
    for trial in range(300):
        n = int(rng.integers(2, 40)) if trial % 3 == 0 else int(rng.integers(2, 700))
        x = np.arange(n, dtype=float) if trial % 4 == 0 else np.sort(rng.normal(size=n))
        kind = trial % 5
        if kind == 0:
            y = rng.normal(size=n)
        elif kind == 1:
            y = np.round(rng.normal(size=n), 1)  # ties
        elif kind == 2:
            y = np.cumsum(rng.normal(size=n))
        elif kind == 3:
            y, x = -x + 0.01 * rng.normal(size=n), np.round(x, 1)  # near-perfect, x ties
        else:
            y = np.where(rng.random(n) < 0.5, 1.0, 2.0)
        yield x, y


def test_inversion_counts_agree():
    rng = np.random.default_rng(1)
    for n in (1, 2, 3, 17, 100, 1001):
        r = rng.integers(1, max(2, n // 3), size=n)
        brute = sum(int((r[:j] > r[j]).sum()) for j in range(n))
        assert _inversions(r) == _inversions_merge(r) == brute


def test_kendalltau_matches_scipy():
    for x, y in _samples():
        ref = stats.kendalltau(x, y)
        tau, p = kendalltau(x, y)
        if np.isnan(ref.statistic):
            assert np.isnan(tau) and np.isnan(p)
            continue
        assert tau == ref.statistic
        assert p == pytest.approx(ref.pvalue, rel=1e-12, abs=0)


def test_theilslopes_matches_scipy():
    for x, y in _samples():
        if np.ptp(x) == 0:
            continue
        ref = tuple(float(v) for v in stats.theilslopes(y, x, alpha=0.95))
        assert theilslopes(y, x, alpha=0.95) == ref


def test_mannwhitney_greater_matches_scipy():
    rng = np.random.default_rng(2)
    for trial in range(1500):
        n1 = int(rng.integers(1, 12)) if trial % 2 else int(rng.integers(3, 150))
        n2 = int(rng.integers(1, 12)) if trial % 3 else int(rng.integers(3, 150))
        x = rng.normal(size=n1) + rng.normal() * (trial % 5) / 3
        y = rng.normal(size=n2)
        kind = trial % 4
        if kind == 1:  # ties: the normal approximation with the tie correction
            x, y = np.round(x, 1), np.round(y, 1)
        elif kind == 2:
            x = x + 10  # far apart: p at the ends of the scale
        elif kind == 3:
            x = -x - 10
        ref = float(stats.mannwhitneyu(x, y, alternative="greater").pvalue)
        p = mannwhitney_greater(x, y)
        exact = (n1 <= 8 or n2 <= 8) and np.unique(np.r_[x, y]).size == n1 + n2
        if exact:  # the same integer counts divided by the same binomial coefficient
            assert p == ref, (n1, n2)
        else:  # scipy's own erfc against the C library's: the last bits may differ
            assert p == pytest.approx(ref, rel=1e-12, abs=1e-300), (n1, n2)


def test_mannwhitney_all_tied_is_one_like_scipy():
    x, y = np.ones(5), np.ones(12)  # no spread at all: the continuity correction decides
    assert stats.mannwhitneyu(x, y, alternative="greater").pvalue == 1.0
    assert mannwhitney_greater(x, y) == 1.0


def test_pairs_below_are_tril_indices_whatever_lengths_came_before():
    from analyzer.trends import _rank

    # lengths in an order that grows the shared table, reads prefixes of it, and passes it
    for n in (0, 1, 2, 3, 40, 7, 300, 5, 513, 512, 1000, 2, 256, 257, 90):
        i, j = _rank._pairs_below(n)
        want_i, want_j = np.tril_indices(n, -1)
        assert np.array_equal(i, want_i) and np.array_equal(j, want_j), n
        assert not i.flags.writeable and not j.flags.writeable


def _theilslopes_with_fresh_pairs(y, x, alpha=0.95):
    """theilslopes as it was with np.tril_indices made for each call (the slopes in that
    order): the shared pair table must give the same numbers, bit for bit."""
    from analyzer.trends import _rank

    saved = _rank._pairs_below
    _rank._pairs_below = lambda n: np.tril_indices(n, -1)
    try:
        return _rank.theilslopes(y, x, alpha=alpha)
    finally:
        _rank._pairs_below = saved


def test_theilslopes_with_the_shared_pairs_is_bit_for_bit_the_same():
    import struct

    rng = np.random.default_rng(7)
    cases = []
    for n in (2, 3, 4, 5, 17, 120, 500, 600):
        x = np.arange(n, dtype=float) * 3.0
        cases += [
            (rng.normal(size=n), x),
            (np.round(rng.normal(size=n), 1), x),  # ties
            (np.full(n, 2.5), x),  # constant
            (np.where(rng.random(n) < 0.5, 0.0, -0.0), x),  # zero slopes of both signs
            (rng.normal(size=n) * 1e300, x * 1e-300),  # huge slopes (inf among them)
        ]
        y = rng.normal(size=n)
        y[n // 2] = np.nan  # NaN slopes: the sorted way
        cases.append((y, x))
    for y, x in cases:
        with np.errstate(over="ignore", invalid="ignore"):  # the huge slopes: inf, inf - inf
            got = theilslopes(y, x)
            want = _theilslopes_with_fresh_pairs(y, x)
        assert struct.pack("4d", *got) == struct.pack("4d", *want), (y.size, y[:3])


def test_theilslopes_order_statistics_are_those_of_all_slopes_sorted():
    """The partial sort picks the median and both bounds at every length, including the short
    ones whose bound indices are clamped to the ends (0 and nt - 1): the very numbers of all
    slopes sorted (theilslopes_sorted, scipy's way), bit for bit."""
    import struct

    from analyzer.trends import _rank

    rng = np.random.default_rng(11)
    for n in [*range(2, 12), 37, 64, 65, 300, 501]:
        x = np.arange(n, dtype=float) * 2.0
        for y in (rng.normal(size=n), np.round(rng.normal(size=n), 1)):
            i, j = np.tril_indices(n, -1)
            slopes = (y[i] - y[j]) / (x[i] - x[j])
            nt = slopes.size
            z = _rank._norm_ppf(0.05 / 2.0)
            reps = _rank._repeat_counts(y)
            sigma = np.sqrt(
                1
                / 18.0
                * (n * (n - 1) * (2 * n + 5) - sum(k * (k - 1) * (2 * k + 5) for k in reps))
            )
            ru = min(int(np.round((nt - z * sigma) / 2.0)), nt - 1)
            rl = max(int(np.round((nt + z * sigma) / 2.0)) - 1, 0)
            want = _rank.theilslopes_sorted(slopes, x, y, rl, ru)
            got = theilslopes(y, x)
            assert struct.pack("4d", *got) == struct.pack("4d", *want), n


def test_bracketed_order_statistics_are_the_full_partitions():
    """_order_stats (a sample brackets the wanted ranks, only the slopes between the bounds
    are partitioned) picks the values np.partition of all slopes puts at those ranks, on
    spread, tied, heavy-tailed and infinite slopes; it is taken on ordinary slopes (not
    always declined) and declines a zero pick."""
    from analyzer.trends import _rank

    rng = np.random.default_rng(5)
    taken = 0
    for trial in range(60):
        nt = int(rng.integers(20_000, 200_000))
        kind = trial % 4
        if kind == 0:
            s = rng.normal(size=nt)
        elif kind == 1:
            s = np.round(rng.normal(size=nt), 2)  # many ties
        elif kind == 2:
            s = rng.standard_cauchy(size=nt)  # heavy tails
        else:
            s = rng.normal(size=nt)
            s[rng.integers(0, nt, size=nt // 50)] = np.inf
            s[rng.integers(0, nt, size=nt // 50)] = -np.inf
        h = nt // 2
        spread = int(rng.integers(0, nt // 3))
        kth = sorted({max(0, h - spread), h - 1, h, min(nt - 1, h + spread)})
        got = _rank._order_stats(s.copy(), kth)
        want = np.partition(s, kth)
        if got is not None:
            taken += 1
            assert all(got[k] == want[k] for k in kth), trial
    assert taken >= 50
    zeros = np.zeros(30_000)
    assert _rank._order_stats(zeros, [14_999, 15_000]) is None


def test_theilslopes_bracketed_is_bit_for_bit_the_full_partition():
    import struct

    from analyzer.trends import _rank

    rng = np.random.default_rng(9)
    saved = _rank._BRACKET_MIN
    for n in (201, 202, 300, 501, 700):
        x = np.arange(n, dtype=float) * 5.0
        for y in (
            rng.normal(size=n),
            np.cumsum(rng.normal(size=n)),
            np.round(rng.normal(size=n), 1),  # tied slopes, zeros among them
            np.exp(-np.arange(n) / 50.0) + 0.01 * rng.normal(size=n),
        ):
            got = theilslopes(y, x)
            _rank._BRACKET_MIN = 10**12
            try:
                want = theilslopes(y, x)
            finally:
                _rank._BRACKET_MIN = saved
            assert struct.pack("4d", *got) == struct.pack("4d", *want), n


def _kendalltau_by_pairs(x, y):
    """Kendall's tau-b and its p-value from every pair counted one by one (ties in x, in y and
    in both, discordant pairs) and the groups of equal values, with the formulas of
    analyzer.trends._rank.kendalltau: the reference its shortcuts must match bit for bit."""
    from collections import Counter

    from analyzer.trends import _rank

    n = len(x)
    tot = n * (n - 1) // 2
    xtie = ytie = ntie = dis = 0
    for i in range(n):
        for j in range(i + 1, n):
            sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
            xtie += sx == 0
            ytie += sy == 0
            ntie += sx == 0 and sy == 0
            dis += sx * sy < 0
    if xtie == tot or ytie == tot:
        return float("nan"), float("nan")
    con_minus_dis = tot - xtie - ytie + ntie - 2 * dis
    tau = float(
        np.minimum(1.0, max(-1.0, con_minus_dis / np.sqrt(tot - xtie) / np.sqrt(tot - ytie)))
    )
    if xtie == 0 and ytie == 0 and (n <= 33 or min(dis, tot - dis) <= 1):
        return tau, _rank._kendall_p_exact(n, tot - dis)
    gx = np.array([c for c in Counter(x.tolist()).values() if c > 1], dtype=np.int64)
    gy = np.array([c for c in Counter(y.tolist()).values() if c > 1], dtype=np.int64)
    x0, x1 = int((gx * (gx - 1.0) * (gx - 2)).sum()), int((gx * (gx - 1.0) * (2 * gx + 5)).sum())
    y0, y1 = int((gy * (gy - 1.0) * (gy - 2)).sum()), int((gy * (gy - 1.0) * (2 * gy + 5)).sum())
    m = n * (n - 1.0)
    var = (m * (2 * n + 5) - x1 - y1) / 18 + (2 * xtie * ytie) / m + x0 * y0 / (9 * m * (n - 2))
    return tau, float(2 * _rank._norm_sf(abs(float(con_minus_dis / np.sqrt(var)))))


def test_kendalltau_with_and_without_ties_is_the_pairwise_count_bit_for_bit():
    """kendalltau skips the tie counts of a sample with no repeated value (the steps of a
    curve): with ties in x only, in y only, in both or in neither, tau and p are those of every
    pair counted one by one."""
    rng = np.random.default_rng(3)
    for trial in range(240):
        n = int(rng.integers(3, 70))
        x = np.arange(n, dtype=float) if trial % 2 else np.round(rng.normal(size=n), 1)
        y = rng.normal(size=n) if trial % 3 else np.round(rng.normal(size=n), 1)
        if trial % 5 == 0:
            x, y = y, x
        got = kendalltau(x, y)
        want = _kendalltau_by_pairs(x, y)
        if np.isnan(want[0]):
            assert np.isnan(got[0]) and np.isnan(got[1])
            continue
        assert got == want, (trial, n)
