"""Streaming monitor benchmarks: per-update overhead, and detection delay on labelled runs.

(a) Overhead. A 100,000-step loop that computes a loss value and appends it to a list, against
    the same loop calling ``Monitor.update(step, loss=..., lr=...)`` (default, adaptive schedule),
    in the same process; the difference per step is the monitor's cost, amortised over the run
    (evaluations included). Target: under 20 microseconds per update. ``report()`` at the end
    is timed apart. A fixed ``every=N`` schedule is shown for reference.

(b) Detection delay on the labelled fixtures (fixtures/training/labels.json: the problem kinds
    of each run and the epoch where each starts). Each run is replayed epoch by epoch: all values
    logged up to the end of epoch e go to a Monitor, whose rules run once per epoch (a
    deterministic stand-in for the adaptive schedule of a real, slow training loop). The first
    alert of a labelled kind (a finding of severity warning or worse) is compared with Keras'
    ``EarlyStopping(patience=10)`` and ``ReduceLROnPlateau(patience=10)`` decision rules replayed
    on the same validation loss (min_delta 0, mode min; training loss when a run has no
    validation loss). Delay = alert epoch - labelled onset epoch (negative: the alert came before
    the labelled onset). Healthy runs (no labelled kind) count false alarms: any problem-kind alert
    of the monitor, any trigger of the Keras rules.

(c) Evaluation cost at 1,500 points per curve (issue 12; target <= 5 ms). A Monitor holding
    ``loss``, ``lr``, ``val_loss`` and ``val_accuracy`` at 1,500 points each, evaluated
    (``check_now()``: every rule whose curves changed, no time budget) after (i) one new
    validation point (``val_loss``, ``val_accuracy``: the data-progress schedule's evaluation)
    and (ii) one new point on every curve (per-epoch logging), 96 times each, on curves short
    enough to be kept exactly, as ``check`` would see them. A curve this long is handed to the
    rules anew once it grew by 1/32 (the refresh policy: every 47 points here), so most
    evaluations re-use every rule's findings and one in 47 re-runs the rules: the mean (the
    amortised cost, what the target is held against) and the median and the slowest are shown.

(d) Fast-loop overfitting replay (issue 12). 100 epochs x 1,000 iterations of
    ``tests.signals.overfitting_pair`` (training loss every iteration, validation loss every
    1,000) replayed as fast as Python goes through a default ``Monitor()``, against the same loop
    appending to a list. Reports the loop time with and without the monitor, their ratio, the
    evaluations, and when OVF001 was announced: evaluations (and validation points) after the
    validation loss turned (its true minimum), and after the first evaluation whose findings
    contained it. Target: announced within two evaluations of the turn being visible to the rules,
    at <= 5% of the loop's time.

    python benchmarks/monitor.py [--steps 100000] [--fixtures fixtures/training] [--jobs 2]
                                 [--only SUBSTRING] [--skip-delay] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.findings import PROBLEM_KINDS, SEVERITY_RANK  # noqa: E402
from analyzer.monitor import Monitor  # noqa: E402

PATIENCE = 10


# ---- (a) overhead --------------------------------------------------------------------------------
def loss_at(i: int) -> float:
    return 0.3 + 2.0 / (1.0 + 0.001 * i) + 0.01 * math.sin(i)


def bench_overhead(n: int, work_us: float = 50.0) -> dict:
    # warm the imports and caches up so that neither loop pays for them
    Monitor(every=1).update(0, loss=1.0)

    t = time.perf_counter()
    hist = []
    for i in range(n):
        hist.append((i, loss_at(i), 0.1))
    bare = time.perf_counter() - t

    mon = Monitor()
    t = time.perf_counter()
    for i in range(n):
        mon.update(i, loss=loss_at(i), lr=0.1)
    monitored = time.perf_counter() - t
    t = time.perf_counter()
    rep = mon.report()
    final = time.perf_counter() - t
    stats = mon.stats()

    # a loop that does some work per step (busy-waiting `work_us`, standing in for a training
    # step): the adaptive schedule checks the rules within its 5% budget. The wall-time
    # difference of the two busy loops is noisy on a loaded machine; the time spent in the rules
    # (measured by the monitor) is the number to read.
    work = work_us * 1e-6
    n_work = n

    def spin(i: int) -> float:
        end = time.perf_counter() + work
        while time.perf_counter() < end:
            pass
        return loss_at(i)

    t = time.perf_counter()
    hist = []
    for i in range(n_work):
        hist.append((i, spin(i), 0.1))
    bare_work = time.perf_counter() - t
    busy = Monitor()
    t = time.perf_counter()
    for i in range(n_work):
        busy.update(i, loss=spin(i), lr=0.1)
    busy_t = time.perf_counter() - t

    fixed = Monitor(every=max(1, n // 20))
    t = time.perf_counter()
    for i in range(n):
        fixed.update(i, loss=loss_at(i), lr=0.1)
    fixed_t = time.perf_counter() - t
    return {
        "steps": n,
        "bare_us_per_step": 1e6 * bare / n,
        "monitor_us_per_step": 1e6 * monitored / n,
        "overhead_us_per_update": 1e6 * (monitored - bare) / n,
        "evaluations": stats["evaluations"],
        "seconds_evaluating": stats["seconds_evaluating"],
        "points_kept": stats["points"],
        "final_report_s": final,
        "final_verdict": rep.runs[0].verdict,
        "work_us": work_us,
        "work_steps": n_work,
        "work_overhead_us_per_update": 1e6 * (busy_t - bare_work) / n_work,
        "work_overhead_fraction": (busy_t - bare_work) / bare_work,
        "work_evaluations": busy.evaluations,
        "work_seconds_evaluating": busy.stats()["seconds_evaluating"],
        "work_bare_s": bare_work,
        "fixed_every": fixed.every,
        "fixed_evaluations": fixed.evaluations,
        "fixed_overhead_us_per_update": 1e6 * (fixed_t - bare) / n,
    }


# ---- (c) evaluation cost at 1.5k points per curve ------------------------------------------------
def _filled_monitor(n: int) -> Monitor:
    rng = np.random.default_rng(0)
    mon = Monitor(every=10**9)
    for i in range(n):
        vl = 0.5 + 2 / (1 + 0.01 * i) + 0.0004 * max(0, i - 900) + 0.01 * rng.standard_normal()
        mon.update(
            i,
            loss=0.3 + 2 / (1 + 0.01 * i) + 0.02 * rng.standard_normal(),
            lr=0.1 * 0.5 ** (i // 500),
            val_loss=vl,
            val_accuracy=1 - vl / 3,
        )
    mon.check_now()
    return mon


def bench_eval_cost(n: int = 1500, repeats: int = 96) -> dict:
    out: dict = {"points": n, "repeats": repeats}
    for case in ("val_point", "every_curve"):
        mon = _filled_monitor(n)
        times = []
        for k in range(repeats):
            step = n + k
            if case == "val_point":
                mon.update(step, val_loss=0.9 + 0.001 * k, val_accuracy=0.7)
            else:
                mon.update(step, loss=0.5, lr=0.025, val_loss=0.9 + 0.001 * k, val_accuracy=0.7)
            t = time.perf_counter()
            mon.check_now()
            times.append(time.perf_counter() - t)
        out[case] = {
            "mean_ms": 1e3 * statistics.fmean(times),
            "median_ms": 1e3 * statistics.median(times),
            "min_ms": 1e3 * min(times),
            "max_ms": 1e3 * max(times),
            "points": mon.stats()["points"],
        }
    return out


def measure(points: int = 1500, repeats: int = 96) -> list[dict]:
    """Rows for ``benchmarks/scale.py``: (c), one Monitor evaluation at ``points`` per curve (the
    mean of ``repeats`` evaluations in a row: the amortised cost; the median beside it)."""
    c = bench_eval_cost(points, repeats)
    return [
        {
            "name": (
                f"evaluation at {points:,} points, {label} (mean of {repeats}; "
                f"median {c[case]['median_ms']:.2f} ms)"
            ),
            "measured": c[case]["mean_ms"],
            "unit": "ms",
            "target": "<= 5 ms",
            "ok": c[case]["mean_ms"] <= 5.0,
        }
        for case, label in (("val_point", "new val point"), ("every_curve", "new point on all"))
    ]


# ---- (d) fast-loop overfitting replay ------------------------------------------------------------
def bench_fast_replay(epochs: int = 100, per_epoch: int = 1000, seed: int = 0) -> dict:
    from tests.signals import overfitting_pair

    sig = overfitting_pair(epochs=epochs, steps_per_epoch=per_epoch, seed=seed)
    train = [float(x) for x in sig.train_values]
    val_at = {int(s): float(v) for s, v in zip(sig.val_steps, sig.val_values, strict=True)}
    turn = int(sig.truth["best_step"])
    n = len(train)
    Monitor(every=1).update(0, loss=1.0)  # warm imports

    t = time.perf_counter()
    hist = []
    for i in range(n):
        row = {"loss": train[i]}
        v = val_at.get(i)
        if v is not None:
            row["val_loss"] = v
        hist.append((i, row))
    bare = time.perf_counter() - t

    mon = Monitor()
    evals: list[tuple[int, bool]] = []  # (step, OVF001 among the evaluation's findings)
    announced: int | None = None
    last = 0
    t = time.perf_counter()
    for i in range(n):
        row = {"loss": train[i]}
        v = val_at.get(i)
        if v is not None:
            row["val_loss"] = v
        new = mon.update(i, **row)
        if mon.evaluations != last:
            last = mon.evaluations
            evals.append((i, any(f.code == "OVF001" for f in mon.findings)))
            if announced is None and any(f.code == "OVF001" for f in new):
                announced = len(evals)
    monitored = time.perf_counter() - t
    spent = mon.stats()["seconds_evaluating"]
    after_turn = [k for k, (s, _) in enumerate(evals, 1) if s >= turn]
    seen = next((k for k, (_, hit) in enumerate(evals, 1) if hit), None)
    val_steps = sorted(val_at)
    return {
        "updates": n,
        "val_points": len(val_at),
        "turn_step": turn,
        "bare_s": bare,
        "monitored_s": monitored,
        "ratio": monitored / bare,
        "seconds_evaluating": spent,
        "evaluating_fraction": spent / monitored,
        "evaluations": len(evals),
        "evaluations_after_turn": len(after_turn),
        "first_seen_evaluation": seen,
        "announced_evaluation": announced,
        "announced_after_turn": (
            None if announced is None or not after_turn else announced - after_turn[0] + 1
        ),
        "announced_after_seen": None if announced is None or seen is None else announced - seen + 1,
        "announced_step": evals[announced - 1][0] if announced else None,
        "val_points_after_turn_at_announce": (
            sum(turn < s <= evals[announced - 1][0] for s in val_steps) if announced else None
        ),
        "final_report_has_ovf": "OVF001" in [f.code for f in mon.report().findings],
    }


# ---- (b) detection delay ---------------------------------------------------------------------------
def keras_early_stopping(values: list[float], patience: int = PATIENCE, min_delta: float = 0.0):
    """Epoch index at which Keras' EarlyStopping(monitor, mode='min') stops, or None."""
    best, wait = math.inf, 0
    for epoch, v in enumerate(values):
        wait += 1
        if v - min_delta < best:  # Keras: np.less(current - min_delta, best)
            best, wait = v, 0
        if wait >= patience and epoch > 0:
            return epoch
    return None


def keras_reduce_lr(values: list[float], patience: int = PATIENCE, min_delta: float = 0.0):
    """Epoch index of ReduceLROnPlateau(mode='min', cooldown=0)'s first reduction, or None.
    (A NaN never compares as an improvement, as in Keras.)"""
    best, wait = math.inf, 0
    for epoch, v in enumerate(values):
        if v < best - min_delta:
            best, wait = v, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch
    return None


def replay(run_dir: str, label: dict) -> dict:
    from analyzer.runs import load

    res = load(run_dir)
    if not res.runs:
        return {"run": Path(run_dir).name, "error": "nothing readable"}
    run = max(res.runs, key=lambda r: len(r.frame))
    frame = run.frame
    val = run.val
    train = run.train
    grid_curve = val if val is not None and len(val) else train
    if grid_curve is None or not len(grid_curve):
        return {"run": Path(run_dir).name, "error": "no loss curve"}
    grid = np.unique(grid_curve.steps)
    # the values the baselines see at the end of each epoch
    s, idx = np.unique(grid_curve.steps, return_index=True)
    watched = [float(grid_curve.values[i]) for i in idx]

    order = np.lexsort((frame["tag"].to_numpy(), frame["step"].to_numpy()))
    steps = frame["step"].to_numpy()[order]
    tags = frame["tag"].to_numpy()[order]
    vals = frame["value"].to_numpy()[order]
    mon = Monitor(every=10**9, train_loss=run.roles.train_loss, val_loss=run.roles.val_loss)
    first_alert: dict[str, int] = {}
    first_any: int | None = None
    labelled = set(label["kinds"])
    es = keras_early_stopping(watched)
    rl = keras_reduce_lr(watched)
    j = 0
    n = len(steps)
    t0 = time.perf_counter()
    for epoch, end in enumerate(grid):
        while j < n and steps[j] <= end:
            k = j
            row: dict[str, float] = {}
            while k < n and steps[k] == steps[j]:
                row[str(tags[k])] = float(vals[k])
                k += 1
            mon.update(int(steps[j]), **row)
            j = k
        if epoch + 1 < 5 and epoch + 1 < len(grid):
            continue  # nothing to judge before a few epochs (the monitor's min_points)
        for f in mon.check_now():
            if f.kind in PROBLEM_KINDS and SEVERITY_RANK[f.severity] >= SEVERITY_RANK["warning"]:
                first_alert.setdefault(f.kind, epoch)
                first_any = epoch if first_any is None else first_any
        done_kinds = labelled and labelled <= set(first_alert)
        if done_kinds and (es is None or epoch >= es) and (rl is None or epoch >= rl):
            break  # everything to measure has happened
    onset = {k: int(label.get("onset_epoch", {}).get(k, 0)) for k in labelled}
    return {
        "run": Path(run_dir).name,
        "kinds": sorted(labelled),
        "onset": onset,
        "epochs": len(grid),
        "alerts": first_alert,
        "first_any": first_any,
        "early_stopping": es,
        "reduce_lr": rl,
        "seconds": time.perf_counter() - t0,
    }


def _replay_args(args):
    return replay(*args)


def summarise(rows: list[dict]) -> dict:
    problem = [r for r in rows if r.get("kinds")]
    healthy = [r for r in rows if "kinds" in r and not r["kinds"]]
    out: dict = {"runs": len(rows), "problem_runs": len(problem), "healthy_runs": len(healthy)}

    def delays(who: str) -> list[float]:
        ds = []
        for r in problem:
            onset = min(r["onset"].values())
            if who == "monitor":
                hits = [r["alerts"][k] for k in r["kinds"] if k in r["alerts"]]
                t = min(hits) if hits else None
            else:
                t = r[who]
            ds.append(math.nan if t is None else t - onset)
        return ds

    for who in ("monitor", "early_stopping", "reduce_lr"):
        d = delays(who)
        got = [x for x in d if not math.isnan(x)]
        out[who] = {
            "detected": len(got),
            "median_delay": statistics.median(got) if got else None,
            "mean_delay": statistics.fmean(got) if got else None,
            "before_onset": sum(x < 0 for x in got),
            "false_alarms_healthy": sum(
                (bool(r["alerts"]) if who == "monitor" else r[who] is not None) for r in healthy
            ),
            "delays": d,
        }
    # head to head: runs where both detected, monitor earlier / same / later
    for base in ("early_stopping", "reduce_lr"):
        m, b = delays("monitor"), delays(base)
        both = [(x, y) for x, y in zip(m, b, strict=True) if not (math.isnan(x) or math.isnan(y))]
        out[f"vs_{base}"] = {
            "both": len(both),
            "monitor_earlier": sum(x < y for x, y in both),
            "same": sum(x == y for x, y in both),
            "monitor_later": sum(x > y for x, y in both),
            "only_monitor": sum(
                not math.isnan(x) and math.isnan(y) for x, y in zip(m, b, strict=True)
            ),
            "only_keras": sum(
                math.isnan(x) and not math.isnan(y) for x, y in zip(m, b, strict=True)
            ),
        }
    # per kind delays of the monitor
    per_kind: dict[str, list[int]] = {}
    for r in problem:
        for k in r["kinds"]:
            if k in r["alerts"]:
                per_kind.setdefault(k, []).append(r["alerts"][k] - r["onset"][k])
    out["monitor_per_kind"] = {
        k: {
            "detected": len(v),
            "of": sum(k in r["kinds"] for r in problem),
            "median_delay": statistics.median(v),
        }
        for k, v in sorted(per_kind.items())
    }
    return out


def bench_delay(fixtures: Path, only: str | None, jobs: int) -> tuple[list[dict], dict]:
    labels = json.loads((fixtures / "labels.json").read_text())
    todo = [
        (str(fixtures / name), lab)
        for name, lab in sorted(labels.items())
        if (fixtures / name).exists() and (not only or only in name)
    ]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as ex:
            rows = list(ex.map(_replay_args, todo))
    else:
        rows = [replay(*t) for t in todo]
    return rows, summarise([r for r in rows if "error" not in r])


def fmt(x, nd=1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{nd}f}" if isinstance(x, float) else str(x)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--fixtures", type=Path, default=ROOT / "fixtures" / "training")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default=None)
    ap.add_argument("--skip-delay", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="write all numbers to this file")
    args = ap.parse_args(argv)

    doc: dict = {}
    c = bench_eval_cost()
    doc["eval_cost"] = c
    print(f"(c) one evaluation at {c['points']:,} points per curve ({c['repeats']} in a row)")
    for case, label in (
        ("val_point", "after a new val point"),
        ("every_curve", "after a new point on every curve"),
    ):
        print(
            f"    {label:<34} mean {c[case]['mean_ms']:6.2f} ms (target <= 5; median "
            f"{c[case]['median_ms']:.2f}, min {c[case]['min_ms']:.2f}, max {c[case]['max_ms']:.1f})"
        )
    r = bench_fast_replay()
    doc["fast_replay"] = r
    print(
        f"(d) fast-loop overfitting replay: {r['updates']:,} updates, {r['val_points']} val points, "
        f"val turns at step {r['turn_step']:,}"
    )
    print(
        f"    loop {r['bare_s']:.3f} s bare, {r['monitored_s']:.3f} s with Monitor() "
        f"(x{r['ratio']:.2f}); {r['seconds_evaluating'] * 1e3:.1f} ms in {r['evaluations']} "
        f"evaluations = {100 * r['evaluating_fraction']:.1f}% of the loop (target <= 5%)"
    )
    print(
        f"    OVF001 announced at evaluation {fmt(r['announced_evaluation'])} "
        f"(step {fmt(r['announced_step'])}): {fmt(r['announced_after_turn'])} evaluations / "
        f"{fmt(r['val_points_after_turn_at_announce'])} val points after the turn "
        f"({r['evaluations_after_turn']} evaluations after it in all), "
        f"{fmt(r['announced_after_seen'])} after first seen (target <= 2); "
        f"final report has it: {r['final_report_has_ovf']}"
    )
    o = bench_overhead(args.steps)
    doc["overhead"] = o
    print(f"(a) overhead over a {o['steps']:,}-step loop")
    print(f"    bare loop (append to a list)   {o['bare_us_per_step']:7.2f} us/step")
    print(f"    with Monitor.update (adaptive) {o['monitor_us_per_step']:7.2f} us/step")
    print(
        f"    monitor overhead               {o['overhead_us_per_update']:7.2f} us/update  "
        f"(target < 20; {o['evaluations']} evaluations, {o['seconds_evaluating']:.2f} s in rules)"
    )
    print(
        f"    with {o['work_us']:.0f} us of work per step: {o['work_evaluations']} evaluations, "
        f"{o['work_seconds_evaluating']:.2f} s in the rules = "
        f"{100 * o['work_seconds_evaluating'] / o['work_bare_s']:.1f}% of the "
        f"{o['work_bare_s']:.1f} s loop (budget 5%)"
    )
    print(
        f"    fixed every={o['fixed_every']:<6}           {o['fixed_overhead_us_per_update']:7.2f} "
        f"us/update ({o['fixed_evaluations']} evaluations)"
    )
    print(
        f"    points kept per curve {o['points_kept']}, final report() {o['final_report_s']:.2f} s "
        f"({o['final_verdict']})"
    )

    if not args.skip_delay:
        if not (args.fixtures / "labels.json").exists():
            print(f"\n(b) skipped: no {args.fixtures}/labels.json")
        else:
            t = time.perf_counter()
            rows, summary = bench_delay(args.fixtures, args.only, args.jobs)
            doc["delay"] = {"summary": summary, "runs": rows}
            errors = [r for r in rows if "error" in r]
            print(
                f"\n(b) detection delay in epochs on {summary['problem_runs']} labelled problem "
                f"runs and {summary['healthy_runs']} healthy runs "
                f"({time.perf_counter() - t:.0f} s; {len(errors)} unreadable)"
            )
            print(
                f"    {'detector':<28}{'detected':>9}{'median':>8}{'mean':>7}"
                f"{'before onset':>14}{'false alarms (healthy)':>24}"
            )
            names = {
                "monitor": "curvelint Monitor",
                "early_stopping": "EarlyStopping(patience=10)",
                "reduce_lr": "ReduceLROnPlateau(pat.=10)",
            }
            for who, name in names.items():
                s = summary[who]
                print(
                    f"    {name:<28}{s['detected']:>5}/{summary['problem_runs']:<3}"
                    f"{fmt(s['median_delay']):>8}{fmt(s['mean_delay']):>7}{s['before_onset']:>14}"
                    f"{s['false_alarms_healthy']:>16}/{summary['healthy_runs']}"
                )
            for base in ("early_stopping", "reduce_lr"):
                v = summary[f"vs_{base}"]
                print(
                    f"    vs {names[base]}: monitor earlier on {v['monitor_earlier']}, same on "
                    f"{v['same']}, later on {v['monitor_later']} of {v['both']} runs both "
                    f"detected; only monitor {v['only_monitor']}, only Keras {v['only_keras']}"
                )
            print(
                "    monitor by kind: "
                + ", ".join(
                    f"{k} {v['detected']}/{v['of']} (median {fmt(float(v['median_delay']))})"
                    for k, v in summary["monitor_per_kind"].items()
                )
            )
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
