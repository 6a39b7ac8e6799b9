from dataclasses import replace

import numpy as np
import pytest

from rules import plateau
from tests import signals

from .helpers import cs


def test_flat_at_chance_is_a_plateau():
    s = signals.flat(n=60, level=np.log(10), noise=0.003, seed=1)
    f = plateau.check(cs(train=(s.steps, s.values)))
    assert [(x.code, x.start_step, x.end_step) for x in f] == [("PLT001", 1, 60)]
    assert f[0].evidence["chance_classes"] == 10


@pytest.mark.parametrize("scale", [1e-5, 1.0, 1e25])
def test_stuck_enormous_or_tiny_loss_is_still_a_plateau(scale):
    s = signals.flat(n=80, level=1.0, noise=0.002, seed=2)
    f = plateau.check(cs(train=(s.steps, s.values * scale)))
    assert [x.code for x in f] == ["PLT001"]


def test_early_flattening_at_high_level():
    s = signals.early_plateau(n=100, start=2.3, level=1.5, seed=3)
    f = plateau.check(cs(train=(s.steps, s.values)))
    assert [x.code for x in f] == ["PLT001"]
    assert f[0].evidence["pattern"] == "flattened-high"
    assert f[0].start_step <= 40


def test_converged_loss_is_not_a_plateau():
    s = signals.exp_decay(n=100, start=2.3, asymptote=0.05, tau_fraction=0.1, seed=4)
    assert plateau.check(cs(train=(s.steps, s.values))) == []


def test_flattening_after_lr_decay_is_convergence():
    s = signals.early_plateau(n=100, start=2.3, level=1.5, seed=5)
    lr = np.where(s.steps < 30, 0.1, 0.001)
    assert plateau.check(cs(train=(s.steps, s.values), lr=(s.steps, lr))) == []


def test_quantized_flat_line_near_start_is_a_plateau_not_an_error():
    s = signals.quantized(n=100, level=0.69, decimals=2, seed=6)
    f = plateau.check(cs(train=(s.steps, s.values)))
    assert [x.code for x in f] == ["PLT001"]


def test_short_curve_says_nothing():
    assert plateau.check(cs(train=([0, 1, 2], [1.0, 1.0, 1.0]))) == []


def test_flat_at_ln3_after_a_blow_up_in_the_first_interval_is_chance():
    # the first value is ~900x the rest: progress is judged from the level after it, which
    # starts (and stays) at ln(3), so the class count is corroborated by the start
    t = np.arange(1, 200)
    v = 1.0986 + 0.002 * np.sin(t) + 1000 * (t == 1)
    f = plateau.check(cs(train=(t, v)))
    assert [(x.code, x.evidence["pattern"], x.evidence["chance_classes"]) for x in f] == [
        ("PLT001", "stuck-near-start", 3)
    ]
    assert "ln(3)" in f[0].message


def test_flat_at_ln3_after_a_big_first_drop_is_a_plateau_but_no_chance_claim_alone():
    # 100x drop in the first interval, then flat at 1.0986: nothing says it has 3 classes
    t = np.arange(1, 200)
    v = 1.0986 + 0.002 * np.sin(t) + 100 * (t == 1)
    f = plateau.check(cs(train=(t, v)))
    assert [x.code for x in f] == ["PLT001"] and "chance_classes" not in f[0].evidence
    # ... unless an accuracy logged by the run is at chance too
    acc = 0.33 + 0.01 * np.sin(t)
    f = plateau.check(cs(train=(t, v), val_metric=(t, acc)))
    assert [(x.evidence["pattern"], x.evidence["chance_classes"]) for x in f] == [
        ("flat-at-chance", 3)
    ]


def test_rising_loss_is_not_a_plateau():
    s = signals.divergence(n=100, onset_fraction=0.05, nan_fraction=1.0, growth_steps=40, seed=8)
    assert plateau.check(cs(train=(s.steps, s.values))) == []


def test_steady_slow_progress_is_not_a_plateau():
    # a short fine-tune from a trained model: only 16% removed, but falling at every epoch
    t = np.arange(1, 11)
    v = np.array([0.978, 0.92, 0.899, 0.877, 0.866, 0.852, 0.844, 0.835, 0.824, 0.827])
    assert plateau.check(cs(train=(t, v))) == []
    # the same share removed early, then flat for the rest of the run: stuck
    t = np.arange(40)
    rng = np.random.default_rng(0)
    flat = np.r_[np.linspace(1.0, 0.84, 6), np.full(34, 0.84)] * (1 + rng.normal(0, 0.003, 40))
    f = plateau.check(cs(train=(t, flat)))
    assert [x.code for x in f] == ["PLT001"] and f[0].evidence.get("steady_progress") is not True


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e4])
def test_flattening_at_a_level_that_is_not_chance_after_a_real_drop_is_not_called_stuck(scale):
    # removes a third of its start, then flat for the last 70%: converged or capacity-limited, the
    # run alone cannot tell (LABELS-SPEC: that needs a chance level or sibling runs)
    s = signals.early_plateau(n=100, start=2.0, level=1.3, onset_fraction=0.3, seed=7)
    assert plateau.check(cs(train=(s.steps, scale * s.values))) == []


def test_flattening_at_chance_after_a_drop_is_a_plateau():
    # the same shape, flat at ln(4) after starting at ln(4) + 0.9 with a 4-class accuracy at 0.25
    s = signals.early_plateau(
        n=100, start=np.log(4) + 0.9, level=np.log(4), onset_fraction=0.3, seed=7
    )
    acc = np.full(s.steps.size, 0.25)
    f = plateau.check(cs(train=(s.steps, s.values), val_metric=(s.steps, acc)))
    assert [x.code for x in f] == ["PLT001"]


def _rise_then_sit(level: float, n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Falls from 1.8 to 1.3 in three epochs, climbs for six, then sits at ``level``."""
    t = np.arange(n)
    rng = np.random.default_rng(3)
    v = np.r_[[1.8, 1.6, 1.3], np.linspace(1.6, level, 6), np.full(n - 9, level)]
    return t, v * (1 + rng.normal(0, 0.002, n))


def test_a_loss_that_rose_and_sits_at_chance_is_a_plateau_at_chance():
    # LABELS-SPEC: a blow-up after which the loss is stuck at a constant is a divergence and
    # often a plateau too; at ln(10) with a 10-class accuracy at chance it is one
    t, v = _rise_then_sit(np.log(10))
    acc = np.r_[np.linspace(0.6, 0.1, 9), np.full(21, 0.1)]
    f = plateau.check(cs(train=(t, v), val_metric=(t, acc)))
    assert [(x.code, x.evidence["pattern"], x.evidence["chance_classes"]) for x in f] == [
        ("PLT001", "flat-at-chance", 10)
    ]
    # 1.3% off ln(10) (2.273): still chance when the accuracy says so (the 2% of every chance test)
    t, v = _rise_then_sit(0.987 * np.log(10))
    f = plateau.check(cs(train=(t, v), val_metric=(t, acc)))
    assert [x.evidence.get("chance_classes") for x in f] == [10]


def test_a_loss_that_rose_and_sits_elsewhere_is_not_a_plateau():
    # the same rise to a level that is no chance level, or without an accuracy at chance:
    # rising, not stuck (the divergence rules' domain)
    t, v = _rise_then_sit(2.6)
    acc = np.r_[np.linspace(0.6, 0.1, 9), np.full(21, 0.1)]
    assert plateau.check(cs(train=(t, v), val_metric=(t, acc))) == []
    t, v = _rise_then_sit(0.987 * np.log(10))
    assert plateau.check(cs(train=(t, v), val_metric=(t, np.full(30, 0.7)))) == []


def _swinging_at_chance(acc_level: float, n: int = 30, first_val: float = 0.70):
    """A loss that removes a quarter of its start and swings (+-30%) while the validation
    accuracy stays at ``acc_level`` from the first evaluation to the last."""
    t = np.arange(n)
    rng = np.random.default_rng(5)
    loss = np.linspace(1.2, 0.9, n) * (1 + 0.3 * (-1) ** t)
    val = np.r_[first_val, 1.0 * (1 + 0.3 * (-1) ** t[1:])]
    acc = acc_level + rng.normal(0, 0.01, n)
    return cs(train=(t, loss), val=(t, val), val_metric=(t, acc))


def test_accuracy_that_never_left_chance_is_a_plateau_however_the_loss_swings():
    # LABELS-SPEC: accuracy at the majority-class rate is a constant predictor's level; the val
    # loss started at ln(2), so two classes, and the accuracy sits at 1/2 throughout
    f = plateau.check(_swinging_at_chance(0.5))
    assert [(x.code, x.evidence["pattern"], x.evidence["chance_classes"]) for x in f] == [
        ("PLT001", "accuracy-at-chance", 2)
    ]


def test_accuracy_above_the_runs_own_chance_level_is_not_called_chance():
    # the val loss started at ln(3): three classes, so an accuracy of 0.5 is not at chance
    assert plateau.check(_swinging_at_chance(0.5, first_val=1.10)) == []
    # an accuracy that rises from chance is learning
    run = _swinging_at_chance(0.5)
    acc = np.linspace(0.5, 0.8, 30)
    assert plateau.check(replace(run, val_metric=replace(run.val_metric, values=acc))) == []


def test_accuracy_logged_in_percent_counts_as_the_same_fraction():
    # PyTorch scripts often log accuracy in percent: 50 is chance for two classes as 0.5 is
    run = _swinging_at_chance(0.5)
    pct_run = replace(run, val_metric=replace(run.val_metric, values=100 * run.val_metric.values))
    f = plateau.check(pct_run)
    assert [(x.evidence["pattern"], x.evidence["chance_classes"]) for x in f] == [
        ("accuracy-at-chance", 2)
    ]
    # ... and 98% at the end is a near-perfect metric: an early flattening is not "far above
    # what the task allows"
    s = signals.early_plateau(n=100, start=2.3, level=1.5, seed=3)
    acc = np.full(s.steps.size, 98.0)
    assert plateau.check(cs(train=(s.steps, s.values), val_metric=(s.steps, acc))) == []
    assert [x.code for x in plateau.check(cs(train=(s.steps, s.values)))] == ["PLT001"]
