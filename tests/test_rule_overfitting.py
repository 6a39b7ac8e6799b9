import numpy as np

from rules import overfitting
from tests import signals

from .helpers import cs


def test_u_shaped_val_with_falling_train():
    p = signals.overfitting_pair(epochs=40, seed=1)
    f = overfitting.check(
        cs(train=(p.train_steps, p.train_values), val=(p.val_steps, p.val_values))
    )
    assert [(x.code, x.curve) for x in f] == [("OVF001", "val_loss")]
    best = p.truth["best_step"]
    spacing = np.median(np.diff(p.val_steps))
    assert abs(f[0].evidence["best_step"] - best) <= 3 * spacing
    assert f[0].start_step >= f[0].evidence["best_step"]
    assert f[0].evidence["gap_growth"] > 0


def test_few_evaluations_still_detected():
    # seven evaluations: a patience-10 rule could never fire here
    val = [0.9, 0.52, 0.41, 0.38, 0.45, 0.55, 0.66]
    train = [0.9, 0.5, 0.33, 0.22, 0.15, 0.1, 0.06]
    f = overfitting.check(cs(train=(range(7), train), val=(range(7), val)))
    assert [(x.code, x.evidence["best_step"]) for x in f] == [("OVF001", 3)]


def test_flat_noisy_val_is_healthy():
    rng = np.random.default_rng(2)
    t = np.arange(30)
    val = 0.37 + 0.5 * np.exp(-t / 3) + rng.normal(0, 0.004, 30)
    train = 0.3 + 0.6 * np.exp(-t / 4)
    assert overfitting.check(cs(train=(t, train), val=(t, val))) == []


def test_val_and_train_both_rising_is_not_overfitting():
    t = np.arange(30)
    val = np.r_[np.linspace(1, 0.4, 15), np.linspace(0.45, 3, 15)]
    train = np.r_[np.linspace(1, 0.3, 15), np.linspace(0.35, 3, 15)]
    assert overfitting.check(cs(train=(t, train), val=(t, val))) == []


def test_val_metric_used_when_no_val_loss():
    t = np.arange(20)
    acc = np.r_[np.linspace(0.5, 0.92, 10), np.linspace(0.91, 0.80, 10)]
    train = 1.0 * np.exp(-t / 5)
    f = overfitting.check(cs(train=(t, train), val_metric=(t, acc)))
    assert [(x.code, x.curve) for x in f] == [("OVF001", "val_accuracy")]
    assert 8 <= f[0].evidence["best_step"] <= 10


def test_scale_free():
    p = signals.overfitting_pair(epochs=40, seed=3)
    for k in (1e-4, 1e4):
        f = overfitting.check(
            cs(train=(p.train_steps, p.train_values * k), val=(p.val_steps, p.val_values * k))
        )
        assert [x.code for x in f] == ["OVF001"]


def test_val_rise_while_a_very_noisy_train_loss_also_rises_is_not_overfitting():
    # the training loss bounces by a factor of 3 and its smoothed level ends ~50% above where
    # it was at the validation minimum: not significant in its own noise, but not "improving"
    rng = np.random.default_rng(3)
    t = np.arange(60)
    train_trend = np.where(t < 30, 100 * np.exp(-t / 10), 5.0 * (1 + 0.5 * (t - 30) / 30))
    train = train_trend * np.exp(rng.normal(0, 0.6, t.size))
    val = np.where(t < 30, 80 * np.exp(-t / 10), 4.0 * (1 + 3.0 * (t - 30) / 30))
    assert overfitting.check(cs(train=(t, train), val=(t, val))) == []
    # the same validation rise while the training loss keeps falling is overfitting
    falling = np.where(t < 30, 100 * np.exp(-t / 10), 5.0 * np.exp(-(t - 30) / 15))
    falling = falling * np.exp(rng.normal(0, 0.6, t.size))
    assert [f.code for f in overfitting.check(cs(train=(t, falling), val=(t, val)))] == ["OVF001"]


def test_onset_stays_put_as_evaluations_arrive():
    # a live run (watch, Monitor) re-judges the same curve as it grows: where the rise began
    # must not move later just because the rise kept going (it moved from 15 to 24 in watch)
    t = np.arange(60)
    val = np.where(t < 15, 0.4 + 1.6 * np.exp(-t / 3.0), 0.4 + 1.6 * np.exp(-5.0))
    val = val + np.where(t >= 15, 0.02 * (t - 15), 0.0)
    train = 0.2 + 1.8 * np.exp(-t / 8.0)
    onsets = []
    for n in (30, 40, 50, 60):
        f = overfitting.check(cs(train=(t[:n], train[:n]), val=(t[:n], val[:n])))
        assert [x.code for x in f] == ["OVF001"], n
        onsets.append(f[0].evidence["onset_step"])
    assert max(onsets) - min(onsets) <= 2, onsets
    assert 15 <= min(onsets) <= 20, onsets
