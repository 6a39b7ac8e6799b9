"""Keras callback: curvelint's rules on the epoch (and optionally batch) logs, with actions.

    from analyzer.integrations.keras import CurvelintCallback

    model.fit(x, y, validation_split=0.2, epochs=100,
              callbacks=[CurvelintCallback()])   # stop on divergence, reduce LR on plateau,
                                                 # restore the best weights on overfitting

Every epoch's logs (``loss``, ``val_loss``, ``accuracy``, ..., and the optimizer's learning rate
as ``lr`` when the logs lack it) go to a :class:`analyzer.Monitor`; new findings are printed,
and the actions asked for are taken and logged with their reason (see
:mod:`analyzer.integrations` for what each action does). ``callback.actions_taken`` lists them,
``callback.monitor.report()`` is the full report. Steps are the 0-based epoch numbers, as in
Keras' ``CSVLogger``, so ``curvelint check`` of that CSV gives the same findings.

``batch=True`` also records every training batch's logs (names prefixed ``batch/``) on a
global batch axis; the rules then run on the adaptive schedule instead of every epoch.

Works with Keras 3 (any backend) and ``tf.keras``. Without Keras, importing
``CurvelintCallback`` raises an ImportError saying what to install.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import ACTIONS, Controller

__all__ = ["CurvelintCallback", "KerasAdapter"]  # noqa: F822 (built lazily)


def _keras():
    try:
        import keras

        return keras
    except ImportError:
        pass
    try:
        from tensorflow import keras

        return keras
    except ImportError:
        raise ImportError(
            "analyzer.integrations.keras.CurvelintCallback needs Keras: "
            "`pip install tensorflow` (or `pip install keras` with a backend such as torch or jax)"
        ) from None


class KerasAdapter:
    """The controller's view of a Keras model."""

    def __init__(self, model: Any, keras: Any = None) -> None:
        self.model = model
        self.keras = keras

    def stop(self) -> None:
        self.model.stop_training = True

    def _lr_var(self):
        opt = getattr(self.model, "optimizer", None)
        return None if opt is None else getattr(opt, "learning_rate", None)

    def get_lr(self) -> float | None:
        lr = self._lr_var()
        if lr is None or callable(lr) and not hasattr(lr, "numpy") and not hasattr(lr, "value"):
            return None  # a LearningRateSchedule: not ours to change
        try:
            if self.keras is not None and hasattr(self.keras, "ops"):
                return float(self.keras.ops.convert_to_numpy(lr))
            return float(lr.numpy() if hasattr(lr, "numpy") else lr)
        except (TypeError, ValueError, AttributeError):
            return None

    def set_lr(self, lr: float) -> bool:
        opt = getattr(self.model, "optimizer", None)
        if opt is None:
            return False
        try:
            var = opt.learning_rate
            if hasattr(var, "assign"):
                var.assign(lr)
            else:
                opt.learning_rate = lr
            return True
        except (TypeError, ValueError, AttributeError):
            return False

    def snapshot(self) -> Any:
        return self.model.get_weights()

    def restore(self, state: Any) -> None:
        self.model.set_weights(state)


class _CurvelintLogic:
    """The callback's behaviour, independent of the Keras base class (tested without Keras)."""

    model: Any  # set by Keras on the real callback (Callback.set_model); declared for typing only

    def __init__(
        self,
        monitor=None,
        actions: Iterable[str] = ACTIONS,
        every: int = 1,
        verbose: int = 1,
        *,
        batch: bool = False,
        factor: float = 0.1,
        min_lr: float = 0.0,
        cooldown: int = 3,
        _keras_module: Any = None,
    ) -> None:
        super().__init__()
        self.controller = Controller(
            monitor,
            actions,
            every=None if batch else every,
            factor=factor,
            min_lr=min_lr,
            cooldown=cooldown,
            verbose=verbose,
        )
        self.batch = batch
        self._keras_module = _keras_module
        self._global_batch = 0
        self._epoch = 0

    @property
    def monitor(self):
        return self.controller.monitor

    @property
    def actions_taken(self) -> list:
        return list(self.controller.taken)

    def _adapter(self) -> KerasAdapter:
        return KerasAdapter(self.model, self._keras_module)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._global_batch += 1
        if not self.batch or not logs:
            return
        values = {f"batch/{k}": v for k, v in logs.items()}
        self.controller.observe(self._global_batch, values, self._adapter())

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        step = self._global_batch if self.batch else epoch
        self.controller.observe(step, dict(logs or {}), self._adapter())

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.controller.verbose:
            self.controller.log(self.controller.summary())


_CLASS = None


def _make_class(base: type) -> type:
    return type(
        "CurvelintCallback",
        (_CurvelintLogic, base),
        {"__doc__": __doc__, "__module__": __name__},
    )


def __getattr__(name: str) -> Any:
    global _CLASS
    if name == "CurvelintCallback":
        if _CLASS is None:
            keras = _keras()
            cls: Any = _make_class(keras.callbacks.Callback)
            init = cls.__init__

            def __init__(self, *args, **kwargs):
                kwargs.setdefault("_keras_module", keras)
                init(self, *args, **kwargs)

            cls.__init__ = __init__
            _CLASS = cls
        return _CLASS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
