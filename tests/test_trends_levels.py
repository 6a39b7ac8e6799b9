"""analyzer.trends.levels: a summary's tail is computed once and shared by the rules."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from analyzer.trends import levels as lv


def _summary():
    rng = np.random.default_rng(3)
    steps = np.arange(300, dtype=float)
    values = 0.2 + 2.0 / (1 + 0.05 * steps) + 0.02 * rng.standard_normal(300)
    return lv.summarize(steps, values)


def test_tail_is_shared_and_equal_to_a_fresh_computation(monkeypatch):
    L = _summary()
    calls = []
    real = lv._tail
    monkeypatch.setattr(lv, "_tail", lambda *a: calls.append(a) or real(*a))
    first = lv.tail(L)
    assert lv.tail(L) is first and lv.tail(L, fraction=1 / 3) is first
    assert len(calls) == 1
    other = lv.tail(L, fraction=0.5)  # another fraction is another tail
    assert len(calls) == 2 and other != first
    # the memo is not part of the summary's value, and a rebuilt summary starts without one
    fresh = lv.summarize(L.prep.steps, L.prep.values)
    assert lv._tail(fresh, 1 / 3) == first
    assert replace(L).memo == {}
