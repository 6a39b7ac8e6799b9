"""Issue 16 with real Keras training (tiny models, a few epochs): failures stay contained, remedies
that change nothing are "not applied", the judgement uses held-out data, the learning-rate dose
ladder finds the dose that works, and the diagnosis knows the model's output size.

Slow (each test spawns a training process that imports TensorFlow); CI runs them with
tensorflow-cpu installed (`pytest -m slow tests/test_verify_contained.py`).
"""

import importlib.util
import io
import json
import math
import textwrap

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs tensorflow"),
]

# A 3-class problem on 8 Gaussian features; the model is 8 -> 16 -> 3. `{body}` may change it.
TEMPLATE = """
import time
import numpy as np
import keras

def data(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 8)).astype("float32") + y[:, None] * 0.8
    return x, y

def experiment(hp):
    lr = hp.get("learning_rate", {lr})
    opt = hp.get("optimizer", "{opt}")
    hp.get("batch_size", 32)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    result = {{"train": data(300, 1), "val": data(200, 2)}}
{body}
    model.compile(optimizer=keras.optimizers.get({{"class_name": opt,
                  "config": {{"learning_rate": lr}}}}),
                  loss="sparse_categorical_crossentropy")
    result["model"] = model
    return result
"""


def exp(tmp_path, body="", lr=0.01, opt="adam", name="exp.py"):
    p = tmp_path / name
    body = textwrap.indent(textwrap.dedent(body), "    ") if body else "    pass"
    p.write_text(TEMPLATE.format(body=body, lr=lr, opt=opt))
    return p


def verify(tmp_path, path, **kw):
    from analyzer.verify.runner import Plan, verify

    kw.setdefault("epochs", 3)
    kw.setdefault("seeds", (0, 1))
    kw.setdefault("control", False)
    err = io.StringIO()
    res = verify(Plan(experiment=path, out=tmp_path / "out", **kw), stream=err)
    return res, err.getvalue()


def cli(tmp_path, path, *args):
    from analyzer.cli import main

    out = tmp_path / "cli-out"
    rc = main(["verify", str(path), "-o", str(out), "--epochs", "3", "--seeds", "2", *args])
    doc = json.loads((out / "verify.json").read_text()) if (out / "verify.json").exists() else None
    return rc, doc


def test_fit_raising_in_a_later_seed_names_arm_and_seed_exits_2_and_keeps_finished_runs(
    tmp_path, capsys
):
    # a generator that raises in the third epoch, only for seed 1: seed 0's baseline finishes
    body = """
    x, y = result["train"]
    def gen():
        for epoch in range(1000):
            if hp["seed"] == 1 and epoch == 2:
                raise RuntimeError("corrupt shard in epoch 3")
            for i in range(0, 300, 50):
                yield x[i:i + 50], y[i:i + 50]
    import tensorflow as tf
    sig = (tf.TensorSpec((None, 8), tf.float32), tf.TensorSpec((None,), tf.int64))
    result["train"] = tf.data.Dataset.from_generator(gen, output_signature=sig)
    result["fit"] = {"steps_per_epoch": 6}
    vx, vy = result["val"]
    result["val"] = tf.data.Dataset.from_tensor_slices((vx, vy)).batch(50)
    """
    rc, doc = cli(tmp_path, exp(tmp_path, body), "--no-control")
    err = capsys.readouterr().err
    assert rc == 2
    assert "baseline seed 1" in doc["failure"] and "corrupt shard in epoch 3" in doc["failure"]
    assert "nothing can be judged" in err and "Traceback (most recent call last)" not in err
    assert [(r["arm"], r["seed"]) for r in doc["runs"]] == [("baseline", 0)]
    assert len(doc["runs"][0]["val_loss"]) == 3


def test_a_failing_remedy_is_marked_failed_and_the_others_go_on(tmp_path):
    body = """
    if lr > 0.05:
        raise ValueError("this model cannot take a learning rate above 0.05")
    """
    res, err = verify(tmp_path, exp(tmp_path, body), remedies=("raise-lr", "lower-lr"))
    raise_lr, lower = res.verdict_for("raise-lr"), res.verdict_for("lower-lr")
    assert raise_lr.verdict == "failed"
    assert "raise-lr seed 0" in raise_lr.reason and "above 0.05" in raise_lr.reason
    assert lower.verdict not in ("failed", "inconclusive") and lower.n_pairs == 2
    assert {r.arm for r in res.runs} >= {"baseline", "lower-lr"}
    assert res.failure is None
    # progress per epoch although the stream is not a terminal
    assert "baseline seed 0: epoch 1/3" in err and "baseline seed 0: epoch 3/3" in err
    assert "raise-lr seed 0: FAILED" in err
    # the classifier's output size reached the diagnosis: ln(3) is its chance level
    from analyzer.runs import load

    logged = load([tmp_path / "out" / "logs" / "baseline" / "s0"])
    assert logged.runs[0].hparams.get("num_classes") == 3


def test_a_hanging_run_is_killed_at_its_limit_and_reported(tmp_path):
    body = """
    if lr < 0.005:
        time.sleep(3600)  # stands for a training step that never returns
    """
    res, err = verify(tmp_path, exp(tmp_path, body), remedies=("lower-lr",), run_timeout=25)
    v = res.verdict_for("lower-lr")
    assert v.verdict == "failed"
    assert "lower-lr seed 0: killed after" in v.reason and "--run-timeout" in v.reason
    assert res.seconds < 200
    assert [r.arm for r in res.runs] == ["baseline", "baseline"]  # the baselines are kept


def test_no_validation_curve_says_why_and_exits_2(tmp_path):
    body = """
    result["fit"] = {"validation_freq": 10}
    """
    rc, doc = cli(tmp_path, exp(tmp_path, body))
    assert rc == 2
    assert "no validation curve" in doc["failure"] and "validation_freq=10" in doc["failure"]
    assert doc["verdicts"] == []


def test_baseline_cut_short_by_the_budget_cannot_be_judged(tmp_path):
    res, _ = verify(tmp_path, exp(tmp_path), epochs=2000, max_minutes=0.05)
    assert res.failure and "cut short by the time budget" in res.failure
    assert not res.verdicts


def test_a_remedy_the_experiment_ignores_is_not_applied(tmp_path):
    # reads hp["learning_rate"] but always trains with 0.01
    body = """
    lr = 0.01
    """
    res, _ = verify(tmp_path, exp(tmp_path, body), remedies=("lower-lr",), ladder=False)
    v = res.verdict_for("lower-lr")
    assert v.verdict == "not applied", v.reason


def test_judged_on_held_out_data_the_callbacks_never_saw(tmp_path):
    res, _ = verify(tmp_path, exp(tmp_path), remedies=("early-stopping",))
    assert res.judged_on.startswith("half of the validation data (100 of 200 examples")
    base = [r for r in res.runs if r.arm == "baseline"]
    # the end loss is measured on the other half: not the last epoch's validation loss
    assert all(abs(r.end_val_loss - r.val_loss[-1]) > 1e-6 for r in base)
    body = """
    result["test"] = data(150, 3)
    """
    res, _ = verify(tmp_path / "t", exp(tmp_path, body, name="t.py"), remedies=("early-stopping",))
    assert res.judged_on == 'the "test" split experiment(hp) returned (150 examples)'


def test_the_dose_ladder_finds_the_learning_rate_that_works(tmp_path):
    # SGD at 1e-5: a 10x step is far from enough, 1000x is what it needs
    res, _ = verify(tmp_path, exp(tmp_path, lr=1e-5, opt="sgd"), epochs=5, remedies=("raise-lr",))
    ladder = res.ladder["raise-lr"]
    assert ladder[0].dose == 1 and ladder[0].verdict in ("no effect", "improved")
    assert len(ladder) >= 2
    v = res.verdict_for("raise-lr")
    assert v.dose >= 2 and v.helped, [(d.dose, d.verdict, d.reason) for d in ladder]
    assert any(n.startswith("dose ladder") for n in v.notes)
    assert res.changes[v.arm].hp["learning_rate"] == pytest.approx(1e-5 * 10**v.dose)


def test_a_baseline_that_diverges_is_a_problem_to_verify_not_a_missing_curve(tmp_path):
    res, _ = verify(
        tmp_path, exp(tmp_path, lr=1e5, opt="sgd"), remedies=("lower-lr",), ladder=False
    )
    assert res.failure is None
    base = [r for r in res.runs if r.arm == "baseline"]
    assert all(not math.isfinite(r.val_loss[-1]) for r in base)
    assert res.verdict_for("lower-lr").verdict not in ("failed", "inconclusive")


def test_an_empty_validation_dataset_is_reported_not_an_index_error(tmp_path, capsys):
    body = """
    import tensorflow as tf
    (x, y), (vx, vy) = result["train"], result["val"]
    result["train"] = tf.data.Dataset.from_tensor_slices((x, y)).batch(50)
    result["val"] = tf.data.Dataset.from_tensor_slices((vx[:0], vy[:0])).batch(50)
    """
    rc, doc = cli(tmp_path, exp(tmp_path, body), "--no-control")
    err = capsys.readouterr().err
    assert rc == 2
    assert "baseline seed 0" in doc["failure"]
    assert "IndexError" not in doc["failure"] and "Traceback" not in err
