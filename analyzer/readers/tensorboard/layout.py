"""The layout walker of the fast path: a tiny protobuf walker that reads one ``Event`` payload
and notes where its variable data sits (:class:`Layout`), so that every record with the same
structural bytes can be read at the same offsets (see :mod:`.decode`). Anything it does not
recognise makes it give up (``None``): protobuf decides."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .events import NUMERIC_DTYPES

# dtypes the fast path decodes from tensor_content (enum -> slot kind)
_FAST_KINDS = {1: "f32", 2: "f64", 3: "i32", 9: "i64", 19: "f16", 14: "bf16"}
_KIND_SIZE = {"f32": 4, "f64": 8, "i32": 4, "i64": 8, "f16": 2, "bf16": 2}


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
    if dtype not in NUMERIC_DTYPES:
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
