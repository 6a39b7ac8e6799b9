"""The shapes ../shared/LABELS-SPEC.md names, each checked through the whole rule set (engine
deference included), at several loss scales and evaluation cadences: a verdict must not depend on
the loss's units or on how often the run was evaluated."""

import numpy as np
import pytest

from analyzer.curves import Curve, CurveSet
from analyzer.engine import analyze_curves

from .helpers import cs

SCALES = (1e-5, 1.0, 1e5)


def kinds(curves: CurveSet) -> set[str]:
    _, findings = analyze_curves(curves)
    return {f.kind for f in findings if f.severity in ("warning", "error")}


def findings_of(curves: CurveSet, code: str):
    _, findings = analyze_curves(curves)
    return [f for f in findings if f.code == code]


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("n_eval", [12, 40, 150])
def test_validation_zigzag_at_evaluation_cadence_is_oscillation(scale, n_eval):
    # val swings +-35% from one evaluation to the next over a falling trend; train is smooth
    rng = np.random.default_rng(n_eval)
    e = np.arange(n_eval)
    trend = 0.3 + 0.7 * np.exp(-e / (n_eval / 4))
    val = trend * np.where(e % 2, 1.35, 1 / 1.35) * np.exp(rng.normal(0, 0.03, n_eval))
    train = 0.25 + 0.75 * np.exp(-e / (n_eval / 4))
    got = findings_of(cs(train=(e, scale * train), val=(e, scale * val)), "OSC001")
    assert got and got[0].curve == "val_loss"
    assert got[0].evidence["pattern"] == "validation-zig-zag"


@pytest.mark.parametrize("scale", SCALES)
def test_smooth_or_mildly_noisy_validation_is_not_oscillation(scale):
    rng = np.random.default_rng(5)
    e = np.arange(60)
    trend = 0.3 + 0.7 * np.exp(-e / 12)
    val = trend * np.exp(rng.normal(0, 0.03, 60))  # +-3% evaluation noise
    train = 0.25 + 0.75 * np.exp(-e / 12)
    assert kinds(cs(train=(e, scale * train), val=(e, scale * val))) == set()


def test_late_wiggles_of_a_converged_validation_loss_are_not_oscillation():
    # 2.3 -> 0.005, then +-20% wiggles: visible on a log scale only
    e = np.arange(60)
    trend = 0.005 + 2.3 * np.exp(-e / 4)
    val = trend * np.where(e > 30, np.where(e % 2, 1.2, 1 / 1.2), 1.0)
    train = 0.8 * trend
    assert "oscillation" not in kinds(cs(train=(e, train), val=(e, val)))


def test_one_spike_in_the_validation_loss_is_not_oscillation():
    e = np.arange(40)
    val = 0.3 + 0.7 * np.exp(-e / 8)
    val[20] *= 6
    train = 0.25 + 0.75 * np.exp(-e / 8)
    assert "oscillation" not in kinds(cs(train=(e, train), val=(e, val)))


@pytest.mark.parametrize("scale", SCALES)
def test_swinging_at_the_noise_floor_is_oscillation_not_plateau(scale):
    # falls to its floor (half the start), then swings +-40% around it for the rest of the run
    e = np.arange(60)
    trend = 0.5 + 0.5 * np.exp(-e / 3)
    swing = np.where(e > 8, np.where(e % 2, 1.4, 1 / 1.4), 1.0)
    val = trend * swing
    train = trend * 0.95 * np.exp(np.random.default_rng(2).normal(0, 0.02, 60))
    got = kinds(cs(train=(e, scale * train), val=(e, scale * val)))
    assert "oscillation" in got and "plateau" not in got


@pytest.mark.parametrize("level", [np.log(2), np.log(10), 0.37])
@pytest.mark.parametrize("blowup", [1e2, 1e4])
def test_stuck_after_a_blow_up_in_the_first_interval_is_a_plateau(level, blowup):
    rng = np.random.default_rng(3)
    e = np.arange(50)
    train = level * (1 + rng.normal(0, 2e-4, 50))
    train[0] = blowup * level
    got = findings_of(cs(train=(e, train), val=(e, train * 1.001)), "PLT001")
    assert got, "a loss that sits at one level after a first-interval blow-up is stuck"
    assert got[0].evidence.get("initial_transient_points") == 1


def test_fast_first_epoch_then_steady_progress_is_not_a_plateau():
    # raw-target regression: the first epoch's mean is 200x the second, then it keeps learning
    e = np.arange(40)
    train = 50 * np.exp(-e / 10) + 2.0
    train[0] = 1e4
    val = train[1:].min() * 1.1 + 50 * np.exp(-e / 10)
    assert "plateau" not in kinds(cs(train=(e, train), val=(e, val)))


def test_constant_to_several_digits_is_a_plateau():
    e = np.arange(80)
    train = np.r_[np.linspace(9.0, 4.2, 20), np.full(60, 4.1873)]
    assert "plateau" in kinds(cs(train=(e, train)))


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("ratio", [1e2, 1e6, 1e20])
def test_validation_blown_up_alone_is_divergence_not_overfitting(scale, ratio):
    e = np.arange(30)
    train = 0.2 + 0.8 * np.exp(-e / 6)
    val = 0.3 + 0.7 * np.exp(-e / 6)
    val[12:] *= ratio * np.exp(np.random.default_rng(1).normal(0, 0.2, 18))
    got = kinds(cs(train=(e, scale * train), val=(e, scale * val)))
    assert "divergence" in got and "overfitting" not in got


def test_gradual_overfitting_rise_is_not_divergence():
    e = np.arange(40)
    train = 0.05 + np.exp(-e / 6)
    val = 0.4 + 0.6 * np.exp(-e / 5) + np.maximum(0, e - 12) * 0.06  # 0.4 -> ~2.0, gradual
    got = kinds(cs(train=(e, train), val=(e, val)))
    assert got == {"overfitting"}


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("seed", range(4))
def test_mild_noisy_overfitting_is_found(scale, seed):
    # val bottoms out early, then sits ~40% higher with +-8% noise while train keeps falling
    rng = np.random.default_rng(seed)
    e = np.arange(30)
    base = 0.3 + 0.7 * np.exp(-e / 3)
    val = base * (1 + 0.4 * np.clip((e - 8) / 6, 0, 1)) * np.exp(rng.normal(0, 0.08, 30))
    train = 0.05 + 0.9 * np.exp(-e / 6)
    got = kinds(cs(train=(e, scale * train), val=(e, scale * val)))
    assert "overfitting" in got


def test_noisy_flat_validation_with_falling_train_is_not_overfitting():
    rng = np.random.default_rng(9)
    e = np.arange(30)
    val = (0.3 + 0.7 * np.exp(-e / 3)) * np.exp(rng.normal(0, 0.06, 30))
    train = 0.05 + 0.9 * np.exp(-e / 6)
    assert "overfitting" not in kinds(cs(train=(e, train), val=(e, val)))


def test_one_isolated_nan_is_not_divergence():
    e = np.arange(40)
    train = 0.1 + np.exp(-e / 8)
    train[17] = np.nan
    got = findings_of(cs(train=(e, train)), "DIV001")
    assert got and got[0].severity == "info" and got[0].evidence["isolated"]
    assert "divergence" not in kinds(cs(train=(e, train)))


def test_nan_that_persists_is_divergence():
    e = np.arange(40)
    train = 0.1 + np.exp(-e / 8)
    train[30:] = np.nan
    assert "divergence" in kinds(cs(train=(e, train)))


@pytest.mark.parametrize("tag", ["mae", "val_mae", "loss_mse", "huber_loss"])
def test_no_chance_level_for_regression_losses(tag):
    # an MAE that happens to sit at ln(76) = 4.33 has no chance level
    e = np.arange(40)
    v = np.full(40, np.log(76)) * (1 + np.random.default_rng(0).normal(0, 1e-3, 40))
    c = CurveSet(run="t", train=Curve.of(e, v, tag=tag))
    _, findings = analyze_curves(c)
    assert not any("ln(" in f.message for f in findings)


def test_chance_level_claimed_when_the_start_agrees():
    e = np.arange(40)
    v = np.log(10) * (1 + np.random.default_rng(0).normal(0, 5e-4, 40))
    got = findings_of(cs(train=(e, v)), "PLT001")
    assert got and got[0].evidence.get("chance_classes") == 10


def test_rising_val_loss_with_improving_metric_says_so_and_checkpoints_on_the_metric():
    e = np.arange(20)
    train = 0.05 + np.exp(-e / 4)
    val = 0.4 + 0.6 * np.exp(-e / 2) + np.maximum(0, e - 6) * 0.03
    acc = 0.6 + 0.06 * (1 - np.exp(-e / 8))
    got = findings_of(cs(train=(e, train), val=(e, val), val_metric=(e, acc)), "OVF001")
    assert got and "still improves" in got[0].message
    assert [r.id for r in got[0].remedies[:2]] == ["checkpoint-on-metric", "early-stopping"]
    assert "val_accuracy" in got[0].remedies[0].keras and "mode='max'" in got[0].remedies[0].keras


def test_rising_val_loss_with_falling_metric_keeps_early_stopping_first():
    e = np.arange(20)
    train = 0.05 + np.exp(-e / 4)
    val = 0.4 + 0.6 * np.exp(-e / 2) + np.maximum(0, e - 6) * 0.03
    acc = 0.7 - 0.004 * np.maximum(0, e - 6)
    got = findings_of(cs(train=(e, train), val=(e, val), val_metric=(e, acc)), "OVF001")
    assert got and got[0].remedies[0].id == "early-stopping"


def test_bouncing_adversarial_losses_are_oscillation():
    # a GAN: no training loss, generator and discriminator losses per batch; the generator's
    # loss swings by a factor ~2 between stretches of batches for most of the run
    rng = np.random.default_rng(4)
    n = 400
    b = np.arange(n)
    gen = (2.0 + 0.8 * np.sin(2 * np.pi * b / 40)) * np.exp(rng.normal(0, 0.3, n))
    disc = (0.8 - 0.3 * np.sin(2 * np.pi * b / 40)) * np.exp(rng.normal(0, 0.3, n))
    c = CurveSet(
        run="gan",
        other_losses=(
            Curve.of(b, gen, tag="Gen Loss", role="generator_loss"),
            Curve.of(b, disc, tag="Disc Loss", role="discriminator_loss"),
        ),
    )
    got = findings_of(c, "OSC001")
    assert got and got[0].evidence.get("adversarial") and got[0].curve == "Gen Loss"


def test_steady_adversarial_losses_are_not_oscillation():
    rng = np.random.default_rng(4)
    b = np.arange(400)
    gen = 2.0 * np.exp(rng.normal(0, 0.1, 400))
    disc = 0.7 * np.exp(rng.normal(0, 0.1, 400))
    c = CurveSet(
        run="gan",
        other_losses=(
            Curve.of(b, gen, tag="Gen Loss", role="generator_loss"),
            Curve.of(b, disc, tag="Disc Loss", role="discriminator_loss"),
        ),
    )
    assert findings_of(c, "OSC001") == []


def test_a_loss_climbing_hundreds_of_decades_does_not_break_the_rules():
    # a run that blows up to 1e300 and then NaN: every rule must still answer
    e = np.arange(20)
    train = np.r_[np.geomspace(1.0, 0.03, 6), np.geomspace(1.0, 1e300, 8), np.full(6, np.nan)]
    _, findings = analyze_curves(cs(train=(e, train), val=(e, train * 1.5)))
    assert not [f for f in findings if f.code == "CLI000"]
    assert "divergence" in {f.kind for f in findings}


@pytest.mark.parametrize("scale", SCALES)
def test_blow_up_then_stuck_far_above_the_best_is_divergence_and_plateau(scale):
    # 0.5 -> 0.014, a spike, then ~0.69 (ln 2) with noise for the rest of the run
    rng = np.random.default_rng(7)
    e = np.arange(60)
    train = np.r_[0.01 + 0.5 * np.exp(-np.arange(15) / 3), [150.0], np.full(44, 0.69)]
    train = train * np.exp(rng.normal(0, 0.05, 60))
    val = train * 1.1
    got = kinds(cs(train=(e, scale * train), val=(e, scale * val)))
    assert {"divergence", "plateau"} <= got
    p = findings_of(cs(train=(e, scale * train), val=(e, scale * val)), "PLT001")
    assert p[0].evidence["pattern"] == "stuck-after-blow-up"


def test_blow_up_that_recovers_is_not_a_plateau():
    e = np.arange(60)
    train = np.r_[
        0.01 + 0.5 * np.exp(-np.arange(15) / 3), [150.0], 0.6 * np.exp(-np.arange(44) / 5) + 0.02
    ]
    got = findings_of(cs(train=(e, train), val=(e, train * 1.1)), "PLT001")
    assert not got or got[0].evidence.get("pattern") != "stuck-after-blow-up"


def test_giving_back_all_progress_is_divergence_below_twice_the_best():
    # 1.9 -> ~1.1 (zig-zagging), then jumps to 2.34 (above its start) and stays: 1.9x its best
    e = np.arange(24)
    rng = np.random.default_rng(2)
    train = np.r_[1.9, 1.25 + 0.04 * np.where(np.arange(13) % 2, 1, -1), np.full(10, 2.34)]
    train = train * np.exp(rng.normal(0, 0.003, 24))
    got = findings_of(cs(train=(e, train)), "DIV002")
    assert got and got[0].evidence["ends_above_start"]


def test_a_loss_with_exact_zeros_still_has_ratios():
    # per-batch losses that are sometimes exactly 0, then a blow-up to ~0.7 that stays
    rng = np.random.default_rng(3)
    n = 600
    v = np.r_[
        0.5 * np.exp(-np.arange(200) / 30) + 0.03 * rng.random(200),
        0.7 + 0.05 * rng.normal(size=400),
    ]
    v[rng.choice(200, 20, replace=False) + 100] = 0.0
    got = findings_of(cs(train=(np.arange(n), v)), "DIV002")
    assert got, "a non-negative loss rising 10x above its best is an explosion"


def test_a_rise_that_starts_in_the_last_third_is_not_overfitting():
    # val falls for 80% of the run, then turns up 30%: too late to call (LABELS-SPEC)
    e = np.arange(50)
    train = 0.05 + np.exp(-e / 10)
    val = 0.3 + 0.7 * np.exp(-e / 10) + np.where(e > 40, (e - 40) * 0.012, 0)
    assert "overfitting" not in kinds(cs(train=(e, train), val=(e, val)))
    # the same rise after a minimum at 40% of the run is overfitting
    val2 = 0.3 + 0.7 * np.exp(-e / 5) + np.where(e > 20, (e - 20) * 0.006, 0)
    assert "overfitting" in kinds(cs(train=(e, train), val=(e, val2)))


def test_no_chance_claim_from_a_level_that_only_matches_some_large_class_count():
    e = np.arange(40)
    rng = np.random.default_rng(1)
    # 26 classes creeping from ln(26) to 3.16 (close to ln(24)), and an MSE sitting at 6.68
    for v in (np.linspace(3.27, 3.16, 40), np.full(40, 6.6808)):
        v = v * (1 + rng.normal(0, 1e-4, 40))
        _, findings = analyze_curves(CurveSet(run="t", train=Curve.of(e, v, tag="Loss/train")))
        assert not any("ln(" in f.message for f in findings), [f.message for f in findings]


def test_chance_claim_for_many_classes_when_the_run_declares_them():
    e = np.arange(40)
    v = np.log(26) * (1 + np.random.default_rng(1).normal(0, 1e-4, 40))
    c = CurveSet(run="t", train=Curve.of(e, v, tag="loss"), hparams={"num_classes": 26})
    got = findings_of(c, "PLT001")
    assert got and got[0].evidence.get("chance_classes") == 26


def test_declared_class_count_wins_over_the_start():
    # a 10-output model (verify writes num_classes from the model) whose loss starts and stays
    # at 2.197 = ln(9): the start alone would pin 9 classes; the run says 10, and 2.197 is not
    # ln(10) = 2.303 within 2%, so no chance level is claimed at all
    e = np.arange(40)
    v = np.log(9) * (1 + np.random.default_rng(2).normal(0, 1e-4, 40))
    c = CurveSet(run="t", train=Curve.of(e, v, tag="loss"), hparams={"num_classes": 10})
    _, findings = analyze_curves(c)
    assert not any("ln(9)" in f.message for f in findings), [f.message for f in findings]
    assert all(f.evidence.get("chance_classes") in (None, 10) for f in findings)
    # at ln(10) it is claimed, with the declared count
    c = CurveSet(
        run="t",
        train=Curve.of(e, v * np.log(10) / np.log(9), tag="loss"),
        hparams={"num_classes": 10},
    )
    assert findings_of(c, "PLT001")[0].evidence.get("chance_classes") == 10


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("train_after", ["zero", "normal"])
def test_validation_rising_tenfold_then_frozen_is_divergence_and_plateau(scale, train_after):
    # val 0.6 -> 0.45, then climbs 20x within a few evaluations and repeats one value to several
    # digits for the rest; the training loss reads 0, or goes on normally: the weights died
    rng = np.random.default_rng(4)
    e = np.arange(80)
    val = np.r_[0.6 - 0.15 * np.arange(6) / 5, [1.9, 3.0, 6.1, 8.4], np.full(70, 9.428)]
    val[10:] *= 1 + rng.normal(0, 2e-4, 70)
    train = 0.5 * np.exp(-e / 10) + 0.05
    if train_after == "zero":
        train[10:] = 0.0
    got = kinds(cs(train=(e, scale * train), val=(e, scale * val)))
    assert {"divergence", "plateau"} <= got and "overfitting" not in got
    (d,) = findings_of(cs(train=(e, scale * train), val=(e, scale * val)), "DIV002")
    assert d.evidence["pattern"] == "validation-frozen-after-blow-up"


def test_validation_rising_tenfold_and_still_creeping_is_overfitting():
    e = np.arange(100)
    train = 0.5 * np.exp(-e / 8) + 1e-4
    val = np.r_[0.1 - 0.07 * np.arange(10) / 9, 0.03 + 0.27 * (1 - np.exp(-np.arange(90) / 25))]
    got = kinds(cs(train=(e, train), val=(e, val)))
    assert "overfitting" in got and "divergence" not in got


@pytest.mark.parametrize("scale", SCALES)
def test_validation_dropping_back_to_its_best_between_spikes_is_oscillation(scale):
    # the validation loss keeps returning to ~1e-3 of its spikes: swings, not a blow-up
    rng = np.random.default_rng(5)
    e = np.arange(100)
    val = np.exp(rng.uniform(np.log(3e-4), np.log(0.7), 100))
    train = 0.5 * np.exp(-e / 15) + 0.01
    got = kinds(cs(train=(e, scale * train), val=(e, scale * val)))
    assert "oscillation" in got and "divergence" not in got


@pytest.mark.parametrize("scale", SCALES)
def test_swings_of_a_validation_loss_off_scale_from_the_start_are_still_judged(scale):
    # val 1e4x the training loss from its first evaluation (divergence), and it swings +-30%
    # from one evaluation to the next on its own scale: that is an oscillation as well
    e = np.arange(60)
    train = 2.0 * np.exp(-e / 10) + 0.01
    val = 5e4 * (1 + 0.3 * (-1.0) ** e) * (1 + 0.002 * e)
    got = kinds(cs(train=(e, scale * train), val=(e, scale * val)))
    assert {"divergence", "oscillation"} <= got


@pytest.mark.parametrize("scale", SCALES)
def test_training_swings_beside_a_validation_loss_wiggling_only_on_a_log_scale_are_noise(scale):
    # both fall 10x and converge; the training loss then swings +-35% from epoch to epoch while
    # the validation loss wiggles +-10% around a level a tenth of its start: on a linear plot
    # the validation loss is flat, so the weights are not swinging (LABELS-SPEC)
    rng = np.random.default_rng(8)
    e = np.arange(80)
    train = (0.05 + 0.66 * np.exp(-e / 6)) * np.exp(rng.normal(0, 0.35, e.size))
    val = (0.047 + 0.46 * np.exp(-e / 6)) * np.exp(rng.normal(0, 0.1, e.size))
    assert "oscillation" not in kinds(cs(train=(e, scale * train), val=(e, scale * val)))


@pytest.mark.parametrize("scale", SCALES)
def test_validation_and_training_rising_together_is_divergence_not_overfitting(scale):
    # a learning rate too high: after two epochs both losses jump; the validation loss stays ~5x
    # its first value (short of a blow-up by orders of magnitude) and the training loss settles
    # above where it started (LABELS-SPEC: the loss ends several times its first value; val and
    # train rising together is not overfitting)
    rng = np.random.default_rng(9)
    e = np.arange(40)
    train = np.r_[1.2, 0.9, 8.3, 4.1, 2.9, np.full(35, 2.32)] * np.exp(rng.normal(0, 0.01, 40))
    val = np.r_[1.1, 0.8, 9.6, 7.2, np.full(36, 6.3)] * np.exp(rng.normal(0, 0.05, 40))
    got = kinds(cs(train=(e, scale * train), val=(e, scale * val)))
    assert "divergence" in got and "overfitting" not in got
    (d,) = findings_of(cs(train=(e, scale * train), val=(e, scale * val)), "DIV002")
    assert d.evidence["pattern"] == "validation-and-training-rise"


def test_validation_rising_while_training_falls_is_overfitting_not_divergence():
    # the same validation curve beside a training loss that keeps falling: overfitting
    rng = np.random.default_rng(9)
    e = np.arange(40)
    train = 1.2 * np.exp(-e / 6) + 0.01
    val = np.r_[1.1, 0.8, 0.7, np.linspace(0.75, 1.4, 37)] * np.exp(rng.normal(0, 0.02, 40))
    got = kinds(cs(train=(e, train), val=(e, val)))
    assert "overfitting" in got and "divergence" not in got


@pytest.mark.parametrize("scale", SCALES)
def test_accuracy_collapsing_to_chance_while_the_loss_ends_above_its_start_is_divergence(scale):
    # a learning rate too high: accuracy 0.5 -> 0.09 (chance for 10 classes) and stays; the
    # validation loss rises from 1.44 to ~2.5 (1.7x its first value, short of "several times")
    # together with the training loss: the model gave back what it learned (LABELS-SPEC)
    rng = np.random.default_rng(10)
    e = np.arange(20)
    val = np.r_[1.44, 1.9, np.full(18, 2.5)] * np.exp(rng.normal(0, 0.01, 20))
    train = np.r_[2.07, 2.4, np.full(18, 2.5)] * np.exp(rng.normal(0, 0.01, 20))
    acc = np.r_[0.496, 0.3, np.full(18, 0.09)] + rng.normal(0, 0.005, 20)
    curves = cs(train=(e, scale * train), val=(e, scale * val), val_metric=(e, acc))
    assert "divergence" in kinds(curves)
    (d,) = findings_of(curves, "DIV002")
    assert d.evidence["pattern"] == "metric-collapse"


def test_accuracy_dropping_while_the_validation_loss_falls_is_not_divergence():
    # the metric halves but the validation loss keeps falling: the two disagree, no divergence
    e = np.arange(20)
    val = 1.0 * np.exp(-e / 10) + 0.5
    train = 1.1 * np.exp(-e / 8) + 0.4
    acc = np.r_[0.3, 0.25, np.full(18, 0.09)]
    got = kinds(cs(train=(e, train), val=(e, val), val_metric=(e, acc)))
    assert "divergence" not in got


def test_overfitting_that_costs_a_few_points_of_accuracy_is_not_divergence():
    e = np.arange(40)
    train = 1.2 * np.exp(-e / 6) + 0.01
    val = np.r_[1.1, 0.8, 0.6, np.linspace(0.55, 1.3, 37)]
    acc = np.r_[0.6, 0.8, 0.9, np.linspace(0.9, 0.86, 37)]
    got = kinds(cs(train=(e, train), val=(e, val), val_metric=(e, acc)))
    assert "overfitting" in got and "divergence" not in got


@pytest.mark.parametrize("per_eval", [5, 10, 50, 200])
def test_a_first_step_blow_up_then_chance_is_a_plateau_at_any_evaluation_cadence(per_eval):
    # a per-step training loss whose first step is 130x the rest, then at ln(10) (6% noise), with
    # the validation loss at ln(10) every `per_eval` steps: averaged to the evaluation cadence,
    # the first interval's mean was 14x the rest with 10 steps an interval and 1.6x with 200, so
    # the blow-up was found only at some cadences
    rng = np.random.default_rng(0)
    n_val = 20
    steps = np.arange(1, n_val * per_eval + 1, dtype=float)
    train = np.log(10) * np.exp(0.06 * rng.standard_normal(steps.size))
    train[0] = 300.0
    vs = steps[per_eval - 1 :: per_eval]
    val = np.log(10) * np.exp(0.02 * rng.standard_normal(vs.size))
    val[0] = 200.0
    got = findings_of(cs(train=(steps, train), val=(vs, val)), "PLT001")
    assert got, per_eval
    assert got[0].evidence.get("initial_transient_points") == 1
