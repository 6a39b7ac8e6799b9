"""Reading cost per run, per log format, on a sweep built from the fixtures (issue 12).

Times :func:`analyzer.runs.read_run` (the reader, the canonical table, restarts, roles) over every
run of a sweep in one process: CPU time (``time.process_time``), imports and first calls excluded
by a warm-up pass; each format is timed ``--repeat`` times in each of ``--rounds`` child
processes and the best pass is kept (a shared machine disturbs the others). Discovery is not counted. The target is 2 ms CPU per run on average
over the sweep. The last column counts the runs whose table came back as a pandas DataFrame
rather than numpy columns (:class:`analyzer.readers.base.NumpyTable`, what a check needs).

The sweep is ``benchmarks/scale.py``'s (copies of ``fixtures/training``, ``gen2`` and ``gen3``
round-robin: TensorBoard event files, Keras CSVLogger and Lightning CSVs, JSON lines, Hugging Face
``trainer_state.json``, MLflow file stores, generic CSV).

``--ref CHECKOUT`` times another checkout of curvelint (e.g. a ``git worktree`` of the commit
before a change) on the same sweep, in child processes that import that checkout's code,
taking turns with this checkout's, and prints both columns::

    python benchmarks/read_per_run.py                      # builds a 300-run sweep in a temp folder
    python benchmarks/read_per_run.py --sweep /tmp/sw300   # reuse (or build there) a sweep
    git worktree add /tmp/cl-old <commit> && \\
        python benchmarks/read_per_run.py --sweep /tmp/sw300 --ref /tmp/cl-old
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 2.0
#: format -> (runs, CPU ms per run, runs whose table was a pandas DataFrame)
Timings = dict[str, tuple[int, float, int]]


def measure(sweep: Path, repeat: int) -> Timings:
    """format -> (runs, best CPU ms per run, runs whose table is a pandas DataFrame) with the
    code importable as ``analyzer``."""
    from analyzer.discover import discover
    from analyzer.runs import read_run

    disc = discover(sweep)
    by_format: dict[str, list] = {}
    for src in disc.runs:
        by_format.setdefault(src.format, []).append(src)
    frames: dict[str, int] = {}
    for fmt, srcs in by_format.items():  # warm-up: imports, first-call caches
        for src in srcs:
            run, _ = read_run(src, disc.root)
            # the table as read (run.frame would make a DataFrame of numpy columns)
            table = None if run is None else run.__dict__.get("_data")
            frames[fmt] = frames.get(fmt, 0) + int(hasattr(table, "iloc"))
    out: Timings = {}
    for fmt, srcs in sorted(by_format.items()):
        best = float("inf")
        for _ in range(repeat):
            t = time.process_time()
            for src in srcs:
                read_run(src, disc.root)
            best = min(best, time.process_time() - t)
        out[fmt] = (len(srcs), 1000.0 * best / len(srcs), frames[fmt])
    return out


def _child(checkout: Path, sweep: Path, repeat: int) -> Timings:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "import read_per_run as b; from pathlib import Path;"
        "print(json.dumps(b.measure(Path(sys.argv[3]), int(sys.argv[4]))))"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(checkout),
            str(ROOT / "benchmarks"),
            str(sweep),
            str(repeat),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=checkout,
    )
    if proc.returncode:
        raise SystemExit(f"timing {checkout} failed:\n{proc.stderr}")
    return {k: (int(v[0]), float(v[1]), int(v[2])) for k, v in json.loads(proc.stdout).items()}


def _best(a: Timings | None, b: Timings) -> Timings:
    if not a:
        return b
    return {k: (n, min(ms, a[k][1]) if k in a else ms, f) for k, (n, ms, f) in b.items()}


def table(new: Timings, old: Timings | None) -> str:
    """The table of ms per run (and, per checkout, how many runs' tables were DataFrames: a
    check reads an ordinary run as numpy columns, readers.base.NumpyTable)."""
    lines = []
    head = f"{'format':18} {'runs':>5}"
    head += f" {'old ms/run':>11} {'new ms/run':>11} {'speed-up':>9}" if old else f" {'ms/run':>8}"
    head += f" {'DataFrames old/new':>19}" if old else f" {'DataFrames':>11}"
    lines.append(head)

    def avg(d: Timings) -> tuple[int, float, int]:
        n = sum(r for r, _, _ in d.values())
        return n, sum(r * ms for r, ms, _ in d.values()) / max(n, 1), sum(f for *_, f in d.values())

    rows = list(new.items()) + [("all (mean)", avg(new))]
    for fmt, (n, ms, frames) in rows:
        line = f"{fmt:18} {n:5}"
        if old:
            o = avg(old) if fmt == "all (mean)" else old.get(fmt, (0, float("nan"), 0))
            line += f" {o[1]:11.2f} {ms:11.2f} {o[1] / ms:8.1f}x {o[2]:>12}/{frames}"
        else:
            line += f" {ms:8.2f} {frames:>11}"
        lines.append(line)
    mean = avg(new)[1]
    lines.append(
        f"target: <= {TARGET_MS:.1f} ms CPU per run on average: "
        f"{'met' if mean <= TARGET_MS else 'NOT met'} ({mean:.2f} ms)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", type=Path, help="sweep folder (built there if missing or empty)")
    ap.add_argument("--runs", type=int, default=300, help="runs in a sweep built here")
    ap.add_argument("--repeat", type=int, default=5, help="timed passes per format (best kept)")
    ap.add_argument("--ref", type=Path, help="another curvelint checkout to compare with")
    ap.add_argument("--rounds", type=int, default=2, help="child processes each (best kept)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import scale  # the sweep builder (copies of the fixtures)

    with tempfile.TemporaryDirectory(prefix="read-per-run-") as tmp:
        sweep = args.sweep or Path(tmp) / "sweep"
        if not sweep.is_dir() or not any(sweep.iterdir()):
            scale.build(args.runs, sweep)
        # old and new take turns, a round each, best of the rounds kept: a busy machine
        # disturbs both alike
        old: Timings | None = None
        new: Timings = {}
        for _ in range(args.rounds):
            if args.ref:
                old = _best(old, _child(args.ref.resolve(), sweep, args.repeat))
            new = _best(new, _child(ROOT, sweep, args.repeat))
        print(f"read_run CPU per run, {sum(v[0] for v in new.values())} runs of {sweep}")
        print(table(new, old))
    return 0


if __name__ == "__main__":
    sys.exit(main())
