import numpy as np

from rules import oscillation
from tests import signals

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


def _bouncing_then_collapse(n=60, until=0.6, seed=0):
    """Per-epoch training loss that bounces irregularly by a factor ~3 for the first ``until``
    of the run, then collapses smoothly by decades (a model that finally memorises)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    k = int(until * n)
    bounce = 0.3 * np.exp(rng.normal(0, 0.7, k))
    after = bounce[-1] * np.exp(-np.arange(1, n - k + 1) / 3.0)
    return t, np.r_[bounce, after], k


def test_swings_for_most_of_the_run_then_collapse_is_an_episode():
    t, v, k = _bouncing_then_collapse()
    f = oscillation.check(cs(train=(t, v)))
    assert [x.code for x in f] == ["OSC001"]
    ev = f[0].evidence
    assert 0.45 <= ev["episode_fraction"] <= 0.65
    assert f[0].start_step <= 10 and k - 8 <= f[0].end_step <= k + 2
    assert "until step" in f[0].message


def test_short_early_instability_is_not_an_episode():
    t, v, _ = _bouncing_then_collapse(until=0.25)
    assert oscillation.check(cs(train=(t, v))) == []


def test_log_space_wiggles_at_a_negligible_level_are_not_oscillation():
    # a loss that fell five decades wiggles by a factor of 3 around 1e-4: invisible on the
    # loss's own scale, and the validation loss is smooth
    t = np.arange(150)
    v = np.exp(-t / 12.0) * np.exp(0.6 * np.sin(2 * np.pi * t / 15))
    val = 0.7 + 0.004 * t
    assert oscillation.check(cs(train=(t, v), val=(t, val))) == []


def test_sampling_noise_of_interval_means_is_not_oscillation():
    # per-iteration loss, heavy-tailed minibatch noise, only a few logged points per epoch:
    # the epoch means jump around, but no more than an average of 6 such samples does
    rng = np.random.default_rng(7)
    per_epoch, epochs = 6, 40
    s = np.arange(per_epoch * epochs)
    v = 0.3 * np.exp(rng.normal(0, 1.2, s.size))
    vs = np.arange(per_epoch - 1, s.size, per_epoch)
    val = 0.35 * np.exp(rng.normal(0, 0.05, vs.size))
    assert oscillation.check(cs(train=(s, v), val=(vs, val))) == []
    # the same epoch means logged once per epoch (nothing to average), with no validation loss
    # to say otherwise, swing for real
    ok = oscillation.check(cs(train=(vs, v.reshape(epochs, per_epoch).mean(1))))
    assert [x.code for x in ok] == ["OSC001"]
    # ... but beside a calm validation loss they are not the weights swinging (LABELS-SPEC)
    means = v.reshape(epochs, per_epoch).mean(1)
    assert oscillation.check(cs(train=(vs, means), val=(vs, val))) == []


def test_epoch_means_standard_error():
    from rules._common import epoch_means

    from .helpers import curve

    s = np.arange(12)
    v = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], dtype=float)
    es, m, se = epoch_means(curve(s, v), curve([3, 7, 11], [1.0, 1.0, 1.0]))
    assert list(es) == [3, 7, 11] and np.allclose(m, [2.5, 6.5, 10.5])
    # sd of (1,2,3,4) is 1.29, over sqrt(4), relative to the mean
    assert np.allclose(se, np.std([1, 2, 3, 4], ddof=1) / 2 / m)
    # logged at the evaluation cadence: nothing averaged, no sampling error
    assert epoch_means(curve(s, v), curve(s, v))[2] is None


def test_swings_as_a_run_blows_up_are_part_of_the_divergence():
    from analyzer.engine import analyze_curves

    # calm descent, then swings that grow as the loss climbs away: the run-up of a divergence
    t = np.arange(120)
    trend = np.where(t < 60, 1.0 * np.exp(-t / 15), np.exp(-4) * np.exp((t - 60) / 8.0))
    v = trend * (1 + np.where(t < 60, 0.0, 0.3) * (-1) ** t)
    _, findings = analyze_curves(cs(train=(t, v)))
    kinds = {f.kind for f in findings if f.severity != "info"}
    assert "divergence" in kinds and "oscillation" not in kinds
    # on its own, the rule does see the zig-zag
    assert [f.code for f in oscillation.check(cs(train=(t, v)))] == ["OSC001"]


def test_swings_long_before_a_divergence_are_judged_on_that_part():
    from analyzer.engine import analyze_curves

    # LABELS-SPEC: the other kinds are judged on the part before the divergence when it is long
    # enough: a steady zig-zag for 90% of the run, then NaN, is an oscillation and a divergence
    t = np.arange(120)
    v = (0.5 + np.exp(-t / 10)) * (1 + 0.3 * (-1) ** t)
    v[110:] = np.nan
    _, findings = analyze_curves(cs(train=(t, v)))
    assert {f.code for f in findings if f.severity != "info"} == {"DIV001", "OSC001"}
    osc = next(f for f in findings if f.code == "OSC001")
    assert osc.end_step < 110 and osc.evidence["judged_before_step"] == 110
    assert osc.message.endswith("(before the divergence at step 110)")
    # the same swings when the run turns NaN a third of the way in: too short a part to judge
    # on its own (the swings are the run-up to the divergence)
    w = v.copy()
    w[40:] = np.nan
    _, findings = analyze_curves(cs(train=(t, w)))
    assert {f.code for f in findings if f.severity != "info"} == {"DIV001"}
    assert [f.code for f in oscillation.check(cs(train=(t, w)))] == ["OSC001"]


def test_short_noisy_zigzag_is_named_a_zigzag():
    rng = np.random.default_rng(1)
    e = np.arange(30)
    train = 0.6 + 0.15 * (-1.0) ** e + 0.05 * rng.normal(size=30)
    val = 0.7 + 0.12 * (-1.0) ** (e + 1) + 0.05 * rng.normal(size=30)
    f = oscillation.check(cs(train=(e, train), val=(e, val)))
    assert [x.code for x in f] == ["OSC001"] and f[0].evidence["pattern"] == "zig-zag"
    assert f[0].evidence["period"] == 2.0


def test_dcgan_losses_swinging_are_the_runs_oscillation():
    """Loss_D / Loss_G (DCGAN names): no training loss; the players' bouncing is reported."""
    import pandas as pd

    from analyzer.roles import assign_roles
    from analyzer.runs import Run

    rng = np.random.default_rng(3)
    n = 400
    steps = np.arange(n)
    g = 2.5 + 1.5 * np.sin(steps / 6.0) * (1 + 0.3 * rng.standard_normal(n)) + 0.1
    d = 0.6 + 0.5 * np.cos(steps / 6.0) * (1 + 0.3 * rng.standard_normal(n)) + 0.1
    frame = pd.concat(
        [
            pd.DataFrame({"run": "gan", "tag": t, "step": steps, "value": v, "wall_time": 0.0})
            for t, v in (("Loss_G", np.abs(g)), ("Loss_D", np.abs(d)))
        ]
    )
    run = Run("gan", "csv", [], frame, assign_roles({"Loss_G": n, "Loss_D": n}))
    curves = run.curve_set()
    assert curves.train is None
    assert {c.role for c in curves.other_losses} == {"generator_loss", "discriminator_loss"}
    found = oscillation.check(curves)
    assert found and found[0].evidence.get("adversarial")


def _cyclic_run(bump: float, n: int = 60, floor: float = 0.05):
    """Triangular learning rate 0.002-0.02 (period 12 evaluations); a validation loss that
    falls from 1.0 towards ``floor`` and climbs by ``bump`` of its level near every peak."""
    t = np.arange(n)
    lr = 0.002 + 0.018 * np.abs(((t / 6) % 2) - 1)
    near_peak = (t + 1) % 12 < 3
    val = (floor + (1.0 - floor) * np.exp(-t / 8)) * (1 + bump * near_peak)
    train = 0.9 * (floor + (1.0 - floor) * np.exp(-t / 8))
    return cs(train=(t, train), val=(t, val), lr=(t, lr))


def test_val_loss_climbing_with_a_cyclic_learning_rate_is_oscillation():
    f = oscillation.check(_cyclic_run(0.4, floor=0.3))
    assert [(x.code, x.evidence["pattern"]) for x in f] == [("OSC001", "lr-cycle-swings")]
    assert f[0].evidence["lr_cycles_with_bump"] >= 2
    assert "cyclic learning rate" in f[0].message


def test_cyclic_learning_rate_without_swings_or_with_invisible_ones_is_not_oscillation():
    # the validation loss falls straight through every raise of the rate
    assert oscillation.check(_cyclic_run(0.0, floor=0.3)) == []
    # +20% bumps of a loss that converged to 2% of its start: only a log plot shows them
    assert oscillation.check(_cyclic_run(0.2, floor=0.02)) == []


def test_scatter_of_a_flat_validation_loss_under_a_cyclic_rate_is_not_oscillation():
    # +-5% and +-10% scatter: the highest of each cycle's points over the one before it climbs
    # by 10-25% on noise alone; the climbs must beat the curve's own scatter
    t = np.arange(60)
    lr = 0.002 + 0.018 * np.abs(((t / 5) % 2) - 1)
    for noise in (0.05, 0.1):
        for seed in range(20):
            val = 0.5 * np.exp(np.random.default_rng(seed).normal(0, noise, 60))
            run = cs(train=(t, np.linspace(0.6, 0.4, 60)), val=(t, val), lr=(t, lr))
            assert oscillation.check(run) == [], (noise, seed)
