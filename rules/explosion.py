"""The training loss blows up: it climbs far above its best level and stays there.

What it detects
---------------
A training loss that, after reaching its best (smoothed) level, rises to several times that level
and does not come back down before the end of the run: an explosion, a sustained climb, or a
spike the run never recovers from. A loss that made real progress (its best a fifth or more below
its start) and gives all of it back, ending above where it started, diverges too even when that
is less than twice its best. The rise is measured as a ratio of loss levels (scale-free)
and must be well beyond the curve's own noise and a material part of the progress made.
The *validation* loss diverges on its own when it jumps by 10x or more, between two
evaluations or within a twentieth of its evaluations (a jump between two epochs spreads over
several evaluations when it is evaluated several times an epoch: the verdict must not depend on
the cadence), to at least 10x its best so far (or climbs to 100x it) and stays there, never
coming back near its best (one that keeps returning to it is swinging: OSC001), or when it rose
to 10x its best and then froze, repeating one value (within 1%, without drift) for the last
quarter of the evaluations or more, whatever the training loss shows (a running mean or a training-mode loss
can hide weights that blew up); a validation loss that rises by tens of percent while the training loss keeps falling is
overfitting (OVF001), not divergence; one that ends three times its first value or more while
the training loss ends no lower than its own first value rose together with it: the run
kept nothing it learned, which is divergence too; so is a bounded validation metric (accuracy,
F1) that falls to half its best or less for good while the validation loss ends above its first
value (a classifier collapsed to a constant prediction: its loss ends near ln(C), short of
"several times" its start, but it gave back what it learned). A validation loss that is already 100x or more above the
training loss at its first evaluations and stays far above the training loss's starting level
diverged within the first interval (or is not computed like the training loss: inputs scaled
differently, a sum instead of a mean): a training loss that falls, or even memorises its data,
starts next to its validation loss. When validation losses were logged after
the onset, they must have got worse too: a surge of a noisy training loss (small batches) that
leaves the validation loss as good as before is not the weights being thrown off.

Why it matters
--------------
Once the optimizer has thrown the weights out of the good region, further training rarely brings
them back; compute spent after the onset is wasted and the final weights are worse than an
earlier checkpoint.

What to do
----------
Lower the learning rate (typically 3-10x), clip gradients, add a warm-up or a decaying schedule,
and restore the checkpoint from before the onset.

Example (flagged)
-----------------
``2.3, 1.1, 0.6, 0.5, 0.9, 2.8, 7.5, 9.1, 8.8`` — best 0.5, ends 17x higher.

Example (healthy)
-----------------
``2.3, 1.1, 0.6, 0.5, 0.52, 0.49, 0.47`` — small bumps within noise, no sustained rise.
"""

from __future__ import annotations

import numpy as np

from analyzer.curves import CurveSet
from analyzer.findings import Finding, Mark
from analyzer.trends.extremum import OffScale, risen_from_start, val_off_scale

from . import _remedies as R
from ._common import (
    checkpoint_before,
    clamp01,
    diverged,
    finding,
    fmt,
    last_lr,
    levels,
    max_lr,
    metric_collapse,
    monitor_name,
    monitor_tag,
    train_ends_above_start,
)

CODE = "DIV002"
NAME = "loss-explosion"
KIND = "divergence"
SEVERITY = "error"
#: a passing state of a run still training can show it: a monitor waits for a second sighting
TRANSIENT = True

#: the evidence that decided a finding, in words, for the HTML report (key: (label, format);
#: formats in analyzer.findings.FACT_FORMATS; the first five present are shown)
FACTS = {
    "onset_step": ("blow-up starts", "step"),
    "best_value": ("best value before it", "value"),
    "final_value": ("final value", "value"),
    "level_after": ("level after the blow-up", "value"),
    "ratio": ("rise over the best value", "x"),
    "ratio_at_start": ("validation over training loss at the first evaluation", "x"),
    "ratio_overall": ("validation over training loss, whole run", "x"),
    "rise_noise_units": ("rise, in units of the curve's noise", "noise"),
    "evaluations_after": ("evaluations after the blow-up", "int"),
}


def _val_change(val, onset: int) -> float | None:
    """Relative change of the validation loss after ``onset`` (median of the evaluations from
    there on) over its best before it; +inf when it turned non-finite; None when it cannot tell
    (no validation loss, none logged before or after the onset, or a non-positive loss)."""
    if val is None or not len(val):
        return None
    s = np.asarray(val.steps)
    v = np.asarray(val.values, dtype=float)
    before, after = v[s < onset], v[s >= onset]
    if not after.size or not np.isfinite(before).any():
        return None
    if not np.isfinite(after).all():
        return float("inf")
    best = float(np.nanmin(before))
    if best <= 0 or (after <= 0).any():
        return None
    return float(np.median(after) / best - 1.0)


def _joint_rise(curves: CurveSet, *, min_ratio: float) -> dict | None:
    """The validation loss ends ``min_ratio`` times above its first value or more
    (``risen_from_start``) while the training loss ends no lower than its first value: both
    rose together, which LABELS-SPEC calls divergence ("the loss ends far above where it
    started"), not overfitting (a validation loss rising while the training loss keeps
    falling)."""
    val = curves.val
    if val is None or not train_ends_above_start(curves.train):
        return None
    s = np.asarray(val.steps)
    v = np.asarray(val.values, dtype=float)
    fin = np.isfinite(v)
    s, v = s[fin], v[fin]
    i = risen_from_start(v, min_ratio=min_ratio)
    if i is None:
        return None
    level = float(np.median(v[-max(3, v.size // 3) :]))
    return {
        **_rise(s, v, i, level, "validation-and-training-rise"),
        "first_value": float(v[0]),
    }


def _rise(s: np.ndarray, v: np.ndarray, i: int, level: float, pattern: str) -> dict:
    """The evidence of a validation loss (finite steps ``s``, values ``v``) that rose from the
    evaluation ``i`` on to ``level``: its best before, the ratio, the jump at ``i``."""
    base = float(np.min(v[:i]))
    return {
        "onset_step": int(s[i]),
        "best_value": base,
        "best_step": int(s[:i][np.argmin(v[:i])]),
        "level_after": level,
        "ratio": level / base,
        "jump": float(v[i] / v[i - 1]),
        "evaluations_after": int(v.size - i),
        "pattern": pattern,
    }


def _collapse(curves: CurveSet, *, max_fraction: float) -> dict | None:
    """The validation metric collapsed to ``max_fraction`` of its best or less and stays there
    while the validation loss ends above its first value (``_common.metric_collapse``), as a
    validation-loss finding's evidence."""
    mc = metric_collapse(curves, max_fraction=max_fraction)
    if mc is None:
        return None
    val = curves.val
    assert val is not None  # metric_collapse needs it
    s = np.asarray(val.steps)
    v = np.asarray(val.values, dtype=float)
    before = np.isfinite(v) & (s < mc["onset_step"])
    if not before.any():
        return None
    ib = int(np.argmin(np.where(before, v, np.inf)))
    return {
        **mc,
        "best_value": float(v[ib]),
        "best_step": int(s[ib]),
        "level_after": mc["val_end"],
        "ratio": mc["val_end"] / float(v[ib]) if v[ib] > 0 else float("nan"),
        "jump": float("nan"),
        "pattern": "metric-collapse",
    }


def _val_blowup(val, *, min_ratio: float, min_jump: float) -> dict | None:
    """The validation loss jumps by orders of magnitude above its best so far and stays there:
    the weights were thrown off even if the training loss (a running mean, or computed in
    training mode) hides it. Overfitting raises a validation loss gradually and by tens of
    percent; this is an abrupt jump of ``min_jump`` times or more (between two evaluations, or
    within a twentieth of the evaluations: :func:`analyzer.trends.extremum.blowup_onset`) to a
    level at least ``min_jump`` times the best before it (``min_ratio`` times when it rose
    gradually), held by the evaluations after it."""
    if val is None or len(val) < 3:
        return None
    s = np.asarray(val.steps)
    v = np.asarray(val.values, dtype=float)
    fin = np.isfinite(v)
    s, v = s[fin], v[fin]
    at = diverged(val, min_jump=min_jump, min_ratio=min_ratio)
    if at is None:
        return None
    i = at[0]
    pattern = "validation-frozen-after-blow-up" if at[1] else "validation-blow-up"
    return _rise(s, v, i, float(np.median(v[i:])), pattern)


def check(
    curves: CurveSet,
    *,
    min_ratio: float = 2.0,
    min_noise_units: float = 5.0,
    min_progress_fraction: float = 0.1,
    min_val_rise: float = 0.1,
    min_val_blowup: float = 100.0,
    min_val_jump: float = 10.0,
    min_val_offset: float = 100.0,
    min_joint_rise: float = 3.0,
    max_metric_collapse: float = 0.5,
) -> list[Finding]:
    """``min_ratio``: final/best level that counts as an explosion (for positive losses);
    ``min_noise_units``: the rise must exceed this many noise sigmas; ``min_progress_fraction``:
    ... and this fraction of the progress made from the start to the best level, unless the loss
    ends above where it started; ``min_val_rise``: when validation losses were logged after the
    onset, their median must be at least this fraction above the best validation loss before it
    (a training-loss surge that leaves the validation loss as good as it was is noise, not
    weights thrown out of the good region); ``min_val_blowup`` and ``min_val_jump``: the
    validation loss alone diverges when it jumps ``min_val_jump`` times or more (between two
    evaluations, or within a twentieth of them) to a level ``min_val_jump`` times its best so far (or rises to ``min_val_blowup``
    times it) and stays there, whatever the training loss does; ``min_val_offset``: ... or it
    starts this many times above the training loss and stays ten times above the training loss's
    starting level; ``min_joint_rise``: ... or it ends this many times above its first value
    while the training loss ends no lower than it started (both rose: nothing was learned that
    lasted); ``max_metric_collapse``: ... or a bounded validation metric (accuracy, F1) ends at
    this fraction of its best or less, for good, while the validation loss ends above its first
    value (the model gave back what it learned)."""
    found = _train_explosion(
        curves,
        min_ratio=min_ratio,
        min_noise_units=min_noise_units,
        min_progress_fraction=min_progress_fraction,
        min_val_rise=min_val_rise,
    )
    if found:
        return found
    vb = _val_blowup(curves.val, min_ratio=min_val_blowup, min_jump=min_val_jump)
    if vb is None:
        vb = _joint_rise(curves, min_ratio=min_joint_rise)
    if vb is None:
        vb = _collapse(curves, max_fraction=max_metric_collapse)
    if vb is not None:
        return [_val_finding(curves, vb)]
    if curves.train is not None and curves.val is not None:
        off = val_off_scale(
            curves.train.steps,
            curves.train.values,
            curves.val.steps,
            curves.val.values,
            min_ratio=min_val_offset,
        )
        if off is not None:
            return [_offscale_finding(curves, off)]
    return []


def _train_explosion(
    curves: CurveSet, *, min_ratio, min_noise_units, min_progress_fraction, min_val_rise
) -> list[Finding]:
    """The training loss rises far above its best and stays there (the checks of ``check``)."""
    c = curves.train
    if c is None:
        return []
    L = levels(c)
    if L is None:
        return []
    steps, sm, v = L.steps, L.smooth, L.prep.values
    after = steps > L.best_step
    if after.sum() < 2:
        return []
    rise = L.final - L.best
    if rise <= 0:
        return []
    progress = max(L.initial - L.best, 0.0)
    # a loss that is never negative (per-batch losses can be exactly 0) has meaningful ratios
    if L.positive or (L.best > 0 and bool(np.all(L.prep.values >= 0))):
        ratio = L.final / L.best
        # ... and "gave back all its progress" is a divergence even below min_ratio: it made
        # real progress (its best a fifth or more below the start) and ends above its start
        big_enough = ratio >= min_ratio or (L.final >= L.initial and L.best <= 0.8 * L.initial)
    else:
        ratio = float("nan")
        big_enough = rise >= max(progress, abs(L.best)) * (min_ratio - 1.0)
    rise_units = L.units(L.best, L.final)
    beyond_noise = rise_units >= min_noise_units
    material = rise >= min_progress_fraction * progress or L.final >= L.initial
    if not (big_enough and beyond_noise and material):
        return []
    # onset: where the smoothed curve clearly leaves its best level for good
    depart = max(L.above(L.best, 3.0), L.best + (0.1 * abs(L.best) if L.positive else 0.05 * rise))
    above = after & (sm >= depart)
    stays = np.flip(np.logical_and.accumulate(np.flip(above)))  # above from here to the end
    onset = int(steps[np.argmax(stays)]) if stays.any() else int(steps[after][0])
    post = steps >= onset
    # sustained: most raw points after the onset stay clearly above the best level
    sustained = float(np.mean(v[post] >= depart)) if post.any() else 0.0
    if sustained < 0.6:
        return []
    val_change = _val_change(curves.val, onset)
    if val_change is not None and val_change < min_val_rise:
        return []  # the weights were not thrown off: the validation loss did not get worse
    lr = last_lr(curves) or max_lr(curves)
    log_ratio = np.log10(ratio) if np.isfinite(ratio) else 1.0
    conf = clamp01(0.5 + 0.5 * min(1.0, log_ratio / 1.0) * sustained)
    ends_above_start = L.final >= L.initial
    msg = (
        f"{c.tag} explodes: best smoothed level {fmt(L.best)} at step {L.best_step:,}, then rises to "
        f"{fmt(L.final)}"
        + (f" ({fmt(ratio)}x)" if np.isfinite(ratio) else "")
        + f" from step {onset:,} and does not recover"
        + (" — it ends above where it started" if ends_above_start else "")
    )
    severe = ends_above_start or bool(np.isfinite(ratio) and ratio >= 10.0)
    return [
        finding(
            __name__,
            transient=not severe,  # a mild rise can still come back down
            marks=(Mark("vline", "diverge", start=onset),),
            curve=c.tag,
            start_step=onset,
            end_step=L.last_step,
            confidence=conf,
            message=msg,
            evidence={
                "best_value": L.best,
                "best_step": L.best_step,
                "final_value": L.final,
                "initial_value": L.initial,
                "ratio": ratio,
                "onset_step": onset,
                "rise_noise_units": rise_units,
                "fraction_after_onset_above": sustained,
                "ends_above_start": ends_above_start,
            },
            remedies=(
                R.lower_lr(lr, setup=curves.setup),
                R.clip_gradients(),
                R.lr_schedule(
                    lr, monitor=monitor_name(curves), setup=curves.setup, tag=monitor_tag(curves)
                ),
                R.warmup(lr, setup=curves.setup),
                R.restore_best(
                    checkpoint_before(curves, onset, L.best_step),
                    monitor_name(curves),
                    monitor_tag(curves),
                ),
            ),
        )
    ]


def _val_finding(curves: CurveSet, vb: dict) -> Finding:
    val = curves.val
    assert val is not None  # vb is its blow-up
    lr = last_lr(curves) or max_lr(curves)
    train = curves.train
    note = ""
    if train is not None:
        tv = np.asarray(train.values, dtype=float)
        tail = tv[np.asarray(train.steps) >= vb["onset_step"]]
        if tail.size and np.isfinite(tail).all():
            note = f" while {train.tag} looks normal"
    frozen = vb["pattern"] == "validation-frozen-after-blow-up"
    if vb["pattern"] == "validation-and-training-rise":
        msg = (
            f"{val.tag} rises from {fmt(vb['first_value'])} at its first evaluation to "
            f"~{fmt(vb['level_after'])} ({fmt(vb['level_after'] / vb['first_value'])}x) from step "
            f"{vb['onset_step']:,} and stays there, while {train.tag if train else 'training'} "
            "ends no lower than it started: the run diverged (both losses rose; overfitting is "
            "a validation loss rising while the training loss keeps falling)"
        )
    elif vb["pattern"] == "metric-collapse":
        msg = (
            f"{vb['metric']} collapses from its best {fmt(vb['metric_best'])} (step "
            f"{vb['metric_best_step']:,}) to ~{fmt(vb['metric_end'])} from step "
            f"{vb['onset_step']:,} and stays there, while {val.tag} ends at "
            f"~{fmt(vb['val_end'])}, above its first value {fmt(vb['val_first'])}: the model "
            "gave back what it had learned (the run diverged; overfitting costs a few points of "
            "the metric, not half of it)"
        )
    else:
        msg = (
            f"{val.tag} blows up at step {vb['onset_step']:,}: from its best "
            f"{fmt(vb['best_value'])} to ~{fmt(vb['level_after'])} ({fmt(vb['ratio'])}x) and "
            + ("then repeats that value to several digits" if frozen else "stays there")
            + f"{note}; the weights were thrown off (a rise of orders of magnitude"
            + (", frozen at one value," if frozen else "")
            + " is divergence, not overfitting)"
        )
    ratio = float(vb["ratio"])
    return finding(
        __name__,
        transient=not (np.isfinite(ratio) and ratio >= 10.0),
        marks=(Mark("vline", "diverge", start=vb["onset_step"]),),
        curve=val.tag,
        start_step=vb["onset_step"],
        end_step=int(val.steps[-1]),
        confidence=clamp01(
            0.6 + 0.2 * min(1.0, np.log10(vb["ratio"]) / 4.0) + 0.2 * (vb["jump"] >= 10)
        ),
        message=msg,
        evidence={**vb, "curve_role": "val"},
        remedies=(
            R.lower_lr(lr, setup=curves.setup),
            R.clip_gradients(),
            R.warmup(lr, setup=curves.setup),
            R.restore_best(vb["best_step"], monitor_name(curves), monitor_tag(curves)),
            R.check_numerics(),
        ),
    )


def _offscale_finding(curves: CurveSet, off: OffScale) -> Finding:
    val, train = curves.val, curves.train
    assert val is not None and train is not None  # off compares them
    lr = last_lr(curves) or max_lr(curves)
    start = int(off.first_step)
    msg = (
        f"{val.tag} is {fmt(off.at_start)}x {train.tag} from its first evaluation (step "
        f"{start:,}) and stays ~{fmt(off.overall)}x the training loss's starting level: the "
        "weights blew up within the first interval, or the validation loss is not computed like "
        "the training loss (inputs scaled differently, a sum instead of a mean)"
    )
    return finding(
        __name__,
        # off scale from the first evaluation: no part of the run came before it, and the
        # validation loss's own ups and downs (swings, a rise) are judged on its own scale
        supersedes=False,
        marks=(Mark("vline", "diverge", start=start),),
        curve=val.tag,
        start_step=start,
        end_step=int(val.steps[-1]),
        confidence=clamp01(0.6 + 0.1 * np.log10(off.at_start / 100.0 + 1.0)),
        message=msg,
        evidence={
            "ratio_at_start": off.at_start,
            "ratio_overall": off.overall,
            "curve_role": "val",
            "pattern": "validation-off-scale",
        },
        remedies=(
            R.check_numerics(),
            R.normalize_inputs(),
            R.lower_lr(lr, setup=curves.setup),
            R.warmup(lr, setup=curves.setup),
        ),
    )
