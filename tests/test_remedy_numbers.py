"""Remedies quote only what the run holds (issue 14): no invented learning rate, no Keras monitor
the run does not log, no step count written as epochs."""

import numpy as np

from analyzer.engine import analyze_curves
from rules import _remedies as R

from .helpers import cs


def _texts(findings):
    for f in findings:
        for r in f.remedies:
            yield r.title + "\n" + (r.keras or "") + "\n" + (r.pytorch or "")


def test_an_unknown_learning_rate_is_not_invented():
    for remedy in (R.lower_lr(None), R.raise_lr(None), R.lr_schedule(None), R.warmup(None)):
        text = remedy.title + remedy.keras + remedy.pytorch
        assert "1e-3" not in text and "0.001" not in text
        # the snippet starts from the user's own learning rate (or needs none: a plateau schedule)
        assert remedy.id == "lr-schedule" or (
            "current_lr" in remedy.keras or "float(model.optimizer.learning_rate)" in remedy.keras
        )
    assert "learning_rate = 0.005" in R.lower_lr(0.05).keras  # a known one is quoted
    # the run's optimizer is kept (an SGD run is not told to build Adam)
    for remedy in (R.lower_lr(0.05), R.raise_lr(1e-5)):
        assert "Adam" not in remedy.keras + remedy.pytorch
    assert "~10x" in R.raise_lr(None).title


def test_no_keras_monitor_the_run_does_not_log():
    # a training loss only, that blows up: the checkpoint and schedule remedies watch 'loss'
    e = np.arange(60)
    loss = np.r_[2.0 * np.exp(-np.arange(40) / 10) + 0.1, np.geomspace(0.5, 80, 20)]
    _, findings = analyze_curves(cs(train=(e, loss)))
    texts = "\n".join(_texts(findings))
    assert findings and "monitor='loss'" in texts and "val_loss" not in texts


def test_train_longer_counts_steps_as_steps():
    e = np.arange(0, 4000, 50)
    loss = 2.0 * np.exp(-e / 3000) + 0.1  # still falling at the end
    _, findings = analyze_curves(cs(train=(e, loss)))
    (r,) = [r for f in findings for r in f.remedies if r.id == "train-longer"]
    assert "7,900 steps instead of 3,950" in r.title
    assert "epochs=7900" not in r.keras and "2 * epochs" in r.keras
    compile(r.keras, "<remedy>", "exec")  # the comment does not swallow the closing parenthesis
    # when the run's files say how many epochs it was set to, those are quoted
    _, findings = analyze_curves(cs(train=(e, loss), hparams={"max_epochs": 20}))
    (r,) = [r for f in findings for r in f.remedies if r.id == "train-longer"]
    assert "40 epochs instead of 20" in r.title and "epochs=40" in r.keras
