"""Sniffing a text file: find its header line and separator (:func:`find_layout`) and decide
which table format it is, or why it is not a training log (:func:`sniff`). Also the vocabulary the
readers share: cell kinds, missing-value tokens, the names of step and wall-time columns."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .text import SNIFF_BYTES, binary_reason, decode_text, normalise_newlines, strip_nul_tail

#: how far sniffing reads on when the first lines are very long
SNIFF_MAX_BYTES = 16 * 2**20

# cells that mean "nothing logged here"
MISSING_TOKENS = ["", "NA", "N/A", "n/a", "na", "null", "NULL", "None", "none", "<NA>", "#N/A", "-"]
_MISSING = frozenset(MISSING_TOKENS)

_NUM_RE = re.compile(
    r"^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity|nan)$", re.IGNORECASE
)
_DECIMAL_COMMA_RE = re.compile(r"^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$")
# hand-rolled PyTorch logs often write str(tensor): "tensor(0.5321, device='cuda:0')"
TENSOR_RE = re.compile(r"^\s*tensor\(\s*([+-]?[\d.]+(?:[eE][+-]?\d+)?|nan|inf|-inf)", re.IGNORECASE)

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


@lru_cache(maxsize=4096)  # asked for the same few column names again and again
def norm_name(name: str) -> str:
    """Lower-case a column name and turn spaces/hyphens into underscores, for name matching."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


# ---------------------------------------------------------------------------------------------
# finding the header


def split_fields(line: str, sep: str) -> list[str]:
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


def cell_kind(cell: str, decimal_comma: bool) -> str:
    """'num', 'missing' or 'text' for one stripped cell."""
    if cell in _MISSING:
        return "missing"
    if _NUM_RE.match(cell) or TENSOR_RE.match(cell):
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


def _mostly_numbers(kinds: list[str]) -> bool:
    """At least one number among the cells, and no fewer numbers than text cells."""
    n_num = kinds.count("num")
    return n_num >= 1 and n_num >= kinds.count("text")


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
        # header candidates are the first 30 lines, each judged by the 20 lines below it
        split_cache = [split_fields(ln, sep) for ln in lines[:50]]
        decimal_comma = sep in (";", "\t", " ", "|") and any(
            _DECIMAL_COMMA_RE.match(c) for fs in split_cache[:20] for c in fs
        )
        # the kinds of the cells of each line, once (each line is a row of up to 20 headers),
        # and what makes a line a row under a header: its cell count (about the header's, or
        # exactly one under a one-name header) and numbers dominating its cells
        kinds_cache = [[cell_kind(c, decimal_comma) for c in fs] for fs in split_cache]
        widths = [len(fs) for fs in split_cache]
        numeric = [_mostly_numbers(kinds) for kinds in kinds_cache]
        for i in range(min(len(head), 30)):
            hdr = split_cache[i]
            k = len(hdr)
            if k == 0 or all(h == "" for h in hdr):
                continue
            kinds = kinds_cache[i]
            if "num" in kinds or "text" not in kinds:
                continue
            # rows after the header; a repeat of the header line (appended log) is not counted
            later = [
                j for j in range(i + 1, min(i + 21, len(split_cache))) if split_cache[j] != hdr
            ]
            if not later:
                continue
            rows = [split_cache[j] for j in later]
            lo, hi = (1, 1) if k == 1 else (k - 1, k + 1)
            good = sum(1 for j in later if numeric[j] and lo <= widths[j] <= hi)
            if good == 0 or (good < 0.8 * len(rows) and not (good >= 2 and len(rows) - good <= 1)):
                continue
            exact = sum(len(r) == k for r in rows)
            score = (good / len(rows), exact / len(rows), good, k)
            if best is None or score > best[0]:
                best = (score, Layout(sep, i, hdr, decimal_comma, good))
    return best[1] if best else None


def looks_like_prose(lines: list[str]) -> bool:
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
        first_epoch_zero = bool(first_row and first_row[0].strip() in ("0", "0.0"))
        if sorted_rest and ("loss" in names or first_epoch_zero):
            return "keras-csv"
    return "csv"


def _looks_like_log(header: list[str]) -> bool:
    names = [norm_name(h) for h in header]
    return any(n in STEP_NAMES for n in names) or any(_METRIC_WORDS.search(h) for h in header)


#: extensions of files that are only tables (never tried as console output)
TABLE_ONLY_EXT = {".csv", ".tsv", ".dat"}
#: extensions of files tried as tables first, then as console output (text training logs)
TABLE_OR_TEXT_EXT = {".txt", ".log"}
#: extensions (besides none at all) of files tried only as console output: what job schedulers
#: and shell redirections name them (SLURM ``slurm-123.out``, ``nohup.out``, ``train.err``)
TEXT_ONLY_EXT = {".out", ".err", ".stdout", ".stderr", ".output"}


def sniff(path: Path) -> tuple[str | None, str]:
    """Decide which log format a text file holds, reading at most its first 64 KiB.

    Returns ``(format, "")`` with format one of ``keras-csv``, ``lightning-csv``,
    ``ultralytics-csv``, ``csv`` (tables) or ``text`` (console output, see
    :mod:`analyzer.readers.console`), or ``(None, reason)`` saying why the file is not a log.
    ``.csv``/``.tsv``/``.dat`` files are tried as tables only; ``.txt``/``.log`` as tables, then
    as console output; other names (``.out``, no extension) as console output only.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in TABLE_ONLY_EXT and ext not in TABLE_OR_TEXT_EXT:
        return _sniff_console(path)
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
    raw, _ = strip_nul_tail(raw)
    if not raw:
        return None, "only NUL bytes (a crash while writing?)"
    why = binary_reason(raw)
    if why and ext in TABLE_OR_TEXT_EXT and (b"\x08" in raw or b"\x1b" in raw):
        # terminal output: progress bars redrawn with backspaces, colour codes
        from .console import sniff_head

        if sniff_head(raw, truncated)[0]:
            return "text", ""
    if why:
        return None, why
    text = normalise_newlines(decode_text(raw))
    lines = text.split("\n")
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # last line may be cut
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return None, "empty file (only blank lines)"
    layout = find_layout(lines)
    if layout is None or not _looks_like_log(layout.header):
        if layout is None:
            if len(lines) == 1:
                why = "a single line (a header without data rows?)"
            elif looks_like_prose(lines):
                why = "looks like prose, not a table"
            else:
                why = "no header with numeric rows below it"
        else:
            why = (
                "numeric table without a step/epoch column or metric-like column names "
                "(looks like a data set, not a training log)"
            )
        if ext in TABLE_OR_TEXT_EXT:
            from .console import sniff_head

            is_log, about, near = sniff_head(raw, truncated)
            if is_log:
                return "text", ""
            if near:  # lines that nearly make a training log: say why they do not
                why = f"{why}; {about}"
        return None, why
    first_row = split_fields(lines[layout.header_index + 1], layout.sep)
    return classify(layout.header, first_row), ""


def _sniff_console(path: Path) -> tuple[str | None, str]:
    """A file that is not named like a table: console output (``text``) or why not."""
    from .console import sniff_head

    what = f"({path.suffix.lower() or 'no extension'})"
    try:
        with open(path, "rb") as fh:
            raw = fh.read(SNIFF_BYTES)
            truncated = bool(fh.read(1))
    except OSError as e:
        return None, f"cannot read: {e.strerror or e}"
    if not raw:
        return None, f"not a log format curvelint reads {what}: empty file (0 bytes)"
    is_log, about, near = sniff_head(raw, truncated)
    if is_log:
        return "text", ""
    if near:
        return None, f"not a log format curvelint reads {what}: {about}"
    return None, f"not a log format curvelint reads {what}"
