"""Issue 18: logs with no tag called a loss — loss formulas (mse, mae, ...) as loss candidates, and
runs judged on ``1 - metric`` when they log no loss at all."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analyzer
from analyzer import Monitor
from analyzer.curves import Curve, CurveSet
from analyzer.integrations import Controller
from analyzer.roles import assign_roles, classify
from analyzer.runs import load
from rules import plateau

ROLES = Path(__file__).resolve().parents[1] / "fixtures" / "roles"
REGRESSION = (
    "epoch",
    "train_mse",
    "train_rmse",
    "train_mae",
    "train_r2",
    "val_mse",
    "val_rmse",
    "val_mae",
    "val_r2",
)


def roles_of(*tags, **kw):
    return assign_roles({t: 10 for t in tags}, **kw)


def test_regression_header_chooses_mse_and_explains_the_choice():
    r = roles_of(*REGRESSION)
    assert (r.train_loss, r.val_loss) == ("train_mse", "val_mse")
    train_why = next(x for x in r.reasons if x.startswith("train loss:"))
    val_why = next(x for x in r.reasons if x.startswith("val loss:"))
    for tag in ("train_mse", "train_mae", "train_rmse"):
        assert repr(tag) in train_why  # the choice and the alternatives
    for tag in ("val_mse", "val_mae", "val_rmse"):
        assert repr(tag) in val_why
    assert "mse > mae" in train_why and "stay metrics" in train_why
    # the others stay metrics, lower is better
    for tag in ("train_mae", "train_rmse", "val_mae", "val_rmse"):
        assert (r.tags[tag].kind, r.tags[tag].direction) == ("metric", "min")
    assert r.val_metric == "val_r2" and r.tags["val_r2"].direction == "max"


@pytest.mark.parametrize(
    "tags, expected",
    [
        (("mse", "val_mse"), ("mse", "val_mse")),
        (("train_mae", "train_rmse", "val_mae", "val_rmse"), ("train_mae", "val_mae")),
        # a formula logged for both splits wins over an earlier one logged for training only
        (("train_mse", "train_mae", "val_mae"), ("train_mae", "val_mae")),
        (("train/epoch_mse", "validation/epoch_mse"), ("train/epoch_mse", "validation/epoch_mse")),
        (("train_ce", "val_ce", "val_acc"), ("train_ce", "val_ce")),
        (
            ("MeanSquaredError", "val_MeanSquaredError"),
            ("MeanSquaredError", "val_MeanSquaredError"),
        ),
        (("huber", "val_huber", "mae", "val_mae"), ("mae", "val_mae")),
        (("smooth_l1", "val_smooth_l1"), ("smooth_l1", "val_smooth_l1")),
        (("train_nll", "test_nll"), ("train_nll", "test_nll")),
        # a tag called a loss always wins; the formulas stay metrics
        (("loss", "mse", "val_loss", "val_mse"), ("loss", "val_loss")),
        # "loss" may be any formula: no val_mae beside it (two scales)
        (("loss", "mae", "val_mae"), ("loss", None)),
        # different formulas on the two splits: not compared
        (("train_mse", "val_mae"), ("train_mse", None)),
    ],
)
def test_formula_choice(tags, expected):
    r = roles_of(*tags)
    assert (r.train_loss, r.val_loss) == expected
    assert r.reasons


def test_formula_tags_are_classified():
    assert classify("val_rmse").formula == "rmse"
    assert classify("epoch_cross_entropy").formula == "ce"
    assert classify("train_hinge").formula == "hinge" and classify("train_hinge").direction == "min"
    assert classify("val_mape").formula is None  # a metric, not a loss formula
    assert classify("mse_x").formula is None  # one output of several: not the loss
    assert classify("val_r2").formula is None


def test_user_choice_still_wins():
    r = roles_of(*REGRESSION, train_loss="train_mae", val_loss="val_mae")
    assert (r.train_loss, r.val_loss) == ("train_mae", "val_mae")


def test_metric_only_run_is_judged_on_the_complement():
    r = roles_of("epoch", "accuracy", "val_accuracy")
    assert (r.train_loss, r.val_loss) == ("1 - accuracy", "1 - val_accuracy")
    assert r.derived["1 - val_accuracy"] == ["val_accuracy"]
    assert r.notes == ["no loss logged: judged on 1 - accuracy and 1 - val_accuracy"]
    assert not any("none found" in x for x in r.reasons)
    # only a validation metric; not for unbounded metrics; not when a loss exists
    assert roles_of("val_f1").val_loss == "1 - val_f1"
    assert roles_of("val_bleu").val_loss is None
    assert roles_of("loss", "val_accuracy").val_loss is None
    assert roles_of("Gen Loss", "Disc Loss", "val_accuracy").val_loss is None


def test_complement_of_a_percent_metric_is_a_fraction():
    df = pd.DataFrame({"epoch": range(1, 9), "val_top1": [40, 55, 62, 66, 68, 69, 70, 70]})
    run = analyzer.check_frame(df).runs[0]
    assert run.roles["val_loss"] == "1 - val_top1"
    from analyzer.api import frame_to_long
    from analyzer.roles import Roles
    from analyzer.runs import Run, assign

    r = Run("x", "frame", [], frame_to_long(df), Roles())
    assign(r)
    assert np.allclose(r.val.values, 1 - df["val_top1"].to_numpy() / 100)


def test_no_chance_level_claim_on_a_complement():
    # 1 - accuracy flat at 0.693 (= ln 2) looks like a binary cross-entropy at chance
    steps = np.arange(1, 41)
    v = np.full(40, 0.693) + 0.001 * np.sin(steps)
    for tag, claims in (("val_loss", True), ("1 - val_accuracy", False)):
        c = Curve(tag, "val_loss", "min", steps, v)
        cs = CurveSet(
            val=c, train=Curve(tag.replace("val", "train"), "train_loss", "min", steps, v)
        )
        assert (plateau.plausible_chance(cs, tag, 0.693, 0.693) is not None) == claims
        for f in plateau.check(cs):
            assert "ln(" not in f.message or claims


@pytest.fixture(scope="module")
def fixture_report():
    return {r.run: r for r in analyzer.check(ROLES).runs}


def test_fixture_roles(fixture_report):
    runs = {r.id: r for r in load(ROLES).runs}
    assert {k: (v.roles.train_loss, v.roles.val_loss) for k, v in runs.items()} == {
        "regression_healthy/history.csv": ("train_mse", "val_mse"),
        "regression_overfit/history.csv": ("train_mse", "val_mse"),
        "accuracy_healthy/history.csv": ("1 - accuracy", "1 - val_accuracy"),
        "accuracy_overfit/metrics.jsonl": ("1 - accuracy", "1 - val_accuracy"),
    }
    assert "no loss logged: judged on 1 - accuracy and 1 - val_accuracy" in (
        runs["accuracy_healthy/history.csv"].notes
    )


@pytest.mark.parametrize(
    "run, verdict, codes",
    [
        ("regression_healthy/history.csv", "healthy", set()),
        ("regression_overfit/history.csv", "problems", {("OVF001", "val_mse")}),
        ("accuracy_healthy/history.csv", "healthy", set()),
        ("accuracy_overfit/metrics.jsonl", "problems", {("OVF001", "1 - val_accuracy")}),
    ],
)
def test_fixture_verdicts(fixture_report, run, verdict, codes):
    rr = fixture_report[run]
    assert rr.verdict == verdict
    serious = {(f.code, f.curve) for f in rr.findings if f.severity != "info"}
    assert serious == codes
    for f in rr.findings:
        assert f.curve in f.message  # messages name the curve (the metric's complement)


def test_check_frame_with_mse_and_val_mse():
    df = pd.DataFrame(
        {
            "epoch": range(1, 11),
            "mse": [2.0, 1.2, 0.8, 0.6, 0.5, 0.42, 0.36, 0.31, 0.27, 0.24],
            "val_mse": [2.1, 1.3, 1.0, 0.9, 0.95, 1.05, 1.2, 1.35, 1.5, 1.7],
        }
    )
    rr = analyzer.check_frame(df).runs[0]
    assert (rr.roles["train_loss"], rr.roles["val_loss"]) == ("mse", "val_mse")
    assert "OVF001" in [f.code for f in rr.findings]


def test_check_frame_accuracy_only_is_not_insufficient_data():
    df = pd.DataFrame(
        {
            "epoch": range(1, 13),
            "accuracy": [0.5, 0.7, 0.8, 0.86, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.99, 1.0],
            "val_accuracy": [0.5, 0.68, 0.76, 0.8, 0.79, 0.76, 0.73, 0.7, 0.68, 0.66, 0.65, 0.63],
        }
    )
    rr = analyzer.check_frame(df).runs[0]
    assert rr.verdict == "problems"
    assert [(f.code, f.curve) for f in rr.findings if f.severity != "info"] == [
        ("OVF001", "1 - val_accuracy")
    ]
    assert "no loss logged: judged on 1 - accuracy and 1 - val_accuracy" in rr.notes


class Adapter:
    """A framework adapter that does nothing (the Controller only needs its interface)."""

    def stop(self):
        pass

    def get_lr(self):
        return None

    def set_lr(self, lr):
        return False

    def snapshot(self):
        return "weights"

    def restore(self, state):
        pass


def test_monitor_and_callback_with_mse_keys():
    mon = Monitor(every=5)
    for e in range(1, 21):
        mon.update(e, mse=2 / e, val_mse=1.0 + 0.05 * abs(e - 6), mae=1 / e, val_mae=0.5)
    assert (mon.roles["train_loss"], mon.roles["val_loss"]) == ("mse", "val_mse")
    assert "OVF001" in [f.code for f in mon.findings]

    ctl = Controller(Monitor(every=5), verbose=0)
    for e in range(1, 21):
        ctl.observe(e, {"mse": 2 / e, "val_mse": 1.0 + 0.05 * abs(e - 6)}, Adapter())
    assert ctl.monitor.roles["val_loss"] == "val_mse"
    assert ctl._best is not None and ctl._best[1] == 6  # best weights tracked on val_mse


def test_monitor_accuracy_only():
    mon = Monitor(every=5)
    for e in range(1, 21):
        mon.update(e, accuracy=1 - 0.5 / e, val_accuracy=0.8 - 0.01 * abs(e - 6))
    assert mon.roles["val_loss"] == "1 - val_accuracy"
    assert mon.verdict != "insufficient-data"


def test_controller_tracks_the_best_weights_on_the_metric_of_a_run_without_loss():
    from analyzer.integrations import Controller
    from analyzer.monitor import Monitor

    ctl = Controller(Monitor(every=5), verbose=0)
    for e in range(1, 21):
        ctl.observe(
            e, {"accuracy": 1 - 0.5 / e, "val_accuracy": 0.8 - 0.01 * abs(e - 6)}, Adapter()
        )
    assert ctl.monitor.roles["val_loss"] == "1 - val_accuracy"
    assert ctl._best is not None and ctl._best[1] == 6  # the best val_accuracy
