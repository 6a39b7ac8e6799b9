"""How fast does curvelint read TensorBoard event files, compared with the usual tools?

Builds synthetic log directories in a temporary folder and reads each into the long table
``run, tag, step, value, wall_time`` with:

* ``curvelint``  — :func:`analyzer.readers.tensorboard.read` (checksums verified);
* ``tbparse``    — ``tbparse.SummaryReader(...).scalars`` / ``.tensors``;
* ``accumulator`` — tensorboard's ``EventAccumulator`` with ``size_guidance`` keeping every scalar
  and tensor (``{"scalars": 0, "tensors": 0}``), one per run folder;
* ``bare-walk``  — a Python loop over the record framing that only reads the length fields: no
  checksum, no parsing, no table. The floor for anything written in Python.

Data sets (each in TF1 ``simple_value`` style and in TF2 tensor style, as ``tf.summary.scalar``
and the Keras callback write them):

* ``1run``: one run, 4 tags x 250,000 steps = 1,000,000 events in one file;
* ``200runs``: 200 runs x 4 tags x 2,000 steps = 1,600,000 events in 200 files.

Events are serialised with the ``tensorboard`` package's protobuf classes and framed as TFRecords
(length, masked crc32c of the length, payload, masked crc32c of the payload), the way
``tensorboard.summary.writer`` does, but with a native crc32c so that writing takes seconds.

Each tool runs in its own subprocess so that its peak memory (``VmHWM``, which includes the
interpreter and the imports) is its own. Times are for reading only (imports excluded): wall
time, and the process's CPU time, which other work on a busy machine disturbs less.
Targets: curvelint >= 30x faster than tbparse and the accumulator, <= 4x the bare walk, < 300 MB
peak for the one-run data set.

Usage::

    python benchmarks/read_speed.py            # everything (tbparse and the accumulator take
                                               # about a minute per data set each)
    python benchmarks/read_speed.py --quick    # curvelint and the bare walk only
    python benchmarks/read_speed.py --scale 0.1 --datasets 1run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TAGS = ["train/loss", "val/loss", "learning_rate", "accuracy"]
TOOLS = ["curvelint", "bare-walk", "tbparse", "accumulator"]
SLOW_TOOLS = {"tbparse", "accumulator"}


# --- writing the data sets ----------------------------------------------------------------------
def _curves(nsteps: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(nsteps, dtype=np.float64)
    scale = max(nsteps / 5.0, 1.0)
    train = 0.3 + 2.0 * np.exp(-t / scale) + rng.normal(0, 0.05, nsteps)
    val = 0.4 + 2.0 * np.exp(-t / scale) + rng.normal(0, 0.03, nsteps) + 1e-6 * t
    lr = 1e-3 * 0.5 ** (t // max(nsteps // 4, 1))
    acc = 1.0 - 0.9 * np.exp(-t / scale) + rng.normal(0, 0.01, nsteps)
    return np.stack([train, val, lr, acc], axis=1).astype(np.float32)


def write_event_file(path: Path, style: str, nsteps: int, seed: int = 0) -> int:
    """One events file, 4 tags x ``nsteps``, interleaved by step. Returns the number of events."""
    from tensorboard.compat.proto import (
        event_pb2,
        summary_pb2,
        tensor_pb2,
        tensor_shape_pb2,
        types_pb2,
    )

    from analyzer.readers.tensorboard.framing import frame_record

    values = _curves(nsteps, seed)
    t0 = 1.7e9 + seed * 1000.0
    path.parent.mkdir(parents=True, exist_ok=True)
    out = [
        frame_record(
            event_pb2.Event(wall_time=t0, file_version="brain.Event:2").SerializeToString()
        )
    ]
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
        data_class=summary_pb2.DATA_CLASS_SCALAR,
    )
    Event, Summary, Value = event_pb2.Event, summary_pb2.Summary, summary_pb2.Summary.Value
    shape = tensor_shape_pb2.TensorShapeProto()
    with open(path, "wb") as fh:
        for s in range(nsteps):
            wall = t0 + s * 0.05
            row = values[s]
            for j, tag in enumerate(TAGS):
                if style == "tf1":
                    v = Value(tag=tag, simple_value=float(row[j]))
                else:
                    tensor = tensor_pb2.TensorProto(
                        dtype=types_pb2.DT_FLOAT,
                        tensor_shape=shape,
                        tensor_content=row[j].tobytes(),
                    )
                    v = Value(tag=tag, metadata=metadata, tensor=tensor)
                ev = Event(wall_time=wall, step=s, summary=Summary(value=[v]))
                out.append(frame_record(ev.SerializeToString()))
            if len(out) >= 40_000:
                fh.write(b"".join(out))
                out.clear()
        fh.write(b"".join(out))
    return nsteps * len(TAGS)


def build(root: Path, name: str, style: str, scale: float) -> tuple[Path, int]:
    """Write one data set under ``root``; return its folder and number of scalar events.
    A data set already written there with the same parameters is reused."""
    folder = root / f"{name}-{style}"
    stamp = folder / "dataset.json"
    params = {"name": name, "style": style, "scale": scale}
    if stamp.exists():
        saved = json.loads(stamp.read_text())
        if saved.get("params") == params:
            return folder, saved["events"]
    if name == "1run":
        steps = max(int(250_000 * scale), 1)
        n = write_event_file(folder / "run" / "events.out.tfevents.1700000000.bench", style, steps)
    else:
        runs = max(int(200 * scale), 1)
        n = 0
        for r in range(runs):
            p = folder / f"run{r:03d}" / "events.out.tfevents.1700000000.bench"
            n += write_event_file(p, style, 2000, seed=r)
    stamp.write_text(json.dumps({"params": params, "events": n}))
    return folder, n


# --- the readers (run in a subprocess) ----------------------------------------------------------
def _runs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir())


def read_curvelint(folder: Path):
    import pandas as pd

    from analyzer.readers import tensorboard

    frames = []
    for run in _runs(folder):
        files = sorted(run.rglob("events.out.tfevents.*"))
        frames.append(tensorboard.read(run.name, files, run).frame)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def read_tbparse(folder: Path):
    import pandas as pd
    from tbparse import SummaryReader

    reader = SummaryReader(str(folder), extra_columns={"dir_name", "wall_time"})
    scalars = reader.scalars
    tensors = reader.tensors
    if len(tensors):
        tensors = tensors.assign(value=[float(v) for v in tensors["value"]])
    return pd.concat([scalars, tensors], ignore_index=True)


def read_accumulator(folder: Path):
    import pandas as pd
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    runs, tags, steps, values, walls = [], [], [], [], []
    for run in _runs(folder):
        acc = EventAccumulator(str(run), size_guidance={"scalars": 0, "tensors": 0})
        acc.Reload()
        found = acc.Tags()
        for tag in found.get("scalars", []):
            for e in acc.Scalars(tag):
                runs.append(run.name)
                tags.append(tag)
                steps.append(e.step)
                values.append(e.value)
                walls.append(e.wall_time)
        for tag in found.get("tensors", []):
            for e in acc.Tensors(tag):
                runs.append(run.name)
                tags.append(tag)
                steps.append(e.step)
                values.append(float(tensor_util.make_ndarray(e.tensor_proto).item()))
                walls.append(e.wall_time)
    return pd.DataFrame(
        {"run": runs, "tag": tags, "step": steps, "value": values, "wall_time": walls}
    )


def read_bare_walk(folder: Path) -> int:
    unpack = struct.Struct("<Q").unpack_from
    count = 0
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        data = path.read_bytes()
        n = len(data)
        off = 0
        while off + 12 <= n:
            off += unpack(data, off)[0] + 16
            count += 1
    return count


def worker(tool: str, folder: Path) -> dict:
    """Import the tool, read the folder, report time and peak memory."""
    fn = {
        "curvelint": read_curvelint,
        "tbparse": read_tbparse,
        "accumulator": read_accumulator,
        "bare-walk": read_bare_walk,
    }[tool]
    if tool == "curvelint":
        from analyzer.readers import tensorboard  # noqa: F401
    elif tool == "tbparse":
        import tbparse  # noqa: F401
    elif tool == "accumulator":
        from tensorboard.backend.event_processing import event_accumulator  # noqa: F401
    start, cpu = time.perf_counter(), time.process_time()
    out = fn(folder)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if isinstance(out, int):
        rows, checksum = out, None
    else:
        rows = len(out)
        checksum = float(out["value"].astype("float64").sum())
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rows": rows,
        "checksum": checksum,
        "peak_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process. ``VmHWM`` belongs to the process image (after
    ``exec``); ``ru_maxrss`` can carry the parent's peak over the fork, so it is the fallback."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(tool: str, folder: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", tool, str(folder)]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip tbparse and EventAccumulator")
    ap.add_argument("--scale", type=float, default=1.0, help="shrink the data sets (e.g. 0.1)")
    ap.add_argument("--datasets", default="1run,200runs", help="comma list: 1run,200runs")
    ap.add_argument("--styles", default="tf1,tf2", help="comma list: tf1,tf2")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma list of " + ",".join(TOOLS))
    ap.add_argument("--repeat", type=int, default=3, help="best of N for curvelint and bare-walk")
    ap.add_argument("--keep", type=Path, help="write the data sets here and keep them")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    ap.add_argument("--worker", nargs=2, metavar=("TOOL", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], Path(args.worker[1]))))
        return 0

    tools = [t for t in args.tools.split(",") if t]
    if args.quick:
        tools = [t for t in tools if t not in SLOW_TOOLS]
    tmp = None
    if args.keep:
        root = args.keep
        root.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="curvelint-bench-")
        root = Path(tmp.name)
    results = []
    try:
        for name in args.datasets.split(","):
            for style in args.styles.split(","):
                t = time.perf_counter()
                folder, events = build(root, name, style, args.scale)
                size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
                print(
                    f"# {name}-{style}: {events:,} events, {size / 1e6:.1f} MB, "
                    f"written in {time.perf_counter() - t:.1f} s",
                    flush=True,
                )
                # the fast tools take turns, so that a busy spell on the machine hits them alike
                runs: dict[str, list[dict]] = {t: [] for t in tools}
                for _rep in range(args.repeat):
                    for tool in tools:
                        if tool in SLOW_TOOLS and runs[tool]:
                            continue
                        runs[tool].append(measure(tool, folder))
                for tool in tools:
                    ok = [r for r in runs[tool] if "error" not in r]
                    res = min(ok, key=lambda r: r["seconds"]) if ok else runs[tool][0]
                    res.update(dataset=f"{name}-{style}", tool=tool, events=events)
                    results.append(res)
                    print(f"#   {tool}: {res.get('seconds', float('nan')):.2f} s", flush=True)
    finally:
        if tmp is not None:
            tmp.cleanup()

    print()
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def table(results: list[dict]) -> str:
    """The results as a markdown table, then the targets per data set."""
    cols = ["data set", "tool", "wall s", "cpu s", "events/s", "x curvelint", "peak MB", "rows"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    by = {(r["dataset"], r["tool"]): r for r in results if "error" not in r}
    for r in results:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['tool']} | error: {r['error'][:80]} |")
            continue
        ref = by.get((r["dataset"], "curvelint"))
        ratio = f"{r['seconds'] / ref['seconds']:.1f}" if ref else "-"
        lines.append(
            f"| {r['dataset']} | {r['tool']} | {r['seconds']:.2f} | {r['cpu']:.2f} | "
            f"{r['events'] / r['seconds']:,.0f} | {ratio} | {r['peak_mb']:.0f} | {r['rows']:,} |"
        )
    lines.append("")
    for ds in dict.fromkeys(r["dataset"] for r in results):
        c = by.get((ds, "curvelint"))
        if not c:
            continue
        parts = []
        for tool in ("tbparse", "accumulator"):
            if (ds, tool) in by:
                parts.append(
                    f"{tool} / curvelint = {by[(ds, tool)]['seconds'] / c['seconds']:.0f}x"
                )
        if (ds, "bare-walk") in by:
            b = by[(ds, "bare-walk")]
            parts.append(
                f"curvelint / bare walk = {c['seconds'] / b['seconds']:.1f}x wall, "
                f"{c['cpu'] / b['cpu']:.1f}x cpu"
            )
        parts.append(f"curvelint peak {c['peak_mb']:.0f} MB")
        lines.append(f"- {ds}: " + "; ".join(parts))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
