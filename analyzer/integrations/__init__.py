"""Framework integrations: a Keras callback and a Lightning callback around :class:`Monitor`.

Both share :class:`Controller`, which feeds the monitor, prints new findings and decides what to
do about them; the framework-specific part is a small adapter that can stop training, read and
set the learning rate, and snapshot/restore the weights. The frameworks are optional: importing
``analyzer.integrations.keras`` or ``.lightning`` without them raises an ImportError that says
what to install.

Actions (all off unless asked for):

``stop_on_divergence``
    A divergence finding (non-finite loss, loss explosion) of severity warning or worse stops
    training at once: nothing good comes after it, and the epochs it saves are the point.
``reduce_lr_on_plateau``
    A plateau finding (``PLT001``) multiplies the learning rate by ``factor`` (down to
    ``min_lr``). After a reduction, only a plateau that started after it and at least
    ``cooldown`` evaluations later leads to another one (the old plateau stays in the history).
``restore_best_on_overfitting``
    While training, the weights of the best validation loss are kept (as Keras'
    ``EarlyStopping(restore_best_weights=True)`` does); an overfitting finding (``OVF001``)
    restores them and stops training.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ..curves import COMPLEMENT_PREFIX
from ..findings import SEVERITY_RANK, Finding
from ..monitor import Monitor

ACTIONS = ("stop_on_divergence", "reduce_lr_on_plateau", "restore_best_on_overfitting")


class Adapter(Protocol):
    """What the controller needs from a training framework."""

    def stop(self) -> None: ...

    def get_lr(self) -> float | None: ...

    def set_lr(self, lr: float) -> bool: ...

    def snapshot(self) -> Any: ...

    def restore(self, state: Any) -> None: ...


@dataclass(frozen=True)
class Action:
    """Something the controller did, and why."""

    step: int
    action: str
    code: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "action": self.action, "code": self.code, "reason": self.reason}


class Controller:
    """Feed values to a :class:`Monitor`, report new findings, act on them through an adapter.

    ``actions``: a subset of :data:`ACTIONS`. ``verbose``: 0 silent, 1 new findings and actions.
    ``log``: where messages go (``print`` by default).
    """

    def __init__(
        self,
        monitor: Monitor | None = None,
        actions: Iterable[str] = ACTIONS,
        *,
        every: int | None = 1,
        factor: float = 0.1,
        min_lr: float = 0.0,
        cooldown: int = 3,
        verbose: int = 1,
        log: Callable[[str], None] = print,
    ) -> None:
        actions = tuple(actions)
        unknown = set(actions) - set(ACTIONS)
        if unknown:
            raise ValueError(
                f"unknown action(s) {', '.join(sorted(unknown))}; known: {', '.join(ACTIONS)}"
            )
        if not 0 < factor < 1:
            raise ValueError(f"factor must be between 0 and 1, not {factor!r}")
        self.monitor = monitor if monitor is not None else Monitor(every=every)
        self.actions = actions
        self.factor, self.min_lr, self.cooldown = factor, min_lr, cooldown
        self.verbose = verbose
        self.log = log
        self.taken: list[Action] = []
        self.stopped = False
        self._best: tuple[float, int, Any] | None = None  # (val loss, step, weights)
        self._last_reduce: int | None = None
        self._evals_at_reduce = 0

    # ---- the best weights, for restore_best_on_overfitting
    def _val_key(self, values: dict[str, float]) -> str | None:
        key = self.monitor.roles.get("val_loss")
        if key in values:
            return key
        if key and key.startswith(COMPLEMENT_PREFIX) and key[len(COMPLEMENT_PREFIX) :] in values:
            return key  # a run that logs no loss is judged on 1 - its validation metric
        return "val_loss" if "val_loss" in values else None

    def _track_best(self, step: int, values: dict[str, float], adapter: Adapter) -> None:
        if "restore_best_on_overfitting" not in self.actions:
            return
        key = self._val_key(values)
        if key is None:
            return
        # 1 - metric: lower is better, like a loss (the best metric is the best weights)
        v = values[key] if key in values else -values[key[len(COMPLEMENT_PREFIX) :]]
        if math.isfinite(v) and (self._best is None or v < self._best[0]):
            self._best = (v, step, adapter.snapshot())

    def _do(self, step: int, action: str, f: Finding, reason: str) -> None:
        a = Action(step, action, f.code, reason)
        self.taken.append(a)
        if self.verbose:
            self.log(f"curvelint: {action} at step {step}: {reason}")

    # ---- one logged step
    def observe(self, step: int, values: dict[str, Any], adapter: Adapter) -> list[Finding]:
        """Record ``values`` at ``step``, act on the findings; return the new findings."""
        clean: dict[str, float] = {}
        for k, v in values.items():
            try:
                clean[k] = float(v)
            except (TypeError, ValueError):
                continue  # strings, arrays: not a curve
        if "lr" not in clean and "learning_rate" not in clean:
            lr = adapter.get_lr()
            if lr is not None:
                clean["lr"] = lr
        evals = self.monitor.evaluations
        new = self.monitor.update(step, **clean)
        self._track_best(step, clean, adapter)
        if self.verbose:
            for f in new:
                self.log(f"curvelint: {f.code} {f.severity} [{f.curve}] {f.message}")
            if self.monitor.evaluations > evals:
                for f in self.monitor.resolved:
                    self.log(f"curvelint: {f.code} resolved [{f.curve}]: no longer found")
        if self.monitor.evaluations > evals and not self.stopped:
            # act on what counts under the live policy, not on a first glimpse
            self._act(step, self.monitor.active, adapter)
        return new

    def _act(self, step: int, findings: list[Finding], adapter: Adapter) -> None:
        serious = [f for f in findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["warning"]]
        if "stop_on_divergence" in self.actions:
            div = next((f for f in serious if f.kind == "divergence"), None)
            if div is not None:
                adapter.stop()
                self.stopped = True
                self._do(step, "stop_on_divergence", div, f"{div.code}: {div.message}")
                return
        if "restore_best_on_overfitting" in self.actions:
            ovf = next((f for f in serious if f.kind == "overfitting"), None)
            if ovf is not None:
                adapter.stop()
                self.stopped = True
                if self._best is not None:
                    v, best_step, weights = self._best
                    adapter.restore(weights)
                    why = f"restored the weights of step {best_step} (val loss {v:.4g})"
                else:
                    why = "no best weights were kept (no validation loss seen); stopped only"
                self._do(step, "restore_best_on_overfitting", ovf, f"{ovf.code}: {why}")
                return
        if "reduce_lr_on_plateau" in self.actions:
            plt = next((f for f in serious if f.kind == "plateau"), None)
            if plt is None:
                return
            if self._last_reduce is not None:
                if self.monitor.evaluations - self._evals_at_reduce < self.cooldown:
                    return
                if plt.start_step is not None and plt.start_step < self._last_reduce:
                    return  # the plateau we already acted on
            lr = adapter.get_lr()
            if lr is None:
                return
            new_lr = max(lr * self.factor, self.min_lr)
            if new_lr >= lr or not adapter.set_lr(new_lr):
                return
            self._last_reduce = step
            self._evals_at_reduce = self.monitor.evaluations
            self._do(
                step,
                "reduce_lr_on_plateau",
                plt,
                f"{plt.code}: learning rate {lr:.3g} -> {new_lr:.3g} ({plt.message})",
            )

    def summary(self) -> str:
        rep = self.monitor.report()
        run = rep.runs[0] if rep.runs else None
        if run is None:
            return "curvelint: nothing recorded"
        codes = ", ".join(f.code for f in run.findings) or "no findings"
        return f"curvelint: verdict {run.verdict} ({codes})"
