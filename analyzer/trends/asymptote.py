"""Where is the curve heading? Fit a saturating model and read off its asymptote.

Two models, on normalised time ``tau = (step - first) / (last - first)`` and normalised values:

* exponential ``a + b * exp(-c * tau)``
* power law   ``a + b * (tau + t0) ** (-c)``

Both are linear in ``a, b`` once the shape parameters are fixed, so the shape is first found on a
grid by exact least squares (no bad starting guesses, no divergence), then polished under a
soft-L1 loss (``f_scale`` = the noise) so spikes do not pull the fit: the objective, bounds and
stderr of ``a`` of ``scipy.optimize.curve_fit(..., method="trf", loss="soft_l1")``, minimised by
a small solver of its own (:func:`_solve`: variable projection, so only ``c`` and ``t0`` are
iterated), about ten times cheaper than curve_fit and without importing scipy. The model with
the lower AIC wins. The fit is done in the working space (log10 for curves spanning decades, where
an exponential approach to zero becomes a straight line with no floor in sight — and is then
correctly reported as not credible). A fit is only called *credible* when the data actually show
the curve bending towards its asymptote; otherwise ``reasons`` says what is wrong.
"""

from __future__ import annotations

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
    dz = z - zm
    sgz = G @ dz  # = sum((g - gm) * dz): dz sums to zero
    sgg = np.einsum("ij,ij->i", G, G) - z.size * gm * gm
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


_POW_CC = np.repeat(_POW_C, _POW_T0.size)  # the grid's (c, t0) pairs, row by row
_POW_TT = np.tile(_POW_T0, _POW_C.size)


def _grid_power(tau: np.ndarray, z: np.ndarray) -> tuple[float, ...]:
    # (tau + t0) ** -c as exp(-c * log(tau + t0)): one log per t0, and exp is cheaper than power
    L = np.log(tau[None, :] + _POW_T0[:, None])
    G = np.exp(-(_POW_C[:, None, None] * L[None, :, :])).reshape(-1, tau.size)
    a, b, sse = _linfit_many(G, z)
    i = int(np.argmin(sse))
    return (float(a[i]), float(b[i]), float(_POW_CC[i]), float(_POW_TT[i]))


_BOUNDS = {
    "exp": ([-np.inf, -np.inf, 1e-3], [np.inf, np.inf, 1e4]),
    "power": ([-np.inf, -np.inf, 1e-3, 1e-5], [np.inf, np.inf, 50.0, 100.0]),
}
#: the shape parameters' bounds, in logs (the solver's coordinates)
_LOG_LO = {m: [float(np.log(v)) for v in lo[2:]] for m, (lo, _) in _BOUNDS.items()}
_LOG_HI = {m: [float(np.log(v)) for v in hi[2:]] for m, (_, hi) in _BOUNDS.items()}


class _Shape:
    """The model's one non-constant term for given shape parameters, kept well conditioned.

    ``a + b * g(tau)`` with ``g = exp(-c * L)``, ``L = tau`` (exp) or ``log(tau + t0)``
    (power) is written ``alpha + beta * q`` with ``q = exp(-c * (L - L0)) - kappa``, ``L0``
    the value of ``L`` at ``tau = 0`` (so ``q`` neither overflows nor underflows however large
    ``c``) and ``kappa = 1`` when ``q`` stays near 1 (``expm1`` keeps the digits of a
    nearly straight curve, whose ``a`` and ``b`` are huge and opposite): ``b = beta *
    exp(c * L0)``, ``a = alpha - beta * kappa``. ``dq`` holds the derivatives of ``q`` in the
    logs of ``c`` (and ``t0``); :meth:`d2q` the second derivatives.
    """

    __slots__ = ("c", "t0", "L0", "kappa", "q", "dq", "_gh", "_e", "_m")

    def __init__(self, model: str, tau: np.ndarray, x: list[float]):
        c = float(np.exp(x[0]))
        self.c = c
        if model == "exp":
            self.t0 = self.L0 = 0.0
            e = -c * tau
            self._m: np.ndarray | None = None
        else:
            t0 = float(np.exp(x[1]))
            self.t0, self.L0 = t0, float(np.log(t0))
            e = -c * np.log1p(tau / t0)
            self._m = c * tau / (tau + t0)
        gh = np.exp(e)
        self._gh, self._e = gh, e
        if gh[-1] > 0.5:
            self.kappa = 1.0
            self.q = np.expm1(e)
        else:
            self.kappa = 0.0
            self.q = gh
        self.dq = [e * gh] if self._m is None else [e * gh, self._m * gh]

    def d2q(self, tau: np.ndarray) -> list[np.ndarray]:
        """d2q/dlogc2 (exp); d2q/dlogc2, d2q/dlogc dlogt0, d2q/dlogt02 (power)."""
        e, gh, m = self._e, self._gh, self._m
        if m is None:
            return [e * (1.0 + e) * gh]
        return [e * (1.0 + e) * gh, m * (1.0 + e) * gh, gh * m * (m - self.t0 / (tau + self.t0))]

    def ab(self, alpha: float, beta: float) -> tuple[float, float]:
        return alpha - beta * self.kappa, beta * float(np.exp(self.c * self.L0))


_sum = np.add.reduce  # ndarray.sum without its Python wrapper (called thousands of times)


def _soft_l1(r: np.ndarray, f: float) -> tuple[np.ndarray, float]:
    """``h = sqrt(f^2 + r^2)`` and the soft-L1 cost ``f * sum(h) - n f^2`` (twice scipy's
    ``least_squares`` cost for ``loss="soft_l1"``, ``f_scale=f``: the same minimiser)."""
    h = r * r
    h += f * f
    np.sqrt(h, out=h)
    return h, f * (float(_sum(h)) - h.size * f)


def _line(q: np.ndarray, z: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    r = beta * q
    r += alpha
    r -= z
    return r


_Fit = tuple[float, float, np.ndarray, np.ndarray, float]


def _weighted_line(q: np.ndarray, z: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least squares ``z ~ alpha + beta * q`` (weights ``w``)."""
    wq = w * q
    s0, s1, s2 = float(_sum(w)), float(_sum(wq)), float(wq @ q)
    z0, z1 = float(w @ z), float(wq @ z)
    det = s0 * s2 - s1 * s1
    if not det > 0:
        raise ZeroDivisionError("degenerate basis")
    beta = (s0 * z1 - s1 * z0) / det
    return (z0 - s1 * beta) / s0, beta


def _fit_linear(
    q: np.ndarray,
    z: np.ndarray,
    alpha: float,
    beta: float,
    f: float,
    maxit: int = 30,
    w0: np.ndarray | None = None,
) -> _Fit:
    """The soft-L1 fit of ``alpha + beta * q`` to ``z`` (a convex problem) from (alpha, beta),
    or from the weighted least-squares fit with weights ``w0`` (those of a nearby shape's fit):
    Newton steps, and an iteratively-reweighted least-squares step (which never raises the
    cost) whenever Newton's does not descend. Returns alpha, beta, the residuals, h (see
    :func:`_soft_l1`) and the cost."""
    if w0 is not None:
        alpha, beta = _weighted_line(q, z, w0)
    r = _line(q, z, alpha, beta)
    h, cost = _soft_l1(r, f)
    for _ in range(maxit):
        w = f / h  # the loss's first derivative per unit residual
        u = w * w
        u *= w  # and its second derivative
        psi = r * w
        uq = u * q
        s0, s1, s2 = float(_sum(u)), float(_sum(uq)), float(uq @ q)
        g0, g1 = float(_sum(psi)), float(psi @ q)
        det = s0 * s2 - s1 * s1
        if not det > 0:
            break
        db = -(s0 * g1 - s1 * g0) / det
        da = -(g0 + s1 * db) / s0
        decrement = -(da * g0 + db * g1)  # twice the decrease the quadratic model expects
        an, bn = alpha + da, beta + db
        rn = _line(q, z, an, bn)
        hn, cn = _soft_l1(rn, f)
        if not cn < cost:
            an, bn = _weighted_line(q, z, w)
            rn = _line(q, z, an, bn)
            hn, cn = _soft_l1(rn, f)
            if not cn < cost:
                break
        before = cost
        alpha, beta, r, h, cost = an, bn, rn, hn, cn
        if decrement <= 1e-14 * cost or before - cost <= 1e-14 * cost:
            break
    return alpha, beta, r, h, cost


def _solve(
    model: str,
    tau: np.ndarray,
    z: np.ndarray,
    p0: tuple[float, ...],
    f_scale: float,
    *,
    maxit: int = 200,
    tol: float = 1e-12,
) -> tuple[tuple[float, ...], float]:
    """Minimise the soft-L1 cost of ``model`` from ``p0`` within the bounds; returns the
    parameters and the cost (twice scipy's).

    Variable projection: only the shape parameters (c, and t0 for the power law) are iterated,
    in logs (their bounds are then a box, and a step is a ratio), by Levenberg-Marquardt on the
    Schur complement of the (a, b) block; (a, b) are re-fitted for every shape tried (one
    weighted least-squares fit with the current weights, then one Newton step: the next
    iteration's complement accounts for what is left). The curvature is the exact one (Gauss-
    Newton's alone zig-zags along the curved valleys of these models when the residuals are
    not small), damped by Gauss-Newton's diagonal until positive and descending. A shape
    parameter at a bound the gradient pushes against is held there. Stops when the Newton
    decrement is below ``tol`` times the cost."""
    lo, hi = _LOG_LO[model], _LOG_HI[model]
    f = f_scale
    x = [min(max(float(np.log(v)), lo[i]), hi[i]) for i, v in enumerate(p0[2:])]
    k = len(x)
    sh = _Shape(model, tau, x)
    beta0 = float(p0[1]) * float(np.exp(-sh.c * sh.L0))
    alpha, beta, r, h, F = _fit_linear(sh.q, z, float(p0[0]) + beta0 * sh.kappa, beta0, f)
    lam, converged = 1e-2, False
    J = np.empty((2 + k, tau.size))
    J[0] = 1.0
    for _ in range(maxit):
        w = f / h
        u = w * w
        u *= w
        psi = r * w
        J[1] = sh.q
        for j in range(k):
            J[2 + j] = beta * sh.dq[j]
        H = ((J * u) @ J.T).tolist()
        g = (J @ psi).tolist()
        damp = [H[2 + i][2 + i] for i in range(k)]  # Gauss-Newton's: positive
        # the residuals' own curvature: exact second derivatives
        for j in range(k):
            v = float(psi @ sh.dq[j])
            H[1][2 + j] += v
            H[2 + j][1] += v
        d2 = [beta * float(psi @ d) for d in sh.d2q(tau)]
        H[2][2] += d2[0]
        if k == 2:
            H[2][3] += d2[1]
            H[3][2] += d2[1]
            H[3][3] += d2[2]
        # eliminate a, b: the Schur complement of their block
        det = H[0][0] * H[1][1] - H[0][1] * H[0][1]
        if not det > 0:
            break
        i00, i01, i11 = H[1][1] / det, -H[0][1] / det, H[0][0] / det
        X = [
            (i00 * H[0][2 + j] + i01 * H[1][2 + j], i01 * H[0][2 + j] + i11 * H[1][2 + j])
            for j in range(k)
        ]
        Hr = [
            [H[2 + i][2 + j] - H[2 + i][0] * X[j][0] - H[2 + i][1] * X[j][1] for j in range(k)]
            for i in range(k)
        ]
        gr = [g[2 + i] - X[i][0] * g[0] - X[i][1] * g[1] for i in range(k)]
        free = [
            i
            for i in range(k)
            if not ((x[i] <= lo[i] and gr[i] > 0) or (x[i] >= hi[i] and gr[i] < 0))
        ]
        dec = (i00 * g[0] + i01 * g[1]) * g[0] + (i01 * g[0] + i11 * g[1]) * g[1]
        if len(free) == 2:
            d = Hr[0][0] * Hr[1][1] - Hr[0][1] * Hr[1][0]
            dec += (
                (Hr[1][1] * gr[0] ** 2 - 2 * Hr[0][1] * gr[0] * gr[1] + Hr[0][0] * gr[1] ** 2) / d
                if d > 0 and Hr[0][0] > 0
                else np.inf
            )
        elif len(free) == 1:
            j = free[0]
            dec += gr[j] ** 2 / Hr[j][j] if Hr[j][j] > 0 else np.inf
        if dec <= tol * F:
            converged = True  # (a, b) included: no final re-fit needed
            break
        accepted = False
        for _ in range(40):
            dx = [0.0] * k
            if len(free) == 2:
                m00, m11, m01 = Hr[0][0] + lam * damp[0], Hr[1][1] + lam * damp[1], Hr[0][1]
                d = m00 * m11 - m01 * m01
                if not (d > 0 and m00 > 0):
                    lam = max(4.0 * lam, 1e-3)
                    continue
                dx[0] = -(m11 * gr[0] - m01 * gr[1]) / d
                dx[1] = -(m00 * gr[1] - m01 * gr[0]) / d
            elif len(free) == 1:
                j = free[0]
                mjj = Hr[j][j] + lam * damp[j]
                if not mjj > 0:
                    lam = max(4.0 * lam, 1e-3)
                    continue
                dx[j] = -gr[j] / mjj
            xn = [min(max(x[i] + dx[i], lo[i]), hi[i]) for i in range(k)]
            shn = _Shape(model, tau, xn)
            an, bn, rn, hn, Fn = _fit_linear(shn.q, z, 0.0, 0.0, f, maxit=1, w0=w)
            if Fn < F:
                accepted = True
                break
            lam *= 4.0
            if lam > 1e12:
                break
        if not accepted:
            break
        x, sh, alpha, beta, r, h, F = xn, shn, an, bn, rn, hn, Fn
        lam = max(lam / 10.0, 1e-9)
    if not converged:
        alpha, beta, r, h, F = _fit_linear(sh.q, z, alpha, beta, f)
    a, b = sh.ab(alpha, beta)
    # exp(log(bound)) may miss the bound by an ulp
    shape = [
        min(max(v, _BOUNDS[model][0][2 + i]), _BOUNDS[model][1][2 + i])
        for i, v in enumerate((sh.c,) if model == "exp" else (sh.c, sh.t0))
    ]
    return (a, b, *shape), F


def _stderr_a(
    model: str, tau: np.ndarray, z: np.ndarray, params: tuple[float, ...], f_scale: float
) -> float:
    """The standard error of ``a`` as ``scipy.optimize.curve_fit`` reports it for a soft-L1 fit
    (``sqrt(pcov[0, 0])``): the pseudo-inverse of J'J, J the Jacobian scaled by the loss's
    curvature (``(1 + r^2/f^2) ** -0.75`` for soft-L1), times the cost over ``n - p``."""
    n, p = tau.size, len(params)
    if n <= p:
        return float("inf")
    jac = _exp_jac(tau, *params) if model == "exp" else _power_jac(tau, *params)
    r = _model_fn(model)(tau, *params) - z
    c2 = f_scale * f_scale
    t = 1.0 + r * r / c2
    js = jac * (t**-0.75)[:, None]
    if not np.all(np.isfinite(js)):
        return float("inf")
    _, sv, vt = np.linalg.svd(js, full_matrices=False)
    keep = sv > np.finfo(float).eps * max(n, p) * sv[0]
    pcov = (vt[keep].T / sv[keep] ** 2) @ vt[keep]
    pcov *= c2 * float(np.sum(2.0 * (np.sqrt(t) - 1.0))) / (n - p)
    var_a = float(pcov[0, 0])
    if not np.all(np.isfinite(pcov)) or var_a < 0:
        return float("inf")
    return float(np.sqrt(var_a))


def _polish(
    model: str, tau: np.ndarray, z: np.ndarray, p0: tuple[float, ...], f_scale: float
) -> tuple[tuple[float, ...], float]:
    """The soft-L1 fit from the grid optimum; returns params and the stderr of ``a`` (inf if
    unknown)."""
    lo, hi = _BOUNDS[model]
    p0c = tuple(float(np.clip(p, lo[i], hi[i])) for i, p in enumerate(p0))
    fn = _model_fn(model)
    with np.errstate(all="ignore"):
        try:
            params, _ = _solve(model, tau, z, p0c, f_scale)
        except (ValueError, ZeroDivisionError, OverflowError, np.linalg.LinAlgError):
            return p0c, float("inf")
        if not np.all(np.isfinite(params)):
            return p0c, float("inf")
        se_a = _stderr_a(model, tau, z, params, f_scale)
        sse_new = float(np.sum((fn(tau, *params) - z) ** 2))
        sse_old = float(np.sum((fn(tau, *p0c) - z) ** 2))
    if sse_new > 4.0 * sse_old + 1e-12:
        # The robust loss moved far from least squares: keep the grid optimum's shape but
        # still report an uncertainty.
        params = p0c
    return params, se_a


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
    change so far, more improvement predicted than already achieved, a fitted direction that
    contradicts the data, or an asymptote beyond the current level by more than the noise (above the
    end of a falling curve: the fit misses the end). Fewer than ``min_points`` finite points gives ``insufficient``.
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
    if remaining_w < -max(2 * se_w, sigma):
        # a saturating model approaches its asymptote from the start's side: one beyond the
        # current level (above a falling curve's end) by more than the noise and its own
        # uncertainty is a fit that misses the end
        reasons.append("asymptote on the far side of the current level")

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
