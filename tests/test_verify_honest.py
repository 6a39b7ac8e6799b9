"""Issue 16, "decisions must be honest": the rules of `curvelint verify`'s verdicts and the
messages that state them, on recorded numbers (no TensorFlow)."""

import math

import pytest

from analyzer.verify.decide import RunOutcome, decide, pct, same_run


def run(arm, seed, end, kinds=(), curve=None, train=None, holdout=()):
    curve = curve if curve is not None else [end * 1.5, end * 1.2, end]
    return RunOutcome(
        arm=arm,
        seed=seed,
        val_loss=tuple(curve),
        train_loss=tuple(train if train is not None else [2 * c for c in curve]),
        end_val_loss=end,
        kinds=tuple(kinds),
        holdout_loss=tuple(holdout),
    )


def test_identical_curves_are_not_applied_not_no_effect():
    """The experiment reads hp['learning_rate'] but ignores it: bit-identical runs."""
    base = [run("baseline", s, 1.0 + s / 10, ["plateau"]) for s in range(3)]
    same = [run("lower-lr", s, 1.0 + s / 10, ["plateau"]) for s in range(3)]
    v = decide(base, same, remedy_id="lower-lr", target_kind="plateau")
    assert v.verdict == "not applied"
    assert "did not reach training" in v.reason
    # near-identical (float noise of 1e-7) is still "not applied" ...
    near = [
        run("lower-lr", s, (1.0 + s / 10) * (1 + 1e-7), ["plateau"], curve=None) for s in range(3)
    ]
    assert decide(base, near, remedy_id="lower-lr").verdict == "not applied"
    # ... a 1% difference in one epoch of one seed is a real change
    moved = list(same)
    c = list(moved[1].val_loss)
    c[1] *= 1.01
    moved[1] = run("lower-lr", 1, 1.1, ["plateau"], curve=c, train=moved[1].train_loss)
    assert decide(base, moved, remedy_id="lower-lr").verdict != "not applied"
    assert same_run(base[0], base[1]) is not None and same_run(base[0], base[0]) == 0.0
    assert same_run(base[0], run("x", 0, 1.0, curve=[1.0, 1.0])) is None  # other length


def test_resolved_needs_more_than_half_of_the_baseline_seeds():
    """The docs say "most seeds": 1 of 2 is not most."""
    base = [run("baseline", 0, 1.0, ["overfitting"]), run("baseline", 1, 1.0)]
    rem = [run("es", 0, 0.6), run("es", 1, 0.62)]
    v = decide(base, rem, remedy_id="early-stopping", target_kind="overfitting")
    assert v.verdict != "resolved"
    assert any("only 1/2 seeds (not more than half)" in n for n in v.notes)
    base[1] = run("baseline", 1, 1.0, ["overfitting"])
    v = decide(base, rem, remedy_id="early-stopping", target_kind="overfitting")
    assert v.verdict == "resolved"
    assert "more than half of the baseline seeds (2/2)" in v.reason
    assert "none of the remedied seeds (0/2)" in v.reason


def test_min_effect_is_named_when_it_is_the_reason():
    base = [run("baseline", s, 1.0) for s in range(4)]
    rem = [run("r", s, x) for s, x in enumerate([0.99, 0.989, 0.99, 0.991])]
    v = decide(base, rem, remedy_id="r", min_effect=0.02)
    assert v.verdict == "no effect"
    assert "smaller than --min-effect 2.0%" in v.reason
    assert "noise" not in v.reason  # the seeds agree: it is not noise that decided


def test_disagreeing_seeds_are_named_as_the_reason():
    base = [run("baseline", s, 1.0) for s in range(4)]
    rem = [run("r", s, x) for s, x in enumerate([0.7, 1.3, 0.8, 1.2])]
    v = decide(base, rem, remedy_id="r")
    assert "the seeds do not agree: 2/4 lower, 2/4 higher (the rule needs 3/4)" in v.reason


def test_percentages_are_formatted_one_way_everywhere():
    base = [run("baseline", s, 1.0) for s in range(3)]
    rem = [run("r", s, x) for s, x in enumerate([0.983, 0.983, 0.983])]
    v = decide(base, rem, remedy_id="r")
    assert pct(v.rel_change) == "-1.7%"
    assert "-1.7%" in v.reason and "2% lower" not in v.reason
    assert pct(0.04) == "+4.0%" and pct(None) == "n/a" and pct(math.nan) == "n/a"
    assert pct(298952898.758) == "+2.99e+10%"


def test_worse_only_when_the_interval_excludes_zero():
    base = [run("baseline", s, 0.5) for s in range(4)]
    noisy = [run("r", s, x) for s, x in enumerate([0.8, 0.9, 0.7, 0.45])]
    v = decide(base, noisy, remedy_id="r")
    assert v.ci_low < 0 < v.ci_high
    assert v.verdict != "worse"
    assert "includes 0" in v.reason
    steady = [run("r", s, x) for s, x in enumerate([0.8, 0.9, 0.7, 0.75])]
    v = decide(base, steady, remedy_id="r")
    assert v.verdict == "worse" and v.ci_low > 0
    assert "95% interval above 0" in v.reason


def test_geometric_mean_is_called_so_and_an_interval_comes_with_two_seeds():
    base = [run("baseline", s, 1.0) for s in range(2)]
    rem = [run("r", s, x) for s, x in enumerate([0.5, 0.52])]
    v = decide(base, rem, remedy_id="r")
    assert "geometric mean of the per-seed ratios" in v.reason
    assert v.ci_low is not None and v.ci_high is not None  # the README promises an interval
    assert f"95% CI [{pct(v.ci_low)}, {pct(v.ci_high)}]" in v.reason
    one = decide(base[:1], rem[:1], remedy_id="r")
    assert one.ci_low is None and any("no interval" in n for n in one.notes)


def test_best_metric_is_scored_on_held_out_data_at_the_selected_epoch():
    """Selecting the best epoch on the validation set and scoring it there wins by construction;
    the held-out loss at that epoch does not."""
    r = run("es", 0, 0.9, curve=[1.0, 0.5, 0.7], holdout=[1.1, 0.8, 0.75])
    assert r.metric("best") == pytest.approx(0.8)
    assert run("es", 0, 0.9, curve=[1.0, 0.5, 0.7]).metric("best") == pytest.approx(0.5)


def test_exit_status_is_0_when_any_remedy_helped_and_says_which():
    from analyzer.cli.verify import _status_line, exit_status
    from analyzer.verify.runner import Target, VerifyResult

    base = [run("baseline", s, 1.0, ["plateau"]) for s in range(3)]
    lr = [run("raise-lr", s, x, ["plateau"]) for s, x in enumerate([1.02, 0.97, 1.0])]
    adam = [run("adam", s, 0.3) for s in range(3)]
    v1 = decide(base, lr, remedy_id="raise-lr", target_kind="plateau")
    v2 = decide(base, adam, remedy_id="adam", target_kind="plateau")
    assert (v1.verdict, v2.verdict) == ("no effect", "resolved")
    res = VerifyResult(
        experiment="e.py",
        out="/tmp/x",
        epochs=3,
        seeds=[0, 1, 2],
        metric="end",
        target=Target("plateau", "PLT001", "flat", "baseline", ["raise-lr", "adam"]),
        top="raise-lr",
        control=None,
        runs=base + lr + adam,
        verdicts=[v1, v2],
    )
    assert exit_status(res) == 0
    assert _status_line(res) == "exit 0: adam resolved"
    res.verdicts = [v1]
    assert exit_status(res) == 1
    res.failure = "baseline seed 1: ValueError: boom"
    assert exit_status(res) == 2


def test_run_limit_derives_from_the_slowest_baseline_run():
    from analyzer.verify.runner import FIRST_RUN_LIMIT, MIN_LIMIT, run_limit

    assert run_limit(None, [], 10, 10, None)[0] == FIRST_RUN_LIMIT
    assert run_limit(None, [2.0, 30.0], 10, 10, None) == (
        150.0,
        "5x the slowest baseline run (30.0s), at least 60s; set it with --run-timeout",
    )
    assert run_limit(None, [30.0], 20, 10, None)[0] == 300.0  # train-longer: twice the epochs
    assert run_limit(None, [1.0], 10, 10, None)[0] == MIN_LIMIT
    assert run_limit(7.0, [30.0], 10, 10, None) == (7.0, "--run-timeout")
    lim, why = run_limit(None, [30.0], 10, 10, 5.0)
    assert lim == 35.0 and "--max-minutes" in why


def test_progress_prints_every_epoch_when_not_a_terminal():
    import io

    from analyzer.verify.runner import Progress

    s = io.StringIO()
    p = Progress(s, total=2)
    p.epoch("baseline seed 0", 1, 3, 2.3, 2.31)
    p.epoch("baseline seed 0", 2, 3, 2.2, 2.25)
    assert s.getvalue().splitlines() == [
        "  [1/2] baseline seed 0: epoch 1/3 loss 2.3 val_loss 2.31",
        "  [1/2] baseline seed 0: epoch 2/3 loss 2.2 val_loss 2.25",
    ]


def test_dose_ladder_changes_and_the_chosen_dose():
    from analyzer.verify.remedies import change_for
    from analyzer.verify.runner import _chosen_dose

    assert change_for("raise-lr", {"learning_rate": 1e-5}, 10, 3).hp["learning_rate"] == (
        pytest.approx(1e-2)
    )
    low = change_for("lower-lr", {"learning_rate": 1.0}, 10, 2)
    assert low.hp["learning_rate"] == pytest.approx(0.01) and low.arm == "lower-lr-x100"
    with pytest.raises(ValueError):
        change_for("early-stopping", {}, 10, 2)
    base = [run("baseline", s, 2.3, ["plateau"]) for s in range(3)]
    d1 = decide(
        base,
        [run("raise-lr", s, 2.29, ["plateau"]) for s in range(3)],
        remedy_id="raise-lr",
        target_kind="plateau",
    )
    d2 = decide(
        base,
        [run("raise-lr-x100", s, 0.4) for s in range(3)],
        remedy_id="raise-lr",
        target_kind="plateau",
        arm="raise-lr-x100",
        dose=2,
    )
    pick = _chosen_dose([d1, d2])
    assert pick.verdict == "resolved" and pick.dose == 2 and pick.arm == "raise-lr-x100"
    assert any("x10: no effect" in n and "x100: resolved" in n for n in pick.notes)


def test_output_size_is_read_from_the_model():
    from analyzer.verify.worker import n_outputs

    class M:
        output_shape = (None, 10)

    class Bad:
        @property
        def output_shape(self):
            raise AttributeError("not built")

    assert n_outputs(M()) == 10 and n_outputs(Bad()) is None


def test_failed_and_not_applied_verdicts_render_in_text_and_html():
    from analyzer.cli.verify import exit_status, render_text
    from analyzer.verify.decide import failed_verdict
    from analyzer.verify.html import render_verify_html
    from analyzer.verify.runner import Target, VerifyResult

    base = [run("baseline", s, 1.0, ["plateau"]) for s in range(2)]
    same = [run("lower-lr", s, 1.0, ["plateau"]) for s in range(2)]
    na = decide(base, same, remedy_id="lower-lr", target_kind="plateau")
    bad = failed_verdict(
        "adam", "failed: adam seed 0: ValueError: <boom>", metric="end", control=False
    )
    res = VerifyResult(
        experiment="e.py",
        out="/tmp/x",
        epochs=3,
        seeds=[0, 1],
        metric="end",
        target=Target("plateau", "PLT001", "flat", "baseline", ["lower-lr", "adam"]),
        top="lower-lr",
        control=None,
        runs=base + same,
        verdicts=[na, bad],
        judged_on="half of the validation data (100 of 200 examples)",
    )
    text = render_text(res)
    assert "lower-lr: NOT APPLIED" in text and "adam: FAILED" in text
    assert "judged on: half of the validation data" in text
    assert "exit 1: no remedy tried resolved or improved the problem" in text
    page = render_verify_html(res)
    assert "not applied" in page and "&lt;boom&gt;" in page and "Judged on" in page
    res.verdicts = [bad]
    assert exit_status(res) == 2  # every remedy tried failed: nothing was judged
