"""Hostile inputs: damaged event files, CSVs and trainer_state.json files, read as a user would.

A seeded mutator damages a valid file of each class (truncation, bit flips, inserted garbage,
zeroed and NUL-filled stretches, duplicated stretches) and reads every damaged copy with the
reader curvelint would use. It counts, per input class:

* tried  - damaged files read;
* crash  - an exception other than a ReadError (a clear "this file is bad" reason) escaped;
* hang   - a read took longer than the time limit (SIGALRM);
* wrong  - a value came back that the file does not hold: for event files, every returned
  (tag, step, value) must be one of the original records (their checksums make any other
  value a reader bug), and every record wholly before the first damaged byte must be returned;
  a third of the event files instead get one record payload damaged and framed again with
  valid checksums, and the fast decoder must then return exactly what protobuf decodes;
  for tables and trainer states, every returned value must be a finite or non-finite number
  and every step an integer (a byte flip can legitimately change a digit).

    python benchmarks/hostile.py [--cases 300] [--seed 0] [--limit 10]

The same function backs ``tests/test_hostile.py`` (fewer cases, all counts but "tried" zero).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tensorboard.compat.proto import event_pb2, summary_pb2  # noqa: E402
from tensorboard.summary.writer.record_writer import RecordWriter  # noqa: E402

from analyzer.readers import ReadError, reader_for  # noqa: E402
from analyzer.readers import tensorboard as tb  # noqa: E402
from analyzer.readers.tensorboard.framing import OVERHEAD  # noqa: E402


class Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise Hang()


# --- valid inputs --------------------------------------------------------------------------------
def event_file(n: int = 300) -> tuple[bytes, list[tuple[int, int, tuple[str, int, float]]]]:
    """A TF1-style event file and, per scalar record, (start, end, (tag, step, value))."""
    buf = io.BytesIO()
    w = RecordWriter(buf)
    records = []
    w.write(event_pb2.Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString())
    for s in range(n):
        for tag, v in (("loss", 1.0 / (s + 1)), ("val_loss", 2.0 / (s + 2))):
            start = buf.tell()
            ev = event_pb2.Event(
                wall_time=1.0 + s,
                step=s,
                summary=summary_pb2.Summary(
                    value=[summary_pb2.Summary.Value(tag=tag, simple_value=v)]
                ),
            )
            payload = ev.SerializeToString()
            w.write(payload)
            records.append((start, start + OVERHEAD + len(payload), (tag, s, float(f32(v)))))
    return buf.getvalue(), records


def f32(x: float) -> float:
    import numpy as np

    return float(np.float32(x))


def csv_file(n: int = 120) -> bytes:
    rows = ["epoch,loss,val_loss,val_accuracy"]
    rows += [f"{i},{1 / (i + 1):.6f},{1.2 / (i + 1):.6f},{0.5 + i / (2 * n):.4f}" for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def trainer_state(n: int = 80) -> bytes:
    hist = []
    for i in range(1, n + 1):
        hist.append(
            {"loss": round(1 / i, 4), "learning_rate": 5e-5, "epoch": i / 10, "step": 10 * i}
        )
        if i % 10 == 0:
            hist.append({"eval_loss": round(1.2 / i, 4), "epoch": i / 10, "step": 10 * i})
    return json.dumps({"global_step": 10 * n, "log_history": hist}, indent=2).encode()


# --- damage --------------------------------------------------------------------------------------
def reframe(data: bytes, rng: random.Random) -> tuple[bytes, int, str]:
    """An event file one of whose record payloads was damaged and framed again with valid
    checksums (what a buggy writer, or damage before framing, produces): only the decoder can
    tell. Its first damaged byte is that record's start."""
    from analyzer.readers.tensorboard.framing import frame_record

    out, pos, recs = bytearray(), 0, []
    while pos + OVERHEAD <= len(data):
        length = int.from_bytes(data[pos : pos + 8], "little")
        recs.append(data[pos + 12 : pos + 12 + length])
        pos += OVERHEAD + length
    i = rng.randrange(1, len(recs))
    b = bytearray(recs[i])
    how = rng.choice(["bytes", "empty", "cut", "grow"])
    if how == "bytes" and b:
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif how == "empty":
        b = bytearray()
    elif how == "cut":
        b = b[: rng.randrange(len(b) + 1)]
    else:
        b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    recs[i] = bytes(b)
    at = 0
    for j, r in enumerate(recs):
        if j == i:
            at = len(out)
        out += frame_record(r)
    return bytes(out), at, f"reframed-{how}"


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, int, str]:
    """A damaged copy, the offset of its first damaged byte, and what was done."""
    n = len(data)
    kind = rng.choice(["truncate", "flip", "insert", "zero", "nul-tail", "duplicate", "flip-many"])
    at = rng.randrange(n)
    if kind == "truncate":
        return data[:at], at, kind
    if kind == "flip":
        b = bytearray(data)
        b[at] ^= 1 << rng.randrange(8)
        return bytes(b), at, kind
    if kind == "flip-many":
        b = bytearray(data)
        spots = sorted(rng.randrange(n) for _ in range(rng.randint(2, 20)))
        for s in spots:
            b[s] = rng.randrange(256)
        return bytes(b), spots[0], kind
    if kind == "insert":
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        return data[:at] + junk + data[at:], at, kind
    if kind == "zero":
        k = rng.randint(1, 4096)
        return data[:at] + bytes(min(k, n - at)) + data[at + k :], at, kind
    if kind == "nul-tail":
        return data[:at] + bytes(rng.randint(1, 8192)), at, kind
    k = rng.randint(1, 2048)  # duplicate a stretch
    return data[:at] + data[at : at + k] + data[at:], at, kind


# --- reading and judging -------------------------------------------------------------------------
def _read(kind: str, path: Path):
    if kind == "events":
        return tb.read("run", [path], path.parent)
    fmt = "keras-csv" if kind == "csv" else "hf-trainer-state"
    return reader_for(fmt).read("run", [path], path.parent)


def _wrong_events(res, damaged_at: int, records) -> bool:
    import numpy as np

    original = {r[2] for r in records}
    frame = res.frame
    got = set()
    for tag, step, value in zip(frame["tag"], frame["step"], frame["value"], strict=True):
        if not np.isfinite(value):
            return True
        got.add((tag, int(step), float(value)))
    if got - original:
        return True
    intact = {r[2] for r in records if r[1] <= damaged_at}
    return not intact <= got


def _same(a, b) -> bool:
    cols = ["tag", "step", "value"]
    x = a[cols].sort_values(cols, kind="stable").reset_index(drop=True)
    y = b[cols].sort_values(cols, kind="stable").reset_index(drop=True)
    return x.equals(y)


def _wrong_table(res) -> bool:
    import numpy as np

    frame = res.frame
    if frame.empty:
        return False
    steps = frame["step"].to_numpy()
    return steps.dtype.kind not in "iu" or not np.issubdtype(
        frame["value"].to_numpy().dtype, np.floating
    )


def run(cases: int = 300, seed: int = 0, limit: float = 10.0) -> dict[str, dict[str, int]]:
    """Damage and read ``cases`` files of each class; counts per class."""
    rng = random.Random(seed)
    events, records = event_file()
    originals = {"events": events, "csv": csv_file(), "trainer_state": trainer_state()}
    names = {
        "events": "events.out.tfevents.1.h",
        "csv": "history.csv",
        "trainer_state": "trainer_state.json",
    }
    out = {k: {"tried": 0, "crash": 0, "hang": 0, "wrong": 0} for k in originals}
    examples: list[str] = []
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for kind, data in originals.items():
                path = Path(tmp) / kind / names[kind]
                path.parent.mkdir()
                for i in range(cases):
                    if kind == "events" and i % 3 == 2:
                        damaged, at, how = reframe(data, rng)
                    else:
                        damaged, at, how = mutate(data, rng)
                    path.write_bytes(damaged)
                    out[kind]["tried"] += 1
                    signal.setitimer(signal.ITIMER_REAL, limit)
                    try:
                        res = _read(kind, path)
                        signal.setitimer(signal.ITIMER_REAL, 0)
                    except ReadError:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                        continue
                    except Hang:
                        out[kind]["hang"] += 1
                        examples.append(f"{kind} #{i} {how} at {at}: hang")
                        continue
                    except Exception as e:  # noqa: BLE001 - counting what escapes is the point
                        signal.setitimer(signal.ITIMER_REAL, 0)
                        out[kind]["crash"] += 1
                        examples.append(f"{kind} #{i} {how} at {at}: {type(e).__name__}: {e}")
                        continue
                    if kind == "events" and how.startswith("reframed"):
                        # valid framing, damaged payload: the fast decoder must give exactly
                        # what the protobuf reference decoder gives
                        ref = tb.read("run", [path], path.parent, fast=False)
                        bad = not _same(res.frame, ref.frame)
                    elif kind == "events":
                        bad = _wrong_events(res, at, records)
                    else:
                        bad = _wrong_table(res)
                    if bad:
                        out[kind]["wrong"] += 1
                        examples.append(f"{kind} #{i} {how} at {at}: wrong values")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    out["_examples"] = examples[:20]  # type: ignore[assignment]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=300, help="damaged files per input class")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=float, default=10.0, help="seconds before a read is a hang")
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = run(args.cases, args.seed, args.limit)
    examples = res.pop("_examples")
    print(f"{'input class':<14} {'tried':>6} {'crash':>6} {'hang':>6} {'wrong':>6}")
    for kind, c in res.items():
        print(f"{kind:<14} {c['tried']:>6} {c['crash']:>6} {c['hang']:>6} {c['wrong']:>6}")
    for e in examples:
        print("  ", e)
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
