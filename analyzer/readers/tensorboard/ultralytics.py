"""Ultralytics' extra point after the last epoch in its TensorBoard event files.

When training ends, Ultralytics (8.1 and later) validates the best checkpoint (``best.pt``) once
more and hands the result to its callbacks as the epoch after the last one
(``BaseTrainer.final_eval``: ``epoch += 1``, ``on_fit_epoch_end``, ``epoch -= 1``). Its
TensorBoard callback so writes every ``metrics/...`` tag (``metrics/mAP50(B)``,
``metrics/recall(B)``...) one more time, at step ``epochs + 1``, with no training or validation
loss at that step; ``results.csv`` has no such row. That point is the best epoch's score again, not
an epoch of the curve: kept, it would show the metric jumping back to the best value after the
last epoch. :func:`drop_final_validation` leaves it out, with a note saying so.

Recognised only on the layout Ultralytics writes: ``metrics/`` tags beside ``train/*_loss`` and
``val/*_loss`` tags, every point past the last step of the other tags being a ``metrics/`` tag at
exactly that step + 1, at most one per tag.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..base import NumpyTable

if TYPE_CHECKING:
    import pandas as pd

METRICS = "metrics/"


def looks_like_ultralytics(tags: Iterable[str]) -> bool:
    """True for Ultralytics' tag layout: ``metrics/`` tags and ``train/``, ``val/`` loss tags."""
    metric = train = val = False
    for t in tags:
        if t.startswith(METRICS):
            metric = True
        elif t.startswith("train/") and t.endswith("_loss"):
            train = True
        elif t.startswith("val/") and t.endswith("_loss"):
            val = True
    return metric and train and val


def _final_points(
    names: Sequence[object], codes: np.ndarray, steps: np.ndarray
) -> tuple[np.ndarray, int] | None:
    """The rows of Ultralytics' extra point (each row's tag is ``names[codes]``, distinct
    names) and the last epoch; None when there is none."""
    metric = np.array([isinstance(t, str) and t.startswith(METRICS) for t in names], dtype=bool)
    if not len(codes):
        return None
    is_metric = metric[codes]
    if not is_metric.any() or is_metric.all():
        return None
    last = int(steps[~is_metric].max())
    after = is_metric & (steps > last)
    if not after.any():
        return None
    if (steps[after] != last + 1).any() or len(np.unique(codes[after])) < int(after.sum()):
        return None  # not the one extra point of Ultralytics' final validation
    return after, last


def _note(n: int, last: int, run: str) -> str:
    label = f"{run}: " if run else ""
    return (
        f"{label}{n} metrics/ tag(s) at step {last + 1} left out: Ultralytics' validation of the "
        f"best checkpoint (best.pt) after the last epoch ({last}), not an epoch of the curve"
    )


def drop_final_validation(frame: pd.DataFrame, run: str = "") -> tuple[pd.DataFrame, list[str]]:
    """Leave out the ``metrics/`` points Ultralytics logs one step after the last epoch."""
    import pandas as pd

    codes, names = pd.factorize(frame["tag"].to_numpy(dtype=object), use_na_sentinel=False)
    found = _final_points(list(names), codes, frame["step"].to_numpy())
    if found is None:
        return frame, []
    after, last = found
    note = _note(int(after.sum()), last, run)
    return frame.loc[np.flatnonzero(~after)].reset_index(drop=True), [note]


def drop_final_validation_table(table: NumpyTable, run: str = "") -> tuple[NumpyTable, list[str]]:
    """:func:`drop_final_validation` of a table as numpy columns (no DataFrame made)."""
    found = _final_points(table.names.tolist(), np.asarray(table.code), table.step)
    if found is None:
        return table, []
    after, last = found
    keep = ~after
    out = NumpyTable(
        table.run,
        table.names,
        table.code[keep],
        table.step[keep],
        table.value[keep],
        table.wall[keep],
    )
    out.run_label = table.run_label
    return out, [_note(int(after.sum()), last, run)]
