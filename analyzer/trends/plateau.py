"""Evidence that a curve has stopped improving, measured at its end.

Three questions a plateau rule asks: how fast is it still improving at the end (scale-free, with
a confidence interval)? Since when has it been flat? And how much of its total improvement came
before the final window?
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .prep import Space, bin_medians, prepare, value_quantum
from .slope import SlopeResult, TrendTest, _nan_slope, _trend_from_arrays, slope_of
from .smoothing import (
    auto_window,
    effective_noise,
    lowess_variance_factor,
    noise_scale,
    robust_smooth,
)

Mode = Literal["min", "max"]


@dataclass(frozen=True)
class PlateauEvidence:
    """End-of-curve improvement numbers. "Improvement" is a decrease for ``mode="min"`` and an
    increase for ``"max"``; positive numbers always mean improving.

    ``improvement_rate``: improvement over one full training span (first to last step) at the
    final window's Theil-Sen slope, working units (``rate_low``/``rate_high`` from its confidence
    interval). ``rate_rel_total``: that rate over the total improvement so far (0.1 = "another 10%
    of what was gained, per whole run length"). ``rate_rel_level``: as a fraction of the final level
    per run length. ``window_trend``: Mann-Kendall test in the window. ``flat_since_step``: the
    earliest step after which the smoothed curve stays within ``band`` (working units) of its final
    level; ``flat_fraction`` the share of the step span since then. ``covered_before_window``:
    share of the total improvement achieved before the final window.
    ``total_improvement_sigma``: the total improvement in raw noise scales (is there any?).
    ``band`` is the median tolerance used over the flat stretch.
    """

    mode: Mode
    start_level: float
    end_level: float
    total_improvement: float
    window_start_step: float
    window_slope: SlopeResult
    improvement_rate: float
    rate_low: float
    rate_high: float
    rate_rel_total: float
    rate_rel_level: float
    window_trend: TrendTest
    flat_since_step: float | None
    flat_fraction: float
    band: float
    covered_before_window: float
    total_improvement_sigma: float
    noise_sigma: float
    n: int
    log_space: bool
    insufficient: bool = False
    reason: str | None = None


def plateau_evidence(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    mode: Mode = "min",
    window_fraction: float = 0.25,
    band_sigmas: float = 3.0,
    band_rel: float = 0.01,
    space: Space = "auto",
    alpha: float = 0.05,
    max_points: int = 1000,
    min_points: int = 6,
) -> PlateauEvidence:
    """Measure how much a curve still improves at its end (see :class:`PlateauEvidence`).

    The final window is the last ``window_fraction`` of the step span (at least 4 points). The
    flatness tolerance at each point is the largest of ``band_sigmas`` standard errors of (smoothed
    value - smoothed final value), a relative ``band_rel`` of the final level, and half the quantum
    of rounded values.
    """
    if mode not in ("min", "max"):
        raise ValueError("mode must be 'min' or 'max'")
    prep = prepare(steps, values, space=space)
    n = prep.n
    nan = float("nan")
    sgn = 1.0 if mode == "min" else -1.0
    if n < min_points or prep.steps[-1] <= prep.steps[0]:
        reason = f"only {n} finite points (need {min_points})"
        sl = _nan_slope(n, prep.log_space, reason)
        tt = TrendTest(nan, nan, nan, nan, "none", n, alpha, True, reason)
        return PlateauEvidence(
            mode,
            nan,
            nan,
            nan,
            nan,
            sl,
            nan,
            nan,
            nan,
            nan,
            nan,
            tt,
            None,
            nan,
            nan,
            nan,
            nan,
            nan,
            n,
            prep.log_space,
            True,
            reason,
        )
    s, w = prep.steps, prep.work
    bs, bw, _ = bin_medians(s, w, max_points=max_points)
    k = auto_window(bs.size, frac=0.1)
    sm_b = robust_smooth(bs, bw, window=k)
    sigma = effective_noise(
        noise_scale(s, w, method="diff2"), w, values=prep.values, log_space=prep.log_space
    )
    start_w, end_w = float(sm_b[0]), float(sm_b[-1])
    total = sgn * (start_w - end_w)
    span = float(s[-1] - s[0])

    # Final window.
    cut = s[-1] - window_fraction * span
    idx0 = int(np.searchsorted(s, cut, side="left"))
    idx0 = min(idx0, max(0, n - 4))
    mask = np.zeros(n, dtype=bool)
    mask[idx0:] = True
    sl = slope_of(prep, mask=mask)
    rate = -sgn * sl.slope * span
    ends = (-sgn * sl.low * span, -sgn * sl.high * span)
    r_lo, r_hi = min(ends), max(ends)
    tt = _trend_from_arrays(s[mask], w[mask], alpha=alpha, max_points=1000)
    end_o = float(prep.from_work(end_w))
    new_o = float(prep.from_work(end_w - sgn * rate))
    rate_rel_level = sgn * (end_o - new_o) / abs(end_o) if end_o != 0 else nan

    # Flatness band and "flat since": a point-by-point tolerance around the final smoothed level,
    # from the smoother's own variance (larger at the ends, where the local line is
    # extrapolated), floored by a relative band and by the quantum of rounded values.
    sigma_b = effective_noise(
        noise_scale(bs, bw, method="diff2"), bw, values=prep.from_work(bw), log_space=prep.log_space
    )
    vf = lowess_variance_factor(bs, window=k)
    rel_band = np.log10(1.0 + band_rel) if prep.log_space else band_rel * abs(end_w)
    bands = np.maximum(band_sigmas * sigma_b * np.sqrt(vf + vf[-1]), rel_band)
    q = value_quantum(prep.values)
    if q is not None and not prep.log_space:
        bands = np.maximum(bands, 0.5 * q)
    outside = np.flatnonzero(np.abs(sm_b - end_w) > bands)
    flat_i = 0 if outside.size == 0 else int(outside[-1]) + 1
    flat_step = float(bs[flat_i]) if flat_i < bs.size else float(s[-1])
    flat_step = max(flat_step, float(s[0]))
    band = float(np.median(bands[flat_i:])) if flat_i < bs.size else float(bands[-1])
    w_start_step = float(s[idx0])
    sm_at_window = float(np.interp(w_start_step, bs, sm_b))
    covered = sgn * (start_w - sm_at_window) / total if total != 0 else nan
    return PlateauEvidence(
        mode=mode,
        start_level=float(prep.from_work(start_w)),
        end_level=end_o,
        total_improvement=total,
        window_start_step=w_start_step,
        window_slope=sl,
        improvement_rate=rate,
        rate_low=r_lo,
        rate_high=r_hi,
        rate_rel_total=rate / total if total > 0 else nan,
        rate_rel_level=rate_rel_level,
        window_trend=tt,
        flat_since_step=flat_step,
        flat_fraction=(float(s[-1]) - flat_step) / span,
        band=band,
        covered_before_window=covered,
        total_improvement_sigma=total / sigma,
        noise_sigma=sigma,
        n=n,
        log_space=prep.log_space,
    )
