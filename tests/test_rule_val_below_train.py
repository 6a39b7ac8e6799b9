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
