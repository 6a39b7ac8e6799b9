"""From a parsed :class:`~.table.Table` to the canonical long table: which column is the step
(:func:`choose_step`, :func:`epoch_or_step`), the wall time, a split column (train/val rows in one
table), tag names (:func:`tag_prefix`; nested keys are flattened by
:func:`analyzer.readers.hparams.flatten`) and the long format (:func:`to_long`, :func:`read_files`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .base import Points, ReadError, ReadResult, step_ok
from .sniff import EPOCH_NAMES, STEP_NAMES, WALL_TIME_NAMES, norm_name
from .table import Table

if TYPE_CHECKING:  # a table read for a check needs no pandas (readers.base.NumpyTable)
    import pandas as pd

# ---------------------------------------------------------------------------------------------
# steps


def _steady(values: np.ndarray) -> bool:
    """True when a column counts up steadily: few repeats, at most a few jumps back (restarts)."""
    if len(values) < 2:
        return True
    d = np.diff(values)
    up = int((d > 0).sum())
    eq = int((d == 0).sum())
    down = int((d < 0).sum())
    return down <= max(2, 0.01 * len(values)) and up >= eq


def _restarts_with_epoch(table: Table, name: str, rows: np.ndarray) -> bool:
    """True when a non-epoch counter goes back exactly where an epoch column moves on
    (a batch index within the epoch, not a step)."""
    epoch = find_column(table, EPOCH_NAMES)
    if epoch is None or epoch == name:
        return False
    e = table.columns[epoch]
    ok = rows & e.present
    v = table.columns[name].values[ok]
    ev = e.values[ok]
    if len(v) < 2:
        return False
    back = np.diff(v) < 0
    return bool(back.any()) and bool(np.all(np.diff(ev)[back] > 0))


def is_integral(values: np.ndarray) -> bool:
    v = values[np.isfinite(values)]
    return (
        len(v) > 0
        and bool(np.all(np.abs(v - np.round(v)) < 1e-9))
        and bool(np.all(np.abs(v) < 2**62))
    )


def find_column(table: Table, names: Iterable[str]) -> str | None:
    """First column whose normalised name is in ``names`` (in the order of ``names``)."""
    by_norm: dict[str, str] = {}
    for n in table.columns:
        by_norm.setdefault(norm_name(n), n)
    for want in names:
        if want in by_norm:
            return by_norm[want]
    return None


@dataclass
class StepChoice:
    steps: np.ndarray  # int64 per row
    rows: np.ndarray  # bool per row: rows that have a step
    column: str | None  # column used, None for the row number
    note: str | None = None


def choose_step(
    table: Table, prefer: Iterable[str] = STEP_NAMES, group: np.ndarray | None = None
) -> StepChoice:
    """Pick the step axis: the first step-like column that is integral and counts up steadily.

    When no column qualifies (e.g. ``Epoch`` repeats while ``Batch`` restarts every epoch) the
    row number is the step, which is the count of logging calls and keeps the curve's order.
    ``group`` (a label per row, e.g. train/val) makes the steadiness test look at the rows of
    the most frequent label only, since each label repeats the steps of the others.
    """
    main = None
    if group is not None:
        labels, counts = np.unique(group[group != None].astype(str), return_counts=True)  # noqa: E711
        if len(labels):
            main = group == labels[np.argmax(counts)]
    rejected: list[str] = []
    by_norm: dict[str, list[str]] = {}
    for n in table.columns:
        by_norm.setdefault(norm_name(n), []).append(n)
    for want in prefer:
        for name in by_norm.get(want, []):
            c = table.columns[name]
            rows = c.present & step_ok(c.values)
            v = c.values[rows]
            if len(v) == 0 or rows.sum() < 0.5 * table.n_rows:
                finite = c.present & np.isfinite(c.values)
                if finite.sum() >= 0.5 * table.n_rows:  # numbers, but none a step can be
                    rejected.append(f"{name!r} holds values too large for a step")
                else:
                    rejected.append(f"{name!r} is mostly empty")
                continue
            if not is_integral(v):
                if bool(np.any(np.abs(v) >= 2**62)):
                    rejected.append(f"{name!r} holds values too large for a step")
                else:
                    rejected.append(f"{name!r} is not whole numbers")
                continue
            if _restarts_with_epoch(table, name, rows):
                rejected.append(f"{name!r} restarts every epoch")
                continue
            if not _steady(v if main is None else c.values[rows & main]):
                rejected.append(f"{name!r} does not count up steadily")
                continue
            note = None
            if rows.sum() < table.n_rows:
                note = f"{int(table.n_rows - rows.sum())} row(s) without a {name!r} value dropped"
            return StepChoice(
                np.round(np.where(rows, c.values, 0)).astype(np.int64), rows, name, note
            )
    note = "no step column: the row number is the step"
    if rejected:
        note = f"step = row number ({'; '.join(rejected)})"
    return StepChoice(
        np.arange(table.n_rows, dtype=np.int64), np.ones(table.n_rows, dtype=bool), None, note
    )


SPLIT_NAMES = {"phase", "split", "mode", "stage", "subset", "set", "dataset", "partition", "fold"}
SPLIT_WORDS = {
    "train",
    "training",
    "val",
    "valid",
    "validation",
    "eval",
    "evaluation",
    "test",
    "dev",
}
LONG_NAMES = {"tag", "metric", "metric_name", "name", "key", "series", "variable"}


@dataclass
class Split:
    """A text column that says which curve a row belongs to."""

    column: str
    labels: np.ndarray  # object: label per row, None where empty
    long: bool  # True: "tag,value" long format (the label is the whole tag)


def find_split(table: Table) -> Split | None:
    """Find a text column that labels rows: ``phase``/``split``-like (train/val rows of one table)
    or ``metric``/``tag``-like next to a ``value`` column (long format)."""
    value_col = find_column(table, ["value"])
    for name, cells in table.text_columns.items():
        key = norm_name(name)
        labelled = cells[cells != None]  # noqa: E711
        if len(labelled) < 0.9 * table.n_rows:
            continue
        distinct = {str(x) for x in labelled}
        if key in LONG_NAMES and value_col is not None and len(distinct) <= 1000:
            return Split(name, cells, True)
        if not (2 <= len(distinct) <= 20 and len(distinct) <= table.n_rows / 2):
            continue
        if key in SPLIT_NAMES or {d.lower() for d in distinct} <= SPLIT_WORDS:
            return Split(name, cells, False)
    return None


def change_points(values: np.ndarray) -> np.ndarray:
    """Mask of the entries where a piecewise-constant sequence (e.g. the epoch per logged step)
    takes a new value, plus the last entry: enough to map any step to its epoch exactly."""
    keep = np.ones(len(values), dtype=bool)
    if len(values) > 1:
        keep[1:] = values[1:] != values[:-1]
        keep[-1] = True
    return keep


def epoch_or_step(table: Table) -> StepChoice:
    """The ``epoch`` column when it holds values (Keras, Ultralytics), else the usual step choice."""
    epoch_col = find_column(table, ["epoch"])
    if epoch_col is not None and table.columns[epoch_col].n_present:
        return make_step_choice(table, epoch_col)
    return choose_step(table, STEP_NAMES)


def make_step_choice(table: Table, column: str) -> StepChoice:
    """Use ``column`` as the step as it is (no steadiness check): rows without a value are
    dropped, values are rounded to whole numbers (with a note if any were not)."""
    c = table.columns[column]
    rows = c.present & np.isfinite(c.values)
    notes = []
    huge = rows & ~step_ok(c.values)
    if huge.any():
        rows &= ~huge
        notes.append(
            f"{int(huge.sum())} row(s) whose {column!r} does not fit a 64-bit step dropped"
        )
    if rows.sum() + huge.sum() < table.n_rows:
        missing = int(table.n_rows - rows.sum() - huge.sum())
        notes.append(f"{missing} row(s) without a {column!r} value dropped")
    v = np.where(rows, c.values, 0.0)
    if not is_integral(v[rows]) and rows.any():
        notes.append(f"column {column!r} holds fractions; rounded to whole steps")
    return StepChoice(np.round(v).astype(np.int64), rows, column, "; ".join(notes) or None)


def wall_time_column(
    table: Table, exclude: Iterable[str] = ()
) -> tuple[str | None, np.ndarray | None]:
    """A column of Unix timestamps (seconds or milliseconds), as seconds; (None, None) if none."""
    skip = set(exclude)
    for name, c in table.columns.items():
        if name in skip or norm_name(name) not in WALL_TIME_NAMES:
            continue
        v = c.values[c.present & step_ok(c.values)]
        if len(v) and np.median(v) > 1e11:
            return name, np.where(c.present, c.values / 1000.0, np.nan)
        if len(v) and np.median(v) > 1e8:
            return name, np.where(c.present, c.values, np.nan)
    return None, None


# ---------------------------------------------------------------------------------------------
# long format


def to_long(
    run: str,
    table: Table,
    step: StepChoice,
    tags: list[tuple[str, str]] | list[tuple[str, str, np.ndarray | None]],
    wall_time: np.ndarray | None = None,
) -> Points:
    """Turn chosen columns into rows of the canonical long table; ``tags`` holds (tag name,
    column name) or (tag name, column name, row mask) to take only some rows of a column.
    (``run`` is the run's name; the table is built from the points by :func:`read_files`.)"""
    points = Points()
    for item in tags:
        tag, colname = item[0], item[1]
        mask = item[2] if len(item) > 2 else None
        c = table.columns[colname]
        keep = c.present & step.rows
        if mask is not None:
            keep = keep & mask
        if not keep.any():
            continue
        points.add(
            tag,
            step.steps[keep],
            c.values[keep],
            wall_time[keep] if wall_time is not None else None,
        )
    return points


def tag_prefix(path: Path, base: Path) -> str:
    """Sub-folder of ``base`` holding ``path`` as a tag prefix ('' when the file sits in base)."""
    try:
        rel = Path(path).parent.resolve().relative_to(Path(base).resolve())
    except (ValueError, OSError):
        return ""
    s = rel.as_posix()
    return "" if s in ("", ".") else s + "/"


def read_files(
    run: str,
    paths: list[Path],
    base: Path,
    read_one: Callable[[str, Path, Path, ReadResult], pd.DataFrame | Points | None],
    fmt: str,
    *,
    lite: bool = False,
) -> ReadResult:
    """Run ``read_one`` on every file (in the given order), collect, resolve restarts.

    ``read_one(run, path, base, result)`` returns the rows of one file (:class:`Points`, or a
    long table) and may add notes and hparams to ``result``; a :class:`ReadError` (or any other
    failure) skips that file with its reason. The run's table is built once, from the rows of
    every file (``lite``: as a :class:`~analyzer.readers.base.NumpyTable` when pandas is not
    needed, see :meth:`Points.frame`). Raises :class:`ReadError` when no file gave a single point.
    """
    result = ReadResult(frame=None)  # type: ignore[arg-type]  # set below, or ReadError
    points = Points()
    for p in paths:
        p = Path(p)
        try:
            f = read_one(run, p, base, result)
        except ReadError as e:
            result.skipped.append((str(p), e.reason))
            continue
        except Exception as e:  # a reader bug or a file nobody foresaw: never crash the run
            result.skipped.append((str(p), f"could not be read as {fmt}: {type(e).__name__}: {e}"))
            continue
        result.files.append(str(p))
        if isinstance(f, Points):
            points.extend(f)
        elif f is not None:
            points.add_frame(f)
    if not len(points):
        if result.skipped:
            path, reason = result.skipped[0]
            if len(result.skipped) > 1:
                reason += f" (and {len(result.skipped) - 1} more file(s) unusable)"
            raise ReadError(path, reason)
        raise ReadError(paths[0] if paths else base, "no data points in any file")
    result.frame, notes = points.frame(run, lite=lite)  # type: ignore[assignment]
    result.notes.extend(notes)
    return result


# ---------------------------------------------------------------------------------------------
# nested names
