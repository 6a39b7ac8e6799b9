"""The loss was still falling when training stopped: more training would help.

What it detects
---------------
A training loss whose last third is still decreasing significantly (Mann-Kendall test) at a rate
that would remove a material fraction of its current level in another run of the same length,
while the validation loss (if logged) is at or near its best at the end. The fitted asymptote,
when credible, estimates how much is left to gain.

Why it matters
--------------
Not a problem: the run was stopped early. Knowing it saves guessing whether a better setup is
needed or just more steps.

What to do
----------
Train longer (or raise the learning rate a little if the decay is slow and steady); keep an eye on
the validation loss for the point where it stops improving. When it already has (flat over the
last half of the run while the gap to the training loss widens), the finding says so and advises
against training longer: keep the best checkpoint and regularise instead.

Example (flagged)
-----------------
``2.3, 1.95, 1.66, 1.41, 1.2, 1.02, 0.87, 0.74, 0.63, 0.53, 0.45, 0.38, 0.33, 0.28, 0.24`` — still
dropping ~15% per epoch at the end (the last third must hold enough points to test the trend).

Example (healthy)
-----------------
``2.3, 0.6, 0.2, 0.12, 0.11, 0.105, 0.104`` — converged.
"""

from __future__ import annotations

from analyzer.curves import Curve, CurveSet
from analyzer.findings import Finding, Mark, Remedy
from analyzer.trends.asymptote import fit_asymptote

from . import _remedies as R
from ._common import (
    clamp01,
    declared_epochs,
    finding,
    finite_or_none,
    fmt,
    levels,
    monitor_name,
    pct,
    tail,
    val_flat_gap_widening,
)

CODE = "PLT002"
NAME = "still-improving"
KIND = "undertrained"
SEVERITY = "info"
#: a passing state of a run still training can show it: a monitor waits for a second sighting
TRANSIENT = True

#: the evidence that decided a finding, in words, for the HTML report (key: (label, format);
#: formats in analyzer.findings.FACT_FORMATS; the first five present are shown)
FACTS = {
    "final_value": ("final value", "value"),
    "tail_change_per_run": ("change at the end, per run length", "+%"),
    "tail_p_decreasing": ("still falling (p-value)", "p"),
    "asymptote": ("level the trend heads for", "value"),
    "remaining_fraction_of_level": ("still to gain, share of the final level", "%"),
}


def check(curves: CurveSet, *, improving_rate: float = 0.1, alpha: float = 0.01) -> list[Finding]:
    """``improving_rate``: fraction of the current level the tail's slope would remove in one more
    run length; ``alpha``: significance of the Mann-Kendall decrease in the last third."""
    c = curves.train if curves.train is not None else curves.val
    if c is None:
        return []
    L = levels(c)
    if L is None or L.n < 8:
        return []
    t = tail(L)
    if t is None or not (t.p_decreasing < alpha and -t.rel_per_run >= improving_rate):
        return []
    if curves.val is not None and c is curves.train:
        V = levels(curves.val)
        if (
            V is not None
            and (V.last_step - V.best_step) > 0.2 * V.span
            and V.final > V.best + 2 * V.noise
        ):
            return []  # validation already past its best: more training is not the answer
    evidence = {
        "tail_change_per_run": t.rel_per_run,
        "tail_p_decreasing": t.p_decreasing,
        "final_value": L.final,
    }
    extra = ""
    fit = fit_asymptote(L.prep.steps, L.prep.values)
    if not fit.insufficient and fit.credible:
        evidence["asymptote"] = fit.asymptote
        evidence["remaining_fraction_of_level"] = fit.remaining_rel_level
        extra = f"; the fitted trend levels off near {fmt(fit.asymptote)}"
    steps = int(L.last_step)
    remedies, since = _remedies(curves, c, steps)
    advice = (
        ": train longer"
        if since is None
        else f"; but the validation loss has not improved since step {since:,} while the gap "
        "to it widens: more training would only widen it"
    )
    msg = (
        f"{c.tag} is still falling at the end ({pct(-t.rel_per_run)} lower per run length at "
        f"the current rate){extra}{advice}"
    )
    return [
        finding(
            __name__,
            marks=tuple(
                Mark("hline", "asymptote", value=a)
                for a in [finite_or_none(evidence.get("asymptote"))]
                if a is not None
            ),
            curve=c.tag,
            start_step=int(L.steps[-1] - L.span / 3),
            end_step=L.last_step,
            confidence=clamp01(0.5 + 0.5 * min(1.0, -t.rel_per_run)),
            message=msg,
            evidence=evidence,
            remedies=remedies,
        )
    ]


def _remedies(curves: CurveSet, c: Curve, steps: int) -> tuple[tuple[Remedy, ...], int | None]:
    """ "Train longer", unless the validation loss has been flat for half the run while the gap
    to the falling training loss widened (then also the step it has been flat since): more
    steps would only memorise."""
    if c is curves.train:
        since = val_flat_gap_widening(curves)
        if since is not None:
            return (R.stop_not_longer(since, monitor_name(curves)), R.regularize()), since
    return (R.train_longer(steps, epochs=declared_epochs(curves)),), None
