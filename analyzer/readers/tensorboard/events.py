"""The reference decoder: one ``Event`` record parsed with the protobuf classes of the
``tensorboard`` package, and the scalars (and hyper-parameters, plugin declarations,
``SessionLog.START``) taken out of it. The fast path of :mod:`.decode` is checked against it and
falls back to it for every record it does not handle (see :mod:`.decode` for what counts as a
scalar)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2

_SESSION_START = 1  # SessionLog.START

# TensorFlow dtypes read as scalars: enum -> numpy dtype of one element
NUMERIC_DTYPES: dict[int, np.dtype[Any]] = {
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


def _bf16(bits: int) -> float:
    return float(np.array([bits << 16], dtype=np.uint32).view(np.float32)[0])


def tensor_scalar(t: Any) -> float | None:
    """The value of a one-element numeric ``TensorProto``, or None if it is not one."""
    dt = t.dtype
    npdt = NUMERIC_DTYPES.get(dt)
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
