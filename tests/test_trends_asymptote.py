import numpy as np
import pytest

from analyzer.trends import fit_asymptote
from tests import signals as sg


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    "n, per, noise", [(40, "epoch", 0.02), (200, "epoch", 0.01), (20_000, "iteration", 0.05)]
)
def test_exponential_asymptote_recovered(seed, n, per, noise):
    s, v, truth = sg.exp_decay(n=n, per=per, noise=noise, seed=seed)
    f = fit_asymptote(s, v)
    assert f.credible, f.reasons
    assert f.model == "exp"
    assert f.asymptote == pytest.approx(truth["asymptote"], abs=0.01)
    assert (
        f.asymptote_low <= truth["asymptote"] <= f.asymptote_high
        or abs(f.asymptote - truth["asymptote"]) < 3 * truth["sigma"]
    )
    assert f.direction == "decreasing"
    assert f.r2 > 0.99
    assert abs(f.remaining_rel_drop) < 0.02  # converged: nothing left to gain


def test_power_law_chosen_for_power_law_data():
    t = np.arange(1, 301, dtype=float)
    rng = np.random.default_rng(0)
    v = 0.5 + 3.0 * (t / 300 + 0.02) ** -0.7 * 0.1 + rng.normal(0, 0.002, t.size)
    f = fit_asymptote(t, v)
    assert f.model == "power"
    assert f.aic_power < f.aic_exp


def test_unfinished_decay_reports_remaining_improvement():
    # tau = 60% of the run: the curve is still clearly bending, with ~20% of the drop left.
    s, v, truth = sg.exp_decay(
        n=100, start=2.3, asymptote=0.3, tau_fraction=0.6, noise=0.002, seed=1
    )
    f = fit_asymptote(s, v, models=("exp",))
    expected_left = truth["final_value"] - truth["asymptote"]
    assert f.remaining == pytest.approx(expected_left, rel=0.3)
    drop = 2.3 - truth["final_value"]
    assert f.remaining_rel_drop == pytest.approx(expected_left / drop, rel=0.3)
    assert f.remaining_rel_level == pytest.approx(expected_left / truth["final_value"], rel=0.3)
    pred = f.predict(s)
    assert np.max(np.abs(pred - (v - 0))) < 0.02


def test_increasing_curve_supported():
    s, v, truth = sg.exp_decay(n=80, start=0.1, asymptote=0.9, noise=0.01, seed=2)
    f = fit_asymptote(s, v)
    assert f.direction == "increasing"
    assert f.asymptote == pytest.approx(0.9, abs=0.01)
    assert f.credible


@pytest.mark.parametrize(
    "maker",
    [
        lambda: sg.wide_range_decay(n=300, seed=0),  # straight in log space: no floor in sight
        lambda: sg.linear_trend(n=100, slope=-0.005, noise=0.01, seed=0),
    ],
)
def test_extrapolations_are_not_credible(maker):
    s, v, _ = maker()
    f = fit_asymptote(s, v)
    assert not f.credible
    assert f.reasons


def test_lr_step_is_a_systematic_misfit():
    s, v, _ = sg.lr_step_decay(n=300, seed=0)
    f = fit_asymptote(s, v)
    assert not f.credible
    assert any("misfit" in r or "poor" in r for r in f.reasons)


def test_flat_and_short_inputs_are_flagged_not_raised():
    s, v, _ = sg.flat(n=100, seed=0)
    f = fit_asymptote(s, v)
    assert f.model is None and not f.credible and f.direction == "flat"
    short = fit_asymptote([1, 2, 3], [3.0, 2.0, 1.5])
    assert short.insufficient and short.reason
    assert np.isnan(short.predict(np.array([1.0]))).all()
    nan = fit_asymptote(np.arange(10), np.full(10, np.nan))
    assert nan.insufficient


@pytest.mark.parametrize("factor", [1e-6, 1e6])
def test_scale_invariance(factor):
    s, v, _ = sg.exp_decay(n=60, tau_fraction=0.5, noise=0.01, seed=3)
    a = fit_asymptote(s, v)
    b = fit_asymptote(s, v * factor)
    assert b.asymptote == pytest.approx(a.asymptote * factor, rel=1e-4)
    assert b.remaining_rel_drop == pytest.approx(a.remaining_rel_drop, rel=1e-4, abs=1e-9)
    assert b.remaining_rel_level == pytest.approx(a.remaining_rel_level, rel=1e-4, abs=1e-9)
    assert b.credible == a.credible
