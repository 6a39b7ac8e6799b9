"""Change points by PELT (pruned exact linear time), written in numpy.

Two segment models:

* ``"mean"`` — piecewise constant: finds level shifts.
* ``"linear"`` (default) — piecewise linear: finds kinks (where a curve flattens: plateau onset)
  and jumps (a learning-rate drop) alike; each change point reports the *jump* between the two
  segment lines at the boundary, so a rule can tell a kink (jump ~ 0) from a level shift.

Segment costs are residual sums of squares computed in O(1) from cumulative sums; the penalty per
change is ``penalty_scale * k * sigma**2 * log(n)`` (BIC-like, ``k`` = parameters a change adds),
with ``sigma`` the robust noise scale from second differences, so the same settings work at any
scale and noise level. Points further than 4 sigma from a 5-point rolling median are clipped
first so isolated spikes do not become segments; long curves are reduced to bin medians.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .prep import Space, bin_medians, prepare
from .smoothing import effective_noise, noise_scale, rolling_median

SegmentModel = Literal["mean", "linear"]


@dataclass(frozen=True)
class Segment:
    """One segment between change points; indices (inclusive) refer to the prepared arrays.

    ``slope`` (working units per step; 0 for the mean model) and ``start_level``/``end_level``
    (the segment's line at its first and last step) are in the working space.
    """

    start_index: int
    end_index: int
    start_step: float
    end_step: float
    slope: float
    start_level: float
    end_level: float
    n: int


@dataclass(frozen=True)
class ChangePoints:
    """Change points of a curve: ``indices`` (first point of each new segment, in the prepared
    finite arrays), their ``steps``, the ``jumps`` (new line minus old line at the boundary,
    working units) and ``jump_sigmas`` (jumps in noise scales), and all ``segments``."""

    indices: tuple[int, ...]
    steps: tuple[float, ...]
    jumps: tuple[float, ...]
    jump_sigmas: tuple[float, ...]
    segments: tuple[Segment, ...]
    noise_sigma: float
    penalty: float
    model: SegmentModel
    n: int
    binned: bool
    log_space: bool
    insufficient: bool = False
    reason: str | None = None


def _cost_factory(
    x: np.ndarray, y: np.ndarray, model: SegmentModel
) -> Callable[[np.ndarray, int], np.ndarray]:
    z = lambda a: np.concatenate([[0.0], np.cumsum(a)])  # noqa: E731
    Sy, Syy = z(y), z(y * y)
    if model == "mean":

        def cost(s: np.ndarray, t: int) -> np.ndarray:
            m = t - s
            sy = Sy[t] - Sy[s]
            return np.maximum((Syy[t] - Syy[s]) - sy * sy / m, 0.0)

        return cost
    Sx, Sxx, Sxy = z(x), z(x * x), z(x * y)

    def cost_lin(s: np.ndarray, t: int) -> np.ndarray:
        m = t - s
        sx, sy = Sx[t] - Sx[s], Sy[t] - Sy[s]
        sxx = (Sxx[t] - Sxx[s]) - sx * sx / m
        sxy = (Sxy[t] - Sxy[s]) - sx * sy / m
        syy = (Syy[t] - Syy[s]) - sy * sy / m
        with np.errstate(divide="ignore", invalid="ignore"):
            sse = np.where(sxx > 1e-300, syy - sxy * sxy / np.where(sxx > 1e-300, sxx, 1.0), syy)
        return np.maximum(sse, 0.0)

    return cost_lin


def pelt(
    cost: Callable[[np.ndarray, int], np.ndarray], n: int, *, penalty: float, min_size: int
) -> list[int]:
    """Optimal segmentation of ``n`` points minimising sum(cost) + penalty * #changes.

    ``cost(s_array, t)`` returns the cost of segments ``[s, t)`` for each start in ``s_array``.
    Returns the sorted change positions (first index of each new segment).
    """
    if n < 2 * min_size:
        return []
    F = np.full(n + 1, np.inf)
    F[0] = -penalty
    last = np.zeros(n + 1, dtype=int)
    cands = np.array([0])
    for t in range(min_size, n + 1):
        new = t - min_size
        if new >= min_size:
            cands = np.append(cands, new)
        c = cost(cands, t)
        tot = F[cands] + c + penalty
        i = int(np.argmin(tot))
        F[t] = tot[i]
        last[t] = cands[i]
        cands = cands[F[cands] + c <= F[t]]
    cps: list[int] = []
    t = n
    while t > 0:
        s = int(last[t])
        if s > 0:
            cps.append(s)
        t = s
    return sorted(cps)


def _line(x: np.ndarray, y: np.ndarray, model: SegmentModel) -> tuple[float, float]:
    if model == "mean" or x.size < 2 or np.ptp(x) == 0:
        return 0.0, float(np.mean(y))
    slope, icpt = np.polyfit(x, y, 1)
    return float(slope), float(icpt)


def change_points(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    model: SegmentModel = "linear",
    penalty_scale: float = 2.0,
    min_size: int | None = None,
    space: Space = "auto",
    max_points: int = 1000,
    prefilter: int = 5,
) -> ChangePoints:
    """Detect change points with PELT (see the module docstring).

    ``min_size`` is the shortest segment in (binned) points, default 3 for ``"mean"`` and 4 for
    ``"linear"``. ``prefilter`` is the rolling-median window of the spike clipping (1 disables it).
    Raise ``penalty_scale`` for fewer change points (e.g. autocorrelated per-iteration noise).
    """
    prep = prepare(steps, values, space=space)
    n = prep.n
    ms = min_size if min_size is not None else (3 if model == "mean" else 4)
    nan = float("nan")
    if n < 2 * ms:
        return ChangePoints(
            (),
            (),
            (),
            (),
            (),
            nan,
            nan,
            model,
            n,
            False,
            prep.log_space,
            True,
            f"only {n} finite points (need {2 * ms})",
        )
    bs, bw, starts = bin_medians(prep.steps, prep.work, max_points=max_points)
    m = bs.size
    sigma = effective_noise(
        noise_scale(bs, bw, method="diff2"), bw, values=prep.from_work(bw), log_space=prep.log_space
    )
    if prefilter > 1:
        # Winsorise around a short rolling median: isolated spikes are clipped to 4 sigma, while
        # ordinary points (and so the white-noise calibration of the penalty) are untouched.
        base = rolling_median(bw, window=prefilter)
        y = base + np.clip(bw - base, -4 * sigma, 4 * sigma)
    else:
        y = bw
    # Normalise for numerical stability of the cumulative sums.
    x0, xs = bs[0], max(bs[-1] - bs[0], 1e-300)
    y0, ys = float(np.mean(y)), float(np.std(y)) or 1.0
    xn, yn = (bs - x0) / xs, (y - y0) / ys
    k = 2 if model == "mean" else 3
    pen_n = penalty_scale * k * (sigma / ys) ** 2 * np.log(max(m, 2))
    cps = pelt(_cost_factory(xn, yn, model), m, penalty=pen_n, min_size=ms)

    bounds = [0, *cps, m]
    lines: list[tuple[float, float]] = []
    segments: list[Segment] = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        sl, ic = _line(bs[a:b], y[a:b], model)
        lines.append((sl, ic))
        ia = int(starts[a])
        ib = int(starts[b] - 1) if b < m else n - 1
        segments.append(
            Segment(
                start_index=ia,
                end_index=ib,
                start_step=float(prep.steps[ia]),
                end_step=float(prep.steps[ib]),
                slope=sl,
                start_level=ic + sl * float(bs[a]),
                end_level=ic + sl * float(bs[b - 1]),
                n=ib - ia + 1,
            )
        )
    jumps: list[float] = []
    for j, c in enumerate(cps):
        xm = 0.5 * (bs[c - 1] + bs[c])
        (s0, i0), (s1, i1) = lines[j], lines[j + 1]
        jumps.append((i1 + s1 * xm) - (i0 + s0 * xm))
    idx = tuple(int(starts[c]) for c in cps)
    return ChangePoints(
        indices=idx,
        steps=tuple(float(prep.steps[i]) for i in idx),
        jumps=tuple(jumps),
        jump_sigmas=tuple(j / sigma for j in jumps),
        segments=tuple(segments),
        noise_sigma=sigma,
        penalty=pen_n * ys * ys,
        model=model,
        n=n,
        binned=m < n,
        log_space=prep.log_space,
    )
