"""Streaming monitor: new findings once, worse ones again, bounded memory, offline verdicts."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyzer import Monitor, check_frame
from analyzer.findings import Finding
from analyzer.monitor import FindingTracker, _magnitude, _Series
from tests import signals as S


def _finding(code="PLT001", severity="warning", confidence=0.5, curve="loss"):
    return Finding(code, "x", "plateau", severity, curve, 0, 10, confidence, "m", run="r")


def test_tracker_reports_once_and_again_when_worse():
    t = FindingTracker()
    f = _finding()
    assert t.new([f]) == [f]
    assert t.new([f]) == []
    assert t.new([replace(f, confidence=0.65)]) == []  # not 0.2 more
    assert t.new([replace(f, confidence=0.7)]) != []  # 0.2 more than reported
    assert t.new([replace(f, confidence=0.75)]) == []
    assert t.new([replace(f, severity="error", confidence=0.1)]) != []  # more severe
    assert t.new([replace(f, curve="val_loss")]) != []  # another curve: another finding
    t.forget(f)
    assert t.new([f]) == [f]


def feed(series, **kw):
    """Replay {name: (steps, values)} into a Monitor in step order; return it and the new
    findings with the step they were returned at."""
    mon = Monitor(**kw)
    rows = sorted(
        (int(s), k, float(v)) for k, (ss, vv) in series.items() for s, v in zip(ss, vv, strict=True)
    )
    alerts = []
    i = 0
    while i < len(rows):
        step, vals = rows[i][0], {}
        while i < len(rows) and rows[i][0] == step:
            vals[rows[i][1]] = rows[i][2]
            i += 1
        alerts += [(step, f) for f in mon.update(step, **vals)]
    return mon, alerts


def offline(series):
    rows = [
        (k, int(s), float(v)) for k, (ss, vv) in series.items() for s, v in zip(ss, vv, strict=True)
    ]
    return check_frame(pd.DataFrame(rows, columns=["tag", "step", "value"]))


CASES = {
    "decay": lambda seed: {"loss": S.exp_decay(n=80, seed=seed)[:2]},
    "plateau": lambda seed: {"loss": S.early_plateau(n=80, seed=seed)[:2]},
    "divergence": lambda seed: {"loss": S.divergence(n=80, seed=seed)[:2]},
    "oscillation": lambda seed: {"loss": S.oscillating_decay(n=200, seed=seed)[:2]},
    "overfitting": lambda seed: (
        lambda p: {"loss": (p.train_steps, p.train_values), "val_loss": (p.val_steps, p.val_values)}
    )(S.overfitting_pair(epochs=30, steps_per_epoch=20, seed=seed)),
}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_verdict_as_offline_check(case, seed):
    series = CASES[case](seed)
    mon, alerts = feed(series, every=40)
    rep = mon.report()
    off = offline(series)
    assert rep.runs[0].verdict == off.runs[0].verdict
    assert sorted(f.code for f in rep.findings) == sorted(f.code for f in off.findings)
    # every finding of the final report was announced (at the end at the latest)
    announced = {(f.code, f.curve) for _, f in alerts}
    final_new = {(f.code, f.curve) for f in rep.findings}
    assert final_new - announced <= final_new  # report() never raises, may add late ones
    # no finding is announced twice unless it got worse
    seen = {}
    for _, f in alerts:
        key = (f.code, f.curve)
        if key in seen:
            prev = seen[key]
            mag, prev_mag = _magnitude(f), _magnitude(prev)
            assert (
                f.severity != prev.severity
                or f.confidence >= prev.confidence + 0.2 - 1e-9
                or (mag is not None and prev_mag is not None and mag >= 2 * prev_mag)
            )
        seen[key] = f


@pytest.mark.parametrize("seed", [0, 1])
def test_downsampled_long_run_keeps_verdict(seed):
    """A per-iteration run 6x longer than max_points: same verdict and codes as offline."""
    for sig in (
        S.exp_decay(n=3000, per="iteration", noise=0.05, seed=seed),
        S.early_plateau(n=3000, per="iteration", seed=seed),
    ):
        series = {"loss": sig[:2]}
        mon, _ = feed(series, every=1500, max_points=500)
        assert max(mon.stats()["points"].values()) <= 500
        rep, off = mon.report(), offline(series)
        assert rep.runs[0].verdict == off.runs[0].verdict
        assert sorted(f.code for f in rep.findings) == sorted(f.code for f in off.findings)


def test_divergence_alert_at_first_nan_even_between_evaluations():
    sig = S.divergence(n=100, seed=3)
    first_nan = int(sig.truth["first_nan_step"])
    mon, alerts = feed({"loss": sig[:2]}, every=1000)  # the schedule alone would never run
    div = [(s, f) for s, f in alerts if f.code == "DIV001"]
    assert div and div[0][0] == first_nan
    assert mon.evaluations == 1


def test_bounded_memory_and_downsampling_is_faithful():
    ser = _Series(max_points=100)
    steps = np.arange(100_000)
    values = np.sin(steps / 5000.0)
    for a in range(0, len(steps), 1000):  # as update() would, 256 values at a time at most
        for s, v in zip(steps[a : a + 1000], values[a : a + 1000], strict=True):
            ser.tail_s.append(s)
            ser.tail_v.append(v)
            if len(ser.tail_s) >= 256:
                ser.fold()
        assert len(ser) <= 100 + 256
    s, v = ser.arrays()
    assert len(s) <= 101
    assert np.all(np.diff(s) > 0)
    assert s[0] < 1000 and s[-1] > 99_000
    # bin averages of a smooth curve sit on the curve at the bin's mean step
    assert np.max(np.abs(v - np.sin(s / 5000.0))) < 0.02
    # a NaN inside a bin survives the averaging
    ser2 = _Series(max_points=20)
    for i in range(1000):
        ser2.tail_s.append(i)
        ser2.tail_v.append(float("nan") if i == 500 else 1.0)
        if len(ser2.tail_s) >= 256:
            ser2.fold()
    s2, v2 = ser2.arrays()
    assert np.isnan(v2).sum() == 1 and np.all(v2[np.isfinite(v2)] == 1.0)


def test_monitor_memory_on_a_long_run():
    mon = Monitor(every=10**9, max_points=300)
    for i in range(20_000):
        mon.update(i, loss=1.0 / (1 + i), lr=0.1)
    pts = mon.stats()["points"]
    assert set(pts) == {"loss", "lr"} and max(pts.values()) <= 300 + 256
    s, v = mon.curve("loss")
    assert len(s) <= 301 and s[-1] >= 19_000
    with pytest.raises(KeyError, match="logged: loss, lr"):
        mon.curve("val_loss")


def test_roles_from_keys_and_report_json():
    mon = Monitor(every=5)
    for e in range(1, 21):
        mon.update(e, loss=2 / e, val_loss=1.0 + 0.05 * abs(e - 6), lr=1e-3, val_accuracy=0.5)
    rep = mon.report()
    assert mon.roles == {
        "train_loss": "loss",
        "val_loss": "val_loss",
        "train_metric": None,
        "val_metric": "val_accuracy",
        "lr": "lr",
    }
    doc = json.loads(rep.to_json())
    assert doc["runs"][0]["run"] == "monitor" and doc["runs"][0]["verdict"] == mon.verdict
    assert "OVF001" in [f.code for f in mon.findings]


def test_adaptive_schedule_respects_the_time_budget(monkeypatch):
    import analyzer.engine as engine

    now = [0.0]
    cost = [0.0]
    real = engine.analyze_run

    def analyze_run(run, options):
        now[0] += cost[0]  # an evaluation taking cost[0] seconds on the fake clock
        return real(run, options)

    monkeypatch.setattr(engine, "analyze_run", analyze_run)
    monkeypatch.setattr(engine, "MIN_POINTS", engine.MIN_POINTS)

    def run(n_steps, step_seconds, eval_seconds):
        cost[0] = eval_seconds
        mon = Monitor(budget=0.1, clock=lambda: now[0], select=["DIV001"])
        for i in range(n_steps):
            now[0] += step_seconds
            mon.update(i, loss=1.0 / (1 + i))
        return mon.evaluations

    # free evaluations: checked at every update once there are min_points (5) points
    assert run(50, 0.01, 0.0) == 50 - 4
    # 1 s evaluations, 10 ms steps: at most 10% of the elapsed time goes to evaluations (the
    # first one too: it waits until the budget can pay for it)
    n = run(3000, 0.01, 1.0)
    assert n >= 1 and n <= 0.1 * (3000 * 0.01 + n) + 1


def test_update_arguments():
    mon = Monitor(every=1)
    mon.update(loss=1.0)
    mon.update(loss=0.9, val_loss=None)
    s, v = mon.curve("loss")
    assert list(s) == [0, 1] and list(v) == [1.0, 0.9]
    assert isinstance(mon.check_now(), list)  # explicit evaluation always allowed
    with pytest.raises(ValueError):
        Monitor(every=0)
    with pytest.raises(KeyError, match="unknown rule"):
        Monitor(select=["NOPE1"])


def test_bad_rule_option_raises_at_construction():
    from analyzer.errors import OptionsError

    # before: accepted, then a ValueError "DIV002: DIV002: unknown option(s)" at the 5th update()
    with pytest.raises(OptionsError) as e:
        Monitor(rule_options={"DIV002": {"nonsense": 3}})
    assert str(e.value).startswith("DIV002: unknown option 'nonsense' (options: ")
    assert str(e.value).count("DIV002") == 1
    with pytest.raises(OptionsError, match="must be a number"):
        Monitor(rule_options={"DIV002": {"min_ratio": "3"}})
    mon = Monitor(every=1, rule_options={"DIV002": {"min-ratio": 3}})
    for i in range(6):
        mon.update(i, loss=1.0 / (i + 1))
    assert mon.evaluations >= 1


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "training"


def test_same_findings_as_offline_on_labelled_fixtures():
    """Replaying real training logs through the monitor gives `check`'s verdict and codes."""
    if not (FIXTURES / "labels.json").exists():
        pytest.skip("no labelled fixtures")
    from analyzer.engine import analyze
    from analyzer.runs import load

    labels = json.loads((FIXTURES / "labels.json").read_text())
    by_format: dict[str, str] = {}
    for name, lab in sorted(labels.items()):  # one run per log format, problem and healthy
        by_format.setdefault(f"{lab['format']}-{bool(lab['kinds'])}", name)
    names = sorted(by_format.values())[:12]
    assert len(names) >= 4
    for name in names:
        res = load(FIXTURES / name)
        for run, offline_run in zip(res.runs, analyze(res).runs, strict=True):
            f = run.frame
            series = {
                tag: (sub["step"].to_numpy(), sub["value"].to_numpy())
                for tag, sub in f.groupby("tag", sort=False)
            }
            mon, _ = feed(series, every=10**9, run=run.id)
            got = mon.report().runs[0]
            assert got.verdict == offline_run.verdict, name
            assert sorted(x.code for x in got.findings) == sorted(
                x.code for x in offline_run.findings
            ), name


def test_moderate_surge_is_announced_only_when_it_holds():
    from rules import divergence as div001

    from .helpers import cs

    def surge(factor):
        sig = S.exp_decay(n=120, seed=4)
        v = sig.values.copy()
        v[100:] *= factor
        return explosion.check(cs(train=(sig.steps, v)))

    from rules import explosion

    moderate, large = surge(3.0), surge(40.0)
    assert moderate and large
    # DIV002 says which of its findings may pass: a rise of a few times can come back down
    assert moderate[0].transient
    assert not large[0].transient
    nan = S.exp_decay(n=50, seed=1).values.copy()
    nan[30:] = np.nan
    (f,) = div001.check(cs(train=(np.arange(50), nan)))
    assert not f.transient
    # in a live run, a surge that holds is announced at the second evaluation in a row
    sig = S.exp_decay(n=120, seed=4)
    vals = sig.values.copy()
    vals[100:] *= 3

    from .helpers import cs

    raw = [
        i for i in range(101, 120) if explosion.check(cs(train=(sig.steps[: i + 1], vals[: i + 1])))
    ]
    mon = Monitor(every=10**9)
    announced = []
    for i, (s, v) in enumerate(zip(sig.steps, vals, strict=True)):
        mon.update(int(s), loss=float(v))
        if i > 100 and any(f.code == "DIV002" for f in mon.check_now()):
            announced.append(i)
    # the rule sees the surge at raw[0]; the monitor says so one evaluation later, once
    assert raw and announced == [raw[0] + 1]


def _overfitting_replay(mon, epochs=40, per_epoch=50, seed=0):
    """Replay an overfitting pair (training loss every iteration, validation loss every epoch)
    through ``mon``; return the (step, OVF001 seen, OVF001 announced) of each evaluation."""
    p = S.overfitting_pair(epochs=epochs, steps_per_epoch=per_epoch, seed=seed)
    n = len(p.train_values)
    val_at = {int(s): float(v) for s, v in zip(p.val_steps, p.val_values, strict=True) if s < n}
    evals, last = [], 0
    for i, t in enumerate(p.train_values):
        row = {"loss": float(t)}
        if i in val_at:
            row["val_loss"] = val_at[i]
        new = mon.update(i, **row)
        if mon.evaluations != last:
            last = mon.evaluations
            seen = any(f.code == "OVF001" for f in mon.findings)
            evals.append((i, seen, any(f.code == "OVF001" for f in new)))
    return p, val_at, evals


def test_fast_loop_overfitting_is_announced_within_two_evaluations():
    """Default schedule, a loop whose steps take no time next to the evaluations: the rules run
    when the validation loss gets a new point (not at every update), and the overfitting is
    announced at the evaluation after the one that first saw it."""
    now = [0.0]
    mon = Monitor(clock=lambda: now[0])  # free evaluations, 1 ms per step
    orig = mon.update

    def update(step, **values):
        now[0] += 1e-3
        return orig(step, **values)

    mon.update = update  # type: ignore[method-assign]
    p, val_at, evals = _overfitting_replay(mon)
    # once there is a validation curve: one evaluation per new validation point, none in between
    # (before it, a training loss alone is checked on the time budget)
    first_val = min(val_at)
    assert [s for s, _, _ in evals if s >= first_val] == sorted(val_at)
    first_seen = next(k for k, (_, seen, _) in enumerate(evals) if seen)
    announced = next(k for k, (_, _, new) in enumerate(evals) if new)
    assert evals[first_seen][0] >= p.truth["best_step"]
    assert announced - first_seen == 1  # the second sighting in a row
    # and the offline check on the same data agrees
    off = offline(
        {"loss": (p.train_steps, p.train_values), "val_loss": (p.val_steps, p.val_values)}
    )
    assert "OVF001" in [f.code for f in off.findings]


def test_fast_loop_respects_the_budget_at_validation_points():
    """Evaluations that cost as much as 10 steps: only as many as 5% of the loop's time allows,
    each (once there is a validation curve) after a new validation point, as soon as the budget
    allows."""
    import analyzer.engine as engine

    now = [0.0]
    real = engine.analyze_run

    def costly(run, options):
        now[0] += 10e-3
        return real(run, options)

    mon = Monitor(clock=lambda: now[0])
    orig = mon.update

    def update(step, **values):
        now[0] += 1e-3
        return orig(step, **values)

    mon.update = update  # type: ignore[method-assign]
    try:
        engine.analyze_run = costly
        _, val_at, evals = _overfitting_replay(mon)
    finally:
        engine.analyze_run = real
    steps = [s for s, _, _ in evals]
    later = [s for s in steps if s >= min(val_at)]
    assert len(later) >= 3
    for a, b in zip(steps, steps[1:], strict=False):
        if b >= min(val_at):
            assert any(a < s <= b for s in val_at)  # new validation data since the last look
    assert len(later) < len(val_at) / 2  # the budget skips validation points
    assert mon.stats()["seconds_evaluating"] <= 0.05 * now[0] + 10e-3


def test_unchanged_curves_reuse_the_rules_findings():
    """A rule whose curves did not change is not re-run, and the findings stay those of a fresh
    analysis of the same data."""
    from analyzer.engine import analyze_run

    mon = Monitor(every=10**9)
    for e in range(1, 41):
        mon.update(e, loss=2 / e, val_loss=1.0 + 0.05 * abs(e - 15), lr=1e-3)
    first = mon.check_now()
    assert "OVF001" in [f.code for f in first + mon.findings]
    before = mon.findings
    calls = []
    import rules.overfitting as ovf

    real = ovf.check
    try:
        ovf.check = lambda *a, **k: calls.append(1) or real(*a, **k)
        mon.check_now()
        assert calls == []  # nothing new: every rule's findings re-used
        assert mon.findings == before
        mon.update(41, val_loss=1.0 + 0.05 * 26)  # the validation curve changed: OVF001 re-runs
        mon.check_now()
        assert calls == [1]
    finally:
        ovf.check = real
    fresh = analyze_run(mon._build_run())
    assert [(f.code, f.curve, f.confidence) for f in mon.findings] == [
        (f.code, f.curve, f.confidence) for f in fresh.findings
    ]


def _live(code, kind, *, transient=True, **evidence):
    return Finding(
        code,
        "x",
        kind,
        "warning",
        "val_loss",
        0,
        10,
        0.5,
        "m",
        evidence=evidence,
        run="r",
        transient=transient,
    )


def test_live_policy_waits_for_two_looks_and_enough_history():
    t = FindingTracker()
    ovf = _live("OVF001", "overfitting", relative_rise=0.2)
    assert t.observe([ovf], 30) == []  # a first glimpse of a passing state
    assert t.observe([ovf], 31) == [ovf]  # two looks in a row
    t = FindingTracker()
    plt = _live("PLT001", "plateau")
    assert t.observe([plt], 5) == [] and t.observe([plt], 6) == []  # "flat since step 1"?
    assert t.observe([plt], 9) == [] and t.observe([plt], 10) == [plt]
    t = FindingTracker()
    nan = _live("DIV001", "divergence", transient=False)
    assert t.observe([nan], 3) == [nan]  # a NaN is announced at once
    t = FindingTracker()
    longer = _live("PLT002", "undertrained")
    assert [t.observe([longer], n) for n in (20, 30, 40)] == [[], [], []]  # the run goes on
    assert t.new([longer]) == [longer]  # at the end of a run it counts


def test_live_policy_escalates_when_the_finding_doubles_and_says_when_it_went_away():
    t = FindingTracker()
    a = _live("OVF001", "overfitting", transient=False, relative_rise=0.4)
    assert t.observe([a], 20) == [a]
    assert t.observe([replace(a, evidence={"relative_rise": 0.7})], 21) == []
    worse = replace(a, evidence={"relative_rise": 1.61})
    assert t.observe([worse], 22) == [worse]  # +161% after +40%: announced again
    assert t.observe([], 23) == [] and t.resolved == []  # gone once: may be a flicker
    assert t.observe([], 24) == [] and t.resolved == [worse]  # gone twice: resolved
    assert t.observe([], 25) == [] and t.resolved == []  # said once
    assert t.observe([a], 26) == [a]  # back: announced afresh


def test_monitor_lists_a_recovered_finding_as_resolved():
    # the training loss bumps 3x for a while and comes back: announced, then resolved
    mon = Monitor(every=1)
    base = 2.0 * np.exp(-np.arange(110) / 25) + 0.1
    bump = base.copy()
    bump[40:52] *= 3.0
    said, resolved = [], []
    for i, v in enumerate(bump):
        said += [f.code for f in mon.update(i, loss=float(v))]
        resolved += [f.code for f in mon.resolved]
    assert "DIV002" in said and "DIV002" in resolved
    assert resolved.index("DIV002") >= 0 and said.count("DIV002") == 1


def test_live_policy_keeps_quiet_about_a_swing_episode_that_is_over():
    # the first fast descent bounces (0.26 -> 0.03 -> 0.15 -> 0.009) and is calm after it: at
    # evaluation ten the validation zig-zag fills "a quarter of the run" but has been over for
    # five evaluations; a live alert is about what the run does now
    t = FindingTracker()
    over = _live("OSC001", "oscillation", pattern="validation-zig-zag")
    over = replace(over, evidence={**over.evidence, "evaluations_since_last_swing": 5})
    assert t.observe([over], 10) == [] and t.observe([over], 11) == []
    going = replace(over, evidence={**over.evidence, "evaluations_since_last_swing": 1})
    assert t.observe([going], 12) == [] and t.observe([going], 13) == [going]
    # once announced, an episode that went quiet is resolved like a finding that went away
    assert t.observe([over], 14) == [] and t.resolved == []
    assert t.observe([over], 15) == [] and t.resolved == [going]


def test_monitor_is_quiet_about_early_bounces_that_died_out():
    # validation bounces three times during the first descent, then falls smoothly: ``check``
    # may call the whole run what it likes, the live monitor must not raise an alarm
    val = [0.255, 0.03, 0.153, 0.009, 0.014, 0.012, 0.013, 0.013, 0.012, 0.012, 0.011, 0.011]
    val += list(0.011 * np.exp(-np.arange(1, 19) / 30))
    train = list(0.36 * np.exp(-np.arange(len(val)) / 1.5) + 1e-4)
    mon = Monitor(every=10**9)
    said = []
    for i, (a, b) in enumerate(zip(train, val, strict=True)):
        mon.update(i, loss=a, val_loss=b)
        if i >= 4:
            said += [f.code for f in mon.check_now()]
    assert "OSC001" not in said
    codes = [f.code for f in mon.findings]
    assert mon.evaluations > 20 and "DIV002" not in codes
