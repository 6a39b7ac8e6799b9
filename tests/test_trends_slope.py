import numpy as np
import pytest

from analyzer.trends import robust_slope, trend_test
from tests import signals as sg


@pytest.mark.parametrize("seed", range(5))
def test_theil_sen_interval_covers_true_slope(seed):
    s, v, truth = sg.linear_trend(n=80, slope=-0.004, noise=0.02, seed=seed)
    r = robust_slope(s, v, space="linear")
    assert r.covers(truth["slope"])
    assert r.low < r.slope < r.high
    assert not r.insufficient


def test_theil_sen_ignores_spikes():
    s, v, truth = sg.linear_trend(n=100, slope=0.01, noise=0.01, seed=1)
    v[::10] += 5.0
    r = robust_slope(s, v, space="linear")
    assert r.slope == pytest.approx(truth["slope"], rel=0.05)


def test_relative_change_is_scale_free_and_windowed():
    s, v, _ = sg.linear_trend(n=100, intercept=2.0, slope=-0.005, noise=0.01, seed=2)
    a = robust_slope(s, v, last_fraction=0.5, space="linear")
    b = robust_slope(s, v * 1e6, last_fraction=0.5, space="linear")
    c = robust_slope(s, v * 1e-6, last_fraction=0.5, space="linear")
    assert a.relative_change == pytest.approx(b.relative_change, rel=1e-9)
    assert a.relative_change == pytest.approx(c.relative_change, rel=1e-9)
    assert a.n == 50
    # about -0.005 * 49 steps / level ~1.63 at the window's median
    assert a.relative_change == pytest.approx(-0.005 * 49 / 1.62, rel=0.15)


def test_log_space_slope_is_in_decades():
    s, v, truth = sg.wide_range_decay(n=300, seed=3)
    r = robust_slope(s, v)
    assert r.log_space
    assert r.slope == pytest.approx(truth["slope_log10"], rel=0.02)
    assert -1 < r.relative_change < -0.999  # loses nearly all of its level over the span


def test_slope_short_input_is_flagged():
    r = robust_slope([1, 2, 3], [1.0, 0.9, 0.8])
    assert r.insufficient and r.reason
    assert np.isnan(r.slope)
    r = robust_slope([1, 2, 3, 4, 5], [1.0, np.nan, np.nan, np.nan, 0.5])
    assert r.insufficient


def test_mann_kendall_detects_trend():
    for seed in range(5):
        s, v, _ = sg.linear_trend(n=60, slope=-0.002, noise=0.02, seed=seed)
        t = trend_test(s, v)
        assert t.direction == "decreasing" and t.significant
        assert t.tau < 0 and t.p_decreasing < 0.05 < t.p_increasing


def test_mann_kendall_false_positive_rate_is_nominal():
    rejections = [
        trend_test(*sg.flat(n=50, seed=seed)[:2], alpha=0.05).significant for seed in range(200)
    ]
    rate = np.mean(rejections)
    assert 0.01 <= rate <= 0.10


def test_mann_kendall_short_exact_and_constant():
    t = trend_test([1, 2, 3, 4, 5], [5.0, 4.0, 3.0, 2.0, 1.0])
    assert t.p_value == pytest.approx(2 / 120)  # exact null distribution, no ties
    assert t.direction == "decreasing"
    c = trend_test(np.arange(10), np.full(10, 0.3))
    assert c.insufficient and c.p_value == 1.0 and not c.significant
    assert trend_test([1, 2], [1.0, 2.0]).insufficient


def test_mann_kendall_handles_ties():
    s, v, _ = sg.quantized(n=200, drop=0.05, seed=4)
    t = trend_test(s, v)
    assert t.direction == "decreasing"


def test_long_curves_are_binned_quickly():
    s, v, _ = sg.exp_decay(n=100_000, per="iteration", noise=0.05, seed=0)
    t = trend_test(s, v)
    r = robust_slope(s, v, last_fraction=0.1)
    assert t.direction == "decreasing"
    assert r.n > 9000  # the window's raw count, even though the fit used bin medians


def _bits(result) -> tuple:
    """Every field of a result, floats as their bytes (NaN equal to NaN, -0.0 not 0.0)."""
    from dataclasses import astuple

    return tuple(np.float64(f).tobytes() if isinstance(f, float) else f for f in astuple(result))


def _robust_slope_through_prepare(steps, values, **kw):
    """robust_slope as it was: always through prepare (the reference for its clean-curve way)."""
    from analyzer.trends.prep import prepare, window_mask
    from analyzer.trends.slope import slope_of

    space = kw.pop("space", "auto")
    conf, mp = kw.pop("confidence", 0.95), kw.pop("max_points", 500)
    prep = prepare(steps, values, space=space)
    return slope_of(prep, mask=window_mask(prep.steps, **kw), confidence=conf, max_points=mp)


def _trend_test_through_prepare(steps, values, **kw):
    """trend_test as it was: always through prepare."""
    from analyzer.trends.prep import prepare, window_mask
    from analyzer.trends.slope import trend_from_arrays

    alpha, mp = kw.pop("alpha", 0.05), kw.pop("max_points", 1000)
    prep = prepare(steps, values, space="linear")
    mask = window_mask(prep.steps, **kw)
    return trend_from_arrays(prep.steps[mask], prep.values[mask], alpha=alpha, max_points=mp)


def _slope_cases():
    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 4, 5, 9, 60, 700, 1500):
        s = np.arange(n, dtype=float) * 5.0
        yield s, np.exp(-s / max(1.0, s[-1] if n else 1.0)) + rng.normal(0, 0.01, n)
        yield s, np.round(rng.normal(1.0, 0.1, n), 1)  # ties
        yield s, np.full(n, 0.25)  # constant
        yield s, np.where(rng.random(n) < 0.5, 0.0, -0.0)  # zeros of both signs (log refused)
        yield s, rng.normal(0, 1e300, n)  # huge
        yield np.arange(n), 10.0 ** -np.linspace(0, 5, n)  # integer steps, many decades
        if n >= 3:
            v = rng.normal(size=n)
            v[n // 2] = np.nan  # not clean: through prepare itself
            yield s, v
            yield s[::-1].copy(), rng.normal(size=n)  # steps descending: through prepare
            yield np.r_[s[:-1], s[-2]], rng.normal(size=n)  # a repeated step


@pytest.mark.parametrize("space", ["linear", "log", "auto"])
def test_robust_slope_of_a_clean_curve_is_bit_for_bit_the_prepared_one(space):
    windows = [{}, {"last_fraction": 1 / 3}, {"start": 10.0, "end": 2000.0}, {"end": 4.0}]
    with np.errstate(all="ignore"):
        for s, v in _slope_cases():
            for w in windows:
                got = robust_slope(s, v, space=space, **w)
                want = _robust_slope_through_prepare(s, v, space=space, **w)
                assert _bits(got) == _bits(want), (s.size, space, w)


def test_trend_test_of_a_clean_curve_is_bit_for_bit_the_prepared_one():
    windows = [{}, {"last_fraction": 0.25}, {"start": 10.0}, {"start": 10.0, "end": 300.0}]
    with np.errstate(all="ignore"):
        for s, v in _slope_cases():
            for w in windows:
                assert _bits(trend_test(s, v, **w)) == _bits(
                    _trend_test_through_prepare(s, v, **w)
                ), (s.size, w)


def test_robust_slope_keeps_the_errors_of_prepare():
    with pytest.raises(ValueError, match="space must be"):
        robust_slope(np.arange(5.0), np.ones(5), space="sideways")
    with pytest.raises(ValueError, match="differ in length"):
        robust_slope(np.arange(5.0), np.ones(4), space="linear")
    with pytest.raises(ValueError, match="differ in length"):
        trend_test(np.arange(5.0), np.ones(4))
