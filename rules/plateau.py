"""The loss stopped improving far above what it could reach.

What it detects
---------------
A training loss (the validation loss when no training loss is logged) that is stuck: either it
never moved far from its starting value (flat from the start, or still at chance level ``ln(C)``
for a classifier), or it dropped a little and then flattened early at a level still 30% or
more of where it started, and that level is a chance level or the loss has not moved since its
first interval (flat for 90% of the run): from one run's logs alone, that is the evidence that it
is stuck far above what the task allows (a loss that removed a quarter of its start and then
flattened may just have converged: a regression target's noise, an ELBO's floor), or it sits flat exactly at ``ln(C)``
for a small class count C (a classifier predicting uniform probabilities), or it repeats the
same value to several digits (within 0.1%) for at least half of the run. All measures are ratios
of the curve's own levels and slopes, so the loss's scale does not matter. When the first logged
value (or two) is 100x or more the level after it, a blow-up inside the first logged interval,
progress is judged from the level after it; a per-step training loss is looked at for this
before it is averaged to the evaluation cadence (a mean over the first interval dilutes the
blow-up by the number of steps it holds, so the verdict would depend on the cadence). "Chance level ln(C)" is claimed only for a loss not
named like a regression loss (MSE, MAE, Huber...) whose class count C the run corroborates: the
loss started near ln(C) too, its hyperparameters give C classes, or an accuracy it logs is at
chance; otherwise the level is just a level. A loss that flattened early at a high level while
it swings around that level is at its noise floor: that is reported as an oscillation (OSC001),
not as a plateau. A loss that blew up to twice its best or more (a validation loss: by DIV002's
test, orders of magnitude or tenfold and frozen) and then sat within 10% of one level for the
last quarter of the run or more is stuck after a blow-up: a divergence (DIV002)
and a plateau at once, as LABELS-SPEC describes it; so is one that rose above its start and
then sat flat at a chance level for half the run or more. A validation accuracy that never
leaves the level of a constant prediction (1/C within 15%, for the class count the run declares,
else the one whose ln(C) its validation loss started at, else C <= 10), while the loss removes
at most half its start, is a model that learned nothing: a plateau however the loss swings (an
oscillation may be reported beside it). A loss that flattens after a decaying
learning-rate schedule, or close to the end of a steady decay, is convergence, not a plateau;
one that is still clearly falling is reported by PLT002 instead, and so is one making steady
slow progress (a short fine-tune from a trained model that removes 15% and is still going down
at every evaluation is not stuck). A training loss logged per iteration is judged at the
validation cadence (averaged between evaluations), so minibatch noise is not mistaken for a
trend or its absence.

Why it matters
--------------
Training longer will not help a stuck model: the cause is in the setup — a learning rate far too
small (or so large that updates cancel out), saturated or dead units, unnormalised inputs, a
model too small for the task, or a data/label bug that hides the signal.

What to do
----------
Flat from the start: check the pipeline on a tiny subset (it must reach ~0 loss), raise the
learning rate (an LR range test finds it), standardise the inputs, and use ReLU with He
initialisation or BatchNorm. Flattened early at a high level: give the model more capacity, then
tune the learning rate and its schedule. A loss stuck at an absurd level (1e6 or more) is a
matter of scale, not of learning rate: standardise the targets, average the loss rather than
sum it, check the data.

Example (flagged)
-----------------
Cross-entropy over 10 classes ``2.31, 2.30, 2.30, 2.30, 2.29, 2.30`` for 50 epochs (chance is
``ln 10 = 2.30``); or ``2.3, 1.6, 1.5, 1.5, 1.5, ...`` flat at 65% of its start for 80% of the run.

Example (healthy)
-----------------
``2.3, 0.9, 0.4, 0.2, 0.12, 0.09, 0.08, 0.08`` — flat only at the end, after removing 97% of the
starting loss.
"""

from __future__ import annotations

import re

import numpy as np

from analyzer.curves import COMPLEMENT_PREFIX, Curve, CurveSet
from analyzer.findings import Finding, Mark, Remedy
from analyzer.trends.slope import trend_test

from . import _remedies as R
from ._common import (
    ABSURD_LOSS,
    MIN_POINTS,
    Levels,
    best_metric,
    checkpoint_before,
    clamp01,
    diverged,
    end_level,
    epoch_level,
    final_at_chance,
    finding,
    finite_or_none,
    flat_since,
    fmt,
    fraction_values,
    hparam_int,
    last_lr,
    levels,
    lr_decayed,
    max_lr,
    monitor_name,
    monitor_tag,
    pct,
    tail,
)

CODE = "PLT001"
NAME = "loss-plateau"
KIND = "plateau"
SEVERITY = "warning"
#: a passing state of a run still training can show it: a monitor waits for a second sighting
TRANSIENT = True

#: the evidence that decided a finding, in words, for the HTML report (key: (label, format);
#: formats in analyzer.findings.FACT_FORMATS; the first five present are shown)
FACTS = {
    "plateau_level": ("level it is stuck at", "value"),
    "constant_since_step": ("exactly constant since", "step"),
    "flat_since_step": ("flat since", "step"),
    "flat_fraction": ("share of the run spent flat", "%"),
    "fraction_removed": ("loss removed since the start", "%"),
    "ratio_to_best": ("stuck level over the best before the blow-up", "x"),
    "chance_level": ("chance level (guessing among the classes)", "value"),
}


def _raise_lr_or_scale(curves: CurveSet, L: Levels, lr: float | None) -> Remedy:
    """ "Raise the learning rate", unless the loss sits at an absurd level (ABSURD_LOSS or more):
    then the scale of the loss or the data is the problem, and the remedy says so."""
    if L.positive and abs(L.final) >= ABSURD_LOSS:
        return R.loss_scale(L.final)
    return R.raise_lr(lr, setup=curves.setup)


def _finding(curve, start, end, confidence, message, evidence, remedies, defers_to=()) -> Finding:
    marks: tuple[Mark, ...] = ()
    if start is not None:
        stop = end if end is not None else start
        marks = (Mark("band", "plateau", start=start, end=stop),)
        level = finite_or_none(evidence.get("plateau_level"))
        if level is not None:
            marks += (Mark("hline", "plateau-level", start=start, end=stop, value=level),)
    return finding(
        __name__,
        marks=marks,
        defers_to=tuple(defers_to),
        curve=curve,
        start_step=start,
        end_step=end,
        confidence=clamp01(confidence),
        message=message,
        evidence=evidence,
        remedies=tuple(remedies),
    )


def _stuck_after_blowup(L, *, min_ratio: float, min_fraction: float) -> tuple[int, float] | None:
    """(first step of the stuck stretch, final level / best level) when a positive curve, after
    its best level, rose to ``min_ratio`` times it or more for good and then sat still: its
    smoothed values stay within 10% of the final level for the last ``min_fraction`` of the run
    or more, with no significant fall back towards the best (a blow-up the run never recovers
    from, stuck at a constant). None otherwise."""
    if not L.positive or L.best <= 0 or L.final < min_ratio * L.best:
        return None
    sm, steps = L.smooth, L.steps
    ib = int(np.argmin(sm))
    above = sm >= min_ratio * L.best
    above[: ib + 1] = False
    stays = np.flip(np.logical_and.accumulate(np.flip(above)))
    if not stays.any():
        return None
    onset = int(np.argmax(stays))
    off = np.abs(sm / L.final - 1.0) > 0.1
    off[:onset] = True
    i = np.flatnonzero(off)
    start = int(i[-1] + 1) if i.size else onset
    if start >= L.n - 2 or (steps[-1] - steps[start]) < min_fraction * L.span:
        return None
    seg_s, seg_v = L.prep.steps[start:], L.prep.values[start:]
    if seg_s.size >= 4 and trend_test(seg_s, seg_v).p_decreasing < 0.01:
        return None  # still coming back down: recovering, not stuck
    return int(steps[start]), float(L.final / L.best)


def _constant_since(steps: np.ndarray, values: np.ndarray, band: float) -> int | None:
    """The first step of the trailing stretch over which every value lies within ``band``
    (relative) of the last one, or None when the last two values already differ by more."""
    last = values[-1]
    if not np.isfinite(last) or last == 0:
        return None
    off = np.abs(values / last - 1.0) > band
    if off[-2:].any():
        return None
    i = np.flatnonzero(off)
    return int(steps[i[-1] + 1]) if i.size else int(steps[0])


def _leading_transient(values: np.ndarray, ratio: float) -> int:
    """How many of the first finite points (at most two) are a transient: each at least
    ``ratio`` times the median of the points that follow it (a blow-up inside the first logged
    interval, or a first value logged before the weights settled). 0 when there is none."""
    v = values[np.isfinite(values)]
    m = 0
    while m < 2 and v.size - m >= 6:
        ref = float(np.median(v[m + 1 : m + 1 + max(3, v.size // 10)]))
        if ref > 0 and v[m] >= ratio * ref:
            m += 1
        else:
            break
    return m


#: tags of losses that are not a classifier's cross-entropy: no "chance level ln(C)" for them
_REGRESSION = re.compile(
    r"(mse|mae|rmse|msle|mape|smape|l1|l2|huber|smooth|regress|squared|absolute|r2|"
    r"reconstruct|recon|mel|psnr|ssim|dice|iou|ctc|kl|kld|elbo|perplexity|ppl)",
    re.IGNORECASE,
)
_ACCURACY = re.compile(r"(acc|accuracy|top1|top_1|top-1)", re.IGNORECASE)
_CLASS_KEYS = ("num_classes", "n_classes", "nclasses", "num_labels", "n_labels", "classes")


def plausible_chance(curves: CurveSet, tag: str, initial: float, final: float) -> int | None:
    """The class count C when ``final`` sits at ln(C), a classifier predicting uniform
    probabilities, and the run corroborates C: the loss is not named like a regression or other
    non-cross-entropy loss, and either the run's hyperparameters give C classes (then no other
    count is considered), or the loss started near ln(C) (untrained weights predict nearly
    uniform probabilities) and C <= 10, or (C <= 10) an accuracy logged by the run is no better
    than 1.5/C. None otherwise: a level that merely equals ln(C) for some C is a coincidence for
    an MAE or MSE, and for C above 10 any level is close to some ln(C)."""

    def at_chance(k: int) -> bool:  # within 2% of ln(k)
        return abs(final - np.log(k)) <= 0.02 * np.log(k)

    if _REGRESSION.search(tag) or tag.startswith(COMPLEMENT_PREFIX):
        return None  # 1 - accuracy is an error rate, not a cross-entropy
    # the run's own files say how many classes (a model's output size): that count, or none
    # (a 10-output model whose loss sits at 2.39 is not at "ln(11)")
    declared = _declared_classes(curves)
    if declared is not None and declared >= 2:
        return declared if at_chance(declared) else None
    # the start pins C when it lies within half the gap to the neighbouring class counts (an
    # untrained classifier predicts nearly uniform probabilities), and the loss is still there
    # (up to 10 classes: beyond, ln(C) lie so close together that any level pins some C)
    k0 = _pinned_classes(initial)
    if k0 is not None and k0 <= 10 and at_chance(k0):
        return k0
    small = final_at_chance(final, tol=0.02)  # 2 <= C <= 10, within 2% as at_chance()
    if small is not None and _accuracy_at_chance(curves, small):
        return small
    return None


def _declared_classes(curves: CurveSet) -> int | None:
    return hparam_int(curves, _CLASS_KEYS)


def _pinned_classes(level: float) -> int | None:
    """C when ``level`` is ln(C) to within half the gap to ln(C-1) and ln(C+1), else None."""
    if not (np.isfinite(level) and 0.3 < level < 12.0):
        return None
    k = int(round(np.exp(level)))
    if k < 2:
        return None
    half_gap = 0.5 * min(np.log(k + 1) - np.log(k), np.log(k) - np.log(k - 1) if k > 2 else 1.0)
    return k if abs(level - np.log(k)) <= half_gap else None


def _accuracy_at_chance(curves: CurveSet, k: int) -> bool:
    """An accuracy the run logs ends at chance for ``k`` classes (1.5/k or less)."""
    for m in (curves.val_metric, curves.train_metric):
        if m is None or m.direction != "max" or not _ACCURACY.search(m.tag):
            continue
        a = fraction_values(m)
        end = end_level(a) if a is not None else None
        if end is not None and end <= 1.5 / k:
            return True
    return False


def _accuracy_never_left_chance(curves: CurveSet, *, tolerance: float) -> tuple[int, float] | None:
    """(C, median accuracy) when the run's validation accuracy never left the level of a constant
    prediction among C classes: its median lies within ``tolerance`` (relative) of 1/C — the
    declared class count, else the count whose ln(C) the validation loss started at, else some
    2 <= C <= 10 — and its second half is no better than its
    first quarter beyond its own scatter (it never learned). None otherwise. An accuracy that
    was high and then collapsed left chance first: that is a divergence (DIV002)."""
    m = curves.val_metric
    if m is None or m.direction != "max" or not _ACCURACY.search(m.tag):
        return None
    a = fraction_values(m)  # in percent or as fractions
    if a is None or a.size < 8:
        return None
    med = float(np.median(a))
    first = float(np.median(a[: max(2, a.size // 4)]))
    scatter = 1.4826 * float(np.median(np.abs(a - med)))
    if float(np.quantile(a[a.size // 2 :], 0.75)) > first + max(0.02, 2.0 * scatter):
        return None  # it learned something
    # the class count the run corroborates: the one it declares, else the one its validation
    # loss started at (ln C: nearly uniform predictions), else any small count
    declared = _declared_classes(curves)
    v = np.asarray(curves.val.values, dtype=float) if curves.val is not None else np.array([])
    v = v[np.isfinite(v)]
    pinned = _pinned_classes(float(v[0])) if v.size else None
    candidates: list[int] | range
    if declared is not None and declared >= 2:
        candidates = [declared]
    elif pinned is not None and pinned <= 10:
        candidates = [pinned]
    else:
        candidates = range(2, 11)
    near = [k for k in candidates if abs(med - 1.0 / k) <= tolerance / k]
    if not near:
        return None
    return min(near, key=lambda k: abs(med * k - 1.0)), med


def check(
    curves: CurveSet,
    *,
    stuck_fraction: float = 0.2,
    high_fraction: float = 0.3,
    min_flat_fraction: float = 0.5,
    improving_rate: float = 0.1,
    min_transient: float = 100.0,
    constant_band: float = 1e-3,
    min_blowup_ratio: float = 2.0,
    min_stuck_fraction: float = 0.25,
    max_removed_at_chance_accuracy: float = 0.5,
) -> list[Finding]:
    """``stuck_fraction``: a loss that removed less than this fraction of its starting value is
    stuck near its start; ``high_fraction``: a flat loss still above this fraction of its start is
    "high"; ``min_flat_fraction``: share of the run it must have been flat for; ``improving_rate``:
    a tail still falling by at least this fraction of its level per run length is not flat;
    ``min_transient``: a first point (or two) this many times the level after it is a blow-up
    inside the first logged interval, and progress is measured from the level after it;
    ``constant_band``: a loss whose values all stay within this fraction of its last value for
    ``min_flat_fraction`` of the run or more has stopped learning; ``min_blowup_ratio`` and
    ``min_stuck_fraction``: a loss that rose to this many times its best and then sat within 10%
    of one level for this share of the run or more is stuck after a blow-up (a divergence,
    DIV002, and a plateau at once); ``max_removed_at_chance_accuracy``: a loss that removed at
    most this share of its start while the validation accuracy never left the level of a
    constant prediction (1/C, within 15%) has learned nothing, however it swings."""
    c = curves.train if curves.train is not None else curves.val
    if c is None:
        return []
    judging_train = c is curves.train
    raw = 0  # first logged values dropped before averaging (a blow-up)
    if c is curves.train and curves.val is not None:
        # a blow-up in the first logged values, found before they are averaged: a mean over the
        # first evaluation interval dilutes it by however many steps that interval holds
        raw = _leading_transient(np.asarray(c.values, dtype=float), min_transient)
        if raw:
            keep = np.flatnonzero(np.isfinite(c.values))[raw:]
            c = Curve(c.tag, c.role, c.direction, c.steps[keep], c.values[keep])
        # judge the training loss at the evaluation cadence: per-iteration noise is not a trend
        es, ev = epoch_level(c, curves.val)
        if len(es) >= MIN_POINTS and len(es) < len(c):
            c = Curve(c.tag, c.role, c.direction, es, ev)
    transient = _leading_transient(np.asarray(c.values, dtype=float), min_transient)
    if transient:
        # a blow-up inside the first logged interval: progress is judged from the level after it
        fin = np.isfinite(c.values)
        keep = np.flatnonzero(fin)[transient:]
        c = Curve(c.tag, c.role, c.direction, c.steps[keep], c.values[keep])
    L = levels(c)
    if L is None:
        return []
    t = tail(L)
    if t is None:
        return []
    improving_now = t.p_decreasing < 0.05 and -t.rel_per_run >= improving_rate
    since = flat_since(L)
    flat_frac = (L.last_step - since) / L.span
    lr = last_lr(curves) or max_lr(curves)
    metric_best = best_metric(curves.val_metric) if curves.val_metric is not None else None
    # a near-perfect bounded metric (accuracy, F1, AUC...) at the end rules out "far above
    # reachable" (one that was near-perfect and then collapsed does not: the run broke)
    fractions = fraction_values(curves.val_metric)  # a bounded metric, also in percent
    metric_end = end_level(fractions) if fractions is not None else None
    metric_great = metric_end is not None and metric_end >= 0.97

    stuck_curve, SL = c, L
    blown = _stuck_after_blowup(L, min_ratio=min_blowup_ratio, min_fraction=min_stuck_fraction)
    if blown is None and judging_train and curves.val is not None:
        # the weights can be stuck where only the evaluation shows it (a training loss computed
        # in training mode, or one that reads 0 on a collapsed batch): a validation loss that
        # blew up by orders of magnitude (DIV002's test) and then sat still
        VL = levels(curves.val)
        if VL is not None and diverged(curves.val) is not None:
            vb = _stuck_after_blowup(
                VL, min_ratio=min_blowup_ratio, min_fraction=min_stuck_fraction
            )
            if vb is not None:
                blown, stuck_curve, SL = vb, curves.val, VL
    if blown is not None:
        since, ratio = blown
        frac = (SL.last_step - since) / SL.span
        # the checkpoint to restore: the best the watched curve logged before it got stuck
        logged = checkpoint_before(curves, since, SL.best_step)
        msg = (
            f"{stuck_curve.tag} is stuck at ~{fmt(SL.final)} since step {since:,} ({pct(frac)} of "
            f"the run), {fmt(ratio)}x its best smoothed level {fmt(SL.best)} (step "
            f"{SL.best_step:,}) before it blew up: the weights were thrown into a region they do "
            "not leave"
        )
        evidence = {
            "pattern": "stuck-after-blow-up",
            "best_value": SL.best,
            "best_step": SL.best_step,
            "plateau_level": SL.final,
            "flat_since_step": since,
            "flat_fraction": frac,
            "ratio_to_best": ratio,
        }
        evidence["best_logged_step"] = logged
        remedies = [
            R.restore_best(logged, monitor_name(curves), monitor_tag(curves)),
            R.lower_lr(lr, setup=curves.setup),
            R.clip_gradients(),
            R.warmup(lr, setup=curves.setup),
        ]
        return [_finding(stuck_curve.tag, since, SL.last_step, 0.75, msg, evidence, remedies)]
    if L.positive and L.initial > 0:
        removed = 1.0 - L.final / L.initial
        stuck = removed < stuck_fraction
        high = (1.0 - removed) >= high_fraction
    else:
        # losses that can be negative: judge against the noise instead of ratios
        removed = float("nan")
        stuck = abs(L.initial - L.final) < 3.0 * L.noise and not improving_now
        high = False
    chance_k = plausible_chance(curves, c.tag, L.initial, L.final)
    at_chance = None if improving_now or flat_frac < min_flat_fraction else chance_k
    if np.isfinite(removed) and removed < -stuck_fraction:
        if not at_chance:
            return []  # the loss ends well above its start: rising, not stuck (DIV002's domain)
        stuck = False  # it rose, then sat at chance: a plateau at chance (and a divergence)

    evidence = {
        "initial_value": L.initial,
        "final_value": L.final,
        "best_value": L.best,
        "fraction_removed": removed,
        "flat_since_step": since,
        "flat_fraction": flat_frac,
        "tail_change_per_run": t.rel_per_run,
        "tail_p_decreasing": t.p_decreasing,
        "plateau_level": L.final,
        "points": L.n,
    }
    if transient or raw:
        # the first logged (or, at the evaluation cadence, averaged) points left out
        evidence["initial_transient_points"] = raw + transient
    if chance_k:
        evidence["chance_classes"] = chance_k
        evidence["chance_level"] = float(np.log(chance_k))
    if metric_best is not None:
        assert curves.val_metric is not None  # metric_best comes from it
        evidence["best_" + curves.val_metric.tag] = metric_best

    # Steady progress: it removed a real share of its start and is still falling at a quarter
    # or more of the run's average rate, the whole run significantly downward. That is slow
    # progress (a short fine-tune from a trained model, a long decay), not a loss stuck at its
    # initial value or flattened out, however small the share removed so far.
    steady = False
    if (
        np.isfinite(removed)
        and removed >= 0.5 * stuck_fraction
        and -t.rel_per_run >= 0.25 * removed
    ):
        steady = trend_test(L.prep.steps, L.prep.values).p_decreasing < 0.05
        evidence["steady_progress"] = steady
    stuck = stuck and not steady
    if stuck and not metric_great:
        still_moving = t.p_decreasing < 0.05 and t.rel_per_run < 0
        conf = 0.6 + 0.4 * clamp01(1.0 - removed / stuck_fraction) if np.isfinite(removed) else 0.6
        if L.first_step > L.span:  # the log starts mid-training: the "start" may already be trained
            conf *= 0.6
            evidence["starts_mid_training"] = True
        where = (
            f"near chance level ln({chance_k}) = {np.log(chance_k):.3g}"
            if chance_k
            else "near its starting value"
        )
        msg = (
            f"{c.tag} is stuck {where}: {fmt(L.initial)} → {fmt(L.final)} over "
            f"{L.first_step:,}–{L.last_step:,}"
            + (f" (only {pct(removed)} removed)" if np.isfinite(removed) else "")
            + ("; it creeps down slowly" if still_moving else "; it is flat")
        )
        if still_moving:
            remedies = [
                _raise_lr_or_scale(curves, L, lr),
                R.normalize_inputs(),
                R.switch_optimizer(lr, setup=curves.setup),
                R.fix_activations(),
                R.check_labels(),
            ]
        else:
            remedies = [
                R.check_labels(),
                _raise_lr_or_scale(curves, L, lr),
                R.fix_activations(),
                R.normalize_inputs(),
                R.switch_optimizer(lr, setup=curves.setup),
            ]
            if chance_k:
                remedies.append(R.class_weights())
        evidence["pattern"] = "stuck-near-start"
        return [_finding(c.tag, L.first_step, L.last_step, clamp01(conf), msg, evidence, remedies)]

    if at_chance and not metric_great:
        evidence["chance_classes"] = at_chance
        evidence["chance_level"] = float(np.log(at_chance))
        evidence["pattern"] = "flat-at-chance"
        msg = (
            f"{c.tag} is flat at {fmt(L.final)} since step {since:,} ({pct(flat_frac)} of the run): "
            f"that is ln({at_chance}) = {np.log(at_chance):.4g}, the loss of a classifier that "
            f"predicts uniform probabilities over {at_chance} classes"
        )
        remedies = [
            R.check_labels(),
            R.normalize_inputs(),
            R.fix_activations(),
            _raise_lr_or_scale(curves, L, lr),
            R.class_weights(),
        ]
        return [_finding(c.tag, since, L.last_step, 0.8, msg, evidence, remedies)]

    converged_by_schedule = lr_decayed(curves)
    const_since = _constant_since(L.prep.steps, L.prep.values, constant_band)
    const_frac = (L.last_step - const_since) / L.span if const_since is not None else 0.0
    if (
        const_frac >= min_flat_fraction
        and L.positive
        and L.final >= 1e-3 * L.initial
        and not converged_by_schedule
        and not metric_great
    ):
        # learning stopped: the loss repeats the same value to several digits for most of the
        # run (dead units, a constant prediction); a converged loss still moves in its last digits
        evidence["pattern"] = "constant"
        evidence["constant_since_step"] = const_since
        evidence["constant_band"] = constant_band
        msg = (
            f"{c.tag} is constant at {L.final:.6g} (within ±{pct(constant_band)}) since step "
            f"{const_since:,} ({pct(const_frac)} of the run): learning has stopped"
            + (f", {pct(1.0 - removed)} of its starting value" if np.isfinite(removed) else "")
        )
        remedies = [
            R.check_labels(),
            R.fix_activations(),
            _raise_lr_or_scale(curves, L, lr),
            R.normalize_inputs(),
            R.switch_optimizer(lr, setup=curves.setup),
        ]
        return [_finding(c.tag, const_since, L.last_step, 0.85, msg, evidence, remedies)]
    # LABELS-SPEC: accuracy at the majority-class rate is the level of a constant predictor. A
    # validation accuracy that never left it while the loss removed at most half its start is a
    # model that learned nothing, even when its loss swings (not a noise floor: nothing was learned)
    at_chance_acc = (
        _accuracy_never_left_chance(curves, tolerance=0.15)
        if np.isfinite(removed) and -stuck_fraction <= removed <= max_removed_at_chance_accuracy
        else None
    )
    if at_chance_acc is not None:
        k, acc_level = at_chance_acc
        assert curves.val_metric is not None  # at_chance_acc comes from it
        evidence["pattern"] = "accuracy-at-chance"
        evidence["chance_classes"] = k
        evidence["chance_accuracy"] = 1.0 / k
        evidence["metric_level"] = acc_level
        msg = (
            f"{curves.val_metric.tag} stays at ~{fmt(acc_level)} from the first evaluation to the "
            f"last, the accuracy of a constant prediction among {k} classes (1/{k}): the model "
            f"has learned nothing; {c.tag} removed only {pct(removed)} of its start "
            f"({fmt(L.initial)} → {fmt(L.final)})"
        )
        remedies = [
            R.check_labels(),
            R.normalize_inputs(),
            _raise_lr_or_scale(curves, L, lr),
            R.fix_activations(),
            R.class_weights(),
        ]
        return [_finding(c.tag, L.first_step, L.last_step, 0.75, msg, evidence, remedies)]
    # LABELS-SPEC: from one run's logs alone, "flattened far above what the task allows" shows
    # only as a level at chance or as a loss that has not moved since its first interval (flat
    # for 90% of the run); a loss that removed a quarter of its start and then flattened may
    # simply have converged (a regression target's noise, an ELBO's floor), so without that
    # evidence it is not called stuck
    if (
        high
        and (chance_k or flat_frac >= 0.9)
        and not steady
        and not improving_now
        and flat_frac >= min_flat_fraction
        and not metric_great
        and not converged_by_schedule
    ):
        conf = (
            0.35
            + 0.3 * clamp01((flat_frac - min_flat_fraction) / (1 - min_flat_fraction))
            + 0.3 * clamp01(((1.0 - removed) - high_fraction) / (1 - high_fraction))
        )
        msg = (
            f"{c.tag} flattened early at a high level: {fmt(L.final)} since step {since:,} "
            f"({pct(flat_frac)} of the run), still {pct(1.0 - removed)} of its starting value "
            f"{fmt(L.initial)}"
        )
        evidence["pattern"] = "flattened-high"
        remedies = [
            R.more_capacity(),
            _raise_lr_or_scale(curves, L, lr),
            R.lr_schedule(
                lr, None, monitor_name(curves), setup=curves.setup, tag=monitor_tag(curves)
            ),
            R.normalize_inputs(),
            R.switch_optimizer(lr, setup=curves.setup),
        ]
        # a loss that swings around a flat level is at its noise floor, not stuck: that is an
        # oscillation (OSC001), and this finding gives way to it
        return [
            _finding(
                c.tag, since, L.last_step, clamp01(conf), msg, evidence, remedies, ("oscillation",)
            )
        ]
    return []
