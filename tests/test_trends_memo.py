"""analyzer.trends._memo: results remembered by the contents of the arguments."""

from __future__ import annotations

import numpy as np

from analyzer.trends import fit_asymptote, oscillation, swings
from analyzer.trends._memo import by_content


def test_same_contents_same_result_new_contents_recomputed():
    calls = []

    @by_content(maxsize=2)
    def f(x, *, k=1):
        calls.append(1)
        return float(np.sum(x)) * k

    a = np.arange(5.0)
    assert f(a) == 10.0 and f(a.copy()) == 10.0 and len(calls) == 1  # a copy is the same key
    b = a.copy()
    b[0] = -0.0  # the sign of a zero is content too
    f(b)
    assert len(calls) == 2
    a2 = a.copy()
    a2[4] = 5.0  # changed in place: another key, recomputed
    assert f(a2) == 11.0 and len(calls) == 3
    assert f(a, k=2) == 20.0 and len(calls) == 4  # other options: another key
    assert f(a.astype(np.float32)) == 10.0 and len(calls) == 5  # another dtype: another key
    assert f.cache_len() == 2  # the least recently used entries were dropped
    assert f(a, k=2) == 20.0 and len(calls) == 5  # kept (among the last two)
    assert f(a2) == 11.0 and len(calls) == 6  # dropped: recomputed


def test_unkeyable_arguments_are_computed_every_time():
    calls = []

    @by_content()
    def g(x):
        calls.append(1)
        return len(x)

    obj = np.array([{"a": 1}], dtype=object)  # object arrays have no bytes to digest
    assert g(obj) == 1 and g(obj) == 1 and len(calls) == 2
    assert g([{1: 2}]) == 1 and g.cache_len() == 0


def test_memoised_trend_functions_return_what_they_compute():
    rng = np.random.default_rng(4)
    steps = np.arange(400, dtype=float)
    for values in (
        1 + 1 / (1 + 0.05 * steps) + 0.05 * np.sin(steps / 6) + 0.01 * rng.normal(size=400),
        2 * np.exp(-steps / 80) + 0.3 + 0.01 * rng.normal(size=400),
    ):
        o = oscillation(steps, values, min_points=8)
        assert oscillation(steps, values.copy(), min_points=8) is o
        assert repr(oscillation.__wrapped__(steps, values, min_points=8)) == repr(o)
        fit = fit_asymptote(steps, values)
        assert fit_asymptote(steps.copy(), values) is fit
        assert repr(fit_asymptote.__wrapped__(steps, values)) == repr(fit)  # NaN-proof


def test_a_monitor_reevaluation_recomputes_only_the_curves_that_changed(monkeypatch):
    """After a new validation point only, the training loss's oscillation statistics are the
    remembered ones: fewer periodograms than the first evaluation, the same findings as a
    monitor evaluating everything afresh."""
    import importlib

    from analyzer import Monitor

    osc_mod = importlib.import_module("analyzer.trends.oscillation")  # the module, not the function

    rng = np.random.default_rng(6)

    def fill(mon, n):
        for i in range(n):
            mon.update(
                i,
                loss=0.3 + 2 / (1 + 0.02 * i) + 0.05 * np.sin(i / 5) + 0.02 * rng.normal(),
                # swinging too: OSC001 measures the training loss's swings only when the
                # validation loss swings (a calm one rules them out)
                val_loss=0.5 + 2 / (1 + 0.02 * i) + 0.0005 * max(0, i - 250) + 0.2 * np.sin(i / 5),
            )

    calls = []
    real = osc_mod.gls_power
    monkeypatch.setattr(osc_mod, "gls_power", lambda *a, **k: calls.append(1) or real(*a, **k))
    mon = Monitor(every=10**9)
    fill(mon, 400)
    mon.check_now()
    first = len(calls)
    mon.update(400, val_loss=0.75)
    calls.clear()
    mon.check_now()
    again = len(calls)
    assert first > 0 and again < first
    oscillation.cache_clear()
    swings.cache_clear()
    fit_asymptote.cache_clear()
    calls.clear()
    fresh = Monitor(every=10**9)
    fresh._series = mon._series  # the same points, no remembered statistics
    fresh.check_now()
    assert len(calls) > again
    assert [f.code for f in fresh.report().findings] == [f.code for f in mon.report().findings]
