"""Oscillation measures and a spike detector.

Oscillation is measured on the residual from a *wide centred rolling median*: the median keeps
monotone descents and learning-rate steps exactly (so they leave no residual to mistake for a
swing) while removing swings shorter than its window. On that residual: a robust amplitude, the
dominant period from a Lomb-Scargle periodogram (uneven steps are fine) with its false-alarm
probability against white noise, whether the swing shrinks over time, and two cheap texture
numbers (sign-change rate of the smoothed slope, lag-1 autocorrelation).

Spikes are isolated excursions from a *narrow* rolling median, measured in a local robust noise
scale (noise usually shrinks with the loss, so a global scale would flag the noisy start). Each
spike says whether the curve came back; a set of spikes says whether they are regularly spaced
(e.g. at epoch boundaries). Periodic or recovering spikes are not oscillation or divergence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _order
from ._memo import by_content
from ._order import median, quantile
from .prep import Space, bin_medians, prepare, rel_to_level, working
from .slope import trend_from_arrays
from .smoothing import (
    MAD_TO_SIGMA,
    auto_window,
    effective_noise,
    mad_sigma,
    median_filter,
    robust_smooth,
    rolling_median,
    rolling_medians,
)


@dataclass(frozen=True)
class Oscillation:
    """How much, how regularly and how persistently a curve swings around its trend.

    Amplitudes are semi-amplitudes in working-space units (log10 when ``log_space``):
    ``amplitude`` is half the 5%-95% range of the detrended residual (equal to the semi-amplitude
    of a pure sinusoid, ~1.6 sigma for white noise). ``amplitude_rel_drop`` divides it by the
    trend's total change, ``amplitude_rel_level`` expresses it as a fraction of the final level.
    ``period`` (steps) is the Lomb-Scargle peak between ~2.5 sample spacings and the detrending
    window; ``false_alarm`` its false-alarm probability under white noise; ``periodic`` is true
    when that is below ``alpha`` and at least ``min_cycles`` cycles were observed.
    ``sine_amplitude``/``sine_r2``: the least-squares sinusoid at that period and the fraction of
    residual variance it explains. ``amplitude_ratio_late_early``: residual amplitude in the last
    segment over the first (below 1 = shrinking); ``amplitude_trend_tau``: Kendall tau of segment
    amplitudes over time. ``sign_change_rate``: sign changes of the smoothed curve's slope per
    point. ``lag1_autocorr``: of the residual (near 0 for white noise, near 1 for slow swings).
    """

    amplitude: float
    amplitude_rel_drop: float
    amplitude_rel_level: float
    noise_sigma: float
    period: float | None
    period_power: float
    false_alarm: float
    periodic: bool
    n_cycles: float
    sine_amplitude: float
    sine_r2: float
    amplitude_ratio_late_early: float
    amplitude_trend_tau: float
    sign_change_rate: float
    lag1_autocorr: float
    n: int
    binned: bool
    log_space: bool
    insufficient: bool = False
    reason: str | None = None


def _nan_osc(n: int, log_space: bool, reason: str) -> Oscillation:
    nan = float("nan")
    return Oscillation(
        nan,
        nan,
        nan,
        nan,
        None,
        nan,
        nan,
        False,
        nan,
        nan,
        nan,
        nan,
        nan,
        nan,
        nan,
        n,
        False,
        log_space,
        True,
        reason,
    )


def _even_step(freqs: np.ndarray) -> float:
    """The step of an evenly spaced frequency grid (such as ``np.linspace`` makes), else 0."""
    if freqs.size < 16:
        return 0.0
    step = float(freqs[-1] - freqs[0]) / (freqs.size - 1)
    if step > 0 and np.allclose(np.diff(freqs), step, rtol=1e-9, atol=0.0):
        return step
    return 0.0


#: OpenBLAS multiplies matrices on one thread up to this many multiply-adds (its threshold,
#: 4 x 65536) and starts its thread pool above it, whose waiting threads spin: on these small
#: products they cost far more CPU than they save (the periodograms of a sweep took ~2x the
#: CPU time in a process with the default thread count)
_ONE_THREAD_MNK = 4 * 65536


def _dot_t(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T``, by blocks of rows of ``a`` small enough for one BLAS thread."""
    rows = max(1, _ONE_THREAD_MNK // max(1, b.shape[0] * a.shape[1]))
    if rows >= a.shape[0]:
        return a @ b.T
    return np.concatenate([a[i : i + rows] @ b.T for i in range(0, a.shape[0], rows)])


def _grid_sums(
    freqs: np.ndarray, step: float, xc: np.ndarray, w: np.ndarray, wy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For an evenly spaced grid ``freqs`` (step ``step``), ``theta = 2 pi f x``: the sums over
    the points of ``w cos(theta)``, ``w sin(theta)``, ``wy cos(theta)``, ``wy sin(theta)``,
    ``w cos(theta)^2`` and ``w cos(theta) sin(theta)``, one value per frequency.

    Each frequency is a block start ``f_a`` plus ``j`` steps, and the angle-addition formulas
    turn every sum into matrix products of a table of block starts by a table of offsets,
    ``sum w cos(A + B) = (w cos A) . cos B - (w sin A) . sin B`` (the squares through the double
    angle). Only ``~2 sqrt(len(freqs))`` rows of sines and cosines are evaluated instead of one
    per frequency and point (a trigonometric call costs ~20 ns at the large arguments of a long
    curve, a multiply-add in a matrix product well under 1 ns). The sums agree with direct
    evaluation to ~1e-14."""
    nf = freqs.size
    b = int(np.ceil(np.sqrt(nf)))  # offsets per block
    two_pi = 2 * np.pi
    outer = (two_pi * freqs[::b])[:, None] * xc[None, :]  # block starts
    inner = (two_pi * step * np.arange(b))[:, None] * xc[None, :]  # offsets
    oc, os_ = np.cos(outer), np.sin(outer)
    tc, ts = np.cos(inner), np.sin(inner)

    def sums(ca, sa, cb, sb, weights):
        wc, ws = ca * weights, sa * weights
        cos_sum = _dot_t(wc, cb) - _dot_t(ws, sb)
        sin_sum = _dot_t(ws, cb) + _dot_t(wc, sb)
        return cos_sum.ravel()[:nf], sin_sum.ravel()[:nf]

    C, S = sums(oc, os_, tc, ts, w)
    Cy, Sy = sums(oc, os_, tc, ts, wy)
    # cos^2 = (1 + cos 2t) / 2 and cos sin = sin(2t) / 2, the double angles from the tables
    C2, S2 = sums(oc * oc - os_ * os_, 2.0 * oc * os_, tc * tc - ts * ts, 2.0 * tc * ts, w)
    return C, S, Cy, Sy, 0.5 + 0.5 * C2, 0.5 * S2


def gls_power(x: np.ndarray, y: np.ndarray, freqs: np.ndarray, *, chunk: int = 256) -> np.ndarray:
    """Generalised Lomb-Scargle periodogram (floating mean, Zechmeister & Kuerster 2009).

    Normalised power in [0, 1]: the fraction of the variance of ``y`` explained by a sinusoid of
    each frequency (cycles per unit of ``x``) plus a constant. Works on uneven ``x``. An evenly
    spaced frequency grid (what :func:`oscillation` scans) is summed with few trigonometric
    calls (:func:`_grid_sums`); any other is vectorised in chunks of ``chunk`` frequencies.
    Several times faster than ``scipy.signal.lombscargle`` here.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    freqs = np.asarray(freqs, dtype=float)
    n = x.size
    wgt = np.full(n, 1.0 / n)
    Y = float(wgt @ y)
    YY = float(wgt @ (y * y)) - Y * Y
    out = np.zeros(freqs.size)
    if YY <= 0 or freqs.size == 0:
        return out
    xc = x - x[0]
    wy = wgt * y
    # the grid sums pay a fixed cost of a few dozen array operations: worth it from ~4,000
    # frequency-point pairs on (a 40-point curve scanned at 100 frequencies)
    step = _even_step(freqs) if freqs.size * n >= 4000 else 0.0
    # per block of frequencies: its first index and the sums of w cos, w sin, wy cos, wy sin,
    # w cos^2 and w cos sin
    parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    if step > 0:
        parts = [(0, *_grid_sums(freqs, step, xc, wgt, wy))]
    else:
        parts = []
        for a in range(0, freqs.size, chunk):
            arg = (2 * np.pi * freqs[a : a + chunk])[:, None] * xc[None, :]
            c, s = np.cos(arg), np.sin(arg)
            parts.append((a, c @ wgt, s @ wgt, c @ wy, s @ wy, (c * c) @ wgt, (c * s) @ wgt))
    for a, C, S, Cy, Sy, cc, cs in parts:
        YC = Cy - Y * C
        YS = Sy - Y * S
        CC = cc - C * C
        SS = 1.0 - cc - S * S
        CS = cs - C * S
        D = CC * SS - CS * CS
        with np.errstate(invalid="ignore", divide="ignore"):
            p = (SS * YC * YC + CC * YS * YS - 2 * CS * YC * YS) / (YY * D)
        out[a : a + C.size] = np.where(D > 1e-12, p, 0.0)
    return np.clip(out, 0.0, 1.0)


def _sine_fit(x: np.ndarray, y: np.ndarray, omega: float) -> tuple[float, float, np.ndarray]:
    """Least-squares ``a cos + b sin + c`` at ``omega``: semi-amplitude, R^2, coefficients."""
    A = np.column_stack([np.cos(omega * x), np.sin(omega * x), np.ones_like(x)])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    fit = A @ coef
    sst = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum((y - fit) ** 2)) / sst if sst > 0 else 0.0
    return float(np.hypot(coef[0], coef[1])), r2, coef


@dataclass(frozen=True)
class _Peak:
    period: float
    power: float
    fap: float
    n_cycles: float
    amp: float
    r2: float
    coef: np.ndarray


def _peak(
    x: np.ndarray, r: np.ndarray, p_min: float, p_max: float, max_frequencies: int
) -> _Peak | None:
    T = float(x[-1] - x[0])
    if not (p_max > p_min and T > 0 and np.ptp(r) > 0):
        return None
    f_lo, f_hi = 1.0 / p_max, 1.0 / p_min
    nf = int(min(max_frequencies, max(50, np.ceil(5 * T * (f_hi - f_lo)))))
    f = np.linspace(f_lo, f_hi, nf)
    pw = gls_power(x, r, f)
    k = int(np.argmax(pw))
    power = float(pw[k])
    period = float(1.0 / f[k])
    # Single-frequency tail probability of the normalised GLS power, then Bonferroni-like over
    # the number of independent frequencies in the band.
    p_single = (1.0 - power) ** ((x.size - 3) / 2.0)
    n_indep = max(1.0, T * (f_hi - f_lo))
    fap = float(-np.expm1(n_indep * np.log1p(-min(p_single, 1 - 1e-16))))
    amp, r2, coef = _sine_fit(x, r, 2 * np.pi / period)
    return _Peak(period, power, fap, T / period, amp, r2, coef)


def median_trend(x: np.ndarray, window: int) -> np.ndarray:
    """Wide centred rolling median of ``x``: the mean of the medians over ``window`` and
    ``window + 2`` points. Both keep monotone descents and level steps exactly; averaging them
    puts the trend of a period-2 zig-zag on its midline (a single odd window follows one side of
    a perfect zig-zag, depending on the parity of its half-width, and leaves no residual)."""
    if x.size < window + 2:
        return rolling_median(x, window=window)
    a, b = rolling_medians(x, (window, window + 2))
    return 0.5 * (a + b)


def _split(a: np.ndarray, k: int) -> list[np.ndarray]:
    """``np.array_split(a, k)`` of a 1-D array: ``k`` consecutive slices, the first
    ``len(a) % k`` one point longer (without its generic bookkeeping)."""
    size, extra = divmod(a.size, k)
    out, at = [], 0
    for i in range(k):
        end = at + size + (1 if i < extra else 0)
        out.append(a[at:end])
        at = end
    return out


def _half_range(r: np.ndarray) -> float:
    q05, q95 = quantile(r, [0.05, 0.95])
    return float((q95 - q05) / 2.0)


@dataclass(frozen=True)
class Swings:
    """The measures of :class:`Oscillation` that OSC001 decides on, without the others (the
    robust smooth of the curve, which only a linear-space level needs, the noise floor, the
    trend of the segment amplitudes and the slope sign changes): see :func:`swings`. Each
    field is the number :func:`oscillation` gives for the same call."""

    amplitude: float
    amplitude_rel_level: float
    period: float | None
    false_alarm: float
    periodic: bool
    sine_r2: float
    amplitude_ratio_late_early: float
    lag1_autocorr: float
    n: int
    binned: bool
    log_space: bool
    insufficient: bool = False
    reason: str | None = None


def _nan_swings(n: int, log_space: bool, reason: str) -> Swings:
    nan = float("nan")
    return Swings(nan, nan, None, nan, False, nan, nan, nan, n, False, log_space, True, reason)


@by_content()
def oscillation(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    space: Space = "auto",
    max_period_fraction: float = 0.3,
    min_cycles: float = 2.0,
    alpha: float = 0.01,
    max_points: int = 1000,
    max_frequencies: int = 2000,
    min_points: int = 12,
) -> Oscillation:
    """Measure oscillation of a curve around its trend (see :class:`Oscillation`).

    The detrending window is ``max_period_fraction`` of the (binned) curve, which is also the
    longest period that can be found. Curves longer than ``max_points`` are reduced to bin medians
    first, so periods shorter than a few bins are invisible there (they become noise).
    """
    out = _measure(
        steps,
        values,
        space=space,
        max_period_fraction=max_period_fraction,
        min_cycles=min_cycles,
        alpha=alpha,
        max_points=max_points,
        max_frequencies=max_frequencies,
        min_points=min_points,
        full=True,
    )
    assert isinstance(out, Oscillation)
    return out


@by_content()
def swings(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    space: Space = "auto",
    max_period_fraction: float = 0.3,
    min_cycles: float = 2.0,
    alpha: float = 0.01,
    max_points: int = 1000,
    max_frequencies: int = 2000,
    min_points: int = 12,
) -> Swings:
    """:func:`oscillation`'s amplitude, period and persistence measures (:class:`Swings`),
    the same numbers for the same call, at a fraction of its cost: a curve measured in log
    space is not smoothed at all (its amplitude relative to the level does not depend on the
    level there)."""
    out = _measure(
        steps,
        values,
        space=space,
        max_period_fraction=max_period_fraction,
        min_cycles=min_cycles,
        alpha=alpha,
        max_points=max_points,
        max_frequencies=max_frequencies,
        min_points=min_points,
        full=False,
    )
    assert isinstance(out, Swings)
    return out


def _measure(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    space: Space,
    max_period_fraction: float,
    min_cycles: float,
    alpha: float,
    max_points: int,
    max_frequencies: int,
    min_points: int,
    full: bool,
) -> Oscillation | Swings:
    """:func:`oscillation` (``full``) or :func:`swings`: the same steps, those of ``swings``
    skip what only the other fields of :class:`Oscillation` need."""
    # the swings of a clean curve in a fixed space need only its steps and working values
    fixed = None if full else working(steps, values, space)
    if fixed is None:
        prep = prepare(steps, values, space=space)
        fixed = prep.steps, prep.work, prep.log_space
    p_steps, p_work, log_space = fixed
    n = int(p_steps.size)
    if n < min_points:
        reason = f"only {n} finite points (need {min_points})"
        if full:
            return _nan_osc(n, log_space, reason)
        return _nan_swings(n, log_space, reason)
    bs, bw, _ = bin_medians(p_steps, p_work, max_points=max_points)
    m = bs.size
    W = auto_window(m, frac=max_period_fraction, minimum=5)
    h = W // 2
    trend = median_trend(bw, W)
    resid = bw - trend
    lo, hi = (h, m - h) if m - 2 * h >= max(8, m // 3) else (0, m)
    x, r = bs[lo:hi], resid[lo:hi]
    r = r - median(r)
    nan = float("nan")
    # the level only matters in linear space (rel_to_level); the drop and the texture of the
    # smooth only for the full measures
    smooth = robust_smooth(bs, bw) if full or not log_space else None
    drop = abs(float(smooth[0] - smooth[-1])) if smooth is not None else nan
    level = float(smooth[-1]) if smooth is not None else nan
    sigma = (
        effective_noise(
            mad_sigma(np.diff(r)) / np.sqrt(2.0),
            bw,
            values=np.asarray(prep.from_work(bw)),
            log_space=log_space,
        )
        if full
        else nan
    )
    amplitude = _half_range(r)

    # Dominant period. When one is found, backfit: re-estimate the trend with the sinusoid
    # removed (so a steep early descent no longer hides the swing), then re-measure.
    dt = float(median(np.diff(bs)))
    T = float(x[-1] - x[0])
    p_min = 2.5 * dt
    p_max = min(W * dt, T / max(min_cycles, 1.0))
    pk = _peak(x, r, p_min, p_max, max_frequencies)
    if pk is not None and pk.fap < alpha and pk.n_cycles >= min_cycles:
        for _ in range(2):
            om = 2 * np.pi / pk.period
            sine = pk.coef[0] * np.cos(om * bs) + pk.coef[1] * np.sin(om * bs)
            trend = median_trend(bw - sine, W)
            resid = bw - trend
            r = resid[lo:hi] - median(resid[lo:hi])
            new_pk = _peak(x, r, p_min, p_max, max_frequencies)
            if new_pk is None:
                break
            pk = new_pk
        amplitude = _half_range(r)
    period = pk.period if pk is not None else None
    power = pk.power if pk is not None else nan
    fap = pk.fap if pk is not None else nan
    n_cycles = pk.n_cycles if pk is not None else nan
    sine_amp = pk.amp if pk is not None else nan
    sine_r2 = pk.r2 if pk is not None else nan
    periodic = bool(pk is not None and pk.fap < alpha and pk.n_cycles >= min_cycles)

    # Does the swing shrink? Amplitude per segment of the residual.
    K = int(min(6, max(3, r.size // 20)))
    amps = np.array([_half_range(sg) for sg in _split(r, K) if sg.size >= 3])
    ratio = float(amps[-1] / amps[0]) if amps.size >= 2 and amps[0] > 0 else nan

    # Texture: residual autocorrelation (and, below, slope sign changes of the smoothed curve)
    rc = r - r.mean()
    den = float(np.sum(rc * rc))
    lag1 = float(np.sum(rc[:-1] * rc[1:]) / den) if den > 0 else nan
    amplitude_rel_level = rel_to_level(amplitude, level, log_space)
    if not full:
        return Swings(
            amplitude=amplitude,
            amplitude_rel_level=amplitude_rel_level,
            period=period,
            false_alarm=fap,
            periodic=periodic,
            sine_r2=sine_r2,
            amplitude_ratio_late_early=ratio,
            lag1_autocorr=lag1,
            n=n,
            binned=m < n,
            log_space=log_space,
        )
    assert smooth is not None
    amp_tau = nan
    if amps.size >= 3:
        tt = trend_from_arrays(
            np.arange(amps.size, dtype=float), amps, alpha=0.05, max_points=amps.size
        )
        amp_tau = 0.0 if tt.insufficient and tt.reason == "constant values" else tt.tau
    d = np.diff(smooth)
    tiny = 1e-12 * max(float(np.max(np.abs(bw))), 1e-300)
    d = d[np.abs(d) > tiny]
    sc_rate = (
        float(np.count_nonzero(np.diff(np.sign(d)) != 0) / (d.size - 1)) if d.size > 1 else 0.0
    )

    return Oscillation(
        amplitude=amplitude,
        amplitude_rel_drop=amplitude / drop if drop > 0 else float("inf"),
        amplitude_rel_level=amplitude_rel_level,
        noise_sigma=sigma,
        period=period,
        period_power=power,
        false_alarm=fap,
        periodic=periodic,
        n_cycles=n_cycles,
        sine_amplitude=sine_amp,
        sine_r2=sine_r2,
        amplitude_ratio_late_early=ratio,
        amplitude_trend_tau=amp_tau,
        sign_change_rate=sc_rate,
        lag1_autocorr=lag1,
        n=n,
        binned=m < n,
        log_space=log_space,
    )


@dataclass(frozen=True)
class SwingEpisode:
    """The longest stretch of a curve over which it keeps swinging around its trend by at least
    a given fraction of its level. ``start``/``end`` are steps, ``fraction`` the share of the
    curve's step span it covers, ``amplitude_rel_level`` the median local swing over it
    (semi-amplitude as a fraction of the local level), ``at_end`` whether it lasts to the last
    point."""

    start: float
    end: float
    fraction: float
    amplitude_rel_level: float
    at_end: bool


def swing_episode(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    min_amplitude: float,
    trend_fraction: float = 0.3,
    local_fraction: float = 0.15,
    min_points: int = 8,
) -> SwingEpisode | None:
    """Find where a curve swings: detrend with a wide centred rolling median (``trend_fraction``
    of the points; it keeps monotone descents and level steps), measure the local swing as 1.645
    robust sigmas (rolling MAD over ``local_fraction`` of the points) of the residual — half its
    5%-95% range for irregular swings; a pure sinusoid reads ~1.7x its semi-amplitude — and
    return the longest run of points whose local swing is at least ``min_amplitude`` of the
    local level (lulls shorter than the local window do not split it). Positive curves are
    measured in log space, so a swing is relative to where the curve is at the time. None when
    there are fewer than ``min_points`` finite points or no point swings enough."""
    v = np.asarray(values, dtype=float)
    s = np.asarray(steps, dtype=float)
    fin = np.isfinite(v) & np.isfinite(s)
    s, v = s[fin], v[fin]
    if s.size < min_points:
        return None
    log = bool((v > 0).all())
    w = np.log10(v) if log else v
    m = w.size
    trend = median_trend(w, auto_window(m, frac=trend_fraction, minimum=5))
    r = w - trend
    k = auto_window(m, frac=local_fraction, minimum=5)
    dev = np.abs(r - rolling_median(r, window=k))
    local = 1.645 * MAD_TO_SIGMA * median_filter(dev, k)
    if log:
        rel = np.power(10.0, local) - 1.0
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(trend != 0, local / np.abs(trend), np.inf)
    on = rel >= min_amplitude
    if not on.any():
        return None
    # longest run of swinging points; a lull shorter than the local window is within the
    # resolution of the local measure and does not split an episode
    edges = np.diff(np.r_[0, on.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    keep = np.r_[True, starts[1:] - ends[:-1] - 1 > k]
    starts, ends = starts[keep], np.r_[ends[np.flatnonzero(keep)[1:] - 1], ends[-1]]
    i = int(np.argmax(s[ends] - s[starts]))
    a, b = int(starts[i]), int(ends[i])
    # the rolling windows shrink to nothing at the edges, so a swing that lasts to the end of
    # the curve fades out over the last half-window: count that as reaching the end
    if b >= m - 1 - k // 2:
        b = m - 1
    span = float(s[-1] - s[0]) or 1.0
    return SwingEpisode(
        start=float(s[a]),
        end=float(s[b]),
        fraction=float((s[b] - s[a]) / span),
        amplitude_rel_level=float(median(rel[a : int(ends[i]) + 1])),
        at_end=b == m - 1,
    )


@dataclass(frozen=True)
class CadenceSwings:
    """How much a curve zig-zags from one logged point to the next, in its most swinging stretch.

    Each point where the curve turns (a local peak or trough between its two neighbours) gets a
    swing of half its second difference, as a fraction of the level (a curve alternating between
    ``t*(1+a)`` and ``t/(1+a)`` around a smooth trend ``t`` reads ``a`` at every point); a point
    where the curve keeps going one way gets 0, so a falling, flat or rising trend reads zero
    however curved it is. ``amplitude`` is a high quantile (two thirds) of those swings over the
    stretch: a third of its points or more swing at least that much. ``reversals`` is the share of
    consecutive moves in the stretch that change direction (about 2/3 for white noise, 1 for a
    zig-zag, near 0 for a smooth curve); ``start``/``end`` are steps and ``fraction`` the share
    of the run the stretch covers. ``since_strong`` counts the points logged after the last one
    that swung by ``strong`` or more (all of them when none did; 0 when no ``strong`` was
    asked for)."""

    amplitude: float
    reversals: float
    start: float
    end: float
    fraction: float
    points: int
    since_strong: int = 0


#: windows at least this long are taken one at a time by :func:`cadence_swings`
_WINDOW_LOOP = 4096


def cadence_swings(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    window_fraction: float = 0.25,
    min_window: int = 7,
    quantile: float = 2 / 3,
    strong: float | None = None,
) -> CadenceSwings | None:
    """The stretch of at least ``window_fraction`` of the points (and ``min_window`` turning
    points or not) over which a positive curve zig-zags most, measured in log space so that a
    swing is relative to where the curve is at the time. The ``quantile`` of the swings in a
    window of seven or more: one isolated spike (one peak, and at most one trough beside it) or
    one level step cannot make a stretch swing. With ``strong``, how many points ago the curve
    last swung by that fraction of its level or more (``since_strong``). None for fewer than
    ``min_window + 2`` finite points or a curve that is not positive."""
    v = np.asarray(values, dtype=float)
    s = np.asarray(steps, dtype=float)
    fin = np.isfinite(v) & np.isfinite(s)
    s, v = s[fin], v[fin]
    if s.size < min_window + 2 or not (v > 0).all():
        return None
    x = np.log(v)
    d1 = np.diff(x)
    turns = d1[:-1] * d1[1:] < 0
    z = np.where(turns, np.abs(np.diff(d1)) / 4.0, 0.0)  # z[j] belongs to point j + 1
    m = z.size
    w = min(m, max(min_window, int(np.ceil(window_fraction * m))))
    # at most ~500 evenly spaced window starts: the cost stays linear in the points
    # (a window a quarter of a 40,000-point curve wide, at every start, would be quadratic)
    stride = max(1, (m - w + 1) // 500)
    starts = np.arange(0, m - w + 1, stride)
    windows = np.lib.stride_tricks.sliding_window_view(z, w)
    if w >= _WINDOW_LOOP:
        # long windows one at a time: the same numbers without copying all of them first (500
        # windows a quarter of a 250,000-point curve wide: 250 MB, and ~3x slower)
        q = np.array([_order.quantile(windows[i], quantile) for i in starts])
    else:
        q = _order.row_quantile(windows[starts], quantile)
    best = int(np.argmax(q))
    i, top = int(starts[best]), float(q[best])
    rev = d1[i : i + w + 1]
    share = float(np.mean(rev[:-1] * rev[1:] < 0)) if rev.size > 1 else 0.0
    a, b = i, i + w + 1  # points i .. i+w+1 take part in the window's second differences
    span = float(s[-1] - s[0]) or 1.0
    since = 0
    if strong is not None:
        hits = np.flatnonzero(z >= np.log1p(strong))
        since = int(s.size - 2 - hits[-1]) if hits.size else int(s.size)
    return CadenceSwings(
        amplitude=float(np.expm1(top)),
        reversals=share,
        start=float(s[a]),
        end=float(s[b]),
        fraction=float((s[b] - s[a]) / span),
        points=w + 2,
        since_strong=since,
    )


# --------------------------------------------------------------------------------------------
# Swings at the evaluation cadence (the pieces OSC001 combines)


def white_sigma(w: np.ndarray) -> float:
    """Point-to-point noise of the (binned, working-space) curve ``w``: MAD of second differences,
    blind to slopes and level steps."""
    if w.size < 5:
        return 0.0
    return float(mad_sigma(np.diff(w, n=2)) / np.sqrt(6.0))


def alternations(w: np.ndarray) -> int:
    """How many times the (binned, working-space) curve ``w`` crosses from clearly above its
    running median to clearly below (or back): excursions smaller than half the typical swing
    do not count."""
    if w.size < 6:
        return 0
    r = w - median_trend(w, auto_window(w.size, frac=0.3, minimum=5))
    q05, q95 = quantile(r, [0.05, 0.95])
    band = 0.25 * (q95 - q05)
    signs = np.sign(r[np.abs(r) > band])
    return int(np.count_nonzero(np.diff(signs) != 0)) if signs.size > 1 else 0


def bounce(steps: np.ndarray, values: np.ndarray):
    """(amplitude / level, amplitude / overall scale, late/early ratio, segment steps) of the
    second half of an evaluation-cadence curve (finite points), or None when it is too short."""
    if len(steps) < 8:
        return None
    half = steps >= steps[0] + 0.5 * (steps[-1] - steps[0]) if len(steps) >= 16 else slice(None)
    s, v = steps[half], values[half]
    # swings of a loss are relative to where it is at the time: measure them in log space (a
    # linear residual divided by the final level overstates the swings of a falling curve)
    o = swings(s, v, min_points=6, space="log" if (v > 0).all() else "auto")
    if o.insufficient or not np.isfinite(o.amplitude_rel_level):
        return None
    return (
        float(o.amplitude_rel_level),
        rel_scale(o.amplitude_rel_level, v, values),
        o.amplitude_ratio_late_early,
        s,
    )


def rel_scale(amp_rel_level: float, seg: np.ndarray, whole: np.ndarray) -> float:
    """A swing of ``amp_rel_level`` (fraction of the segment's final level) as a fraction of the
    curve's overall scale (the larger of its start and final levels)."""
    level = float(median(seg[-max(3, len(seg) // 5) :]))
    start = float(median(whole[:3]))
    scale = max(abs(start), abs(level))
    return amp_rel_level * abs(level) / scale if scale > 0 else 0.0


def sampling_noise(rel_se, where) -> float:
    """The swing (1.645 sigma, relative to the level) that sampling noise alone gives interval
    means at ``where`` (an index or mask into ``rel_se``): 1.645 times their median relative
    standard error. 0 when there is none (nothing was averaged, or no interval had 2 points)."""
    if rel_se is None:
        return 0.0
    se = rel_se[where]
    se = se[np.isfinite(se)]
    return 1.645 * float(median(se)) if se.size else 0.0
