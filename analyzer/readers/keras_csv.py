"""Keras ``CSVLogger`` files: ``epoch,<metrics sorted by name>`` one row per epoch.

* step = the ``epoch`` column (0-based as Keras writes it); every other numeric column is a tag
  with its name as written (``loss``, ``val_loss``, ``accuracy``, old Keras' ``acc``/``val_acc``,
  ``learning_rate``).
* ``NA`` (validation did not run that epoch) gives no point; ``nan`` (the loss diverged) is kept
  as a NaN point.
* Restarts: ``CSVLogger(append=True)`` after resuming continues the file, and a file appended to
  by other means repeats the header line mid-file; either way the epochs go back, and
  :func:`~analyzer.readers.base.apply_restarts` keeps the resumed run's values for the replayed
  epochs (as TensorBoard would).
* Files without an ``epoch`` column fall back to the generic step choice.
"""

from __future__ import annotations

from pathlib import Path

from .base import Points, ReadResult
from .columns import epoch_or_step, read_files, tag_prefix, to_long, wall_time_column
from .sniff import SEP_NAMES
from .table import no_numeric_error, read_table

FORMAT = "keras-csv"


def _read_one(run: str, path: Path, base: Path, result: ReadResult) -> Points:
    table = read_table(path)
    step = epoch_or_step(table)
    wt_col, wall = wall_time_column(table, exclude=[step.column] if step.column else [])
    prefix = tag_prefix(path, base)
    tags = [(prefix + n, n) for n in table.numeric() if n not in (step.column, wt_col)]
    if not tags:
        raise no_numeric_error(table)
    name = path.name
    result.notes.extend(f"{name}: {n}" for n in table.notes)
    if step.note:
        result.notes.append(f"{name}: {step.note}")
    if table.sep != ",":
        result.notes.append(f"{name}: {SEP_NAMES.get(table.sep, repr(table.sep))}-separated")
    return to_long(run, table, step, tags, wall)


#: :func:`read` can return its table as a :class:`~analyzer.readers.base.NumpyTable` (``lite``)
READS_TABLE = True


def read(run: str, paths: list[Path], base: Path, *, lite: bool = False) -> ReadResult:
    """Read Keras CSVLogger files of one run (several files = one resumed run, in order).
    ``lite``: the table may be a :class:`~analyzer.readers.base.NumpyTable` (as a check reads it)."""
    return read_files(run, paths, base, _read_one, FORMAT, lite=lite)
