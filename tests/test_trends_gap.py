import numpy as np
import pytest

from analyzer.trends import generalization_gap
from analyzer.trends import signals as sg


@pytest.mark.parametrize("seed", range(3))
def test_gap_growth_after_val_minimum(seed):
    p = sg.overfitting_pair(epochs=40, steps_per_epoch=50, seed=seed)
    g = generalization_gap(
        p.train_steps, p.train_values, p.val_steps, p.val_values, start=p.truth["best_step"]
    )
    assert g.steps.size == p.val_steps.size  # val at step 2000 pairs with train up to 1999
    np.testing.assert_allclose(g.gap[5:], p.truth["gap"][5:], atol=0.03)
    assert (
        g.slope_low <= p.truth["gap_slope"] * 1.15 and g.slope_high >= p.truth["gap_slope"] * 0.85
    )
    assert g.slope == pytest.approx(p.truth["gap_slope"], rel=0.15)
    assert g.trend.direction == "increasing"
    assert g.relative_growth > 0.3
    assert g.ratio is not None and g.ratio[-1] > 1.5


def test_no_growth_when_both_converge_together():
    s, tr, _ = sg.exp_decay(n=2000, per="iteration", noise=0.05, seed=1)
    vs, va, _ = sg.exp_decay(n=40, noise=0.01, seed=2)
    g = generalization_gap(s, tr, vs * 50, va + 0.05, last_fraction=0.5)
    assert g.slope_low <= 0 <= g.slope_high or abs(g.relative_growth) < 0.02
    assert g.trend.direction != "increasing" or abs(g.relative_growth) < 0.02


def test_scale_invariance_of_relative_growth():
    p = sg.overfitting_pair(seed=4)
    a = generalization_gap(p.train_steps, p.train_values, p.val_steps, p.val_values)
    b = generalization_gap(p.train_steps, p.train_values * 1e6, p.val_steps, p.val_values * 1e6)
    assert b.relative_growth == pytest.approx(a.relative_growth, rel=1e-6)


def test_denser_val_than_train_is_handled():
    p = sg.overfitting_pair(seed=5)
    g = generalization_gap(p.val_steps, p.val_values * 0.9, p.train_steps, p.train_values)
    assert g.steps.size == p.val_steps.size


def test_insufficient_inputs():
    g = generalization_gap([1, 2], [1.0, 0.9], [10, 20], [1.0, 1.1])
    assert g.insufficient and "overlap" in g.reason
    g = generalization_gap([1], [1.0], [1, 2, 3], [1.0, 1.0, 1.0])
    assert g.insufficient
    g = generalization_gap(np.arange(100), np.linspace(1, 0.5, 100), [10, 20, 30], [1, 1, 1.0])
    assert g.insufficient and g.steps.size == 3
