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
