"""The loss stopped improving far above what it could reach.

What it detects
---------------
A training loss (the validation loss when no training loss is logged) that is stuck: either it
never moved far from its starting value (flat from the start, or still at chance level ``ln(C)``
for a classifier), or it dropped a little and then flattened early, for most of the run, at a
level that is still a large fraction of where it started, or it sits flat exactly at ``ln(C)``
for a small class count C (a classifier predicting uniform probabilities). All measures are ratios of the curve's
own levels and slopes, so the loss's scale does not matter. A loss that flattens after a decaying
learning-rate schedule, or close to the end of a steady decay, is convergence, not a plateau; one
that is still clearly falling is reported by PLT002 instead, and so is one making steady slow
progress (a short fine-tune from a trained model that removes 15% and is still going down at
every evaluation is not stuck). A training loss logged per iteration
is judged at the validation cadence (averaged between evaluations), so minibatch noise is not
mistaken for a trend or its absence.

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
tune the learning rate and its schedule.

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

import numpy as np

from analyzer.curves import Curve, CurveSet
from analyzer.findings import Finding
from analyzer.trends.slope import trend_test

from . import _remedies as R
from ._common import (
    MIN_POINTS,
    best_metric,
    chance_level,
    clamp01,
    epoch_level,
    final_at_chance,
    flat_since,
    fmt,
    last_lr,
    levels,
    lr_decayed,
    max_lr,
    pct,
    tail,
)

CODE = "PLT001"
NAME = "loss-plateau"
KIND = "plateau"


def _finding(curve, start, end, confidence, message, evidence, remedies) -> Finding:
    return Finding(
        code=CODE,
        name=NAME,
        kind=KIND,
        severity="warning",
        curve=curve,
        start_step=start,
        end_step=end,
        confidence=clamp01(confidence),
        message=message,
        evidence=evidence,
        remedies=tuple(remedies),
    )


def check(
    curves: CurveSet,
    *,
    stuck_fraction: float = 0.2,
    high_fraction: float = 0.3,
    min_flat_fraction: float = 0.5,
    improving_rate: float = 0.1,
) -> list[Finding]:
    """``stuck_fraction``: a loss that removed less than this fraction of its starting value is
    stuck near its start; ``high_fraction``: a flat loss still above this fraction of its start is
    "high"; ``min_flat_fraction``: share of the run it must have been flat for; ``improving_rate``:
    a tail still falling by at least this fraction of its level per run length is not flat."""
    c = curves.train if curves.train is not None else curves.val
    if c is None:
        return []
    if c is curves.train and curves.val is not None:
        # judge the training loss at the evaluation cadence: per-iteration noise is not a trend
        es, ev = epoch_level(c, curves.val)
        if len(es) >= MIN_POINTS and len(es) < len(c):
            c = Curve(c.tag, c.role, c.direction, es, ev)
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
    metric_dir = curves.val_metric.direction if curves.val_metric is not None else None
    # a near-perfect bounded metric (accuracy, F1, AUC...) rules out "far above reachable"
    metric_great = (
        metric_dir == "max"
        and metric_best is not None
        and 0.0 <= metric_best <= 1.0
        and metric_best >= 0.97
    )

    if L.positive and L.initial > 0:
        removed = 1.0 - L.final / L.initial
        if removed < -stuck_fraction:
            return []  # the loss ends well above its start: rising, not stuck (DIV002's domain)
        stuck = removed < stuck_fraction
        high = (1.0 - removed) >= high_fraction
    else:
        # losses that can be negative: judge against the noise instead of ratios
        removed = float("nan")
        stuck = abs(L.initial - L.final) < 3.0 * L.noise and not improving_now
        high = False
    chance_k = chance_level(L.initial, L.final)
    at_chance = None if improving_now or flat_frac < min_flat_fraction else final_at_chance(L.final)

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
    if chance_k:
        evidence["chance_classes"] = chance_k
        evidence["chance_level"] = float(np.log(chance_k))
    if metric_best is not None:
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
                R.raise_lr(lr),
                R.normalize_inputs(),
                R.switch_optimizer(lr),
                R.fix_activations(),
                R.check_labels(),
            ]
        else:
            remedies = [
                R.check_labels(),
                R.raise_lr(lr),
                R.fix_activations(),
                R.normalize_inputs(),
                R.switch_optimizer(lr),
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
            R.raise_lr(lr),
            R.class_weights(),
        ]
        return [_finding(c.tag, since, L.last_step, 0.8, msg, evidence, remedies)]

    converged_by_schedule = lr_decayed(curves)
    if (
        high
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
            R.raise_lr(lr),
            R.lr_schedule(lr, None),
            R.normalize_inputs(),
            R.switch_optimizer(lr),
        ]
        return [_finding(c.tag, since, L.last_step, clamp01(conf), msg, evidence, remedies)]
    return []
