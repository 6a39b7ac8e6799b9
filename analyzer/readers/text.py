"""Bytes of a text log to text: BOMs and encodings, line endings, a NUL tail left by a crash,
and telling binary data from text. Used by every text reader."""

from __future__ import annotations

import re

SNIFF_BYTES = 64 * 1024

#: control bytes that text does not hold (tab, newline, form feed and carriage return it does)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))

_RULER_RE = re.compile(r"^[ \t|:+=-]*(?:-{3,}|={3,})[ \t|:+=-]*$\n?", re.MULTILINE)


def decode_text(raw: bytes) -> str:
    """Bytes to text: BOMs (UTF-8, UTF-16) honoured, undecodable bytes replaced, not fatal."""
    if raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff"):
        return raw.decode("utf-16", errors="replace")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")


def normalise_newlines(text: str) -> str:
    """\\r\\r\\n, \\r\\n and lone \\r become \\n (Windows tools doubling the CR happens);
    ruler lines of a text table (``|---|---|``, ``+====+``) are removed."""
    if "\r" in text:
        text = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    if ("---" in text or "===" in text) and _RULER_RE.search(text):
        text = _RULER_RE.sub("", text)
    return text


def strip_nul_tail(raw: bytes) -> tuple[bytes, int]:
    """The bytes without a run of NULs at the end (what a crash while writing leaves behind)
    and how many were removed."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw, 0  # UTF-16: NUL bytes are half of every character
    kept = raw.rstrip(b"\x00")
    return kept, len(raw) - len(kept)


def binary_reason(raw: bytes) -> str | None:
    """Say why a byte string (its NUL tail already stripped) is not text, or None when it is."""
    sample = raw[:SNIFF_BYTES]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 text
    if b"\x00" in sample:
        return "binary data (NUL bytes), not a text table"
    control = len(sample) - len(sample.translate(None, _CONTROL))
    if sample and control / len(sample) > 0.05:
        return "binary data (control bytes), not a text table"
    return None
