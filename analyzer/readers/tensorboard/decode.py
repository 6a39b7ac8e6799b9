"""Decoding the ``Event`` records of one event file into scalar rows: :func:`decode_file`.

Two decoders give the same answer:

* :func:`~.events.event_items` — the reference (:mod:`.events`): parse the record with the protobuf classes the
  ``tensorboard`` package ships and take the scalars out of it. Used for every record that the fast
  path does not handle, and to check the fast path.
* :func:`decode_file` — the fast path, by *layout templates*. Nearly every event starts
  ``09 <wall_time: 8 bytes> 10 <step varint>``; that prefix is decoded for all records at once
  (the varint with 64-bit word arithmetic). What follows (the *suffix*: the summary) is grouped by
  length. For each group, one representative record is parsed by a tiny protobuf walker
  (:func:`.layout.build_layout`) that notes where the variable data is (each scalar: 2, 4 or 8 bytes; the
  contents of values it skips, such as images or histograms) and is checked once against
  the reference (validated layouts are cached, also across files). Every other record of the
  group whose remaining ("structural") bytes equal the representative's — compared as 64-bit
  words, a few numpy operations per group over a matrix of all suffixes — has exactly the same
  protobuf structure with other data in those slots, so its value is read at the same offset.
  Records that differ (another tag of the same length) get up to two more rounds with a new
  representative, then a per-group comparison with a split by a hash of their structural bytes;
  what is still left goes through the reference. A walker that does not recognise
  something (a session log, hparams, two values of a oneof, a field twice, a tensor with a shape)
  gives up and lets protobuf decide, so the fast path is an optimisation, never a second opinion.

What counts as a scalar (both paths): ``simple_value`` (TF1, PyTorch, tensorboardX), and a tensor
with one element of a numeric dtype (``tensor_content`` or ``float_val``/``double_val``/... as TF2,
Keras and PyTorch ``new_style`` write them) whose value carries no plugin metadata or the
``scalars`` plugin. Tensors of other plugins, images, histograms, audio, graphs are skipped without
parsing their contents. The run-level filter (a tag whose first plugin declaration is not
``scalars`` keeps no tensor rows) is applied by the caller with :attr:`FileRows.decls`.

The pieces: :mod:`.events` (the reference, protobuf classes), :mod:`.layout` (the protobuf walker
that builds layout templates), :mod:`.scan` (the vectorised reading of byte matrices) and
:mod:`.groups` (grouping records by layout, the layout cache); this module puts them together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .events import EventItems, parse_event
from .framing import Buffer
from .groups import fast_groups


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
    return concat_rows(parts)


def concat_rows(parts: list[FileRows]) -> FileRows:
    """Rows decoded from consecutive pieces of one file (chunks of its records, or the records
    appended between two polls of a tail) as if decoded at once: tag codes renumbered, the first
    plugin declaration of a tag kept, ``SessionLog.START`` positions shifted, later hparams win."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        z = np.empty(0)
        return FileRows(
            [], np.empty(0, np.int32), np.empty(0, np.int64), z, z, np.empty(0, bool), {}, [], {}
        )
    tag_ids: dict[str, int] = {}
    codes: list[np.ndarray] = []
    decls: dict[str, str] = {}
    run_starts: list[tuple[int, int]] = []
    hparams: dict[str, Any] = {}
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
        pre, uniform, groups, slow = fast_groups(buf, starts, ends, check)
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
