"""The contract every reader keeps.

A reader turns the files of one run into the canonical long table

    run (str) | tag (str) | step (int64) | value (float64) | wall_time (float64, NaN if unknown)

sorted by tag then step (rows of one tag in the order the run logged them), plus notes that say
what was read, what was skipped and why. Readers never raise for a damaged file: they note it and
read the rest. They only raise :class:`ReadError` when none of the run's files gave anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ["run", "tag", "step", "value", "wall_time"]


class ReadError(Exception):
    """Nothing could be read from a run's files; the message says which file and why."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass
class ReadResult:
    """What a reader returns for one run."""

    frame: pd.DataFrame
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    hparams: dict[str, Any] = field(default_factory=dict)
    # (path, reason) for files of this run that could not be used at all
    skipped: list[tuple[str, str]] = field(default_factory=list)


def read_bytes(path: Path) -> bytes:
    """The bytes of a log file; :class:`ReadError` naming it when it cannot be read or is empty."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ReadError(path, f"cannot read: {e.strerror or e}") from e
    if not data:
        raise ReadError(path, "empty file (0 bytes)")
    return data


def finish(result: ReadResult, frames: list[pd.DataFrame], run: str) -> ReadResult:
    """``result`` with the points of ``frames`` (one table, restarts applied and noted)."""
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame, notes = apply_restarts(frame, run)
    result.frame = frame
    result.notes.extend(notes)
    return result


def step_ok(values: np.ndarray) -> np.ndarray:
    """Mask of the values that can be a step: finite and inside int64 (a logged 1e19 cannot,
    and casting it would wrap to a negative step that looks like a restart)."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(v) & (np.abs(v) < 9.2e18)


_EMPTY: pd.DataFrame | None = None


def empty_frame() -> pd.DataFrame:
    """A new empty canonical table (a copy of one built once: building a DataFrame from
    columns costs ~1 ms, and every reader starts with one)."""
    global _EMPTY
    if _EMPTY is None:
        _EMPTY = make_frame("", [], [], [], [])
    return _EMPTY.copy()


def make_frame(run: str, tags, steps, values, wall_times=None) -> pd.DataFrame:
    """Build the canonical table from parallel sequences (tags may be a scalar string)."""
    steps = np.asarray(steps, dtype=np.int64)
    n = len(steps)
    values = np.asarray(values, dtype=np.float64)
    if wall_times is None:
        wall_times = np.full(n, np.nan)
    wall_times = np.asarray(wall_times, dtype=np.float64)
    if isinstance(tags, str):
        tags = [tags] * n
    return pd.DataFrame(
        {
            "run": pd.Series([run] * n, dtype=object),
            "tag": pd.Series(list(tags), dtype=object),
            "step": steps,
            "value": values,
            "wall_time": wall_times,
        },
        columns=COLUMNS,
    )


#: the steps a restart note lists: apply_restarts's and the TensorBoard reader's SessionLog.START
_RESTART_NOTES = (
    re.compile(r"restart\(s\) detected \(step went back to ([0-9][0-9, ]*)"),
    re.compile(r"SessionLog\.START \(a session restarted at step ([0-9][0-9, ]*)"),
)


def restart_steps(notes: Iterable[str], limit: int = 10) -> list[int]:
    """The steps at which a run was resumed, as its restart notes (made by
    :func:`apply_restarts` and the TensorBoard reader) list them, sorted, at most ``limit``: the
    HTML report marks them on the run's charts. Both notes name the first step of each resumed
    session, up to five a note."""
    out: set[int] = set()
    for n in notes:
        for rx in _RESTART_NOTES:
            m = rx.search(n)
            if m:
                out.update(int(s) for s in m.group(1).replace(" ", "").split(",") if s)
    return sorted(out)[:limit]


def apply_restarts(frame: pd.DataFrame, run_label: str = "") -> tuple[pd.DataFrame, list[str]]:
    """Resolve restarts the way TensorBoard does, per tag, and say what was replaced.

    Rows of one tag are taken in the order they were logged (file order, then record order).
    A row whose step is lower than the step of the row before it for that tag starts a new
    *session* (training was resumed from an earlier checkpoint); the note counts sessions, not
    the rows of the resumed session that repeat earlier steps. When a session starts at step
    ``s``, every point of the earlier sessions with step >= ``s`` is dropped: the resumed training
    replaced them. Equal steps inside one session (several values logged for one step) are kept.
    The result is sorted by tag and step (stable, so equal steps keep their logged order).
    """
    notes: list[str] = []
    if frame.empty:
        return frame, notes
    keep = np.ones(len(frame), dtype=bool)
    steps_all = frame["step"].to_numpy()
    try:
        codes, _ = pd.factorize(frame["tag"].to_numpy(), sort=True)
    except TypeError:  # tags that do not compare (not all strings): pandas decides
        return _apply_restarts_pandas(frame, keep, steps_all, notes)
    if (codes < 0).any():  # a missing tag: pandas' own sort puts it last
        return _apply_restarts_pandas(frame, keep, steps_all, notes)
    # rows of each tag in logged order; a session starts where a tag's step goes back
    by_tag = np.argsort(codes, kind="stable")
    s, c = steps_all[by_tag], codes[by_tag]
    if not ((c[1:] == c[:-1]) & (s[1:] < s[:-1])).any():
        # no restart (nearly every run): sort by tag and step (stable), as the pandas path
        order = np.lexsort((steps_all, codes))
        return frame.take(order).reset_index(drop=True), notes
    return _apply_restarts_pandas(frame, keep, steps_all, notes)


def _apply_restarts_pandas(
    frame: pd.DataFrame, keep: np.ndarray, steps_all: np.ndarray, notes: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    for tag, idx in frame.groupby("tag", sort=False).indices.items():
        steps = steps_all[idx]
        if len(steps) < 2:
            continue
        # a session starts where the step drops below the step logged just before it (as
        # TensorBoard's purge compares with the most recent step): the rows after a restart
        # that are still below the earlier session's last step belong to the new session
        backward = np.zeros(len(steps), dtype=bool)
        backward[1:] = steps[1:] < steps[:-1]
        if not backward.any():
            continue
        session = np.cumsum(backward)
        n_sessions = session[-1] + 1
        starts = np.full(n_sessions, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(starts, session, steps)
        # smallest start of any LATER session, per session
        later_min = np.full(n_sessions, np.iinfo(np.int64).max, dtype=np.int64)
        later_min[:-1] = np.minimum.accumulate(starts[::-1])[::-1][1:]
        tag_keep = steps < later_min[session]
        dropped = int((~tag_keep).sum())
        keep[idx] = tag_keep
        restarts = int(backward.sum())
        notes.append(
            f"{tag}: {restarts} restart(s) detected (step went back to "
            f"{', '.join(str(int(s)) for s in steps[backward][:5])}"
            f"{'...' if restarts > 5 else ''}); {dropped} point(s) logged before the restart "
            "were replaced by the resumed run"
        )
    out = frame[keep]
    out = out.sort_values(["tag", "step"], kind="stable").reset_index(drop=True)
    return out, notes
