"""Grouping the records of a chunk by layout for the fast path (see :mod:`.decode`): a one-pass
comparison for layouts of at most one scalar (:func:`uniform_pass`), then groups peeled off by
representative (:func:`fast_groups`); layouts are validated against the reference decoder once
and cached across files."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .events import parse_event
from .framing import PAD, Buffer
from .layout import Layout, build_layout
from .scan import (
    Prefix,
    first_groups,
    read_prefixes,
    row_hash,
    row_matrix,
    rows_equal,
    scan_records,
    slot_values,
)

_MAX_DEPTH = 4


@dataclass
class Group:
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
    pre: Prefix,
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
class Uniform:
    """What the one-pass comparison read, per record of the chunk."""

    handled: np.ndarray  # bool: the record has the layout of its group's representative
    has_row: np.ndarray  # bool: ... and that layout holds one scalar
    tag: np.ndarray  # int32 index into tags (where has_row)
    value: np.ndarray  # float64 (where has_row)
    tensor: np.ndarray  # bool (where has_row)
    tags: list[str]
    decls: list[tuple[int, Layout]]  # (first record with the layout, layout)


_UNIFORM_ROUNDS = 3


def uniform_pass(
    buf: Buffer,
    pre: Prefix,
    starts: np.ndarray,
    ends: np.ndarray,
    codes: np.ndarray,
    firsts: list[np.ndarray],
    check: bool,
    budget: _Budget,
) -> Uniform:
    """Compare every record with its group's representative with a few array operations per
    group (one gather of all suffixes, in group order) and read the value of single-value
    layouts. Records that differ from their representative (another tag of the same length, say)
    get more rounds, split by their structural bytes (see :func:`_split`)."""
    n = len(codes)
    out = Uniform(
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
        # usable implies a layout (not None); the check only tells the type checker
        ok = [lay for lay, u in zip(lays, usable, strict=True) if u and lay is not None]
        rest = _uniform_round(buf, pre, groups, ok, tag_ids, out)
        if not rest:
            break
        groups = rest
    out.tags = list(tag_ids)
    return out


def _uniform_round(
    buf: Buffer,
    pre: Prefix,
    groups: list[np.ndarray],
    lays: list[Layout],
    tag_ids: dict[str, int],
    out: Uniform,
) -> list[np.ndarray]:
    """One round of :func:`uniform_pass`: ``groups`` (record indices, representative first)
    with their layouts. Fills ``out``; returns, per group, the records that did not match."""
    width = -(-max(lay.width for lay in lays) // 64) * 64  # whole 8-word rows: see below
    order = np.concatenate(groups) if len(groups) > 1 else groups[0]
    mat = row_matrix(buf, pre.suffix[order], width)
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
        good = rows_equal(rows, rows[:1])
        ok[a:at] = good
        if lay.decls:
            out.decls.append((int(members[0]), lay))
        if lay.slots:
            slot = lay.slots[0]
            value[a:at] = slot_values(mat[a:at], slot)
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


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values in order of first appearance (``pandas.factorize``, for
    the integer hashes here, without importing pandas)."""
    uniq, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return rank[inverse.ravel()], uniq[order]


def _split(members: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Records that did not match their representative, split by their bytes at the structural
    positions of its layout: other tags of the same length land in one group each. A split into
    many small groups means the layout differs (data where the representative has structure);
    then the records stay together and the next round takes the first as representative."""
    if len(members) < 2 or rows_equal(rows, rows[:1]).all():
        return [members]  # the usual case: one other tag
    codes, uniq = _factorize(row_hash(rows))
    if len(uniq) == 1:
        return [members]
    if len(uniq) > 64 and len(uniq) * 4 > len(members):
        return [members]
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=len(uniq)))[:-1]
    return np.split(members[order], bounds)


def fast_groups(
    buf: Buffer, starts: np.ndarray, ends: np.ndarray, check: bool
) -> tuple[Prefix, Uniform, list[Group], list[int]]:
    """Records taken by layout templates, and the ones left for protobuf."""
    pre = read_prefixes(buf, starts, ends)
    codes, firsts = first_groups(pre, ends)
    budget = _Budget()
    uniform = uniform_pass(buf, pre, starts, ends, codes, firsts, check, budget)
    groups: list[Group] = []
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
            sc = scan_records(buf, pre.suffix[members], lay)
            if sc.ok.all():
                groups.append(Group(members, lay, sc.steps, sc.walls, sc.values))
                continue
            ok = sc.ok
            groups.append(
                Group(
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
            sub_codes, uniq = _factorize(sc.rest_hash)
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
    buf: Buffer, pre: Prefix, ends: np.ndarray, rest: np.ndarray, lay: Layout
) -> bool:
    """Does the next record of ``rest`` have its data where ``lay`` has it (another tag, say)?"""
    r = int(rest[0])
    other = build_layout(buf.bytes(int(pre.suffix[r]), int(ends[r])), suffix=pre.kind[r] != 2)
    return (
        other is not None
        and other.mask is not None  # build_layout always sets it
        and lay.mask is not None
        and np.array_equal(other.mask, lay.mask)
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
    sc = scan_records(one, np.zeros(1, dtype=np.int64), lay)
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
