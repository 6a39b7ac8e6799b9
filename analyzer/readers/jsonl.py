"""JSON-lines logs (``*.jsonl``, ``*.ndjson``, and ``*.json`` files of that shape).

* one JSON object per line; nested objects are flattened with ``/`` (``{"train": {"loss": 1}}``
  -> tag ``train/loss``); numbers are points, strings/lists/booleans are skipped with a note.
* bare ``NaN``/``Infinity`` tokens (what Python's ``json.dumps`` writes) are logged values and
  kept; a key absent from a line is simply not logged there.
* step: a step-like key (``global_step``, ``step``, ``_step``, ``iteration``, ``iter``, ``epoch``,
  ``batch``…, see :data:`~analyzer.readers.sniff.STEP_NAMES`); lines without it take the step of
  the line before (e.g. an evaluation record written right after a training one). Without any
  step key the line number is the step. An ``epoch`` key that is not the step is kept as the tag
  ``epoch`` (an axis for mapping, not a curve): one point where the epoch changes, plus the last.
* wall time: a ``time``/``timestamp``/``_timestamp``/``wall_time`` key with Unix seconds or ms.
* lines that are not JSON objects are counted and noted, not fatal.
* a ``.json`` file holding one document is accepted too: a list of objects (one per step), a
  Keras ``History.history`` dict of lists (``{"loss": [..], "val_loss": [..]}``, step = index),
  or a Hugging Face ``trainer_state.json`` (handed to that reader).
* steps that go back are resolved by :func:`~analyzer.readers.base.apply_restarts`.
"""

from __future__ import annotations

import json
import math
from itertools import chain, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .base import Points, ReadError, ReadResult, step_ok
from .columns import (
    StepChoice,
    change_points,
    choose_step,
    find_column,
    read_files,
    tag_prefix,
    to_long,
    wall_time_column,
)
from .hparams import flatten
from .sniff import EPOCH_NAMES, STEP_NAMES, norm_name
from .table import Column, Table
from .text import decode_text, normalise_newlines

if TYPE_CHECKING:  # pandas reads only the records :func:`_plain_columns` leaves to it
    import pandas as pd

FORMAT = "jsonl"
_NAN_MARK = "\x00nan"  # a logged NaN, kept apart from "key absent"
_BAD = object()  # a line that is not JSON


def _parse_constant(token: str) -> Any:
    if token == "NaN":
        return _NAN_MARK
    return math.inf if token == "Infinity" else -math.inf


def _is_number(v: Any) -> bool:
    """A real number cell (not a bool, not the NaN pandas puts where a key was absent)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def _number_text(v: Any) -> float | None:
    """A number written as a string ("0.51", "nan", "inf", "-Infinity"), as loggers that
    serialise ``str(loss)`` or Python's NaN do; None for any other string."""
    if not isinstance(v, str) or len(v) > 40:
        return None
    t = v.strip()
    if not t or t == _NAN_MARK:
        return None
    try:
        return float(t)
    except ValueError:
        return None


_PLAIN_TYPES = frozenset((int, float, str, type(None)))


def _plain_columns(records: list[dict[str, Any]]) -> dict[str, Column] | None:
    """The columns of records whose values are all numbers, nulls, logged NaNs or numbers
    written as text (nearly every log), built from Python lists: the same columns as the pandas
    path of :func:`table_from_records` gives them, without a DataFrame and per-column
    conversions. None when some value is anything else (other text, a bool, a list, an integer
    beyond int64) or a column holds only nulls: the pandas path decides those."""
    columns: dict[str, Column] = {}
    n = len(records)
    for key in dict.fromkeys(chain.from_iterable(records)):  # first-seen order, as pandas
        cells = list(map(dict.get, records, repeat(key, n)))  # None where absent
        kinds = set(map(type, cells))
        if not kinds <= _PLAIN_TYPES:
            return None
        marks = None
        if str in kinds:  # logged NaNs, and numbers written as text ("nan", "0.5"): points
            marks = np.zeros(n, dtype=bool)
            for i, v in enumerate(cells):
                if type(v) is str:
                    x = None if v == _NAN_MARK else _number_text(v)
                    if x is None and v != _NAN_MARK:  # text: the pandas path counts it
                        return None
                    cells[i] = x
                    marks[i] = True
        try:
            values = np.array(cells, dtype=np.float64)  # None -> NaN
        except OverflowError:  # an integer beyond any float
            return None
        if int in kinds:
            with np.errstate(invalid="ignore"):
                small = bool((np.abs(values) < 9.2e18).all())  # NaN: not small, look closer
            if not small and any(type(v) is int and not -(2**63) <= v < 2**63 for v in cells):
                return None
        present = ~np.isnan(values)
        if marks is not None:
            present |= marks
        if not present.any():  # only nulls: kept or not by the dtype pandas infers
            return None
        columns[str(key)] = Column(str(key), values, present)
    return columns


def table_from_records(
    path: Path, records: list[dict[str, Any]], sep: str = "/", nested: bool | None = None
) -> tuple[Table, dict[str, int]]:
    """Turn JSON records into a :class:`Table` (nested objects flattened with ``sep``); returns it
    and skipped keys -> count. ``nested=False`` says no record holds an object (skips the check)."""
    if nested is None:
        nested = any(type(v) is dict for r in records for v in r.values())
    flat = [flatten(r, sep) for r in records] if nested else records
    fast = _plain_columns(flat) if any(flat) else None  # no key at all: pandas counts 0 rows
    if fast is not None:
        return Table(
            path=path, sep="json", header_line=1, columns=fast, n_rows=len(flat), header=list(fast)
        ), {}
    import pandas as pd

    df = pd.DataFrame.from_records(flat) if flat else pd.DataFrame()
    columns: dict[str, Column] = {}
    skipped: dict[str, int] = {}
    for name in df.columns:
        s = df[name]
        if pd.api.types.is_bool_dtype(s):
            skipped[str(name)] = int(s.notna().sum())
            continue
        if pd.api.types.is_numeric_dtype(s):
            values = s.to_numpy(dtype=np.float64, na_value=np.nan)
            present = ~np.isnan(values)
        else:
            obj = s.astype(object)
            is_nan = obj.map(lambda v: isinstance(v, str) and v == _NAN_MARK).to_numpy(dtype=bool)
            is_num = obj.map(_is_number).to_numpy(dtype=bool)
            values = np.full(len(obj), np.nan)
            if is_num.any():
                values[is_num] = obj[is_num].astype(np.float64).to_numpy()
            parsed = [_number_text(v) for v in obj]
            is_text = (~is_num) & np.array([x is not None for x in parsed], dtype=bool)
            if is_text.any():
                values[is_text] = [x for x, t in zip(parsed, is_text, strict=True) if t]
            present = is_num | is_nan | is_text
            other = int((obj.notna().to_numpy() & ~present).sum())
            if other:
                skipped[str(name)] = other
            if not present.any():
                continue
        columns[str(name)] = Column(str(name), values, present)
    return Table(
        path=path, sep="json", header_line=1, columns=columns, n_rows=len(df), header=list(columns)
    ), skipped


def _fill_forward_step(table: Table, step: StepChoice) -> tuple[StepChoice, int]:
    """Rows without a step value take the step of the row before (rows before the first are dropped)."""
    if step.column is None or step.rows.all():
        return step, 0
    idx = np.where(step.rows, np.arange(len(step.rows)), -1)
    idx = np.maximum.accumulate(idx)
    rows = idx >= 0
    steps = np.where(rows, step.steps[np.maximum(idx, 0)], 0)
    filled = int(rows.sum() - step.rows.sum())
    return StepChoice(steps.astype(np.int64), rows, step.column, None), filled


def _choose_json_step(table: Table) -> StepChoice:
    """Like :func:`choose_step` but a step key present on only some lines still counts."""
    for want in STEP_NAMES:
        name = find_column(table, [want])
        if name is None:
            continue
        c = table.columns[name]
        v = c.values[c.present & step_ok(c.values)]
        if len(v) == 0:
            continue
        if np.all(np.abs(v - np.round(v)) < 1e-9) and want not in EPOCH_NAMES | {"batch"}:
            rows = c.present & step_ok(c.values)
            return StepChoice(np.round(np.where(rows, c.values, 0)).astype(np.int64), rows, name)
    return choose_step(table)


def records_from_text(text: str) -> tuple[list[dict[str, Any]], int, int, Any]:
    """Parse JSON lines; returns (records, bad lines, non-object lines, whole document or None)."""
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        try:
            doc = json.loads(text, parse_constant=_parse_constant)
        except ValueError:
            doc = None
        if isinstance(doc, list) or (
            isinstance(doc, dict)
            and ("log_history" in doc or (doc and all(isinstance(v, list) for v in doc.values())))
        ):
            return [], 0, 0, doc
    decoder = json.JSONDecoder(parse_constant=_parse_constant)
    lines = [ln for ln in text.split("\n") if ln.strip()]
    # fast path: all lines are JSON values -> one C-level parse of them as an array
    try:
        objs = decoder.decode("[" + ",".join(lines) + "]")
    except ValueError:
        objs = None
    bad = 0
    if objs is None or len(objs) != len(lines):
        objs = []
        for line in lines:
            try:
                objs.append(decoder.decode(line))
            except ValueError:
                objs.append(_BAD)
                bad += 1
    records = [o for o in objs if type(o) is dict]
    non_obj = len(objs) - len(records) - bad
    return records, bad, non_obj, None


def _records_from_document(path: Path, doc: Any, run: str, base: Path, result: ReadResult):
    """Records from a single JSON document, or a finished frame for a trainer_state.json."""
    if isinstance(doc, list):
        recs = [r for r in doc if isinstance(r, dict)]
        if len(recs) < len(doc):
            result.notes.append(
                f"{path.name}: {len(doc) - len(recs)} list item(s) that are not objects skipped"
            )
        return recs
    if isinstance(doc, dict):
        if isinstance(doc.get("log_history"), list):
            from . import hf_trainer

            result.notes.append(f"{path.name}: a Hugging Face trainer state; read as such")
            return hf_trainer.frame_from_state(run, path, base, doc, result)
        lists = {k: v for k, v in doc.items() if isinstance(v, list)}
        if lists and len(lists) == len(doc):
            n = max(len(v) for v in lists.values())
            result.notes.append(f"{path.name}: a dict of lists (Keras History); step = list index")
            return [{k: v[i] for k, v in lists.items() if i < len(v)} for i in range(n)]
        return [doc]
    raise ReadError(path, f"a single JSON {type(doc).__name__}, not records of numbers")


def _read_one(run: str, path: Path, base: Path, result: ReadResult) -> pd.DataFrame | Points:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ReadError(path, f"cannot read: {e.strerror or e}") from e
    if not raw.strip():
        raise ReadError(path, "empty file" + (" (0 bytes)" if not raw else ""))
    if b"\x00" in raw[:65536] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError(path, "binary data (NUL bytes), not JSON lines")
    text = normalise_newlines(decode_text(raw))
    records, bad, non_obj, doc = records_from_text(text)
    name = path.name
    if doc is not None:
        got = _records_from_document(path, doc, run, base, result)
        if isinstance(got, Points):  # a trainer state, read as such
            return got
        records = got
    if not records:
        what = f"{bad} line(s) that are not JSON" if bad else "no JSON objects"
        raise ReadError(path, f"no JSON records with numbers ({what})")
    # more "{" than records means some record holds an object (or a "{" in a string): flatten
    nested = None if doc is not None else text.count("{") > len(records) + bad + non_obj
    table, skipped = table_from_records(path, records, nested=nested)
    if bad:
        result.notes.append(f"{name}: {bad} line(s) that are not valid JSON skipped")
    if non_obj:
        result.notes.append(f"{name}: {non_obj} JSON line(s) that are not objects skipped")
    if skipped:
        shown = ", ".join(f"{k!r}" for k in list(skipped)[:8])
        more = f" and {len(skipped) - 8} more" if len(skipped) > 8 else ""
        result.notes.append(f"{name}: non-numeric key(s) {shown}{more} skipped")
    step = _choose_json_step(table)
    step, filled = _fill_forward_step(table, step)
    if step.note:
        result.notes.append(f"{name}: {step.note}")
    elif step.column:
        result.notes.append(f"{name}: step = key {step.column!r}")
    if filled:
        result.notes.append(
            f"{name}: {filled} record(s) without {step.column!r} took the step before"
        )
    wt_col, wall = wall_time_column(table, exclude=[step.column] if step.column else [])
    epoch_col = find_column(table, EPOCH_NAMES)
    prefix = tag_prefix(path, base)
    tags: list[tuple[str, str, np.ndarray | None]] = []
    for n in table.columns:
        if n in (step.column, wt_col):
            continue
        if norm_name(n) in STEP_NAMES and n != epoch_col:
            continue
        if n == epoch_col:
            # the epoch axis: where the epoch changes, plus the last record
            ec = table.columns[n]
            idx = np.flatnonzero(ec.present & step.rows)
            keep = np.zeros(table.n_rows, dtype=bool)
            keep[idx[change_points(ec.values[idx])]] = True
            tags.append((prefix + "epoch", n, keep))
        else:
            tags.append((prefix + n, n, None))
    if not [t for t in tags if t[1] != epoch_col]:
        raise ReadError(path, "no numeric fields besides the step")
    return to_long(run, table, step, tags, wall)


#: :func:`read` can return its table as a :class:`~analyzer.readers.base.NumpyTable` (``lite``)
READS_TABLE = True


def read(run: str, paths: list[Path], base: Path, *, lite: bool = False) -> ReadResult:
    """Read JSON-lines logs of one run (several files = one resumed run, in order).
    ``lite``: the table may be a :class:`~analyzer.readers.base.NumpyTable` (as a check reads it)."""
    return read_files(run, paths, base, _read_one, FORMAT, lite=lite)
