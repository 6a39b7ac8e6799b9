"""Vectorised reading of records: the ``wall_time``/``step`` prefix of every record at once
(:func:`read_prefixes`), records grouped by suffix length (:func:`first_groups`), and the records
of one layout compared with their representative and read at fixed columns of a byte matrix
(:func:`scan_records`). See :mod:`.decode`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .framing import Buffer
from .layout import Layout, Slot

# --- vectorised extraction ----------------------------------------------------------------------
# The records of one layout are copied into a (records x width) byte matrix (one fancy-index
# gather of contiguous rows), so every later step reads fixed columns of it.
_KIND_DTYPE = {"f32": "<f4", "f64": "<f8", "i32": "<i4", "i64": "<i8", "f16": "<f2", "bf16": "<u2"}
_CHUNK_BYTES = 1 << 21


def row_matrix(buf: Buffer, starts: np.ndarray, width: int) -> np.ndarray:
    """``width`` bytes from each start, as a (len(starts), width) uint8 matrix. (A 1-D gather
    of a ``V<width>`` view over the bytes: about twice as fast as a 2-D strided view.)"""
    rows = buf.rows.get(width)
    if rows is None:
        rows = buf.rows[width] = np.ndarray(
            (len(buf.u8) - width + 1,), dtype=f"V{width}", buffer=buf.u8, strides=(1,)
        )
    return rows[starts].view(np.uint8).reshape(len(starts), width)


def _column(mat: np.ndarray, offset: int, dtype: str) -> np.ndarray:
    """A fixed-width field at ``offset`` of every row, as a strided (unaligned) view."""
    return np.ndarray(
        (mat.shape[0],), dtype=dtype, buffer=mat, offset=offset, strides=(mat.shape[1],)
    )


def slot_values(mat: np.ndarray, slot: Slot) -> np.ndarray:
    col = _column(mat, slot.offset, _KIND_DTYPE[slot.kind])
    if slot.kind == "bf16":
        return (col.astype(np.uint32) << np.uint32(16)).view(np.float32).astype(np.float64)
    return col.astype(np.float64)


def _varints(mat: np.ndarray, offset: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Varints of a known byte length at ``offset`` of every row; and which are well-formed."""
    value = np.zeros(mat.shape[0], dtype=np.uint64)
    ok = np.ones(mat.shape[0], dtype=bool)
    for k in range(length):
        byte = mat[:, offset + k]
        ok &= (byte >= 0x80) if k < length - 1 else (byte < 0x80)
        value |= (byte & np.uint8(0x7F)).astype(np.uint64) << np.uint64(7 * k)
    return value.view(np.int64), ok


@dataclass
class Scan:
    ok: np.ndarray  # bool per record: same structure as the representative
    steps: np.ndarray | None
    walls: np.ndarray | None
    values: list[np.ndarray]
    rest_hash: np.ndarray  # structure hash of the records that are not ok


def scan_records(buf: Buffer, starts: np.ndarray, lay: Layout) -> Scan:
    """Compare records with the first one (the representative) and read their data, in
    cache-sized chunks."""
    width = lay.width
    assert lay.mask is not None
    mask_w = lay.mask.view("<u8")
    live = np.flatnonzero(mask_w)
    mask_live = mask_w[live]
    chunk = max(1, min(1 << 16, _CHUNK_BYTES // width))
    n = len(starts)
    ok = np.empty(n, dtype=bool)
    steps = np.empty(n, dtype=np.int64) if lay.step is not None else None
    walls = np.empty(n, dtype=np.float64) if lay.wall is not None else None
    values = [np.empty(n, dtype=np.float64) for _ in lay.slots]
    hashes = []
    rep_w = None
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        mat = row_matrix(buf, starts[a:b], width)
        masked = mat.view("<u8")[:, live] & mask_live
        if rep_w is None:
            rep_w = masked[0].copy()
        good = rows_equal(masked, rep_w[None, :])
        if steps is not None:
            assert lay.step is not None
            steps[a:b], vok = _varints(mat, *lay.step)
            good &= vok
        ok[a:b] = good
        if walls is not None:
            assert lay.wall is not None
            walls[a:b] = _column(mat, lay.wall, "<f8")
        for out, slot in zip(values, lay.slots, strict=True):
            out[a:b] = slot_values(mat, slot)
        if not good.all():
            hashes.append(row_hash(masked[~good]))
    rest_hash = np.concatenate(hashes) if hashes else np.empty(0, np.uint64)
    return Scan(ok, steps, walls, values, rest_hash)


_ALL_TRUE = np.uint64(0x0101010101010101)  # eight numpy bools that are all True


def rows_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise equality of two 2-D uint64 arrays (``b`` may have one row). ``all(axis=1)`` over
    short rows is slow in numpy; instead the element-wise result (one byte per bool) is read back
    eight columns at a time as uint64 and compared with eight Trues."""
    eq = a == b
    pad = -eq.shape[1] % 8
    if pad:  # callers mostly pass whole 8-word rows; pad the others
        eq = np.concatenate([eq, np.ones((eq.shape[0], pad), dtype=bool)], axis=1)
    packed = np.ascontiguousarray(eq).view(np.uint64)
    ok = packed[:, 0] == _ALL_TRUE
    for j in range(1, packed.shape[1]):
        ok &= packed[:, j] == _ALL_TRUE
    return ok


def row_hash(words: np.ndarray) -> np.ndarray:
    h = np.zeros(len(words), dtype=np.uint64)
    mult = np.uint64(0x9E3779B97F4A7C15)
    for j in range(words.shape[1]):
        h ^= words[:, j]
        h *= mult
        h ^= h >> np.uint64(29)
    return h


@dataclass
class Prefix:
    """Most events start ``09 <wall_time: 8 bytes> 10 <step varint>``: that prefix is decoded for
    all records at once, and layouts are built for what follows it (the *suffix*), so that one
    layout covers a tag whatever the byte length of its step. ``kind`` 0: wall and step, 1: wall
    only (step 0), 2: neither recognised (the layout covers the whole payload)."""

    kind: np.ndarray
    suffix: np.ndarray  # payload offset where the suffix starts
    wall: np.ndarray
    step: np.ndarray


_PREFIX_WIDTH = 24  # 09 + wall (8) + 10 + step (up to 10) = 20 bytes, rounded up


def read_prefixes(buf: Buffer, starts: np.ndarray, ends: np.ndarray) -> Prefix:
    n = len(starts)
    kind = np.empty(n, dtype=np.int8)
    suffix = np.empty(n, dtype=np.int64)
    wall = np.zeros(n, dtype=np.float64)
    step = np.zeros(n, dtype=np.uint64)
    chunk = 1 << 16
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        mat = row_matrix(buf, starts[a:b], _PREFIX_WIDTH)
        length = ends[a:b] - starts[a:b]
        wall_ok = (mat[:, 0] == 0x09) & (length >= 9)
        step_ok = wall_ok & (mat[:, 9] == 0x10) & (length >= 11)
        vlen, val = _varint_words(mat, 10)
        step_ok &= (vlen > 0) & (10 + vlen <= length)
        kind[a:b] = np.where(step_ok, 0, np.where(wall_ok, 1, 2))
        suffix[a:b] = starts[a:b] + np.where(step_ok, 10 + vlen, np.where(wall_ok, 9, 0))
        if wall_ok.any():
            wall[a:b] = np.where(wall_ok, _column(mat, 1, "<f8"), 0.0)
        step[a:b] = np.where(step_ok, val, np.uint64(0))
    return Prefix(kind, suffix, wall, step.view(np.int64))


_MSBS = np.uint64(0x8080808080808080)


def _varint_words(mat: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Length (0 if not a varint of at most 10 bytes) and value of the varint at ``offset`` of
    every row, with 64-bit word arithmetic (the rows must have 10 bytes from ``offset``)."""
    w = _column(mat, offset, "<u8").copy()
    stop = ~w & _MSBS  # the MSB of every byte that ends a varint
    low = stop & (~stop + np.uint64(1))  # the first of them
    short = low != 0
    # low is 0x80 << 8k: multiplying 1 << 8k by 0x0001020304050607 puts k in the top byte
    k = ((low >> np.uint64(7)) * np.uint64(0x0001020304050607)) >> np.uint64(56)
    vlen = np.where(short, k.astype(np.int64) + 1, 0)
    # keep the varint's bytes, drop the continuation bits, pack the 7-bit groups (SWAR)
    x = w & ((low << np.uint64(1)) - np.uint64(1)) & np.uint64(0x7F7F7F7F7F7F7F7F)
    x = (x & np.uint64(0x007F007F007F007F)) | ((x & np.uint64(0x7F007F007F007F00)) >> np.uint64(1))
    x = (x & np.uint64(0x00003FFF00003FFF)) | ((x & np.uint64(0x3FFF00003FFF0000)) >> np.uint64(2))
    x = (x & np.uint64(0x000000000FFFFFFF)) | ((x & np.uint64(0x0FFFFFFF00000000)) >> np.uint64(4))
    x[~short] = 0
    if not short.all():  # 9 or 10 bytes: steps >= 2**56 or negative
        for i in np.flatnonzero(~short).tolist():
            row = mat[i, offset : offset + 10].tolist()
            v = 0
            for k, byte in enumerate(row):
                v |= (byte & 0x7F) << (7 * k)
                if byte < 0x80:
                    vlen[i] = k + 1
                    x[i] = v & 0xFFFFFFFFFFFFFFFF
                    break
    return vlen, x


def first_groups(pre: Prefix, ends: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Records grouped by prefix kind and suffix length: a cheap first guess of "same layout"
    (the structural comparison decides). Returns each record's group and each group's records
    (in record order)."""
    if not len(ends):
        return np.empty(0, dtype=np.int32), []
    key = (ends - pre.suffix) * 2 + (pre.kind == 2)
    if key.max() < (1 << 22):
        counts = np.bincount(key)
        present = np.flatnonzero(counts)
        lut = np.zeros(len(counts), dtype=np.int32)
        lut[present] = np.arange(len(present), dtype=np.int32)
        codes = lut[key]
        sizes = counts[present]
    else:
        _u, codes, sizes = np.unique(key, return_inverse=True, return_counts=True)
        codes = codes.astype(np.int32)
    if len(sizes) == 1:
        return codes, [np.arange(len(key))]
    small = np.min_scalar_type(max(len(sizes) - 1, 0))
    order = np.argsort(codes.astype(small), kind="stable")
    return codes, np.split(order, np.cumsum(sizes)[:-1])
