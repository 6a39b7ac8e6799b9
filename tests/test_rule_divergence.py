import numpy as np

from analyzer.trends import signals
from rules import divergence, explosion

from .helpers import cs


def test_nan_reports_first_nonfinite_step():
    s = signals.divergence(n=100, onset_fraction=0.5, nan_fraction=0.8, seed=1)
    f = divergence.check(cs(train=(s.steps, s.values)))
    assert len(f) == 1 and f[0].code == "DIV001" and f[0].kind == "divergence"
    first_bad = int(s.steps[~np.isfinite(s.values)][0])
    assert f[0].start_step == first_bad
    assert f[0].severity == "error"
    assert f[0].evidence["first_nonfinite_step"] == first_bad


def test_nan_in_val_and_components_are_reported_per_curve():
    steps = np.arange(20)
    val = np.linspace(1, 0.5, 20)
    val[15] = np.inf
    f = divergence.check(cs(train=(steps, np.linspace(1, 0.1, 20)), val=(steps, val)))
    assert [(x.code, x.curve, x.start_step) for x in f] == [("DIV001", "val_loss", 15)]
    assert f[0].evidence["recovered"] is True


def test_finite_curve_is_silent():
    s = signals.exp_decay(n=50)
    assert divergence.check(cs(train=(s.steps, s.values))) == []


def test_explosion_onset_and_severity():
    s = signals.divergence(n=200, onset_fraction=0.6, nan_fraction=1.0, seed=2)
    f = explosion.check(cs(train=(s.steps, s.values)))
    assert [x.code for x in f] == ["DIV002"]
    onset = s.truth.get("onset_step", s.steps[int(0.6 * len(s.steps))])
    assert abs(f[0].start_step - onset) <= 0.1 * s.steps[-1]
    assert f[0].evidence["ratio"] >= 2


def test_explosion_is_scale_free():
    s = signals.divergence(n=200, onset_fraction=0.6, nan_fraction=1.0, seed=3)
    for scale in (1e-6, 1.0, 1e9):
        f = explosion.check(cs(train=(s.steps, s.values * scale)))
        assert [x.code for x in f] == ["DIV002"], scale


def test_flat_at_chance_is_not_divergence():
    # the pitfall: "lost 76,000% of its progress" on a run that never made progress
    s = signals.flat(n=100, level=2.3026, noise=0.002, seed=4)
    assert explosion.check(cs(train=(s.steps, s.values))) == []


def test_rising_val_with_falling_train_is_not_divergence():
    p = signals.overfitting_pair(seed=5)
    f = explosion.check(cs(train=(p.train_steps, p.train_values), val=(p.val_steps, p.val_values)))
    assert f == []


def test_recovered_spike_is_not_divergence():
    s = signals.exp_decay(n=200, seed=6)
    v = s.values.copy()
    v[120:124] *= [3, 6, 2, 1.2]
    assert explosion.check(cs(train=(s.steps, v))) == []


def test_unrecovered_spike_is_divergence():
    s = signals.exp_decay(n=200, seed=7)
    v = s.values.copy()
    v[150:] *= 8
    f = explosion.check(cs(train=(s.steps, v)))
    assert [x.code for x in f] == ["DIV002"]
    assert abs(f[0].start_step - s.steps[150]) <= 3
