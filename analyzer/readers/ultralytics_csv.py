"""Ultralytics / YOLOv5 ``results.csv``: padded headers and values, one row per epoch.

* names are stripped (``'      train/box_loss'`` -> ``train/box_loss``) and kept otherwise:
  ``train/box_loss``, ``val/cls_loss``, ``metrics/mAP50(B)`` or ``metrics/mAP_0.5``,
  ``lr/pg0`` or ``x/lr0``. There is no total loss; the components are separate tags.
* step = the ``epoch`` column (0-based in YOLOv5, 1-based in Ultralytics 8).
* ``time`` (seconds since start, Ultralytics 8) is kept as a tag, not a wall time.
* ``args.yaml``/``opt.yaml``/``hyp.yaml`` beside the file gives the hyperparameters.
* a resumed training appends to the same file; epochs that go back are resolved by
  :func:`~analyzer.readers.base.apply_restarts`.
"""

from __future__ import annotations

from pathlib import Path

from .base import Points, ReadResult
from .columns import epoch_or_step, read_files, tag_prefix, to_long
from .hparams import read_sidecar_hparams
from .side_files import ULTRALYTICS_SIDE_FILES
from .table import no_numeric_error, read_table

FORMAT = "ultralytics-csv"


def _read_one(run: str, path: Path, base: Path, result: ReadResult) -> Points:
    table = read_table(path)
    step = epoch_or_step(table)
    prefix = tag_prefix(path, base)
    tags = [(prefix + n, n) for n in table.numeric() if n != step.column]
    if not tags:
        raise no_numeric_error(table)
    result.notes.extend(f"{path.name}: {n}" for n in table.notes)
    if step.note:
        result.notes.append(f"{path.name}: {step.note}")
    read_sidecar_hparams(path.parent, ULTRALYTICS_SIDE_FILES, result)
    return to_long(run, table, step, tags)


#: :func:`read` can return its table as a :class:`~analyzer.readers.base.NumpyTable` (``lite``)
READS_TABLE = True


def read(run: str, paths: list[Path], base: Path, *, lite: bool = False) -> ReadResult:
    """Read Ultralytics ``results.csv`` files of one run (several files = one resumed run).
    ``lite``: the table may be a :class:`~analyzer.readers.base.NumpyTable` (as a check reads it)."""
    return read_files(run, paths, base, _read_one, FORMAT, lite=lite)
