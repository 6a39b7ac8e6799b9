"""TensorBoard reading speed on record layouts with mixed logging cadences (issue 12).

Each layout is one event file of about ``--events`` scalar events (default 1,000,000), written
with the ``tensorboard`` package's protobuf classes and framed as TFRecords:

* ``mixed``: TF1/PyTorch ``simple_value``; ``train/loss``, ``train/lr``, ``train/grad_norm`` every
  step and ``val/loss``, ``val/accuracy`` every 20 steps (a 62-record repeat);
* ``keras``: TF2 tensor scalars (``scalars`` plugin metadata, 4-byte ``tensor_content``) as the
  Keras callback writes them: ``batch_loss``, ``batch_accuracy`` every batch (step = batch) and
  ``epoch_loss``, ``epoch_accuracy``, ``epoch_learning_rate`` after each epoch of 500 batches
  (step = epoch; a 1,003-record repeat);
* ``pytorch``: PyTorch ``add_scalar`` (``simple_value``) of 5 tags every 1, 10, 50, 100 and 500
  steps (a 566-record repeat);
* ``aperiodic``: TF2 tensor scalars (``float_val``) of 5 tags every 1, 7, 13, 97 and 331 steps:
  the record-length sequence has no practical repeat at all.

Timed (best of ``--repeat``, in this process, files in the page cache):

* ``walk``: the bare framing walk in Python: a loop over the records that reads each length and
  verifies both checksums (masked crc32c of the length and of the payload) with the native
  ``google_crc32c``; no parsing, no table. The floor for a checked reader written in Python;
* ``walk (lengths only)``: the same loop reading only the length fields, no checksum (the bare
  walk of ``read_speed.py``, the baseline of issue 12). The ratio target applies to both walks;
* ``curvelint``: :func:`analyzer.readers.tensorboard.read` (the long table, checksums verified);
* ``tbparse`` (``SummaryReader(...).scalars`` / ``.tensors``) and ``accumulator`` (tensorboard's
  ``EventAccumulator``, ``size_guidance`` 0 for scalars and tensors: it keeps every event), each
  once, in a subprocess. When a data set is larger than ``--slow-cap`` events, these two read a
  file of the same layout with ``--slow-cap`` events and their time is scaled linearly (said in
  the table).

Targets: curvelint / walk <= 2.5; tbparse / curvelint and accumulator / curvelint >= 40.

    python benchmarks/tb_layouts.py                      # ~1M events per layout
    python benchmarks/tb_layouts.py --events 200000 --no-slow

``measure(events=..., slow=...) -> list[dict]`` (rows: name, measured, target, unit, ok) is what
other benchmarks call.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
# the bare walk (length fields only), tbparse and EventAccumulator of the reading benchmark
import read_speed  # noqa: E402

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LAYOUTS = ["mixed", "keras", "pytorch", "aperiodic"]
WALK_TARGET = 2.5
SLOW_TARGET = 40.0
SLOW_CAP = 250_000  # events read by tbparse / the accumulator (scaled linearly beyond)


# --- writing the layouts ------------------------------------------------------------------------
def _schedule(layout: str) -> tuple[str, list[tuple[str, int]], int]:
    """(style, [(tag, every n steps)], steps per epoch for keras)"""
    if layout == "mixed":
        tags = [("train/loss", 1), ("train/lr", 1), ("train/grad_norm", 1)]
        return "simple", tags + [("val/loss", 20), ("val/accuracy", 20)], 0
    if layout == "keras":
        return "tensor", [("batch_loss", 1), ("batch_accuracy", 1)], 500
    if layout == "pytorch":
        tags = [("Loss/train", 1), ("lr", 10), ("grad_norm", 50), ("Loss/val", 100)]
        return "simple", tags + [("Accuracy/val", 500)], 0
    if layout == "aperiodic":
        tags = [("loss", 1), ("lr", 7), ("grad_norm", 13), ("val_loss", 97)]
        return "float_val", tags + [("val_accuracy", 331)], 0
    raise ValueError(layout)


def write_layout(path: Path, layout: str, events: int) -> int:
    """One event file of ``layout`` with about ``events`` scalar events; returns the count."""
    import numpy as np
    from tensorboard.compat.proto import (
        event_pb2,
        summary_pb2,
        tensor_pb2,
        tensor_shape_pb2,
        types_pb2,
    )

    from analyzer.readers.tensorboard.framing import frame_record

    style, tags, epoch_len = _schedule(layout)
    per_step = sum(1 / every for _t, every in tags) + (3 / epoch_len if epoch_len else 0)
    nsteps = max(int(events / per_step), 1)
    rng = np.random.default_rng(12)
    noise = rng.normal(0, 0.05, (nsteps, len(tags))).astype(np.float32)
    Event, Summary, Value = event_pb2.Event, summary_pb2.Summary, summary_pb2.Summary.Value
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
        data_class=summary_pb2.DATA_CLASS_SCALAR,
    )
    shape = tensor_shape_pb2.TensorShapeProto()

    def value(tag: str, x) -> summary_pb2.Summary.Value:
        if style == "simple":
            return Value(tag=tag, simple_value=float(x))
        if style == "tensor":
            t = tensor_pb2.TensorProto(
                dtype=types_pb2.DT_FLOAT, tensor_shape=shape, tensor_content=np.float32(x).tobytes()
            )
        else:
            t = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape, float_val=[x])
        return Value(tag=tag, metadata=metadata, tensor=t)

    def record(tag: str, step: int, wall: float, x) -> bytes:
        ev = Event(wall_time=wall, step=step, summary=Summary(value=[value(tag, x)]))
        return frame_record(ev.SerializeToString())

    t0 = 1.7e9
    out = [frame_record(Event(wall_time=t0, file_version="brain.Event:2").SerializeToString())]
    count = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for s in range(nsteps):
            wall = t0 + s * 0.05
            level = 2.0 * np.exp(-s / max(nsteps / 5, 1))
            for j, (tag, every) in enumerate(tags):
                if s % every == 0:
                    out.append(record(tag, s, wall, level + noise[s, j]))
                    count += 1
            if epoch_len and (s + 1) % epoch_len == 0:
                epoch = s // epoch_len
                for tag, x in (
                    ("epoch_loss", level),
                    ("epoch_accuracy", 1 - level / 3),
                    ("epoch_learning_rate", 1e-3 * 0.9**epoch),
                ):
                    out.append(record(tag, epoch, wall + 0.01, x))
                    count += 1
            if len(out) >= 50_000:
                fh.write(b"".join(out))
                out.clear()
        fh.write(b"".join(out))
    return count


def build(root: Path, layout: str, events: int) -> tuple[Path, int]:
    """The run folder of a layout (reused when already written with the same parameters)."""
    folder = root / f"{layout}-{events}"
    stamp = folder / "dataset.json"
    if stamp.exists():
        return folder, json.loads(stamp.read_text())["events"]
    n = write_layout(folder / "run" / "events.out.tfevents.1700000000.bench", layout, events)
    stamp.write_text(json.dumps({"events": n}))
    return folder, n


# --- the readers --------------------------------------------------------------------------------
def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("events.out.tfevents.*"))


def bare_walk(folder: Path) -> int:
    """Records with valid checksums (a Python loop: framing only, both checksums verified)."""
    import google_crc32c

    crc = google_crc32c.value
    u64 = struct.Struct("<Q").unpack_from
    u32 = struct.Struct("<I").unpack_from

    def masked(c: int) -> int:
        return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF

    count = 0
    for path in _files(folder):
        data = path.read_bytes()
        n = len(data)
        off = 0
        while off + 16 <= n:
            length = u64(data, off)[0]
            end = off + 12 + length
            if end + 4 > n or masked(crc(data[off : off + 8])) != u32(data, off + 8)[0]:
                break
            if masked(crc(data[off + 12 : end])) == u32(data, end)[0]:
                count += 1
            off = end + 4
    return count


def read_curvelint(folder: Path) -> int:
    from analyzer.readers import tensorboard

    run = folder / "run"
    return len(tensorboard.read(run.name, _files(run), run).frame)


def _best(fn, folder: Path, repeat: int) -> tuple[float, int]:
    best, out = float("inf"), 0
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(folder)
        best = min(best, time.perf_counter() - t)
    return best, out


def _slow_worker(tool: str, folder: Path) -> dict:
    fn = read_speed.read_tbparse if tool == "tbparse" else read_speed.read_accumulator
    t = time.perf_counter()
    rows = len(fn(folder))
    return {"seconds": time.perf_counter() - t, "rows": rows}


def _slow(tool: str, folder: Path, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", tool, str(folder)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- measuring ----------------------------------------------------------------------------------
def measure(
    events: int = 1_000_000,
    *,
    layouts: list[str] | None = None,
    slow: bool = True,
    slow_cap: int = SLOW_CAP,
    repeat: int = 3,
    root: Path | None = None,
    log=None,
) -> list[dict]:
    """Rows ``{name, measured, target, unit, ok}`` (plus ``note`` where something was scaled):
    per layout, the walk and curvelint times, their ratio (target <= 2.5) and, with ``slow``, the
    tbparse and accumulator ratios to curvelint (target >= 40). ``events`` per layout (1M takes
    about 15 s to write per layout and 1-2 min per slow tool; 200k keeps it to about a minute)."""
    tmp = None
    if root is None:
        tmp = tempfile.TemporaryDirectory(prefix="curvelint-tb-layouts-")
        root = Path(tmp.name)
    rows: list[dict] = []

    def add(name: str, measured: float, target: float | None, unit: str, ok, note: str = ""):
        row = {"name": name, "measured": measured, "target": target, "unit": unit, "ok": ok}
        if note:
            row["note"] = note
        rows.append(row)
        if log:
            log(row)

    try:
        for layout in layouts or LAYOUTS:
            folder, n = build(root, layout, events)
            # the three take turns, so that a busy spell on the machine hits them alike
            walk_s = bare_s = cl_s = float("inf")
            for _ in range(repeat):
                walk_s = min(walk_s, _best(bare_walk, folder, 1)[0])
                bare_s = min(bare_s, _best(read_speed.read_bare_walk, folder, 1)[0])
                t, cl_rows = _best(read_curvelint, folder, 1)
                cl_s = min(cl_s, t)
            assert cl_rows == n, (layout, cl_rows, n)
            add(f"{layout}: events", n, None, "events", None)
            add(f"{layout}: walk (checksums)", walk_s, None, "s", None)
            add(f"{layout}: walk (lengths only)", bare_s, None, "s", None)
            add(f"{layout}: curvelint", cl_s, None, "s", None)
            ratio = cl_s / walk_s
            add(
                f"{layout}: curvelint / walk (checksums)",
                ratio,
                WALK_TARGET,
                "x",
                ratio <= WALK_TARGET,
            )
            ratio = cl_s / bare_s
            add(
                f"{layout}: curvelint / walk (lengths only)",
                ratio,
                WALK_TARGET,
                "x",
                ratio <= WALK_TARGET,
            )
            if not slow:
                continue
            sfolder, sn = (folder, n) if n <= slow_cap else build(root, layout, slow_cap)
            note = "" if sn == n else f"read {sn:,} events, scaled x{n / sn:.2f}"
            for tool in ("tbparse", "accumulator"):
                res = _slow(tool, sfolder, timeout=600)
                if "error" in res:
                    add(
                        f"{layout}: {tool} / curvelint",
                        float("nan"),
                        SLOW_TARGET,
                        "x",
                        False,
                        res["error"],
                    )
                    continue
                secs = res["seconds"] * n / sn
                add(f"{layout}: {tool}", secs, None, "s", None, note)
                r = secs / cl_s
                add(f"{layout}: {tool} / curvelint", r, SLOW_TARGET, "x", r >= SLOW_TARGET, note)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| name | measured | target | ok | note |", "|---|---:|---:|---|---|"]
    for r in rows:
        m = r["measured"]
        val = f"{m:,.0f}" if r["unit"] == "events" else f"{m:.3f} {r['unit']}"
        tgt = ""
        if r["target"] is not None:
            tgt = ("<= " if "walk" in r["name"] else ">= ") + f"{r['target']:g} {r['unit']}"
        ok = "" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        lines.append(f"| {r['name']} | {val} | {tgt} | {ok} | {r.get('note', '')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="scalar events per layout")
    ap.add_argument(
        "--layouts", default=",".join(LAYOUTS), help="comma list of " + ",".join(LAYOUTS)
    )
    ap.add_argument("--no-slow", action="store_true", help="skip tbparse and EventAccumulator")
    ap.add_argument("--slow-cap", type=int, default=SLOW_CAP, help="events read by the slow tools")
    ap.add_argument("--repeat", type=int, default=3, help="best of N for the walk and curvelint")
    ap.add_argument("--keep", type=Path, help="write the data sets here and keep them (reused)")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    ap.add_argument("--worker", nargs=2, metavar=("TOOL", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(_slow_worker(args.worker[0], Path(args.worker[1]))))
        return 0
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    rows = measure(
        args.events,
        layouts=[x for x in args.layouts.split(",") if x],
        slow=not args.no_slow,
        slow_cap=args.slow_cap,
        repeat=args.repeat,
        root=args.keep,
        log=lambda r: print(f"# {r['name']}: {r['measured']:.3f} {r['unit']}", flush=True),
    )
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(r["ok"] is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
