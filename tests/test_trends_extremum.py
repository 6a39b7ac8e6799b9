"""level_shift (the late level against the level around the minimum) and blowup_onset."""

import numpy as np
import pytest

from analyzer.trends import blowup_onset, collapsed, diverged_at, level_shift


def _noisy_rise(seed: int, rise: float, n: int = 60, noise: float = 0.08):
    rng = np.random.default_rng(seed)
    s = np.arange(n, dtype=float)
    base = np.where(s < n / 4, 1.0 - 0.6 * s / (n / 4), 0.4 * (1 + rise * (s - n / 4) / (0.75 * n)))
    return s, base * np.exp(rng.normal(0, noise, n))


@pytest.mark.parametrize("seed", range(5))
def test_noisy_rise_after_the_minimum_is_a_significant_shift(seed):
    s, v = _noisy_rise(seed, rise=0.5)
    best = int(np.argmin(v[: len(v) // 2]))
    ls = level_shift(s, v, best)
    assert ls is not None
    assert ls.p_value < 0.01
    assert 0.2 < ls.relative < 0.8
    assert ls.above_share > 0.8


def test_flat_after_the_minimum_is_no_shift_and_scale_free():
    s, v = _noisy_rise(0, rise=0.0)
    best = int(np.argmin(v[: len(v) // 2]))
    a = level_shift(s, v, best)
    b = level_shift(s, v * 1e-6, best)
    assert a is not None and a.relative < 0.15
    assert b is not None
    assert b.relative == pytest.approx(a.relative) and b.p_value == pytest.approx(a.p_value)


def test_level_shift_needs_late_points_apart_from_the_minimum():
    s = np.arange(10, dtype=float)
    v = np.linspace(1.0, 0.1, 10)
    assert level_shift(s, v, 9) is None  # the minimum is at the end: nothing comes after it
    assert level_shift(s[:5], v[:5], 2) is None  # too short
    assert level_shift(s, v, 42) is None  # index out of range


def test_blowup_onset_abrupt_and_held():
    v = np.r_[np.linspace(1.0, 0.2, 20), np.full(10, 1e6)]
    assert blowup_onset(v) == 20
    v[-3:] = np.nan  # non-finite points are skipped: indexes count finite points
    assert blowup_onset(v) == 20


def test_blowup_onset_ignores_a_spike_that_recovers_and_gradual_drift():
    spike = np.r_[np.linspace(1.0, 0.2, 20), [500.0], np.full(9, 0.2)]
    assert blowup_onset(spike) is None
    drift = np.linspace(0.5, 3.0, 30)  # 6x over the run: not orders of magnitude
    assert blowup_onset(drift) is None
    assert blowup_onset(np.r_[1.0, -1.0, 2.0]) is None  # not positive


def test_blowup_onset_gradual_rise_by_orders_of_magnitude():
    v = np.r_[np.linspace(1.0, 0.1, 10), np.logspace(0, 4, 20)]
    i = blowup_onset(v)
    assert i is not None and v[i] >= 10 * 0.1


def test_val_off_scale_from_the_start_and_scale_free():
    from analyzer.trends import val_off_scale

    s = np.arange(12)
    train = 2.3 * 0.5**s
    val = np.full(12, 1.4e4)
    a = val_off_scale(s, train, s, val)
    b = val_off_scale(s, train * 1e-5, s, val * 1e-5)
    assert a is not None and a.at_start > 1000 and a.first_step == 0
    assert b is not None and b.at_start == pytest.approx(a.at_start)
    # a memorising run: the ratio grows late, but the validation loss starts beside training
    assert val_off_scale(s, train, s, np.linspace(2.2, 1.5, 12)) is None
    # it starts high but comes back to the training loss's level: not held
    back = np.r_[np.full(3, 1.4e4), np.full(9, 2.0)]
    assert val_off_scale(s, train, s, back) is None
    assert val_off_scale(s[:2], train[:2], s[:2], val[:2]) is None


def test_blowup_onset_needs_a_level_the_curve_never_visited():
    # a validation loss jumping between 1e-8 and 3.7 all run; it ends on five evaluations near
    # 1e-2, far above its lowest point but well inside the range it kept visiting: not a blow-up
    rng = np.random.default_rng(3)
    v = np.exp(rng.uniform(np.log(1e-8), np.log(3.7), 45))
    v[40:45] = [2e-8, 1e-7, 5e-8, 3e-8, 4e-8]
    v = np.r_[v, [0.012, 0.009, 0.011, 0.008, 0.01]]
    assert blowup_onset(v) is None
    assert diverged_at(v) is None
    # the same end far above anything before it is one
    w = np.r_[v[:45], [40.0, 50.0, 45.0, 60.0, 55.0]]
    assert blowup_onset(w) == 45


def test_collapsed_finds_where_a_metric_fell_to_half_its_best_for_good():
    acc = np.r_[0.5, 0.8, 0.9, 0.92, 0.93, 0.6, 0.3, 0.1, 0.11, 0.09, 0.1, 0.1]
    assert collapsed(acc) == 6  # 0.6 is still nearer the best (0.93) than the end level (0.1)
    # a few points lost (overfitting), or a collapse it recovered from: not collapsed
    assert collapsed(np.r_[0.5, 0.8, 0.9, 0.93, 0.91, 0.9, 0.89, 0.88, 0.88, 0.87]) is None
    assert collapsed(np.r_[0.5, 0.8, 0.9, 0.1, 0.1, 0.85, 0.9, 0.91, 0.9, 0.92]) is None
    # the best in the last third is not a collapse; values outside [0, 1] are not a bounded metric
    assert collapsed(np.r_[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.5, 0.9]) is None
    assert collapsed(np.r_[50.0, 80, 90, 93, 60, 30, 10, 11, 9, 10]) is None
