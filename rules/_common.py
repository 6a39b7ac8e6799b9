"""Helpers shared by the rules: the per-curve statistics of analyzer.trends kept with each curve,
the curve set cut before a divergence, and number formats for messages."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import replace
from functools import cache

import numpy as np

from analyzer.curves import Curve, CurveSet
from analyzer.findings import Finding, finite_or_none
from analyzer.trends.cadence import epoch_level, epoch_means
from analyzer.trends.extremum import collapsed, diverged_at, risen_from_start, val_off_scale
from analyzer.trends.levels import (
    MIN_POINTS,
    Levels,
    Tail,
    final_at_chance,
    flat_since,
    summarize,
    tail,
)
from analyzer.trends.prep import LONG_CURVE, condense

__all__ = [
    "MIN_POINTS",
    "Levels",
    "Tail",
    "before_divergence",
    "best_metric",
    "clamp01",
    "condensed",
    "epoch_level",
    "epoch_means",
    "final_at_chance",
    "finding",
    "finite_or_none",
    "fraction_values",
    "flat_since",
    "fmt",
    "last_lr",
    "levels",
    "lr_decayed",
    "declared_epochs",
    "diverged",
    "end_level",
    "end_metric",
    "hparam_int",
    "max_lr",
    "monitor_name",
    "monitor_tag",
    "ABSURD_LOSS",
    "val_flat_gap_widening",
    "metric_collapse",
    "pct",
    "tail",
    "train_ends_above_start",
]


def levels(curve: Curve, *, sign: float = 1.0) -> Levels | None:
    """The level summary (:func:`analyzer.trends.levels.summarize`) of a curve; ``sign=-1`` turns
    a higher-is-better metric into a lower-is-better one. None when there are fewer than
    :data:`MIN_POINTS` finite points.

    Every rule of a run summarises the same curves, so the summary is computed once per curve
    and kept with the curve itself (curves are immutable; a curve cut or rebuilt is a new
    object with its own statistics). The arrays are read-only: rules share them.
    """
    key = ("levels", float(sign))
    memo = curve.memo
    if key in memo:
        return memo[key]
    out = summarize(curve.steps, sign * np.asarray(curve.values, dtype=float))
    if out is not None:
        p = out.prep
        for a in (out.smooth, p.steps, p.values, p.work, p.all_steps, p.all_values, p.finite):
            if isinstance(a, np.ndarray):
                a.flags.writeable = False
    memo[key] = out
    return out


def diverged(curve: Curve, *, min_jump: float = 10.0, min_ratio: float = 100.0):
    """:func:`analyzer.trends.extremum.diverged_at` of the curve's finite values (indexes refer
    to those), kept with the curve like :func:`levels`: DIV002, PLT001 and OVF001 (cutting the
    curves before a divergence) all ask it of the same validation loss."""
    key = ("diverged_at", float(min_jump), float(min_ratio))
    memo = curve.memo
    if key not in memo:
        v = np.asarray(curve.values, dtype=float)
        memo[key] = diverged_at(v[np.isfinite(v)], min_jump=min_jump, min_ratio=min_ratio)
    return memo[key]


def condensed(curves: CurveSet) -> CurveSet:
    """``curves`` with every curve longer than :data:`analyzer.trends.prep.LONG_CURVE` points
    replaced by its condensed version (:func:`analyzer.trends.prep.condense`: bin medians, the
    non-finite points kept), so that the rules stay linear in the length of a run logged at
    every one of millions of steps; shorter curves (all those of the bundled fixtures) are
    analysed as they are. A condensed curve is built once and kept in the curve's memo, so all
    rules of a run share it (and the statistics kept with it)."""
    if not any(len(c) > LONG_CURVE for c in curves.all_curves()):
        return curves

    def each(c: Curve) -> Curve:
        if len(c) <= LONG_CURVE:
            return c
        if "condensed" not in c.memo:
            idx, vals = condense(c.values)
            wall = c.wall_time[idx] if c.wall_time is not None else None
            c.memo["condensed"] = replace(c, steps=c.steps[idx], values=vals, wall_time=wall)
        return c.memo["condensed"]

    return curves.map_curves(each)


def finding(rule: str, **fields) -> Finding:
    """A Finding of the rule module named ``rule`` (pass ``__name__``): its CODE, NAME and KIND,
    its SEVERITY and TRANSIENT unless ``severity``/``transient`` are given, its docs' "Why it
    matters" and its FACTS (the report's words for the evidence), plus ``fields``."""
    mod = sys.modules[rule]
    fields.setdefault("severity", mod.SEVERITY)
    fields.setdefault("transient", mod.TRANSIENT)
    fields.setdefault("why", _why(rule))
    fields.setdefault("facts", _facts(rule))
    return Finding(code=mod.CODE, name=mod.NAME, kind=mod.KIND, **fields)


@cache
def _facts(rule: str) -> tuple[tuple[str, str, str], ...]:
    """The rule module's FACTS as (evidence key, label, format) triples."""
    return tuple((k, lab, f) for k, (lab, f) in getattr(sys.modules[rule], "FACTS", {}).items())


@cache
def _why(rule: str) -> str:
    """The "Why it matters" section of the rule module's docstring."""
    from . import parse_doc

    return parse_doc(sys.modules[rule].__doc__ or "").get("Why it matters", "").strip()


def fmt(x: float) -> str:
    """Numbers for messages: 3 significant digits, thousands separators for big ones."""
    if x is None or not np.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax >= 1e6 or (0 < ax < 1e-3):
        return f"{x:.3g}"
    if ax >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def pct(x: float) -> str:
    return f"{100 * x:.0f}%" if abs(x) >= 0.01 else f"{100 * x:.2g}%"


def last_lr(curves) -> float | None:
    """The learning rate at the end of the run, when logged."""
    lr = curves.lr
    if lr is None or not len(lr):
        return None
    v = np.asarray(lr.values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v[-1]) if v.size else None


def max_lr(curves) -> float | None:
    lr = curves.lr
    if lr is None or not len(lr):
        return None
    v = np.asarray(lr.values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.max()) if v.size else None


def lr_decayed(curves, *, ratio: float = 0.2) -> bool:
    """Whether the logged learning rate ended below ``ratio`` of its maximum (a decaying schedule)."""
    lo, hi = last_lr(curves), max_lr(curves)
    return bool(lo is not None and hi and hi > 0 and lo <= ratio * hi)


def clamp01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def best_metric(curve) -> float | None:
    if curve is None or not len(curve):
        return None
    v = np.asarray(curve.values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return None
    return float(v.max() if curve.direction == "max" else v.min())


def monitor_name(curves: CurveSet) -> str:
    """What a Keras callback can monitor for this run: ``val_loss`` when it logs a validation
    loss, else ``loss`` (a callback watching a key the logs lack never fires)."""
    return "val_loss" if curves.val is not None else "loss"


def checkpoint_before(curves: CurveSet, step: float, fallback: int) -> int:
    """The step of the lowest value the curve a checkpoint callback watches (the validation
    loss, else the training loss: :func:`monitor_name`) logged before ``step``: the checkpoint
    it would have kept, which a restore-best remedy names (a smoothed best's step need not hold
    a checkpoint that good, and another curve's best is not what the callback kept).
    ``fallback`` when that curve logged no finite value before ``step``."""
    c = curves.val if curves.val is not None else curves.train
    if c is None:
        return fallback
    s = np.asarray(c.steps)
    v = np.asarray(c.values, dtype=float)
    pre = np.isfinite(v) & (s < step)
    return int(s[pre][np.argmin(v[pre])]) if pre.any() else fallback


def monitor_tag(curves: CurveSet) -> str:
    """The run's own name of the curve a callback should watch (Lightning's ``monitor=`` is the
    key the module logs): the validation loss's tag, else the training loss's, else
    ``val_loss``."""
    c = curves.val if curves.val is not None else curves.train
    return c.tag if c is not None else "val_loss"


#: a loss level no learning rate explains (remedies only; no detection uses it): a loss stuck at
#: 1e6 or more comes from the scale of the targets or of the loss (summed, not averaged), or
#: from broken data
ABSURD_LOSS = 1e6


def val_flat_gap_widening(curves: CurveSet, *, flat_fraction: float = 0.5) -> int | None:
    """For the remedies of a run whose training loss still falls: the step from which the
    validation loss has not improved (over the last ``flat_fraction`` of its run its smoothed
    level never gets two noise sigmas below where it was) while the gap between the two losses
    widened (it ends larger than it was at that step, by more than the noise); None otherwise.
    "Train longer" would then only widen the gap."""
    tr, va = curves.train, curves.val
    if tr is None or va is None:
        return None
    T, V = levels(tr), levels(va)
    if T is None or V is None or V.span <= 0:
        return None
    vs, vv = np.asarray(V.steps), np.asarray(V.smooth, dtype=float)
    at = int(np.searchsorted(vs, V.last_step - flat_fraction * V.span))
    if at >= len(vs) - 1 or float(vv[at:].min()) < float(vv[at]) - 2 * V.noise:
        return None
    ts, tv = np.asarray(T.steps), np.asarray(T.smooth, dtype=float)
    gap_then = float(vv[at]) - float(np.interp(vs[at], ts, tv))
    gap_end = float(vv[-1]) - float(tv[-1])
    if not gap_end > gap_then + 2 * V.noise:
        return None
    return int(vs[at])


def hparam_int(curves: CurveSet, keys: Iterable[str], *, positive: bool = False) -> int | None:
    """The first of the run's hyperparameters ``keys`` that reads as a whole number (and, with
    ``positive``, is above 0), or None."""
    hp = curves.hparams if isinstance(curves.hparams, dict) else {}
    for key in keys:
        try:
            n = int(float(hp[key])) if hp.get(key) is not None else None
        except (TypeError, ValueError):
            n = None
        if n is not None and (n > 0 or not positive):
            return n
    return None


_EPOCH_KEYS = ("epochs", "max_epochs", "num_train_epochs", "n_epochs", "num_epochs")


def declared_epochs(curves: CurveSet) -> int | None:
    """The number of epochs the run was set to train for, when its files say so."""
    return hparam_int(curves, _EPOCH_KEYS, positive=True)


def end_metric(curve: Curve) -> float | None:
    """The level of a curve at the end of the run: the median of the last third of its finite
    values (None when it has none)."""
    v = np.asarray(curve.values, dtype=float)
    return end_level(v[np.isfinite(v)])


def end_level(values: np.ndarray) -> float | None:
    """The median of the last third of ``values`` (finite), None when there are none."""
    return float(np.median(values[-max(1, values.size // 3) :])) if values.size else None


#: names of bounded higher-is-better metrics, which may be logged in percent (0-100)
_BOUNDED = re.compile(
    r"(acc|accuracy|top[-_]?\d|f1|fscore|auc|auroc|iou|jaccard|dice|map|precision|recall)",
    re.IGNORECASE,
)


def fraction_values(curve: Curve | None) -> np.ndarray | None:
    """The finite values of a higher-is-better bounded metric (accuracy, F1, AUC...) as
    fractions: as logged when they lie in [0, 1], divided by 100 when a metric so named is
    logged in percent (in [0, 100], above 1 somewhere); None for any other curve."""
    if curve is None or curve.direction != "max":
        return None
    v = np.asarray(curve.values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0 or v.min() < 0.0:
        return None
    if v.max() <= 1.0:
        return v
    if v.max() <= 100.0 and _BOUNDED.search(curve.tag):
        return v / 100.0
    return None


def train_ends_above_start(train: Curve | None) -> bool:
    """The training loss (positive) ends, at its smoothed final level, no lower than its first
    logged value: it kept nothing of what it learned."""
    L = levels(train) if train is not None else None
    return L is not None and L.positive and L.final >= float(L.prep.values[0])


def metric_collapse(curves: CurveSet, *, max_fraction: float = 0.5) -> dict | None:
    """The validation metric (higher is better, in [0, 1]: accuracy, F1) fell to
    ``max_fraction`` of its best or less and stays there (``trends.collapsed``), and the
    validation loss agrees: it ends (median of its last third) above its first value. The model
    gave back what it had learned (LABELS-SPEC: "gave back most of its progress and stays
    there"), which a loss alone can hide when it rises by less than several times its start (a
    classifier collapsing to a constant prediction ends near ln(C)). None otherwise."""
    m, val = curves.val_metric, curves.val
    if m is None or val is None or m.direction != "max":
        return None
    mv = np.asarray(m.values, dtype=float)
    fin = np.isfinite(mv)
    i = collapsed(mv[fin], max_fraction=max_fraction)
    if i is None:
        return None
    vv = np.asarray(val.values, dtype=float)
    vv = vv[np.isfinite(vv)]
    val_end = end_metric(val)
    if vv.size < 3 or val_end is None or val_end <= float(vv[0]):
        return None
    ms, mv = np.asarray(m.steps)[fin], mv[fin]
    ib = int(np.argmax(mv[:i]))
    return {
        "onset_step": int(ms[i]),
        "metric": m.tag,
        "metric_best": float(mv[ib]),
        "metric_best_step": int(ms[ib]),
        "metric_end": float(np.median(mv[-max(2, mv.size // 3) :])),  # as trends.collapsed
        "val_first": float(vv[0]),
        "val_end": val_end,
    }


def before_divergence(curves: CurveSet, *, min_points: int) -> CurveSet | None:
    """The curves cut just before the run diverges: the first NaN/inf of the training or
    validation loss, the first evaluation of a validation loss that is off scale from the start
    (100x the training loss), or the step where the validation loss blows up by orders of magnitude
    or rises tenfold and freezes, or ends several times its first value while the training loss
    ends no lower than it started, or where a bounded validation metric collapses to half its
    best for good (DIV001/DIV002 report those; LABELS-SPEC judges the other kinds on what came before). The
    curves as they are when nothing diverges; None when fewer than ``min_points`` evaluations
    of the validation loss (or metric) come before."""
    cuts = []
    for c in (curves.train, curves.val):
        if c is None:
            continue
        bad = ~np.isfinite(np.asarray(c.values, dtype=float))
        if bad.any():
            cuts.append(int(np.asarray(c.steps)[np.argmax(bad)]))
    if curves.val is not None:
        v = np.asarray(curves.val.values, dtype=float)
        fin = np.isfinite(v)
        at = diverged(curves.val)
        if at is not None:
            cuts.append(int(np.asarray(curves.val.steps)[fin][at[0]]))
        rise = risen_from_start(v[fin]) if train_ends_above_start(curves.train) else None
        if rise is not None:
            cuts.append(int(np.asarray(curves.val.steps)[fin][rise]))
        mc = metric_collapse(curves)
        if mc is not None:
            cuts.append(mc["onset_step"])
        if curves.train is not None:
            tr, va = curves.train, curves.val
            off = val_off_scale(tr.steps, tr.values, va.steps, va.values)
            if off is not None:  # off scale from its first evaluation: nothing comes before
                cuts.append(int(off.first_step))
    if not cuts:
        return curves
    cut = min(cuts)

    def before(c):
        return c.upto(cut, inclusive=False) if c is not None else None

    out = replace(
        curves,
        train=before(curves.train),
        val=before(curves.val),
        val_metric=before(curves.val_metric),
    )
    judged = out.val if out.val is not None else out.val_metric
    if judged is None or len(judged) < min_points:
        return None
    return out
