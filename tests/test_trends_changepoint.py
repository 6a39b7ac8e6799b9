import numpy as np
import pytest

from analyzer.trends import change_points, pelt
from analyzer.trends import signals as sg
from analyzer.trends.changepoint import _cost_factory


def test_pelt_exact_on_clean_steps():
    y = np.r_[np.zeros(30), np.ones(30) * 5, np.ones(40) * 2]
    cost = _cost_factory(np.arange(100.0), y, "mean")
    assert pelt(cost, 100, penalty=1.0, min_size=3) == [30, 60]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    "n, per, noise", [(300, "epoch", 0.01), (40, "epoch", 0.02), (50_000, "iteration", 0.05)]
)
def test_lr_drop_found_as_large_jump(seed, n, per, noise):
    s, v, truth = sg.lr_step_decay(n=n, per=per, noise=noise, seed=seed)
    for model in ("linear", "mean"):
        c = change_points(s, v, model=model)
        big = [(st, j) for st, j in zip(c.steps, c.jump_sigmas, strict=True) if j < -20]
        assert big, (model, c.steps, c.jump_sigmas)
        spacing = (s[-1] - s[0]) / min(s.size, 1000)
        assert any(abs(st - truth["drop_step"]) <= 2 * spacing + 1 for st, _ in big)


def test_plateau_onset_is_a_kink_into_a_flat_segment():
    for seed in range(3):
        s, v, truth = sg.early_plateau(n=100, seed=seed)
        c = change_points(s, v)
        last = c.segments[-1]
        assert abs(last.slope) * (s[-1] - s[0]) < 0.01  # flat
        assert abs(last.start_step - truth["onset_step"]) <= 5


@pytest.mark.parametrize("model", ["linear", "mean"])
def test_pure_noise_gives_no_change_points(model):
    counts = [
        len(change_points(*sg.flat(n=n, seed=seed)[:2], model=model).steps)
        for n in (30, 100, 1000)
        for seed in range(20)
    ]
    assert np.mean(np.array(counts) > 0) <= 0.05


def test_spikes_and_quantised_values_do_not_create_change_points():
    rng = np.random.default_rng(1)
    v = 1.0 + rng.normal(0, 0.01, 300)
    v[[50, 150, 250]] += 1.0
    assert change_points(np.arange(300), v, model="mean").steps == ()
    s, q, _ = sg.quantized(n=300, seed=2)
    assert change_points(s, q).steps == ()


def test_segments_partition_the_curve_and_scale_invariance():
    s, v, _ = sg.lr_step_decay(n=300, seed=5)
    c = change_points(s, v)
    assert c.segments[0].start_index == 0 and c.segments[-1].end_index == c.n - 1
    for a, b in zip(c.segments[:-1], c.segments[1:], strict=True):
        assert b.start_index == a.end_index + 1
    for factor in (1e-6, 1e6):
        d = change_points(s, v * factor)
        assert d.steps == c.steps
        assert d.jump_sigmas == pytest.approx(c.jump_sigmas, rel=1e-6)


def test_short_input_flagged():
    c = change_points([1, 2, 3, 4, 5], [1.0, 1, 1, 0, 0])
    assert c.insufficient and c.reason and c.steps == ()
