"""The learning-rate schedule ran out while the loss was still falling.

What it detects
---------------
A logged learning rate that decayed to a small fraction of its peak while the training loss was
still decreasing significantly just before the decay bottomed out — the schedule, not the model,
ended the progress.

Why it matters
--------------
With the learning rate near zero the weights stop moving: the run looks converged but the loss
could have gone lower with a longer or slower schedule.

What to do
----------
Stretch the schedule over more steps (or train longer with the same schedule), or lower the decay
rate / raise the minimum learning rate.

Example (flagged)
-----------------
lr ``0.1 → 0.001`` by step 3,000 of 10,000 while the loss was still dropping ~30% per 1,000 steps
just before.

Example (healthy)
-----------------
lr decays to 1% of its peak at the end, and the loss had already levelled off before.
"""

from __future__ import annotations

import numpy as np

from analyzer.curves import CurveSet
from analyzer.findings import Finding
from analyzer.trends.slope import trend_test

from . import _remedies as R
from ._common import declared_epochs, finding, fmt, levels, monitor_name, monitor_tag

CODE = "LRS001"
NAME = "lr-schedule-ended-early"
KIND = "schedule"
SEVERITY = "info"
#: not a passing state: a monitor announces it at once
TRANSIENT = False

#: the evidence that decided a finding, in words, for the HTML report (key: (label, format);
#: formats in analyzer.findings.FACT_FORMATS; the first five present are shown)
FACTS = {
    "lr_peak": ("peak learning rate", "value"),
    "lr_floor_step": ("learning rate at its floor from", "step"),
    "loss_p_decreasing_before": ("loss still falling before that (p-value)", "p"),
}


def check(curves: CurveSet, *, floor_ratio: float = 0.05, window: float = 0.2) -> list[Finding]:
    """``floor_ratio``: the LR counts as run out below this fraction of its peak; ``window``: the
    fraction of the run before that point in which the loss must still have been falling."""
    if curves.lr is None or curves.train is None:
        return []
    lr = curves.lr
    v = np.asarray(lr.values, dtype=float)
    fin = np.isfinite(v) & (v >= 0)
    if fin.sum() < 5:
        return []
    s, v = lr.steps[fin], v[fin]
    peak = float(v.max())
    if peak <= 0:
        return []
    low = v <= floor_ratio * peak
    ip = int(np.argmax(v))
    low[: ip + 1] = False
    if not low.any():
        return []
    floor_step = int(s[np.argmax(low)])
    L = levels(curves.train)
    if L is None:
        return []
    span = L.span
    start = floor_step - window * span
    if floor_step >= L.last_step - 0.05 * span:
        return []  # the schedule ended with the run: nothing to say
    tt = trend_test(L.steps, L.prep.values, start=start, end=floor_step)
    if tt.insufficient or tt.p_decreasing >= 0.01:
        return []
    after = trend_test(L.steps, L.prep.values, start=floor_step)
    if not after.insufficient and after.p_decreasing < 0.01 and after.tau < -0.5:
        return []  # the loss keeps falling after the LR bottomed out: no harm done
    msg = (
        f"{lr.tag} fell below {floor_ratio:.0%} of its peak {fmt(peak)} at step {floor_step:,} "
        f"while {curves.train.tag} was still falling; progress stopped with it"
    )
    return [
        finding(
            __name__,
            curve=lr.tag,
            start_step=floor_step,
            end_step=L.last_step,
            confidence=0.6,
            message=msg,
            evidence={
                "lr_peak": peak,
                "lr_floor_step": floor_step,
                "loss_p_decreasing_before": tt.p_decreasing,
            },
            remedies=(
                R.lr_schedule(
                    peak, None, monitor_name(curves), setup=curves.setup, tag=monitor_tag(curves)
                ),
                R.train_longer(None, epochs=declared_epochs(curves)),
            ),
        )
    ]
