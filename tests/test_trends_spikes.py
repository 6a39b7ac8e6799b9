import numpy as np
import pytest

from analyzer.trends import detect_spikes, spike_period
from analyzer.trends import signals as sg


@pytest.mark.parametrize("seed", range(3))
def test_epoch_boundary_spikes_found_periodic_and_recovered(seed):
    s, v, truth = sg.epoch_spikes(epochs=10, steps_per_epoch=200, seed=seed)
    r = detect_spikes(s, v)
    assert r.steps == truth["spike_steps"]
    assert r.periodic and r.period == pytest.approx(truth["period"], rel=0.01)
    assert r.recovered_fraction == 1.0
    assert all(sp.height > 0 and sp.width == 1 for sp in r.spikes)
    assert all(sp.height_sigma > 20 for sp in r.spikes)


@pytest.mark.parametrize(
    "maker",
    [
        lambda seed: sg.exp_decay(n=100, tau_fraction=0.03, noise=0.002, seed=seed),  # fast descent
        lambda seed: sg.exp_decay(n=50_000, per="iteration", noise=0.05, seed=seed),
        lambda seed: sg.lr_step_decay(n=300, seed=seed),
        lambda seed: sg.lr_step_decay(n=20_000, per="iteration", noise=0.05, seed=seed),
        lambda seed: sg.quantized(n=300, seed=seed),
        lambda seed: sg.early_plateau(n=100, seed=seed),
        lambda seed: sg.wide_range_decay(n=300, seed=seed),
        lambda seed: sg.oscillating_decay(n=400, seed=seed),
    ],
)
def test_no_spikes_on_clean_shapes(maker):
    for seed in range(3):
        s, v, _ = maker(seed)
        assert detect_spikes(s, v).count == 0


def test_fast_descent_in_linear_space_is_not_a_spike():
    # 2.3 -> 0.3 in a handful of points, then flat with tiny noise
    v = np.r_[2.3, 1.1, 0.6, 0.4, 0.32, 0.3 + np.random.default_rng(0).normal(0, 1e-4, 60)]
    assert detect_spikes(np.arange(v.size), v, space="linear").count == 0


def test_non_recovering_jump_and_direction():
    rng = np.random.default_rng(1)
    v = 1.0 + rng.normal(0, 0.01, 200)
    v[100] += 0.5  # up spike that recovers
    v[150] -= 0.5  # down spike
    r = detect_spikes(np.arange(200), v)
    assert r.steps == [100.0, 150.0]
    assert [sp.recovered for sp in r.spikes] == [True, True]
    assert detect_spikes(np.arange(200), v, direction="up").steps == [100.0]
    assert detect_spikes(np.arange(200), v, direction="down").steps == [150.0]
    # a spike right before the curve moves to a new, higher level does not recover
    w = 1.0 + rng.normal(0, 0.01, 200)
    w[120] += 0.8
    w[121:] += 0.4
    r = detect_spikes(np.arange(200), w, max_width=1)
    hit = [sp for sp in r.spikes if sp.step == 120.0]
    assert hit and hit[0].recovered is False


def test_spike_at_the_end_has_unknown_recovery():
    rng = np.random.default_rng(2)
    v = 1.0 + rng.normal(0, 0.01, 100)
    v[98] += 1.0
    r = detect_spikes(np.arange(100), v)
    assert r.steps == [98.0] and r.spikes[0].recovered is None


def test_wide_excursions_are_not_spikes():
    rng = np.random.default_rng(3)
    v = 1.0 + rng.normal(0, 0.01, 200)
    v[80:90] += 0.5
    assert detect_spikes(np.arange(200), v, max_width=3).count == 0


def test_spike_heights_scale_free():
    s, v, _ = sg.epoch_spikes(seed=4)
    a = detect_spikes(s, v)
    for factor in (1e-6, 1e6):
        b = detect_spikes(s, v * factor)
        assert b.steps == a.steps
        assert [x.height_rel_level for x in b.spikes] == pytest.approx(
            [x.height_rel_level for x in a.spikes], rel=1e-6
        )


def test_spike_period_allows_missed_spikes_and_rejects_irregular():
    assert spike_period([100, 200, 300, 500, 600, 700]) == pytest.approx(100)
    assert spike_period([100, 130, 300, 310, 600]) is None
    assert spike_period([100, 200]) is None


def test_short_input_flagged():
    r = detect_spikes([1, 2, 3], [1.0, 5.0, 1.0])
    assert r.insufficient and r.count == 0 and r.reason
