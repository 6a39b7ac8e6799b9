"""The learning-rate schedule's cycles, and how a loss moves with them.

A cyclic schedule (triangular, one-cycle repeated, cosine with warm restarts) raises the learning
rate again and again; a loss that climbs back up with every raise swings with the schedule
(LABELS-SPEC counts regular periodic swings as oscillation). Both are measured in ratios: a cycle
is a rise of the learning rate by ``factor`` or more from a trough and a fall by ``factor`` from
the peak; a loss's bump is its highest value during a cycle over its value when the cycle began.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LRCycle:
    """One cycle of the learning rate: the step it starts rising from (``start``), its peak,
    and the step where it has fallen back (``end``: the next trough, or the last step)."""

    start: float
    peak: float
    end: float


def lr_cycles(steps: np.ndarray, lr: np.ndarray, *, factor: float = 2.0) -> list[LRCycle]:
    """The cycles of a learning-rate curve: each a rise by ``factor`` or more from a trough to a
    peak that is followed by a fall by ``factor`` or more (a warm-up followed by a decay is one
    cycle; a constant or only decaying rate has none). Extremes are confirmed as in a zig-zag
    filter: a peak once the rate has fallen ``factor`` below it, a trough once it has risen
    ``factor`` above it, so small wiggles and noise in a logged rate do not count. Finite,
    positive values only."""
    s = np.asarray(steps, dtype=float)
    v = np.asarray(lr, dtype=float)
    ok = np.isfinite(s) & np.isfinite(v) & (v > 0)
    s, x = s[ok], np.log(v[ok])
    if x.size < 3:
        return []
    band = float(np.log(factor))
    pivots: list[tuple[int, bool]] = []  # confirmed extremes, alternating: (index, is a peak)
    lo = hi = 0
    trend = 0  # +1 rising (a trough confirmed last), -1 falling (a peak confirmed last)
    for i in range(1, x.size):
        if trend >= 0 and x[i] > x[hi]:
            hi = i
        if trend <= 0 and x[i] < x[lo]:
            lo = i
        if trend >= 0 and x[hi] - x[i] >= band and (trend == 1 or hi < i):
            pivots.append((hi, True))
            trend, lo = -1, i
        elif trend <= 0 and x[i] - x[lo] >= band:
            pivots.append((lo, False))
            trend, hi = 1, i
    out = []
    for k in range(1, len(pivots)):
        (i, is_peak), (start, _) = pivots[k], pivots[k - 1]
        if is_peak:  # preceded by a confirmed trough, followed by a fall of ``factor``
            end = pivots[k + 1][0] if k + 1 < len(pivots) else x.size - 1
            out.append(LRCycle(float(s[start]), float(s[i]), float(s[end])))
    return out


def cycle_bumps(steps: np.ndarray, values: np.ndarray, cycles: list[LRCycle]) -> np.ndarray:
    """For each cycle, how far a positive curve climbs during it: its highest value after the
    cycle's start (up to its end) over its last value at or before the start, minus one (0.5:
    up by half; negative when it only fell). NaN for a cycle with no point before or during it."""
    s = np.asarray(steps, dtype=float)
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(s) & np.isfinite(v)
    s, v = s[ok], v[ok]
    out = np.full(len(cycles), np.nan)
    for k, c in enumerate(cycles):
        before = v[s <= c.start]
        during = v[(s > c.start) & (s <= c.end)]
        if before.size and during.size and before[-1] > 0:
            out[k] = float(during.max() / before[-1] - 1.0)
    return out
