import numpy as np

from analyzer.trends import signals
from rules import oscillation

from .helpers import cs


def test_sustained_sinusoid_is_oscillation_with_period():
    s = signals.oscillating_decay(n=400, period=40.0, amplitude=0.15, seed=1)
    f = oscillation.check(cs(train=(s.steps, s.values)))
    assert [x.code for x in f] == ["OSC001"]
    assert abs(f[0].evidence["period"] - 40.0) <= 6.0


def test_zigzag_per_epoch_is_oscillation():
    t = np.arange(1, 41)
    v = (0.5 + 1.5 * np.exp(-t / 10)) * (1 + 0.25 * (-1) ** t)
    f = oscillation.check(cs(train=(t, v)))
    assert [x.code for x in f] == ["OSC001"]
    assert f[0].evidence["pattern"] == "zig-zag"


def test_white_minibatch_noise_is_not_oscillation():
    s = signals.exp_decay(n=3000, per="iteration", noise=0.2, seed=2)
    assert oscillation.check(cs(train=(s.steps, s.values))) == []


def test_epoch_boundary_spikes_are_not_oscillation():
    s = signals.epoch_spikes(epochs=10, steps_per_epoch=200, seed=3)
    assert oscillation.check(cs(train=(s.steps, s.values))) == []


def test_lr_step_drop_and_fast_descent_are_not_oscillation():
    s = signals.lr_step_decay(n=300, seed=4)
    assert oscillation.check(cs(train=(s.steps, s.values))) == []
    e = signals.exp_decay(n=100, tau_fraction=0.03, seed=5)
    assert oscillation.check(cs(train=(e.steps, e.values))) == []


def test_rounded_flat_line_is_not_oscillation():
    s = signals.quantized(n=200, seed=6)
    assert oscillation.check(cs(train=(s.steps, s.values))) == []


def test_oscillation_that_dies_out_is_not_reported():
    t = np.arange(1, 201)
    v = 0.5 + np.exp(-t / 40) + 0.3 * np.exp(-t / 15) * np.sin(2 * np.pi * t / 10)
    assert oscillation.check(cs(train=(t, v))) == []
