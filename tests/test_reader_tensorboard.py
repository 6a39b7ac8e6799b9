"""The TensorBoard event-file reader.

Event files are written at test time with the real writers (tensorboard's ``RecordWriter`` and
``EventFileWriter``, its summary helpers, PyTorch's ``SummaryWriter`` when torch is installed);
the committed files under ``fixtures/tensorboard/`` (see ``fixtures/make_tensorboard_fixtures.py``)
and the real logs in ``../shared/real-logs`` are read end to end and compared with tensorboard's
own ``EventAccumulator``.
"""

from __future__ import annotations

import io
import math
import struct
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tensorboard.compat.proto import (
    event_pb2,
    graph_pb2,
    summary_pb2,
    tensor_pb2,
    tensor_shape_pb2,
    types_pb2,
)
from tensorboard.plugins.histogram import summary_v2 as histogram_v2
from tensorboard.plugins.hparams import summary_v2 as hparams_v2
from tensorboard.plugins.scalar import summary_v2 as scalar_v2
from tensorboard.plugins.text import summary_v2 as text_v2
from tensorboard.summary.writer.record_writer import RecordWriter

from analyzer.readers import COLUMNS, ReadError, apply_restarts, make_frame
from analyzer.readers import tensorboard as tb
from analyzer.readers.tensorboard.decode import decode_file
from analyzer.readers.tensorboard.framing import (
    Buffer,
    frame_record,
    masked_crc,
    verify_payloads,
    walk,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "tensorboard"
REAL = ROOT / ".." / "shared" / "real-logs"

Event = event_pb2.Event
Summary = summary_pb2.Summary
Value = summary_pb2.Summary.Value


# --- writing event files --------------------------------------------------------------------------
def write(path: Path, events, *, version: bool = True) -> Path:
    """Events (protos or raw payload bytes) framed by tensorboard's own RecordWriter."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    w = RecordWriter(buf)
    if version:
        w.write(Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString())
    for ev in events:
        w.write(ev if isinstance(ev, bytes) else ev.SerializeToString())
    path.write_bytes(buf.getvalue())
    return path


def simple(step: int, wall: float = 0.0, **values: float):
    """A TF1 / PyTorch ``add_scalar`` event (``simple_value``)."""
    vals = [Value(tag=k.replace("__", "/"), simple_value=v) for k, v in values.items()]
    return Event(wall_time=wall, step=step, summary=Summary(value=vals))


def tensor_event(step: int, tag: str, tensor, plugin: str | None = "scalars", wall: float = 5.0):
    md = (
        summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin)
        )
        if plugin is not None
        else None
    )
    v = Value(tag=tag, tensor=tensor, metadata=md) if md else Value(tag=tag, tensor=tensor)
    return Event(wall_time=wall, step=step, summary=Summary(value=[v]))


def scalar_shape():
    return tensor_shape_pb2.TensorShapeProto()


def read_dir(base: Path, *, fast: bool = True, run: str = "run"):
    files = sorted(base.rglob("events.out.tfevents.*"))
    return tb.read(run, files, base, fast=fast)


def rows(res) -> dict[str, list[tuple[int, float]]]:
    out: dict[str, list[tuple[int, float]]] = {}
    for t, s, v in zip(res.frame["tag"], res.frame["step"], res.frame["value"], strict=True):
        out.setdefault(t, []).append((int(s), float(v)))
    return out


def f32(x: float) -> float:
    return float(np.float32(x))


def check_frame(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == COLUMNS
    assert frame["step"].dtype == np.int64
    assert frame["value"].dtype == np.float64 and frame["wall_time"].dtype == np.float64
    assert frame["tag"].dtype == object and frame["run"].dtype == object
    # sorted by tag, then step
    keys = list(zip(frame["tag"], frame["step"], strict=True))
    assert keys == sorted(keys)


# --- formats ----------------------------------------------------------------------------------------
def test_tf1_simple_value_merged_events_and_step_zero(tmp_path):
    # step 0 is not on the wire (proto3 default)
    assert b"\x10" not in Event(wall_time=0.0, step=0).SerializeToString()
    events = [simple(0, 10.0, loss=2.5, accuracy=0.1)]
    events += [simple(s, 10.0 + s, loss=2.5 / (s + 1), accuracy=s / 10) for s in range(1, 6)]
    write(tmp_path / "events.out.tfevents.1.host", events)
    res = read_dir(tmp_path)
    check_frame(res.frame)
    got = rows(res)
    assert got["loss"] == [(s, f32(2.5 / (s + 1))) for s in range(6)]
    assert got["accuracy"] == [(0, f32(0.1))] + [(s, f32(s / 10)) for s in range(1, 6)]
    assert res.frame["wall_time"].tolist()[:6] == [10.0 + s for s in range(6)]
    assert res.frame["run"].unique().tolist() == ["run"]
    assert res.files == [str(tmp_path / "events.out.tfevents.1.host")]
    assert not res.skipped


def test_tf2_scalar_summaries_written_by_the_tensorboard_package(tmp_path):
    events = [
        Event(wall_time=100.0 + s, step=s, summary=scalar_v2.scalar_pb("epoch_loss", 1.0 / (s + 1)))
        for s in range(4)
    ]
    write(tmp_path / "events.out.tfevents.1.host.v2", events)
    got = rows(read_dir(tmp_path))
    assert got == {"epoch_loss": [(s, f32(1.0 / (s + 1))) for s in range(4)]}


def _content(dtype: str, x) -> bytes:
    return np.array([x], dtype=dtype).tobytes()


@pytest.mark.parametrize(
    "tensor,expect",
    [
        (dict(dtype=types_pb2.DT_FLOAT, tensor_content=_content("<f4", 0.1)), f32(0.1)),
        (dict(dtype=types_pb2.DT_FLOAT, float_val=[0.25]), 0.25),
        (dict(dtype=types_pb2.DT_DOUBLE, tensor_content=_content("<f8", 0.1)), 0.1),
        (dict(dtype=types_pb2.DT_DOUBLE, double_val=[1e-300]), 1e-300),
        (dict(dtype=types_pb2.DT_HALF, tensor_content=_content("<f2", 0.5)), 0.5),
        (dict(dtype=types_pb2.DT_HALF, half_val=[int(np.float16(1.5).view(np.uint16))]), 1.5),
        (dict(dtype=types_pb2.DT_BFLOAT16, tensor_content=np.uint16(0x3FC0).tobytes()), 1.5),
        (dict(dtype=types_pb2.DT_BFLOAT16, half_val=[0x4000]), 2.0),
        (dict(dtype=types_pb2.DT_INT32, tensor_content=_content("<i4", -7)), -7.0),
        (dict(dtype=types_pb2.DT_INT32, int_val=[42]), 42.0),
        (dict(dtype=types_pb2.DT_INT64, tensor_content=_content("<i8", 2**40)), float(2**40)),
        (dict(dtype=types_pb2.DT_INT64, int64_val=[-(2**33)]), float(-(2**33))),
        (dict(dtype=types_pb2.DT_UINT8, int_val=[200]), 200.0),
        (dict(dtype=types_pb2.DT_FLOAT, float_val=[3.0], tensor_shape={"dim": [{"size": 1}]}), 3.0),
    ],
)
def test_one_element_tensors_of_every_numeric_dtype(tmp_path, tensor, expect):
    shape = tensor.pop("tensor_shape", None)
    t = tensor_pb2.TensorProto(tensor_shape=shape or scalar_shape(), **tensor)
    write(tmp_path / "events.out.tfevents.1.h", [tensor_event(s, "x", t) for s in range(3)])
    for fast in (True, False):
        assert rows(read_dir(tmp_path, fast=fast)) == {"x": [(s, expect) for s in range(3)]}


def test_non_scalars_are_skipped_and_the_scalars_around_them_kept(tmp_path):
    png = Summary.Image(height=1, width=1, colorspace=3, encoded_image_string=b"\x89PNG...")
    audio = Summary.Audio(sample_rate=8000, num_channels=1, encoded_audio_string=b"RIFF")
    graph = graph_pb2.GraphDef()
    graph.node.add(name="a", op="Const")
    vec = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1, 2])
    vec.tensor_shape.dim.add(size=2)
    events = [
        Event(wall_time=1, step=0, graph_def=graph.SerializeToString()),
        Event(wall_time=1, step=0, tagged_run_metadata=event_pb2.TaggedRunMetadata(tag="t")),
        Event(wall_time=1, step=1, summary=histogram_v2.histogram_pb("w", np.arange(10.0))),
        Event(wall_time=1, step=1, summary=text_v2.text_pb("note", "hello")),
        Event(wall_time=1, step=1, summary=Summary(value=[Value(tag="img", image=png)])),
        Event(wall_time=1, step=1, summary=Summary(value=[Value(tag="snd", audio=audio)])),
        tensor_event(1, "vector", vec),  # scalars plugin but two elements
        tensor_event(
            1, "path", tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[b"x"]), None
        ),
        simple(1, 2.0, loss=1.0),
        Event(
            wall_time=3,
            step=2,
            summary=Summary(
                value=[Value(tag="img", image=png), Value(tag="loss", simple_value=0.5)]
            ),
        ),
    ]
    write(tmp_path / "events.out.tfevents.1.h", events)
    for fast in (True, False):
        assert rows(read_dir(tmp_path, fast=fast)) == {"loss": [(1, 1.0), (2, 0.5)]}


def test_tensors_of_tags_declared_by_another_plugin_are_not_scalars(tmp_path):
    one = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1.0])
    events = [
        tensor_event(0, "h", one, plugin="histograms"),
        tensor_event(1, "h", one, plugin=None),  # later events may omit the metadata
        tensor_event(0, "plain", one, plugin=None),  # never declared: taken as a scalar
        tensor_event(1, "s", one, plugin="scalars"),
        tensor_event(2, "s", one, plugin=None),
    ]
    write(tmp_path / "events.out.tfevents.1.h", events)
    for fast in (True, False):
        res = read_dir(tmp_path, fast=fast)
        assert rows(res) == {"plain": [(0, 1.0)], "s": [(1, 1.0), (2, 1.0)]}
        assert any("non-scalar plugins" in n for n in res.notes)


def test_nan_inf_and_extreme_values_are_data(tmp_path):
    vals = [math.nan, math.inf, -math.inf, 3e38, 1e-45, -0.0]
    write(tmp_path / "events.out.tfevents.1.h", [simple(s, 1.0, x=v) for s, v in enumerate(vals)])
    got = read_dir(tmp_path).frame["value"].to_numpy()
    want = np.array(vals, dtype=np.float32).astype(np.float64)
    assert np.array_equal(got, want, equal_nan=True)
    assert np.signbit(got[-1])


def test_steps_beyond_32_bits_negative_and_missing_wall_time(tmp_path):
    steps = [0, 1, 127, 128, 16383, 16384, 2**31, 2**40, 2**56 + 3, 2**63 - 1]
    events = [simple(s, float(i), x=float(i)) for i, s in enumerate(steps)]
    events.append(Event(step=-5, summary=Summary(value=[Value(tag="neg", simple_value=1.0)])))
    write(tmp_path / "events.out.tfevents.1.h", events)
    for fast in (True, False):
        res = read_dir(tmp_path, fast=fast)
        got = rows(res)
        assert got["x"] == [(s, float(i)) for i, s in enumerate(steps)]
        assert got["neg"] == [(-5, 1.0)]
        neg = res.frame[res.frame["tag"] == "neg"]
        assert np.isnan(neg["wall_time"].iloc[0])  # never set: unknown, not 1970


def test_pytorch_summary_writer(tmp_path):
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(log_dir=str(tmp_path))
    for s in range(5):
        w.add_scalar("train/loss", 1.0 / (s + 1), s)
        w.add_scalar("lr", 0.1 * s, s, new_style=True)
        w.add_scalar("gn", 1e-10 * s, s, new_style=True, double_precision=True)
        w.add_scalars("Loss", {"train": 2.0 - s / 10, "val": 3.0 - s / 10}, s)
    w.add_histogram("fc", torch.arange(10.0), 0)
    w.add_hparams({"lr": 0.1, "opt": "sgd"}, {"hp/score": 0.5}, run_name="hp")
    w.close()
    res = read_dir(tmp_path)
    got = rows(res)
    assert got["train/loss"] == [(s, f32(1.0 / (s + 1))) for s in range(5)]
    assert got["lr"] == [(s, f32(0.1 * s)) for s in range(5)]
    assert got["gn"] == [(s, 1e-10 * s) for s in range(5)]  # double_val keeps the double
    assert got["Loss/train"] == [(s, f32(2.0 - s / 10)) for s in range(5)]
    assert got["Loss/val"] == [(s, f32(3.0 - s / 10)) for s in range(5)]
    assert got["hp/hp/score"] == [(0, 0.5)]
    assert res.hparams == {"lr": 0.1, "opt": "sgd"}
    assert "fc" not in got


def test_hparams_session_start_info(tmp_path):
    hp = {"learning_rate": 0.003, "optimizer": "adam", "layers": 4, "dropout": True}
    events = [Event(wall_time=1.0, summary=hparams_v2.hparams_pb(hp)), simple(1, 2.0, loss=1.0)]
    write(tmp_path / "events.out.tfevents.1.h", events)
    for fast in (True, False):
        res = read_dir(tmp_path, fast=fast)
        assert res.hparams == {
            "dropout": True,
            "layers": 4.0,
            "learning_rate": 0.003,
            "optimizer": "adam",
        }
        assert all(type(v) in (bool, float, str) for v in res.hparams.values())
        assert rows(res) == {"loss": [(1, 1.0)]}


# --- tags and files -----------------------------------------------------------------------------------
def test_subfolders_become_tag_prefixes(tmp_path):
    run = tmp_path / "run"
    write(run / "train/events.out.tfevents.1.h.v2", [simple(0, 1.0, epoch_loss=1.0)])
    write(run / "validation/events.out.tfevents.2.h.v2", [simple(0, 1.0, epoch_loss=2.0)])
    write(run / "Loss_train/events.out.tfevents.3.h", [simple(0, 1.0, Loss=3.0)])
    write(run / "Loss_val/events.out.tfevents.3.h", [simple(0, 1.0, Loss=4.0)])
    write(run / "a/b/events.out.tfevents.3.h", [simple(0, 1.0, x=5.0)])
    write(run / "Acc/train/events.out.tfevents.3.h", [simple(0, 1.0, Acc=0.5)])  # tensorboardX
    write(run / "events.out.tfevents.4.h", [simple(0, 1.0, loss=6.0)])
    assert sorted(rows(read_dir(run))) == [
        "Acc/train",
        "Loss/train",
        "Loss/val",
        "a/b/x",
        "loss",
        "train/epoch_loss",
        "validation/epoch_loss",
    ]


@pytest.mark.parametrize(
    "folder,tag,expect",
    [
        ("", "loss", "loss"),
        ("eval", "loss", "eval/loss"),
        ("train", "epoch_loss", "train/epoch_loss"),
        ("Loss_train", "Loss", "Loss/train"),
        ("Loss_epoch_val", "Loss/epoch", "Loss/epoch/val"),
        ("runs/x/Loss_val", "Loss", "runs/x/Loss/val"),
        ("Loss_", "Loss", "Loss_/Loss"),
        ("LossX_train", "Loss", "LossX_train/Loss"),
        ("Loss/train", "Loss", "Loss/train"),  # tensorboardX add_scalars
        ("x/Loss/val", "Loss", "x/Loss/val"),
        ("Acc/train", "Loss", "Acc/train/Loss"),
    ],
)
def test_prefixed_tag(folder, tag, expect):
    assert tb.prefixed_tag(folder, tag) == expect


def test_files_are_merged_in_write_order():
    names = [
        "events.out.tfevents.1700000100.h.1.10",
        "events.out.tfevents.999.h",
        "events.out.tfevents.1700000100.h.1.9",
        "events.out.tfevents.1700000000.h.1.2",
        "events.out.tfevents.x",
    ]
    ordered = sorted((Path(n) for n in names), key=tb.file_order_key)
    assert [p.name for p in ordered] == [
        "events.out.tfevents.999.h",
        "events.out.tfevents.1700000000.h.1.2",
        "events.out.tfevents.1700000100.h.1.9",
        "events.out.tfevents.1700000100.h.1.10",
        "events.out.tfevents.x",
    ]


def test_resumed_run_steps_going_back_across_files(tmp_path):
    # first session logged 0..9, crashed; resumed from the step-5 checkpoint
    write(
        tmp_path / "events.out.tfevents.100.h", [simple(s, 1.0, loss=10.0 + s) for s in range(10)]
    )
    write(
        tmp_path / "events.out.tfevents.200.h",
        [simple(s, 2.0, loss=20.0 + s) for s in range(5, 12)],
    )
    for fast in (True, False):
        res = read_dir(tmp_path, fast=fast)
        assert rows(res)["loss"] == [(s, 10.0 + s) for s in range(5)] + [
            (s, 20.0 + s) for s in range(5, 12)
        ]
        assert any("restart" in n for n in res.notes)


def test_sessionlog_start_purges_stale_points_of_its_folder_only(tmp_path):
    start = lambda s: Event(  # noqa: E731
        wall_time=1.0, step=s, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)
    )
    write(
        tmp_path / "events.out.tfevents.100.h",
        [start(0)] + [simple(s, 1.0, loss=float(s), lr=0.1) for s in range(0, 100, 10)],
    )
    # the resumed session starts at 50 and logs lr only from 60 on: TensorBoard drops the stale
    # lr points >= 50 on the START, even though lr's own steps never go back
    write(
        tmp_path / "events.out.tfevents.200.h",
        [start(50)]
        + [simple(s, 2.0, loss=100.0 + s) for s in range(50, 80, 10)]
        + [simple(60, 2.0, lr=0.2)],
    )
    write(tmp_path / "eval/events.out.tfevents.150.h", [simple(s, 1.0, loss=1.0) for s in (40, 90)])
    for fast in (True, False):
        res = read_dir(tmp_path, fast=fast)
        got = rows(res)
        assert got["loss"] == [(s, float(s)) for s in range(0, 50, 10)] + [
            (s, 100.0 + s) for s in range(50, 80, 10)
        ]
        assert got["lr"] == [(s, f32(0.1)) for s in range(0, 50, 10)] + [(60, f32(0.2))]
        assert got["eval/loss"] == [(40, 1.0), (90, 1.0)]
        assert any("SessionLog.START" in n for n in res.notes)


def test_assemble_equals_apply_restarts_on_make_frame():
    rng = np.random.default_rng(5)
    for trial in range(30):
        n = int(rng.integers(1, 400))
        names = [f"t{i}" for i in rng.permutation(int(rng.integers(1, 6)))]
        code = rng.integers(0, len(names), n)
        step = np.cumsum(rng.integers(-3, 5, n))  # goes back now and then
        if trial % 3 == 0:
            step = np.arange(n)
        value = rng.normal(size=n)
        wall = rng.random(n)
        got, notes = tb.assemble("r", names, code, step, value, wall)
        want, want_notes = apply_restarts(
            make_frame("r", [names[c] for c in code], step, value, wall), "r"
        )
        assert got.equals(want)
        assert sorted(notes) == sorted(want_notes)


# --- damage --------------------------------------------------------------------------------------
def small_file(tmp_path: Path) -> tuple[Path, bytes]:
    events = [simple(s, 1.0 + s, loss=1.0 / (s + 1), acc=s / 20) for s in range(12)]
    events.insert(3, Event(wall_time=2.0, step=3, summary=scalar_v2.scalar_pb("t2", 7.0)))
    p = write(tmp_path / "full" / "events.out.tfevents.1.h", events)
    return p, p.read_bytes()


def record_offsets(data: bytes) -> list[int]:
    out, off = [], 0
    while off < len(data):
        out.append(off)
        off += struct.unpack_from("<Q", data, off)[0] + 16
    return out


def test_truncation_at_every_byte(tmp_path):
    src, data = small_file(tmp_path)
    full = read_dir(src.parent)
    full_points = set(zip(full.frame["tag"], full.frame["step"], full.frame["value"], strict=True))
    bounds = set(record_offsets(data)) | {len(data)}
    cut_dir = tmp_path / "cut"
    cut_dir.mkdir()
    target = cut_dir / "events.out.tfevents.1.h"
    for cut in range(len(data) + 1):
        target.write_bytes(data[:cut])
        res = read_dir(cut_dir)
        pts = list(zip(res.frame["tag"], res.frame["step"], res.frame["value"], strict=True))
        assert len(pts) <= len(full_points)
        assert set(pts) <= full_points
        partial = [n for n in res.notes if "partial record" in n]
        if cut in bounds:
            assert not partial
        else:
            assert partial and f"at byte {max(b for b in bounds if b < cut)}" in partial[0]
        assert not res.skipped


def test_flipped_checksum_and_payload_bytes(tmp_path):
    src, data = small_file(tmp_path)
    offs = record_offsets(data)
    target = tmp_path / "bad" / "events.out.tfevents.1.h"
    target.parent.mkdir()
    full = rows(read_dir(src.parent))
    n_full = sum(len(v) for v in full.values())

    def damaged(positions):
        b = bytearray(data)
        for p in positions:
            b[p] ^= 0x5A
        target.write_bytes(bytes(b))
        return read_dir(target.parent)

    # the payload checksum of record 5 (loss+acc at step 3)
    end5 = offs[6] - 1
    res = damaged([end5])
    assert sum(len(v) for v in rows(res).values()) == n_full - 2
    assert any("1 record(s) with a bad checksum skipped" in n for n in res.notes)
    # a payload byte of records 2 and 7, same position in both (their errors could cancel out
    # in a combined checksum: they must still both be found)
    res = damaged([offs[2] + 14, offs[7] + 14])
    assert any("2 record(s) with a bad checksum" in n for n in res.notes)
    assert sum(len(v) for v in rows(res).values()) == n_full - 4
    # every record but the file version: nothing usable, and damage -> ReadError
    with pytest.raises(ReadError, match="13 record.s. with a bad checksum"):
        damaged([o + 13 for o in offs[1:]])
    # a length field: the walker resynchronises on the next record
    res = damaged([offs[5] + 1])  # record 5: loss and acc at step 3
    assert any(f"resynchronised at byte {offs[6]}" in n for n in res.notes)
    assert sum(len(v) for v in rows(res).values()) == n_full - 2


def test_random_bytes_zero_byte_and_good_files_together(tmp_path):
    rng = np.random.default_rng(0)
    junk = write(tmp_path / "events.out.tfevents.x", [])
    junk.write_bytes(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    empty = tmp_path / "events.out.tfevents.2.h"
    empty.write_bytes(b"")
    write(tmp_path / "events.out.tfevents.3.h", [simple(1, 1.0, loss=1.0)])
    res = read_dir(tmp_path)
    assert rows(res) == {"loss": [(1, 1.0)]}
    assert [(Path(p).name, "not a TFRecord" in why) for p, why in res.skipped] == [
        ("events.out.tfevents.x", True)
    ]
    assert any("empty file (0 bytes)" in n for n in res.notes)


def test_only_random_bytes_raises_read_error(tmp_path):
    p = tmp_path / "events.out.tfevents.x"
    p.write_bytes(np.random.default_rng(1).integers(0, 256, 2000, dtype=np.uint8).tobytes())
    with pytest.raises(ReadError, match="not a TFRecord event file"):
        read_dir(tmp_path)


def test_empty_but_valid_files_give_an_empty_frame_with_a_note(tmp_path):
    (tmp_path / "events.out.tfevents.1.h").write_bytes(b"")
    write(tmp_path / "events.out.tfevents.2.h.profile-empty", [])
    res = read_dir(tmp_path)
    assert res.frame.empty and list(res.frame.columns) == COLUMNS
    assert any("no scalar data" in n for n in res.notes)


def test_huge_length_fields_never_allocate(tmp_path):
    good = write(
        tmp_path / "a" / "events.out.tfevents.1.h",
        [simple(s, 1.0, loss=float(s)) for s in range(3)],
    )
    data = good.read_bytes()
    head = struct.pack("<Q", 2**62)
    # a huge length with a valid checksum: looks like a record still being written
    valid = data + head + struct.pack("<I", masked_crc(head)) + b"\0" * 40
    # a huge length with a bad checksum, then more good records
    corrupt = data + head + b"\0\0\0\0" + data
    for name, blob in (("valid", valid), ("corrupt", corrupt)):
        d = tmp_path / name
        d.mkdir()
        (d / "events.out.tfevents.1.h").write_bytes(blob)
        tracemalloc.start()
        res = read_dir(d)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 20e6
        assert [s for s, _ in rows(res)["loss"]] == [0, 1, 2]
        note = " ".join(res.notes)
        assert ("partial record" in note) if name == "valid" else ("resynchronised" in note)


def test_resync_over_a_long_stretch_of_zeros(tmp_path):
    p = write(
        tmp_path / "events.out.tfevents.1.h", [simple(s, 1.0, loss=float(s)) for s in range(3)]
    )
    data = p.read_bytes()
    p.write_bytes(data + bytes(300_000) + data)
    res = read_dir(tmp_path)
    assert [s for s, _ in rows(res)["loss"]] == [0, 1, 2]  # the second copy restarts at 0
    assert any("skipped 300000 bytes" in n for n in res.notes)


# --- the fast path is the protobuf path -------------------------------------------------------
def _varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def odd_payloads() -> list[bytes]:
    """Valid events the fast path must not mis-read: protobuf decides what they mean."""
    v = Value(tag="odd", simple_value=1.5).SerializeToString()
    summ = b"\x2a" + _varint(len(b"\x0a" + _varint(len(v)) + v)) + b"\x0a" + _varint(len(v)) + v
    wall = b"\x09" + struct.pack("<d", 7.0)
    return [
        summ + wall + b"\x10\x05",  # fields out of order
        wall + b"\x10\x05\x10\x09" + summ,  # step twice: the last wins
        wall + b"\x10\x85\x80\x80\x00" + summ,  # a non-canonical (padded) varint step
        wall + b"\x10\x05" + b"\xa0\x06\x07" + summ,  # an unknown field (100)
        wall + b"\x10\x05" + summ + summ,  # two summaries: merged
        wall + b"\x10\x05" + b"\x1a\x03abc" + summ,  # file_version then summary: the oneof's last
        b"\x10\x05" + summ,  # no wall time
    ]


def random_events(rng: np.random.Generator, n: int) -> list:
    tags = ["loss", "val_loss", "lr", "acc", "a/b/c", "x" * 40, "é"]
    out = []
    step = 0
    for _ in range(n):
        step = (
            step + int(rng.integers(0, 3)) if rng.random() > 0.02 else int(rng.integers(0, 2**40))
        )
        wall = float(rng.random() * 1e9)
        kind = rng.integers(0, 12)
        tag = tags[int(rng.integers(0, len(tags)))]
        x = (
            float(rng.normal())
            if rng.random() > 0.05
            else float(rng.choice([np.nan, np.inf, -np.inf]))
        )
        if kind < 4:
            out.append(simple(step, wall, **{tag: x}))
        elif kind < 6:
            out.append(Event(wall_time=wall, step=step, summary=scalar_v2.scalar_pb(tag, x)))
        elif kind == 6:
            t = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[x])
            out.append(tensor_event(step, tag, t, wall=wall))
        elif kind == 7:
            t = tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, double_val=[x])
            out.append(tensor_event(step, tag + "_d", t, wall=wall, plugin=None))
        elif kind == 8:
            vals = [Value(tag=t, simple_value=float(rng.normal())) for t in tags[:3]]
            out.append(Event(wall_time=wall, step=step, summary=Summary(value=vals)))
        elif kind == 9:
            out.append(
                Event(
                    wall_time=wall,
                    step=step,
                    summary=histogram_v2.histogram_pb("h", rng.normal(size=20)),
                )
            )
        elif kind == 10:
            status = (
                event_pb2.SessionLog.START
                if rng.random() < 0.3
                else event_pb2.SessionLog.CHECKPOINT
            )
            out.append(
                Event(wall_time=wall, step=step, session_log=event_pb2.SessionLog(status=status))
            )
        else:
            out.append(odd_payloads()[int(rng.integers(0, 7))])
    return out


@pytest.mark.parametrize("seed", range(6))
def test_fast_path_equals_protobuf_path_on_varied_files(tmp_path, seed):
    rng = np.random.default_rng(seed)
    for k in range(3):
        write(tmp_path / f"events.out.tfevents.{k}.h", random_events(rng, 400))
    write(tmp_path / "eval" / "events.out.tfevents.9.h", random_events(rng, 100))
    fast, slow = read_dir(tmp_path, fast=True), read_dir(tmp_path, fast=False)
    assert len(fast.frame) > 100
    assert fast.frame.equals(slow.frame)
    assert fast.notes == slow.notes and fast.hparams == slow.hparams


def test_fast_decoder_equals_protobuf_decoder_record_by_record(tmp_path):
    rng = np.random.default_rng(11)
    p = write(tmp_path / "events.out.tfevents.1.h", random_events(rng, 3000) + odd_payloads())
    buf = Buffer.from_file(p)
    fr = walk(buf)
    a = decode_file(buf, fr.payload_starts, fr.payload_ends, fast=True)
    b = decode_file(buf, fr.payload_starts, fr.payload_ends, fast=False)
    c = decode_file(buf, fr.payload_starts, fr.payload_ends, fast=True, chunk=257)
    assert a.fast_records > 0.8 * len(fr.offsets)
    for x in (b, c):
        tx, ta = np.array(x.tags, dtype=object)[x.tag], np.array(a.tags, dtype=object)[a.tag]
        assert tx.tolist() == ta.tolist()
        for k in ("step", "value", "wall", "tensor"):
            assert np.array_equal(getattr(a, k), getattr(x, k), equal_nan=k in ("value", "wall"))
        assert a.decls == x.decls and a.starts == x.starts
        assert a.undecodable == x.undecodable == 0


def test_results_do_not_share_memory_with_the_next_read(tmp_path):
    # the reader reuses its read buffer for small files: nothing it returns may point into it
    a = write(
        tmp_path / "a" / "events.out.tfevents.1.h", [simple(s, 1.0, x=float(s)) for s in range(50)]
    )
    b = write(
        tmp_path / "b" / "events.out.tfevents.1.h", [simple(s, 2.0, y=-float(s)) for s in range(80)]
    )
    first = tb.read("a", [a], a.parent)
    tb.read("b", [b], b.parent)
    assert first.frame.equals(tb.read("a", [a], a.parent).frame)
    assert rows(first) == {"x": [(s, float(s)) for s in range(50)]}


def test_many_tags_of_one_length_stay_on_the_fast_path(tmp_path):
    tags = [f"layer_{i:03d}/grad_norm" for i in range(300)]
    events = [
        Event(wall_time=1.0 + s, step=s, summary=Summary(value=[Value(tag=t, simple_value=s + i)]))
        for s in range(20)
        for i, t in enumerate(tags)
    ]
    p = write(tmp_path / "events.out.tfevents.1.h", events)
    buf = Buffer.from_file(p)
    fr = walk(buf)
    decoded = decode_file(buf, fr.payload_starts, fr.payload_ends)
    assert decoded.slow_records == 0
    got = rows(read_dir(tmp_path))
    assert len(got) == 300 and got["layer_007/grad_norm"] == [(s, float(s + 7)) for s in range(20)]
    assert read_dir(tmp_path).frame.equals(read_dir(tmp_path, fast=False).frame)


def test_mostly_unique_records_do_not_build_a_layout_each(tmp_path, monkeypatch):
    from analyzer.readers.tensorboard import groups

    built = []
    original = groups.build_layout

    def counting(p, **kw):
        built.append(len(p))
        return original(p, **kw)

    monkeypatch.setattr(groups, "build_layout", counting)
    # text summaries of 600 different lengths: 600 groups of one record each
    events = [
        Event(wall_time=1.0, step=s, summary=text_v2.text_pb("note", "x" * s)) for s in range(600)
    ]
    events += [simple(s, 2.0, loss=float(s)) for s in range(600)]
    write(tmp_path / "events.out.tfevents.1.h", events)
    fast = read_dir(tmp_path)
    assert len(built) < 100
    assert [s for s, _ in rows(fast)["loss"]] == list(range(600))
    assert fast.frame.equals(read_dir(tmp_path, fast=False).frame)


# --- framing internals ----------------------------------------------------------------------------
def test_walk_matches_a_plain_loop_on_irregular_files(tmp_path):
    rng = np.random.default_rng(3)
    for _trial in range(8):
        payloads = []
        for i in range(int(rng.integers(1, 3000))):
            if rng.random() < 0.7:  # periodic stretches, like interleaved tags
                payloads.append(bytes(int(10 + (i % 4) * 3 + (i > 500))))
            else:
                payloads.append(bytes(int(rng.integers(0, 300))))
        data = b"".join(frame_record(p) for p in payloads)
        buf = Buffer.from_bytes(data)
        fr = walk(buf)
        assert fr.offsets.tolist() == record_offsets(data)
        assert fr.lengths.tolist() == [len(p) for p in payloads]
        assert fr.partial_at is None and not fr.corrupt_regions
        assert verify_payloads(buf, fr.offsets, fr.lengths).all()


def test_verify_payloads_finds_exactly_the_bad_records():
    rng = np.random.default_rng(4)
    payloads = [
        rng.integers(0, 256, int(rng.integers(0, 120)), dtype=np.uint8).tobytes()
        for _ in range(5000)
    ]
    data = bytearray(b"".join(frame_record(p) for p in payloads))
    offs = record_offsets(bytes(data))
    bad = sorted(set(rng.integers(0, len(payloads), 40).tolist()))
    for i in bad:
        j = offs[i] + 12 + int(rng.integers(0, len(payloads[i]) + 4))  # payload or its checksum
        data[j] ^= 1 << int(rng.integers(0, 8))
    buf = Buffer.from_bytes(bytes(data))
    fr = walk(buf)
    ok = verify_payloads(buf, fr.offsets, fr.lengths)
    assert np.flatnonzero(~ok).tolist() == bad


# --- end to end -----------------------------------------------------------------------------------
def accumulator_frame(base: Path, run: str = "run") -> pd.DataFrame:
    """What tensorboard's EventAccumulator keeps, folder by folder (each folder is a run to
    TensorBoard), tags prefixed like curvelint does, then curvelint's restart policy."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    tags, steps, values, walls = [], [], [], []
    folders = sorted({p.parent for p in base.rglob("events.out.tfevents.*")})
    for folder in folders:
        acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
        acc.Reload()
        rel = "" if folder == base else folder.relative_to(base).as_posix()
        found = acc.Tags()
        for tag in found["scalars"]:
            for e in acc.Scalars(tag):
                tags.append(tb.prefixed_tag(rel, tag))
                steps.append(e.step)
                values.append(e.value)
                walls.append(e.wall_time)
        for tag in found["tensors"]:
            try:
                plugin = acc.SummaryMetadata(tag).plugin_data.plugin_name
            except KeyError:  # no metadata was ever written for this tag
                plugin = ""
            for e in acc.Tensors(tag):
                arr = tensor_util.make_ndarray(e.tensor_proto)
                if plugin not in ("", "scalars") or arr.size != 1 or arr.dtype.kind not in "fiu":
                    continue
                tags.append(tb.prefixed_tag(rel, tag))
                steps.append(e.step)
                values.append(float(arr.item()))
                walls.append(e.wall_time)
    frame = make_frame(run, tags, steps, values, walls)
    return apply_restarts(frame, run)[0]


def same_points(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    ours = ours.reset_index(drop=True)
    theirs = theirs.reset_index(drop=True)
    assert ours["tag"].tolist() == theirs["tag"].tolist()
    assert ours["step"].tolist() == theirs["step"].tolist()
    assert np.array_equal(ours["value"].to_numpy(), theirs["value"].to_numpy(), equal_nan=True)
    w_ours, w_theirs = ours["wall_time"].to_numpy(), theirs["wall_time"].to_numpy()
    assert np.array_equal(w_ours, np.where(w_theirs == 0, np.nan, w_theirs), equal_nan=True)


@pytest.mark.parametrize("name", ["tf1_estimator", "tf2_summary", "pytorch", "keras"])
def test_committed_fixtures_match_event_accumulator(name):
    base = FIXTURES / name
    assert base.is_dir(), "run fixtures/make_tensorboard_fixtures.py"
    res = read_dir(base, run=name)
    check_frame(res.frame)
    assert not res.skipped
    same_points(res.frame, accumulator_frame(base, name))
    assert res.frame.equals(read_dir(base, fast=False, run=name).frame)


def test_committed_fixtures_content():
    est = rows(read_dir(FIXTURES / "tf1_estimator"))
    # resumed from step 600 after a crash at 900: the first session's 600..900 are replaced
    loss_steps = [s for s, _ in est["loss"]]
    assert loss_steps == sorted(set(loss_steps)) and loss_steps[0] == 0 and loss_steps[-1] == 1500
    assert [s for s, _ in est["eval/loss"]] == [300, 600, 900, 1200, 1500]
    assert est["loss"][0][1] > 2.0 and est["loss"][-1][1] < 0.5  # a decreasing loss
    tf2 = read_dir(FIXTURES / "tf2_summary")
    assert sorted(rows(tf2)) == ["loss", "val_loss"]
    assert tf2.hparams["optimizer"] == "adam"
    pt = rows(read_dir(FIXTURES / "pytorch"))
    assert sorted(pt) == ["Loss/train", "Loss/val", "grad_norm", "lr", "train/loss"]
    keras = rows(read_dir(FIXTURES / "keras"))
    assert {"train/epoch_loss", "validation/epoch_loss", "train/epoch_mae"} <= set(keras)
    assert [s for s, _ in keras["train/epoch_loss"]] == list(range(12))
    assert keras["train/epoch_loss"][-1][1] < keras["train/epoch_loss"][0][1]


REAL_RUNS = [
    "AlessioQuercia__Regression_Analysis_NN/model_dir",
    "olegkleiman__tf_keras/logs/fit/20191031-020333",
    "HCDescamps__cv-image-classification/lightning_logs/mnist_cnn/version_0",
    "HCDescamps__cv-image-classification/lightning_logs/mnist_cnn/version_1",
    "Kirito-012__Deep-Learning/lightning_logs/version_2",
    "Kirito-012__Deep-Learning/lightning_logs/version_6",
    "Grafit-Kil__helmet-detection-yolov5/runs/train/exp",
    "Grafit-Kil__helmet-detection-yolov5/runs/train/exp2",
]


@pytest.mark.parametrize("rel", REAL_RUNS)
def test_real_logs_match_event_accumulator(rel):
    base = REAL / rel
    if not REAL.is_dir():
        pytest.skip("../shared/real-logs is absent")
    res = read_dir(base, run=rel)
    check_frame(res.frame)
    assert not res.skipped and len(res.frame) > 0
    assert not [n for n in res.notes if "checksum" in n or "corrupt" in n]
    same_points(res.frame, accumulator_frame(base, rel))
    assert res.frame.equals(read_dir(base, fast=False, run=rel).frame)


def test_every_real_event_file_reads_without_error():
    if not REAL.is_dir():
        pytest.skip("../shared/real-logs is absent")
    files = sorted(REAL.rglob("events.out.tfevents.*"))
    assert len(files) >= 20
    for p in files:
        res = tb.read("r", [p], p.parent)
        assert not res.skipped, p


def test_real_estimator_restarts_and_keras_tags():
    if not REAL.is_dir():
        pytest.skip("../shared/real-logs is absent")
    est = read_dir(REAL / "AlessioQuercia__Regression_Analysis_NN/model_dir")
    got = rows(est)
    assert {"loss", "accuracy", "global_step/sec", "eval/loss", "eval/accuracy"} <= set(got)
    assert any("SessionLog.START" in n for n in est.notes)
    keras = rows(read_dir(REAL / "olegkleiman__tf_keras/logs/fit/20191031-020333"))
    assert sorted(keras) == ["train/epoch_accuracy", "train/epoch_loss"]
    assert [s for s, _ in keras["train/epoch_loss"]] == [0, 1, 2, 3, 4]
    assert keras["train/epoch_loss"][0][1] == pytest.approx(0.538505077)


def test_no_tensorflow_import():
    code = textwrap.dedent(
        f"""
        import sys
        class Guard:
            def find_spec(self, name, path=None, target=None):
                if name == "tensorflow" or name.startswith("tensorflow."):
                    raise AssertionError("tensorflow imported")
        sys.meta_path.insert(0, Guard())
        from pathlib import Path
        from analyzer.readers import tensorboard as tb
        for name in ("tf1_estimator", "tf2_summary", "pytorch", "keras"):
            base = Path({str(FIXTURES)!r}) / name
            res = tb.read(name, sorted(base.rglob("events.out.tfevents.*")), base)
            assert len(res.frame) > 0
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_benchmark_data_reads_the_same_with_curvelint_and_the_accumulator(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import read_speed
    finally:
        sys.path.pop(0)
    for style in ("tf1", "tf2"):
        folder, events = read_speed.build(tmp_path, "1run", style, 0.0004)
        ours = read_speed.read_curvelint(folder)
        theirs = read_speed.read_accumulator(folder)
        assert len(ours) == len(theirs) == events == 400
        assert read_speed.read_bare_walk(folder) == events + 1
        assert sorted(ours["value"]) == sorted(theirs["value"])


@pytest.mark.parametrize("fast", [True, False])
def test_empty_records_and_records_without_summary_are_skipped(tmp_path, fast):
    # an Event with only wall_time and step, and an empty payload, among normal scalars: the fast
    # decoder once divided by zero on them and lost the whole file
    evs = []
    for i in range(200):
        evs.append(simple(i, wall=1.0 + i, loss=1.0 / (i + 1)))
        if i % 10 == 0:
            evs += [Event(wall_time=2.0 + i, step=i), b""]
    write(tmp_path / "events.out.tfevents.1.x", evs)
    res = read_dir(tmp_path, fast=fast)
    got = rows(res)["loss"]
    assert len(got) == 200 and got[-1] == (199, f32(1 / 200))
    assert not [n for n in res.notes if "internal error" in n]


def test_a_lying_length_with_a_valid_checksum_is_resynchronised_over(tmp_path):
    # a length of 2**40 whose own checksum is valid, followed by 27 KB of good records: the
    # read once ended there as "a partial record (still being written?)"
    first = write(
        tmp_path / "a" / "events.out.tfevents.1.h",
        [simple(s, 1.0, loss=float(s)) for s in range(3)],
    )
    later = write(
        tmp_path / "b" / "events.out.tfevents.1.h",
        [simple(s, 1.0, loss=float(s)) for s in range(10, 800)],
        version=False,
    )
    head = struct.pack("<Q", 2**40)
    blob = first.read_bytes() + head + struct.pack("<I", masked_crc(head)) + later.read_bytes()
    d = tmp_path / "c"
    d.mkdir()
    (d / "events.out.tfevents.1.h").write_bytes(blob)
    res = read_dir(d)
    steps = [s for s, _ in rows(res)["loss"]]
    assert steps == [0, 1, 2, *range(10, 800)]
    note = " ".join(res.notes)
    assert "resynchronised" in note and "partial record" not in note


def test_tensorboardx_add_scalars_run_from_the_real_writer():
    """fixtures/gen4/r008_mlp_wine was written by tensorboardX's SummaryWriter.add_scalars."""
    from analyzer.runs import load

    root = Path(__file__).parent.parent / "fixtures" / "gen4" / "r008_mlp_wine"
    res = load(root)
    assert len(res.runs) == 1
    run = res.runs[0]
    assert {"Loss/train", "Loss/val"} <= set(run.tags)
    assert run.roles.train_loss == "Loss/train" and run.roles.val_loss == "Loss/val"
