"""Diagnosis accuracy on the labelled fixtures from real training runs.

Runs `curvelint check` (the Python API, default options) on each labelled set and compares the
problem kinds found per run (findings of severity warning or error) with its labels.json, whose
labels record what each run's curves do (judged from the numbers and the plots). Three sets by
default: fixtures/training/ (79 runs the rules were developed on), fixtures/holdout/ (52 runs
made later; its first measurement was held out, after which its disagreements were studied, so
it is a development set now) and fixtures/holdout2/ (55 runs made last, never used for tuning:
the honest estimate of how the verdicts generalise).

Prints, per set, per-kind precision / recall / F1, the macro-F1 over the four problem kinds, the
false-alarm rate on healthy runs, and every disagreement; strict (every label counts) and lenient
(a kind the labeller marked uncertain for a run counts neither as a hit nor as a miss).

    python benchmarks/accuracy.py [--fixtures DIR ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.engine import check  # noqa: E402
from analyzer.findings import PROBLEM_KINDS  # noqa: E402


def run_folder(run_id: str) -> str:
    return run_id.split("/", 1)[0]


def evaluate(fixtures: Path, *, lenient: bool = False, report=None) -> dict:
    """Score curvelint against the labels. ``lenient``: a kind the labeller marked ``uncertain``
    for a run counts neither as a false alarm nor as a hit."""
    labels = json.loads((fixtures / "labels.json").read_text())
    t0 = time.perf_counter()
    report = report if report is not None else check(fixtures)
    elapsed = time.perf_counter() - t0
    predicted: dict[str, set[str]] = {}
    for r in report.runs:
        kinds = {f.kind for f in r.findings if f.severity in ("warning", "error")}
        predicted.setdefault(run_folder(r.run), set()).update(kinds & set(PROBLEM_KINDS))
    missing = sorted(set(labels) - set(predicted))
    rows = {}
    for kind in PROBLEM_KINDS:
        tp = fp = fn = 0
        for name, lab in labels.items():
            truth = kind in lab["kinds"]
            pred = kind in predicted.get(name, set())
            if lenient and kind in lab.get("uncertain", []):
                continue  # the labeller could not decide: neither a hit nor a miss
            tp += truth and pred
            fp += pred and not truth
            fn += truth and not pred
        p = tp / (tp + fp) if tp + fp else 1.0
        rc = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
        rows[kind] = {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": p,
            "recall": rc,
            "f1": f1,
            "support": tp + fn,
        }
    healthy = [n for n, lab in labels.items() if not lab["kinds"]]
    alarms = [
        n
        for n in healthy
        if predicted.get(n, set()) - (set(labels[n].get("uncertain", [])) if lenient else set())
    ]
    disagreements = [
        {"run": n, "label": sorted(lab["kinds"]), "curvelint": sorted(predicted.get(n, set()))}
        for n, lab in sorted(labels.items())
        if set(lab["kinds"]) != predicted.get(n, set())
    ]
    return {
        "runs": len(labels),
        "kinds": rows,
        "macro_f1": sum(r["f1"] for r in rows.values()) / len(rows),
        "healthy_runs": len(healthy),
        "healthy_false_alarms": len(alarms),
        "healthy_false_alarm_rate": len(alarms) / len(healthy) if healthy else 0.0,
        "missing_runs": missing,
        "disagreements": disagreements,
        "seconds": elapsed,
        "report": report,
    }


def print_set(name: str, strict: dict, lenient: dict) -> None:
    print(f"== {name}: {strict['runs']} labelled runs (analysed in {strict['seconds']:.1f} s)")
    for title, res in (
        ("strict: every label counts", strict),
        ("lenient: kinds the labeller marked uncertain count neither way", lenient),
    ):
        print(f"\n{title}")
        print(
            f"{'kind':<12} {'support':>7} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} "
            f"{'recall':>7} {'F1':>6}"
        )
        for kind, r in res["kinds"].items():
            print(
                f"{kind:<12} {r['support']:>7} {r['tp']:>4} {r['fp']:>4} {r['fn']:>4} "
                f"{r['precision']:>9.2f} {r['recall']:>7.2f} {r['f1']:>6.2f}"
            )
        print(f"macro-F1 over the four kinds: {res['macro_f1']:.3f}")
        print(
            f"false alarms on healthy runs: {res['healthy_false_alarms']}/{res['healthy_runs']} "
            f"= {100 * res['healthy_false_alarm_rate']:.1f}%"
        )
    if strict["missing_runs"]:
        print("labelled runs not found:", ", ".join(strict["missing_runs"]))
    if strict["disagreements"]:
        print("\ndisagreements (label vs curvelint):")
        for d in strict["disagreements"]:
            print(f"  {d['run']}: {d['label'] or ['healthy']} vs {d['curvelint'] or ['healthy']}")
    print()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--fixtures",
        action="append",
        help="a labelled set (repeatable); default: fixtures/training, holdout and holdout2",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sets = args.fixtures or [
        str(ROOT / "fixtures" / name) for name in ("training", "holdout", "holdout2")
    ]
    out = {}
    for d in sets:
        strict = evaluate(Path(d))
        lenient = evaluate(Path(d), lenient=True, report=strict.pop("report"))
        lenient.pop("report")
        out[Path(d).name] = {"strict": strict, "lenient": lenient}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for name, res in out.items():
        print_set(name, res["strict"], res["lenient"])
    if len(out) > 1:
        print("summary       strict macro-F1  healthy FA    lenient macro-F1  healthy FA")
        for name, res in out.items():
            s, le = res["strict"], res["lenient"]
            print(
                f"{name:<13} {s['macro_f1']:>15.3f}  {s['healthy_false_alarms']:>3}/{s['healthy_runs']:<3}"
                f" {100 * s['healthy_false_alarm_rate']:>4.0f}%  {le['macro_f1']:>15.3f}"
                f"  {le['healthy_false_alarms']:>3}/{le['healthy_runs']:<3}"
                f" {100 * le['healthy_false_alarm_rate']:>4.0f}%"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
