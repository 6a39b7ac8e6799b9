import numpy as np

from rules import lr_schedule

from .helpers import cs


def test_schedule_ended_while_loss_falling():
    t = np.arange(100)
    lr = np.where(t < 30, 0.1 * (1 - t / 30) + 1e-4, 1e-4)
    loss = np.where(t < 30, 2.0 - 0.05 * t, 0.5)
    f = lr_schedule.check(cs(train=(t, loss), lr=(t, lr)))
    assert [(x.code, x.severity) for x in f] == [("LRS001", "info")]
    assert 25 <= f[0].start_step <= 30


def test_schedule_ending_with_the_run_is_silent():
    t = np.arange(100)
    lr = 0.1 * (1 - t / 100) + 1e-5
    loss = 2.0 * np.exp(-t / 20) + 0.1
    assert lr_schedule.check(cs(train=(t, loss), lr=(t, lr))) == []
