"""analyzer.trends._rank reproduces scipy.stats.kendalltau and theilslopes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analyzer.trends._rank import _inversions, _inversions_merge, kendalltau, theilslopes


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
