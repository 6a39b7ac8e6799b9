"""Cheap looks at an event file's steps without reading it: the step of the first scalar in its
head and of the last scalar in its tail (a bounded number of bytes each). Discovery uses them to
tell a resumed run continued in a new folder (Lightning's ``version_N`` after ``ckpt_path=…``:
its steps go on after the previous folder's) from a new run (its steps start again).

Lightning's ``hp_metric`` does not count: its TensorBoardLogger logs that placeholder (-1, for
the HParams dashboard) at step 0 of every version folder of a module that saves its
hyper-parameters, resumed or not."""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from pathlib import Path

from .events import EventItems, parse_event
from .framing import HEADER, OVERHEAD, masked_crc

#: bytes read from the head or the tail of a file
WINDOW = 1 << 16
#: tags whose step says nothing about where a session started
PLACEHOLDER_TAGS = frozenset({"hp_metric"})
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


def _record_at(data: bytes, pos: int) -> int | None:
    """Length of a record starting at ``pos`` whose length and payload checksums are valid."""
    if pos + OVERHEAD > len(data):
        return None
    (length,) = _U64.unpack_from(data, pos)
    if length > len(data) - pos - OVERHEAD:
        return None
    if masked_crc(data[pos : pos + 8]) != _U32.unpack_from(data, pos + 8)[0]:
        return None
    start = pos + HEADER
    if masked_crc(data[start : start + length]) != _U32.unpack_from(data, start + length)[0]:
        return None
    return length


def _events(data: bytes, pos: int) -> Iterator[EventItems]:
    """The parsed events of the whole records from ``pos`` on, in order (lazily)."""
    while True:
        length = _record_at(data, pos)
        if length is None:
            return
        items = parse_event(data[pos + HEADER : pos + HEADER + length])
        if items is not None:
            yield items
        pos += OVERHEAD + length


def _scalar_steps(data: bytes, pos: int) -> Iterator[int]:
    """Steps of the events with scalars (other than placeholders) from ``pos`` on."""
    for items in _events(data, pos):
        if any(tag not in PLACEHOLDER_TAGS for tag, _, _ in items.rows):
            yield items.step


def _head(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(WINDOW)
    except OSError:
        return None


def first_step(path: Path) -> int | None:
    """Step of the first scalar in the first :data:`WINDOW` bytes of an event file, or None
    (the records after it are not parsed)."""
    head = _head(path)
    return None if head is None else next(_scalar_steps(head, 0), None)


def first_value(path: Path, tag: str) -> float | None:
    """The first value of ``tag`` in the first :data:`WINDOW` bytes of an event file, or None."""
    head = _head(path)
    for items in _events(head, 0) if head is not None else ():
        for t, x, _ in items.rows:
            if t == tag:
                return x
    return None


def last_step(path: Path) -> int | None:
    """Largest step of the scalars in the last :data:`WINDOW` bytes of an event file (whole
    records found by their checksums), or None."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - WINDOW))
            tail = fh.read()
    except OSError:
        return None
    for pos in range(0, max(0, len(tail) - OVERHEAD) + 1):
        if _record_at(tail, pos) is not None:  # the first whole record of the window
            return max(_scalar_steps(tail, pos), default=None)
    return None


def files_first_step(files: Sequence[Path]) -> int | None:
    """:func:`first_step` of the first of ``files`` (in the order written) that has a scalar."""
    for f in files:
        s = first_step(f)
        if s is not None:
            return s
    return None


def files_last_step(files: Sequence[Path]) -> int | None:
    """:func:`last_step` of the last of ``files`` (in the order written) that has a scalar."""
    for f in reversed(files):
        s = last_step(f)
        if s is not None:
            return s
    return None
