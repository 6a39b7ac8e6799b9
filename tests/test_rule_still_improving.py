from rules import plateau, still_improving
from tests import signals

from .helpers import cs


def test_still_improving_is_info_not_plateau():
    s = signals.exp_decay(n=60, start=2.3, asymptote=0.1, tau_fraction=1.5, noise=0.005, seed=7)
    tr = cs(train=(s.steps, s.values))
    assert plateau.check(tr) == []
    f = still_improving.check(tr)
    assert [(x.code, x.severity) for x in f] == [("PLT002", "info")]


def test_converged_loss_is_not_still_improving():
    s = signals.exp_decay(n=80, start=2.3, asymptote=0.1, tau_fraction=0.08, noise=0.01, seed=2)
    assert still_improving.check(cs(train=(s.steps, s.values))) == []


def test_no_train_longer_advice_when_validation_is_past_its_best():
    p = signals.overfitting_pair(epochs=40, seed=3)
    tr = cs(train=(p.train_steps, p.train_values), val=(p.val_steps, p.val_values))
    assert still_improving.check(tr) == []
