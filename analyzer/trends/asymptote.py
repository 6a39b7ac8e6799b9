"""Where is the curve heading? Fit a saturating model and read off its asymptote.

Two models, on normalised time ``tau = (step - first) / (last - first)`` and normalised values:

* exponential ``a + b * exp(-c * tau)``
* power law   ``a + b * (tau + t0) ** (-c)``

Both are linear in ``a, b`` once the shape parameters are fixed, so the shape is first found on a
grid by exact least squares (no bad starting guesses, no divergence), then polished with
``scipy.optimize.curve_fit`` using a soft-L1 loss so spikes do not pull the fit. The model with
the lower AIC wins. The fit is done in the working space (log10 for curves spanning decades, where
an exponential approach to zero becomes a straight line with no floor in sight — and is then
correctly reported as not credible). A fit is only called *credible* when the data actually show
the curve bending towards its asymptote; otherwise ``reasons`` says what is wrong.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ._memo import by_content
from .prep import Space, bin_medians, prepare
from .slope import trend_from_arrays
from .smoothing import effective_noise, noise_scale, robust_smooth

Model = Literal["exp", "power"]


@dataclass(frozen=True)
class AsymptoteFit:
    """A saturating fit of a curve and what it says about the improvement still to come.

    Values named without suffix are in original units; ``*_work`` are in the working space
    (log10 when ``log_space``). ``remaining`` is the improvement still expected in the curve's own
    direction (``end_level - asymptote`` for a decreasing curve), ``remaining_rel_drop`` the same
    in the working space divided by the change achieved so far, ``remaining_rel_level`` divided by
    the current level. ``credible`` is False (with ``reasons``) when the asymptote is an
    extrapolation the data cannot support.
    """

    model: Model | None
    asymptote: float
    asymptote_low: float
    asymptote_high: float
    asymptote_work: float
    asymptote_stderr_work: float
    params: tuple[float, ...]
    start_level: float
    end_level: float
    total_change_work: float
    direction: Literal["decreasing", "increasing", "flat"]
    remaining: float
    remaining_rel_drop: float
    remaining_rel_level: float
    time_constant_fraction: float
    r2: float
    rmse_over_noise: float
    aic_exp: float
    aic_power: float
    credible: bool
    reasons: tuple[str, ...]
    n: int
    log_space: bool
    t_origin: float = 0.0
    t_span: float = 1.0
    y_origin: float = 0.0
    y_scale: float = 1.0
    insufficient: bool = False
    reason: str | None = None

    def predict(self, steps: np.ndarray) -> np.ndarray:
        """Evaluate the fitted curve (original units) at ``steps``; NaN when there is no fit."""
        s = np.asarray(steps, dtype=float)
        if self.model is None:
            return np.full(s.shape, np.nan)
        tau = (s - self.t_origin) / self.t_span
        z = _model_fn(self.model)(tau, *self.params)
        w = self.y_origin + self.y_scale * z
        return np.power(10.0, w) if self.log_space else w


def _exp(tau: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a + b * np.exp(-c * tau)


def _power(tau: np.ndarray, a: float, b: float, c: float, t0: float) -> np.ndarray:
    return a + b * np.power(tau + t0, -c)


def _exp_jac(tau: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    e = np.exp(-c * tau)
    jac = np.empty((tau.size, 3))  # filled column by column (np.column_stack costs ~10 us)
    jac[:, 0] = 1.0
    jac[:, 1] = e
    jac[:, 2] = -b * tau * e
    return jac


def _power_jac(tau: np.ndarray, a: float, b: float, c: float, t0: float) -> np.ndarray:
    x = tau + t0
    g = np.power(x, -c)
    jac = np.empty((tau.size, 4))
    jac[:, 0] = 1.0
    jac[:, 1] = g
    jac[:, 2] = -b * g * np.log(x)
    jac[:, 3] = -b * c * g / x
    return jac


def _model_fn(model: str):
    return _exp if model == "exp" else _power


def _linfit_many(G: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each basis row g of G, least squares z ~ a + b*g; returns a, b, sse arrays."""
    gm = G.mean(axis=1)
    zm = z.mean()
    dg = G - gm[:, None]
    dz = z - zm
    sgg = (dg * dg).sum(axis=1)
    sgz = dg @ dz
    ok = sgg > 1e-300
    b = np.where(ok, sgz / np.where(ok, sgg, 1.0), 0.0)
    a = zm - b * gm
    sse = float(dz @ dz) - b * sgz
    return a, b, np.maximum(sse, 0.0)


_EXP_C = np.logspace(np.log10(0.05), np.log10(300.0), 70)
_POW_T0 = np.logspace(-3, 0.5, 12)
_POW_C = np.logspace(-1.5, 1.3, 24)


def _grid_exp(tau: np.ndarray, z: np.ndarray) -> tuple[float, ...]:
    G = np.exp(-_EXP_C[:, None] * tau[None, :])
    a, b, sse = _linfit_many(G, z)
    i = int(np.argmin(sse))
    return (float(a[i]), float(b[i]), float(_EXP_C[i]))


def _grid_power(tau: np.ndarray, z: np.ndarray) -> tuple[float, ...]:
    cg, tg = np.meshgrid(_POW_C, _POW_T0, indexing="ij")
    cc, tt = cg.ravel(), tg.ravel()
    G = np.power(tau[None, :] + tt[:, None], -cc[:, None])
    a, b, sse = _linfit_many(G, z)
    i = int(np.argmin(sse))
    return (float(a[i]), float(b[i]), float(cc[i]), float(tt[i]))


_BOUNDS = {
    "exp": ([-np.inf, -np.inf, 1e-3], [np.inf, np.inf, 1e4]),
    "power": ([-np.inf, -np.inf, 1e-3, 1e-5], [np.inf, np.inf, 50.0, 100.0]),
}


def _polish(
    model: str, tau: np.ndarray, z: np.ndarray, p0: tuple[float, ...], f_scale: float
) -> tuple[tuple[float, ...], float]:
    """curve_fit from the grid optimum; returns params and the stderr of ``a`` (inf if unknown)."""
    from scipy.optimize import OptimizeWarning, curve_fit  # lazily: a slow import

    lo, hi = _BOUNDS[model]
    p0c = tuple(float(np.clip(p, lo[i], hi[i])) for i, p in enumerate(p0))
    fn = _model_fn(model)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            popt, pcov = curve_fit(
                fn,
                tau,
                z,
                p0=p0c,
                bounds=(lo, hi),
                method="trf",
                jac=_exp_jac if model == "exp" else _power_jac,
                loss="soft_l1",
                f_scale=f_scale,
                max_nfev=100,
            )
        params = tuple(float(p) for p in popt)
        var_a = float(pcov[0, 0]) if np.all(np.isfinite(pcov)) else float("inf")
        if not np.all(np.isfinite(params)):
            raise ValueError("non-finite parameters")
        sse_new = float(np.sum((fn(tau, *params) - z) ** 2))
        sse_old = float(np.sum((fn(tau, *p0c) - z) ** 2))
        if sse_new > 4.0 * sse_old + 1e-12:
            # The robust loss moved far from least squares: keep the grid optimum's shape but
            # still report an uncertainty.
            params = p0c
        return params, float(np.sqrt(var_a)) if var_a >= 0 else float("inf")
    except (RuntimeError, ValueError, np.linalg.LinAlgError):
        return p0c, float("inf")


def _aic(sse: float, n: int, k: int) -> float:
    return float(n * np.log(max(sse / n, 1e-300)) + 2 * k)


@by_content()
def fit_asymptote(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    space: Space = "auto",
    models: tuple[Model, ...] = ("exp", "power"),
    max_points: int = 500,
    min_points: int = 6,
    min_r2: float = 0.8,
    min_rate: float = 0.7,
) -> AsymptoteFit:
    """Fit exponential and power-law saturation and report the asymptote and remaining gain.

    ``min_r2``: below it the fit is not credible. ``min_rate``: for the exponential model, a rate
    ``c`` below this (time constant longer than ~1.4 times the observed span) means the bend has
    not been seen yet. Other reasons for "not credible": residuals well above the noise
    (systematic misfit, e.g. a learning-rate drop), an asymptote uncertainty larger than the
    change so far, more improvement predicted than already achieved, or a fitted direction that
    contradicts the data. Fewer than ``min_points`` finite points gives ``insufficient``.
    """
    prep = prepare(steps, values, space=space)
    nan = float("nan")
    n = prep.n

    def empty(
        reason: str,
        *,
        insufficient: bool,
        start: float = nan,
        end: float = nan,
        change: float = nan,
        direction="flat",
    ) -> AsymptoteFit:
        return AsymptoteFit(
            model=None,
            asymptote=nan,
            asymptote_low=nan,
            asymptote_high=nan,
            asymptote_work=nan,
            asymptote_stderr_work=nan,
            params=(),
            start_level=start,
            end_level=end,
            total_change_work=change,
            direction=direction,
            remaining=nan,
            remaining_rel_drop=nan,
            remaining_rel_level=nan,
            time_constant_fraction=nan,
            r2=nan,
            rmse_over_noise=nan,
            aic_exp=nan,
            aic_power=nan,
            credible=False,
            reasons=(reason,),
            n=n,
            log_space=prep.log_space,
            insufficient=insufficient,
            reason=reason if insufficient else None,
        )

    if n < min_points:
        return empty(f"only {n} finite points (need {min_points})", insufficient=True)
    t0, t1 = float(prep.steps[0]), float(prep.steps[-1])
    if t1 <= t0:
        return empty("no step span", insufficient=True)
    bs, bw, _ = bin_medians(prep.steps, prep.work, max_points=max_points)
    smooth = robust_smooth(bs, bw)
    start_w, end_w = float(smooth[0]), float(smooth[-1])
    change = end_w - start_w
    start_o, end_o = float(prep.from_work(start_w)), float(prep.from_work(end_w))
    sigma = effective_noise(
        noise_scale(bs, bw, method="diff2"),
        bw,
        values=np.asarray(prep.from_work(bw)),
        log_space=prep.log_space,
    )
    mk = trend_from_arrays(bs, bw, alpha=0.05, max_points=max_points)
    direction: Literal["decreasing", "increasing"] = "decreasing" if change < 0 else "increasing"
    if abs(change) < 3 * sigma and not mk.significant:
        return empty(
            "no clear trend to extrapolate",
            insufficient=False,
            start=start_o,
            end=end_o,
            change=change,
            direction="flat",
        )

    span = t1 - t0
    tau = (bs - t0) / span
    scale = abs(change) if change != 0 else float(np.ptp(bw)) or 1.0
    z = (bw - end_w) / scale
    sigma_z = sigma / scale
    f_scale = max(sigma_z, 1e-3)

    fits: dict[str, tuple[tuple[float, ...], float, float]] = {}
    for model in models:
        p0 = _grid_exp(tau, z) if model == "exp" else _grid_power(tau, z)
        params, se_a = _polish(model, tau, z, p0, f_scale)
        sse = float(np.sum((_model_fn(model)(tau, *params) - z) ** 2))
        fits[model] = (params, se_a, sse)
    aics = {m: _aic(fits[m][2], bs.size, 3 if m == "exp" else 4) for m in fits}
    best: Model = min(aics, key=aics.get)  # type: ignore[arg-type]
    params, se_a, sse = fits[best]
    a_w = end_w + scale * params[0]
    se_w = scale * se_a
    sst = float(np.sum((z - z.mean()) ** 2))
    r2 = 1.0 - sse / sst if sst > 0 else nan
    rmse_w = scale * np.sqrt(sse / bs.size)
    rmse_over_noise = float(rmse_w / sigma) if sigma > 0 else float("inf")

    sgn = -1.0 if direction == "decreasing" else 1.0
    remaining_w = (a_w - end_w) * sgn
    a_o = float(prep.from_work(a_w))
    remaining_o = (a_o - end_o) * sgn
    remaining_rel_drop = remaining_w / abs(change) if change != 0 else nan
    remaining_rel_level = remaining_o / abs(end_o) if end_o != 0 else nan
    lo_w, hi_w = a_w - 2 * se_w, a_w + 2 * se_w
    with np.errstate(over="ignore", invalid="ignore"):
        a_lo, a_hi = float(prep.from_work(lo_w)), float(prep.from_work(hi_w))
    tc = 1.0 / params[2] if best == "exp" else nan

    reasons: list[str] = []
    if not np.isfinite(r2) or r2 < min_r2:
        reasons.append(f"poor fit (R^2 = {r2:.2f})")
    if rmse_w > 3 * max(sigma, 0.02 * abs(change)):
        reasons.append("systematic misfit: residuals well above the noise")
    if best == "exp" and params[2] < min_rate:
        reasons.append("time constant longer than the observed span: asymptote is extrapolated")
    if not np.isfinite(se_w) or 2 * se_w > abs(change):
        reasons.append("asymptote uncertainty exceeds the change so far")
    if np.sign(params[1]) != np.sign(-change):
        reasons.append("fitted direction contradicts the data")
    if np.isfinite(remaining_rel_drop) and remaining_rel_drop > 1.5:
        reasons.append("predicts more improvement than achieved so far")

    return AsymptoteFit(
        model=best,
        asymptote=a_o,
        asymptote_low=min(a_lo, a_hi),
        asymptote_high=max(a_lo, a_hi),
        asymptote_work=a_w,
        asymptote_stderr_work=se_w,
        params=params,
        start_level=start_o,
        end_level=end_o,
        total_change_work=change,
        direction=direction,
        remaining=remaining_o,
        remaining_rel_drop=remaining_rel_drop,
        remaining_rel_level=remaining_rel_level,
        time_constant_fraction=tc,
        r2=r2,
        rmse_over_noise=rmse_over_noise,
        aic_exp=aics.get("exp", nan),
        aic_power=aics.get("power", nan),
        credible=not reasons,
        reasons=tuple(reasons),
        n=n,
        log_space=prep.log_space,
        t_origin=t0,
        t_span=span,
        y_origin=end_w,
        y_scale=scale,
    )
