import numpy as np
import pytest

from analyzer.trends import best_point
from analyzer.trends import signals as sg


@pytest.mark.parametrize("n", [8, 10, 15, 30, 100])
@pytest.mark.parametrize("seed", range(3))
def test_minimum_found_and_rise_significant(n, seed):
    s, v, truth = sg.overfitting_val(n=n, noise=0.01, seed=seed)
    b = best_point(s, v)
    assert abs(b.best_step - truth["best_step"]) <= max(2, 0.05 * n)
    assert b.rise == pytest.approx(truth["rise"], rel=0.25)
    assert b.significant
    assert b.rise_p_value < 0.05 and b.rise_z > 1.645
    assert b.rise_sigma > 3  # short curves: curvature inflates the diff-based noise (conservative)
    assert 0 < b.rise_rel_gain < 1  # gave back part, not all, of the improvement
    assert b.rise_rel_range == pytest.approx(truth["rise"] / (2.0 - truth["best_value"]), rel=0.3)


def test_noise_only_false_positive_rate_is_nominal():
    for n in (8, 30):
        hits = [best_point(*sg.flat(n=n, seed=seed)[:2]).significant for seed in range(200)]
        assert np.mean(hits) <= 0.08


def test_monotone_decay_has_no_rise():
    hits = [
        best_point(*sg.exp_decay(n=30, noise=0.02, seed=seed)[:2]).significant for seed in range(30)
    ]
    assert sum(hits) <= 1


def test_max_mode_for_accuracy():
    s, v, truth = sg.overfitting_val(n=30, noise=0.005, seed=1)
    acc = 1.0 - v / 3.0
    b = best_point(s, acc, mode="max")
    assert abs(b.best_step - truth["best_step"]) <= 2
    assert b.significant and b.rise > 0 and b.rise_orig > 0
    assert b.best_value == pytest.approx(1 - truth["best_value"] / 3, abs=0.01)


def test_scale_invariance():
    s, v, _ = sg.overfitting_val(n=20, noise=0.01, seed=2)
    a = best_point(s, v)
    for factor in (1e-6, 1e6):
        b = best_point(s, v * factor)
        assert b.best_step == a.best_step
        assert b.rise_rel_range == pytest.approx(a.rise_rel_range, rel=1e-6)
        assert b.rise_rel_level == pytest.approx(a.rise_rel_level, rel=1e-6)
        assert b.rise_sigma == pytest.approx(a.rise_sigma, rel=1e-6)
        assert b.significant == a.significant


def test_short_nan_and_constant_inputs():
    assert best_point([1, 2, 3], [1.0, 0.5, 0.7]).insufficient
    v = np.array([1.0, 0.8, np.nan, 0.7, np.nan])
    assert best_point(np.arange(5), v).insufficient
    c = best_point(np.arange(20), np.full(20, 0.25))
    assert not c.insufficient and not c.significant and c.rise == 0
    with pytest.raises(ValueError):
        best_point([1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0], mode="median")
