"""Verdicts on real training runs do not depend on how the step axis is numbered or on the loss's
units where the loss has no absolute meaning.

Metamorphic checks on runs of ``fixtures/training`` (real Keras/PyTorch/Lightning runs of every
kind): the same run with its steps renumbered (a multiple and an offset: epochs logged as
global steps, a resumed counter), with its wall times missing, or, for a regression loss, in
other units (MSE in mm² instead of m²), must get the same problem kinds. A rule with a threshold
in steps, in seconds or in loss units instead of in the curve's own terms breaks these.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from analyzer.curves import Curve
from analyzer.engine import analyze_curves, check_stream
from analyzer.findings import PROBLEM_KINDS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "training"


def _kinds(findings) -> frozenset[str]:
    return frozenset(
        f.kind for f in findings if f.severity in ("warning", "error") and f.kind in PROBLEM_KINDS
    )


@pytest.fixture(scope="module")
def curve_sets():
    """Every third run of the training set and every regression run (every kind), as the rules
    see them."""
    out = []
    for i, item in enumerate(check_stream(FIXTURES, keep_runs=True)):
        if item.run is None:
            continue
        if i % 3 == 0 or any(w in item.run.id for w in REGRESSION):
            out.append(item.run.curve_set())
    assert len(out) >= 30
    return out


#: the training set's regression data sets (MSE losses): their loss has no chance level
REGRESSION = ("diabetes", "friedman", "-reg-")


TRANSFORMS = {
    "steps x7 + 1000": lambda c: replace(c, steps=c.steps * 7 + 1000),
    "steps x3": lambda c: replace(c, steps=c.steps * 3),
    "no wall times": lambda c: replace(c, wall_time=None),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_step_numbering_and_wall_times_do_not_change_the_verdict(curve_sets, name):
    fn = TRANSFORMS[name]
    flipped = []
    kinds_seen: set[str] = set()
    for cs in curve_sets:
        base = _kinds(analyze_curves(cs)[1])
        kinds_seen |= base
        got = _kinds(analyze_curves(cs.map_curves(fn))[1])
        if got != base:
            flipped.append((cs.run, sorted(base), sorted(got)))
    assert kinds_seen >= {"plateau", "overfitting", "divergence", "oscillation"}
    assert flipped == []


@pytest.mark.parametrize("factor", [1e-3, 1e3])
def test_a_regression_loss_in_other_units_gets_the_same_verdict(curve_sets, factor):
    def scaled(c: Curve) -> Curve:
        return replace(c, values=c.values * factor) if c.role.endswith("loss") else c

    regression = [cs for cs in curve_sets if any(w in cs.run for w in REGRESSION)]
    assert regression
    for cs in regression:
        base = _kinds(analyze_curves(cs)[1])
        assert _kinds(analyze_curves(cs.map_curves(scaled))[1]) == base, cs.run


def _evaluated(per_epoch: int, jump_at: int | None, seed: int, epochs: int = 40):
    """A run whose validation loss falls from 1.0 towards 0.3 and, with ``jump_at``, jumps 20x
    between two epochs (a blow-up) and stays there; else it rises 20x gradually over the last
    45% of the run. Evaluated ``per_epoch`` times an epoch (log-linear between epochs, ±2%
    noise); the training loss falls throughout."""
    import numpy as np

    from analyzer.curves import CurveSet

    rng = np.random.default_rng(seed)
    e = np.arange(1, epochs + 1, dtype=float)
    logv = np.log(0.3 + 0.7 * np.exp(-e / 4))
    if jump_at is not None:
        logv[e > jump_at] = logv[jump_at - 1] + np.log(20.0)
    else:
        start = int(0.55 * epochs)
        logv[start:] += np.linspace(0.0, np.log(20.0), epochs - start)
    s = np.linspace(1, epochs, (epochs - 1) * per_epoch + 1)
    val = np.exp(np.interp(s, e, logv) + 0.02 * rng.standard_normal(s.size))
    ts = np.arange(1, epochs * 10 + 1) / 10
    train = (0.25 + 0.75 * np.exp(-ts / 4)) * (1 + 0.05 * rng.standard_normal(ts.size))
    # steps count evaluations (epoch e ends at step (e - 1) * per_epoch)
    return CurveSet(
        run="t",
        train=Curve.of((ts - 1) * per_epoch, train, "loss", "train_loss", "min"),
        val=Curve.of(np.rint((s - 1) * per_epoch), val, "val_loss", "val_loss", "min"),
    )


@pytest.mark.parametrize("per_epoch", [1, 2, 3, 5, 10])
def test_a_blow_up_reads_the_same_at_any_evaluation_cadence(per_epoch):
    # a validation loss that jumps 20x between two epochs and stays there is divergence whether
    # it is evaluated once an epoch (one jump) or ten times (the jump spread over ten
    # evaluations); it was overfitting from two evaluations an epoch on
    for seed in range(3):
        findings = analyze_curves(_evaluated(per_epoch, 12, seed))[1]
        div = [f for f in findings if f.code == "DIV002"]
        assert div, (per_epoch, seed, [f.code for f in findings])
        # dated within the epoch of the jump at every cadence; the part before it is not judged
        # as overfitting (the rise is the blow-up)
        assert 11 * per_epoch < div[0].start_step <= 12 * per_epoch, (per_epoch, seed)
        assert "OVF001" not in [f.code for f in findings], (per_epoch, seed)
        # the same rise spread over the last 45% of the run is not a blow-up
        gradual = analyze_curves(_evaluated(per_epoch, None, seed))[1]
        assert "DIV002" not in [f.code for f in gradual], (per_epoch, seed)
