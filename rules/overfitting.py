"""The validation loss turns worse while the training loss keeps improving.

What it detects
---------------
After its best (smoothed) point, the validation loss — or, when no validation loss is logged, a
validation metric such as accuracy — gets clearly and lastingly worse while the training loss
keeps falling or stays flat. "Clearly" means beyond the validation curve's own noise and by a
material fraction of its level; "lastingly" means most evaluations after the best stay worse. It
works with as few as five evaluations: there is no patience counter that short runs cannot fill.
It reports the best checkpoint (step and value), the onset of the rise (where the smoothed curve
first got materially worse: 10% above its best, or a quarter of the whole rise when that is less;
it stays put as a live run goes on rising), and how much the gap between validation and training
loss grew. The best point must come before the last third of the
run (with fewer than 12 evaluations, at least three must follow it): a turn in the last third is
too late to tell from noise.

A validation loss too noisy for its end to stand out point by point is compared as two groups of
evaluations: those around its minimum (located on a running median a quarter of the run wide,
before the last third) and those of the last third. The last third must sit 10% or more higher,
with a one-sided Mann-Whitney p-value of at most 0.05, while the training loss falls by 10% or
more over the same time: mild, noisy overfitting. A rise of orders of magnitude is divergence
(DIV002), not overfitting: a run whose validation loss blows up, or whose losses turn NaN/inf,
is judged only on the part before that (with at least 8 evaluations there). When a validation
metric (accuracy, F1...) keeps improving after the loss turned up, the message says so and the
first remedy is to keep the checkpoint that is best on the metric: stopping at the loss minimum
would cost metric points.

Why it matters
--------------
The model has started to memorise the training set; every step after the best checkpoint makes it
worse on new data. If the training loss rises too, the run is unstable or diverging (DIV002),
and this rule stays silent; if a loss turns NaN/inf (DIV001), only the part before is judged.

What to do
----------
Keep the best checkpoint (early stopping with restore_best_weights), then add regularisation
(dropout, weight decay), more data (image augmentation when the run holds evidence of images,
noise on the inputs otherwise), or use a smaller model.

Example (flagged)
-----------------
val_loss ``0.90, 0.52, 0.41, 0.38, 0.40, 0.47, 0.55, 0.66`` while loss falls ``0.9 → 0.05``: best
checkpoint at the 4th evaluation, +74% since.

Example (healthy)
-----------------
val_loss ``0.90, 0.52, 0.41, 0.38, 0.37, 0.375, 0.366`` — wiggles within noise around a flat end.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analyzer.curves import CurveSet
from analyzer.findings import Finding, Mark, Remedy
from analyzer.trends.extremum import level_shift
from analyzer.trends.oscillation import median_trend
from analyzer.trends.prep import bin_medians

from . import _remedies as R
from ._common import before_divergence, clamp01, finding, finite_or_none, fmt, levels, pct

CODE = "OVF001"
NAME = "val-loss-rising"
KIND = "overfitting"
SEVERITY = "warning"
#: a passing state of a run still training can show it: a monitor waits for a second sighting
TRANSIENT = True

#: the evidence that decided a finding, in words, for the HTML report (key: (label, format);
#: formats in analyzer.findings.FACT_FORMATS; the first five present are shown)
FACTS = {
    "best_step": ("best value at", "step"),
    "best_value": ("best value", "value"),
    "final_value": ("final value", "value"),
    "relative_rise": ("rise since the best", "+%"),
    "gap_growth": ("growth of the train-validation gap", "value"),
    "evaluations_after_best": ("evaluations after the best", "int"),
}


def _rise_scale(L, best: float, use_metric: bool) -> float:
    """What a rise above ``best`` is measured against: for a validation metric the improvement
    it had made (not positive when it made none); for a positive loss its best level; otherwise
    the improvement of the loss."""
    if use_metric:
        return L.initial - best
    return abs(best) if L.positive else max(abs(L.initial - best), 1e-12)


def _interp_smooth(L, at: np.ndarray) -> np.ndarray:
    return np.interp(at, L.steps, L.smooth)


def _metric_gain_after(metric, onset: int) -> tuple[float, float] | None:
    """(metric around ``onset``, metric over the last third after it) when a validation metric
    with a direction keeps improving after the loss's onset: the median of the evaluations in
    the last third of the run is better than the median of the three evaluations nearest the
    onset by more than the metric's own point-to-point noise. None otherwise."""
    if metric.direction not in ("max", "min"):
        return None
    s = np.asarray(metric.steps, dtype=float)
    v = np.asarray(metric.values, dtype=float)
    fin = np.isfinite(v)
    s, v = s[fin], v[fin]
    if v.size < 5:
        return None
    sign = 1.0 if metric.direction == "max" else -1.0
    i = int(np.argmin(np.abs(s - onset)))
    at = float(np.median(v[max(0, i - 1) : i + 2]))
    late_mask = (s > onset) & (s >= s[-1] - (s[-1] - s[0]) / 3)
    if late_mask.sum() < 2:
        return None
    late = float(np.median(v[late_mask]))
    noise = float(np.median(np.abs(np.diff(v)))) if v.size > 2 else 0.0
    if sign * (late - at) > max(noise, 1e-12):
        return at, late
    return None


def check(
    curves: CurveSet,
    *,
    min_rise: float = 0.1,
    min_noise_units: float = 3.0,
    min_metric_rise: float = 0.2,
    train_tolerance: float = 0.05,
    max_late_fraction: float = 1 / 3,
    max_p_value: float = 0.05,
    min_points_before_divergence: int = 8,
) -> list[Finding]:
    """``min_rise``: rise of the validation loss above its best, as a fraction of the best level;
    ``min_noise_units``: ... and in noise sigmas; ``min_metric_rise``: for a validation metric, the
    worsening as a fraction of the improvement it had made; ``train_tolerance``: how much the
    training loss may rise after the best point (fraction of its level) and still count as
    "not getting worse"; a rise beyond it disqualifies when it is significant (3 noise sigmas)
    or, on a very noisy curve, when it exceeds five times the tolerance; ``max_late_fraction``
    and ``max_p_value``: a validation loss too noisy for the rise to stand out point by point
    still counts when its minimum comes before the last ``max_late_fraction`` of the run and the
    evaluations of that last part are higher than those around the minimum by ``min_rise``, with
    a one-sided Mann-Whitney p-value of at most ``max_p_value``;
    ``min_points_before_divergence``: a run that diverges (a loss turns NaN/inf, or the
    validation loss blows up by orders of magnitude) is judged on the part before that, when the
    validation loss has at least this many evaluations there; otherwise not at all."""
    cut = before_divergence(curves, min_points=min_points_before_divergence)
    if cut is None:
        return []
    curves = cut
    use_metric = curves.val is None
    c = curves.val if not use_metric else curves.val_metric
    if c is None:
        return []
    sign = -1.0 if (use_metric and c.direction == "max") else 1.0
    L = levels(c, sign=sign)
    if L is None:
        return []
    best_step, best, final, smooth = L.best_step, L.best, L.final, L.smooth
    after = L.steps > best_step
    rise = final - best
    material, rel, noise_units = False, 0.0, 0.0
    if after.sum() >= 2 and rise > 0:
        scale = _rise_scale(L, best, use_metric)
        if use_metric:
            material = scale > 0 and rise >= min_metric_rise * scale
            rel = rise / scale if scale > 0 else float("inf")
        else:
            rel = rise / scale if scale > 0 else float("inf")
            material = rel >= min_rise
        noise_units = (
            L.units(best, final) if sign > 0 else rise / L.noise if L.noise > 0 else float("inf")
        )
    # LABELS-SPEC: the minimum comes before the last third of the run (a rise that starts in
    # the last third is too late to tell from noise or a schedule); with few evaluations it
    # must at least leave three of them after it
    early = best_step <= L.first_step + (1.0 - max_late_fraction) * L.span or (
        L.n < 12 and int(np.sum(L.steps > best_step)) >= 3
    )
    material = material and early
    shift = None
    if not (material and noise_units >= min_noise_units):
        # A noisy validation loss: single evaluations swing too much for the end to stand out,
        # but the level of the last third can still be clearly above the level around an early
        # minimum (two groups of points compared, not two points).
        if use_metric or not L.positive:
            return []
        # where the minimum is: the lowest point of a heavy running median (a quarter of the
        # evaluations wide) before the last part, so that single low evaluations do not decide
        # (on at most 2,000 bin medians: a quarter-wide running median is quadratic otherwise)
        x = L.prep.values
        bs, bx, _ = bin_medians(L.steps, x, max_points=2000)
        w = max(3, (bx.size // 4) | 1)
        trend = median_trend(bx, w)
        head = bs <= L.first_step + (1.0 - max_late_fraction) * L.span
        if head.sum() < 2:
            return []
        ib = int(np.argmin(np.where(head, trend, np.inf)))
        ib = min(int(np.searchsorted(L.steps, bs[ib])), L.n - 1)
        shift = level_shift(L.steps, x, ib, late_fraction=max_late_fraction)
        if not (
            shift is not None
            and shift.relative >= min_rise
            and shift.p_value <= max_p_value
            and shift.above_share >= 0.7
        ):
            return []
        best_step, best, final, smooth = int(L.steps[ib]), shift.best_level, shift.late_level, trend
        rise, rel = final - best, shift.relative
        noise_units = float("nan")
    v = L.prep.values
    post = L.steps > best_step
    # lasting: from where the smoothed curve has made a quarter of its rise, most evaluations
    # stay clearly above the best level
    risen = post & (smooth >= best + 0.25 * rise)
    lasting_from = int(L.steps[np.argmax(risen)]) if risen.any() else int(L.steps[post][0])
    after_onset = L.steps >= lasting_from
    if after_onset.sum() < 2:
        return []
    threshold = max(L.above(best, 2.0) if sign > 0 else best + 2.0 * L.noise, best + 0.1 * rise)
    if shift is not None:  # noisy: above the level around the minimum is enough
        threshold = shift.best_level
    sustained = float(np.mean(v[after_onset] >= threshold))
    if sustained < 0.7:
        return []
    # the onset reported: where the smoothed curve first rose materially above its best
    # (min_rise of the best level, or a quarter of the rise when that is less). A share of the
    # best level, not of the rise so far, so that a live run re-judged as it grows keeps its
    # onset when the rise goes on (a quarter of the rise so far moved it later at every look)
    unit = (min_metric_rise if use_metric else min_rise) * max(_rise_scale(L, best, use_metric), 0)
    onset_mask = post & (smooth >= best + min(0.25 * rise, unit))
    onset = int(L.steps[np.argmax(onset_mask)]) if onset_mask.any() else int(L.steps[post][0])

    # the checkpoint to restore: the best evaluation actually logged up to the onset
    upto = L.steps <= onset
    ib = int(np.argmin(v[upto]))
    ckpt_step, ckpt_value = int(L.steps[upto][ib]), float(v[upto][ib])
    evidence: dict[str, Any] = {
        "best_step": ckpt_step,
        "best_value": sign * ckpt_value,
        "smoothed_best_step": best_step,
        "final_value": sign * final,
        "onset_step": onset,
        "rise": rise,
        "relative_rise": rel,
        "rise_noise_units": noise_units,
        "fraction_after_best_worse": sustained,
        "evaluations": L.n,
        "evaluations_after_best": int(post.sum()),
    }
    if shift is not None:
        evidence["late_level"] = shift.late_level
        evidence["level_around_best"] = shift.best_level
        evidence["late_vs_best_p_value"] = shift.p_value
    train_note = ""
    T = levels(curves.train) if curves.train is not None else None
    if T is not None:
        assert curves.train is not None  # T are its levels
        t_best = float(_interp_smooth(T, np.array([best_step]))[0])
        t_change = (T.final - t_best) / (
            abs(t_best) if T.positive and t_best else max(abs(T.initial - T.best), 1e-12)
        )
        evidence["train_change_after_best"] = t_change
        if shift is not None and t_change > -min_rise:
            # the noisy path asks more: a level shift of a noisy validation loss is overfitting
            # only while the training loss clearly keeps falling (else it is the noise of an
            # unstable run, e.g. a learning rate too high)
            return []
        if t_change > train_tolerance and (
            T.units(t_best, T.final) > 3 or t_change > 5 * train_tolerance
        ):
            # both rise: that is divergence, or a run too unstable to call the training loss
            # "improving" (a rise of a quarter is not "flat", however noisy the curve)
            return []
        if not use_metric:
            gap_best = best - t_best
            gap_end = final - T.final
            evidence["gap_at_best"] = gap_best
            evidence["gap_at_end"] = gap_end
            evidence["gap_growth"] = gap_end - gap_best
        train_note = (
            f" while {curves.train.tag} {'keeps falling' if t_change < -0.02 else 'stays flat'}"
            f" ({pct(t_change)})"
        )
    what = c.tag
    if use_metric:
        word = "drops" if sign < 0 else "rises"
        msg = (
            f"{what} {word} from its best {fmt(sign * ckpt_value)} at step {ckpt_step:,} to "
            f"{fmt(sign * final)} ({pct(rel)} of the improvement it had made lost){train_note}"
        )
    else:
        msg = (
            f"{what} rises from its best {fmt(ckpt_value)} (step {ckpt_step:,}) to {fmt(final)}"
            f" ({pct(rel)} above the {'level around its' if shift else 'smoothed'} minimum)"
            f"{train_note}; best checkpoint at step "
            f"{ckpt_step:,}"
        )
    metric_note, metric_gain = "", None
    if not use_metric and curves.val_metric is not None:
        metric_gain = _metric_gain_after(curves.val_metric, onset)
    if metric_gain is not None:
        m = curves.val_metric
        assert m is not None  # metric_gain comes from it
        evidence["metric_still_improves"] = m.tag
        evidence["metric_at_onset"], evidence["metric_late"] = metric_gain
        metric_note = (
            f"; {m.tag} still improves ({fmt(metric_gain[0])} → {fmt(metric_gain[1])}), so the "
            "model is not getting worse on the metric: keep the checkpoint that is best on it"
        )
    conf = clamp01(
        0.45
        + 0.25
        * clamp01((noise_units - min_noise_units) / 10.0 if np.isfinite(noise_units) else 0.5)
        + 0.2 * clamp01(rel / (3 * (min_metric_rise if use_metric else min_rise)))
        + 0.1 * sustained
    )
    if T is None:
        if shift is not None:
            return []  # noisy, and no training loss to show the model is still fitting
        conf *= 0.8
    n_after = int(post.sum())
    patience = int(max(2, min(10, round(0.5 * n_after), round(0.1 * L.n) + 2)))
    remedies: tuple[Remedy, ...] = (
        R.early_stopping(
            ckpt_step,
            sign * ckpt_value,
            patience,
            unit="step",
            tag=c.tag,
            metric_direction=c.direction if use_metric else None,
        ),
        R.regularize(),
        R.augment(curves.setup.images),
        R.smaller_model(),
    )
    if metric_gain is not None:
        msg += metric_note
        # first keep the checkpoint that is best on the metric; stopping at the loss minimum
        # stays on the list, second (it is what the metric-blind alternative does)
        assert curves.val_metric is not None  # metric_gain comes from it
        remedies = (
            R.checkpoint_on_metric(curves.val_metric.tag, curves.val_metric.direction),
            *remedies,
        )
    mark_step, mark_value = (finite_or_none(evidence.get(k)) for k in ("best_step", "best_value"))
    marks: tuple[Mark, ...] = (
        Mark("vline", "onset", start=finite_or_none(evidence.get("onset_step", onset))),
    )
    if mark_step is not None and mark_value is not None:
        marks += (Mark("point", "best", start=mark_step, value=mark_value),)
    return [
        finding(
            __name__,
            marks=marks,
            curve=c.tag,
            start_step=onset,
            end_step=L.last_step,
            confidence=conf,
            message=msg,
            evidence=evidence,
            remedies=remedies,
        )
    ]
