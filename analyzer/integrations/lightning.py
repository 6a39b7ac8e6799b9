"""Lightning callback: curvelint's rules on the epoch metrics, with the same actions as Keras.

    import lightning as L
    from analyzer.integrations.lightning import CurvelintCallback

    trainer = L.Trainer(max_epochs=100, callbacks=[CurvelintCallback()])

At the end of every training epoch (after that epoch's validation) the epoch-level values of
``trainer.callback_metrics`` (what ``self.log(..., on_epoch=True)`` produced: ``train_loss``,
``val_loss``, ...; ``*_step`` values are left out) and the first optimizer's learning rate (as
``lr``) go to an :class:`analyzer.Monitor`. New findings are printed; the actions asked for are
taken and logged (see :mod:`analyzer.integrations`): ``trainer.should_stop``, the optimizer's
``param_groups`` learning rate, and a copy of the module's ``state_dict`` at the best validation
loss. Works with ``lightning`` and the older ``pytorch_lightning`` package; without either,
importing ``CurvelintCallback`` raises an ImportError saying what to install.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from . import ACTIONS, Controller

__all__ = ["CurvelintCallback", "LightningAdapter"]  # noqa: F822 (built lazily)


def _base() -> type:
    try:
        from lightning.pytorch import Callback

        return Callback
    except ImportError:
        pass
    try:
        import pytorch_lightning as pl_legacy

        return pl_legacy.Callback
    except ImportError:
        raise ImportError(
            "analyzer.integrations.lightning.CurvelintCallback needs Lightning: "
            "`pip install lightning`"
        ) from None


class LightningAdapter:
    """The controller's view of a Lightning trainer and module."""

    def __init__(self, trainer: Any, pl_module: Any) -> None:
        self.trainer, self.pl_module = trainer, pl_module

    def stop(self) -> None:
        self.trainer.should_stop = True

    def _groups(self) -> list:
        opts = getattr(self.trainer, "optimizers", None) or []
        return list(opts[0].param_groups) if opts else []

    def get_lr(self) -> float | None:
        groups = self._groups()
        return float(groups[0]["lr"]) if groups else None

    def set_lr(self, lr: float) -> bool:
        groups = self._groups()
        for g in groups:
            g["lr"] = lr
        return bool(groups)

    def snapshot(self) -> Any:
        return copy.deepcopy(self.pl_module.state_dict())

    def restore(self, state: Any) -> None:
        self.pl_module.load_state_dict(state)


def epoch_values(metrics: dict[str, Any]) -> dict[str, float]:
    """Epoch-level scalars of ``trainer.callback_metrics``: ``x_epoch`` becomes ``x``, ``x_step``
    values are dropped, anything that is not a one-element number is skipped."""
    out: dict[str, float] = {}
    for k, v in metrics.items():
        if k.endswith("_step"):
            continue
        try:
            x = float(v.item() if hasattr(v, "item") else v)
        except (TypeError, ValueError, RuntimeError):
            continue
        out[k[: -len("_epoch")] if k.endswith("_epoch") else k] = x
    return out


class _CurvelintLogic:
    def __init__(
        self,
        monitor=None,
        actions: Iterable[str] = ACTIONS,
        every: int = 1,
        verbose: int = 1,
        *,
        factor: float = 0.1,
        min_lr: float = 0.0,
        cooldown: int = 3,
    ) -> None:
        super().__init__()
        self.controller = Controller(
            monitor,
            actions,
            every=every,
            factor=factor,
            min_lr=min_lr,
            cooldown=cooldown,
            verbose=verbose,
        )

    @property
    def monitor(self):
        return self.controller.monitor

    @property
    def actions_taken(self) -> list:
        return list(self.controller.taken)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if getattr(trainer, "sanity_checking", False):
            return
        values = epoch_values(dict(trainer.callback_metrics))
        self.controller.observe(
            int(trainer.current_epoch), values, LightningAdapter(trainer, pl_module)
        )

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if self.controller.verbose:
            self.controller.log(self.controller.summary())


_CLASS = None


def __getattr__(name: str) -> Any:
    global _CLASS
    if name == "CurvelintCallback":
        if _CLASS is None:
            _CLASS = type(
                "CurvelintCallback",
                (_CurvelintLogic, _base()),
                {"__doc__": __doc__, "__module__": __name__},
            )
        return _CLASS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
