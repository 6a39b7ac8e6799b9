"""Parsing a whole text table, the shared core of the text-table readers.

The other pieces: :mod:`.text` (bytes to text), :mod:`.sniff` (header, separator, format),
:mod:`.columns` (step choice, long format) and :mod:`.hparams` (side files).

Real CSV-like training logs are messy: any separator (``,`` ``;`` tab ``|`` or runs of spaces),
padded header names and values (Ultralytics), a title line above the header, ``\\r\\n`` and
``\\r\\r\\n`` line endings, a BOM, quoted fields, ``NA``/empty cells where nothing was logged,
``nan``/``inf`` where a diverged value *was* logged, trailing separators, and a header line that is
repeated mid-file when a log was appended to after a restart. :func:`.sniff.find_layout` finds the
header and the separator from the first lines, then :func:`read_table` parses the whole file with
pandas' C parser (a 1M-row file reads in about a second; a small plain table of numbers is
read without pandas, :func:`_parse_simple`) and hands the format readers a
:class:`Table` of float columns with a mask of which cells really held a number.

Missing versus NaN: a cell that is empty or ``NA``/``N/A``/``null``/``None`` means "not logged at
this row" and produces no point; a cell that says ``nan`` (or ``inf``) means the run logged that
value, and it is kept as a point with value NaN (or inf) so that rules can see divergence.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .base import ReadError, read_bytes
from .sniff import (
    MISSING_TOKENS,
    TENSOR_RE,
    Layout,
    cell_kind,
    find_layout,
    looks_like_prose,
    split_fields,
)
from .text import binary_reason, decode_text, normalise_newlines, strip_nul_tail

# cells that mean "the value NaN was logged"
NAN_TOKENS = ["nan", "NaN", "NAN", "-nan", "-NaN", "+nan", "+NaN", "NaN%"]
_NAN_LOWER = {"nan", "-nan", "+nan"}


# ---------------------------------------------------------------------------------------------
# parsing a whole file


@dataclass
class Column:
    """One column of a table: float values and which cells held a number (NaN/inf included)."""

    name: str
    values: np.ndarray
    present: np.ndarray
    text_cells: int = 0
    text_example: str | None = None
    unwrapped: int = 0  # cells written as tensor(...)
    text: np.ndarray | None = None  # object array: the text cells (None elsewhere), if any

    @property
    def n_present(self) -> int:
        return int(self.present.sum())


@dataclass
class Table:
    """A parsed text table; columns keep file order, rows keep file order across segments."""

    path: Path
    sep: str
    header_line: int  # 1-based line number of the header, counting non-blank lines
    columns: dict[str, Column]
    n_rows: int
    header: list[str]
    segment_starts: list[int] = field(default_factory=lambda: [0])
    notes: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # text columns
    text_columns: dict[str, np.ndarray] = field(default_factory=dict)  # their cells (object)
    first_row: list[str] | None = None

    def numeric(self) -> list[str]:
        return [n for n, c in self.columns.items() if c.n_present > 0]


#: a cell :func:`_parse_simple` reads: a plain decimal number, integers of at most 18 digits
#: and exponents of at most 2 (pandas and Python read those to the same float), or a logged
#: NaN or infinity as Python, Keras and Lightning write them (``nan``, ``inf``, ``-inf``)
_SIMPLE_NUMBER = r"[+-]?(?:[0-9]{1,18}|[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]{1,2})?|[0-9]+[eE][+-]?[0-9]{1,2}|\.[0-9]+(?:[eE][+-]?[0-9]{1,2})?|nan|NaN|NAN|inf|Inf|INF|Infinity)"
_SIMPLE_CELLS = {
    sep: re.compile(rf"(?:{_SIMPLE_NUMBER}|NA)?(?:{re.escape(sep)}(?:{_SIMPLE_NUMBER}|NA)?)*")
    for sep in (",", ";", "\t")
}
_SIMPLE_MAX_CHARS = 1 << 16  # beyond this pandas' parser is the faster one


def _parse_simple(
    block: str, layout: Layout, has_nan_tokens: bool = True
) -> tuple[list[str], dict[str, Column], int, int] | None:
    """:func:`_parse_block`'s answer for a small block that is plainly a table of numbers (most
    logs), without pandas: a header of distinct plain names, then rows of exactly as many cells
    separated by ``,``, ``;`` or a tab, each empty, ``NA`` or a plain number
    (:data:`_SIMPLE_NUMBER`, logged ``nan`` and ``inf`` included), no blank line. None for anything else (quotes,
    spaces, text, a negative zero, which pandas reads as 0 in a column of integers, a ``nan``
    cell when ``has_nan_tokens`` is False), which pandas reads."""
    sep = layout.sep
    cells_re = _SIMPLE_CELLS.get(sep)
    if cells_re is None or layout.decimal_comma or len(block) > _SIMPLE_MAX_CHARS:
        return None
    lines = block.split("\n")
    if lines[-1] == "":
        lines.pop()
    names = lines[0].split(sep) if lines else []
    k = len(names)
    if len(lines) < 2 or len(set(names)) < k:
        return None
    for name in names:
        if not name or name != name.strip() or '"' in name or "'" in name:
            return None
        if name.startswith("Unnamed: "):  # pandas' name for a nameless column
            return None
    data = lines[1:]
    if any(line.count(sep) != k - 1 or not line for line in data):
        return None
    joined = sep.join(data)
    if cells_re.fullmatch(joined) is None:
        return None
    cells = joined.split(sep)
    if max(map(len, cells)) > 30:
        return None
    if "NA" in joined:  # Keras' "not logged this epoch" (validation did not run): missing
        cells = ["" if c == "NA" else c for c in cells]
    values = np.array([c or "nan" for c in cells], dtype=np.float64).reshape(len(data), k)
    if np.signbit(values[values == 0.0]).any():
        return None
    missing = np.isnan(values)
    if missing.any() and ("a" in joined or "A" in joined):  # NA, or nan: a logged NaN
        missing = np.array([c == "" for c in cells], dtype=bool).reshape(len(data), k)
        logged = ~missing & np.isnan(values)
        if logged.any():
            if not has_nan_tokens:
                return None
            values[logged] = np.nan  # one NaN (``-nan`` keeps its sign bit)
    cols = {}
    for j, name in enumerate(names):
        v = np.ascontiguousarray(values[:, j])
        cols[name] = Column(name, v, ~missing[:, j])
    return names, cols, len(data), 0


def _parse_block(
    block: str, layout: Layout, has_nan_tokens: bool
) -> tuple[list[str], dict[str, Column], int, int]:
    """Parse one header+rows block with pandas; returns names, columns, rows, bad lines skipped.
    (A small plain block is read by :func:`_parse_simple`, to the same columns.)"""
    simple = _parse_simple(block, layout, has_nan_tokens)
    if simple is not None:
        return simple
    import pandas as pd  # only here: a plain table of numbers (most logs) is read without it

    sep = r"\s+" if layout.sep == " " else layout.sep
    kwargs: dict[str, Any] = dict(
        sep=sep,
        header=0,
        index_col=False,
        keep_default_na=False,
        na_values=MISSING_TOKENS + NAN_TOKENS,
        skipinitialspace=True,
        on_bad_lines="skip",
        engine="c",
        decimal="," if layout.decimal_comma else ".",
        low_memory=False,
    )
    if layout.sep == " ":
        kwargs.pop("skipinitialspace")
    # pandas warns about rows of the wrong length on stderr; they are counted and noted below
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        try:
            df = pd.read_csv(io.StringIO(block), **kwargs)
        except pd.errors.ParserError:
            # an unbalanced quote swallows the rest of the file as one cell: read quotes as
            # plain characters instead, so every row before (and after) it keeps its numbers
            kwargs["quoting"] = csv.QUOTE_NONE
            df = pd.read_csv(io.StringIO(block), **kwargs)
    n_lines = block.count("\n") + (0 if block.endswith("\n") else 1) - 1
    if n_lines > len(df):  # blank lines or lines pandas skipped: count exactly
        n_lines = sum(1 for ln in block.split("\n") if ln.strip()) - 1
    bad = max(0, n_lines - len(df))
    raw_cells = None  # the cells as text (str, NaN where a row ended early), to find "nan"
    if has_nan_tokens:
        raw_kwargs = dict(kwargs, na_values=None, na_filter=False, dtype=str)
        raw_kwargs.pop("low_memory")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            raw_cells = pd.read_csv(io.StringIO(block), **raw_kwargs).to_numpy(dtype=object)
    names: list[str] = []
    cols: dict[str, Column] = {}
    # numbers only (integers and floats; bools are not numbers here): every column as floats
    # in one conversion, the usual case
    numeric = [isinstance(dt, np.dtype) and dt.kind in "iuf" for dt in df.dtypes]
    matrix = df.to_numpy(dtype=np.float64, na_value=np.nan) if numeric and all(numeric) else None
    for j, col in enumerate(df.columns):
        name = str(col).strip().strip('"').strip()
        if re.fullmatch(r"Unnamed: \d+", name):
            name = ""
        text_cells = 0
        example = None
        unwrapped = 0
        text = None
        if matrix is not None:
            values = np.ascontiguousarray(matrix[:, j])
        elif numeric[j]:
            values = df[col].to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            s = df[col]
            st = s.astype(object).where(s.notna(), None)
            strs = pd.Series([None if v is None else str(v).strip() for v in st], dtype=object)
            if layout.decimal_comma:
                strs = strs.str.replace(",", ".", regex=False)
            values = np.array(pd.to_numeric(strs, errors="coerce"), dtype=np.float64)
            leftover = strs.notna() & np.isnan(values)
            if leftover.any():
                # unwrap "tensor(0.53, device='cuda:0')"
                ext = strs[leftover].str.extract(TENSOR_RE, expand=False)
                got = pd.to_numeric(ext, errors="coerce")
                got_arr = got.to_numpy(dtype=np.float64)
                values[leftover.to_numpy()] = got_arr
                unwrapped = int(np.isfinite(got_arr).sum())
                leftover = strs.notna() & np.isnan(values)
                is_missing = strs.isin(MISSING_TOKENS) | strs.str.lower().isin(_NAN_LOWER)
                textmask = leftover & ~is_missing
                text_cells = int(textmask.sum())
                if text_cells:
                    example = str(strs[textmask].iloc[0])
                    text = strs.where(textmask, None).to_numpy(dtype=object)
        present = ~np.isnan(values)
        if raw_cells is not None and j < raw_cells.shape[1]:
            present |= _nan_cells(raw_cells[:, j], present)
        base = name
        n = 2
        while name in cols:
            name = f"{base}.{n}" if base else ""
            n += 1
            if not base:
                break
        if name == "" and "" in cols:
            continue
        names.append(name)
        cols[name] = Column(name, values, present, text_cells, example, unwrapped, text)
    return names, cols, len(df), bad


def _nan_cells(cells: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Mask of the ``cells`` (text, or NaN where a row ended early) that say nan, -nan or +nan
    (any case, spaces around). Only the cells that did not parse as a number and are not empty
    are looked at, one by one (a column of a diverged run holds a few)."""
    out = np.zeros(len(cells), dtype=bool)
    n = min(len(cells), len(present))
    idx = np.flatnonzero(~present[:n])
    idx = idx[cells[idx] != ""]
    for i in idx.tolist():
        c = cells[i]
        out[i] = isinstance(c, str) and c.strip().lower() in _NAN_LOWER
    return out


def _header_repeat_starts(text: str, layout: Layout, header_offset: int) -> list[int]:
    """Character offsets of lines after the header that repeat it (log appended after a restart)."""
    first = layout.header[0] if layout.header else ""
    if first == "":
        return []
    sep_pat = r"\s" if layout.sep == " " else re.escape(layout.sep)
    if text.find(first, header_offset + len(first)) < 0:
        return []
    pat = re.compile(
        r"\n[ \t]*[\"']?" + re.escape(first) + r"[\"']?[ \t]*(?:" + sep_pat + r"|$)", re.MULTILINE
    )
    starts = []
    for m in pat.finditer(text, header_offset):
        start = m.start() + 1
        line_end = text.find("\n", start)
        line = text[start : line_end if line_end >= 0 else len(text)]
        fields = split_fields(line, layout.sep)
        kinds = [cell_kind(f, layout.decimal_comma) for f in fields]
        if kinds.count("text") > len(fields) / 2:
            starts.append(start)
    return starts


def read_table(path: Path) -> Table:
    """Parse a whole text table; raise :class:`ReadError` naming the file when it holds none."""
    path = Path(path)
    raw = read_bytes(path)
    raw, nul_tail = strip_nul_tail(raw)
    if not raw:
        raise ReadError(path, "only NUL bytes (a crash while writing?)")
    why = binary_reason(raw)
    if why:
        raise ReadError(path, why)
    text = normalise_newlines(decode_text(raw))
    # look at the first non-blank lines to find the layout
    head_lines: list[str] = []
    head_offsets: list[int] = []
    pos = 0
    while pos < len(text) and len(head_lines) < 80:
        end = text.find("\n", pos)
        if end < 0:
            end = len(text)
        ln = text[pos:end]
        if ln.strip():
            head_lines.append(ln)
            head_offsets.append(pos)
        pos = end + 1
    if not head_lines:
        raise ReadError(path, "empty file (only blank lines)")
    layout = find_layout(head_lines)
    if layout is None:
        if len(head_lines) == 1:
            raise ReadError(path, "a single line and no data rows below it")
        if looks_like_prose(head_lines):
            raise ReadError(path, "looks like prose, not a table")
        raise ReadError(path, "no header line with numeric rows below it")
    notes: list[str] = []
    if nul_tail:
        notes.append(
            f"{nul_tail} NUL byte(s) at the end of the file ignored (a crash while writing?)"
        )
    header_offset = head_offsets[layout.header_index]
    if layout.header_index > 0:
        skipped = "; ".join(repr(ln.strip()[:60]) for ln in head_lines[: layout.header_index][:3])
        notes.append(f"{layout.header_index} line(s) above the header skipped ({skipped})")
    body = text[header_offset:]
    repeats = [s - header_offset for s in _header_repeat_starts(text, layout, header_offset)]
    bounds = [0, *repeats, len(body)]
    has_nan = any(t in body for t in ("nan", "NaN", "NAN")) and (
        re.search(r"(?i)(?:^|[\s,;|])[+-]?nan(?:[\s,;|]|$)", body) is not None
    )
    all_names: list[str] = []
    parts: list[tuple[dict[str, Column], int]] = []
    bad_total = 0
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        block = body[a:b]
        if not block.strip():
            continue
        names, cols, n, bad = _parse_block(block, layout, has_nan)
        bad_total += bad
        for nm in names:
            if nm not in all_names:
                all_names.append(nm)
        parts.append((cols, n))
    if repeats:
        notes.append(
            f"header line repeated {len(repeats)} time(s) inside the file "
            "(appended to after a restart); the parts were read in order"
        )
    if bad_total:
        notes.append(f"{bad_total} line(s) with a wrong number of cells skipped")
    n_rows = sum(n for _, n in parts)
    columns: dict[str, Column] = {}
    for nm in all_names:
        vals, pres, texts = [], [], []
        text_cells = 0
        unwrapped = 0
        example = None
        for cols, n in parts:
            c = cols.get(nm)
            if c is None:
                vals.append(np.full(n, np.nan))
                pres.append(np.zeros(n, dtype=bool))
                texts.append(np.full(n, None, dtype=object))
            else:
                vals.append(c.values)
                pres.append(c.present)
                texts.append(c.text if c.text is not None else np.full(n, None, dtype=object))
                text_cells += c.text_cells
                unwrapped += c.unwrapped
                example = example or c.text_example
        columns[nm] = Column(
            nm,
            np.concatenate(vals) if vals else np.empty(0),
            np.concatenate(pres) if pres else np.empty(0, dtype=bool),
            text_cells,
            example,
            unwrapped,
            np.concatenate(texts) if text_cells else None,
        )
    seg_starts = []
    acc = 0
    for _, n in parts:
        seg_starts.append(acc)
        acc += n
    table = Table(
        path=path,
        sep=layout.sep,
        header_line=layout.header_index + 1,
        columns=columns,
        n_rows=n_rows,
        header=[h for h in layout.header],
        segment_starts=seg_starts or [0],
        notes=notes,
        first_row=split_fields(head_lines[layout.header_index + 1], layout.sep)
        if layout.header_index + 1 < len(head_lines)
        else None,
    )
    _classify_columns(table)
    if n_rows == 0:
        raise ReadError(path, "header line but no data rows")
    return table


def _classify_columns(table: Table) -> None:
    """Drop unnamed empty columns, set text columns aside, note text cells in numeric columns."""
    for name in list(table.columns):
        c = table.columns[name]
        if c.unwrapped:
            table.notes.append(
                f"column {name!r}: {c.unwrapped} value(s) written as tensor(...) unwrapped"
            )
        if name == "":
            del table.columns[name]
            if c.n_present:
                table.notes.append("a column without a name was ignored")
            continue
        if c.text_cells and c.text_cells > c.n_present:
            table.ignored.append(name)
            if c.text is not None:
                table.text_columns[name] = c.text
            del table.columns[name]
            table.notes.append(
                f"column {name!r} holds text ({c.text_example!r}) in {c.text_cells} of "
                f"{table.n_rows} rows: ignored"
            )
        elif c.text_cells:
            table.notes.append(
                f"column {name!r} holds text ({c.text_example!r}) in {c.text_cells} of "
                f"{table.n_rows} rows: those cells were dropped"
            )


def no_numeric_error(table: Table) -> ReadError:
    """The error for a table whose columns all hold text or nothing."""
    detail = [n for n in table.notes if n.startswith("column ")]
    if detail:
        return ReadError(table.path, "no numeric columns: " + "; ".join(detail[:3]))
    return ReadError(table.path, "no numeric columns (every cell is empty or NA)")
