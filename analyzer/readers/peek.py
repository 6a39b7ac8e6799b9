"""Cheap looks into log files for discovery: how far a run got, without reading it.

Discovery chooses among a Hugging Face output folder's ``trainer_state.json`` copies and joins
Lightning ``version_N`` folders that continue one another; it does so with these functions,
which read a few bytes (or one small JSON file) with the standard library only. They live apart
from the readers so that discovery, and with it ``curvelint check`` answered from the result
cache, imports neither numpy nor pandas.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

#: bytes :func:`step_span` reads from the head and from the tail of a file
SPAN_WINDOW = 1 << 16


def _column(lines: list[str], col: int) -> list[float]:
    out = []
    for ln in lines:
        cells = ln.rstrip("\r").split(",")
        if len(cells) > col:
            try:
                out.append(float(cells[col]))
            except ValueError:  # an empty cell, a cut line, a second header
                continue
    return out


def step_span(path: Path) -> tuple[int, int, float | None] | None:
    """The first and the largest logged ``step`` of a ``metrics.csv`` and its first ``epoch``
    (None without that column), from its header and its first and last :data:`SPAN_WINDOW`
    bytes: discovery's look at where a session started and ended, without reading the file.
    None when that cannot be told."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(SPAN_WINDOW)
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - SPAN_WINDOW))
            tail = fh.read()
    except OSError:
        return None
    head_lines = head.decode("utf-8", "replace").split("\n")
    header = [c.strip() for c in head_lines[0].lstrip("\ufeff").rstrip("\r").split(",")]
    if "step" not in header:
        return None
    first = _column(head_lines[1:], header.index("step"))
    tail_lines = tail.decode("utf-8", "replace").split("\n")[1:]  # the header or a cut line
    last = _column(tail_lines, header.index("step"))
    if not first or not last:
        return None
    epochs = _column(head_lines[1:], header.index("epoch")) if "epoch" in header else []
    return int(first[0]), int(max(last)), (epochs[0] if epochs else None)


def state_progress(p: Path) -> float:
    """How far training had got when a trainer_state.json was written: its ``global_step``, or
    the last step of its ``log_history`` if later. -1 when it cannot be read (such a copy only
    wins when no other can be read either; the reader then says why)."""
    try:
        if p.stat().st_size > 256 * 2**20:
            return -1.0
        state = json.loads(p.read_bytes())
    except (OSError, ValueError, RecursionError):
        return -1.0
    if not isinstance(state, dict):
        return -1.0
    best = -1.0
    candidates = [state.get("global_step")]
    hist = state.get("log_history")
    if isinstance(hist, list) and hist and isinstance(hist[-1], dict):
        candidates.append(hist[-1].get("step"))
    for v in candidates:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            with contextlib.suppress(OverflowError):  # an integer beyond any float
                best = max(best, float(v))
    return best
