"""PyTorch Lightning ``CSVLogger`` files: ``lightning_logs/version_N/metrics.csv``.

Lightning writes one row per logging call with the union of all keys as columns (sorted), so
training and validation values sit on different rows and the other cells are empty.

* step = the ``step`` column (the trainer's global step); every metric column is a tag, and
  only its non-empty cells become points.
* ``epoch`` is an axis, not a curve, but it is kept as the tag ``epoch`` so that later stages
  can map steps to epochs: one point at the first logged step of each epoch, plus the last
  step (the epoch at step ``s`` is the value of the last ``epoch`` point at or before ``s``). Which
  tags are logged once per epoch (``on_epoch=True``, validation) and which every few steps is
  said in a note.
* rows written by ``trainer.validate()``/``trainer.test()`` after fitting sit at the last step
  (``test_loss`` is then a one-point tag, ``val_*`` gets one extra point there).
* ``hparams.yaml`` beside the file gives the hyperparameters (:mod:`analyzer.readers.hparams`;
  a damaged file is noted, the log is still read).
* steps that go back (a run resumed into the same file) are resolved by
  :func:`~analyzer.readers.base.apply_restarts`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import Points, ReadResult
from .columns import change_points, choose_step, make_step_choice, read_files, tag_prefix, to_long
from .hparams import read_sidecar_hparams
from .side_files import LIGHTNING_SIDE_FILES
from .sniff import STEP_NAMES
from .table import no_numeric_error, read_table

FORMAT = "lightning-csv"


def _read_one(run: str, path: Path, base: Path, result: ReadResult) -> Points:
    table = read_table(path)
    name = path.name
    prefix = tag_prefix(path, base)
    if "step" in table.columns:
        step = make_step_choice(table, "step")
    else:
        step = choose_step(table, STEP_NAMES)
    epoch = table.columns.get("epoch")
    metric_cols = [n for n in table.numeric() if n not in (step.column, "epoch")]
    if not metric_cols:
        raise no_numeric_error(table)
    points = to_long(run, table, step, [(prefix + n, n) for n in metric_cols])
    result.notes.extend(f"{name}: {n}" for n in table.notes)
    if step.note:
        result.notes.append(f"{name}: {step.note}")
    if epoch is not None and step.column == "step":
        rows = epoch.present & step.rows
        st = step.steps[rows]
        ep = epoch.values[rows]
        if len(st):
            first = _first_of_each(st)
            first = first[change_points(ep[first])]
            points.add(prefix + "epoch", st[first], ep[first])
            per_epoch = _per_epoch_tags(table, step, metric_cols)
            if per_epoch:
                result.notes.append(
                    f"{name}: logged once per epoch: {', '.join(prefix + t for t in per_epoch)}"
                )
    read_sidecar_hparams(path.parent, LIGHTNING_SIDE_FILES, result)
    return points


def _first_of_each(steps: np.ndarray) -> np.ndarray:
    """Positions of the first row of each distinct step, in row order (without a sort when the
    steps never go back, as in nearly every file)."""
    if len(steps) < 2 or (steps[1:] >= steps[:-1]).all():
        new = np.ones(len(steps), dtype=bool)
        new[1:] = steps[1:] != steps[:-1]
        return np.flatnonzero(new)
    _, first = np.unique(steps, return_index=True)
    first.sort()
    return first


def _per_epoch_tags(table, step, metric_cols: list[str]) -> list[str]:
    """Tags with at most one value per epoch and at least as many epochs as values (minus one
    for a validate()/test() row after fitting)."""
    epoch = table.columns["epoch"]
    out = []
    for n in metric_cols:
        c = table.columns[n]
        rows = c.present & epoch.present & step.rows
        if rows.sum() < 2:
            continue
        eps = epoch.values[rows]
        d = np.diff(eps)
        if (d > 0).all() if (d >= 0).all() else len(np.unique(eps)) == len(eps):
            out.append(n)
    return out


#: :func:`read` can return its table as a :class:`~analyzer.readers.base.NumpyTable` (``lite``)
READS_TABLE = True


def read(run: str, paths: list[Path], base: Path, *, lite: bool = False) -> ReadResult:
    """Read Lightning ``metrics.csv`` files of one run (several files = one resumed run; the
    ``version_N`` folders of a run resumed from a checkpoint say the same notes once).
    ``lite``: the table may be a :class:`~analyzer.readers.base.NumpyTable` (as a check reads it)."""
    result = read_files(run, paths, base, _read_one, FORMAT, lite=lite)
    result.notes = list(dict.fromkeys(result.notes))
    return result
