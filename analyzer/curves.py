"""The curves a rule sees: plain arrays with their role. No I/O, no pandas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .findings import Setup

if TYPE_CHECKING:  # numpy is imported where curves are built: reports from the cache need none
    import numpy as np

#: the name of a derived curve ``1 - metric`` (a run that logs no loss is judged on it): not a
#: cross-entropy, so no "chance level ln(C)" is claimed for it
COMPLEMENT_PREFIX = "1 - "


@dataclass(frozen=True)
class Curve:
    """One curve of a run, as arrays sorted by step (several values per step are kept)."""

    tag: str
    role: str
    direction: str | None
    steps: np.ndarray
    values: np.ndarray
    wall_time: np.ndarray | None = None
    #: statistics computed from this curve, shared by the rules of a run (see rules._common)
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.steps)

    def upto(self, step: float, *, inclusive: bool = True) -> Curve:
        """The points logged at or before ``step`` (strictly before unless ``inclusive``), as a
        new curve: its wall times cut alike, its statistics computed afresh."""
        import numpy as np

        steps = np.asarray(self.steps)
        keep = steps <= step if inclusive else steps < step
        wall = np.asarray(self.wall_time)[keep] if self.wall_time is not None else None
        return Curve(
            self.tag, self.role, self.direction, steps[keep], np.asarray(self.values)[keep], wall
        )

    @classmethod
    def of(
        cls,
        steps,
        values,
        tag: str = "loss",
        role: str = "train_loss",
        direction: str | None = "min",
    ) -> Curve:
        """Build a curve from plain sequences (handy in tests and notebooks)."""
        import numpy as np

        s = np.asarray(steps, dtype=np.int64)
        v = np.asarray(values, dtype=np.float64)
        if s.shape != v.shape:
            raise ValueError(f"steps and values differ in length ({len(s)} vs {len(v)})")
        order = np.argsort(s, kind="stable")
        return cls(tag, role, direction, s[order], v[order])


@dataclass(frozen=True)
class CurveSet:
    """Everything the rules look at for one run."""

    run: str = ""
    train: Curve | None = None
    val: Curve | None = None
    train_metric: Curve | None = None
    val_metric: Curve | None = None
    lr: Curve | None = None
    # every other loss-like curve (components, test loss): checked for non-finite values
    other_losses: tuple[Curve, ...] = field(default_factory=tuple)
    hparams: dict = field(default_factory=dict)
    #: how the run was trained (framework, optimizer, ...): remedies are written for it
    setup: Setup = field(default_factory=Setup)

    def losses(self) -> list[Curve]:
        return [c for c in (self.train, self.val, *self.other_losses) if c is not None]

    def all_curves(self) -> list[Curve]:
        """Every curve of the set: losses, metrics, learning rate, other losses."""
        named = (self.train, self.val, self.train_metric, self.val_metric, self.lr)
        return [c for c in named if c is not None] + list(self.other_losses)

    def map_curves(self, fn: Callable[[Curve], Curve]) -> CurveSet:
        """The same set with ``fn`` applied to every curve (an absent one stays absent)."""

        def one(c: Curve | None) -> Curve | None:
            return None if c is None else fn(c)

        return replace(
            self,
            train=one(self.train),
            val=one(self.val),
            train_metric=one(self.train_metric),
            val_metric=one(self.val_metric),
            lr=one(self.lr),
            other_losses=tuple(fn(c) for c in self.other_losses),
        )
