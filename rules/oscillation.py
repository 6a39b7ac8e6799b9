"""The loss swings around its trend far beyond normal minibatch noise.

What it detects
---------------
Sustained swings of the training loss (the validation loss when no training loss is logged)
around its trend: a zig-zag from one point to the next, slow waves with a dominant period, or
bounces so large that the curve's level is unclear. The residual from a robust trend is measured
as a fraction of the loss level (scale-free), compared with the curve's own point-to-point noise
(swings must stand out from it, unless they are large on an epoch-averaged curve), and must still
be there in the last part of the run. Isolated spikes, periodic spikes at epoch boundaries, a fast
early descent and learning-rate step drops are not oscillation.

Why it matters
--------------
A loss that bounces this much is taking steps too large for the loss surface (learning rate too
high, momentum too high, batches too small): progress is slow and erratic, and the final weights
depend on where in a swing training happened to stop.

What to do
----------
Lower the learning rate (3-10x) or add a decaying schedule (ReduceLROnPlateau, cosine), use larger
batches, lower momentum or Adam's beta1, and clip gradients if swings come with spikes.

Example (flagged)
-----------------
Per-epoch loss ``1.9, 1.1, 1.6, 0.9, 1.5, 0.8, 1.4, 0.9, 1.3`` — a zig-zag of ±30% of the level.

Example (healthy)
-----------------
Per-iteration loss that is noisy point to point but whose running mean falls smoothly; or a few
spikes at every epoch start that vanish within a few steps.
"""

from __future__ import annotations

import numpy as np

from analyzer.curves import CurveSet
from analyzer.findings import Finding
from analyzer.trends.oscillation import oscillation
from analyzer.trends.prep import bin_medians, prepare
from analyzer.trends.smoothing import mad_sigma

from . import _remedies as R
from ._common import clamp01, fmt, last_lr, max_lr, pct

CODE = "OSC001"
NAME = "loss-oscillation"
KIND = "oscillation"


def _white_sigma(steps, values) -> float:
    """Point-to-point noise of the whole curve in the working space oscillation() uses: MAD of
    second differences (blind to slopes and level steps) of the same bin medians."""
    prep = prepare(steps, values)
    _, w, _ = bin_medians(prep.steps, prep.work, max_points=2000)
    if w.size < 5:
        return 0.0
    return float(mad_sigma(np.diff(w, n=2)) / np.sqrt(6.0))


def check(
    curves: CurveSet,
    *,
    min_amplitude: float = 0.05,
    wild_amplitude: float = 0.25,
    min_excess: float = 2.5,
    min_persistence: float = 0.35,
) -> list[Finding]:
    """``min_amplitude``: swing (semi-amplitude) as a fraction of the loss level below which
    nothing is reported; ``wild_amplitude``: on curves of <= 300 points, swings this large count
    even without a regular structure; ``min_excess``: swings must be this many times what white
    noise of the curve's point-to-point size would give; ``min_persistence``: late/early amplitude
    ratio below which the swing is considered to have died out."""
    c = curves.train if curves.train is not None else curves.val
    if c is None:
        return []
    o = oscillation(c.steps, c.values)
    if o.insufficient or not np.isfinite(o.amplitude_rel_level):
        return []
    amp = float(o.amplitude_rel_level)
    if amp < min_amplitude:
        return []
    white = 1.645 * _white_sigma(c.steps, c.values)
    excess = o.amplitude / white if white > 0 else float("inf")
    zigzag = np.isfinite(o.lag1_autocorr) and o.lag1_autocorr <= -0.4
    waves = bool(o.periodic and np.isfinite(o.sine_r2) and o.sine_r2 >= 0.3 and excess >= 1.5)
    swings = excess >= min_excess
    wild = amp >= wild_amplitude and o.n <= 300
    if not (zigzag or waves or swings or wild):
        return []
    persistence = o.amplitude_ratio_late_early
    if np.isfinite(persistence) and persistence < min_persistence:
        return []  # the swings died out: the run settled
    if zigzag:
        pattern, period = "zig-zag", 2.0 * float(np.median(np.diff(c.steps))) if len(c) > 1 else None
    elif waves:
        pattern, period = "periodic", o.period
    else:
        pattern, period = "irregular", o.period if o.periodic else None
    lr = last_lr(curves) or max_lr(curves)
    per = f", period ~{fmt(period)} steps" if period else ""
    msg = (f"{c.tag} oscillates ({pattern}{per}): swings of ±{pct(amp)} of its level around the "
           f"trend" + (f", {excess:.1f}x its point-to-point noise" if np.isfinite(excess) else "")
           + (f"; lr={fmt(lr)}" if lr else ""))
    conf = clamp01(0.4 + 0.3 * clamp01((amp - min_amplitude) / (4 * min_amplitude))
                   + 0.2 * (zigzag or waves) + 0.1 * clamp01((excess - 1) / 4 if np.isfinite(excess) else 1))
    steps = np.asarray(c.steps)
    fin = np.isfinite(np.asarray(c.values, dtype=float))
    return [Finding(
        code=CODE, name=NAME, kind=KIND, severity="warning", curve=c.tag,
        start_step=int(steps[fin][0]), end_step=int(steps[fin][-1]), confidence=conf, message=msg,
        evidence={"amplitude_rel_level": amp, "amplitude_rel_drop": o.amplitude_rel_drop,
                  "period": period, "pattern": pattern, "excess_over_noise": excess,
                  "lag1_autocorr": o.lag1_autocorr, "periodic_false_alarm": o.false_alarm,
                  "amplitude_late_over_early": persistence, "lr": lr},
        remedies=(R.lower_lr(lr, factor=3.0 if amp < 0.15 else 10.0), R.lr_schedule(lr),
                  R.bigger_batch(lr), R.clip_gradients()),
    )]
