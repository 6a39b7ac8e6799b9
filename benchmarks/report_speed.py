"""How much does the HTML report add to the analysis? Target: at most 2x the analysis time.

Builds sweeps of synthetic runs (healthy, overfitting, plateau, oscillating and diverging curves)
in a temporary folder — Keras-CSVLogger files (epoch level, with accuracy and learning rate) and
TensorBoard event files (step level, a few thousand points) — then, in one process, times

* analysis: ``load`` + ``analyze`` (discover, read, roles, trends, rules),
* report:   ``render_html`` of that analysis (charts, cards, template),

and prints a table with both times, the ratio report/analysis and the size of the page.

    python benchmarks/report_speed.py              # 200 and 500 runs
    python benchmarks/report_speed.py --runs 50    # one size
    python benchmarks/report_speed.py --keep DIR   # also write the reports into DIR
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.engine import analyze  # noqa: E402
from analyzer.report.html import render_html  # noqa: E402
from analyzer.runs import load  # noqa: E402

KINDS = ("healthy", "overfit", "plateau", "oscillating", "diverging")


def curves(kind: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) loss over n points for one kind of behaviour, with noise."""
    t = np.arange(n) / n
    tau = rng.uniform(0.08, 0.3)
    start, floor = rng.uniform(1.5, 3.0), rng.uniform(0.02, 0.3)
    base = floor + (start - floor) * np.exp(-t / tau)
    noise = rng.uniform(0.005, 0.03)
    train = base * (1 + rng.normal(0, noise, n))
    val = (base + rng.uniform(0.02, 0.2)) * (1 + rng.normal(0, noise, n))
    if kind == "overfit":
        onset = rng.uniform(0.25, 0.5)
        val = val + rng.uniform(0.3, 1.5) * np.maximum(t - onset, 0)
        train = train * np.where(t > onset, np.exp(-(t - onset) * 2), 1)
    elif kind == "plateau":
        cut = rng.uniform(0.15, 0.35)
        level = base[int(cut * n)]
        train = np.where(t > cut, level, train) * (1 + rng.normal(0, noise / 3, n))
        val = np.where(t > cut, level + 0.05, val) * (1 + rng.normal(0, noise / 3, n))
    elif kind == "oscillating":
        amp = rng.uniform(0.1, 0.3)
        period = rng.uniform(0.04, 0.1)
        wave = 1 + amp * np.sin(2 * np.pi * t / period) * (t > 0.3)
        train, val = train * wave, val * wave
    elif kind == "diverging":
        onset = rng.uniform(0.5, 0.8)
        blow = np.exp(np.maximum(t - onset, 0) * rng.uniform(20, 60))
        train, val = train * blow, val * blow
        if rng.random() < 0.5:
            cut = int((onset + 0.1) * n)
            train[cut:] = np.nan
            val[cut:] = np.nan
    return train, val


def write_csv(path: Path, train: np.ndarray, val: np.ndarray) -> None:
    n = len(train)
    acc = np.clip(1 - train / (train[0] * 1.2), 0, 1)
    lr = 1e-3 * 0.5 ** (np.arange(n) // max(n // 3, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["epoch,accuracy,learning_rate,loss,val_accuracy,val_loss"]
    for i in range(n):
        lines.append(
            f"{i},{acc[i]:.5f},{lr[i]:.6g},{train[i]:.6g},{acc[i] * 0.97:.5f},{val[i]:.6g}"
        )
    path.write_text("\n".join(lines) + "\n")


def write_events(folder: Path, train: np.ndarray, val: np.ndarray, every: int = 10) -> None:
    """TensorBoard event files, one folder per split, as the Keras callback lays them out."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    for split, values, stride in (("train", train, 1), ("validation", val, every)):
        w = EventFileWriter(str(folder / split))
        for step in range(0, len(values), stride):
            v = Summary.Value(tag="epoch_loss", simple_value=float(values[step]))
            w.add_event(Event(step=step, wall_time=1.7e9 + step, summary=Summary(value=[v])))
        w.close()


def build_sweep(root: Path, n_runs: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for i in range(n_runs):
        kind = KINDS[i % len(KINDS)]
        if i % 4 == 3:  # a quarter at step level, as TensorBoard event files
            tr, va = curves(kind, int(rng.integers(1500, 4000)), rng)
            write_events(root / f"tb-{kind}-{i:04d}", tr, va)
        else:
            tr, va = curves(kind, int(rng.integers(30, 300)), rng)
            write_csv(root / f"csv-{kind}-{i:04d}" / "history.csv", tr, va)


def measure(n_runs: int, keep: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="curvelint-bench-") as tmp:
        root = Path(tmp) / "sweep"
        build_sweep(root, n_runs)
        t0 = time.perf_counter()
        result = load(root)
        report = analyze(result)
        t_analysis = time.perf_counter() - t0
        t0 = time.perf_counter()
        html = render_html(report, result)
        t_html = time.perf_counter() - t0
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"report-{n_runs}.html").write_text(html, encoding="utf-8")
        return {
            "runs": len(result.runs),
            "findings": len(report.findings),
            "analysis": t_analysis,
            "html": t_html,
            "size": len(html.encode("utf-8")),
        }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, action="append", help="sweep size (repeatable)")
    ap.add_argument("--keep", type=Path, help="write the reports into this folder")
    args = ap.parse_args(argv)
    sizes = args.runs or [200, 500]
    measure(5)  # warm-up: imports and caches count for neither side
    rows = [measure(n, args.keep) for n in sizes]
    head = (
        f"{'runs':>5} {'findings':>8} {'analysis s':>11} {'analysis+html s':>16} "
        f"{'html/analysis':>14} {'report MB':>10} {'KB/run':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['runs']:>5} {r['findings']:>8} {r['analysis']:>11.2f} "
            f"{r['analysis'] + r['html']:>16.2f} {r['html'] / r['analysis']:>14.2f} "
            f"{r['size'] / 1e6:>10.2f} {r['size'] / 1e3 / max(r['runs'], 1):>7.1f}"
        )
    worst = max(r["html"] / r["analysis"] for r in rows)
    print(f"\nHTML adds {worst:.2f}x the analysis time at most (target: <= 2x)")
    return 0 if worst <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
