"""The loss swings around its trend far beyond normal minibatch noise.

What it detects
---------------
Sustained swings of the training loss (the validation loss when no training loss is logged)
around its trend, found in any of five ways:

* regular swings of the logged curve in the second half of the run — a zig-zag from one point
  to the next (at the evaluation cadence: between minibatches it is noise), waves with a
  dominant period, or swings that stand out from the curve's own point-to-point noise — where
  the curve climbs back up about as much as it falls, over at least two full cycles;
* bouncing at the evaluation cadence in the second half — the training loss averaged between
  validation points (epoch means when it is logged per iteration; runs of ~sqrt(n) points when
  there is no validation loss) swings by a large fraction of its level, measured in log space
  so a swing is relative to where the loss is at the time;
* an episode — the same bouncing lasts for at least half of the run, even if the loss settles
  (or collapses, as a model that finally memorises its training set) before the end, and is a
  visible fraction of the loss's overall scale; the finding says until which step;
* a validation zig-zag — when none of the above holds for the training loss, the validation
  loss zig-zags from one evaluation to the next by 13% of its level or more at a third or more
  of the points of its most swinging quarter of the run (each turning point's swing measured in
  log space from its second difference; points where the curve keeps going one way count as
  no swing, so a falling, flat or rising trend reads zero), with at least half of its moves
  reversing direction. A validation loss is computed on a fixed set, so it has no minibatch
  sampling noise: such swings are the weights swinging. One spike or one level step cannot make a
  quarter of the run swing. The swings must also show on a linear plot (at least 3% of the
  larger of the curve's starting level and its level there) or be large (x1.5 and /1.5):
  wiggles of a loss that converged to a small fraction of its start show only on a log scale
  and are not reported;
* swings with a cyclic learning rate — the logged learning rate rises and falls by 2x or more
  at least twice (triangular cycles, warm restarts) and the validation loss climbs back up by
  10% of its level or more during a cycle, and by three times its own point-to-point scatter,
  in two cycles or more and in half of them (regular periodic swings count as oscillation,
  LABELS-SPEC), visibly on a linear plot as above. A validation loss that keeps falling through
  the raises, or only scatters under them, is not reported.

When a validation loss is logged (8 evaluations or more), the training loss's swings count only
when the validation loss swings too: by 10% of its level or more in its second half, and visibly
on a linear plot (3% of its overall scale) or by a factor of 1.5. The validation loss is computed
on a fixed set, so it shows whether the weights swing; a training loss swinging beside a calm
validation loss is minibatch noise, however large (LABELS-SPEC), and is not reported.

Swings by a factor of two or more around the trend (x2 and /2) count as visible whatever the
curve's starting scale (on a log plot they stand out at any level) when no validation loss says
otherwise: a training loss bouncing near zero while the validation loss stays smooth is the
minibatch noise of a memorised training set.

A run of adversarial training (a GAN: generator and discriminator losses, no loss minimised
jointly) has no training loss; its generator's and discriminator's losses are judged the same
way, and their bouncing at the evaluation cadence is reported as the oscillation of the run.

A swing must also be real and matter: beyond the sampling noise of the averaged minibatch
losses (their standard error), and either shown by the validation loss (minibatch noise in the
training loss, however large near zero, does not move the validation loss; a real swing of the
weights does) or a visible fraction of the loss's overall scale (not 1e-4 wiggles after a drop
from 1.0). Amplitudes are fractions of the loss level (scale-free). Swings that die out early,
or that keep growing as a run diverges, are not reported. A run that diverges (DIV001/DIV002) is
judged on the part before the divergence (LABELS-SPEC) when that part covers at least half of the
run: swings there are an oscillation too, and the finding says "before the divergence at step N";
a shorter part is the run-up to the divergence, and its swings are part of it. Isolated spikes, periodic spikes at
epoch boundaries, a fast early descent and learning-rate step drops are not oscillation.

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

from dataclasses import replace

import numpy as np

from analyzer.curves import CurveSet
from analyzer.findings import Finding, Mark
from analyzer.trends.oscillation import (
    alternations,
    bounce,
    cadence_swings,
    rel_scale,
    sampling_noise,
    swing_episode,
    swings,
    white_sigma,
)
from analyzer.trends.prep import bin_medians, prepare
from analyzer.trends.schedule import cycle_bumps, lr_cycles

from . import _remedies as R
from ._common import (
    clamp01,
    epoch_means,
    finding,
    finite_or_none,
    fmt,
    last_lr,
    max_lr,
    monitor_name,
    monitor_tag,
    pct,
)

CODE = "OSC001"
NAME = "loss-oscillation"
KIND = "oscillation"
SEVERITY = "warning"
#: a passing state of a run still training can show it: a monitor waits for a second sighting
TRANSIENT = True

#: the evidence that decided a finding, in words, for the HTML report (key: (label, format);
#: formats in analyzer.findings.FACT_FORMATS; the first five present are shown)
FACTS = {
    "amplitude_rel_level": ("swing size, share of the curve's level", "%"),
    "period": ("period", "steps"),
    "reversal_share": ("evaluations that reverse direction", "%"),
    "window_fraction": ("share of the run that zig-zags", "%"),
    "cycles": ("swings seen", "num"),
    "excess_over_noise": ("swing size over the usual noise", "x"),
    "lr_cycles_with_bump": ("learning-rate cycles the loss climbs in", "int"),
    "lr_cycles": ("learning-rate cycles", "int"),
    "lr": ("learning rate", "value"),
}
#: a divergence of the run explains its swings (see analyzer.engine)
DEFERS_TO = ("divergence",)
#: swings by this factor minus one around the trend (x2 and /2) are visible on any log plot and
#: matter at any level: they need not also be a visible fraction of the curve's starting scale
FACTOR_SWING = 1.0
#: the same for the validation loss's own zig-zag (no minibatch noise in it): x1.5 and /1.5
VAL_FACTOR_SWING = 0.5


def _work(steps, values) -> tuple[np.ndarray, np.ndarray]:
    """The curve in the working space swings() uses: every point, and its bin medians."""
    prep = prepare(steps, values)
    _, binned, _ = bin_medians(prep.steps, prep.work, max_points=2000)
    return prep.work, binned


def _finite(c):
    v = np.asarray(c.values, dtype=float)
    fin = np.isfinite(v)
    return np.asarray(c.steps)[fin], v[fin]


def _episode(s, v, rel_se, *, min_bounce, min_fraction, min_scale, min_sampling_excess, factor_ok):
    """The swing episode of the evaluation-cadence curve (s, v) when it covers at least
    ``min_fraction`` of the run, is beyond the sampling noise of interval means, and is a
    visible fraction of the loss's overall scale (an episode that may have ended before the end
    of the run must be big to matter; swings of a loss already near zero do not)."""
    ep = swing_episode(s, v, min_amplitude=min_bounce)
    if ep is None or ep.fraction < min_fraction:
        return None
    inside = (s >= ep.start) & (s <= ep.end)
    if ep.amplitude_rel_level < min_sampling_excess * sampling_noise(rel_se, inside):
        return None
    level = float(np.median(v[inside]))
    scale = max(abs(float(np.median(v[:3]))), abs(float(np.median(v[-3:]))), abs(level))
    material = scale > 0 and (
        ep.amplitude_rel_level * abs(level) / scale >= min_scale
        or (factor_ok and ep.amplitude_rel_level >= FACTOR_SWING)
    )
    return ep if material else None


def _on_linear_plot(amplitude: float, v: np.ndarray, level: float) -> float:
    """A validation loss's swing of ``amplitude`` (a fraction of ``level``, where it swings) as
    a fraction of the curve's scale: the larger of its starting level and that level. Wiggles of
    a loss that converged to a small fraction of its start show only on a log scale."""
    scale = max(float(np.median(v[:3])), level)
    return amplitude * level / scale if scale > 0 else 0.0


def _adversarial(curves: CurveSet) -> list:
    """The generator's loss, then the discriminator's, of a run that logs both (GAN)."""
    gen = [c for c in curves.other_losses if c.role == "generator_loss"]
    disc = [c for c in curves.other_losses if c.role == "discriminator_loss"]
    return gen + disc if gen and disc else []


def _val_zigzag(
    val, *, lr, min_amplitude, min_reversals, min_fraction, min_scale, curves: CurveSet
) -> Finding | None:
    """The validation loss zig-zags at its evaluation cadence. It is computed on a fixed set, so
    it carries no minibatch sampling noise: consecutive evaluations that swing by a visible
    fraction of the level, back and forth over a sizeable part of the run, are the weights
    swinging, whatever the trend underneath (falling, flat or rising)."""
    if val is None:
        return None
    s, v = _finite(val)
    cs = cadence_swings(s, v, window_fraction=min_fraction, strong=min_amplitude)
    if cs is None or cs.amplitude < min_amplitude or cs.reversals < min_reversals:
        return None
    if cs.fraction < min_fraction:
        return None
    # visible on a linear plot too: wiggles of a curve that has converged to a small fraction of
    # where it started show only on a log scale, and are not what anyone calls oscillation
    inside = (s >= cs.start) & (s <= cs.end)
    visible = _on_linear_plot(cs.amplitude, v, float(np.median(v[inside])))
    if visible < min_scale and cs.amplitude < VAL_FACTOR_SWING:
        return None
    size = (
        f"by a factor of ~{1 + cs.amplitude:.1f}"
        if cs.amplitude >= 0.5
        else f"by ±{pct(cs.amplitude)} of its level"
    )
    msg = (
        f"{val.tag} zig-zags from one evaluation to the next {size} between steps "
        f"{fmt(cs.start)} and {fmt(cs.end)} ({pct(cs.reversals)} of its moves reverse direction);"
        " a validation loss has no minibatch noise, so these are the weights swinging"
        + (f"; lr={fmt(lr)}" if lr else "")
    )
    conf = clamp01(
        0.5
        + 0.3 * clamp01((cs.amplitude - min_amplitude) / (3 * min_amplitude))
        + 0.2 * clamp01((cs.reversals - min_reversals) / (1 - min_reversals))
    )
    return finding(
        __name__,
        marks=(Mark("band", "oscillation", start=int(cs.start), end=int(cs.end)),),
        curve=val.tag,
        start_step=int(cs.start),
        end_step=int(cs.end),
        confidence=conf,
        message=msg,
        evidence={
            "pattern": "validation-zig-zag",
            "amplitude_rel_level": cs.amplitude,
            "reversal_share": cs.reversals,
            "window_fraction": cs.fraction,
            "window_points": cs.points,
            # how many evaluations ago it last swung by that much (a live monitor announces
            # swings that are still going on, not an episode that is over)
            "evaluations_since_last_swing": cs.since_strong,
            "amplitude_rel_scale": visible,
        },
        remedies=(
            R.lower_lr(lr, factor=3.0 if cs.amplitude < 0.3 else 10.0, setup=curves.setup),
            R.lr_schedule(lr, setup=curves.setup, tag=monitor_tag(curves)),  # val_loss exists
            R.bigger_batch(lr, setup=curves.setup),
            R.clip_gradients(),
        ),
    )


def _with_lr_cycles(curves: CurveSet, *, min_bump: float, min_scale: float) -> Finding | None:
    """The validation loss climbs back up with the raises of a cyclic learning rate (triangular,
    warm restarts: two cycles or more, each a rise and a fall by 2x): by ``min_bump`` of its
    level or more (and three times its point-to-point scatter) in at least two cycles and in
    half of them. LABELS-SPEC counts such regular periodic swings as oscillation. Like the
    validation zig-zag, the swings must show on a linear plot too (``min_scale`` of the curve's
    scale) or reach a factor of 1.5."""
    val, lr = curves.val, curves.lr
    if val is None or lr is None:
        return None
    cycles = lr_cycles(np.asarray(lr.steps), np.asarray(lr.values))
    if len(cycles) < 2:
        return None
    s, v = _finite(val)
    if s.size < 6 or not (v > 0).all():
        return None
    bumps = cycle_bumps(s, v, cycles)
    seen = bumps[np.isfinite(bumps)]
    # a climb beyond the curve's own scatter: the highest of a cycle's points over one point
    # before it climbs by about two point-to-point standard deviations on noise alone
    noise = white_sigma(np.log(v))
    hits = int(
        np.count_nonzero(np.log1p(np.maximum(seen, -0.99)) >= max(np.log1p(min_bump), 3.0 * noise))
    )
    if seen.size < 2 or hits < 2 or hits < 0.5 * seen.size:
        return None
    amplitude = float(np.median(np.maximum(seen, 0.0)))
    visible = _on_linear_plot(amplitude, v, float(np.median(v)))
    if visible < min_scale and amplitude < VAL_FACTOR_SWING:
        return None
    start, end = cycles[0].start, cycles[-1].end
    lr_now = last_lr(curves) or max_lr(curves)
    msg = (
        f"{val.tag} climbs back up with the cyclic learning rate: by {pct(amplitude)} of its "
        f"level in the median cycle, in {hits} of {seen.size} cycles between steps {fmt(start)} "
        f"and {fmt(end)}; each raise of the rate throws the weights off what they reached"
    )
    conf = clamp01(
        0.5 + 0.3 * clamp01((amplitude - min_bump) / (3 * min_bump)) + 0.2 * hits / seen.size
    )
    return finding(
        __name__,
        marks=(Mark("band", "oscillation", start=int(start), end=int(end)),),
        curve=val.tag,
        start_step=int(start),
        end_step=int(end),
        confidence=conf,
        message=msg,
        evidence={
            "pattern": "lr-cycle-swings",
            "amplitude_rel_level": amplitude,
            "lr_cycles": int(seen.size),
            "lr_cycles_with_bump": hits,
            "amplitude_rel_scale": visible,
        },
        remedies=(
            R.lower_lr(lr_now, factor=3.0, setup=curves.setup),
            R.lr_schedule(lr_now, setup=curves.setup, tag=monitor_tag(curves)),
            R.restore_best(None, monitor_name(curves), monitor_tag(curves)),
        ),
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
    min_sampling_excess: float = 2.0,
    min_episode: float = 0.5,
    min_val_zigzag: float = 0.13,
    min_val_reversals: float = 0.5,
    min_val_fraction: float = 0.25,
    min_lr_cycle_bump: float = 0.1,
) -> list[Finding]:
    """``min_amplitude``: swing (semi-amplitude) as a fraction of the loss level below which
    nothing is reported; ``min_up_down``: the curve's rises must add up to at least this share of
    its falls (a staircase or a noisy descent mostly falls); ``min_excess``: swings must be this
    many times what white noise of the curve's point-to-point size would give;
    ``min_persistence``: late/early amplitude ratio (second half) below which the swing is
    considered to have died out; ``min_cycles``: how many full up-and-down swings (each beyond
    half the amplitude) must be seen; ``min_bounce``: on the evaluation-cadence curve, swings this
    large relative to the level count without a regular structure; ``min_val_bounce``: the
    validation loss swinging this much confirms them; ``min_scale``: without that confirmation
    the swings must be at least this fraction of the loss's overall scale; ``max_growth``: swings
    whose amplitude grows more than this many times are a run diverging;
    ``min_sampling_excess``: swings of interval means must be this many times their sampling
    noise; ``min_episode``: share of the run an episode of bouncing must cover;
    ``min_val_zigzag``: the validation loss zig-zagging from one evaluation to the next by this
    fraction of its level (at a third or more of its points in its most swinging stretch) is
    an oscillation by itself, when at least ``min_val_reversals`` of its moves there change
    direction and the stretch covers ``min_val_fraction`` of the run; ``min_lr_cycle_bump``: with
    a cyclic learning rate, the validation loss climbing this fraction of its level during a
    cycle (in two cycles or more, and half of them) swings with the schedule."""
    swing_options = dict(
        min_amplitude=min_amplitude,
        min_up_down=min_up_down,
        min_excess=min_excess,
        min_persistence=min_persistence,
        min_cycles=min_cycles,
        min_bounce=min_bounce,
        min_scale=min_scale,
        min_val_bounce=min_val_bounce,
        max_growth=max_growth,
        min_sampling_excess=min_sampling_excess,
        min_episode=min_episode,
    )
    found = _swings(curves, **swing_options)
    if found:
        return found
    if curves.train is None and curves.val is None:
        # adversarial training (a GAN): no loss is minimised jointly, so there is no training
        # loss; the generator's and discriminator's losses bouncing at the evaluation cadence
        # (averaged over runs of ~sqrt(n) minibatches) is the oscillation to report
        for adv in _adversarial(curves):
            found = _swings(replace(curves, train=adv), **swing_options)
            if found:
                f = found[0]
                return [
                    replace(
                        f,
                        message=f.message + " (adversarial training: the generator and "
                        "discriminator are not settling)",
                        evidence={**f.evidence, "adversarial": True},
                    )
                ]
    zz = _val_zigzag(
        curves.val,
        lr=last_lr(curves) or max_lr(curves),
        min_amplitude=min_val_zigzag,
        min_reversals=min_val_reversals,
        min_fraction=min_val_fraction,
        min_scale=min_scale,
        curves=curves,  # for its remedies (the run's setup)
    )
    if zz is None:
        zz = _with_lr_cycles(curves, min_bump=min_lr_cycle_bump, min_scale=min_scale)
    return [zz] if zz is not None else []


def _swings(
    curves: CurveSet,
    *,
    min_amplitude,
    min_up_down,
    min_excess,
    min_persistence,
    min_cycles,
    min_bounce,
    min_scale,
    min_val_bounce,
    max_growth,
    min_sampling_excess,
    min_episode,
) -> list[Finding]:
    """Swings of the training loss (the validation loss when no training loss is logged): the
    regular-swing, bouncing and episode paths described in the module docstring."""
    c = curves.train if curves.train is not None else curves.val
    if c is None:
        return []
    # with no validation loss to show that the weights swing, swings by a factor of two are
    # material at any level; with one, a training loss bouncing near zero while the validation
    # loss stays smooth is minibatch noise of a memorised training set
    no_val = curves.val is None or c is curves.val
    # Is a swing real and does it matter? A real swing of the weights moves the validation loss
    # too, while minibatch noise in the training loss (however large near zero) does not.
    # Without a swinging validation loss, the training loss's own swings must be a visible
    # fraction of its overall scale (not 1e-4 wiggles after a drop from 1.0) and, when they are
    # averages of a few sampled minibatch losses, well beyond the sampling noise of those averages.
    # LABELS-SPEC: the validation loss is computed on a fixed set, so it shows whether the
    # weights swing; a training loss that swings while it stays calm (or wiggles only where a
    # log scale shows it) is minibatch noise, whatever its size. With a validation loss to judge
    # by, the training loss's swings count only when it swings too, visibly.
    val_swings = val_quiet = False
    if c is curves.train and curves.val is not None:
        vb = bounce(*_finite(curves.val))
        if vb is not None:
            val_swings = vb[0] >= min_val_bounce and (
                vb[1] >= min_scale or vb[0] >= VAL_FACTOR_SWING
            )
            val_quiet = not val_swings
    if val_quiet:
        # a calm validation loss rules out every path: the raw curve's swings and the bouncing
        # count only when it swings too, and an episode is not looked for
        return []
    # (a) bouncing: the loss at the evaluation cadence (epoch means when training is logged per
    # iteration) swings by a large fraction of its level and of its overall scale
    if c is curves.train:
        es, ev, rel_se = epoch_means(c, curves.val)
    else:
        (es, ev), rel_se = _finite(c), None
    bnc = bounce(es, ev)
    # (b) regular swings of the raw curve that stand out from its point-to-point noise
    steps, values = _finite(c)
    if len(steps) >= 24:
        # "sustained": judge the second half of the run, after the fast early descent
        half = steps >= steps[0] + 0.5 * (steps[-1] - steps[0])
        seg_s, seg_v = steps[half], values[half]
    else:
        seg_s, seg_v = steps, values
    beyond_sampling = bnc is not None and not (
        bnc[0] < min_sampling_excess * sampling_noise(rel_se, slice(-len(bnc[3]), None))
    )
    use_bounce = (
        bnc is not None
        and bnc[0] >= min_bounce
        and np.isfinite(bnc[2])
        and beyond_sampling
        and (val_swings or bnc[1] >= min_scale or (no_val and bnc[0] >= FACTOR_SWING))
        # swings that keep growing are a run diverging (DIV002), not an oscillation
        and bnc[2] < max_growth
    )

    def lasting(ratio: float) -> bool:  # the swings did not die out in the second half
        return not (np.isfinite(ratio) and ratio < min_persistence)

    use_bounce = use_bounce and lasting(bnc[2])
    o = swings(seg_s, seg_v, min_points=8)
    structured = False
    zigzag = waves = False
    excess = up_down = float("nan")
    cycles = 0.0
    material_raw = False
    if (
        not o.insufficient
        and np.isfinite(o.amplitude_rel_level)
        and o.amplitude_rel_level >= min_amplitude
    ):
        work, binned = _work(seg_s, seg_v)
        white = 1.645 * white_sigma(binned)
        excess = o.amplitude / white if white > 0 else float("inf")
        # a swing goes up as well as down: a staircase or a noisy descent mostly goes down
        d = np.diff(work)
        down = float(-d[d < 0].sum())
        up_down = float(d[d > 0].sum() / down) if down > 0 else float("inf")
        # a zig-zag from one point to the next is a swing of the weights only at the evaluation
        # cadence; between consecutive minibatches of a denser log it is minibatch noise
        zigzag = bool(
            rel_se is None
            and np.isfinite(o.lag1_autocorr)
            and o.lag1_autocorr <= -0.4
            and o.amplitude_rel_level >= 2 * min_amplitude
        )
        waves = bool(o.periodic and np.isfinite(o.sine_r2) and o.sine_r2 >= 0.3 and excess >= 1.5)
        above_noise = excess >= min_excess
        cycles = alternations(binned) / 2.0
        structured = (
            up_down >= min_up_down and (zigzag or waves or above_noise) and cycles >= min_cycles
        )
        material_raw = rel_scale(o.amplitude_rel_level, seg_v, values) >= min_scale or (
            no_val and o.amplitude_rel_level >= FACTOR_SWING
        )
    structured = (
        structured and (val_swings or material_raw) and lasting(o.amplitude_ratio_late_early)
    )
    if structured:
        amp, persistence = float(o.amplitude_rel_level), o.amplitude_ratio_late_early
        o_period = o.period
    elif use_bounce:
        amp, persistence = bnc[0], bnc[2]
        seg_s = bnc[3]
        o_period = None
    # (c) an episode: the loss at the evaluation cadence swung for most of the run, and may
    # have settled (or collapsed) before the end
    episode = None
    if not (structured or use_bounce):
        episode = _episode(
            es,
            ev,
            rel_se,
            min_bounce=min_bounce,
            min_fraction=min_episode,
            min_scale=min_scale,
            min_sampling_excess=min_sampling_excess,
            factor_ok=no_val,
        )
        if episode is None:
            return []
        amp, persistence, o_period = episode.amplitude_rel_level, float("nan"), None
        seg_s = es[(es >= episode.start) & (es <= episode.end)]
    if structured and zigzag:
        pattern = "zig-zag"
        period = 2.0 * float(np.median(np.diff(seg_s))) if len(seg_s) > 1 else None
    elif structured and waves:
        pattern, period = "periodic", o_period
    else:
        pattern, period = "irregular", o_period if (structured and o.periodic) else None
    lr = last_lr(curves) or max_lr(curves)
    per = f", period ~{fmt(period)} steps" if period else ""
    verb = "oscillates"
    if episode is not None:
        verb = f"oscillated over {pct(episode.fraction)} of the run" + (
            "" if episode.at_end else f", until step {fmt(episode.end)}"
        )
    # a swing measured in log space is multiplicative: past +50% say "a factor of x"
    size = f"by a factor of ~{1 + amp:.1f}" if amp >= 0.5 else f"of ±{pct(amp)} of its level"
    msg = (
        f"{c.tag} {verb} ({pattern}{per}): swings {size} around the trend"
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
        finding(
            __name__,
            marks=(
                Mark(
                    "band",
                    "oscillation",
                    start=int(seg_s[0]),
                    end=int(seg_s[-1]),
                    period=finite_or_none(period),
                ),
            ),
            curve=c.tag,
            start_step=int(seg_s[0]),
            end_step=int(seg_s[-1]),
            confidence=conf,
            message=msg,
            evidence={
                "amplitude_rel_level": amp,
                "amplitude_rel_scale": bnc[1] if bnc else None,
                "period": period,
                "pattern": pattern,
                "excess_over_noise": excess,
                "lag1_autocorr": o.lag1_autocorr if not o.insufficient else None,
                "up_down_ratio": up_down,
                "cycles": cycles,
                "periodic_false_alarm": o.false_alarm if not o.insufficient else None,
                "amplitude_late_over_early": persistence,
                "episode_fraction": episode.fraction if episode is not None else None,
                "lr": lr,
            },
            remedies=(
                R.lower_lr(lr, factor=3.0 if amp < 0.15 else 10.0, setup=curves.setup),
                R.lr_schedule(
                    lr, monitor=monitor_name(curves), setup=curves.setup, tag=monitor_tag(curves)
                ),
                R.bigger_batch(lr, setup=curves.setup),
                R.clip_gradients(),
            ),
        )
    ]
