"""The validation loss stays below the training loss for the whole run.

What it detects
---------------
At (almost) every step where both are logged, the validation loss is lower than the training loss
by more than their noise, and typically by 2% of the training loss or more (two losses a hair
apart, e.g. both stuck at chance level, are the same level).

Why it matters
--------------
Usually harmless: dropout, data augmentation and other regularisers are active while the training
loss is measured and off for validation, and a training loss averaged over an epoch lags behind
the end-of-epoch weights. But it can also mean the validation set is easier than the training set
or leaks into it — worth a check when the gap is large.

What to do
----------
Nothing, if the model uses dropout/augmentation. Otherwise check the split for duplicates between
training and validation data, and that both are drawn from the same distribution.

Example (flagged)
-----------------
loss ``1.2, 0.9, 0.8, 0.75, 0.72, 0.70`` and val_loss ``1.0, 0.7, 0.6, 0.55, 0.52, 0.50``.

Example (healthy)
-----------------
loss ``1.2, 0.9, 0.8, 0.75, 0.72, 0.70`` and val_loss ``1.25, 0.95, 0.86, 0.84, 0.82, 0.81``.
"""

from __future__ import annotations

import numpy as np

from analyzer.curves import CurveSet
from analyzer.findings import Finding

from ._common import finding, levels, pct

CODE = "GAP001"
NAME = "val-below-train"
KIND = "generalization-gap"
SEVERITY = "info"
#: not a passing state: a monitor announces it at once
TRANSIENT = False

#: the evidence that decided a finding, in words, for the HTML report (key: (label, format);
#: formats in analyzer.findings.FACT_FORMATS; the first five present are shown)
FACTS = {
    "share_below": ("share of evaluations with validation below training", "%"),
    "median_relative_gap": ("typical gap, share of the training loss", "%"),
}


def check(curves: CurveSet, *, min_share: float = 0.9, min_gap: float = 0.02) -> list[Finding]:
    """``min_share``: share of the common steps where validation must be below training;
    ``min_gap``: the typical gap, as a share of the training loss, below which the two are the
    same level (two losses stuck at chance, 0.17% apart, say nothing about the split)."""
    if curves.train is None or curves.val is None:
        return []
    T, V = levels(curves.train), levels(curves.val)
    if T is None or V is None:
        return []
    lo, hi = max(T.first_step, V.first_step), min(T.last_step, V.last_step)
    at = V.steps[(V.steps >= lo) & (V.steps <= hi)]
    if at.size < 5:
        return []
    t = np.interp(at, T.steps, T.smooth)
    v = np.interp(at, V.steps, V.smooth)
    margin = 2.0 * max(T.noise, V.noise)
    below = v < t - margin
    share = float(below.mean())
    if share < min_share:
        return []
    rel_gap = float(np.median((t - v) / np.abs(t))) if T.positive else float("nan")
    if np.isfinite(rel_gap) and rel_gap < min_gap:
        return []
    msg = (
        f"{curves.val.tag} is below {curves.train.tag} at {pct(share)} of the steps "
        + (f"(by {pct(rel_gap)} of the training loss, median)" if np.isfinite(rel_gap) else "")
        + ": expected with dropout/augmentation, otherwise check the split for leakage"
    )
    return [
        finding(
            __name__,
            curve=curves.val.tag,
            start_step=int(at[0]),
            end_step=int(at[-1]),
            confidence=share,
            message=msg,
            evidence={"share_below": share, "median_relative_gap": rel_gap},
        )
    ]
