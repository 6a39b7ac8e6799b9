"""Any other numeric table (CSV, TSV, ``;``/``|``/whitespace separated, hand-rolled logs).

* step: the first column named like a step (``global_step``, ``step``, ``iteration``, ``iter``,
  ``epoch``, ``batch``…, case and spacing ignored) that holds whole numbers counting up steadily;
  otherwise the row number. A ``Batch`` column that restarts every epoch next to an ``Epoch``
  column that repeats is no step: the row number (count of logging calls) is used instead.
* other step-like columns (a ``Batch`` index that restarts each epoch) are counters, not curves:
  they are left out with a note.
* tags: every other numeric column, named as in the header (padding stripped). When the step is
  not the epoch and an epoch column exists, it is kept as the tag ``epoch`` (an axis for mapping
  steps to epochs, not a curve to judge): one point where the epoch changes, plus the last row.
* a column of Unix timestamps named ``time``/``timestamp``/``wall_time``… gives the wall time.
* a text column that labels rows splits them into curves: ``phase``/``split``/``mode``… (or
  values all like train/val/test) gives tags ``<label>/<column>`` (``train/loss``, ``val/loss``);
  a ``metric``/``tag``/``name`` column next to a ``value`` column (long format) gives the label
  itself as the tag. The step's steadiness is then judged on the rows of one label.
* other text columns are ignored with a note; text cells in a mostly numeric column are dropped
  and counted in a note.
* steps that go back (a resumed run appended to the same file) are resolved by
  :func:`~analyzer.readers.base.apply_restarts`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import Points, ReadResult
from .columns import (
    change_points,
    choose_step,
    find_column,
    find_split,
    read_files,
    tag_prefix,
    to_long,
    wall_time_column,
)
from .hparams import read_sidecar_hparams
from .side_files import GENERIC_SIDE_FILES
from .sniff import EPOCH_NAMES, STEP_NAMES, norm_name
from .table import no_numeric_error, read_table

FORMAT = "csv"


def _read_one(run: str, path: Path, base: Path, result: ReadResult) -> Points:
    table = read_table(path)
    split = find_split(table)
    group = split.labels if split is not None else None
    step = choose_step(table, group=group)
    wt_col, wall = wall_time_column(table, exclude=[step.column] if step.column else [])
    prefix = tag_prefix(path, base)
    epoch_col = find_column(table, EPOCH_NAMES)
    axes = [
        n
        for n in table.numeric()
        if norm_name(n) in STEP_NAMES and n not in (step.column, epoch_col)
    ]
    metrics = [n for n in table.numeric() if n not in (step.column, wt_col, epoch_col, *axes)]
    if not metrics:
        raise no_numeric_error(table)
    tags: list[tuple[str, str, np.ndarray | None]] = []
    name = path.name
    epoch_rows = None
    if split is None:
        tags = [(prefix + n, n, None) for n in metrics]
    else:
        labels = split.labels
        distinct = sorted({str(x) for x in labels if x is not None})
        value_col = find_column(table, ["value"]) if split.long else None
        for lab in distinct:
            rows = labels == lab
            for n in metrics:
                tag = lab if split.long and n == value_col else f"{lab}/{n}"
                tags.append((prefix + tag, n, rows))
        unlabelled = labels == None  # noqa: E711
        if unlabelled.any():
            tags.extend((prefix + n, n, unlabelled) for n in metrics)
        kind = "names the curve of each row" if split.long else "splits rows into curves"
        result.notes.append(
            f"{name}: text column {split.column!r} {kind} ({', '.join(map(repr, distinct[:6]))}"
            f"{', ...' if len(distinct) > 6 else ''})"
        )
        if not split.long:
            counts = {lab: int((labels == lab).sum()) for lab in distinct}
            epoch_rows = labels == max(counts, key=counts.__getitem__)
    if epoch_col and epoch_col != step.column:
        ec = table.columns[epoch_col]
        rows = ec.present & step.rows if epoch_rows is None else ec.present & step.rows & epoch_rows
        idx = np.flatnonzero(rows)
        keep = np.zeros(len(rows), dtype=bool)
        keep[idx[change_points(ec.values[idx])]] = True
        tags.append((prefix + "epoch", epoch_col, keep))
    used = f"column {split.column!r} holds text" if split is not None else None
    result.notes.extend(f"{name}: {n}" for n in table.notes if not (used and n.startswith(used)))
    if step.note:
        result.notes.append(f"{name}: {step.note}")
    elif step.column:
        result.notes.append(f"{name}: step = column {step.column!r}")
    if axes:
        result.notes.append(
            f"{name}: counter column(s) {', '.join(map(repr, axes))} not read as curves"
        )
    if wt_col:
        result.notes.append(f"{name}: wall time from column {wt_col!r}")
    if epoch_col and epoch_col != step.column:
        result.notes.append(f"{name}: column {epoch_col!r} kept as tag 'epoch' (step -> epoch map)")
    read_sidecar_hparams(path.parent, GENERIC_SIDE_FILES, result)
    return to_long(run, table, step, tags, wall)


#: :func:`read` can return its table as a :class:`~analyzer.readers.base.NumpyTable` (``lite``)
READS_TABLE = True


def read(run: str, paths: list[Path], base: Path, *, lite: bool = False) -> ReadResult:
    """Read generic numeric tables of one run (several files = one resumed run, in order).
    ``lite``: the table may be a :class:`~analyzer.readers.base.NumpyTable` (as a check reads it)."""
    return read_files(run, paths, base, _read_one, FORMAT, lite=lite)
