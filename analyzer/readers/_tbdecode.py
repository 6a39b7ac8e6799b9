"""Decoding the ``Event`` records of one event file into scalar rows.

Two decoders give the same answer:

* :func:`event_items` — the reference: parse the record with the protobuf classes the
  ``tensorboard`` package ships and take the scalars out of it. Used for every record that the fast
  path does not handle, and to check the fast path.
* :func:`decode_file` — the fast path, by *layout templates*. Nearly every event starts
  ``09 <wall_time: 8 bytes> 10 <step varint>``; that prefix is decoded for all records at once
  (the varint with 64-bit word arithmetic). What follows (the *suffix*: the summary) is grouped by
  length. For each group, one representative record is parsed by a tiny protobuf walker
  (:func:`build_layout`) that notes where the variable data is (each scalar: 2, 4 or 8 bytes; the
  contents of values it skips, such as images or histograms) and is checked once against
  :func:`event_items` (validated layouts are cached, also across files). Every other record of the
  group whose remaining ("structural") bytes equal the representative's — compared as 64-bit
  words, a few numpy operations per group over a matrix of all suffixes — has exactly the same
  protobuf structure with other data in those slots, so its value is read at the same offset.
  Records that differ (another tag of the same length) get up to two more rounds with a new
  representative, then a per-group comparison with a split by a hash of their structural bytes;
  what is still left goes through :func:`event_items`. A walker that does not recognise
  something (a session log, hparams, two values of a oneof, a field twice, a tensor with a shape)
  gives up and lets protobuf decide, so the fast path is an optimisation, never a second opinion.

What counts as a scalar (both paths): ``simple_value`` (TF1, PyTorch, tensorboardX), and a tensor
with one element of a numeric dtype (``tensor_content`` or ``float_val``/``double_val``/... as TF2,
Keras and PyTorch ``new_style`` write them) whose value carries no plugin metadata or the
``scalars`` plugin. Tensors of other plugins, images, histograms, audio, graphs are skipped without
parsing their contents. The run-level filter (a tag whose first plugin declaration is not
``scalars`` keeps no tensor rows) is applied by the caller with :attr:`FileRows.decls`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2

from ._tfrecord import PAD, Buffer

_SESSION_START = 1  # SessionLog.START

# TensorFlow dtypes read as scalars: enum -> numpy dtype of one element
_NUMERIC = {
    1: np.dtype("<f4"),  # DT_FLOAT
    2: np.dtype("<f8"),  # DT_DOUBLE
    3: np.dtype("<i4"),  # DT_INT32
    4: np.dtype("u1"),  # DT_UINT8
    5: np.dtype("<i2"),  # DT_INT16
    6: np.dtype("i1"),  # DT_INT8
    9: np.dtype("<i8"),  # DT_INT64
    14: np.dtype("<u2"),  # DT_BFLOAT16 (bit pattern)
    17: np.dtype("<u2"),  # DT_UINT16
    19: np.dtype("<f2"),  # DT_HALF
    22: np.dtype("<u4"),  # DT_UINT32
    23: np.dtype("<u8"),  # DT_UINT64
}
_VAL_FIELD = {
    1: "float_val",
    2: "double_val",
    3: "int_val",
    4: "int_val",
    5: "int_val",
    6: "int_val",
    9: "int64_val",
    14: "half_val",
    17: "int_val",
    19: "half_val",
    22: "uint32_val",
    23: "uint64_val",
}
# dtypes the fast path decodes from tensor_content (enum -> slot kind)
_FAST_KINDS = {1: "f32", 2: "f64", 3: "i32", 9: "i64", 19: "f16", 14: "bf16"}
_KIND_SIZE = {"f32": 4, "f64": 8, "i32": 4, "i64": 8, "f16": 2, "bf16": 2}


def _bf16(bits: int) -> float:
    return float(np.array([bits << 16], dtype=np.uint32).view(np.float32)[0])


def tensor_scalar(t: Any) -> float | None:
    """The value of a one-element numeric ``TensorProto``, or None if it is not one."""
    dt = t.dtype
    npdt = _NUMERIC.get(dt)
    if npdt is None:
        return None
    shape = t.tensor_shape
    if shape.unknown_rank:
        return None
    n = 1
    for d in shape.dim:
        n *= d.size
    if n != 1:
        return None
    content = t.tensor_content
    if content:
        if len(content) != npdt.itemsize:
            return None
        x = np.frombuffer(content, dtype=npdt)[0]
        if dt == 14:
            return _bf16(int(x))
        return float(x)
    vals = getattr(t, _VAL_FIELD[dt])
    if len(vals) != 1:
        return None
    x = vals[0]
    if dt == 19:
        return float(np.array([x & 0xFFFF], dtype=np.uint16).view(np.float16)[0])
    if dt == 14:
        return _bf16(x & 0xFFFF)
    return float(x)


def _plain(value: Any) -> Any:
    """google.protobuf.Value -> plain python."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return value.number_value
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [_plain(v) for v in value.list_value.values]
    if kind == "struct_value":
        return {k: _plain(v) for k, v in value.struct_value.fields.items()}
    return None


def hparams_from_content(content: bytes) -> dict[str, Any] | None:
    """The hyper-parameters of an HParams plugin ``session_start_info``, else None."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    try:
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
    except DecodeError:
        return None
    if data.WhichOneof("data") != "session_start_info":
        return None
    return {k: _plain(v) for k, v in sorted(data.session_start_info.hparams.items())}


@dataclass
class EventItems:
    """What one event holds for curvelint."""

    rows: list[tuple[str, float, bool]] = field(default_factory=list)  # (tag, value, is_tensor)
    decls: list[tuple[str, str]] = field(default_factory=list)  # (tag, plugin name)
    start: bool = False  # SessionLog.START
    hparams: dict[str, Any] | None = None
    step: int = 0
    wall_time: float = 0.0


def event_items(ev: Any) -> EventItems:
    """Reference extraction from a parsed ``Event`` (see the module docstring for the rules)."""
    out = EventItems(step=ev.step, wall_time=ev.wall_time)
    what = ev.WhichOneof("what")
    if what == "session_log":
        out.start = ev.session_log.status == _SESSION_START
        return out
    if what != "summary":
        return out
    for v in ev.summary.value:
        plugin = v.metadata.plugin_data.plugin_name if v.HasField("metadata") else ""
        if plugin:
            out.decls.append((v.tag, plugin))
            if plugin == "hparams":
                hp = hparams_from_content(v.metadata.plugin_data.content)
                if hp is not None:
                    out.hparams = {**(out.hparams or {}), **hp}
        kind = v.WhichOneof("value")
        if kind == "simple_value":
            out.rows.append((v.tag, float(v.simple_value), False))
        elif kind == "tensor" and plugin in ("", "scalars"):
            x = tensor_scalar(v.tensor)
            if x is not None:
                out.rows.append((v.tag, x, True))
    return out


def parse_event(payload: bytes) -> EventItems | None:
    try:
        return event_items(event_pb2.Event.FromString(payload))
    except (DecodeError, RuntimeError, ValueError):
        return None


# --- the layout walker --------------------------------------------------------------------------
class _Unusual(Exception):
    """The record is valid or not, but not something the fast path handles: use protobuf."""


def _varint(p: bytes, i: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if i >= end or shift > 63:
            raise _Unusual
        b = p[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, i
        shift += 7


def _fields(p: bytes, i: int, end: int) -> list[tuple[int, int, int, int, int]]:
    """(field number, wire type, value start, value end, varint value) of a message."""
    out = []
    while i < end:
        key, i = _varint(p, i, end)
        fn, wt = key >> 3, key & 7
        if fn == 0:
            raise _Unusual
        if wt == 0:
            v, j = _varint(p, i, end)
            out.append((fn, wt, i, j, v))
            i = j
        elif wt == 1 or wt == 5:
            j = i + (8 if wt == 1 else 4)
            if j > end:
                raise _Unusual
            out.append((fn, wt, i, j, 0))
            i = j
        elif wt == 2:
            n, i = _varint(p, i, end)
            if n > end - i:
                raise _Unusual
            out.append((fn, wt, i, i + n, 0))
            i += n
        else:
            raise _Unusual
    return out


def _once(fields: list, numbers: tuple[int, ...]) -> None:
    """A singular field or oneof group appearing twice is merged by protobuf: not our business."""
    if sum(1 for f in fields if f[0] in numbers) > 1:
        raise _Unusual


def _text(p: bytes, a: int, b: int) -> str:
    try:
        return p[a:b].decode("utf-8")
    except UnicodeDecodeError:
        raise _Unusual from None


@dataclass(frozen=True)
class Slot:
    tag: str
    kind: str  # f32 f64 i32 i64 f16 bf16
    offset: int
    is_tensor: bool


@dataclass
class Layout:
    """Where the data sits in a record; the other ("structural") bytes are the same in every record
    of this layout."""

    length: int
    wall: int | None
    step: tuple[int, int] | None  # offset, varint length
    slots: list[Slot]
    decls: list[tuple[str, str]]
    mask: np.ndarray | None = None  # 0xFF for each structural byte, 0 for data (uint8, padded)

    @property
    def width(self) -> int:
        """Row width used for the vectorised comparison: the length rounded up to 8 bytes."""
        return (self.length + 7) // 8 * 8


_OPAQUE_EVENT = (3, 4, 6, 8, 9, 10)  # file_version graph_def log_message run_metadata meta_graph
_ONEOF_EVENT = (3, 4, 5, 6, 7, 8, 9)
_ONEOF_VALUE = (2, 3, 4, 5, 6, 8)


def build_layout(p: bytes, *, suffix: bool = False) -> Layout | None:
    """Layout of one ``Event`` payload, or None when the fast path should not take it.

    ``suffix``: ``p`` is what follows a ``wall_time``/``step`` prefix that the caller decodes
    itself, so those fields must not appear again (protobuf would let the last one win).
    """
    try:
        return _build_layout(p, suffix)
    except _Unusual:
        return None


def _build_layout(p: bytes, suffix: bool) -> Layout:
    n = len(p)
    data: list[tuple[int, int]] = []
    lay = Layout(length=n, wall=None, step=None, slots=[], decls=[])
    ev = _fields(p, 0, n)
    _once(ev, (1,))
    _once(ev, (2,))
    _once(ev, _ONEOF_EVENT)
    _once(ev, (10,))
    for fn, wt, a, b, _v in ev:
        if suffix and fn in (1, 2):
            raise _Unusual
        if fn == 1:
            if wt != 1:
                raise _Unusual
            lay.wall = a
            data.append((a, b))
        elif fn == 2:
            if wt != 0:
                raise _Unusual
            lay.step = (a, b - a)
            data.append((a, b))
        elif fn == 5:
            if wt != 2:
                raise _Unusual
            _summary(p, a, b, lay, data)
        elif fn == 7:
            raise _Unusual  # session logs are rare: protobuf reads them
        elif fn in _OPAQUE_EVENT:
            if wt != 2:
                raise _Unusual
            data.append((a, b))
    mask = np.full(lay.width, 0xFF, dtype=np.uint8)
    mask[n:] = 0
    for a, b in data:
        mask[a:b] = 0
    lay.mask = mask
    return lay


def _summary(p: bytes, a: int, b: int, lay: Layout, data: list) -> None:
    for fn, wt, va, vb, _v in _fields(p, a, b):
        if fn == 1:
            if wt != 2:
                raise _Unusual
            _value(p, va, vb, lay, data)


def _value(p: bytes, a: int, b: int, lay: Layout, data: list) -> None:
    fs = _fields(p, a, b)
    _once(fs, (1,))
    _once(fs, (9,))
    _once(fs, _ONEOF_VALUE)
    tag = ""
    plugin = ""
    kind = None
    for fn, wt, va, vb, _v in fs:
        if fn in (1, 3, 4, 5, 6, 7, 8, 9) and wt != 2 or fn == 2 and wt != 5:
            raise _Unusual
        if fn == 1:
            tag = _text(p, va, vb)
        elif fn == 9:
            plugin = _plugin(p, va, vb)
        elif fn in _ONEOF_VALUE:
            kind = (fn, va, vb)
    if plugin == "hparams":
        raise _Unusual  # its content is parsed by the protobuf classes
    if plugin:
        lay.decls.append((tag, plugin))
    if kind is None:
        return
    fn, va, vb = kind
    if fn == 2:
        lay.slots.append(Slot(tag, "f32", va, False))
        data.append((va, vb))
    elif fn == 8 and plugin in ("", "scalars"):
        _tensor(p, va, vb, tag, lay, data)
    else:  # image, histogram, audio, or a tensor of another plugin: skipped unread
        data.append((va, vb))


def _plugin(p: bytes, a: int, b: int) -> str:
    md = _fields(p, a, b)
    _once(md, (1,))
    name = ""
    for fn, wt, va, vb, _v in md:
        if fn == 1:
            if wt != 2:
                raise _Unusual
            pd_fields = _fields(p, va, vb)
            _once(pd_fields, (1,))
            _once(pd_fields, (2,))
            for fn2, wt2, xa, xb, _x in pd_fields:
                if fn2 in (1, 2) and wt2 != 2:
                    raise _Unusual
                if fn2 == 1:
                    name = _text(p, xa, xb)
    return name


def _tensor(p: bytes, a: int, b: int, tag: str, lay: Layout, data: list) -> None:
    fs = _fields(p, a, b)
    for num in (1, 2, 4):
        _once(fs, (num,))
    dtype = 0
    content = None
    for fn, wt, va, vb, v in fs:
        if fn == 1:
            if wt != 0:
                raise _Unusual
            dtype = v
        elif fn == 2:
            if wt != 2:
                raise _Unusual
            if vb > va:
                raise _Unusual  # a shape with dimensions: let protobuf decide
        elif fn == 4:
            if wt != 2:
                raise _Unusual
            content = (va, vb)
    if dtype not in _NUMERIC:
        data.append((a, b))  # strings and other non-numeric tensors: skipped unread
        return
    kind = _FAST_KINDS.get(dtype)
    if kind is None:
        raise _Unusual
    if content is not None:
        va, vb = content
        if vb - va != _KIND_SIZE[kind]:
            raise _Unusual
        lay.slots.append(Slot(tag, kind, va, True))
        data.append((va, vb))
        return
    want = {1: (5, 5, 4, "f32"), 2: (6, 1, 8, "f64")}.get(dtype)
    if want is None:
        raise _Unusual
    num, unpacked_wt, size, kind = want
    occ = [f for f in fs if f[0] == num]
    if len(occ) != 1:
        raise _Unusual
    _fn, wt, va, vb, _v = occ[0]
    if not (wt == 2 and vb - va == size or wt == unpacked_wt):
        raise _Unusual
    lay.slots.append(Slot(tag, kind, va, True))
    data.append((va, vb))


# --- vectorised extraction ----------------------------------------------------------------------
# The records of one layout are copied into a (records x width) byte matrix (one fancy-index
# gather of contiguous rows), so every later step reads fixed columns of it.
_KIND_DTYPE = {"f32": "<f4", "f64": "<f8", "i32": "<i4", "i64": "<i8", "f16": "<f2", "bf16": "<u2"}
_CHUNK_BYTES = 1 << 21


def _row_matrix(buf: Buffer, starts: np.ndarray, width: int) -> np.ndarray:
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


def _values(mat: np.ndarray, slot: Slot) -> np.ndarray:
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
class _Scan:
    ok: np.ndarray  # bool per record: same structure as the representative
    steps: np.ndarray | None
    walls: np.ndarray | None
    values: list[np.ndarray]
    rest_hash: np.ndarray  # structure hash of the records that are not ok


def _scan(buf: Buffer, starts: np.ndarray, lay: Layout) -> _Scan:
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
        mat = _row_matrix(buf, starts[a:b], width)
        masked = mat.view("<u8")[:, live] & mask_live
        if rep_w is None:
            rep_w = masked[0].copy()
        good = _rows_equal(masked, rep_w[None, :])
        if steps is not None:
            assert lay.step is not None
            steps[a:b], vok = _varints(mat, *lay.step)
            good &= vok
        ok[a:b] = good
        if walls is not None:
            assert lay.wall is not None
            walls[a:b] = _column(mat, lay.wall, "<f8")
        for out, slot in zip(values, lay.slots, strict=True):
            out[a:b] = _values(mat, slot)
        if not good.all():
            hashes.append(_row_hash(masked[~good]))
    rest_hash = np.concatenate(hashes) if hashes else np.empty(0, np.uint64)
    return _Scan(ok, steps, walls, values, rest_hash)


_ALL_TRUE = np.uint64(0x0101010101010101)  # eight numpy bools that are all True


def _rows_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
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


def _row_hash(words: np.ndarray) -> np.ndarray:
    h = np.zeros(len(words), dtype=np.uint64)
    mult = np.uint64(0x9E3779B97F4A7C15)
    for j in range(words.shape[1]):
        h ^= words[:, j]
        h *= mult
        h ^= h >> np.uint64(29)
    return h


@dataclass
class FileRows:
    """The scalar rows of one file, in logged order (record order, then value order)."""

    tags: list[str]
    tag: np.ndarray  # int32 index into tags
    step: np.ndarray  # int64
    value: np.ndarray  # float64
    wall: np.ndarray  # float64
    tensor: np.ndarray  # bool: came from a tensor summary (subject to the plugin filter)
    decls: dict[str, str]  # tag -> first plugin declared for it in this file
    starts: list[tuple[int, int]]  # (rows logged before it, step) of each SessionLog.START
    hparams: dict[str, Any]
    undecodable: int = 0  # records with a valid checksum that are not a valid Event
    fast_records: int = 0
    slow_records: int = 0


_MAX_DEPTH = 4


@dataclass
class _Prefix:
    """Most events start ``09 <wall_time: 8 bytes> 10 <step varint>``: that prefix is decoded for
    all records at once, and layouts are built for what follows it (the *suffix*), so that one
    layout covers a tag whatever the byte length of its step. ``kind`` 0: wall and step, 1: wall
    only (step 0), 2: neither recognised (the layout covers the whole payload)."""

    kind: np.ndarray
    suffix: np.ndarray  # payload offset where the suffix starts
    wall: np.ndarray
    step: np.ndarray


_PREFIX_WIDTH = 24  # 09 + wall (8) + 10 + step (up to 10) = 20 bytes, rounded up


def _prefix(buf: Buffer, starts: np.ndarray, ends: np.ndarray) -> _Prefix:
    n = len(starts)
    kind = np.empty(n, dtype=np.int8)
    suffix = np.empty(n, dtype=np.int64)
    wall = np.zeros(n, dtype=np.float64)
    step = np.zeros(n, dtype=np.uint64)
    chunk = 1 << 16
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        mat = _row_matrix(buf, starts[a:b], _PREFIX_WIDTH)
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
    return _Prefix(kind, suffix, wall, step.view(np.int64))


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


def _first_groups(pre: _Prefix, ends: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
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


@dataclass
class _Group:
    members: np.ndarray
    lay: Layout
    steps: np.ndarray | None  # for kind-2 layouts (step inside the layout)
    walls: np.ndarray | None
    values: list[np.ndarray]


# Validated layouts by (whole payload?, length) and then by mask: {mask bytes: (mask, {structural
# bytes: layout})}. A record whose bytes under a cached mask equal a cached layout's structural
# bytes has that layout: no need to parse and check it again (the benchmark's 200 runs share 5
# layouts). Layouts of one length mostly share a few masks (other tags, same positions), so a
# lookup costs one masking per distinct mask, not one per layout.
_CACHE: dict[tuple[int, int], dict[bytes, tuple[np.ndarray, dict[bytes, Layout]]]] = {}
_CACHE_MAX = 4096
_cache_size = 0


def _cached_layout(kind: int, suffix: bytes) -> Layout | None:
    masks = _CACHE.get((kind, len(suffix)))
    if not masks:
        return None
    raw = np.frombuffer(suffix, dtype=np.uint8)
    for mask, layouts in masks.values():
        lay = layouts.get((raw & mask).tobytes())
        if lay is not None:
            return lay
    return None


def _remember(kind: int, suffix: bytes, lay: Layout) -> None:
    global _cache_size
    if _cache_size >= _CACHE_MAX:
        _CACHE.clear()
        _cache_size = 0
    assert lay.mask is not None
    mask = lay.mask[: len(suffix)]
    sig = (np.frombuffer(suffix, dtype=np.uint8) & mask).tobytes()
    masks = _CACHE.setdefault((kind, len(suffix)), {})
    masks.setdefault(mask.tobytes(), (mask.copy(), {}))[1][sig] = lay
    _cache_size += 1


class _Budget:
    """How many new layouts a chunk may still build for groups of a few records. Building and
    checking a layout costs more than parsing a few records with protobuf, so a file of mostly
    unique records (text summaries of every length, say) is not made slower than protobuf."""

    SMALL = 4  # a group of fewer records is "small"

    def __init__(self, builds: int = 64):
        self.builds = builds

    def allows(self, size: int) -> bool:
        if size >= self.SMALL:
            return True
        if self.builds > 0:
            self.builds -= 1
            return True
        return False


def _layout_for(
    buf: Buffer,
    pre: _Prefix,
    starts: np.ndarray,
    ends: np.ndarray,
    rep: int,
    check: bool,
    budget: _Budget,
    size: int,
) -> Layout | None:
    """The validated layout of record ``rep`` (from the cache when its structure was seen
    before), or None: the record goes to protobuf."""
    kind = int(pre.kind[rep] == 2)
    suffix = buf.bytes(int(pre.suffix[rep]), int(ends[rep]))
    lay = _cached_layout(kind, suffix)
    if lay is not None:
        return lay
    if not budget.allows(size):
        return None
    lay = build_layout(suffix, suffix=not kind)
    if lay is None or lay.width == 0:
        return None  # nothing to compare (an empty record, or wall_time/step only): protobuf
    if check:
        payload = buf.bytes(int(starts[rep]), int(ends[rep]))
        if not _layout_agrees(lay, suffix, payload, int(pre.step[rep]), float(pre.wall[rep])):
            return None
        _remember(kind, suffix, lay)
    return lay


_UNIFORM_WIDTH = 128  # widest layout the one-pass comparison takes
assert _UNIFORM_WIDTH <= PAD - 8  # rows are gathered from any payload start


@dataclass
class _Uniform:
    """What the one-pass comparison read, per record of the chunk."""

    handled: np.ndarray  # bool: the record has the layout of its group's representative
    has_row: np.ndarray  # bool: ... and that layout holds one scalar
    tag: np.ndarray  # int32 index into tags (where has_row)
    value: np.ndarray  # float64 (where has_row)
    tensor: np.ndarray  # bool (where has_row)
    tags: list[str]
    decls: list[tuple[int, Layout]]  # (first record with the layout, layout)


_UNIFORM_ROUNDS = 3


def _uniform_pass(
    buf: Buffer,
    pre: _Prefix,
    starts: np.ndarray,
    ends: np.ndarray,
    codes: np.ndarray,
    firsts: list[np.ndarray],
    check: bool,
    budget: _Budget,
) -> _Uniform:
    """Compare every record with its group's representative with a few array operations per
    group (one gather of all suffixes, in group order) and read the value of single-value
    layouts. Records that differ from their representative (another tag of the same length, say)
    get more rounds, split by their structural bytes (see :func:`_split`)."""
    n = len(codes)
    out = _Uniform(
        handled=np.zeros(n, dtype=bool),
        has_row=np.zeros(n, dtype=bool),
        tag=np.zeros(n, dtype=np.int32),
        value=np.zeros(n, dtype=np.float64),
        tensor=np.zeros(n, dtype=bool),
        tags=[],
        decls=[],
    )
    tag_ids: dict[str, int] = {}
    groups = firsts
    for _round in range(_UNIFORM_ROUNDS):
        lays = [
            _layout_for(buf, pre, starts, ends, int(m[0]), check, budget, len(m)) for m in groups
        ]
        usable = [
            lay is not None
            and lay.step is None
            and lay.wall is None
            and len(lay.slots) <= 1
            and lay.width <= _UNIFORM_WIDTH
            for lay in lays
        ]
        if not any(usable):
            break
        groups = [m for m, u in zip(groups, usable, strict=True) if u]
        lays = [lay for lay, u in zip(lays, usable, strict=True) if u]
        rest = _uniform_round(buf, pre, groups, lays, tag_ids, out)
        if not rest:
            break
        groups = rest
    out.tags = list(tag_ids)
    return out


def _uniform_round(
    buf: Buffer,
    pre: _Prefix,
    groups: list[np.ndarray],
    lays: list[Layout],
    tag_ids: dict[str, int],
    out: _Uniform,
) -> list[np.ndarray]:
    """One round of :func:`_uniform_pass`: ``groups`` (record indices, representative first)
    with their layouts. Fills ``out``; returns, per group, the records that did not match."""
    width = -(-max(lay.width for lay in lays) // 64) * 64  # whole 8-word rows: see below
    order = np.concatenate(groups) if len(groups) > 1 else groups[0]
    mat = _row_matrix(buf, pre.suffix[order], width)
    words = mat.view("<u8")
    nwords = width // 8
    ok = np.empty(len(order), dtype=bool)
    value = np.zeros(len(order), dtype=np.float64)
    has_row = np.zeros(len(order), dtype=bool)
    tag = np.zeros(len(order), dtype=np.int32)
    tensor = np.zeros(len(order), dtype=bool)
    rest = []
    at = 0
    for members, lay in zip(groups, lays, strict=True):
        a, at = at, at + len(members)
        assert lay.mask is not None
        mask = np.zeros(nwords, dtype=np.uint64)
        mask[: lay.width // 8] = lay.mask.view("<u8")
        rows = words[a:at] & mask
        good = _rows_equal(rows, rows[:1])
        ok[a:at] = good
        if lay.decls:
            out.decls.append((int(members[0]), lay))
        if lay.slots:
            slot = lay.slots[0]
            value[a:at] = _values(mat[a:at], slot)
            has_row[a:at] = good
            tag[a:at] = tag_ids.setdefault(slot.tag, len(tag_ids))
            tensor[a:at] = slot.is_tensor
        if not good.all():
            rest.extend(_split(members[~good], rows[~good]))
    out.handled[order] = ok
    out.has_row[order] = has_row
    out.value[order] = value
    out.tag[order] = tag
    out.tensor[order] = tensor
    return rest


def _split(members: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Records that did not match their representative, split by their bytes at the structural
    positions of its layout: other tags of the same length land in one group each. A split into
    many small groups means the layout differs (data where the representative has structure);
    then the records stay together and the next round takes the first as representative."""
    if len(members) < 2 or _rows_equal(rows, rows[:1]).all():
        return [members]  # the usual case: one other tag
    codes, uniq = pd.factorize(_row_hash(rows))
    if len(uniq) == 1:
        return [members]
    if len(uniq) > 64 and len(uniq) * 4 > len(members):
        return [members]
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=len(uniq)))[:-1]
    return np.split(members[order], bounds)


def _fast_groups(
    buf: Buffer, starts: np.ndarray, ends: np.ndarray, check: bool
) -> tuple[_Prefix, _Uniform, list[_Group], list[int]]:
    """Records taken by layout templates, and the ones left for protobuf."""
    pre = _prefix(buf, starts, ends)
    codes, firsts = _first_groups(pre, ends)
    budget = _Budget()
    uniform = _uniform_pass(buf, pre, starts, ends, codes, firsts, check, budget)
    groups: list[_Group] = []
    slow: list[int] = []
    if uniform.handled.all():
        return pre, uniform, groups, slow
    for first in firsts:
        first = first[~uniform.handled[first]]
        if not len(first):
            continue
        todo: list[tuple[np.ndarray, int]] = [(first, 0)]
        while todo:
            members, depth = todo.pop()
            rep = int(members[0])
            lay = _layout_for(buf, pre, starts, ends, rep, check, budget, len(members))
            if lay is None:
                slow.append(rep)
                if len(members) > 1:
                    if depth >= _MAX_DEPTH:
                        slow.extend(members[1:].tolist())
                    else:
                        todo.append((members[1:], depth + 1))
                continue
            sc = _scan(buf, pre.suffix[members], lay)
            if sc.ok.all():
                groups.append(_Group(members, lay, sc.steps, sc.walls, sc.values))
                continue
            ok = sc.ok
            groups.append(
                _Group(
                    members[ok],
                    lay,
                    None if sc.steps is None else sc.steps[ok],
                    None if sc.walls is None else sc.walls[ok],
                    [v[ok] for v in sc.values],
                )
            )
            rest = members[~ok]
            if depth >= _MAX_DEPTH:
                slow.extend(rest.tolist())
                continue
            sub_codes, uniq = pd.factorize(sc.rest_hash)
            if len(uniq) > 64 and not _same_positions(buf, pre, ends, rest, lay):
                # the rest differs in bytes that are data for this layout, so the hash split
                # would be too fine: peel the next layout off instead
                todo.append((rest, depth + 1))
                continue
            order = np.argsort(sub_codes, kind="stable")
            bounds = np.cumsum(np.bincount(sub_codes, minlength=len(uniq)))[:-1]
            for m in reversed(np.split(rest[order], bounds)):
                todo.append((m, depth + 1))
    return pre, uniform, groups, slow


def _same_positions(
    buf: Buffer, pre: _Prefix, ends: np.ndarray, rest: np.ndarray, lay: Layout
) -> bool:
    """Does the next record of ``rest`` have its data where ``lay`` has it (another tag, say)?"""
    r = int(rest[0])
    other = build_layout(buf.bytes(int(pre.suffix[r]), int(ends[r])), suffix=pre.kind[r] != 2)
    return other is not None and np.array_equal(other.mask, lay.mask)


_DECODE_CHUNK = 1 << 18  # records decoded at a time: bounds the temporary arrays


def decode_file(
    buf: Buffer,
    starts: np.ndarray,
    ends: np.ndarray,
    *,
    fast: bool = True,
    check: bool = True,
    chunk: int = _DECODE_CHUNK,
) -> FileRows:
    """Decode records (payload byte ranges, in file order) into scalar rows.

    ``fast=False`` parses every record with protobuf (the reference). ``check`` validates each
    layout representative against the reference (cheap: once per layout, and layouts are cached
    across files). Records are decoded ``chunk`` at a time so that the temporary arrays stay small
    next to the file's bytes.
    """
    n = len(starts)
    if n <= chunk:
        return _decode_chunk(buf, starts, ends, fast, check)
    parts = [
        _decode_chunk(buf, starts[a : a + chunk], ends[a : a + chunk], fast, check)
        for a in range(0, n, chunk)
    ]
    tag_ids: dict[str, int] = {}
    codes, decls, run_starts, hparams = [], {}, [], {}
    offset = 0
    for part in parts:
        remap = np.array([tag_ids.setdefault(t, len(tag_ids)) for t in part.tags], dtype=np.int32)
        codes.append(remap[part.tag] if len(part.tag) else part.tag)
        for t, plugin in part.decls.items():
            decls.setdefault(t, plugin)
        run_starts.extend((offset + at, st) for at, st in part.starts)
        hparams.update(part.hparams)
        offset += len(part.tag)
    out = FileRows(
        tags=list(tag_ids),
        tag=np.concatenate(codes),
        step=np.concatenate([p.step for p in parts]),
        value=np.concatenate([p.value for p in parts]),
        wall=np.concatenate([p.wall for p in parts]),
        tensor=np.concatenate([p.tensor for p in parts]),
        decls=decls,
        starts=run_starts,
        hparams=hparams,
        undecodable=sum(p.undecodable for p in parts),
        fast_records=sum(p.fast_records for p in parts),
        slow_records=sum(p.slow_records for p in parts),
    )
    return out


def _decode_chunk(
    buf: Buffer, starts: np.ndarray, ends: np.ndarray, fast: bool, check: bool
) -> FileRows:
    nrec = len(starts)
    pre = None
    uniform = None
    if fast:
        pre, uniform, groups, slow = _fast_groups(buf, starts, ends, check)
    else:
        groups, slow = [], list(range(nrec))
    first_decl: dict[str, tuple[int, int, str]] = {}

    def declare(t: str, plugin: str, rec: int, k: int) -> None:
        cur = first_decl.get(t)
        if cur is None or (rec, k) < cur[:2]:
            first_decl[t] = (rec, k, plugin)

    if uniform is not None:
        for rec, lay in uniform.decls:
            for k, (t, plugin) in enumerate(lay.decls):
                declare(t, plugin, rec, k)
    for g in groups:
        if len(g.members):
            for k, (t, plugin) in enumerate(g.lay.decls):
                declare(t, plugin, int(g.members[0]), k)
    groups = [g for g in groups if g.lay.slots and len(g.members)]
    if uniform is not None and not groups and not slow:
        # every record was read in the one pass and holds at most one value: rows are the
        # records that hold one, in order
        assert pre is not None
        has = uniform.has_row
        return FileRows(
            tags=uniform.tags,
            tag=uniform.tag[has],
            step=pre.step[has],
            value=uniform.value[has],
            wall=pre.wall[has],
            tensor=uniform.tensor[has],
            decls={t: v[2] for t, v in sorted(first_decl.items(), key=lambda kv: kv[1][:2])},
            starts=[],
            hparams={},
            fast_records=nrec,
        )
    nslots = np.zeros(nrec, dtype=np.int64)
    if uniform is not None:
        nslots[uniform.has_row] = 1
    for g in groups:
        nslots[g.members] = len(g.lay.slots)

    slow.sort()
    items: dict[int, EventItems] = {}
    undecodable = 0
    for r in slow:
        it = parse_event(buf.bytes(int(starts[r]), int(ends[r])))
        if it is None:
            undecodable += 1
            continue
        items[r] = it
        nslots[r] = len(it.rows)

    pos = np.zeros(nrec + 1, dtype=np.int64)
    np.cumsum(nslots, out=pos[1:])
    del nslots
    total = int(pos[-1])
    tag_ids: dict[str, int] = {}
    tag = np.empty(total, dtype=np.int32)
    step = np.empty(total, dtype=np.int64)
    value = np.empty(total, dtype=np.float64)
    wall = np.empty(total, dtype=np.float64)
    tensor = np.empty(total, dtype=bool)

    if uniform is not None and uniform.has_row.any():
        assert pre is not None
        has = uniform.has_row
        idx = pos[:-1][has]
        remap = np.array([tag_ids.setdefault(t, len(tag_ids)) for t in uniform.tags], np.int32)
        tag[idx] = remap[uniform.tag[has]]
        step[idx] = pre.step[has]
        value[idx] = uniform.value[has]
        wall[idx] = pre.wall[has]
        tensor[idx] = uniform.tensor[has]
        del idx

    # one scatter per column for all groups (per-group scatters cost a numpy call each)
    idx_parts, tag_parts, step_parts, value_parts, wall_parts, tensor_parts = ([] for _ in range(6))
    for g in groups:
        if g.steps is None:
            assert pre is not None
            g.steps = pre.step[g.members]
            g.walls = pre.wall[g.members]
        base = pos[g.members]
        for k, slot in enumerate(g.lay.slots):
            idx_parts.append(base + k if k else base)
            tag_parts.append((tag_ids.setdefault(slot.tag, len(tag_ids)), len(base)))
            step_parts.append(g.steps)
            value_parts.append(g.values[k])
            wall_parts.append(np.zeros(len(base)) if g.walls is None else g.walls)
            tensor_parts.append((slot.is_tensor, len(base)))
    groups.clear()
    if idx_parts:
        idx = np.concatenate(idx_parts)
        tag[idx] = np.repeat(
            np.array([t for t, _ in tag_parts], dtype=np.int32), [c for _, c in tag_parts]
        )
        step[idx] = np.concatenate(step_parts)
        value[idx] = np.concatenate(value_parts)
        wall[idx] = np.concatenate(wall_parts)
        tensor[idx] = np.repeat(
            np.array([t for t, _ in tensor_parts], dtype=bool), [c for _, c in tensor_parts]
        )
        del idx, idx_parts, step_parts, value_parts, wall_parts

    starts_out: list[tuple[int, int]] = []
    hparams: dict[str, Any] = {}
    for r, it in items.items():
        for k, (t, plugin) in enumerate(it.decls):
            declare(t, plugin, r, k)
        if it.start:
            starts_out.append((int(pos[r]), it.step))
        if it.hparams:
            hparams.update(it.hparams)
        at = int(pos[r])
        for k, (t, x, is_t) in enumerate(it.rows):
            tag[at + k] = tag_ids.setdefault(t, len(tag_ids))
            step[at + k] = it.step
            value[at + k] = x
            wall[at + k] = it.wall_time
            tensor[at + k] = is_t
    names = list(tag_ids)
    return FileRows(
        tags=names,
        tag=tag,
        step=step,
        value=value,
        wall=wall,
        tensor=tensor,
        decls={t: v[2] for t, v in sorted(first_decl.items(), key=lambda kv: kv[1][:2])},
        starts=starts_out,
        hparams=hparams,
        undecodable=undecodable,
        fast_records=nrec - len(slow),
        slow_records=len(slow),
    )


def _layout_agrees(lay: Layout, suffix: bytes, payload: bytes, step: int, wall: float) -> bool:
    """Does the layout read the representative exactly as the protobuf classes do? ``step`` and
    ``wall`` are what the prefix decoder found (used when the layout has none of its own)."""
    ref = parse_event(payload)
    if ref is None or ref.start or ref.hparams:
        return False
    if lay.decls != ref.decls or len(lay.slots) != len(ref.rows):
        return False
    one = Buffer.from_bytes(suffix)
    sc = _scan(one, np.zeros(1, dtype=np.int64), lay)
    if not sc.ok[0]:
        return False
    if sc.steps is not None:
        step = int(sc.steps[0])
    if sc.walls is not None:
        wall = float(sc.walls[0])
    if step != ref.step or np.float64(wall).tobytes() != np.float64(ref.wall_time).tobytes():
        return False
    for slot, got, (t, x, is_t) in zip(lay.slots, sc.values, ref.rows, strict=True):
        if slot.tag != t or slot.is_tensor != is_t:
            return False
        if np.float64(got[0]).tobytes() != np.float64(x).tobytes():
            return False
    return True
