"""The reader of text training logs (format ``text``): each file's lines parsed by
:mod:`analyzer.readers.console` (which infers their shape), one table per run. Kept apart from the
parser, which the sniffer uses while discovering files, so that the sniffer does not import the
table readers."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .base import Points, ReadError, ReadResult
from .columns import read_files, tag_prefix
from .console import _terminal_bytes_out, parse_lines, text_lines
from .text import binary_reason, strip_nul_tail

FORMAT = "text"


def _read_one(run: str, path: Path, base: Path, result: ReadResult) -> Points:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ReadError(path, f"cannot read: {e.strerror or e}") from e
    kept, _ = strip_nul_tail(raw)
    if not kept.strip():
        raise ReadError(path, "empty file" + (" (0 bytes)" if not raw else ""))
    why = binary_reason(_terminal_bytes_out(kept))
    if why:
        raise ReadError(path, why.replace("text table", "text training log"))
    lines = text_lines(raw)
    parsed, why = parse_lines(lines, complete=True)
    if parsed is None:
        raise ReadError(path, f"not a training log: {why}")
    name = path.name
    nonblank = sum(1 for ln in lines if ln.strip())
    result.notes.append(f"{name}: line shape: {parsed.shape}; step = {parsed.axis}")
    ignored = nonblank - parsed.lines_used
    if parsed.family == "lines" and ignored > 0:
        result.notes.append(f"{name}: {ignored} other line(s) ignored")
    result.notes.extend(f"{name}: {n}" for n in parsed.notes)
    prefix = tag_prefix(path, base)
    tags: Iterable[str] = parsed.tags
    if prefix:
        tags = [prefix + t for t in parsed.tags]
    ids: dict[str, int] = {}  # tag -> code, in the order the tags first appear
    codes = [ids.setdefault(t, len(ids)) for t in tags]
    points = Points()
    points.add_codes(list(ids), codes, np.asarray(parsed.steps, dtype=np.int64), parsed.values)
    return points


#: :func:`read` can return its table as a :class:`~analyzer.readers.base.NumpyTable` (``lite``)
READS_TABLE = True


def read(run: str, paths: list[Path], base: Path, *, lite: bool = False) -> ReadResult:
    """Read text training logs of one run (several files = one resumed run, in order).
    ``lite``: the table may be a :class:`~analyzer.readers.base.NumpyTable` (as a check reads it)."""
    return read_files(run, paths, base, _read_one, FORMAT, lite=lite)
