"""Turn a remedy id from the catalog (``rules/_remedies.py``) into something the verifier can run:
new hyperparameter values and callbacks.

A :class:`Change` is plain data (callbacks are named, with their arguments) so this module needs no
TensorFlow; the runner builds the Keras objects. Remedies that no hyperparameter can express
(check the data pipeline, class weights, augmentation, a different activation) are listed in
:data:`UNTESTABLE` with the reason, and the verifier says so instead of guessing.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .experiment import OPTIMIZER_KEYS

DEFAULT_LR = 1e-3  # Keras' Adam default, used when the experiment reads no learning_rate
DEFAULT_BATCH = 32  # Keras' fit default

UNTESTABLE: dict[str, str] = {
    "check-numerics": "a debugging step, not a training change",
    "check-pipeline": "needs a look at the data and the loss, not a hyperparameter",
    "class-imbalance": "class weights depend on the labels; set them in the experiment",
    "augment-data": "augmentation depends on the data; add it in the experiment",
    "fix-activations": "activations and initialisers are architecture choices in the experiment",
    "checkpoint-on-metric": "selects which checkpoint to keep; the training curves stay the same",
    "loss-scale": "the scale of the targets or of the loss is fixed in the experiment's data and loss",
    "no-longer": "advice not to spend more epochs; it changes no setting to verify",
}


@dataclass(frozen=True)
class Change:
    """What a remedy does to a run: hyperparameters to set, callbacks to add, and the hp keys
    the experiment (or the verifier) must honour for the change to mean anything."""

    remedy_id: str
    description: str
    hp: dict[str, Any] = field(default_factory=dict)
    callbacks: tuple[tuple[str, dict[str, Any]], ...] = ()
    needs: tuple[str, ...] = ()
    restores_best: bool = False
    dose: int = 1  # the step on the dose ladder (LADDER): 1 = the remedy's usual size

    @property
    def arm(self) -> str:
        """The name of this change's runs: the remedy id, with the factor for a larger dose."""
        return self.remedy_id if self.dose == 1 else f"{self.remedy_id}-x{10**self.dose}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "remedy": self.remedy_id,
            "arm": self.arm,
            "dose": self.dose,
            "description": self.description,
            "hp": dict(self.hp),
            "callbacks": [{"name": n, **kw} for n, kw in self.callbacks],
        }


def _lr(hp: Mapping[str, Any]) -> float:
    return float(hp.get("learning_rate") or DEFAULT_LR)


def _patience(epochs: int) -> int:
    return max(3, epochs // 10)


#: remedies tried in growing doses: a learning rate 1000x off is not fixed by a 10x step
LADDER = ("lower-lr", "raise-lr")
MAX_DOSE = 3  # x10, x100, x1000


def _build(remedy_id: str, hp: Mapping[str, Any], epochs: int, dose: int = 1) -> Change:
    lr = _lr(hp)
    if remedy_id in LADDER:
        factor = 10**dose
        new = lr / factor if remedy_id == "lower-lr" else lr * factor
        way = "/" if remedy_id == "lower-lr" else "x"
        return Change(
            remedy_id,
            f"learning rate {lr:.3g} -> {new:.3g} ({way}{factor})",
            {"learning_rate": new},
            needs=("learning_rate",),
            dose=dose,
        )
    if remedy_id == "lr-schedule":
        p = max(2, epochs // 15)
        kw = {"monitor": "val_loss", "factor": 0.3, "patience": p, "min_lr": lr / 1000}
        return Change(
            remedy_id,
            f"ReduceLROnPlateau(factor=0.3, patience={p})",
            callbacks=(("reduce_lr_on_plateau", kw),),
        )
    if remedy_id == "lr-warmup":
        w = max(2, epochs // 10)
        return Change(
            remedy_id,
            f"linear learning-rate warm-up over {w} epochs",
            callbacks=(("warmup", {"epochs": w}),),
        )
    if remedy_id == "clip-gradients":
        return Change(
            remedy_id, "clip the gradient norm to 1.0", {"clipnorm": 1.0}, needs=("clipnorm",)
        )
    if remedy_id == "early-stopping":
        p = _patience(epochs)
        kw = {"monitor": "val_loss", "patience": p, "restore_best_weights": True}
        return Change(
            remedy_id,
            f"EarlyStopping(patience={p}, restore_best_weights=True)",
            callbacks=(("early_stopping", kw),),
            restores_best=True,
        )
    if remedy_id == "restore-best":
        kw = {"monitor": "val_loss", "patience": epochs + 1, "restore_best_weights": True}
        return Change(
            remedy_id,
            "keep the weights of the best validation epoch",
            callbacks=(("early_stopping", kw),),
            restores_best=True,
        )
    if remedy_id == "regularize":
        d = float(hp.get("dropout") or 0.0)
        new_d = 0.3 if d < 0.3 else min(0.7, d + 0.2)
        l2 = float(hp.get("l2") or 0.0)
        new_l2 = 1e-4 if l2 < 1e-4 else l2 * 10
        return Change(
            remedy_id,
            f"dropout {d:g} -> {new_d:g}, L2 {l2:g} -> {new_l2:g}",
            {"dropout": new_d, "l2": new_l2},
            needs=("dropout", "l2"),
        )
    if remedy_id in ("reduce-capacity", "more-capacity"):
        width = float(hp.get("width_multiplier") or 1.0)
        new = width * (0.25 if remedy_id == "reduce-capacity" else 4.0)
        return Change(
            remedy_id,
            f"layer widths x{new / width:g}",
            {"width_multiplier": new},
            needs=("width_multiplier",),
        )
    if remedy_id == "normalize-inputs":
        return Change(
            remedy_id,
            "standardise the inputs",
            {"normalize_inputs": True},
            needs=("normalize_inputs",),
        )
    if remedy_id == "adam":
        opt = str(hp.get("optimizer") or "adam").lower()
        if opt in ("adam", "adamw"):
            return Change(
                remedy_id,
                "already Adam: raise epsilon to 1e-6",
                {"epsilon": 1e-6},
                needs=("epsilon",),
            )
        return Change(
            remedy_id,
            f"optimizer {opt} -> adam (lr 1e-3)",
            {"optimizer": "adam", "learning_rate": 1e-3},
            needs=("optimizer",),
        )
    if remedy_id == "bigger-batch":
        bs = int(hp.get("batch_size") or DEFAULT_BATCH)
        new_lr = lr * 2
        return Change(
            remedy_id,
            f"batch size {bs} -> {bs * 4}, learning rate x2 (sqrt scaling)",
            {"batch_size": bs * 4, "learning_rate": new_lr},
            needs=("batch_size", "learning_rate"),
        )
    if remedy_id == "train-longer":
        return Change(
            remedy_id, f"epochs {epochs} -> {epochs * 2}", {"epochs": epochs * 2}, needs=("epochs",)
        )
    if remedy_id in UNTESTABLE:
        raise NotTestable(remedy_id, UNTESTABLE[remedy_id])
    raise KeyError(f"unknown remedy {remedy_id!r}; testable remedies: {', '.join(TESTABLE)}")


TESTABLE = (
    "lower-lr",
    "raise-lr",
    "lr-schedule",
    "lr-warmup",
    "clip-gradients",
    "early-stopping",
    "restore-best",
    "regularize",
    "reduce-capacity",
    "more-capacity",
    "normalize-inputs",
    "adam",
    "bigger-batch",
    "train-longer",
)


class NotTestable(Exception):
    """The remedy cannot be expressed as a hyperparameter or callback change."""

    def __init__(self, remedy_id: str, reason: str) -> None:
        super().__init__(f"{remedy_id}: {reason}")
        self.remedy_id = remedy_id
        self.reason = reason


def change_for(remedy_id: str, hp: Mapping[str, Any], epochs: int, dose: int = 1) -> Change:
    """The change that applies ``remedy_id`` to a run with hyperparameters ``hp`` (the effective
    values: what the verifier set plus the experiment's own defaults) and ``epochs`` epochs.
    ``dose`` > 1 is a larger step of a :data:`LADDER` remedy (10**dose instead of 10).

    Raises :class:`NotTestable` for catalog remedies that are not a training change and
    ``KeyError`` for ids not in the catalog.
    """
    if dose != 1 and remedy_id not in LADDER:
        raise ValueError(f"{remedy_id} has no dose ladder (only {', '.join(LADDER)})")
    if not 1 <= dose <= MAX_DOSE:
        raise ValueError(f"dose must be 1..{MAX_DOSE}")
    return _build(remedy_id, hp, epochs, dose)


def honoured_by_verifier(spec_arrays: bool, spec_compiled: bool) -> set[str]:
    """Hyperparameters the verifier applies itself for a given experiment: batch size and epochs
    for array data, input normalisation for arrays, the optimizer keys for an uncompiled model."""
    keys = {"epochs"}
    if spec_arrays:
        keys |= {"batch_size", "normalize_inputs"}
    if not spec_compiled:
        keys |= set(OPTIMIZER_KEYS)
    return keys


def missing_keys(change: Change, hp_read: Iterable[str], by_verifier: Iterable[str]) -> list[str]:
    """Keys the change needs that neither the experiment reads nor the verifier applies."""
    have = set(hp_read) | set(by_verifier)
    return [k for k in change.needs if k not in have]


def first_testable(remedy_ids: Sequence[str]) -> str | None:
    """The highest-ranked remedy of a finding that the verifier can run."""
    return next((r for r in remedy_ids if r in TESTABLE), None)


def pick_control(
    exclude: Iterable[str], rng: random.Random, allowed: Iterable[str] | None = None
) -> str | None:
    """A random testable remedy, not among ``exclude``: the control arm. Published work found
    random repairs competitive with tuned ones, so a remedy has to beat this to mean something."""
    ex = set(exclude)
    pool = [
        r for r in (allowed if allowed is not None else TESTABLE) if r in TESTABLE and r not in ex
    ]
    return rng.choice(sorted(pool)) if pool else None
