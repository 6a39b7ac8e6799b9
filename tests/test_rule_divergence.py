import numpy as np

from rules import divergence
from tests import signals

from .helpers import cs


def test_nan_reports_first_nonfinite_step():
    s = signals.divergence(n=100, onset_fraction=0.5, nan_fraction=0.8, seed=1)
    f = divergence.check(cs(train=(s.steps, s.values)))
    assert len(f) == 1 and f[0].code == "DIV001" and f[0].kind == "divergence"
    first_bad = int(s.steps[~np.isfinite(s.values)][0])
    assert f[0].start_step == first_bad
    assert f[0].severity == "error"
    assert f[0].evidence["first_nonfinite_step"] == first_bad


def test_nan_in_val_and_components_are_reported_per_curve():
    steps = np.arange(20)
    val = np.linspace(1, 0.5, 20)
    val[15] = np.inf
    f = divergence.check(cs(train=(steps, np.linspace(1, 0.1, 20)), val=(steps, val)))
    assert [(x.code, x.curve, x.start_step) for x in f] == [("DIV001", "val_loss", 15)]
    assert f[0].evidence["recovered"] is True


def test_finite_curve_is_silent():
    s = signals.exp_decay(n=50)
    assert divergence.check(cs(train=(s.steps, s.values))) == []


def test_an_isolated_glitch_is_info_with_remedies_for_a_glitch():
    # one NaN evaluation among 60 at the level before it: find the bad batch; the learning rate
    # is not at fault, so lowering it (or a warm-up) is not offered
    steps = np.arange(60)
    val = np.linspace(1.0, 0.4, 60)
    val[30] = np.nan
    (f,) = divergence.check(cs(train=(steps, np.linspace(1, 0.1, 60)), val=(steps, val)))
    assert (f.severity, f.evidence["isolated"]) == ("info", True)
    assert [r.id for r in f.remedies] == ["check-numerics", "clip-gradients"]
    # NaN from step 30 on: a divergence, and the step size comes first
    val[30:] = np.nan
    (f,) = divergence.check(cs(train=(steps, np.linspace(1, 0.1, 60)), val=(steps, val)))
    assert f.severity == "error" and f.remedies[0].id == "lower-lr"
