"""Decision logic of `curvelint verify` on recorded numbers: no TensorFlow needed."""

import math

import numpy as np
import pytest

from analyzer.verify.decide import RunOutcome, decide, pair_runs, pick_target, sign_test_p


def run(arm, seed, end, kinds=(), curve=None, complete=True):
    curve = curve if curve is not None else [end * 1.5, end * 1.2, end]
    return RunOutcome(
        arm=arm,
        seed=seed,
        val_loss=tuple(curve),
        end_val_loss=end,
        kinds=tuple(kinds),
        complete=complete,
    )


def arms(base_ends, rem_ends, base_kinds=(), rem_kinds=()):
    base = [run("baseline", i, e, base_kinds) for i, e in enumerate(base_ends)]
    rem = [run("r", i, e, rem_kinds) for i, e in enumerate(rem_ends)]
    return base, rem


def test_problem_gone_and_loss_not_worse_is_resolved():
    base, rem = arms([1.0, 1.1, 0.9], [0.5, 0.6, 0.55], ["overfitting"], [])
    v = decide(base, rem, remedy_id="early-stopping", target_kind="overfitting")
    assert v.verdict == "resolved"
    assert v.baseline_kind_rate == 1.0 and v.remedy_kind_rate == 0.0
    assert v.wins == 3 and v.losses == 0
    assert v.rel_change == pytest.approx(
        math.exp(np.mean(np.log([0.5, 0.6 / 1.1, 0.55 / 0.9]))) - 1
    )
    assert v.ci_low is not None and v.ci_low < v.rel_change < v.ci_high
    assert v.sign_p == pytest.approx(1 / 8)


def test_lower_loss_in_every_seed_but_problem_stays_is_improved():
    base, rem = arms([1.0, 1.0, 1.0], [0.8, 0.82, 0.81], ["overfitting"], ["overfitting"])
    v = decide(base, rem, remedy_id="regularize", target_kind="overfitting")
    assert v.verdict == "improved"
    assert v.ci_high < 0
    assert "overfitting still found in 3/3 seeds" in v.reason


def test_split_seeds_is_no_effect():
    base, rem = arms([1.0, 1.0, 1.0, 1.0], [0.7, 1.3, 0.8, 1.2], ["oscillation"], ["oscillation"])
    v = decide(base, rem, remedy_id="clip-gradients", target_kind="oscillation")
    assert v.verdict == "no effect"
    assert v.wins == 2 and v.losses == 2


def test_tiny_consistent_change_below_min_effect_is_no_effect():
    base, rem = arms([1.0, 1.0, 1.0], [0.995, 0.994, 0.995])
    assert decide(base, rem, remedy_id="x").verdict == "no effect"
    assert decide(base, rem, remedy_id="x", min_effect=0.001).verdict == "improved"


def test_higher_loss_in_most_seeds_is_worse_even_if_the_problem_is_gone():
    base, rem = arms([0.5, 0.5, 0.5, 0.5], [0.8, 0.9, 0.7, 0.75], ["oscillation"], [])
    v = decide(base, rem, remedy_id="lower-lr", target_kind="oscillation")
    assert v.verdict == "worse"
    assert "gone but the loss is worse" in v.reason


def test_new_divergence_is_worse():
    base, rem = arms([0.5, 0.5], [0.4, math.nan])
    rem[1] = run("r", 1, math.nan, ["divergence"], curve=[0.6, math.nan])
    v = decide(base, rem, remedy_id="raise-lr")
    assert v.verdict == "worse"
    assert "diverged in 1/2" in v.reason
    assert any("twice the worst" in n for n in v.notes)


def test_diverged_baseline_fixed_by_remedy_is_resolved():
    base = [run("baseline", s, math.nan, ["divergence"], curve=[2.0, math.inf]) for s in range(2)]
    rem = [run("r", s, 0.3) for s in range(2)]
    v = decide(base, rem, remedy_id="lower-lr", target_kind="divergence")
    assert v.verdict == "resolved"
    assert v.rel_change < -0.5
    assert math.isinf(v.baseline_mean)


def test_problem_in_fewer_seeds_without_loss_change_is_improved():
    base, rem = arms([1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], ["plateau"], [])
    rem = [run("r", i, 1.0, [], curve=[1.4, 1.1, 1.0]) for i in range(4)]
    rem[0] = run("r", 0, 1.0, ["plateau"], curve=[1.4, 1.1, 1.0])
    v = decide(base, rem, remedy_id="raise-lr", target_kind="plateau")
    assert v.verdict == "improved"
    assert v.remedy_kind_rate == 0.25


def test_best_metric_differs_from_end_metric():
    # Early stopping restores the best weights: the end loss drops, the best loss cannot.
    curve = [1.0, 0.5, 0.7, 0.9]
    base = [RunOutcome("baseline", s, tuple(curve), end_val_loss=0.9) for s in range(2)]
    rem = [RunOutcome("es", s, tuple(curve[:3]), end_val_loss=0.5) for s in range(2)]
    assert decide(base, rem, remedy_id="es", metric="end").verdict == "improved"
    assert decide(base, rem, remedy_id="es", metric="best").verdict == "no effect"


def test_incomplete_runs_are_not_paired():
    base, rem = arms([1.0, 1.0], [0.5, 0.5])
    rem[1] = run("r", 1, 0.5, complete=False)
    assert [b.seed for b, _ in pair_runs(base, rem)] == [0]
    rem[0] = run("r", 0, 0.5, complete=False)
    v = decide(base, rem, remedy_id="r")
    assert v.verdict == "inconclusive" and v.n_pairs == 0


def test_unreproducible_diagnosis_is_noted():
    base, rem = arms([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    base[0] = run("baseline", 0, 1.0, ["oscillation"])
    v = decide(base, rem, remedy_id="lower-lr", target_kind="oscillation")
    assert v.verdict != "resolved"
    assert any("does not reproduce" in n for n in v.notes)


def test_sign_test_and_bad_arguments():
    assert sign_test_p(3, 3) == pytest.approx(0.125)
    assert sign_test_p(0, 4) == 1.0
    assert sign_test_p(2, 2) == pytest.approx(0.25)
    base, rem = arms([1.0], [1.0])
    with pytest.raises(ValueError):
        decide(base, rem, remedy_id="x", metric="median")
    with pytest.raises(ValueError):
        decide(base, rem, remedy_id="x", min_effect=-1)


def test_pick_target_needs_most_seeds():
    assert pick_target([[], []]) is None
    assert pick_target([["oscillation"], ["divergence"], ["divergence"]]) == "divergence"
    # each seed lists its kinds worst first; a kind every seed shows wins over a worst one
    assert pick_target([["divergence", "plateau"], ["plateau"], ["plateau"]]) == "plateau"
    # a tie among kinds most seeds show goes to the one met first
    assert pick_target([["oscillation", "plateau"], ["plateau", "oscillation"]]) == "oscillation"
    # an unstable setup failing differently per seed: every seed has a problem; the first met
    assert pick_target([["divergence"], ["oscillation"], ["overfitting", "plateau"]]) == (
        "divergence"
    )
    # one seed of three: not a property of the setup
    assert pick_target([["oscillation"], [], []]) is None
    assert pick_target([["oscillation"], []]) is None


def test_to_dict_is_json_safe():
    import json

    base = [run("baseline", 0, math.nan, ["divergence"], curve=[math.inf])]
    rem = [run("r", 0, 0.3)]
    v = decide(base, rem, remedy_id="r", target_kind="divergence")
    doc = json.dumps({"v": v.to_dict(), "runs": [r.to_dict() for r in base + rem]}, allow_nan=False)
    assert '"inf"' in doc


# --- remedies: catalog ids -> hyperparameter changes (no TensorFlow) ----------------------------


def _catalog_ids():
    import inspect

    import rules._remedies as R

    ids = set()
    for name, fn in vars(R).items():
        if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != R.__name__:
            continue
        params = inspect.signature(fn).parameters.values()
        args = [None for p in params if p.default is inspect.Parameter.empty]
        if name == "early_stopping":
            args = [None, None, 5]
        if name == "checkpoint_on_metric":
            args = ["val_accuracy", "max"]
        ids.add(fn(*args).id)
    return ids


def test_every_catalog_remedy_is_testable_or_says_why_not():
    from analyzer.verify.remedies import TESTABLE, UNTESTABLE

    ids = _catalog_ids()
    assert len(ids) >= 15
    assert ids == set(TESTABLE) | set(UNTESTABLE)


def test_changes_use_the_runs_own_numbers():
    from analyzer.verify.remedies import change_for

    hp = {"learning_rate": 0.05, "batch_size": 64, "dropout": 0.0}
    assert change_for("lower-lr", hp, 30).hp == {"learning_rate": pytest.approx(0.005)}
    assert change_for("raise-lr", {}, 30).hp == {"learning_rate": pytest.approx(0.01)}
    bb = change_for("bigger-batch", hp, 30)
    assert bb.hp["batch_size"] == 256 and bb.hp["learning_rate"] == pytest.approx(0.1)
    es = change_for("early-stopping", hp, 40)
    assert es.restores_best and es.callbacks[0][0] == "early_stopping"
    assert (
        es.callbacks[0][1]["restore_best_weights"] is True and es.callbacks[0][1]["patience"] == 4
    )
    rb = change_for("restore-best", hp, 40)
    assert rb.callbacks[0][1]["patience"] > 40
    assert change_for("regularize", {"dropout": 0.5}, 30).hp["dropout"] == pytest.approx(0.7)
    assert change_for("adam", {"optimizer": "sgd"}, 30).hp["optimizer"] == "adam"
    assert "epsilon" in change_for("adam", {"optimizer": "adam"}, 30).hp
    assert change_for("train-longer", {}, 30).hp == {"epochs": 60}


def test_untestable_and_unknown_remedies():
    from analyzer.verify.remedies import NotTestable, change_for

    with pytest.raises(NotTestable, match="check-pipeline"):
        change_for("check-pipeline", {}, 30)
    with pytest.raises(KeyError, match="testable remedies"):
        change_for("more-cowbell", {}, 30)


def test_missing_keys_and_control_pick():
    import random

    from analyzer.verify.remedies import (
        change_for,
        first_testable,
        honoured_by_verifier,
        missing_keys,
        pick_control,
    )

    reg = change_for("regularize", {}, 30)
    assert missing_keys(reg, {"dropout"}, honoured_by_verifier(True, True)) == ["l2"]
    lr = change_for("lower-lr", {}, 30)
    assert missing_keys(lr, set(), honoured_by_verifier(True, True)) == ["learning_rate"]
    assert missing_keys(lr, set(), honoured_by_verifier(True, False)) == []  # verifier compiles
    assert first_testable(["check-pipeline", "raise-lr", "adam"]) == "raise-lr"
    assert first_testable(["check-pipeline"]) is None
    picks = {pick_control(["lower-lr"], random.Random(s)) for s in range(50)}
    assert "lower-lr" not in picks and len(picks) > 3
    assert pick_control(["lower-lr"], random.Random(0), allowed=["lower-lr"]) is None


# --- outputs of a verification (no TensorFlow: built from recorded outcomes) --------------------


def _result():
    from analyzer.verify.remedies import change_for
    from analyzer.verify.runner import Target, VerifyResult

    base = [run("baseline", s, 0.4, ["overfitting"], curve=[1.0, 0.3, 0.35, 0.4]) for s in (0, 1)]
    es = [run("early-stopping", s, 0.3, [], curve=[1.0, 0.3, 0.35]) for s in (0, 1)]
    ctl = [run("raise-lr", s, math.nan, ["divergence"], curve=[1.0, math.inf]) for s in (0, 1)]
    for r in base + es + ctl:
        object.__setattr__(r, "seconds", 2.0)
    verdicts = [
        decide(base, es, remedy_id="early-stopping", target_kind="overfitting"),
        decide(base, ctl, remedy_id="raise-lr", target_kind="overfitting", control=True),
    ]
    hp = {"learning_rate": 1e-3}
    return VerifyResult(
        experiment="exp.py",
        out="/tmp/x",
        epochs=4,
        seeds=[0, 1],
        metric="end",
        target=Target("overfitting", "OVF001", "val loss rises", "baseline", ["early-stopping"]),
        top="early-stopping",
        control="raise-lr",
        changes={k: change_for(k, hp, 4) for k in ("early-stopping", "raise-lr")},
        not_applicable={"regularize": "the experiment never reads hp['l2']"},
        runs=base + es + ctl,
        verdicts=verdicts,
        seconds=12.0,
    )


def test_result_text_json_html_and_exit_status():
    import json

    from analyzer.cli.verify import exit_status, render_text
    from analyzer.verify.html import render_verify_html

    res = _result()
    assert [v.verdict for v in res.verdicts] == ["resolved", "worse"]
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert doc["relative_time"] == 6.0 and doc["baseline_seconds"] == 2.0
    assert doc["verdicts"][1]["control"] is True
    text = render_text(res)
    assert "early-stopping: RESOLVED" in text and "raise-lr (random control): WORSE" in text
    assert "not applicable: regularize" in text
    page = render_verify_html(res)
    assert page.count("<svg") == 2 and "random control" in page and "<script" not in page
    assert exit_status(res) == 0
    res.verdicts.reverse()  # the first non-control verdict decides, whatever the order
    assert exit_status(res) == 0
    res.verdicts[1] = res.verdicts[0]
    assert exit_status(res) == 1


def test_overlay_svg_handles_non_finite_and_flat_curves():
    from analyzer.verify.html import overlay_svg

    a = RunOutcome("baseline", 0, (1.0, math.nan, 1.0, math.inf, 1.0))
    svg = overlay_svg([a], [RunOutcome("r", 0, (1.0, 1.0))], "#00f")
    assert svg.count("<polyline") == 4  # the baseline splits at each gap
    assert "no finite" in overlay_svg([RunOutcome("b", 0, (math.nan,))], [], "#00f")


def test_verification_section_in_the_main_report():
    from analyzer.findings import Report
    from analyzer.report.html import render_html
    from analyzer.verify.html import verify_section

    res = _result()
    res.experiment = "<script>alert(1)</script>.py"
    page = render_html(Report(version="t"), None, verification=verify_section(res))
    section = page[page.index('id="verification"') : page.index('id="skipped"')]
    assert "Verification" in section and section.count("<svg") == 2
    assert "early-stopping" in section and "resolved" in section
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in section
    assert 'id="verification"' not in render_html(Report(version="t"), None)


def test_target_from_baseline_needs_most_seeds():
    from analyzer.findings import Finding
    from analyzer.verify.runner import target_from_baseline

    def f(code, kind):
        return Finding(code, "x", kind, "warning", "val_loss", 0, 10, 0.8, f"{code} msg", run="r")

    # oscillation in one seed of three (Adam at lr 0.2 reached 0.001 on the other two): nothing
    # to verify, and the diagnosis line says why
    t = target_from_baseline([[f("OSC001", "oscillation")], [], []])
    assert t.kind is None and "oscillation in 1/3" in t.message
    t = target_from_baseline([[f("OSC001", "oscillation")], [f("OSC001", "oscillation")], []])
    assert t.kind == "oscillation" and t.message.endswith("(2/3 seeds)")
    assert target_from_baseline([[], []]).message == "no problem found in the baseline runs"
