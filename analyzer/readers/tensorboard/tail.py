"""The tail API: follow event files that are still being written.

:class:`EventTail` follows one event file. It remembers the byte offset after the last complete
record it read; each :meth:`EventTail.poll` reads only the bytes appended since, walks and checks
their framing with the batch reader's code (:mod:`.framing`: the same checksums, the same resync
over a corrupt or lying length field), decodes the complete records with :func:`.decode_file` and
returns the new scalar rows plus messages about damage in those bytes. A partial last record is
not damage here: it is left for the next poll. A file whose inode changed, that shrank or whose
first bytes changed was replaced: the tail forgets what it read and starts again from byte 0.

What a poll returns are the rows *as logged*, with the plugin filter applied as far as the file's
plugin declarations so far tell. Which points a restart replaces (``SessionLog.START``, a step that
goes back) and which tensors a declaration in *another* file of the folder excludes can only be
decided over the whole run, and may remove rows returned by an earlier poll: :func:`tail_frame`
builds the run's frame from everything its tails have read, with the batch reader's own
:func:`.reader.merge_folder` and :class:`.reader.RunRows`, so it equals what
:func:`.reader.read` gives for the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..base import make_frame
from .decode import FileRows, concat_rows, decode_file
from .framing import Buffer, verify_payloads, walk
from .names import file_order_key, prefixed_tag
from .reader import (
    RunRows,
    bad_checksum_note,
    folder_of,
    framing_damage,
    merge_folder,
    undecodable_note,
)

HEAD_BYTES = 64  # bytes compared to detect a file replaced in place
FAST_MIN_RECORDS = 64  # fewer new records are parsed one by one (the fast path gains nothing)


@dataclass
class TailPoll:
    """What one :meth:`EventTail.poll` found. True when scalar rows were read (even ones the plugin
    filter leaves out: a declaration in another file may let them in) or the file was reset.

    ``rows``: the new scalar rows in the canonical columns (see :mod:`analyzer.readers.base`),
    in logged order, tags prefixed by the file's sub-folder; ``notes``: damage in the new bytes,
    worded as the batch reader words it; ``starts``: steps of the ``SessionLog.START`` events among
    the new records; ``read``: scalar rows decoded, before the plugin filter; ``reset``: the file
    was replaced and is read again from the start (rows of earlier polls are void)."""

    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    read: int = 0
    reset: bool = False

    def __bool__(self) -> bool:
        return self.reset or self.read > 0


class EventTail:
    """Follows one event file (see the module docstring).

    ``base`` is the run folder (a file in a sub-folder of it gets the sub-folder as tag prefix, as
    in :func:`.reader.read`); ``run`` fills the ``run`` column of the rows a poll returns.
    """

    def __init__(self, path: str | Path, base: str | Path | None = None, run: str = "") -> None:
        self.path = Path(path)
        self.run = run
        self.folder = folder_of(self.path, Path(base)) if base is not None else ""
        self.label = f"{self.folder}/{self.path.name}" if self.folder else self.path.name
        self.ino = -1
        self.offset = 0  # file offset after the last complete record read
        self.head = b""  # the first bytes read, to notice a file replaced in place
        self.resets = 0
        self.bad_records = 0  # bad checksum, or not an Event
        self.skipped_bytes = 0  # skipped to resynchronise after a corrupt length field
        self.damaged_at: int | None = None  # file offset of the last corrupt length field seen
        self.hparams: dict[str, Any] = {}
        self._parts: list[FileRows] = []
        self._stop_reported: int | None = None

    # --- what was read so far ------------------------------------------------------------------
    @property
    def rows(self) -> FileRows:
        """Every row read from the file so far (since the last reset), as :func:`.decode_file`
        gives them for the whole file."""
        rows = concat_rows(self._parts)
        self._parts = [rows]
        return rows

    @property
    def step(self) -> list[int]:
        return self.rows.step.tolist()

    @property
    def value(self) -> list[float]:
        return self.rows.value.tolist()

    @property
    def stopped(self) -> bool:
        """Reading stopped at a corrupt length field with no valid record after it (yet)."""
        return self.damaged_at is not None and self.damaged_at >= self.offset

    def reset(self) -> None:
        """Forget what was read: the next poll reads the file from byte 0."""
        self.offset, self.head, self.damaged_at, self.skipped_bytes = 0, b"", None, 0
        self._parts.clear()
        self.hparams.clear()
        self._stop_reported = None
        self.resets += 1

    # --- reading -------------------------------------------------------------------------------
    def poll(self) -> TailPoll:
        """Read the complete records appended since the last poll."""
        try:
            st = self.path.stat()
        except OSError:
            return TailPoll(self._frame(None))
        reset = False
        with open(self.path, "rb") as fh:
            if self.offset:
                replaced = st.st_ino != self.ino or st.st_size < self.offset
                if not replaced and self.head:
                    replaced = fh.read(len(self.head)) != self.head
                if replaced:
                    self.reset()
                    reset = True
            self.ino = st.st_ino
            if st.st_size <= self.offset:
                return TailPoll(self._frame(None), reset=reset)
            fh.seek(self.offset)
            data = fh.read(st.st_size - self.offset)
        buf = Buffer.from_bytes(data)
        fr = walk(buf)
        notes = []
        for (a, b), msg in zip(
            fr.corrupt_regions, framing_damage(fr, buf.size, self.offset), strict=True
        ):
            self.damaged_at = self.offset + a
            if a != fr.stopped_at:
                self.skipped_bytes += b - a
            elif self._stop_reported == self.damaged_at:
                continue  # still stuck at the same place: said already
            else:
                self._stop_reported = self.damaged_at
            notes.append(f"{self.label}: {msg}")
        ok = verify_payloads(buf, fr.offsets, fr.lengths)
        nbad = int(len(ok) - np.count_nonzero(ok))
        if nbad:
            notes.append(f"{self.label}: {bad_checksum_note(nbad)}")
        starts, ends = fr.payload_starts[ok], fr.payload_ends[ok]
        new = decode_file(buf, starts, ends, fast=len(starts) >= FAST_MIN_RECORDS)
        if new.undecodable:
            notes.append(f"{self.label}: {undecodable_note(new.undecodable)}")
        self.bad_records += nbad + new.undecodable
        self.hparams.update(new.hparams)
        pos = next((x for x in (fr.stopped_at, fr.partial_at) if x is not None), len(data))
        if pos:
            if self.offset == 0:
                self.head = data[: min(HEAD_BYTES, pos)]
            self.offset += pos
        before = self.rows  # declarations of earlier polls come first
        self._parts.append(new)
        return TailPoll(
            self._frame(new, before.decls),
            notes,
            starts=[int(s) for _, s in new.starts],
            read=len(new.tag),
            reset=reset,
        )

    def _frame(self, new: FileRows | None, decls: dict[str, str] | None = None) -> pd.DataFrame:
        """The canonical frame of ``new`` rows, tensors of tags first declared by another plugin
        (in this file so far) left out."""
        if new is None or not len(new.tag):
            return make_frame(self.run, [], [], [], [])
        first = {**new.decls, **(decls or {})}
        other = np.array([first.get(t, "") not in ("", "scalars") for t in new.tags], dtype=bool)
        keep = ~(new.tensor & other[new.tag])
        wall = np.where(new.wall == 0.0, np.nan, new.wall)  # proto3: never set reads as 0
        names = [prefixed_tag(self.folder, t) for t in new.tags]
        return make_frame(
            self.run,
            [names[i] for i in new.tag[keep].tolist()],
            new.step[keep],
            new.value[keep],
            wall[keep],
        )


@dataclass
class TailFrame:
    """A run's frame from its tails (see :func:`tail_frame`)."""

    frame: pd.DataFrame
    restart_notes: list[str]  # steps that went back, as :func:`.reader.assemble` notes them
    folder_notes: list[str]  # SessionLog.START and plugin filter, as the batch reader notes them


def tail_frame(run: str, tails: Iterable[EventTail]) -> TailFrame:
    """The canonical frame of a run from what its tails have read so far, built exactly as
    :func:`.reader.read` builds it from the files: folders in name order, each folder's files in
    :func:`.names.file_order_key` order merged by :func:`.reader.merge_folder`
    (``SessionLog.START``, the plugin filter), tags prefixed, restarts resolved."""
    by_folder: dict[str, list[EventTail]] = {}
    for t in tails:
        by_folder.setdefault(t.folder, []).append(t)
    table = RunRows()
    folder_notes: list[str] = []
    for folder in sorted(by_folder):
        files = sorted(by_folder[folder], key=lambda t: file_order_key(t.path))
        merged = merge_folder(folder, [t.rows for t in files])
        folder_notes.extend(merged.notes)
        table.add(folder, merged)
    frame, restart_notes = table.frame(run)
    return TailFrame(frame, restart_notes, folder_notes)
