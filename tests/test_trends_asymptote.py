import numpy as np
import pytest

from analyzer.trends import asymptote as asy
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


# --- the soft-L1 polish (its own solver since issue 12) against scipy's curve_fit -------------

EXP_TRUTHS = [(0.2, 1.0, 4.0), (0.5, -0.8, 2.0)]
POWER_TRUTHS = [(0.2, 0.3, 1.0, 0.1), (0.1, 0.5, 0.5, 0.05)]


def _normalised(model, truth, seed, n=200, noise=0.01):
    rng = np.random.default_rng(seed)
    tau = np.linspace(0.0, 1.0, n)
    return tau, asy._model_fn(model)(tau, *truth) + rng.normal(0.0, noise, n)


def _start(model, tau, z):
    return asy._grid_exp(tau, z) if model == "exp" else asy._grid_power(tau, z)


def _soft_l1_cost(model, tau, z, params, f_scale):
    r = asy._model_fn(model)(tau, *params) - z
    return float(f_scale**2 * np.sum(np.sqrt(1.0 + (r / f_scale) ** 2) - 1.0))


def _curve_fit(model, tau, z, p0, f_scale, loss="soft_l1"):
    """scipy's answer, run to convergence (tight tolerances, no evaluation limit to speak of)."""
    import warnings

    from scipy.optimize import curve_fit

    lo, hi = asy._BOUNDS[model]
    p0 = [float(np.clip(p, lo[i], hi[i])) for i, p in enumerate(p0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        popt, pcov = curve_fit(
            asy._model_fn(model),
            tau,
            z,
            p0=p0,
            bounds=(lo, hi),
            method="trf",
            jac=asy._exp_jac if model == "exp" else asy._power_jac,
            loss=loss,
            f_scale=f_scale,
            max_nfev=20_000,
            ftol=1e-15,
            xtol=1e-15,
            gtol=1e-15,
        )
    return tuple(float(p) for p in popt), float(np.sqrt(pcov[0, 0]))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    "model, truth", [("exp", t) for t in EXP_TRUTHS] + [("power", t) for t in POWER_TRUTHS]
)
def test_polish_finds_curve_fits_optimum_and_stderr(model, truth, seed):
    tau, z = _normalised(model, truth, seed)
    p0 = _start(model, tau, z)
    params, se_a = asy._polish(model, tau, z, p0, 0.01)
    ref, ref_se = _curve_fit(model, tau, z, p0, 0.01)
    # the same minimum of the same objective: never a higher cost, the same parameters
    cost, ref_cost = (_soft_l1_cost(model, tau, z, p, 0.01) for p in (params, ref))
    assert cost <= ref_cost * (1 + 1e-9)
    assert params == pytest.approx(ref, rel=1e-5, abs=1e-7)
    # the asymptote recovered within its uncertainty, which is curve_fit's
    assert abs(params[0] - truth[0]) < 3 * se_a + 0.005
    assert se_a == pytest.approx(ref_se, rel=1e-5)
    assert cost < _soft_l1_cost(model, tau, z, p0, 0.01)  # the polish did polish


@pytest.mark.parametrize("model", ["exp", "power"])
def test_stderr_is_curve_fits_pcov_at_the_same_parameters(model):
    truth = EXP_TRUTHS[0] if model == "exp" else POWER_TRUTHS[0]
    tau, z = _normalised(model, truth, seed=5, noise=0.02)
    ref, ref_se = _curve_fit(model, tau, z, _start(model, tau, z), 0.02)
    assert asy._stderr_a(model, tau, z, ref, 0.02) == pytest.approx(ref_se, rel=1e-9)
    # fewer points than parameters: no uncertainty to give
    assert asy._stderr_a(model, tau[:3], z[:3], ref, 0.02) == float("inf")


def test_polish_resists_spikes_as_soft_l1_does():
    tau, z = _normalised("exp", EXP_TRUTHS[0], seed=0)
    spikes = np.random.default_rng(1).choice(tau.size, 10, replace=False)
    z[spikes] += 1.0  # 5% of the points, a hundred times the noise
    p0 = _start("exp", tau, z)
    params, _ = asy._polish("exp", tau, z, p0, 0.01)
    least_squares, _ = _curve_fit("exp", tau, z, p0, 0.01, loss="linear")
    assert abs(params[0] - 0.2) < 0.005
    assert abs(least_squares[0] - 0.2) > 5 * abs(params[0] - 0.2)  # the spikes pull plain LS


@pytest.mark.parametrize("model", ["exp", "power"])
@pytest.mark.parametrize("shape", ["straight", "step", "rising"])
def test_polish_respects_the_bounds(model, shape):
    tau = np.linspace(0.0, 1.0, 200)
    noise = np.random.default_rng(2).normal(0.0, 0.002, tau.size)
    z = {
        "straight": 1.0 - tau,  # no bend: c runs to its lower bound or t0 to its upper one
        "step": np.where(tau > 0, 0.0, 1.0),  # all of the drop in the first interval: c runs up
        "rising": 0.5 * tau**2,  # bends the wrong way
    }[shape] + noise
    p0 = _start(model, tau, z)
    params, se_a = asy._polish(model, tau, z, p0, 0.002)
    lo, hi = asy._BOUNDS[model]
    assert all(lo[i] <= p <= hi[i] for i, p in enumerate(params))
    assert np.all(np.isfinite(params)) and se_a >= 0  # (curve_fit's formula: 0 when degenerate)
    assert _soft_l1_cost(model, tau, z, params, 0.002) <= _soft_l1_cost(model, tau, z, p0, 0.002)


def test_fit_imports_no_scipy():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from analyzer.trends import fit_asymptote\n"
        "t = np.arange(200.0)\n"
        "f = fit_asymptote(t, 0.3 + 2.0 * np.exp(-t / 40) + 0.001 * np.sin(t))\n"
        "assert f.model is not None and f.credible, f\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("drop", [0.05, 0.1])
def test_asymptote_above_the_end_of_a_falling_curve_is_not_credible(drop):
    # a decay to 1.0 whose last eighth falls further (a late learning-rate drop): a saturating
    # fit levels off near 1.0, above where the curve already is; "levels off near 0.99" for a
    # curve at 0.95 and still falling would be wrong
    rng = np.random.default_rng(0)
    s = np.arange(200.0)
    v = 1 + 2 * np.exp(-s / 30) + rng.normal(0, 0.01, 200)
    v[-25:] -= drop * np.linspace(0, 1, 25)
    fit = fit_asymptote(s, v)
    assert fit.asymptote > fit.end_level
    assert not fit.credible
    assert "asymptote on the far side of the current level" in fit.reasons
    # the same decay without the late drop is credible
    v2 = 1 + 2 * np.exp(-s / 30) + rng.normal(0, 0.01, 200)
    assert fit_asymptote(s, v2).credible
