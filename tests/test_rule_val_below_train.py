import numpy as np

from rules import val_below_train

from .helpers import cs


def test_val_below_train_whole_run():
    t = np.arange(30)
    train = 0.5 + np.exp(-t / 8)
    val = 0.4 + 0.9 * np.exp(-t / 8)
    f = val_below_train.check(cs(train=(t, train), val=(t, val)))
    assert [(x.code, x.severity) for x in f] == [("GAP001", "info")]


def test_val_above_train_is_silent():
    t = np.arange(30)
    train = 0.5 + np.exp(-t / 8)
    assert val_below_train.check(cs(train=(t, train), val=(t, train + 0.1))) == []


def test_two_losses_at_chance_a_hair_apart_are_not_a_gap():
    # verify's plateau baseline: train and val both stuck at ln(3), val 0.17% lower with tiny
    # noise: "below by more than the noise", but the same level; no leakage hint
    t = np.arange(30)
    rng = np.random.default_rng(0)
    train = np.log(3) * (1 + rng.normal(0, 1e-5, 30))
    val = np.log(3) * (1 - 0.0017) * (1 + rng.normal(0, 1e-5, 30))
    assert val_below_train.check(cs(train=(t, train), val=(t, val))) == []
    # a gap of a tenth of the level still counts
    assert val_below_train.check(cs(train=(t, train), val=(t, 0.9 * val)))
