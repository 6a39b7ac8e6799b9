"""Keras callback: the decisions (fake model, fast) and a real Keras training (slow)."""

import importlib.util
import math
import os
import sys

import numpy as np
import pytest

from analyzer import Monitor
from analyzer.integrations import Controller
from analyzer.integrations.keras import _keras, _make_class
from tests import signals as S


class FakeOptimizer:
    def __init__(self, lr):
        self.learning_rate = lr


class FakeModel:
    def __init__(self, lr=0.1):
        self.optimizer = FakeOptimizer(lr)
        self.stop_training = False
        self.weights = 0
        self.restored = None

    def get_weights(self):
        return self.weights

    def set_weights(self, w):
        self.restored = w
        self.weights = w


def fit(cb, model, epochs):
    """Replay Keras' calls: on_epoch_end(epoch, logs) until the model asks to stop."""
    cb.model = model
    for e, logs in enumerate(epochs):
        model.weights = e  # "the weights after epoch e"
        cb.on_train_batch_end(0, {"loss": logs["loss"]})
        cb.on_epoch_end(e, logs)
        if model.stop_training:
            break
    cb.on_train_end()
    return e


def make(**kw):
    cls = _make_class(object)
    msgs = []
    cb = cls(**kw)
    cb.controller.log = msgs.append
    return cb, msgs


def test_stop_on_divergence_at_the_first_nan():
    sig = S.divergence(n=60, seed=0)
    epochs = [{"loss": v, "val_loss": v * 1.1} for v in sig.values]
    cb, msgs = make()
    model = FakeModel()
    stopped = fit(cb, model, epochs)
    first_nan = int(np.argmax(np.isnan(sig.values)))
    assert model.stop_training
    # stopped at the explosion or at the latest at the first NaN
    assert stopped <= first_nan
    assert [a.action for a in cb.actions_taken] == ["stop_on_divergence"]
    assert cb.actions_taken[0].code.startswith("DIV")
    assert any("stop_on_divergence at step" in m for m in msgs)
    assert msgs[-1].startswith("curvelint: verdict problems")


def test_restore_best_weights_on_overfitting():
    p = S.overfitting_val(n=40, seed=2)
    train = 2.0 * np.exp(-np.arange(40) / 8) + 0.1
    epochs = [{"loss": t, "val_loss": v} for t, v in zip(train, p.values, strict=True)]
    cb, msgs = make(actions=("restore_best_on_overfitting",))
    model = FakeModel()
    stopped = fit(cb, model, epochs)
    best_epoch = int(np.argmin(p.values[: stopped + 1]))
    assert model.stop_training and model.restored == best_epoch
    assert stopped < 39  # stopped before the end
    (a,) = cb.actions_taken
    assert a.action == "restore_best_on_overfitting" and a.code == "OVF001"
    assert f"step {best_epoch}" in a.reason


def test_reduce_lr_on_plateau_once_per_plateau():
    sig = S.early_plateau(n=60, seed=1)
    epochs = [{"loss": v} for v in sig.values]
    cb, _ = make(actions=("reduce_lr_on_plateau",), factor=0.5)
    model = FakeModel(lr=0.1)
    fit(cb, model, epochs)
    assert not model.stop_training
    reductions = [a for a in cb.actions_taken if a.action == "reduce_lr_on_plateau"]
    # the plateau is acted on once (it stays in the history but started before the reduction)
    assert len(reductions) == 1
    assert model.optimizer.learning_rate == pytest.approx(0.05)
    assert "0.1 -> 0.05" in reductions[0].reason
    # the learning rate is recorded as a curve for the rules (LRS001, roles)
    assert cb.monitor.roles["lr"] == "lr"


def test_no_action_when_not_asked_and_healthy_run_untouched():
    sig = S.divergence(n=60, seed=0)
    cb, _ = make(actions=(), monitor=Monitor(every=10))
    model = FakeModel()
    fit(cb, model, [{"loss": v} for v in sig.values])
    assert not model.stop_training and cb.actions_taken == []
    assert "DIV001" in [f.code for f in cb.monitor.findings]

    healthy = S.exp_decay(n=40, seed=3)
    cb, _ = make(monitor=Monitor(every=4))
    model = FakeModel()
    fit(cb, model, [{"loss": v, "val_loss": v + 0.05} for v in healthy.values])
    assert not model.stop_training and cb.actions_taken == []


def test_batch_logs_on_a_global_axis():
    cb, _ = make(batch=True, actions=())
    model = FakeModel()
    cb.model = model
    for e in range(3):
        for b in range(10):
            cb.on_train_batch_end(b, {"loss": 1.0 / (1 + e * 10 + b)})
        cb.on_epoch_end(e, {"loss": 1.0 / (1 + e * 10 + 9), "val_loss": 0.5})
    s, _ = cb.monitor.curve("batch/loss")
    assert list(s) == list(range(1, 31))
    s, _ = cb.monitor.curve("val_loss")
    assert list(s) == [10, 20, 30]
    assert cb.monitor.every is None  # adaptive schedule with batch logs


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown action"):
        Controller(actions=("explode",))
    with pytest.raises(ValueError, match="factor"):
        Controller(factor=2.0)


def test_clear_import_error_without_keras(monkeypatch):
    monkeypatch.setitem(sys.modules, "keras", None)
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    with pytest.raises(ImportError, match="pip install tensorflow"):
        _keras()
    import analyzer.integrations.keras as mod

    monkeypatch.setattr(mod, "_CLASS", None)
    with pytest.raises(ImportError, match="needs Keras"):
        mod.CurvelintCallback  # noqa: B018


@pytest.mark.slow
def test_real_keras_training(tmp_path):
    if importlib.util.find_spec("tensorflow") is None:
        # Keras 3 without TensorFlow: use the torch backend. With TensorFlow installed, keep the
        # default backend — Keras fixes it at first import for the whole test session.
        os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    from analyzer.integrations.keras import CurvelintCallback

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1))).astype("float32")

    def model(lr):
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16), keras.layers.Dense(1)])
        m.compile(keras.optimizers.SGD(learning_rate=lr), "mse")
        return m

    # a learning rate far too high: the loss explodes, the callback stops training
    cb = CurvelintCallback(verbose=0)
    csv = tmp_path / "history.csv"
    hist = model(0.5).fit(
        x,
        y,
        epochs=60,
        batch_size=32,
        validation_split=0.25,
        verbose=0,
        callbacks=[cb, keras.callbacks.CSVLogger(str(csv))],
    )
    n = len(hist.history["loss"])
    assert n < 60 and [a.action for a in cb.actions_taken] == ["stop_on_divergence"]
    # the monitor saw what CSVLogger wrote: same findings as `curvelint check` of that file
    import analyzer

    offline = analyzer.check(csv)
    assert sorted(f.code for f in cb.monitor.report().findings) == sorted(
        f.code for f in offline.findings
    )
    # a sane learning rate: a healthy run is not stopped
    cb = CurvelintCallback(verbose=0, actions=("stop_on_divergence",))
    hist = model(0.01).fit(x, y, epochs=15, validation_split=0.25, verbose=0, callbacks=[cb])
    assert len(hist.history["loss"]) == 15 and cb.actions_taken == []
    assert all(math.isfinite(v) for v in hist.history["loss"])
