"""TensorBoard event files (``events.out.tfevents.*``) -> the canonical long table.

Reading, without TensorFlow:

* Each file is read into memory once and its TFRecord framing is walked and checksum-verified by
  :mod:`.framing` (vectorised; a truncated last record, corrupt length fields and bad payload
  checksums are noted, never raised). Records are decoded by :mod:`.decode`: a vectorised
  fast path for the regular scalar layouts, the ``tensorboard`` package's protobuf classes for
  everything else. Both give identical results (tested).
* Scalars are TF1/PyTorch/tensorboardX ``simple_value`` and one-element numeric tensors (TF2
  ``tf.summary.scalar``, the Keras callback, PyTorch ``new_style``). A tensor row is kept only if
  its tag carries no plugin metadata or was first declared with the ``scalars`` plugin; images,
  histograms, text, graphs and other plugins' tensors are skipped. An Event without a step field
  is step 0 (proto3 default); an Event without a wall time gets ``wall_time`` NaN.
* Hyper-parameters of the HParams plugin (``session_start_info``, as Keras' ``hp.KerasCallback``,
  PyTorch ``add_hparams`` and Lightning write them) go to :attr:`ReadResult.hparams`.

Tags and files:

* A file directly in the run folder keeps its tags. A file in a sub-folder gets the sub-folder
  path as prefix (Keras ``train/epoch_loss``, ``validation/epoch_loss``; estimator ``eval/loss``);
  PyTorch ``add_scalars("Loss", {"train": ...})`` writes tag ``Loss`` into ``Loss_train/``, which
  becomes ``Loss/train`` (sub-folder named ``<tag with / as _>_<key>``).
* The files of one folder are one TensorBoard run: they are merged in the order they were
  written (the timestamp in the name, then the name in natural order).

Ultralytics: the ``metrics/`` points it logs one step after the last epoch (its validation of
``best.pt``) are left out, with a note (:mod:`.ultralytics`).

Restarts:

* ``SessionLog.START`` (TF1 supervisors and estimators write one when a session starts, also
  after resuming from a checkpoint at step ``s``) is handled the way TensorBoard does: every point
  logged earlier *in the same folder* with step >= ``s`` is dropped, for all tags of that folder.
* Then :func:`analyzer.readers.base.apply_restarts` resolves steps that go back per tag (a new
  session replaces the earlier points with step >= its first step). TensorBoard itself only does
  this for files without ``file_version`` >= 2; curvelint does it always, because a resumed run
  that did not write ``SessionLog.START`` (Keras, PyTorch) otherwise shows two overlapping curves.
  (:func:`assemble` resolves them on integer tag codes, without pandas; the result is the same
  as ``apply_restarts`` of the whole table, tested.)

Damage, per file: a truncated last record (a file still being written) -> the complete records
are read, plus a note; a bad payload checksum -> that record is skipped and counted in a note; a
corrupt length field -> the walk resynchronises on the next valid record (note); an empty file ->
a note; bytes that hold no valid record at all (not an event file) -> the file is in
:attr:`ReadResult.skipped`. :class:`ReadError` is raised only when no file gave a single scalar
and something was wrong; a run of valid files without scalars gives an empty frame and a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from ..base import NumpyTable, ReadError, ReadResult, assemble, make_frame
from .decode import FileRows, decode_file
from .framing import Buffer, Framing, verify_payloads, walk
from .names import file_order_key, prefixed_tag
from .ultralytics import (
    drop_final_validation,
    drop_final_validation_table,
    looks_like_ultralytics,
)

if TYPE_CHECKING:
    import pandas as pd

FORMAT = "tensorboard"


@dataclass
class FileResult:
    """One file: its rows (None if unusable), notes, and whether something was wrong with it."""

    path: Path
    rows: FileRows | None
    notes: list[str] = field(default_factory=list)
    problem: str | None = None  # damage worth an error if nothing else can be read
    skipped: str | None = None  # reason the file could not be used at all


def _name(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.name


def read_file(path: Path, label: str | None = None, *, fast: bool = True) -> FileResult:
    """Read one event file; never raises for bad content (see the module docstring)."""
    label = label or path.name
    res = FileResult(path, None)
    try:
        buf = Buffer.from_file(path, reuse=True)
    except OSError as exc:
        res.skipped = f"cannot be read: {exc.strerror or exc}"
        res.problem = res.skipped
        return res
    if buf.size == 0:
        res.notes.append(f"{label}: empty file (0 bytes)")
        res.rows = decode_file(buf, np.empty(0, np.int64), np.empty(0, np.int64))
        return res
    fr = walk(buf)
    nrec = len(fr.offsets)
    if nrec == 0 and fr.corrupt_regions:
        res.skipped = (
            f"not a TFRecord event file: no record with a valid length checksum in {buf.size} bytes"
        )
        res.problem = res.skipped
        return res
    for msg in framing_damage(fr, buf.size):
        res.notes.append(f"{label}: {msg}")
        res.problem = res.problem or msg
    if fr.partial_at is not None:
        res.notes.append(
            f"{label}: file ends in a partial record at byte {fr.partial_at} "
            f"(still being written?); the {nrec} complete record(s) before it were read"
        )
    ok = verify_payloads(buf, fr.offsets, fr.lengths)
    nbad = int(nrec - np.count_nonzero(ok))
    if nbad:
        msg = bad_checksum_note(nbad)
        res.notes.append(f"{label}: {msg}")
        res.problem = res.problem or msg
    starts, lengths = fr.payload_starts, fr.lengths
    del fr  # keep few record-sized arrays alive next to the file's bytes
    if nbad:
        starts, lengths = starts[ok], lengths[ok]
    del ok
    ends = starts + lengths
    del lengths
    rows = decode_file(buf, starts, ends, fast=fast)
    if rows.undecodable:
        msg = undecodable_note(rows.undecodable)
        res.notes.append(f"{label}: {msg}")
        res.problem = res.problem or msg
    res.rows = rows
    return res


def framing_damage(fr: Framing, size: int, base: int = 0) -> list[str]:
    """What the framing walk of ``size`` bytes had to skip, one message per corrupt region.
    ``base``: file offset of the first byte walked (a tail walks the appended bytes only), so that
    the messages give file offsets."""
    out = []
    for a, b in fr.corrupt_regions:
        if b >= size and fr.stopped_at is not None:
            out.append(
                f"corrupt record length at byte {base + a}; no valid record after it, "
                f"the last {size - a} bytes were not read"
            )
        else:
            out.append(
                f"corrupt record length at byte {base + a}; skipped {b - a} bytes and "
                f"resynchronised at byte {base + b}"
            )
    return out


def bad_checksum_note(n: int) -> str:
    return f"{n} record(s) with a bad checksum skipped"


def undecodable_note(n: int) -> str:
    return f"{n} record(s) with a valid checksum are not TensorBoard events; skipped"


# --- one folder = one TensorBoard run -----------------------------------------------------------
@dataclass
class FolderRows:
    """The rows of one folder's files after the plugin filter and ``SessionLog.START``: ``tag``
    indexes ``tags`` (the files' own tag names, not yet prefixed by the folder)."""

    tags: list[str]
    tag: np.ndarray
    step: np.ndarray
    value: np.ndarray
    wall: np.ndarray
    notes: list[str]


def merge_folder(folder: str, files: list[FileRows | None]) -> FolderRows:
    """Concatenate the rows of a folder's files (in :func:`.names.file_order_key` order; None for a
    file that gave nothing), then apply SessionLog.START and the plugin filter (see the module
    docstring). Shared by :func:`read` and the tail API."""
    tag_ids: dict[str, int] = {}
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("tag", "step", "value", "wall", "tensor")}
    starts: list[tuple[int, int]] = []
    decls: dict[str, str] = {}
    offset = 0
    for rows in files:
        if rows is None:
            continue
        remap = [tag_ids.setdefault(t, len(tag_ids)) for t in rows.tags]
        if remap == list(range(len(remap))):  # the first file, or files with the same tags
            parts["tag"].append(rows.tag)
        else:
            parts["tag"].append(np.array(remap, dtype=np.int32)[rows.tag])
        for k in ("step", "value", "wall", "tensor"):
            parts[k].append(getattr(rows, k))
        starts.extend((offset + at, s) for at, s in rows.starts)
        for t, plugin in rows.decls.items():
            decls.setdefault(t, plugin)
        offset += len(rows.tag)
    tags = list(tag_ids)
    if not offset:
        z = np.empty(0)
        return FolderRows(tags, np.empty(0, np.int32), np.empty(0, np.int64), z, z, [])
    tag, step, value, wall, tensor = (
        _cat(parts[k]) for k in ("tag", "step", "value", "wall", "tensor")
    )
    notes: list[str] = []
    where = folder or "run folder"
    keep = np.ones(len(tag), dtype=bool)
    # tensors of tags declared by another plugin are not scalars
    other = np.array([decls.get(t, "") not in ("", "scalars") for t in tags], dtype=bool)
    if other.any():
        drop = tensor & other[tag]
        if drop.any():
            keep &= ~drop
            names = sorted({tags[i] for i in np.unique(tag[drop]).tolist()})
            notes.append(
                f"{where}: {int(drop.sum())} one-element tensor(s) of non-scalar plugins skipped "
                f"({', '.join(names[:5])}{'...' if len(names) > 5 else ''})"
            )
    # SessionLog.START at step s: everything logged before it with step >= s is stale
    if starts:
        at = np.array([a for a, _ in starts], dtype=np.int64)
        st = np.array([s for _, s in starts], dtype=np.int64)
        suffix_min = np.minimum.accumulate(st[::-1])[::-1]
        j = np.searchsorted(at, np.arange(len(tag)), side="right")
        has = j < len(at)
        thr = np.full(len(tag), np.iinfo(np.int64).max, dtype=np.int64)
        thr[has] = suffix_min[j[has]]
        stale = keep & (step >= thr)
        if stale.any():
            keep &= ~stale
            later = sorted(set(st[at > 0].tolist()))
            notes.append(
                f"{where}: SessionLog.START (a session restarted at step "
                f"{', '.join(str(s) for s in later[:5])}{'...' if len(later) > 5 else ''}): "
                f"{int(stale.sum())} point(s) logged before it at or after that step were dropped "
                "(replaced by the resumed session)"
            )
    if notes:  # something was dropped
        tag, step, value, wall = tag[keep], step[keep], value[keep], wall[keep]
    return FolderRows(tags, tag, step, value, wall, notes)


def folder_of(path: Path, base: Path) -> str:
    """The folder of an event file relative to the run folder ``base`` (``""``: ``base`` itself,
    and a sibling of it: the ``version_N`` folder a resumed Lightning run went on in)."""
    if path.parent == base or (path.parent.parent == base.parent and path.parent.parent != base):
        return ""
    folder = _name(path.parent, base)
    return "" if folder == "." else folder


class RunRows:
    """The rows of a run's folders (added in folder order), tags prefixed by their folder;
    :meth:`frame` makes the canonical frame of them. Shared by :func:`read` and the tail API."""

    def __init__(self) -> None:
        self.name_ids: dict[str, int] = {}
        self.cols: dict[str, list[np.ndarray]] = {"tag": [], "step": [], "value": [], "wall": []}

    def __bool__(self) -> bool:
        return bool(self.cols["tag"])

    def add(self, folder: str, merged: FolderRows) -> None:
        if not len(merged.tag):
            return
        name_ids = self.name_ids
        remap = np.array(
            [name_ids.setdefault(prefixed_tag(folder, t), len(name_ids)) for t in merged.tags],
            dtype=np.int64,
        )
        self.cols["tag"].append(remap[merged.tag])
        self.cols["step"].append(merged.step)
        self.cols["value"].append(merged.value)
        self.cols["wall"].append(merged.wall)

    @overload
    def frame(self, run: str, *, lite: Literal[False] = ...) -> tuple[pd.DataFrame, list[str]]: ...

    @overload
    def frame(self, run: str, *, lite: bool) -> tuple[pd.DataFrame | NumpyTable, list[str]]: ...

    def frame(self, run: str, *, lite: bool = False) -> tuple[pd.DataFrame | NumpyTable, list[str]]:
        """The canonical frame (restarts resolved by :func:`assemble`, Ultralytics' extra point
        after the last epoch left out by :func:`.ultralytics.drop_final_validation`) and the
        notes; ``lite``: a :class:`~analyzer.readers.base.NumpyTable` when pandas is not needed."""
        if not self:
            return make_frame(run, [], [], [], []), []
        cols = self.cols
        wall = _cat(cols["wall"]).copy()
        wall[wall == 0.0] = np.nan  # proto3: a wall time that was never set reads as 0
        frame, notes = assemble(
            run,
            list(self.name_ids),
            _cat(cols["tag"]),
            _cat(cols["step"]),
            _cat(cols["value"]),
            wall,
            lite=lite,
        )
        if looks_like_ultralytics(self.name_ids):
            if isinstance(frame, NumpyTable):
                frame, more = drop_final_validation_table(frame)
            else:
                frame, more = drop_final_validation(frame)
            notes.extend(more)
        return frame, notes


#: :func:`read` can return its table as a :class:`~analyzer.readers.base.NumpyTable` (``lite``)
READS_TABLE = True


def read(
    run: str, paths: list[Path], base: Path, *, fast: bool = True, lite: bool = False
) -> ReadResult:
    """Read all event files of one run (see the module docstring). ``fast=False`` decodes every
    record with the protobuf classes (the reference the fast path is tested against).
    ``lite``: the table may be a :class:`~analyzer.readers.base.NumpyTable` (numpy columns, no
    pandas), as a check reads it; else always a DataFrame."""
    base = Path(base)
    by_folder: dict[str, list[Path]] = {}
    for p in paths:
        p = Path(p)
        by_folder.setdefault(folder_of(p, base), []).append(p)

    result = ReadResult(frame=None)  # type: ignore[arg-type]  # set below, or ReadError
    problems: list[tuple[str, str]] = []
    table = RunRows()
    hparams: dict[str, Any] = {}
    n_empty = 0
    for folder in sorted(by_folder):
        files = sorted(by_folder[folder], key=file_order_key)
        results = []
        for p in files:
            res = read_file(p, _name(p, base), fast=fast)
            result.files.append(str(p))
            result.notes.extend(res.notes)
            if res.skipped:
                result.skipped.append((str(p), res.skipped))
            if res.problem:
                problems.append((str(p), res.problem))
            if res.rows is not None:
                if not len(res.rows.tag) and not res.skipped:
                    n_empty += 1
                for k, v in res.rows.hparams.items():
                    if k in hparams and hparams[k] != v:
                        result.notes.append(
                            f"{_name(p, base)}: hyper-parameter {k!r} changed from "
                            f"{hparams[k]!r} to {v!r}"
                        )
                    hparams[k] = v
            results.append(res)
        merged = merge_folder(folder, [r.rows for r in results])
        result.notes.extend(merged.notes)
        table.add(folder, merged)
    result.hparams = hparams

    if not table:
        if problems:
            path, reason = problems[0]
            if len(problems) > 1:
                reason = f"{reason} (and {len(problems) - 1} more damaged or unreadable file(s))"
            raise ReadError(path, reason)
        result.frame = make_frame(run, [], [], [], [])
        result.notes.append(
            f"no scalar data in {len(result.files)} event file(s)"
            if result.files
            else "no event files"
        )
        return result
    if n_empty:
        result.notes.append(f"{n_empty} event file(s) held no scalar data")
    frame, notes = table.frame(run, lite=lite)
    result.frame = frame  # type: ignore[assignment]  # a NumpyTable when lite
    result.notes.extend(notes)
    return result


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
