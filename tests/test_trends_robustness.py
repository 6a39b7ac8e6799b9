"""Every public trend function on awkward input: flagged results, never exceptions; and speed."""

import time

import numpy as np
import pytest

import analyzer.trends as T
from tests import signals as sg

CURVE_FUNCS = [
    T.fit_asymptote,
    T.oscillation,
    T.robust_slope,
    T.trend_test,
]

AWKWARD = {
    "empty": ([], []),
    "one": ([1], [0.5]),
    "two": ([1, 2], [0.5, 0.4]),
    "all_nan": (np.arange(20), np.full(20, np.nan)),
    "mostly_inf": (np.arange(20), np.r_[1.0, 0.9, np.full(18, np.inf)]),
    "constant": (np.arange(50), np.full(50, 0.693)),
    "zeros": (np.arange(50), np.zeros(50)),
    "negative": (np.arange(50), -np.linspace(1, 2, 50)),
    "same_step": (np.ones(30), np.linspace(1, 2, 30)),
}


@pytest.mark.parametrize("func", CURVE_FUNCS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("case", list(AWKWARD), ids=str)
def test_awkward_inputs_never_raise(func, case):
    s, v = AWKWARD[case]
    res = func(np.asarray(s, dtype=float), np.asarray(v, dtype=float))
    if case in ("empty", "one", "two", "all_nan", "mostly_inf", "same_step"):
        assert res.insufficient and res.reason


def test_nan_tail_is_ignored_but_located():
    s, v, truth = sg.divergence(n=200, onset_fraction=0.6, nan_fraction=0.8, seed=0)
    p = T.prepare(s, v)
    assert p.first_nonfinite_step == truth["first_nan_step"]
    assert p.n == int(np.sum(s < truth["first_nan_step"]))
    # the finite part still gets analysed
    tt = T.trend_test(s, v)
    assert not tt.insufficient and tt.n == p.n


def test_everything_on_100k_points_is_fast():
    s, v, _ = sg.exp_decay(n=100_000, per="iteration", noise=0.05, seed=0)
    v[1234] = np.nan
    for f in CURVE_FUNCS:  # warm-up (imports, first-call overhead)
        f(s[:200], v[:200])
    t0 = time.perf_counter()
    T.prepare(s, v)
    T.robust_smooth(s, v)
    T.noise_scale(s, v)
    for f in CURVE_FUNCS:
        f(s, v)
    elapsed = time.perf_counter() - t0
    assert elapsed < 2.5, elapsed  # ~0.55 s measured on the 2-core machine under load


def test_signals_are_seeded_and_carry_truth():
    a = sg.exp_decay(seed=3)
    b = sg.exp_decay(seed=3)
    c = sg.exp_decay(seed=4)
    assert np.array_equal(a.values, b.values) and not np.array_equal(a.values, c.values)
    steps, values, truth = sg.oscillating_decay()
    assert {"period", "amplitude"} <= set(truth)
    d = sg.divergence(seed=1)
    assert np.isnan(d.values[d.steps >= d.truth["first_nan_step"]]).all()
    q = sg.quantized(decimals=2)
    assert np.allclose(q.values * 100, np.round(q.values * 100))
    w = sg.wide_range_decay()
    assert w.values.max() > 300 and w.values.min() < 3e-4
    u = sg.overfitting_val(n=30, noise=0.0)
    assert u.steps[np.argmin(u.values)] == u.truth["best_step"]
    e = sg.epoch_spikes(epochs=5, steps_per_epoch=100)
    assert e.truth["spike_steps"] == [100.0, 200.0, 300.0, 400.0]
    p = sg.overfitting_pair()
    assert p.val_steps.size < p.train_steps.size
    it = sg.exp_decay(n=5000, per="iteration")
    assert it.steps[0] == 0 and it.steps.size == 5000
