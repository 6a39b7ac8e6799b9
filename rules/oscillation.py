"""The loss swings around its trend far beyond normal minibatch noise.

What it detects
---------------
Sustained swings of the training loss (the validation loss when no training loss is logged)
around its trend, in the second half of the run, found in either of two ways:

* regular swings of the logged curve — a zig-zag from one point to the next, waves with a
  dominant period, or swings that stand out from the curve's own point-to-point noise — where
  the curve climbs back up about as much as it falls, over at least two full cycles;
* bouncing at the evaluation cadence — the training loss averaged between validation points
  (epoch means when it is logged per iteration) swings by a large fraction of its level, and the
  validation loss swings too (minibatch noise in the training loss, however large near zero,
  does not move the validation loss; a real swing of the weights does).

Amplitudes are fractions of the loss level (scale-free). Swings that die out, or keep growing
(a run diverging, DIV002), are not reported. Isolated spikes, periodic spikes at epoch
boundaries, a fast early descent and learning-rate step drops are not oscillation.

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
from analyzer.trends.smoothing import auto_window, mad_sigma, rolling_median

from . import _remedies as R
from ._common import clamp01, epoch_level, fmt, last_lr, max_lr, pct

CODE = "OSC001"
NAME = "loss-oscillation"
KIND = "oscillation"


def _work(steps, values) -> tuple[np.ndarray, np.ndarray]:
    """The curve in the working space oscillation() uses: every point, and its bin medians."""
    prep = prepare(steps, values)
    _, binned, _ = bin_medians(prep.steps, prep.work, max_points=2000)
    return prep.work, binned


def _white_sigma(w: np.ndarray) -> float:
    """Point-to-point noise of the (binned, working-space) curve ``w``: MAD of second differences,
    blind to slopes and level steps."""
    if w.size < 5:
        return 0.0
    return float(mad_sigma(np.diff(w, n=2)) / np.sqrt(6.0))


def _alternations(w: np.ndarray) -> int:
    """How many times the (binned, working-space) curve ``w`` crosses from clearly above its
    running median to clearly below (or back): excursions smaller than half the typical swing
    do not count."""
    if w.size < 6:
        return 0
    r = w - rolling_median(w, window=auto_window(w.size, frac=0.3, minimum=5))
    q05, q95 = np.quantile(r, [0.05, 0.95])
    band = 0.25 * (q95 - q05)
    signs = np.sign(r[np.abs(r) > band])
    return int(np.count_nonzero(np.diff(signs) != 0)) if signs.size > 1 else 0


def _finite(c):
    v = np.asarray(c.values, dtype=float)
    fin = np.isfinite(v)
    return np.asarray(c.steps)[fin], v[fin]


def _bounce(steps, values):
    """(amplitude / level, amplitude / overall scale, late/early ratio, segment steps) of the
    second half of an evaluation-cadence curve, or None when it is too short."""
    if len(steps) < 8:
        return None
    half = steps >= steps[0] + 0.5 * (steps[-1] - steps[0]) if len(steps) >= 16 else slice(None)
    s, v = steps[half], values[half]
    o = oscillation(s, v, min_points=6)
    if o.insufficient or not np.isfinite(o.amplitude_rel_level):
        return None
    level = float(np.median(v[-max(3, len(v) // 5) :]))
    start = float(np.median(values[:3]))
    scale = max(abs(start), abs(level))
    amp_abs = o.amplitude_rel_level * abs(level)
    return (
        float(o.amplitude_rel_level),
        amp_abs / scale if scale > 0 else 0.0,
        o.amplitude_ratio_late_early,
        s,
    )


def check(
    curves: CurveSet,
    *,
    min_amplitude: float = 0.05,
    min_up_down: float = 0.5,
    min_excess: float = 2.5,
    min_persistence: float = 0.35,
    min_cycles: float = 2.0,
    min_bounce: float = 0.15,
    min_scale: float = 0.03,
    min_val_bounce: float = 0.1,
    max_growth: float = 4.0,
) -> list[Finding]:
    """``min_amplitude``: swing (semi-amplitude) as a fraction of the loss level below which
    nothing is reported; ``min_up_down``: the curve's rises must add up to at least this share of
    its falls (a staircase or a noisy descent mostly falls); ``min_excess``: swings must be this many times what white
    noise of the curve's point-to-point size would give; ``min_persistence``: late/early amplitude
    ratio below which the swing is considered to have died out; ``min_cycles``: how many full
    up-and-down swings (each beyond half the amplitude) must be seen; ``min_bounce``: on the
    evaluation-cadence curve, swings this large relative to the level count without a regular
    structure, provided the validation loss swings by at least ``min_val_bounce`` of its level
    too (or, with no validation loss, the swings are at least ``min_scale`` of the loss's overall
    scale) and their amplitude does not grow more than ``max_growth`` times over the run."""
    c = curves.train if curves.train is not None else curves.val
    if c is None:
        return []
    # (a) bouncing: the loss at the evaluation cadence (epoch means when training is logged per
    # iteration) swings by a large fraction of its level and of its overall scale
    es, ev = epoch_level(c, curves.val) if c is curves.train else _finite(c)
    bounce = _bounce(es, ev)
    # (b) regular swings of the raw curve that stand out from its point-to-point noise
    steps, values = _finite(c)
    if len(steps) >= 24:
        # "sustained": judge the second half of the run, after the fast early descent
        half = steps >= steps[0] + 0.5 * (steps[-1] - steps[0])
        seg_s, seg_v = steps[half], values[half]
    else:
        seg_s, seg_v = steps, values
    o = oscillation(seg_s, seg_v, min_points=8)
    structured = False
    zigzag = waves = False
    excess = up_down = float("nan")
    cycles = 0.0
    if (
        not o.insufficient
        and np.isfinite(o.amplitude_rel_level)
        and o.amplitude_rel_level >= min_amplitude
    ):
        work, binned = _work(seg_s, seg_v)
        white = 1.645 * _white_sigma(binned)
        excess = o.amplitude / white if white > 0 else float("inf")
        # a swing goes up as well as down: a staircase or a noisy descent mostly goes down
        d = np.diff(work)
        down = float(-d[d < 0].sum())
        up_down = float(d[d > 0].sum() / down) if down > 0 else float("inf")
        zigzag = bool(
            np.isfinite(o.lag1_autocorr)
            and o.lag1_autocorr <= -0.4
            and o.amplitude_rel_level >= 2 * min_amplitude
        )
        waves = bool(o.periodic and np.isfinite(o.sine_r2) and o.sine_r2 >= 0.3 and excess >= 1.5)
        swings = excess >= min_excess
        cycles = _alternations(binned) / 2.0
        structured = up_down >= min_up_down and (zigzag or waves or swings) and cycles >= min_cycles
    use_bounce = False
    if bounce is not None and bounce[0] >= min_bounce and np.isfinite(bounce[2]):
        if c is curves.train and curves.val is not None:
            # a real swing of the weights moves the validation loss too; minibatch noise in the
            # training loss (however large near zero) does not
            vb = _bounce(*_finite(curves.val))
            use_bounce = vb is not None and vb[0] >= min_val_bounce
        else:
            use_bounce = bounce[1] >= min_scale
        # swings that keep growing are a run diverging (DIV002), not an oscillation
        use_bounce = use_bounce and bounce[2] < max_growth
    if not (structured or use_bounce):
        return []
    if use_bounce and not structured:
        amp, persistence = bounce[0], bounce[2]
        seg_s = bounce[3]
        o_period = None
    else:
        amp, persistence = float(o.amplitude_rel_level), o.amplitude_ratio_late_early
        o_period = o.period
    if np.isfinite(persistence) and persistence < min_persistence:
        return []  # the swings died out: the run settled
    if structured and zigzag:
        pattern = "zig-zag"
        period = 2.0 * float(np.median(np.diff(seg_s))) if len(seg_s) > 1 else None
    elif structured and waves:
        pattern, period = "periodic", o_period
    else:
        pattern, period = "irregular", o_period if (structured and o.periodic) else None
    lr = last_lr(curves) or max_lr(curves)
    per = f", period ~{fmt(period)} steps" if period else ""
    msg = (
        f"{c.tag} oscillates ({pattern}{per}): swings of ±{pct(amp)} of its level around the "
        f"trend"
        + (
            f", {excess:.1f}x its point-to-point noise"
            if structured and np.isfinite(excess)
            else ""
        )
        + (f"; lr={fmt(lr)}" if lr else "")
    )
    conf = clamp01(
        0.4
        + 0.3 * clamp01((amp - min_amplitude) / (4 * min_amplitude))
        + 0.2 * (zigzag or waves)
        + 0.1 * clamp01((excess - 1) / 4 if np.isfinite(excess) else 1)
    )
    return [
        Finding(
            code=CODE,
            name=NAME,
            kind=KIND,
            severity="warning",
            curve=c.tag,
            start_step=int(seg_s[0]),
            end_step=int(seg_s[-1]),
            confidence=conf,
            message=msg,
            evidence={
                "amplitude_rel_level": amp,
                "amplitude_rel_scale": bounce[1] if bounce else None,
                "period": period,
                "pattern": pattern,
                "excess_over_noise": excess,
                "lag1_autocorr": o.lag1_autocorr if not o.insufficient else None,
                "up_down_ratio": up_down,
                "cycles": cycles,
                "periodic_false_alarm": o.false_alarm if not o.insufficient else None,
                "amplitude_late_over_early": persistence,
                "lr": lr,
            },
            remedies=(
                R.lower_lr(lr, factor=3.0 if amp < 0.15 else 10.0),
                R.lr_schedule(lr),
                R.bigger_batch(lr),
                R.clip_gradients(),
            ),
        )
    ]
