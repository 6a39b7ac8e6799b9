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


def real_log_labels(real: Path) -> dict[str, dict]:
    """The labels of ``../shared/real-logs/LABELS.tsv`` as labels.json entries keyed by label id,
    with the files each label names; ``unclear`` runs are not scored."""
    out = {}
    lines = (real / "LABELS.tsv").read_text().splitlines()
    head = lines[0].split("\t")
    for line in lines[1:]:
        if not line.strip():
            continue
        row = dict(zip(head, line.split("\t"), strict=False))
        label = row["label"].strip()
        if label == "unclear":
            continue
        kinds = [] if label == "healthy" else [k for k in label.split(";") if k]
        out[row["id"]] = {"kinds": kinds, "uncertain": [], "paths": row["paths"].split(";")}
    return out


def match_real_runs(labels: dict[str, dict], report, real: Path) -> dict[str, str | None]:
    """Label id -> curvelint run id: the run that read one of the label's files, else the run
    whose folder holds them (a results.csv read from the event files beside it)."""
    by_file = {}
    for r in report.runs:
        for f in r.files:
            by_file[str(Path(f).resolve())] = r.run
    out = {}
    for lid, lab in labels.items():
        hit = None
        for rel in lab["paths"]:
            hit = by_file.get(str((real / rel).resolve()))
            if hit:
                break
        if hit is None:
            folders = {str(Path(rel).parent) for rel in lab["paths"]}
            names = folders | set(lab["paths"])
            cands = [
                r.run
                for r in report.runs
                if any(f == r.run or f.startswith(r.run + "/") for f in names)
            ]
            hit = max(cands, key=len) if cands else None
        out[lid] = hit
    return out


def evaluate(fixtures: Path, *, lenient: bool = False, report=None) -> dict:
    """Score curvelint against the labels. ``lenient``: a kind the labeller marked ``uncertain``
    for a run counts neither as a false alarm nor as a hit."""
    real = (fixtures / "LABELS.tsv").is_file()
    labels = (
        real_log_labels(fixtures) if real else json.loads((fixtures / "labels.json").read_text())
    )
    t0 = time.perf_counter()
    report = report if report is not None else check(fixtures)
    elapsed = time.perf_counter() - t0
    found: dict[str, set[str]] = {}
    for r in report.runs:
        kinds = {f.kind for f in r.findings if f.severity in ("warning", "error")}
        found.setdefault(r.run if real else run_folder(r.run), set()).update(
            kinds & set(PROBLEM_KINDS)
        )
    if real:
        runs = match_real_runs(labels, report, fixtures)
        predicted = {lid: found[rid] for lid, rid in runs.items() if rid is not None}
    else:
        predicted = found
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


#: The labelled sets, in the order they are printed, and whether rules were ever tuned on them.
#: A frozen set is scored, never studied: once a rule is changed because of one of its runs it
#: becomes a development set and a new frozen set must be made.
SETS = {
    "training": ("fixtures/training", "development", "generator 1, labeller 1"),
    "holdout": ("fixtures/holdout", "development", "generator 1, labeller 2"),
    "holdout2": ("fixtures/holdout2", "frozen", "generator 1, labeller 3"),
    "real-logs": ("../shared/real-logs", "development", "public runs, shared labels"),
    "gen2": ("fixtures/gen2", "development", "generator 2, labeller 4"),
    "gen3": ("fixtures/gen3", "frozen", "generator 3, labeller 5"),
    # measured once untuned (0.707, FA 18%), then studied: see fixtures/gen4/README.md
    "gen4": ("fixtures/gen4", "development", "generator 4 (JAX, tensorboardX), labeller 6"),
    # frozen until 2026-12-07 (0.763 when made, 0.788 when unfrozen), then studied: gen6 replaces it
    "gen5": ("fixtures/gen5", "development", "generator 5 (PyTorch, 8 writers), labeller 7"),
    # made 2026-12-07 by a generator and a labeller that never saw the rules: never studied
    "gen6": ("fixtures/gen6", "frozen", "generator 6 (Keras callbacks, 4 writers), labeller 8"),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--fixtures",
        action="append",
        help="a labelled set (repeatable): a folder with labels.json, or ../shared/real-logs "
        "(LABELS.tsv); default: every set of SETS that is present",
    )
    ap.add_argument("--set", action="append", choices=sorted(SETS), help="only this named set")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("-q", "--quiet", action="store_true", help="summary table only")
    args = ap.parse_args()
    if args.fixtures:
        sets = {Path(d).name: (Path(d), "?", "") for d in args.fixtures}
    else:
        sets = {
            name: (ROOT / rel, tuned, origin)
            for name, (rel, tuned, origin) in SETS.items()
            if (not args.set or name in args.set) and (ROOT / rel).is_dir()
        }
    out = {}
    for name, (d, tuned, origin) in sets.items():
        d = d.resolve()
        strict = evaluate(d)
        lenient = evaluate(d, lenient=True, report=strict.pop("report"))
        lenient.pop("report")
        out[name] = {"strict": strict, "lenient": lenient, "use": tuned, "origin": origin}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    if not args.quiet:
        for name, res in out.items():
            print_set(f"{name} ({res['use']}; {res['origin']})", res["strict"], res["lenient"])
    kinds = list(PROBLEM_KINDS)
    print(
        f"{'set':<10} {'use':<12} {'runs':>4} {'macro-F1':>8} "
        + " ".join(f"{k[:5]:>5}" for k in kinds)
        + f" {'healthy FA':>11} {'lenient':>8}"
    )
    for name, res in out.items():
        s, le = res["strict"], res["lenient"]
        print(
            f"{name:<10} {res['use']:<12} {s['runs']:>4} {s['macro_f1']:>8.3f} "
            + " ".join(f"{s['kinds'][k]['f1']:>5.2f}" for k in kinds)
            + f" {s['healthy_false_alarms']:>3}/{s['healthy_runs']:<3} {100 * s['healthy_false_alarm_rate']:>3.0f}%"
            + f" {le['macro_f1']:>8.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
