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
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a DataFrame is made: a TensorBoard run read for
    # a check needs none (see NumpyTable)
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
    """What a reader returns for one run (``frame``: a :class:`NumpyTable` when a reader that
    declares ``READS_TABLE`` was asked with ``lite=True`` and needed no pandas)."""

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
    points = Points()
    for f in frames:
        points.add_frame(f)
    result.frame, notes = points.frame(run)
    result.notes.extend(notes)
    return result


#: the largest magnitude a step may have (inside int64)
STEP_MAX = 9.2e18


def step_ok(values: np.ndarray) -> np.ndarray:
    """Mask of the values that can be a step: finite and inside int64 (a logged 1e19 cannot,
    and casting it would wrap to a negative step that looks like a restart)."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(v) & (np.abs(v) < STEP_MAX)


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
    import pandas as pd

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
    import pandas as pd

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
        note = _tag_restarts(tag, steps_all[idx], keep, idx)
        if note:
            notes.append(note)
    out = frame[keep]
    out = out.sort_values(["tag", "step"], kind="stable").reset_index(drop=True)
    return out, notes


def _tag_restarts(tag: Any, steps: np.ndarray, keep: np.ndarray, idx: Any) -> str | None:
    """Resolve the restarts of one tag whose rows are ``idx`` (in logged order, ``steps`` their
    steps): clear ``keep`` at the rows a later session replaced; the note, None when the step
    never goes back."""
    if len(steps) < 2:
        return None
    # a session starts where the step drops below the step logged just before it (as
    # TensorBoard's purge compares with the most recent step): the rows after a restart
    # that are still below the earlier session's last step belong to the new session
    backward = np.zeros(len(steps), dtype=bool)
    backward[1:] = steps[1:] < steps[:-1]
    if not backward.any():
        return None
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
    return (
        f"{tag}: {restarts} restart(s) detected (step went back to "
        f"{', '.join(str(int(s)) for s in steps[backward][:5])}"
        f"{'...' if restarts > 5 else ''}); {dropped} point(s) logged before the restart "
        "were replaced by the resumed run"
    )


def _restarts_by_code(
    names: np.ndarray, code: np.ndarray, step: np.ndarray, by_tag: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """:func:`apply_restarts` of rows in logged order whose tags are ``names[code]`` (strings),
    without a DataFrame (``by_tag``: the rows in a stable sort by code): the mask of the rows
    kept and the notes (one per tag whose step goes back, tags in the order they first appear,
    as ``groupby(sort=False)`` gives them)."""
    keep = np.ones(len(code), dtype=bool)
    c = code[by_tag]
    cuts = np.flatnonzero(c[1:] != c[:-1]) + 1
    s = step[by_tag]
    back = np.flatnonzero((s[1:] < s[:-1]) & (c[1:] == c[:-1]))
    groups = np.split(by_tag, cuts)
    hit = np.unique(np.searchsorted(cuts, back, side="right"))  # the groups that go back
    notes = []
    for idx in sorted((groups[g] for g in hit.tolist()), key=lambda i: int(i[0])):
        note = _tag_restarts(names[code[idx[0]]], step[idx], keep, idx)
        if note:
            notes.append(note)
    return keep, notes


def build_frame(run: str, names: np.ndarray, code: np.ndarray, step, value, wall) -> pd.DataFrame:
    """The canonical frame (same columns and dtypes as :func:`make_frame`), built without
    per-row Python objects beyond the shared tag strings. The object columns are Series with an
    explicit dtype (pandas >= 3 would otherwise infer its string dtype); sharing one index makes
    the constructor skip aligning them."""
    import pandas as pd

    n = len(code)
    index = pd.RangeIndex(n)
    columns = [
        pd.Series(np.array([run], dtype=object).repeat(n), index, object, copy=False),
        pd.Series(names[code], index, object, copy=False),
        np.asarray(step, dtype=np.int64),
        np.asarray(value, dtype=np.float64),
        np.asarray(wall, dtype=np.float64),
    ]
    return pd.DataFrame(dict(zip(COLUMNS, columns, strict=True)), index=index, copy=False)


class NumpyTable:
    """The canonical long table as numpy columns, for a run read to be checked: what
    :func:`build_frame` makes of the same arguments, without importing pandas (0.2 s of a
    single run's check). Reading ``run.frame`` builds that DataFrame (:meth:`to_frame`);
    :meth:`column` gives a column as numpy. ``run_label``: the value of the ``run`` column when
    it was set afterwards (``DataFrame.assign(run=...)``, as :meth:`assign` records)."""

    __slots__ = ("run", "names", "code", "step", "value", "wall", "run_label")

    def __init__(self, run: str, names: np.ndarray, code, step, value, wall):
        self.run = run
        self.names = names
        self.code = code
        self.step = np.asarray(step, dtype=np.int64)
        self.value = np.asarray(value, dtype=np.float64)
        self.wall = np.asarray(wall, dtype=np.float64)
        self.run_label: str | None = None

    def __len__(self) -> int:
        return len(self.code)

    @property
    def empty(self) -> bool:
        return len(self.code) == 0

    def assign(self, *, run: str) -> NumpyTable:
        """A copy whose ``run`` column is ``run`` (as ``DataFrame.assign(run=run)``)."""
        out = NumpyTable(self.run, self.names, self.code, self.step, self.value, self.wall)
        out.run_label = run
        return out

    def column(self, name: str) -> np.ndarray:
        """One column as numpy (``tag`` and ``run``: object arrays of str)."""
        if name == "step":
            return self.step
        if name == "value":
            return self.value
        if name == "wall_time":
            return self.wall
        if name == "tag":
            return self.names[self.code]
        if name == "run":
            label = self.run if self.run_label is None else self.run_label
            return np.array([label], dtype=object).repeat(len(self.code))
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """The DataFrame :func:`build_frame` makes of the same rows (then ``assign``-ed)."""
        frame = build_frame(self.run, self.names, self.code, self.step, self.value, self.wall)
        return frame if self.run_label is None else frame.assign(run=self.run_label)


def column(frame: pd.DataFrame | NumpyTable, name: str) -> np.ndarray:
    """A column of a canonical table, DataFrame or :class:`NumpyTable`, as numpy."""
    if isinstance(frame, NumpyTable):
        return frame.column(name)
    return frame[name].to_numpy()


@overload
def assemble(
    run: str,
    names: list[str],
    code: np.ndarray,
    step: np.ndarray,
    value: np.ndarray,
    wall: np.ndarray,
    *,
    lite: Literal[False] = ...,
) -> tuple[pd.DataFrame, list[str]]: ...


@overload
def assemble(
    run: str,
    names: list[str],
    code: np.ndarray,
    step: np.ndarray,
    value: np.ndarray,
    wall: np.ndarray,
    *,
    lite: bool,
) -> tuple[pd.DataFrame | NumpyTable, list[str]]: ...


def assemble(
    run: str,
    names: list[str],
    code: np.ndarray,
    step: np.ndarray,
    value: np.ndarray,
    wall: np.ndarray,
    *,
    lite: bool = False,
) -> tuple[pd.DataFrame | NumpyTable, list[str]]:
    """Rows in logged order -> the canonical frame, restarts resolved as by
    :func:`apply_restarts` (``lite``: as a :class:`NumpyTable`).

    ``names`` are the tags (distinct), ``code`` each row's index into them.
    Same result as ``apply_restarts(make_frame(...))``, but that sorts and groups a column of
    Python strings; here tags are integer codes, sorted with an integer sort (a tag without a
    backward step is already in step order), and only the tags whose step goes back somewhere
    are resolved (:func:`_restarts_by_code`, the same sessions and notes), without pandas.
    """
    ntags = len(names)
    # renumber the tags in name order, so that sorting the codes sorts the names
    by_name = np.argsort(np.array(names, dtype=object), kind="stable")
    obj = np.array([names[i] for i in by_name.tolist()], dtype=object)
    small = np.min_scalar_type(max(ntags - 1, 0))
    rank = np.empty(ntags, dtype=small)
    rank[by_name] = np.arange(ntags, dtype=small)
    code = rank[code]
    order = np.argsort(code, kind="stable")  # a radix sort: codes are small integers
    s = step[order]
    c = code[order]
    desc = np.flatnonzero((s[1:] < s[:-1]) & (c[1:] == c[:-1]))
    del s, c
    notes: list[str] = []
    if len(desc):  # a restart: resolved on the codes
        hit = np.zeros(ntags, dtype=bool)
        hit[code[order[desc + 1]]] = True  # the tags whose step goes back
        keep, notes = _restarts_by_code(obj, code, step, order)
        code, step, value, wall = code[keep], step[keep], value[keep], wall[keep]
        # by tag, and the rows of a tag that went back by step too (stable, as apply_restarts)
        order = np.argsort(code, kind="stable")
        rows = hit[code[order]]
        sub = order[rows]
        order[rows] = sub[np.lexsort((step[sub], code[sub]))]
    if lite:
        return NumpyTable(run, obj, code[order], step[order], value[order], wall[order]), notes
    return build_frame(run, obj, code[order], step[order], value[order], wall[order]), notes


class Points:
    """The rows of a run's long table while its files are read, kept as numpy columns: each
    row's tag is a code into :attr:`names`, so no Python string is made per row and no small
    DataFrame per file or per tag; :meth:`frame` builds the one table at the end (restarts
    resolved by :func:`assemble`), the same table as :func:`apply_restarts` on the rows
    concatenated in the order they were added."""

    __slots__ = ("names", "_ids", "_codes", "_steps", "_values", "_walls", "_tag_of", "_n")

    def __init__(self) -> None:
        self.names: list[str] = []
        self._ids: dict[str, int] = {}
        self._codes: list[np.ndarray] = []
        self._steps: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self._walls: list[np.ndarray] = []
        self._tag_of: list[int | None] = []  # per chunk: its one tag's code, None if several
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def _id(self, tag: str) -> int:
        i = self._ids.get(tag)
        if i is None:
            i = self._ids[tag] = len(self.names)
            self.names.append(tag)
        return i

    def _append(self, codes: np.ndarray, steps, values, walls, tag: int | None = None) -> None:
        n = len(codes)
        self._tag_of.append(tag)
        self._codes.append(codes)
        self._steps.append(np.asarray(steps, dtype=np.int64))
        self._values.append(np.asarray(values, dtype=np.float64))
        self._walls.append(
            np.full(n, np.nan) if walls is None else np.asarray(walls, dtype=np.float64)
        )
        self._n += n

    def add(self, tag: str, steps, values, walls=None) -> None:
        """Rows of one tag (``walls`` None: wall times unknown)."""
        n = len(steps)
        if n:
            i = self._id(tag)
            self._append(np.full(n, i, dtype=np.int64), steps, values, walls, i)

    def add_codes(self, names: list[str], codes: list[int], steps, values) -> None:
        """Rows of several tags: ``codes`` index ``names`` (wall times unknown)."""
        if codes:
            remap = np.array([self._id(t) for t in names], dtype=np.int64)
            self._append(remap[np.array(codes, dtype=np.int64)], steps, values, None)

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The rows as (tag, step, value, wall time) arrays, in the order they were added."""
        names = np.array(self.names + [""], dtype=object)[:-1]  # 1-D even for tuple tags
        code, step, value, wall = (
            np.concatenate(p) if p else np.empty(0, dtype)
            for p, dtype in (
                (self._codes, np.int64),
                (self._steps, np.int64),
                (self._values, np.float64),
                (self._walls, np.float64),
            )
        )
        return names[code], step, value, wall

    def extend(self, other: Points) -> None:
        """The rows of ``other``, after those already here."""
        if not len(other):
            return
        remap = np.array([self._id(t) for t in other.names], dtype=np.int64)
        for c, s, v, w, t in zip(
            other._codes, other._steps, other._values, other._walls, other._tag_of, strict=True
        ):
            self._append(remap[c], s, v, w, None if t is None else int(remap[t]))

    def add_frame(self, frame: pd.DataFrame) -> None:
        """The rows of a canonical table, in its order."""
        import pandas as pd

        if frame.empty:
            return
        codes, uniques = pd.factorize(frame["tag"].to_numpy(dtype=object), use_na_sentinel=False)
        remap = np.array([self._id(t) for t in uniques], dtype=np.int64)
        self._append(
            remap[codes],
            frame["step"].to_numpy(),
            frame["value"].to_numpy(),
            frame["wall_time"].to_numpy(),
        )

    def without_repeats(self) -> tuple[Points, int]:
        """The rows with a repeated (tag, step, value) kept once, at its last place, and how
        many were dropped: ``DataFrame.drop_duplicates(["tag", "step", "value"], keep="last")``
        of the rows in the order they were added (as pandas, NaN equals NaN and -0.0 equals
        0.0; the row kept is the last, with its own value)."""
        out = Points()
        if not self._n:
            return out, 0
        code = np.concatenate(self._codes)
        step = np.concatenate(self._steps)
        value = np.concatenate(self._values)
        wall = np.concatenate(self._walls)
        key = value.copy()
        key[key == 0.0] = 0.0  # -0.0 -> 0.0
        key[np.isnan(key)] = np.nan  # one NaN
        rows = np.stack([code, step, key.view(np.int64)], axis=1)[::-1]
        _, first = np.unique(rows, axis=0, return_index=True)  # first of each, from the end
        keep = np.sort(len(code) - 1 - first)
        out.names = list(self.names)
        out._ids = dict(self._ids)
        if len(keep) == len(code):
            out._append(code, step, value, wall)
        else:
            out._append(code[keep], step[keep], value[keep], wall[keep])
        return out, len(code) - len(keep)

    @overload
    def frame(self, run: str, *, lite: Literal[False] = ...) -> tuple[pd.DataFrame, list[str]]: ...

    @overload
    def frame(self, run: str, *, lite: bool) -> tuple[pd.DataFrame | NumpyTable, list[str]]: ...

    def frame(self, run: str, *, lite: bool = False) -> tuple[pd.DataFrame | NumpyTable, list[str]]:
        """The canonical table of the rows and the restart notes (:func:`apply_restarts`);
        ``lite``: a :class:`NumpyTable` when pandas is not needed (no tag's step goes back)."""

        def cat(parts: list[np.ndarray]) -> np.ndarray:
            return parts[0] if len(parts) == 1 else np.concatenate(parts)

        if not self._n:
            return make_frame(run, [], [], [], []), []
        if all(type(t) is str for t in self.names) and None not in self._tag_of:
            done = self._frame_by_chunks(run, lite)
            if done is not None:
                return done, []
        code, step = cat(self._codes), cat(self._steps)
        value, wall = cat(self._values), cat(self._walls)
        if not all(type(t) is str for t in self.names):  # tags that may not compare: pandas
            names = np.array(self.names, dtype=object)
            return apply_restarts(make_frame(run, names[code], step, value, wall), run)
        return assemble(run, self.names, code, step, value, wall, lite=lite)

    def _frame_by_chunks(self, run: str, lite: bool = False) -> pd.DataFrame | NumpyTable | None:
        """:func:`assemble`'s table when every chunk holds one tag and no tag's step goes back
        (nearly every run): the chunks are put in tag order whole (a stable sort of chunks,
        not of rows); None when some step goes back (then :func:`assemble` decides).
        ``lite``: as a :class:`NumpyTable`."""
        names = self.names
        by_name = sorted(range(len(names)), key=names.__getitem__)
        rank = [0] * len(names)
        for r, i in enumerate(by_name):
            rank[i] = r
        tag_of = [rank[t] for t in self._tag_of if t is not None]
        order = sorted(range(len(tag_of)), key=tag_of.__getitem__)
        steps = self._steps
        last: tuple[int, int] | None = None  # (tag, last step) of the chunk before
        for k in order:
            s = steps[k]
            if (s[1:] < s[:-1]).any() or (
                last is not None and last[0] == tag_of[k] and s[0] < last[1]
            ):
                return None
            last = (tag_of[k], int(s[-1]))
        code = np.repeat(
            np.array([tag_of[k] for k in order], dtype=np.int64),
            [len(steps[k]) for k in order],
        )

        def cat(parts: list[np.ndarray]) -> np.ndarray:
            return parts[order[0]] if len(order) == 1 else np.concatenate([parts[k] for k in order])

        obj = np.array([names[i] for i in by_name], dtype=object)
        if lite:
            return NumpyTable(run, obj, code, cat(steps), cat(self._values), cat(self._walls))
        return build_frame(run, obj, code, cat(steps), cat(self._values), cat(self._walls))
