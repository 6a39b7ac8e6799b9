"""A loss curve holds NaN or infinite values.

What it detects
---------------
The first step at which a loss (training, validation, or any other logged loss such as a
component) becomes NaN or infinite, how many points are non-finite, and whether the curve ever
comes back to finite values. A lone non-finite point (or a few, up to 2% of the curve, each
alone) followed by values at the level they had before is reported as an isolated glitch with
severity info: one bad batch or evaluation, not a divergence.

Why it matters
--------------
A non-finite loss means the weights (or the loss computation) have overflowed: every update after
that point is garbage, and a run that "recovers" usually had its optimizer state reset or skipped
the bad batches. Nothing learned after the first NaN can be trusted.

What to do
----------
Lower the learning rate (the usual cause), clip the gradient norm, add a warm-up, and look for
``log(0)``, division by zero or float16 overflow in the loss; check the inputs for NaN. For an
isolated glitch, find the batch or evaluation that produced it (and clip gradients so one bad
batch cannot throw the weights); the step size is not at fault there.

Example (flagged)
-----------------
Training loss ``2.1, 1.4, 0.9, 3.7, 41.0, nan, nan`` — non-finite from the 6th step on.

Example (healthy)
-----------------
Training loss ``2.1, 1.4, 0.9, 0.7, 0.6`` — every value finite.
"""

from __future__ import annotations

import numpy as np

from analyzer.curves import CurveSet
from analyzer.findings import Finding, Mark

from . import _remedies as R
from ._common import finding, fmt, last_lr

CODE = "DIV001"
NAME = "non-finite-loss"
KIND = "divergence"
SEVERITY = "error"
#: not a passing state: a monitor announces it at once
TRANSIENT = False

#: the evidence that decided a finding, in words, for the HTML report (key: (label, format);
#: formats in analyzer.findings.FACT_FORMATS; the first five present are shown)
FACTS = {
    "first_nonfinite_step": ("first NaN or infinite value", "step"),
    "kinds": ("values", "text"),
    "nonfinite_points": ("NaN or infinite points", "int"),
    "last_finite_value": ("last finite value", "value"),
    "finite_after": ("finite points after the first bad one", "int"),
}


def _isolated(v: np.ndarray, bad: np.ndarray, max_fraction: float) -> bool:
    """Few non-finite points (at most ``max_fraction`` of the curve, or one), none next to
    another, the last point finite, and the finite values after each at the level of those
    before it (the median of the next five at most twice that of the previous five)."""
    idx = np.flatnonzero(bad)
    if idx.size > max(1, int(max_fraction * v.size)) or bad[-1] or idx[0] == 0:
        return False
    if idx.size > 1 and np.any(np.diff(idx) == 1):
        return False
    for i in idx:
        before = v[:i][np.isfinite(v[:i])][-5:]
        after = v[i + 1 :][np.isfinite(v[i + 1 :])][:5]
        if not before.size or not after.size:
            return False
        b, a = float(np.median(before)), float(np.median(after))
        if not (a <= 2.0 * b if b > 0 else a <= b + abs(b)):
            return False
    return True


def check(curves: CurveSet, *, max_isolated_fraction: float = 0.02) -> list[Finding]:
    """``max_isolated_fraction``: up to this share of a curve's points (or one point) may be
    non-finite, each alone and followed by values at the earlier level, and be reported as an
    isolated glitch (severity info) rather than a divergence."""
    findings = []
    primary = {id(c) for c in (curves.train, curves.val) if c is not None}
    for c in curves.losses():
        v = np.asarray(c.values, dtype=float)
        bad = ~np.isfinite(v)
        if not bad.any():
            continue
        i = int(np.argmax(bad))
        first = int(c.steps[i])
        n_bad = int(bad.sum())
        after = int((~bad[i:]).sum())
        kinds = []
        if np.isnan(v).any():
            kinds.append("NaN")
        if np.isposinf(v).any():
            kinds.append("+inf")
        if np.isneginf(v).any():
            kinds.append("-inf")
        before = v[:i][np.isfinite(v[:i])]
        last_ok = float(before[-1]) if before.size else None
        recovered = after > 0 and bool(np.isfinite(v[-1]))
        is_primary = id(c) in primary
        isolated = recovered and _isolated(v, bad, max_isolated_fraction)
        msg = (
            f"{c.tag} becomes {'/'.join(kinds)} at step {first:,}"
            + (
                f" (last finite value {fmt(last_ok)})"
                if last_ok is not None
                else " (from the first point)"
            )
            + f"; {n_bad} of {len(v)} points are non-finite"
            + ("; later values are finite again" if recovered else "")
            + (
                " at the level they had before: an isolated glitch (one bad batch or evaluation), "
                "not a divergence"
                if isolated
                else ""
            )
        )
        lr = last_lr(curves)
        if isolated:
            # one bad batch or evaluation: find where it came from; the step size is not at fault
            remedies = [R.check_numerics(), R.clip_gradients()]
        else:
            remedies = [
                R.lower_lr(lr, setup=curves.setup),
                R.clip_gradients(),
                R.check_numerics(),
            ]
            if i <= max(2, 0.1 * len(v)):
                remedies.insert(2, R.warmup(lr, setup=curves.setup))
        findings.append(
            finding(
                __name__,
                severity="info"
                if isolated
                else "error"
                if is_primary or not recovered
                else "warning",
                marks=(Mark("vline", "nonfinite", start=first),),
                curve=c.tag,
                start_step=first,
                end_step=int(c.steps[-1]),
                confidence=1.0,
                message=msg,
                evidence={
                    "first_nonfinite_step": first,
                    "nonfinite_points": n_bad,
                    "points": len(v),
                    "kinds": kinds,
                    "last_finite_value": last_ok,
                    "finite_after": after,
                    "recovered": recovered,
                    "isolated": isolated,
                },
                remedies=tuple(remedies),
            )
        )
    return findings
