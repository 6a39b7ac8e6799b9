"""TensorBoard files with mixed logging cadences (issue 12): the framing walk by chains
(:func:`analyzer.readers.tensorboard.framing._chains`) must find exactly what the sequential walk
finds, also on damaged files, and the fast decoder must equal the reference decoder."""

from __future__ import annotations

import numpy as np
import pytest
from tensorboard.compat.proto import (
    event_pb2,
    summary_pb2,
    tensor_pb2,
    tensor_shape_pb2,
    types_pb2,
)

from analyzer.readers import tensorboard as tb
from analyzer.readers.tensorboard import framing
from analyzer.readers.tensorboard.decode import decode_file
from analyzer.readers.tensorboard.framing import Buffer, frame_record, verify_payloads, walk

Event, Summary, Value = event_pb2.Event, summary_pb2.Summary, summary_pb2.Summary.Value
_META = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
)


def _value(style: str, tag: str, x: float) -> summary_pb2.Summary.Value:
    if style == "simple":
        return Value(tag=tag, simple_value=x)
    shape = tensor_shape_pb2.TensorShapeProto()
    if style == "content":
        t = tensor_pb2.TensorProto(
            dtype=types_pb2.DT_FLOAT, tensor_shape=shape, tensor_content=np.float32(x).tobytes()
        )
    else:
        t = tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, tensor_shape=shape, double_val=[x])
    return Value(tag=tag, metadata=_META, tensor=t)


LAYOUTS = {
    # style, [(tag, every)], epoch length (keras epoch_* records after every epoch)
    "mixed": ("simple", [("loss", 1), ("lr", 1), ("gn", 1), ("val/loss", 20), ("val/acc", 20)], 0),
    "keras": ("content", [("batch_loss", 1), ("batch_accuracy", 1)], 150),
    "pytorch": ("simple", [("Loss/train", 1), ("lr", 10), ("gn", 50), ("v", 100), ("a", 500)], 0),
    "aperiodic": ("double", [("loss", 1), ("lr", 7), ("gn", 13), ("vl", 97), ("va", 331)], 0),
}


def cadence_events(layout: str, nsteps: int, first: int = 0) -> list:
    style, tags, epoch = LAYOUTS[layout]
    rng = np.random.default_rng(len(layout))
    out = [Event(wall_time=1.7e9, file_version="brain.Event:2")]
    for s in range(first, first + nsteps):
        for tag, every in tags:
            if s % every == 0:
                x = float(rng.normal())
                out.append(
                    Event(
                        wall_time=1.7e9 + s, step=s, summary=Summary(value=[_value(style, tag, x)])
                    )
                )
        if epoch and (s + 1) % epoch == 0:
            for tag in ("epoch_loss", "epoch_accuracy", "epoch_learning_rate"):
                v = _value(style, tag, float(rng.random()))
                out.append(Event(wall_time=1.7e9 + s, step=s // epoch, summary=Summary(value=[v])))
    return out


def write(path, events) -> bytes:
    data = b"".join(frame_record(e.SerializeToString()) for e in events)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


@pytest.fixture
def chains_early(monkeypatch):
    """Walk by chains almost at once, in short stretches (so that small files exercise them)."""
    monkeypatch.setattr(framing, "_CHAIN_EFFORT", 0)
    monkeypatch.setattr(framing, "_CHAIN_MIN_BYTES", 0)
    monkeypatch.setattr(framing, "_CHAIN_SEG", 300)
    monkeypatch.setattr(framing, "_CHAIN_WINDOW", 64)


def sequential(buf: Buffer) -> framing.Framing:
    saved = framing._CHAIN_EFFORT
    framing._CHAIN_EFFORT = 1 << 62
    try:
        return walk(buf)
    finally:
        framing._CHAIN_EFFORT = saved


def same_framing(a: framing.Framing, b: framing.Framing) -> None:
    assert a.offsets.tolist() == b.offsets.tolist()
    assert a.lengths.tolist() == b.lengths.tolist()
    assert a.partial_at == b.partial_at
    assert a.corrupt_regions == b.corrupt_regions
    assert a.stopped_at == b.stopped_at


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_mixed_cadences_fast_equals_reference_and_walk_is_by_chains(tmp_path, layout, monkeypatch):
    # steps cross the varint widths 128 and 16384; big enough for the default chain thresholds
    events = cadence_events(layout, 12000, first=10000)
    p = tmp_path / layout / "events.out.tfevents.1.h"
    write(p, events)
    used = []
    original = framing._chains
    monkeypatch.setattr(framing, "_chains", lambda *a: used.append(1) or original(*a))
    buf = Buffer.from_file(p)
    fr = walk(buf)
    # (keras: a repeat of 2 records, broken every epoch, is walked by prediction well enough)
    assert used or layout == "keras", "the walk should have switched to chains"
    same_framing(fr, sequential(Buffer.from_file(p)))
    assert len(fr.offsets) == len(events)
    assert verify_payloads(buf, fr.offsets, fr.lengths).all()
    a = decode_file(buf, fr.payload_starts, fr.payload_ends, fast=True)
    b = decode_file(buf, fr.payload_starts, fr.payload_ends, fast=False)
    assert a.slow_records == 0 and len(a.tag) == len(events) - 1
    ta, tb_ = np.array(a.tags, dtype=object)[a.tag], np.array(b.tags, dtype=object)[b.tag]
    assert ta.tolist() == tb_.tolist()
    for k in ("step", "value", "wall", "tensor"):
        assert np.array_equal(getattr(a, k), getattr(b, k))
    assert a.decls == b.decls
    fast = tb.read("run", [p], p.parent)
    slow = tb.read("run", [p], p.parent, fast=False)
    assert fast.frame.equals(slow.frame) and fast.notes == slow.notes == []


def _damage(rng: np.random.Generator, data: bytes) -> bytes:
    b = bytearray(data)
    what = rng.integers(0, 5)
    at = int(rng.integers(0, len(b)))
    if what == 0:  # bit flips
        for _ in range(int(rng.integers(1, 6))):
            b[int(rng.integers(0, len(b)))] ^= 1 << int(rng.integers(0, 8))
    elif what == 1:  # truncation
        del b[at:]
    elif what == 2:  # inserted garbage
        b[at:at] = rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8).tobytes()
    elif what == 3:  # a zeroed stretch
        k = len(b[at : at + int(rng.integers(1, 3000))])
        b[at : at + k] = bytes(k)
    else:  # a duplicated stretch
        k = int(rng.integers(1, 5000))
        b[at:at] = b[at : at + k]
    return bytes(b)


def _payloads(rng: np.random.Generator, n: int) -> list[bytes]:
    """Mixed lengths with a long repeat, plus payloads that hold whole framed records (valid
    headers inside payloads: chains that start there must not be believed)."""
    inner = frame_record(b"\x09" * 40)
    out = []
    for i in range(n):
        r = rng.random()
        if r < 0.02:
            out.append(bytes(rng.integers(0, 40)) + inner * int(rng.integers(1, 4)))
        elif r < 0.05:
            out.append(rng.integers(0, 256, int(rng.integers(0, 400)), dtype=np.uint8).tobytes())
        else:
            out.append(bytes(30 + (i % 7) * 3 + 5 * (i % 61 == 0)))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_chain_walk_equals_sequential_walk_on_damaged_files(chains_early, seed):
    rng = np.random.default_rng(seed)
    for _trial in range(25):
        data = b"".join(frame_record(p) for p in _payloads(rng, int(rng.integers(1, 4000))))
        if rng.random() < 0.8:
            data = _damage(rng, data)
        got = walk(Buffer.from_bytes(data))
        same_framing(got, sequential(Buffer.from_bytes(data)))


def test_chain_walk_on_clean_files_with_false_starts(chains_early):
    rng = np.random.default_rng(9)
    payloads = _payloads(rng, 6000)
    data = b"".join(frame_record(p) for p in payloads)
    fr = walk(Buffer.from_bytes(data))
    assert fr.lengths.tolist() == [len(p) for p in payloads]
    assert fr.partial_at is None and not fr.corrupt_regions


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_damaged_mixed_cadence_files_read_the_same_fast_and_reference(
    tmp_path, chains_early, layout
):
    rng = np.random.default_rng(5)
    data = write(tmp_path / "src" / "x", cadence_events(layout, 700, first=100))
    for k in range(6):
        p = tmp_path / f"{layout}{k}" / "events.out.tfevents.1.h"
        p.parent.mkdir()
        p.write_bytes(_damage(rng, data))
        try:
            fast = tb.read("run", [p], p.parent)
        except tb.ReadError:
            with pytest.raises(tb.ReadError):
                tb.read("run", [p], p.parent, fast=False)
            continue
        slow = tb.read("run", [p], p.parent, fast=False)
        assert fast.frame.equals(slow.frame) and fast.notes == slow.notes
