"""Start-up, per-run cost and long-curve scaling of ``curvelint check`` (issue 12).

Rows (``measure() -> list[dict]``, each with ``name``, ``measured``, ``target``, ``unit``, ``ok``):

* ``check one small run (wall)``: ``curvelint check <one small fixture run> --format json`` as a
  subprocess, median of 5 (interpreter start, imports, and the cache's answer: the first of the
  five fills the cache); ``check one small run, --no-cache``: the same with ``--no-cache``, so
  each of the five reads and analyses the run (a first check);
* ``rules (wall)``: ``curvelint rules`` as a subprocess, median of 5;
* ``read CPU per run`` / ``analysis CPU per run`` / ``read+analysis CPU per run``: in this process
  (``time.process_time``), over every run of ``fixtures/training``, ``fixtures/gen2`` and
  ``fixtures/gen3`` (a mixed set of TensorBoard, CSV and JSON-lines runs), after a warm-up run
  so that imports and first-call costs are not counted. Reading is ``analyzer.runs.load``
  (discover, read, roles), analysis is ``engine.analyze_run`` per run;
* ``check/curves 1M`` and ``check/curves 5M``: one TensorBoard event file with 1M and 5M scalar
  events (4 tags x 250k / 1.25M steps, written like ``benchmarks/read_speed.py`` does), timed
  as subprocesses: ``curvelint curves`` (discover + read + roles) and ``curvelint check``
  (the same plus the analysis), best of ``repeat``; ``check 5M / check 1M`` shows linearity
  (5.0 is linear).

Every subprocess row has a ``(CPU)`` twin: the child's user + system time, which a busy machine
(2 cores shared with other work) disturbs much less than the wall time.

Usage::

    python benchmarks/startup.py                 # everything (writing the 5M file takes ~1 min)
    python benchmarks/startup.py --no-big        # start-up and per-run rows only
    python benchmarks/startup.py --keep /tmp/bigtb   # keep (and reuse) the event files
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# the rows measured in this process (CPU per run) run as the command line does: numpy's BLAS on
# one thread, asked for before numpy loads
from analyzer.cli.common import single_threaded_blas  # noqa: E402

single_threaded_blas()

SMALL_RUN = ROOT / "fixtures" / "training" / "dead-relu-digits-bias-neg-s0"
MIXED = ("training", "gen2", "gen3")
TARGETS = {
    "check_small_s": 0.4,
    "rules_s": 0.3,
    "cpu_per_run_ms": 5.0,
    "check_over_curves": 1.5,
}


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("curvelint")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "analyzer"]


def _wall(args: list[str], repeat: int = 5, timeout: float | None = None) -> float:
    """Median wall time of running ``curvelint args`` (output discarded); inf on time-out."""
    return _timed(args, repeat, timeout)[0]


def _timed(args: list[str], repeat: int = 5, timeout: float | None = None) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system of the child) of running
    ``curvelint args``; (inf, inf) on time-out. On a busy machine the CPU time is the steadier."""
    times, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        try:
            subprocess.run(
                _cli() + args,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=ROOT,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return float("inf"), float("inf")
        times.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times), statistics.median(cpus)


def _row(name: str, measured: float, target: float | None, unit: str) -> dict:
    ok = None if target is None else bool(measured <= target)
    return {"name": name, "measured": measured, "target": target, "unit": unit, "ok": ok}


def startup_rows(repeat: int = 5) -> list[dict]:
    check, check_cpu = _timed(["check", str(SMALL_RUN), "--format", "json"], repeat)
    first, first_cpu = _timed(["check", str(SMALL_RUN), "--format", "json", "--no-cache"], repeat)
    rules, rules_cpu = _timed(["rules"], repeat)
    return [
        _row("check one small run (wall)", check, TARGETS["check_small_s"], "s"),
        _row("check one small run (CPU)", check_cpu, None, "s"),
        _row("check one small run, --no-cache (wall)", first, TARGETS["check_small_s"], "s"),
        _row("check one small run, --no-cache (CPU)", first_cpu, None, "s"),
        _row("rules (wall)", rules, TARGETS["rules_s"], "s"),
        _row("rules (CPU)", rules_cpu, None, "s"),
    ]


def cpu_rows(sets: tuple[str, ...] = MIXED) -> list[dict]:
    """Per-run CPU of reading and of analysis over the runs of ``sets``, in this process."""
    from analyzer import engine
    from analyzer.runs import load

    options = engine.Options.build()
    warm = load(SMALL_RUN)  # imports and first-call costs
    for run in warm.runs:
        engine.analyze_run(run, options)
    read = analysis = 0.0
    n = 0
    for name in sets:
        t = time.process_time()
        result = load(ROOT / "fixtures" / name)
        read += time.process_time() - t
        t = time.process_time()
        for run in result.runs:
            engine.analyze_run(run, options)
        analysis += time.process_time() - t
        n += len(result.runs)
    n = max(n, 1)
    target = TARGETS["cpu_per_run_ms"]
    return [
        _row(f"read CPU per run ({n} runs)", 1000 * read / n, None, "ms"),
        _row(f"analysis CPU per run ({n} runs)", 1000 * analysis / n, None, "ms"),
        _row(f"read+analysis CPU per run ({n} runs)", 1000 * (read + analysis) / n, target, "ms"),
    ]


def write_big(root: Path, events: int) -> Path:
    """A run folder with one event file of ``events`` scalar events (4 tags); reused if there."""
    from benchmarks.read_speed import TAGS, write_event_file

    folder = root / f"big{events}"
    path = folder / "run" / "events.out.tfevents.1700000000.bench"
    stamp = folder / "done"
    if not stamp.exists():
        write_event_file(path, "tf1", events // len(TAGS))
        stamp.write_text(str(events))
    return folder / "run"


def big_rows(
    root: Path, sizes: tuple[int, ...] = (1_000_000, 5_000_000), repeat: int = 1, timeout=600.0
) -> list[dict]:
    rows: list[dict] = []
    checks: dict[int, float] = {}
    for events in sizes:
        run = write_big(root, events)
        curves, curves_cpu = _timed(["curves", str(run), "--format", "json"], repeat, timeout)
        check, check_cpu = _timed(["check", str(run), "--format", "json"], repeat, timeout)
        checks[events] = check
        label = f"{events / 1e6:g}M"
        rows.append(_row(f"curves {label} events (wall)", curves, None, "s"))
        rows.append(_row(f"check {label} events (wall)", check, None, "s"))
        rows.append(
            _row(f"check/curves {label}", check / curves, TARGETS["check_over_curves"], "x")
        )
        rows.append(_row(f"curves {label} events (CPU)", curves_cpu, None, "s"))
        rows.append(_row(f"check {label} events (CPU)", check_cpu, None, "s"))
        rows.append(
            _row(
                f"check/curves {label} (CPU)",
                check_cpu / curves_cpu,
                TARGETS["check_over_curves"],
                "x",
            )
        )
    if len(sizes) > 1:
        a, b = sizes[0], sizes[-1]
        rows.append(
            _row(f"check {b / 1e6:g}M / check {a / 1e6:g}M", checks[b] / checks[a], None, "x")
        )
    return rows


def measure(
    big: bool = True, keep: Path | None = None, repeat: int = 5, timeout: float = 600.0
) -> list[dict]:
    """Every row (see the module docstring). ``big=False`` skips the event-file rows; ``keep``
    is a folder to write (and reuse) the big event files in instead of a temporary one; a big
    run taking longer than ``timeout`` seconds is stopped and measured as ``inf``."""
    rows = startup_rows(repeat) + cpu_rows()
    if big:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            rows += big_rows(keep, timeout=timeout)
        else:
            with tempfile.TemporaryDirectory(prefix="curvelint-startup-") as tmp:
                rows += big_rows(Path(tmp), timeout=timeout)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| work | measured | target | ok |", "|---|---|---|---|"]
    for r in rows:
        target = "-" if r["target"] is None else f"≤ {r['target']:g} {r['unit']}"
        ok = "-" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        lines.append(f"| {r['name']} | {r['measured']:.3g} {r['unit']} | {target} | {ok} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-big", action="store_true", help="skip the 1M/5M event-file rows")
    ap.add_argument("--keep", type=Path, help="write (and reuse) the big event files here")
    ap.add_argument("--repeat", type=int, default=5, help="runs per start-up timing (median)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per big run")
    args = ap.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(
        table(
            measure(big=not args.no_big, keep=args.keep, repeat=args.repeat, timeout=args.timeout)
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
