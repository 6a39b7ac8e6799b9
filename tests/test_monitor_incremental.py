"""Monitor evaluations that cost little (issue 12): long curves handed to the rules anew only when
they grew by a fraction, a budget shared out rule by rule in fast loops, and a final report that
is still exactly ``check``'s."""

import time

import numpy as np
import pandas as pd
import pytest

import analyzer.engine as engine
import rules as rule_registry
from analyzer import Monitor, check_frame
from analyzer.findings import Finding
from analyzer.monitor import EXACT_POINTS, FindingTracker
from tests import signals as S


def _spy(monkeypatch, module, calls, cost=0.0, now=None):
    """Count the calls of ``module.check`` (and advance the fake clock ``now`` by ``cost``)."""
    real = module.check

    def check(*a, **k):
        calls.append(module.CODE)
        if now is not None:
            now[0] += cost
        return real(*a, **k)

    monkeypatch.setattr(module, "check", check)


def _offline(series):
    rows = [
        (k, int(s), float(v)) for k, (ss, vv) in series.items() for s, v in zip(ss, vv, strict=True)
    ]
    return check_frame(pd.DataFrame(rows, columns=["tag", "step", "value"]))


def test_a_long_curve_is_handed_on_when_it_grew_by_the_refresh_fraction(monkeypatch):
    from rules import explosion

    calls: list[str] = []
    _spy(monkeypatch, explosion, calls)
    n = 640  # longer than EXACT_POINTS: the refresh policy applies
    assert n > EXACT_POINTS
    loss = 0.3 + 2.0 / (1.0 + 0.01 * np.arange(n + 100))
    mon = Monitor(every=10**9)
    for i in range(n):
        mon.update(i, loss=float(loss[i]))
    mon.check_now()
    assert calls == ["DIV002"]
    reran = []
    for i in range(n, n + 60):
        mon.update(i, loss=float(loss[i]))
        before = len(calls)
        mon.check_now()
        if len(calls) > before:
            reran.append(i - n + 1)  # new points since the curve was handed on
    # 640 / 32 = 20 new points, then 660 / 32 = 20.6 -> 21 more
    assert reran == [20, 41]
    # a non-finite value is handed on at once (and evaluated at once: divergence is never late)
    alerts = mon.update(n + 60, loss=float("nan"))
    assert "DIV001" in [f.code for f in alerts]
    # refresh=0: every new point is handed on
    calls.clear()
    eager = Monitor(every=10**9, refresh=0.0)
    for i in range(n):
        eager.update(i, loss=float(loss[i]))
    eager.check_now()
    for i in range(n, n + 5):
        eager.update(i, loss=float(loss[i]))
        eager.check_now()
    assert len(calls) == 6
    with pytest.raises(ValueError, match="refresh"):
        Monitor(refresh=1.5)


def test_short_curves_are_always_current(monkeypatch):
    from rules import overfitting

    calls: list[str] = []
    _spy(monkeypatch, overfitting, calls)
    mon = Monitor(every=10**9, select=["OVF001"])
    for e in range(1, 250):  # per-epoch logging: 249 points <= EXACT_POINTS
        mon.update(e, loss=2 / e, val_loss=1.0 + 0.01 * abs(e - 60))
        mon.check_now()
    assert len(calls) == 249  # every evaluation looked again (check_now: whatever min_points)


def test_carried_findings_are_not_a_second_sighting():
    f = Finding(
        "OVF001", "x", "overfitting", "warning", "val_loss", 0, 10, 0.5, "m", run="r",
        transient=True,
    )  # fmt: skip
    t = FindingTracker()
    assert t.observe([f], 100) == []  # first sighting of a transient finding: wait
    assert t.waiting() == {"OVF001"}
    assert t.observe([f], 100, fresh=set()) == []  # its rule did not look again: still waiting
    assert t.waiting() == {"OVF001"}
    assert t.observe([f], 100, fresh={"OVF001"}) == [f]  # a second look at new data
    assert t.waiting() == set()
    # an announced finding whose rule does not look again is not resolved by its absence
    assert t.observe([], 100, fresh=set()) == [] and t.resolved == []
    assert t.observe([], 100, fresh={"OVF001"}) == [] and t.resolved == []
    t.observe([], 100, fresh={"OVF001"})
    assert t.resolved == [f]


def _fast_overfitting_loop(mon, now, epochs=100, per_epoch=1000, step_seconds=1.5e-6):
    """Replay a per-iteration overfitting pair through ``mon`` on the fake clock ``now``: the
    loop's own time is ``step_seconds`` per update. Returns the truth, the evaluations
    (step, OVF001 among the findings, OVF001 announced) and the loop's time."""
    p = S.overfitting_pair(epochs=epochs, steps_per_epoch=per_epoch, seed=0)
    val_at = {int(s): float(v) for s, v in zip(p.val_steps, p.val_values, strict=True)}
    t0 = now[0]
    evals, last = [], 0
    for i, t in enumerate(p.train_values):
        now[0] += step_seconds
        row = {"loss": float(t)}
        if i in val_at:
            row["val_loss"] = val_at[i]
        new = mon.update(i, **row)
        if mon.evaluations != last:
            last = mon.evaluations
            seen = any(f.code == "OVF001" for f in mon.findings)
            evals.append((i, seen, any(f.code == "OVF001" for f in new)))
    return p, evals, now[0] - t0


def test_fast_loop_announces_overfitting_within_the_budget(monkeypatch):
    """A loop of 100,000 updates that takes 0.15 s on its own (1.5 microseconds an update, fake
    clock), rules that cost about what they cost on this kind of machine (fake clock: from 0.05
    ms to 5 ms for the swing analysis, 0.3 ms to build the run): the default monitor cannot run every rule at
    every validation point within 5% of the loop, so it runs the cheap and severe ones, and it
    announces the overfitting at the evaluation that first saw it: that evaluation came several
    validation points after the previous one, and the rule finds it on the data as it was one
    validation point earlier too (the look back: two sightings on different data)."""
    now = [0.0]
    # about what each rule takes on a small run (benchmarks/monitor.py's machine, in seconds)
    costs = {"DIV001": 5e-5, "LRS001": 5e-5, "GAP001": 5e-4, "DIV002": 1e-3, "OVF001": 1e-3}
    for r in rule_registry.all_rules():
        _spy(
            monkeypatch,
            r.module,
            [],
            cost=costs.get(r.code, 2e-3 if r.code != "OSC001" else 5e-3),
            now=now,
        )
    real = engine.analyze_run

    def analyze_run(run, options):
        now[0] += 0.3e-3
        return real(run, options)

    monkeypatch.setattr(engine, "analyze_run", analyze_run)
    mon = Monitor(clock=lambda: now[0])
    p, evals, loop = _fast_overfitting_loop(mon, now)
    spent = mon.stats()["seconds_evaluating"]
    first_seen = next(k for k, (_, seen, _) in enumerate(evals) if seen)
    announced = next(k for k, (_, _, new) in enumerate(evals) if new)
    assert evals[first_seen][0] >= p.truth["best_step"]
    assert announced == first_seen
    assert spent <= 0.05 * loop + 5e-3  # the budget, and one confirming look it may borrow
    assert len(evals) >= 2  # one before the turn, the one that saw (and announced) it
    assert "OVF001" in [f.code for f in mon.report().findings]


@pytest.mark.parametrize("case", ["overfitting", "plateau", "oscillation", "divergence"])
def test_final_report_is_checks_after_a_budgeted_live_run(case):
    """However little the budget let the rules run during training, report() is the same
    analysis as ``check`` of the same values (curves kept exactly: max_points above their
    length)."""
    if case == "overfitting":
        p = S.overfitting_pair(epochs=60, steps_per_epoch=50, seed=1)
        series = {"loss": (p.train_steps, p.train_values), "val_loss": (p.val_steps, p.val_values)}
    else:
        make = {
            "plateau": S.early_plateau,
            "oscillation": S.oscillating_decay,
            "divergence": S.divergence,
        }[case]
        series = {"loss": make(n=3000, per="iteration", seed=1)[:2]}
    mon = Monitor(max_points=10_000)
    rows = sorted(
        (int(s), k, float(v)) for k, (ss, vv) in series.items() for s, v in zip(ss, vv, strict=True)
    )
    for step, key, value in rows:  # a fast loop: the budget lets few rules run
        mon.update(step, **{key: value})
    rep, off = mon.report(), _offline(series)
    assert rep.runs[0].verdict == off.runs[0].verdict
    got = [(f.code, f.curve, f.start_step, f.end_step, f.confidence) for f in rep.findings]
    want = [(f.code, f.curve, f.start_step, f.end_step, f.confidence) for f in off.findings]
    assert got == want


def test_evaluations_at_long_curves_cost_a_fraction_of_a_full_one():
    """check_now() after each new validation point of a 1,000-point run: the mean cost is a small
    fraction of re-running the rules at every point (refresh=0), measured in this process."""

    def filled(refresh):
        rng = np.random.default_rng(0)
        mon = Monitor(every=10**9, refresh=refresh)
        for i in range(1000):
            vl = 0.5 + 2 / (1 + 0.01 * i) + 0.0004 * max(0, i - 600) + 0.01 * rng.standard_normal()
            mon.update(i, loss=0.3 + 2 / (1 + 0.01 * i) + 0.02 * rng.standard_normal(), val_loss=vl)
        mon.check_now()
        return mon

    def mean_cost(mon):
        times = []
        for k in range(40):
            mon.update(1000 + k, val_loss=0.9 + 0.001 * k)
            t = time.perf_counter()
            mon.check_now()
            times.append(time.perf_counter() - t)
        return float(np.mean(times))

    eager, lazy = filled(0.0), filled(1 / 32)
    assert mean_cost(lazy) <= 0.35 * mean_cost(eager)
    assert [f.code for f in lazy.report().findings] == [f.code for f in eager.report().findings]
