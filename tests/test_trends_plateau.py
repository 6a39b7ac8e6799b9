import numpy as np
import pytest

from analyzer.trends import plateau_evidence
from analyzer.trends import signals as sg


@pytest.mark.parametrize("seed", range(3))
def test_early_plateau_flat_since_onset(seed):
    s, v, truth = sg.early_plateau(n=100, seed=seed)
    p = plateau_evidence(s, v)
    assert p.flat_since_step == pytest.approx(truth["onset_step"], abs=5)
    assert p.flat_fraction > 0.85
    assert p.covered_before_window > 0.95
    assert abs(p.rate_rel_total) < 0.1
    assert p.window_trend.direction == "none"
    assert p.total_improvement_sigma > 20


def test_still_improving_curve_is_not_flat():
    s, v, truth = sg.linear_trend(n=100, intercept=2.0, slope=-0.005, noise=0.01, seed=1)
    p = plateau_evidence(s, v)
    assert p.flat_fraction < 0.1
    # rate over one full run length equals the true total drop: ratio ~1
    assert p.improvement_rate == pytest.approx(0.005 * 99, rel=0.15)
    assert p.rate_low <= 0.005 * 99 <= p.rate_high
    assert p.rate_rel_total == pytest.approx(1.0, rel=0.2)
    assert p.covered_before_window == pytest.approx(0.75, abs=0.1)
    assert p.window_trend.direction == "decreasing"


def test_flat_from_start_is_flat_everywhere_mostly():
    fracs = [plateau_evidence(*sg.flat(n=100, seed=seed)[:2]).flat_fraction for seed in range(30)]
    assert np.median(fracs) == 1.0
    assert np.mean(np.array(fracs) > 0.5) >= 0.8


def test_max_mode_and_log_space():
    s, v, _ = sg.exp_decay(n=80, start=0.1, asymptote=0.9, noise=0.005, seed=2)
    p = plateau_evidence(s, v, mode="max")
    assert p.total_improvement > 0.7
    s, v, truth = sg.wide_range_decay(n=300, seed=3)
    p = plateau_evidence(s, v)
    assert p.log_space
    assert p.improvement_rate == pytest.approx(truth["decades"], rel=0.1)  # decades per run
    assert p.rate_rel_level > 0.999
    assert p.flat_fraction < 0.05


def test_quantised_flat_line():
    s, v, _ = sg.quantized(n=200, seed=4)
    p = plateau_evidence(s, v)
    assert p.flat_fraction == 1.0
    assert p.improvement_rate == 0.0


@pytest.mark.parametrize("factor", [1e-6, 1e6])
def test_scale_invariance(factor):
    s, v, _ = sg.exp_decay(n=100, tau_fraction=0.4, noise=0.005, seed=5)
    a = plateau_evidence(s, v)
    b = plateau_evidence(s, v * factor)
    assert b.rate_rel_total == pytest.approx(a.rate_rel_total, rel=1e-6)
    assert b.rate_rel_level == pytest.approx(a.rate_rel_level, rel=1e-6)
    assert b.flat_since_step == a.flat_since_step
    assert b.covered_before_window == pytest.approx(a.covered_before_window, rel=1e-6)


def test_short_input_flagged():
    p = plateau_evidence([1, 2, 3], [1.0, 0.9, 0.9])
    assert p.insufficient and p.reason and p.window_slope.insufficient
    with pytest.raises(ValueError):
        plateau_evidence([1, 2, 3], [1.0, 0.9, 0.9], mode="auto")
