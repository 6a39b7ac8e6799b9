import numpy as np

from analyzer.trends.schedule import cycle_bumps, lr_cycles


def _triangular(t, lo=0.02, hi=0.2, half=10):
    return lo + (hi - lo) * np.abs(((t / half) % 2) - 1)


def test_triangular_and_warm_restarts_are_cycles():
    t = np.arange(100)
    cyc = lr_cycles(t, _triangular(t))
    assert [(c.start, c.peak, c.end) for c in cyc[:2]] == [(10, 20, 30), (30, 40, 50)]
    assert len(cyc) == 4
    restarts = np.tile(0.01 * 0.5 * (1 + np.cos(np.pi * np.arange(25) / 25)) + 1e-5, 4)
    assert [(c.start, c.peak) for c in lr_cycles(t, restarts)] == [(24, 25), (49, 50), (74, 75)]


def test_constant_decaying_and_warmup_then_decay_schedules():
    t = np.arange(100)
    assert lr_cycles(t, np.full(100, 0.1)) == []
    assert lr_cycles(t, 0.1 * 0.97**t) == []
    warm = np.r_[np.linspace(1e-4, 1e-2, 10), 1e-2 * 0.5 * (1 + np.cos(np.pi * np.arange(90) / 90))]
    assert [(c.start, c.peak, c.end) for c in lr_cycles(t, warm + 1e-6)] == [(0, 9, 99)]


def test_noise_in_a_logged_rate_is_not_a_cycle_and_scale_does_not_matter():
    t = np.arange(200)
    rng = np.random.default_rng(0)
    noisy = 1e-3 * np.exp(rng.normal(0, 0.1, 200))  # wiggles of +-10%: never 2x up and down
    assert lr_cycles(t, noisy) == []
    for scale in (1e-6, 1.0, 1e3):
        assert len(lr_cycles(t, scale * _triangular(t))) == len(lr_cycles(t, _triangular(t)))


def test_cycle_bumps_are_rises_relative_to_the_start_of_each_cycle():
    t = np.arange(100)
    cyc = lr_cycles(t, _triangular(t))
    falling = np.exp(-t / 30)
    assert (cycle_bumps(t, falling, cyc) < 0).all()
    # +50% while the rate is near its peak (steps 18-22 of each 20): the highest point of a
    # cycle is 8 steps after its start
    bumpy = falling * (1 + 0.5 * ((t + 2) % 20 < 5))
    assert np.allclose(cycle_bumps(t, bumpy, cyc), 1.5 * np.exp(-8 / 30) - 1)
