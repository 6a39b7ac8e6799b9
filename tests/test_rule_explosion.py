import numpy as np

from rules import explosion
from tests import signals

from .helpers import cs


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


def test_train_surge_the_validation_loss_does_not_share_is_not_divergence():
    s = signals.exp_decay(n=200, seed=8)
    v = s.values.copy()
    v[170:] *= 3  # the training loss triples for the last 30 steps
    vs = s.steps[::10]
    improving = 1.2 * np.interp(vs, s.steps, s.values)  # validation keeps improving
    assert explosion.check(cs(train=(s.steps, v), val=(vs, improving))) == []
    worse = improving.copy()
    worse[vs >= s.steps[170]] *= 2.5  # ... or gets worse with it: the weights were thrown off
    f = explosion.check(cs(train=(s.steps, v), val=(vs, worse)))
    assert [x.code for x in f] == ["DIV002"]
    # a validation loss that turned NaN confirms it too
    nan = improving.copy()
    nan[vs >= s.steps[170]] = np.nan
    assert [x.code for x in explosion.check(cs(train=(s.steps, v), val=(vs, nan)))] == ["DIV002"]


def test_divergence_of_a_curve_is_kept_with_it_and_is_diverged_at(monkeypatch):
    """rules._common.diverged: diverged_at of the finite values, computed once per curve and
    options (DIV002, PLT001 and OVF001 ask it of the same validation loss)."""
    from analyzer.trends import extremum
    from rules import _common

    rng = np.random.default_rng(5)
    steps = np.arange(60) * 10
    blown = np.r_[np.linspace(2.0, 0.5, 30), np.full(30, 80.0)] * (1 + 0.01 * rng.random(60))
    blown[[3, 40]] = np.nan  # indexes count the finite points only
    flat = np.full(60, 0.7)
    calls = []
    real = extremum.diverged_at

    def counting(v, **kw):
        calls.append(kw)
        return real(v, **kw)

    monkeypatch.setattr(_common, "diverged_at", counting)
    for values in (blown, flat):
        c = cs(val=(steps, values)).val
        fin = values[np.isfinite(values)]
        assert _common.diverged(c) == real(fin)
        assert _common.diverged(c, min_jump=10, min_ratio=100) == real(fin)  # the same key
        assert _common.diverged(c, min_jump=50.0) == real(fin, min_jump=50.0)
    assert _common.diverged(cs(val=(steps, blown)).val) == (29, False)
    # per curve: the defaults and min_jump=50 once each, for each of the first two curves, and
    # once more for the third (a new curve object)
    assert len(calls) == 5


def test_restore_best_names_the_checkpoint_the_watched_curve_kept():
    # the training loss is lowest (smoothed) around epoch 24 and explodes from 30; the validation
    # loss, which a checkpoint callback watches, logged its lowest value at epoch 14: that is the
    # checkpoint to restore, not the training loss's best
    e = np.arange(40)
    train = np.r_[1.0 * np.exp(-np.arange(30) / 8), np.full(10, 5.0)]
    val = np.r_[np.exp(-np.arange(15) / 5), 0.065 * np.exp(np.arange(1, 16) / 30), np.full(10, 6.0)]
    (f,) = explosion.check(cs(train=(e, train), val=(e, val)))
    assert f.curve == "loss" and f.evidence["best_step"] > 14
    (rb,) = [r for r in f.remedies if r.id == "restore-best"]
    assert rb.title == "Use the checkpoint from step 14"
    # without a validation loss: the lowest training loss logged before the onset
    (f,) = explosion.check(cs(train=(e, train)))
    (rb,) = [r for r in f.remedies if r.id == "restore-best"]
    assert rb.title == f"Use the checkpoint from step {int(np.argmin(train[: f.start_step]))}"
