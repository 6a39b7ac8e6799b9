"""TFRecord framing: walk the records of a file held in memory and verify their checksums.

A record is ``u64 length (LE) | masked crc32c(length bytes) | payload | masked crc32c(payload)``,
with ``mask(c) = ((c >> 15) | (c << 17)) + 0xA282EAD8 (mod 2**32)``.

Why this module exists instead of a loop of ``struct.unpack`` + ``crc32c(...)``: a Python-level
step per record costs about as much as everything else the reader does, so both the walk and the
checksum verification are vectorised with numpy, and a Python loop only runs where the data is
irregular or damaged.

* **Walk** (:func:`walk`): the length sequence of an event file is nearly periodic (the same tags
  are logged again and again, and a scalar event's size only changes when the step's varint grows).
  After a few records taken one by one, the walker predicts the next ``K`` record offsets from the
  last period of lengths and checks, in one numpy gather, that every predicted record really has
  the predicted length and a valid length checksum. The accepted prefix is exactly what a
  sequential walk would have found (each record's offset follows from the previous record's
  verified length), so prediction only changes the speed, never the result.
* **Length checksums** are affine in the 8 length bytes, so they are computed for many records at
  once from 8 lookup tables of 256 entries.
* **Payload checksums** (:func:`verify_payloads`) use a property of CRC-32C: the checksum of
  ``data || crc32c(data) as 4 LE bytes`` is the constant ``0x48674BC7`` whatever ``data`` is. In
  the file's buffer (in place: the headers are not needed any more after the walk), every
  record's 12-byte header is replaced by a constant
  that brings the CRC register back to its initial state and every stored checksum is unmasked;
  one native ``crc32c`` call over the block then yields the residue constant iff every record's
  checksum matches (a single bad record always changes the result; several bad records could only
  cancel out with probability about 2**-32, the same odds as a corrupt record passing its own
  checksum). A block that fails is checked again record by record, so the exact bad records are
  known and counted.

Damage is reported, never raised: a truncated last record, a corrupt length field (the walker
resynchronises on the next position whose length *and* payload checksums are both valid), and
payload checksum failures all end up in :class:`Framing`. No buffer is ever sized from a length
field; payloads are views into the file's bytes.
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path

import google_crc32c
import numpy as np

_crc = google_crc32c.value
_crc_extend = google_crc32c.extend

MASK_DELTA = 0xA282EAD8
HEADER = 12  # length (8) + length checksum (4)
OVERHEAD = 16  # header + payload checksum
PAD = 136  # zero bytes after the data: fixed-width gathers (up to 128 bytes) stay inside
RESIDUE = 0x48674BC7  # crc32c(data || crc32c(data) as LE u32), for any data

_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
# (ndarrays are passed to memoryview / struct as buffers; numpy's stubs declare the buffer
# protocol only for Python >= 3.12 and mypy checks as 3.10, hence those `type: ignore[arg-type]`)


def mask(crc: int) -> int:
    """The masked form of a CRC-32C, as TFRecord stores it."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + MASK_DELTA) & 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    return mask(_crc(data))


def unmask_array(stored: np.ndarray) -> np.ndarray:
    """Vectorised inverse of :func:`mask` (uint32 in, uint32 out)."""
    rot = (stored.astype(np.uint32) - np.uint32(MASK_DELTA)).astype(np.uint32)
    return ((rot << np.uint32(15)) | (rot >> np.uint32(17))).astype(np.uint32)


def frame_record(payload: bytes) -> bytes:
    """Frame one payload as a TFRecord (used by fixtures, tests and the benchmark)."""
    head = _U64.pack(len(payload))
    return head + _U32.pack(masked_crc(head)) + payload + _U32.pack(masked_crc(payload))


# --- length checksums from lookup tables --------------------------------------------------------
# crc32c over 8 bytes is affine in the bytes: crc(b) = C0 ^ T[0][b0] ^ ... ^ T[7][b7].
_ZERO8 = bytes(8)
_LEN_C0 = _crc(_ZERO8)
_LEN_TABLES = np.zeros((8, 256), dtype=np.uint32)
for _j in range(8):
    for _v in range(256):
        _b = bytearray(8)
        _b[_j] = _v
        _LEN_TABLES[_j, _v] = _crc(bytes(_b)) ^ _LEN_C0
del _j, _v, _b


def length_crcs(lengths: np.ndarray) -> np.ndarray:
    """Unmasked crc32c of each length's 8 little-endian bytes (vectorised)."""
    lengths = lengths.astype(np.uint64, copy=False)
    out = np.full(len(lengths), _LEN_C0, dtype=np.uint32)
    for j in range(8):
        byte = ((lengths >> np.uint64(8 * j)) & np.uint64(0xFF)).astype(np.intp)
        if j and not byte.any():
            continue
        out ^= _LEN_TABLES[j][byte]
    return out


_LEN_CRC_CACHE: dict[int, int] = {}


def _masked_len_crc(length: int) -> int:
    c = _LEN_CRC_CACHE.get(length)
    if c is None:
        if len(_LEN_CRC_CACHE) > 65536:
            _LEN_CRC_CACHE.clear()
        c = _LEN_CRC_CACHE[length] = masked_crc(_U64.pack(length))
    return c


# --- the constant record prefix used for aggregated payload verification ------------------------
def _solve_reset_bytes() -> bytes:
    """4 bytes ``r`` with ``extend(RESIDUE, 8 zero bytes + r) == 0``, i.e. the CRC register is back
    to its initial state (crc value 0) before each payload. Found by solving the 32x32 linear system
    over GF(2) (the map from ``r`` to the result is affine)."""
    base = _crc_extend(RESIDUE, _ZERO8 + bytes(4))
    cols = []
    for bit in range(32):
        r = (1 << bit).to_bytes(4, "little")
        cols.append(_crc_extend(RESIDUE, _ZERO8 + r) ^ base)
    # solve sum(x_bit * cols[bit]) == base  (Gaussian elimination on 32-bit rows)
    rows = []  # (pivot mask, column combination as int, value)
    basis: dict[int, tuple[int, int]] = {}
    for bit, col in enumerate(cols):
        combo = 1 << bit
        v = col
        while v:
            top = v.bit_length() - 1
            if top not in basis:
                basis[top] = (v, combo)
                break
            bv, bc = basis[top]
            v ^= bv
            combo ^= bc
        rows.append(v)
    target, combo = base, 0
    while target:
        top = target.bit_length() - 1
        bv, bc = basis[top]  # KeyError would mean a singular system: cannot happen for CRC-32C
        target ^= bv
        combo ^= bc
    reset = combo.to_bytes(4, "little")
    assert _crc_extend(RESIDUE, _ZERO8 + reset) == 0
    return reset


_PREFIX12 = np.frombuffer(_ZERO8 + _solve_reset_bytes(), dtype=np.uint8)


# --- the file buffer ----------------------------------------------------------------------------
class Buffer:
    """A file's bytes plus zero padding, with unaligned numpy views for vectorised gathers.

    ``u8[i]`` is byte ``i``; ``u64[i]`` / ``u32[i]`` / ``f64[i]`` ... are the little-endian values
    starting at byte ``i`` (overlapping strided views, no copy).
    """

    def __init__(self, raw: np.ndarray, size: int):
        self.raw = raw
        self.size = size
        self.mv = memoryview(raw)  # type: ignore[arg-type]  # ndarray buffer, see _U32
        self.u8 = raw
        self.rows: dict[int, np.ndarray] = {}  # strided (n, width) views, see .scan
        self.patched = False  # verify_payloads has rewritten the record headers
        n = len(raw)

        def view(dtype: str, width: int) -> np.ndarray:
            return np.ndarray((max(n - width + 1, 0),), dtype=dtype, buffer=raw, strides=(1,))

        self.u16 = view("<u2", 2)
        self.u32 = view("<u4", 4)
        self.u64 = view("<u8", 8)
        self.i32 = view("<i4", 4)
        self.i64 = view("<i8", 8)
        self.f16 = view("<f2", 2)
        self.f32 = view("<f4", 4)
        self.f64 = view("<f8", 8)

    @classmethod
    def from_file(cls, path: Path, *, reuse: bool = False) -> Buffer:
        """Read the whole file once (no zero-filling pass: numpy's empty + readinto).

        ``reuse``: for files up to 8 MB, read into this thread's reusable array; the buffer is
        then only valid until the next ``from_file(..., reuse=True)`` in the same thread (the
        reader's own use: nothing it returns points into the buffer)."""
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            raw = _scratch(size + PAD) if reuse else np.empty(size + PAD, dtype=np.uint8)
            got = 0
            while got < size:
                k = fh.readinto(memoryview(raw)[got:size])  # type: ignore[arg-type]  # ndarray buffer, see _U32
                if not k:  # the file shrank while we read it
                    break
                got += k
        raw[got:] = 0
        return cls(raw, got)

    @classmethod
    def from_bytes(cls, data: bytes) -> Buffer:
        raw = np.zeros(len(data) + PAD, dtype=np.uint8)
        raw[: len(data)] = np.frombuffer(data, dtype=np.uint8)
        return cls(raw, len(data))

    def bytes(self, start: int, end: int) -> bytes:
        return bytes(self.mv[start:end])


_SCRATCH = threading.local()
_SCRATCH_KEEP = 8 << 20


def _scratch(size: int) -> np.ndarray:
    """Memory for a file's bytes. Files up to 8 MB reuse one array per thread: a fresh
    allocation of that size is mapped and faulted in page by page each time, which costs as much
    as a third of reading a small file when many runs are read in a row."""
    if size > _SCRATCH_KEEP:
        return np.empty(size, dtype=np.uint8)
    arr = getattr(_SCRATCH, "arr", None)
    if arr is None or len(arr) < size:
        arr = _SCRATCH.arr = np.empty(max(size, 1 << 20), dtype=np.uint8)
    return arr[:size]


# --- walking the framing ------------------------------------------------------------------------
@dataclass
class Framing:
    """What the walk found: record offsets and lengths (int64 arrays), and the damage."""

    offsets: np.ndarray
    lengths: np.ndarray
    partial_at: int | None = None  # byte offset of a truncated last record
    corrupt_regions: list[tuple[int, int]] = field(default_factory=list)  # skipped [start, end)
    stopped_at: int | None = None  # a corrupt length with nothing valid after it

    @property
    def payload_starts(self) -> np.ndarray:
        return self.offsets + HEADER

    @property
    def payload_ends(self) -> np.ndarray:
        return self.offsets + HEADER + self.lengths


def _period(recent: list[int]) -> int:
    """Smallest P (1..16) with recent[-P:] == recent[-2P:-P], else 0."""
    n = len(recent)
    for p in range(1, 17):
        if 2 * p > n:
            break
        if recent[-p:] == recent[-2 * p : -p]:
            return p
    return 0


def _payload_ok(buf: Buffer, off: int, length: int) -> bool:
    start = off + HEADER
    stored = _U32.unpack_from(buf.raw, start + length)[0]  # type: ignore[arg-type]  # ndarray buffer, see _U32
    return masked_crc(buf.bytes(start, start + length)) == stored


def _resync(buf: Buffer, start: int) -> int | None:
    """First offset >= start holding a record whose length and payload checksums are valid."""
    n = buf.size
    window = 1 << 16
    a = start
    while a + OVERHEAD <= n:
        b = min(a + window, n - OVERHEAD + 1)
        pos = np.arange(a, b, dtype=np.int64)
        lens = buf.u64[pos]
        room = (n - OVERHEAD - pos).astype(np.uint64)
        cand = lens <= room
        if cand.any():
            pos, lens = pos[cand], lens[cand]
            ok = length_crcs(lens) == unmask_array(buf.u32[pos + 8])
            for p, ln in zip(pos[ok].tolist(), lens[ok].tolist(), strict=True):
                if _payload_ok(buf, p, ln):
                    return p
        a = b
    return None


_MAX_SPEC = 1 << 16  # records predicted at once
# When the lengths have no repeat of up to 16 records (mixed logging cadences: loss every step,
# validation every 20 steps), prediction keeps failing and most records are walked one by one.
# Once that effort (records one by one, plus _ROUND_EFFORT per round) passes _CHAIN_EFFORT,
# the rest of the file is walked by :func:`_chains`, which does not depend on the order of lengths.
_CHAIN_EFFORT = 2048
_ROUND_EFFORT = 16
_CHAIN_MIN_BYTES = 1 << 18


def walk(buf: Buffer) -> Framing:
    """Find every record of the file (see the module docstring for how, and why it is exact)."""
    raw, n = buf.raw, buf.size
    unpack_u64 = _U64.unpack_from
    unpack_u32 = _U32.unpack_from
    off_parts: list[np.ndarray] = []
    s_offs: list[int] = []
    recent: list[int] = []
    result = Framing(np.empty(0, np.int64), np.empty(0, np.int64))
    off = 0
    k_spec = _MAX_SPEC  # optimistic: most files are regular
    scalar_budget = 8
    effort = 0  # records walked one by one and prediction rounds since the last chain walk

    def flush() -> None:
        if s_offs:
            off_parts.append(np.array(s_offs, dtype=np.int64))
            s_offs.clear()

    while off < n:
        # --- many stretches at once when the lengths have no short repeat -------------------
        if effort > _CHAIN_EFFORT and n - off >= _CHAIN_MIN_BYTES:
            flush()
            found, off = _chains(buf, off)
            if len(found):
                off_parts.append(found)
            effort = 0
            recent.clear()
            scalar_budget = 8
            if off >= n:
                break
        # --- a few records one by one -------------------------------------------------------
        done = 0
        while off < n and done < scalar_budget:
            if n - off < HEADER:
                result.partial_at = off
                off = n
                break
            length = unpack_u64(raw, off)[0]  # type: ignore[arg-type]  # ndarray buffer, see _U32
            bad_length = _masked_len_crc(length) != unpack_u32(raw, off + 8)[0]  # type: ignore[arg-type]  # ndarray buffer, see _U32
            if bad_length or off + OVERHEAD + length > n:
                # a damaged length field, or one past the end of the file: the last record
                # still being written, or a length that lies (with a valid checksum of the lie)
                # in front of intact records; resync on the next valid record when there is one
                nxt = _resync(buf, off + 1)
                if nxt is not None:
                    result.corrupt_regions.append((off, nxt))
                    off = nxt
                elif bad_length:
                    result.corrupt_regions.append((off, n))
                    result.stopped_at = off
                    off = n
                else:
                    result.partial_at = off
                    off = n
                recent.clear()
                break
            s_offs.append(off)
            recent.append(length)
            off += OVERHEAD + length
            done += 1
        effort += done + _ROUND_EFFORT
        if off >= n:
            break
        if len(recent) > 64:
            del recent[:-32]
        # --- then as many as the last period of lengths predicts ----------------------------
        period = _period(recent)
        if not period:
            scalar_budget = min(scalar_budget * 2, 512)
            continue
        lens = recent[-period:]
        span = sum(lens) + OVERHEAD * period  # bytes per period
        reps = min(-(-k_spec // period), (n - off) // span)  # whole periods inside the file
        if reps < 1:
            scalar_budget = 8
            continue
        # view the next ``reps`` periods as rows of ``span`` bytes; the header of record k of
        # each period sits at the same columns of every row, so one gather of those columns
        # and one comparison with the expected header bytes check them all
        within = np.cumsum([0] + [length + OVERHEAD for length in lens[:-1]])
        rows = np.ndarray((reps, span), np.uint8, buf.u8, off, (span, 1))
        cols = (within[:, None] + np.arange(HEADER)).ravel()
        expect = np.frombuffer(
            b"".join(_U64.pack(x) + _U32.pack(_masked_len_crc(x)) for x in lens), np.uint8
        )
        bad = (rows[:, cols] != expect).any(axis=1)
        first_bad = int(bad.argmax()) if bad.any() else reps
        accepted = first_bad * period
        if first_bad < reps:  # records of the failing period before the failing one are fine
            row = rows[first_bad, cols] != expect
            accepted += int(row.argmax()) // HEADER
        if accepted:
            flush()
            full = -(-accepted // period)
            starts = (off + np.arange(full, dtype=np.int64)[:, None] * span + within).ravel()
            off_parts.append(starts[:accepted])
            off = int(starts[accepted - 1]) + OVERHEAD + lens[(accepted - 1) % period]
        if accepted >= k_spec:
            k_spec = min(k_spec * 4, _MAX_SPEC)
            scalar_budget = 2
        else:  # the pattern changed (a step varint grew, another kind of event came in)
            k_spec = min(max(256, 2 * accepted), _MAX_SPEC)
            scalar_budget = 8 if accepted >= 2 * period else min(scalar_budget * 2, 512)
    flush()
    if off_parts:
        result.offsets = np.concatenate(off_parts) if len(off_parts) > 1 else off_parts[0]
        # every record's length field was verified on the way: read them all at once
        result.lengths = buf.u64[result.offsets].astype(np.int64)
    return result


# --- payload checksums --------------------------------------------------------------------------
_BLOCK_BYTES = 1 << 18


def verify_payloads(buf: Buffer, offsets: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Boolean mask: which records' payload checksums match (see the module docstring).

    The buffer's record headers and checksums are rewritten in place (that saves a copy of the
    file); the payloads stay as they are, which is all the decoders read. Call it once per
    buffer, after :func:`walk`."""
    nrec = len(offsets)
    ok = np.ones(nrec, dtype=bool)
    if nrec == 0:
        return ok
    ends = offsets + OVERHEAD + lengths
    # blocks: contiguous records, about _BLOCK_BYTES each
    gap = np.flatnonzero(offsets[1:] != ends[:-1]) + 1
    bounds = [0]
    for seg_start, seg_end in zip([0, *gap.tolist()], [*gap.tolist(), nrec], strict=True):
        base = int(offsets[seg_start])
        cut = np.searchsorted(
            ends[seg_start:seg_end] - base,
            np.arange(_BLOCK_BYTES, int(ends[seg_end - 1]) - base, _BLOCK_BYTES),
        )
        for c in np.unique(cut).tolist():
            if 0 < c < seg_end - seg_start:
                bounds.append(seg_start + c)
        bounds.append(seg_end)
    # patch the buffer in place (V12/V4 views: one item per record): each header becomes the
    # constant prefix, each stored checksum is unmasked. The payloads are untouched.
    assert not buf.patched, "verify_payloads rewrites the headers: call it once per buffer"
    buf.patched = True
    n = len(buf.u8)
    v12 = np.ndarray((n - HEADER + 1,), dtype="V12", buffer=buf.u8, strides=(1,))
    v4 = np.ndarray((n - 3,), dtype="V4", buffer=buf.u8, strides=(1,))
    v12[offsets] = _PREFIX12.view("V12")[0]
    foot = ends - 4
    stored = v4[foot].view("<u4")
    v4[foot] = unmask_array(stored).view("V4")
    for i, j in zip(bounds[:-1], bounds[1:], strict=True):
        if i >= j:
            continue
        block = buf.bytes(int(offsets[i]), int(ends[j - 1]))
        if _crc_extend(RESIDUE, block) == RESIDUE:
            continue
        for k in range(i, j):
            start = int(offsets[k]) + HEADER
            end = start + int(lengths[k])
            ok[k] = mask(_crc(buf.bytes(start, end))) == int(stored[k])
    return ok


# --- walking many stretches of a file at once ---------------------------------------------------
_CHAIN_SEG = 1 << 14  # bytes per chain at least
_MAX_CHAINS = 2048
_CHAIN_WINDOW = 192  # bytes searched for a chain's first record
_SMALL_LEN = 1 << 16
_LEN_LUT: np.ndarray | None = None


def _masked_len_crcs(lengths: np.ndarray) -> np.ndarray:
    """Masked crc32c of each length's 8 bytes (a lookup table for lengths below 64 KB)."""
    global _LEN_LUT
    if _LEN_LUT is None:
        _LEN_LUT = mask_array(length_crcs(np.arange(_SMALL_LEN, dtype=np.uint64)))
    if lengths.max(initial=0) < _SMALL_LEN:
        return _LEN_LUT[lengths.view(np.int64) if lengths.dtype == np.uint64 else lengths]
    small = lengths < np.uint64(_SMALL_LEN)
    out = np.empty(len(lengths), dtype=np.uint32)
    out[small] = _LEN_LUT[lengths[small].astype(np.intp)]
    out[~small] = mask_array(length_crcs(lengths[~small]))
    return out


def mask_array(crc: np.ndarray) -> np.ndarray:
    """Vectorised :func:`mask` (uint32 in, uint32 out)."""
    c = crc.astype(np.uint32)
    rot = (c >> np.uint32(15)) | (c << np.uint32(17))
    return (rot + np.uint32(MASK_DELTA)).astype(np.uint32)


def _chain_starts(buf: Buffer, start: int) -> np.ndarray:
    """Where to start walking: ``start``, then about every ``_CHAIN_SEG`` bytes the first
    position whose length field has a valid checksum and fits in the file (a guess: positions
    inside payloads can pass too; :func:`_chains` only keeps chains that join up)."""
    n = buf.size
    span = n - start
    nseg = min(span // _CHAIN_SEG, _MAX_CHAINS)
    if nseg < 2:
        return np.array([start], dtype=np.int64)
    seg = span // nseg
    base = start + np.arange(1, nseg, dtype=np.int64) * seg
    pos = base[:, None] + np.arange(_CHAIN_WINDOW, dtype=np.int64)
    lens = buf.u64[np.minimum(pos, n - 1)]
    cand = lens <= (n - OVERHEAD - pos).clip(0).astype(np.uint64)
    cand &= pos <= n - OVERHEAD
    r, c = np.nonzero(cand)
    good = _masked_len_crcs(lens[r, c]) == buf.u32[pos[r, c] + 8]
    r, c = r[good], c[good]
    # the first good position of each row
    first = np.ones(len(r), dtype=bool)
    first[1:] = r[1:] != r[:-1]
    found = pos[r[first], c[first]]
    return np.concatenate([[start], found]).astype(np.int64)


def _chains(buf: Buffer, start: int) -> tuple[np.ndarray, int]:
    """Record offsets from ``start`` on, found by walking many stretches of the file in lockstep
    (one numpy step advances every stretch by one record), whatever the order of record lengths.

    Chain ``j`` starts at a guessed record start and walks until it reaches the start of chain
    ``j + 1``. The result is the longest prefix in which every chain landed exactly on the next
    one's start: each of those records was reached from ``start`` record by record, with a valid
    length checksum and inside the file, so it is exactly what a sequential walk finds. Returns
    the offsets and where the prefix ends (the caller walks on from there: damage, a truncated
    record, or a chain that started inside a payload)."""
    n = buf.size
    starts = _chain_starts(buf, start)
    m = len(starts)
    targets = np.empty(m, dtype=np.int64)
    targets[:-1] = starts[1:]
    targets[-1] = n
    ends = np.full(m, -1, dtype=np.int64)  # where each chain stopped
    broken = np.zeros(m, dtype=bool)  # stopped on a record that is not valid there
    pos = starts.copy()
    tgt = targets
    ids = np.arange(m, dtype=np.int32)
    out_pos: list[np.ndarray] = []
    out_ids: list[np.ndarray] = []
    big = np.uint64(1 << 40)
    u64, u32 = buf.u64, buf.u32
    while len(ids):
        p = pos  # <= n, so the reads below stay inside the padding
        ln = u64[p]
        if (ln < big).all():  # lengths that fit in int64 arithmetic
            ok = ln.view(np.int64) + p <= n - OVERHEAD
        else:
            ok = (ln < big) & (np.minimum(ln, big).view(np.int64) + p <= n - OVERHEAD)
            ln = np.where(ok, ln, 0)
        ok &= _masked_len_crcs(ln) == u32[p + 8]
        if not ok.all():
            bad = ~ok
            ends[ids[bad]] = p[bad]
            broken[ids[bad]] = True
            p, ln, ids, tgt = p[ok], ln[ok], ids[ok], tgt[ok]
        out_pos.append(p)
        out_ids.append(ids)
        pos = p + OVERHEAD + ln.astype(np.int64)
        more = pos < tgt
        if not more.all():
            done = ~more
            ends[ids[done]] = pos[done]
            pos, ids, tgt = pos[more], ids[more], tgt[more]
    # the prefix of chains that join up
    fail = broken.copy()
    fail[:-1] |= ends[:-1] != targets[:-1]
    last = int(fail.argmax()) if fail.any() else m - 1
    end = int(ends[last])
    counts = np.zeros(m + 1, dtype=np.int64)
    iters = []
    for it, ids_it in enumerate(out_ids):
        iters.append(np.full(len(ids_it), it, dtype=np.int64))
    all_ids = np.concatenate(out_ids) if out_ids else np.empty(0, np.int32)
    all_pos = np.concatenate(out_pos) if out_pos else np.empty(0, np.int64)
    all_it = np.concatenate(iters) if iters else np.empty(0, np.int64)
    np.cumsum(np.bincount(all_ids, minlength=m), out=counts[1:])
    keep = all_ids <= last
    result = np.empty(int(counts[last + 1]), dtype=np.int64)
    result[counts[all_ids[keep]] + all_it[keep]] = all_pos[keep]
    return result, end
