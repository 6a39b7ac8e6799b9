import dataclasses
import importlib

import numpy as np
import pytest

from analyzer.trends import oscillation
from analyzer.trends.oscillation import gls_power
from tests import signals as sg

# the module (the package exports its function of the same name)
oscillation_module = importlib.import_module("analyzer.trends.oscillation")


def test_gls_power_matches_scipy():
    from scipy.signal import lombscargle

    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 100, 300))
    y = np.sin(x) + rng.normal(0, 1, 300)
    f = np.linspace(0.01, 1, 400)
    ref = lombscargle(x, y, 2 * np.pi * f, normalize=True, floating_mean=True)
    np.testing.assert_allclose(gls_power(x, y, f), ref, atol=1e-10)


@pytest.mark.parametrize("n, nf", [(1000, 2000), (300, 400), (37, 200)])
def test_gls_power_grid_sums_match_direct_evaluation(n, nf):
    """On an evenly spaced frequency grid the sums come from angle-addition tables; they must
    agree with the cosines and sines evaluated one by one (the chunked path any other grid
    takes: the same grid with one frequency nudged off it), also at the large arguments of a
    long curve with uneven steps."""
    rng = np.random.default_rng(n)
    x = np.cumsum(rng.uniform(1.0, 30.0, n))  # steps up to ~15,000
    y = np.sin(2 * np.pi * x / 700.0) + rng.normal(0, 1, n)
    f = np.linspace(1 / (0.3 * x[-1]), 1 / 40.0, nf)
    nudged = f.copy()
    nudged[nf // 2] *= 1 + 1e-6  # off the grid: evaluated directly
    assert oscillation_module._even_step(f) > 0 and oscillation_module._even_step(nudged) == 0
    grid, direct = gls_power(x, y, f), gls_power(x, y, nudged)
    keep = np.arange(nf) != nf // 2
    np.testing.assert_allclose(grid[keep], direct[keep], rtol=0, atol=1e-12)
    assert np.argmax(grid) == np.argmax(direct)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    "n, period, amplitude, noise, per",
    [
        (400, 40.0, 0.1, 0.01, "epoch"),
        (60, 8.0, 0.05, 0.01, "epoch"),
        (20_000, 1500.0, 0.05, 0.05, "iteration"),
    ],
)
def test_period_and_amplitude_recovered(seed, n, period, amplitude, noise, per):
    s, v, truth = sg.oscillating_decay(
        n=n, period=period, amplitude=amplitude, noise=noise, per=per, seed=seed
    )
    o = oscillation(s, v)
    assert o.periodic
    assert o.period == pytest.approx(truth["period"], rel=0.1)
    assert o.sine_amplitude == pytest.approx(truth["amplitude"], rel=0.3)
    assert o.amplitude == pytest.approx(truth["amplitude"], rel=0.3)
    assert o.false_alarm < 1e-6
    assert o.n_cycles >= 2


def test_uneven_steps():
    s, v, truth = sg.oscillating_decay(n=600, period=40.0, amplitude=0.1, seed=4)
    keep = np.sort(np.random.default_rng(4).choice(s.size, 300, replace=False))
    o = oscillation(s[keep], v[keep])
    assert o.periodic and o.period == pytest.approx(40.0, rel=0.1)


@pytest.mark.parametrize(
    "maker",
    [
        lambda seed: sg.flat(n=200, seed=seed),
        lambda seed: sg.exp_decay(n=200, seed=seed),
        lambda seed: sg.lr_step_decay(n=200, seed=seed),
        lambda seed: sg.early_plateau(n=200, seed=seed),
    ],
)
def test_no_false_periodicity(maker):
    hits = [oscillation(*maker(seed)[:2]).periodic for seed in range(15)]
    assert sum(hits) <= 1


def test_relative_amplitude_and_scale_invariance():
    s, v, truth = sg.oscillating_decay(
        n=400, start=2.3, asymptote=0.5, period=40.0, amplitude=0.1, seed=5
    )
    a = oscillation(s, v)
    # semi-amplitude 0.1 against a total drop of about 1.8
    assert a.amplitude_rel_drop == pytest.approx(0.1 / 1.8, rel=0.3)
    assert a.amplitude_rel_level == pytest.approx(0.1 / 0.5, rel=0.3)
    for factor in (1e-6, 1e6):
        b = oscillation(s, v * factor)
        assert b.period == pytest.approx(a.period, rel=1e-9)
        assert b.amplitude_rel_drop == pytest.approx(a.amplitude_rel_drop, rel=1e-6)
        assert b.amplitude_rel_level == pytest.approx(a.amplitude_rel_level, rel=1e-6)


def test_shrinking_amplitude_detected():
    t = np.arange(600.0)
    rng = np.random.default_rng(6)
    v = 1.0 + 0.2 * np.exp(-t / 200) * np.sin(2 * np.pi * t / 30) + rng.normal(0, 0.002, t.size)
    o = oscillation(t, v)
    assert o.periodic
    assert o.amplitude_ratio_late_early < 0.3
    assert o.amplitude_trend_tau < 0


def test_texture_numbers_separate_swings_from_noise():
    s, v, _ = sg.oscillating_decay(n=400, period=40.0, amplitude=0.1, noise=0.005, seed=7)
    swing = oscillation(s, v)
    s2, v2, _ = sg.flat(n=400, seed=7)
    noise = oscillation(s2, v2)
    assert swing.lag1_autocorr > 0.8
    assert abs(noise.lag1_autocorr) < 0.3
    # a smooth monotone descent never changes slope sign; a swing of period 40 does ~1/20 per point
    s3, v3, _ = sg.exp_decay(n=400, noise=0.0001, seed=7)
    assert oscillation(s3, v3).sign_change_rate < 0.01
    assert swing.sign_change_rate == pytest.approx(2 / 40, rel=0.5)


def test_short_and_constant_inputs_are_flagged():
    o = oscillation([1, 2, 3, 4], [1.0, 2.0, 1.0, 2.0])
    assert o.insufficient and o.reason and o.period is None
    c = oscillation(np.arange(50), np.full(50, 0.7))
    assert not c.periodic and c.amplitude == 0.0


def test_swing_episode_finds_where_a_curve_swings():
    from analyzer.trends import swing_episode

    t = np.arange(300, dtype=float)
    base = 0.2 + 2.0 * np.exp(-t / 30)
    swing = np.where((t >= 90) & (t < 240), 0.3, 0.0) * np.sin(2 * np.pi * t / 12)
    ep = swing_episode(t, base * np.exp(swing), min_amplitude=0.15)
    assert ep is not None and not ep.at_end
    assert abs(ep.start - 90) <= 15 and abs(ep.end - 240) <= 15
    assert abs(ep.fraction - 150 / 299) <= 0.1
    # 1.645 robust sigmas of a sinusoid of 0.3 (natural log): 1.72 * 0.3 -> e^0.52 - 1 = 0.68
    assert 0.4 <= ep.amplitude_rel_level <= 0.8
    # to the end
    late = np.where(t >= 150, 0.3, 0.0) * np.sin(2 * np.pi * t / 12)
    ep = swing_episode(t, base * np.exp(late), min_amplitude=0.15)
    assert ep is not None and ep.at_end and abs(ep.start - 150) <= 15
    # a clean decay and a smaller swing have no episode
    assert swing_episode(t, base, min_amplitude=0.15) is None
    assert swing_episode(t, base * np.exp(0.05 * np.sin(t)), min_amplitude=0.15) is None
    assert swing_episode(t[:5], base[:5], min_amplitude=0.15) is None


@pytest.mark.parametrize("n", [40, 55, 56, 57, 110, 121])
def test_perfect_zigzag_is_measured_whatever_its_length(n):
    # a rolling median alone follows one side of a period-2 zig-zag for half of the window sizes
    t = np.arange(n, dtype=float)
    v = 1.0 + 0.2 * (-1.0) ** t
    o = oscillation(t, v, min_points=8)
    assert o.amplitude == pytest.approx(0.2, rel=0.1)
    assert o.lag1_autocorr < -0.8


def test_swing_episode_is_not_split_by_a_short_lull():
    from analyzer.trends import swing_episode

    t = np.arange(200, dtype=float)
    rng = np.random.default_rng(0)
    on = (t < 60) | ((t >= 66) & (t < 140))
    ep = swing_episode(t, np.exp(0.4 * rng.normal(size=200) * on), min_amplitude=0.15)
    assert ep is not None and ep.start <= 10 and 125 <= ep.end <= 140


def test_cadence_swings_long_windows_one_at_a_time_give_the_same_numbers(monkeypatch):
    """Windows of ``_WINDOW_LOOP`` points or more are measured one by one instead of from one
    copy of all of them: the result must be the same as the copying way."""
    rng = np.random.default_rng(5)
    n = 40_000  # windows of 10,000 points
    steps = np.arange(n)
    values = np.exp(-steps / 8000.0) * (1 + 0.1 * np.abs(rng.normal(size=n))) + 0.05
    looped = oscillation_module.cadence_swings(steps, values, strong=0.2)
    monkeypatch.setattr(oscillation_module, "_WINDOW_LOOP", 10**9)
    copied = oscillation_module.cadence_swings(steps, values, strong=0.2)
    assert looped is not None and looped == copied


def _same(a, b) -> bool:
    """Equal, or both NaN (a float compared bit for bit would also tell -0.0 from 0.0)."""
    if isinstance(a, float) and isinstance(b, float):
        return (a == b and np.signbit(a) == np.signbit(b)) or (np.isnan(a) and np.isnan(b))
    return a == b


@pytest.mark.parametrize(
    "make",
    [
        lambda: sg.oscillating_decay(n=400, period=40.0, amplitude=0.1, noise=0.01, seed=1)[:2],
        lambda: sg.oscillating_decay(n=60, period=8.0, amplitude=0.05, noise=0.01, seed=2)[:2],
        lambda: sg.exp_decay(n=300, noise=0.05, seed=3)[:2],
        lambda: sg.wide_range_decay(seed=4)[:2],
        # not positive: linear space, where the level comes from the smooth
        lambda: (np.arange(200.0), np.sin(np.arange(200) / 3.0) - 0.2 * np.arange(200) / 50),
        lambda: (np.arange(200.0), np.sin(np.arange(200) / 3.0) + 2.0),  # positive, one decade
        lambda: (np.arange(9.0), np.arange(9.0) + 1.0),  # too short
    ],
)
@pytest.mark.parametrize("space", ["auto", "log", "linear"])
def test_swings_are_oscillations_measures(make, space):
    """swings() skips what only oscillation()'s other fields need: every field it has is the
    very number oscillation() gives for the same call."""
    s, v = make()
    o = oscillation(s, v, space=space, min_points=10)
    w = oscillation_module.swings(s, v, space=space, min_points=10)
    for f in dataclasses.fields(w):
        assert _same(getattr(w, f.name), getattr(o, f.name)), f.name


def _swings_bits(o):
    return tuple(
        np.float64(f).tobytes() if isinstance(f, float) else f for f in dataclasses.astuple(o)
    )


@pytest.mark.parametrize("space", ["log", "linear", "auto"])
def test_swings_of_a_clean_curve_in_a_fixed_space_are_those_through_prepare(space, monkeypatch):
    """swings takes a clean curve's steps and working values without a whole Prepared when the
    caller fixes the space; the reference is the old way (prepare for every curve), forced by
    making prep.working give up."""
    osc = importlib.import_module("analyzer.trends.oscillation")
    rng = np.random.default_rng(21)
    cases = []
    for n in (1, 5, 6, 12, 13, 40, 300, 2500):
        s = np.arange(n, dtype=float) * 10.0
        t = np.arange(n)
        cases += [
            (s, 1.0 + 0.5 * np.exp(-t / 30) + 0.05 * np.sin(t * 1.3) + rng.normal(0, 0.01, n)),
            (s, 10.0 ** -np.linspace(0, 4, n) * (1 + 0.2 * np.sin(t))),  # decades: auto is log
            (s, np.round(rng.normal(0.5, 0.1, n), 1)),  # ties, maybe <= 0: log falls back
            (s, np.full(n, 0.3)),  # constant
            (s, np.where(t % 2 == 0, 0.0, -0.0) + 1e-300 * (t % 3)),  # zeros of both signs
            (np.arange(n), rng.normal(0, 1e200, n)),  # integer steps, huge values
        ]
        if n >= 3:
            v = 1.0 + rng.normal(0, 0.1, n)
            v[n // 2] = np.nan  # not clean: prepare either way
            cases.append((s, v))
    got = []
    with np.errstate(all="ignore"):
        for s, v in cases:
            osc.swings.cache_clear()
            got.append(_swings_bits(osc.swings(s, v, space=space, min_points=6)))
        monkeypatch.setattr(osc, "working", lambda *a: None)
        for (s, v), g in zip(cases, got, strict=True):
            osc.swings.cache_clear()
            want = _swings_bits(osc.swings(s, v, space=space, min_points=6))
            assert g == want, (s.size, space)
    osc.swings.cache_clear()
