"""Shared core of the text-table readers: sniffing, robust parsing, step choice, long format.

Real CSV-like training logs are messy: any separator (``,`` ``;`` tab ``|`` or runs of spaces),
padded header names and values (Ultralytics), a title line above the header, ``\\r\\n`` and
``\\r\\r\\n`` line endings, a BOM, quoted fields, ``NA``/empty cells where nothing was logged,
``nan``/``inf`` where a diverged value *was* logged, trailing separators, and a header line that is
repeated mid-file when a log was appended to after a restart. This module finds the header and the
separator from the first lines, then parses the whole file with pandas' C parser (a 1M-row file
reads in about a second) and hands the format readers a :class:`Table` of float columns with a
mask of which cells really held a number.

Missing versus NaN: a cell that is empty or ``NA``/``N/A``/``null``/``None`` means "not logged at
this row" and produces no point; a cell that says ``nan`` (or ``inf``) means the run logged that
value, and it is kept as a point with value NaN (or inf) so that rules can see divergence.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .base import ReadError, ReadResult, apply_restarts, empty_frame, make_frame, step_ok

SNIFF_BYTES = 64 * 1024
#: how far sniffing reads on when the first lines are very long
SNIFF_MAX_BYTES = 16 * 2**20
SIDE_FILE_MAX_BYTES = 1024 * 1024  # hparams side files larger than this are not configs
# cells that mean "nothing logged here"
MISSING_TOKENS = ["", "NA", "N/A", "n/a", "na", "null", "NULL", "None", "none", "<NA>", "#N/A", "-"]
# cells that mean "the value NaN was logged"
NAN_TOKENS = ["nan", "NaN", "NAN", "-nan", "-NaN", "+nan", "+NaN", "NaN%"]
_NAN_LOWER = {"nan", "-nan", "+nan"}
_NUM_RE = re.compile(
    r"^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity|nan)$", re.IGNORECASE
)
_DECIMAL_COMMA_RE = re.compile(r"^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$")
# hand-rolled PyTorch logs often write str(tensor): "tensor(0.5321, device='cuda:0')"
_TENSOR_RE = re.compile(
    r"^\s*tensor\(\s*([+-]?[\d.]+(?:[eE][+-]?\d+)?|nan|inf|-inf)", re.IGNORECASE
)
_RULER_RE = re.compile(r"^[ \t|:+=-]*(?:-{3,}|={3,})[ \t|:+=-]*$\n?", re.MULTILINE)
_SEPARATORS = [",", "\t", ";", "|", " "]  # " " means runs of whitespace
SEP_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe", " ": "whitespace"}

# names of step-like columns, most specific first (compared after normalising case and spacing)
# fmt: off
STEP_NAMES = [
    "global_step", "globalstep", "_step", "step", "steps", "iteration", "iterations", "iter",
    "iters", "it", "n_iter", "num_updates", "update", "updates", "epoch", "epochs", "batch",
]
WALL_TIME_NAMES = {
    "wall_time", "walltime", "wall_clock", "timestamp", "time", "_timestamp", "unix_time",
    "time_stamp",
}
# fmt: on
EPOCH_NAMES = {"epoch", "epochs"}
# words that mark a column as a training metric (used to tell a log from a data set)
_METRIC_WORDS = re.compile(
    r"loss|acc|lr|learning|metric|f1|map|precision|recall|auc|err|score|perplex|ppl|bleu|rouge|"
    r"reward|iou|dice|mse|mae|rmse|top[-_ ]?\d|grad|norm|kl|elbo|nll|psnr|ssim|fid|wer|cer|entropy",
    re.IGNORECASE,
)


def norm_name(name: str) -> str:
    """Lower-case a column name and turn spaces/hyphens into underscores, for name matching."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


# ---------------------------------------------------------------------------------------------
# decoding


def _decode(raw: bytes) -> str:
    """Bytes to text: BOMs (UTF-8, UTF-16) honoured, undecodable bytes replaced, not fatal."""
    if raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff"):
        return raw.decode("utf-16", errors="replace")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")


def _normalise_newlines(text: str) -> str:
    """\\r\\r\\n, \\r\\n and lone \\r become \\n (Windows tools doubling the CR happens);
    ruler lines of a text table (``|---|---|``, ``+====+``) are removed."""
    if "\r" in text:
        text = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    if ("---" in text or "===" in text) and _RULER_RE.search(text):
        text = _RULER_RE.sub("", text)
    return text


def _strip_nul_tail(raw: bytes) -> tuple[bytes, int]:
    """The bytes without a run of NULs at the end (what a crash while writing leaves behind)
    and how many were removed."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw, 0  # UTF-16: NUL bytes are half of every character
    kept = raw.rstrip(b"\x00")
    return kept, len(raw) - len(kept)


def _binary_reason(raw: bytes) -> str | None:
    """Say why a byte string (its NUL tail already stripped) is not text, or None when it is."""
    sample = raw[:SNIFF_BYTES]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 text
    if b"\x00" in sample:
        return "binary data (NUL bytes), not a text table"
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if sample and control / len(sample) > 0.05:
        return "binary data (control bytes), not a text table"
    return None


# ---------------------------------------------------------------------------------------------
# finding the header


def _split(line: str, sep: str) -> list[str]:
    """Split one line into stripped fields; quotes are honoured, a trailing separator ignored."""
    if sep == " ":
        fields = line.split()
    elif '"' in line or "'" in line:
        try:
            fields = next(csv.reader([line], delimiter=sep, skipinitialspace=True))
        except (csv.Error, StopIteration):
            fields = line.split(sep)
    else:
        fields = line.split(sep)
    fields = [f.strip().strip('"').strip() for f in fields]
    if len(fields) > 1 and fields[-1] == "":
        fields.pop()
    if sep == "|" and len(fields) > 1 and fields[0] == "":
        fields.pop(0)  # markdown-style leading pipe
    return fields


def _cell_kind(cell: str, decimal_comma: bool) -> str:
    """'num', 'missing' or 'text' for one stripped cell."""
    if cell in MISSING_TOKENS:
        return "missing"
    if _NUM_RE.match(cell) or _TENSOR_RE.match(cell):
        return "num"
    if decimal_comma and _DECIMAL_COMMA_RE.match(cell):
        return "num"
    return "text"


@dataclass
class Layout:
    """Where the table starts and how it is separated."""

    sep: str
    header_index: int  # index into the non-blank lines
    header: list[str]
    decimal_comma: bool = False
    good_rows: int = 0


def _row_is_good(fields: list[str], k: int, decimal_comma: bool) -> bool:
    if not (k - 1 <= len(fields) <= k + 1) or (k == 1 and len(fields) != 1):
        return False
    kinds = [_cell_kind(c, decimal_comma) for c in fields]
    n_num = kinds.count("num")
    n_text = kinds.count("text")
    return n_num >= 1 and n_num >= n_text


def find_layout(lines: list[str]) -> Layout | None:
    """Find separator and header line among the first non-blank lines.

    The header is the first line whose cells are mostly names (not numbers) and which is followed
    by rows of about as many cells that are mostly numbers. Every separator is tried; the one that
    explains the most rows with the most columns wins.
    """
    best: tuple[tuple[float, float, int, int], Layout] | None = None
    head = lines[:40]
    for sep in _SEPARATORS:
        if sep != " " and not any(sep in ln for ln in head):
            continue
        split_cache = [_split(ln, sep) for ln in lines[:80]]
        decimal_comma = sep in (";", "\t", " ", "|") and any(
            _DECIMAL_COMMA_RE.match(c) for fs in split_cache[:20] for c in fs
        )
        for i in range(min(len(head), 30)):
            hdr = split_cache[i]
            k = len(hdr)
            if k == 0 or all(h == "" for h in hdr):
                continue
            kinds = [_cell_kind(h, decimal_comma) for h in hdr]
            if kinds.count("num") > 0 or kinds.count("text") == 0:
                continue
            # rows after the header; a repeat of the header line (appended log) is not counted
            rows = [r for r in split_cache[i + 1 : i + 21] if r != hdr]
            if not rows:
                continue
            good = sum(_row_is_good(r, k, decimal_comma) for r in rows)
            if good == 0 or (good < 0.8 * len(rows) and not (good >= 2 and len(rows) - good <= 1)):
                continue
            exact = sum(len(r) == k for r in rows)
            score = (good / len(rows), exact / len(rows), good, k)
            if best is None or score > best[0]:
                best = (score, Layout(sep, i, hdr, decimal_comma, good))
    return best[1] if best else None


def _looks_like_prose(lines: list[str]) -> bool:
    words = sum(len(re.findall(r"[A-Za-z]{2,}", ln)) for ln in lines[:50])
    digits = sum(len(re.findall(r"\d", ln)) for ln in lines[:50])
    return words > 2 * max(digits, 1) or any(
        ln.count(" ") > 8 and ln.rstrip().endswith(".") for ln in lines[:20]
    )


# ---------------------------------------------------------------------------------------------
# sniffing


def classify(header: list[str], first_row: list[str] | None = None) -> str:
    """Name the table format from its (stripped) header: keras-csv, lightning-csv, ultralytics-csv or csv."""
    names = [h.strip() for h in header]
    lower = [n.lower() for n in names]
    if (
        "epoch" in lower
        and any(n.startswith("train/") for n in lower)
        and any(n.startswith(("metrics/", "val/")) for n in lower)
    ):
        return "ultralytics-csv"
    if "epoch" in names and "step" in names:
        return "lightning-csv"
    if names and names[0] == "epoch" and len(names) >= 2:
        rest = names[1:]
        sorted_rest = rest == sorted(rest)
        first_epoch_zero = bool(first_row) and first_row[0].strip() in ("0", "0.0")
        if sorted_rest and ("loss" in names or first_epoch_zero):
            return "keras-csv"
    return "csv"


def _looks_like_log(header: list[str]) -> bool:
    names = [norm_name(h) for h in header]
    return any(n in STEP_NAMES for n in names) or any(_METRIC_WORDS.search(h) for h in header)


def sniff(path: Path) -> tuple[str | None, str]:
    """Decide which table format a text file holds, reading at most its first 64 KiB.

    Returns ``(format, "")`` with format one of ``keras-csv``, ``lightning-csv``,
    ``ultralytics-csv``, ``csv``, or ``(None, reason)`` saying why the file is not a log table.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(SNIFF_BYTES)
            # very long lines (thousands of columns, huge names): read on until a few whole
            # lines are in, up to a bound
            while raw.count(b"\n") < 4 and len(raw) < SNIFF_MAX_BYTES:
                more = fh.read(len(raw))
                if not more:
                    break
                raw += more
            truncated = bool(fh.read(1))
    except OSError as e:
        return None, f"cannot read: {e.strerror or e}"
    if not raw:
        return None, "empty file (0 bytes)"
    raw, _ = _strip_nul_tail(raw)
    if not raw:
        return None, "only NUL bytes (a crash while writing?)"
    why = _binary_reason(raw)
    if why:
        return None, why
    text = _normalise_newlines(_decode(raw))
    lines = text.split("\n")
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # last line may be cut
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return None, "empty file (only blank lines)"
    layout = find_layout(lines)
    if layout is None:
        if len(lines) == 1:
            return None, "a single line (a header without data rows?)"
        if _looks_like_prose(lines):
            return None, "looks like prose, not a table"
        return None, "no header with numeric rows below it"
    if not _looks_like_log(layout.header):
        return None, (
            "numeric table without a step/epoch column or metric-like column names "
            "(looks like a data set, not a training log)"
        )
    first_row = _split(lines[layout.header_index + 1], layout.sep)
    return classify(layout.header, first_row), ""


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


def _parse_block(
    block: str, layout: Layout, has_nan_tokens: bool
) -> tuple[list[str], dict[str, Column], int, int]:
    """Parse one header+rows block with pandas; returns names, columns, rows, bad lines skipped."""
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
    raw_str = None
    if has_nan_tokens:
        raw_kwargs = dict(kwargs, na_values=None, na_filter=False, dtype=str)
        raw_kwargs.pop("low_memory")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            raw_str = pd.read_csv(io.StringIO(block), **raw_kwargs)
    names: list[str] = []
    cols: dict[str, Column] = {}
    for j, col in enumerate(df.columns):
        name = str(col).strip().strip('"').strip()
        if re.fullmatch(r"Unnamed: \d+", name):
            name = ""
        s = df[col]
        text_cells = 0
        example = None
        unwrapped = 0
        text = None
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            st = s.astype(object).where(s.notna(), None)
            strs = pd.Series([None if v is None else str(v).strip() for v in st], dtype=object)
            if layout.decimal_comma:
                strs = strs.str.replace(",", ".", regex=False)
            values = np.array(pd.to_numeric(strs, errors="coerce"), dtype=np.float64)
            leftover = strs.notna() & np.isnan(values)
            if leftover.any():
                # unwrap "tensor(0.53, device='cuda:0')"
                ext = strs[leftover].str.extract(_TENSOR_RE, expand=False)
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
        if raw_str is not None and j < raw_str.shape[1]:
            low = raw_str.iloc[:, j].astype(str).str.strip().str.lower()
            present |= low.isin(_NAN_LOWER).to_numpy()
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


def _header_repeat_starts(text: str, layout: Layout, header_offset: int) -> list[int]:
    """Character offsets of lines after the header that repeat it (log appended after a restart)."""
    first = layout.header[0] if layout.header else ""
    if first == "":
        return []
    sep_pat = r"\s" if layout.sep == " " else re.escape(layout.sep)
    if first not in text[header_offset + len(first) :]:
        return []
    pat = re.compile(
        r"\n[ \t]*[\"']?" + re.escape(first) + r"[\"']?[ \t]*(?:" + sep_pat + r"|$)", re.MULTILINE
    )
    starts = []
    for m in pat.finditer(text, header_offset):
        start = m.start() + 1
        line_end = text.find("\n", start)
        line = text[start : line_end if line_end >= 0 else len(text)]
        fields = _split(line, layout.sep)
        kinds = [_cell_kind(f, layout.decimal_comma) for f in fields]
        if kinds.count("text") > len(fields) / 2:
            starts.append(start)
    return starts


def read_table(path: Path) -> Table:
    """Parse a whole text table; raise :class:`ReadError` naming the file when it holds none."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ReadError(path, f"cannot read: {e.strerror or e}") from e
    if not raw:
        raise ReadError(path, "empty file (0 bytes)")
    raw, nul_tail = _strip_nul_tail(raw)
    if not raw:
        raise ReadError(path, "only NUL bytes (a crash while writing?)")
    why = _binary_reason(raw)
    if why:
        raise ReadError(path, why)
    text = _normalise_newlines(_decode(raw))
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
        if _looks_like_prose(head_lines):
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
        first_row=_split(head_lines[layout.header_index + 1], layout.sep)
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
                rejected.append(f"{name!r} is mostly empty")
                continue
            if not is_integral(v):
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
) -> pd.DataFrame:
    """Turn chosen columns into the canonical long table; ``tags`` holds (tag name, column
    name) or (tag name, column name, row mask) to take only some rows of a column."""
    frames_tags: list[np.ndarray] = []
    frames_steps: list[np.ndarray] = []
    frames_vals: list[np.ndarray] = []
    frames_wall: list[np.ndarray] = []
    for item in tags:
        tag, colname = item[0], item[1]
        mask = item[2] if len(item) > 2 else None
        c = table.columns[colname]
        keep = c.present & step.rows
        if mask is not None:
            keep = keep & mask
        n = int(keep.sum())
        if n == 0:
            continue
        frames_tags.append(np.full(n, tag, dtype=object))
        frames_steps.append(step.steps[keep])
        frames_vals.append(c.values[keep])
        frames_wall.append(wall_time[keep] if wall_time is not None else np.full(n, np.nan))
    if not frames_tags:
        return empty_frame()
    return make_frame(
        run,
        np.concatenate(frames_tags),
        np.concatenate(frames_steps),
        np.concatenate(frames_vals),
        np.concatenate(frames_wall),
    )


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
    read_one: Callable[[str, Path, Path, ReadResult], pd.DataFrame],
    fmt: str,
) -> ReadResult:
    """Run ``read_one`` on every file (in the given order), collect, resolve restarts.

    ``read_one(run, path, base, result)`` returns the long table of one file and may add notes
    and hparams to ``result``; a :class:`ReadError` (or any other failure) skips that file with
    its reason. Raises :class:`ReadError` when no file gave a single point.
    """
    result = ReadResult(frame=empty_frame())
    frames = []
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
        if f is not None and not f.empty:
            frames.append(f)
    if not frames:
        if result.skipped:
            path, reason = result.skipped[0]
            if len(result.skipped) > 1:
                reason += f" (and {len(result.skipped) - 1} more file(s) unusable)"
            raise ReadError(path, reason)
        raise ReadError(paths[0] if paths else base, "no data points in any file")
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame, restart_notes = apply_restarts(frame, run)
    result.frame = frame
    result.notes.extend(restart_notes)
    return result


# ---------------------------------------------------------------------------------------------
# side files: hparams


def flatten(d: Any, sep: str = ".", prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts into ``{"a.b": v}``; lists and scalars are kept as values."""
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            key = f"{prefix}{sep}{k}" if prefix else str(k)
            if isinstance(v, dict) and v:
                out.update(flatten(v, sep, key))
            else:
                out[key] = v
    elif prefix:
        out[prefix] = d
    return out


def _yaml_scalar(s: str) -> Any:
    s = s.strip()
    if s == "" or s in ("~", "null", "Null", "NULL"):
        return None
    if s[:1] in ("'", '"') and s[-1:] == s[:1] and len(s) >= 2:
        return s[1:-1]
    if s in ("true", "True", "TRUE", "yes"):
        return True
    if s in ("false", "False", "FALSE", "no"):
        return False
    if s.startswith("[") and s.endswith("]"):
        inner = s[1:-1].strip()
        return [_yaml_scalar(x) for x in inner.split(",")] if inner else []
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return s


def parse_simple_yaml(text: str) -> dict[str, Any]:
    """A small YAML subset parser (nested mappings, ``- item`` lists, plain scalars) for hparams
    files when PyYAML is not installed or refuses a file (e.g. ``!!python/object`` tags)."""
    root: dict[str, Any] = {}
    stack: list[tuple[int, Any]] = [(-1, root)]
    last_key: tuple[dict, str] | None = None
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip() or line.strip() in ("---", "..."):
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        while (
            len(stack) > 1
            and indent <= stack[-1][0]
            and not (
                body.startswith("- ") and isinstance(stack[-1][1], list) and indent == stack[-1][0]
            )
        ):
            stack.pop()
        container = stack[-1][1]
        if body.startswith("- ") or body == "-":
            item = body[2:].strip() if body != "-" else ""
            if not isinstance(container, list):
                if last_key is None:
                    continue
                d, k = last_key
                if not isinstance(d.get(k), list):
                    d[k] = []
                container = d[k]
                stack.append((indent, container))
            item = re.sub(r"^!!?\S+\s*", "", item)
            container.append(_yaml_scalar(item))
            continue
        if ":" not in body or not isinstance(container, dict):
            continue
        key, _, val = body.partition(":")
        key = key.strip().strip("'\"")
        val = re.sub(r"^!!?\S+\s*", "", val.strip())  # drop tags like !!python/tuple
        if val == "":
            container[key] = {}
            stack.append((indent, container[key]))
            last_key = (container, key)
        else:
            container[key] = _yaml_scalar(val)
            last_key = (container, key)

    # empty mappings that became list parents or stayed empty -> None
    def _fix(d: Any) -> Any:
        if isinstance(d, dict):
            return {k: (None if v == {} else _fix(v)) for k, v in d.items()}
        return d

    return _fix(root)


def load_yaml(path: Path) -> dict[str, Any]:
    """Load a small YAML file as a dict: PyYAML's safe loader when installed, else the subset parser."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        return parse_simple_yaml(text)
    try:
        data = yaml.safe_load(text)
    except Exception:
        return parse_simple_yaml(text)
    return data if isinstance(data, dict) else {}


def read_sidecar_hparams(folder: Path, names: Iterable[str], result: ReadResult) -> None:
    """Merge the first existing side file of ``names`` (YAML or JSON) in ``folder`` into hparams."""
    for name in names:
        p = Path(folder) / name
        if not p.is_file():
            continue
        if p.stat().st_size > SIDE_FILE_MAX_BYTES:
            result.notes.append(
                f"{name}: larger than {SIDE_FILE_MAX_BYTES // 1024} KiB, not read for hyperparameters"
            )
            continue
        try:
            if p.suffix == ".json":
                data = json.loads(p.read_text(encoding="utf-8", errors="replace"))
                data = data if isinstance(data, dict) else {}
            else:
                data = load_yaml(p)
        except Exception as e:
            result.notes.append(f"{name}: could not be read ({type(e).__name__}: {e})")
            continue
        flat = flatten(data)
        for k, v in flat.items():
            result.hparams.setdefault(k, v)
        result.notes.append(f"{len(flat)} hyperparameter(s) read from {name}")
        return
