"""Analysis cost grows linearly with the points of a curve: a run four times as long takes
about four times as long (timings as ratios within one process, never absolute seconds)."""

import time

import numpy as np

from analyzer.curves import Curve, CurveSet
from analyzer.engine import analyze_curves
from analyzer.trends.asymptote import fit_asymptote
from analyzer.trends.oscillation import oscillation
from analyzer.trends.smoothing import rolling_median


def _run(n: int) -> CurveSet:
    s = np.arange(n)
    v = (0.3 + np.exp(-s / (n / 5))) * np.exp(np.random.default_rng(0).normal(0, 0.3, n))
    # validation at every step: a 40,000-evaluation validation loss is what a run evaluated
    # every 100 steps for 4M steps logs
    return CurveSet(
        run="x",
        train=Curve.of(s, 0.8 * v),
        val=Curve.of(s, v, tag="val_loss", role="val_loss"),
    )


def _best_of(f, k=3) -> float:
    out = []
    for _ in range(k):
        t0 = time.perf_counter()
        f()
        out.append(time.perf_counter() - t0)
    return min(out)


def test_rolling_median_with_a_quarter_wide_window_is_linear():
    # its shrinking edge windows were computed one np.median at a time: quadratic
    x1 = np.random.default_rng(1).normal(size=20_000)
    x4 = np.random.default_rng(1).normal(size=80_000)
    t1 = _best_of(lambda: rolling_median(x1, window=5_000))
    t4 = _best_of(lambda: rolling_median(x4, window=20_000))
    assert t4 / t1 < 8, (t1, t4)


def _analyze_afresh(run: CurveSet) -> None:
    # the trend memos (for a live Monitor) would answer a repeated analysis of the same curves
    # from memory: the small run's second look cost a seventh of its first, and the ratio then
    # compared memory hits, not the analysis
    oscillation.cache_clear()  # type: ignore[attr-defined]
    fit_asymptote.cache_clear()  # type: ignore[attr-defined]
    analyze_curves(run)


def test_analysis_of_a_run_four_times_as_long_costs_about_four_times_as_much():
    small, large = _run(10_000), _run(40_000)
    analyze_curves(small)  # warm imports
    t1 = _best_of(lambda: _analyze_afresh(small), k=2)
    t4 = _best_of(lambda: _analyze_afresh(large), k=2)
    assert t4 / t1 < 8, (t1, t4)


def test_analysis_of_400k_points_costs_at_most_six_times_100k():
    # curves beyond LONG_CURVE points are condensed (rules._common.condensed), so a run logged at
    # every one of millions of steps stays linear; timings as ratios within one process
    analyze_curves(_run(1_000))  # warm caches and imports
    # a fresh run each time: the statistics kept with a curve would make a repeat free
    t1 = _best_of(lambda: analyze_curves(_run(100_000)), k=2)
    t4 = _best_of(lambda: analyze_curves(_run(400_000)), k=2)
    assert t4 / t1 < 6, (t1, t4)


def test_condensing_keeps_short_curves_and_non_finite_points():
    from analyzer.trends.prep import LONG_CURVE, condense
    from rules._common import condensed

    short = _run(50_000)
    assert condensed(short) == short and condensed(short).train is short.train
    n = LONG_CURVE + 1_001
    v = np.linspace(2.0, 1.0, n)
    v[123_457] = np.nan
    v[-3] = np.inf
    idx, out = condense(v)
    assert idx.size < 60_000 and np.all(np.diff(idx) > 0)
    for bad in (123_457, n - 3):
        assert bad in idx and not np.isfinite(out[np.searchsorted(idx, bad)])
    cs = condensed(CurveSet(run="x", train=Curve.of(np.arange(n), v)))
    assert len(cs.train) == idx.size and cs.train.steps.dtype == np.int64
