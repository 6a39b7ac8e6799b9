"""Benchmark of `curvelint verify` on fault-injected experiments curvelint's rules were not tuned on.

The default set is ``fixtures/experiments/bench/``: twelve small Keras experiments on data sets
and architectures other than the digits MLPs of ``fixtures/experiments/`` (scikit-learn's wine,
breast cancer, iris, two-moons, a noisy 40-feature classification, Friedman #1 regression, and
synthetic sequences for Conv1D and GRU models), each with one injected fault and a note of what
its usual remedy should do (``EXPECT``: "helps", or "does not help" where the usual remedy is the
wrong way round). ``--set bench2`` runs a second, independent set of eight
(``fixtures/experiments/bench2/``, written later by someone who had not read the rules or how
the top remedy is chosen: digits as 8x8 images for a Conv2D network and an autoencoder,
scikit-learn's diabetes regression, circles and Gaussian quantiles, synthetic token sequences for
an Embedding + LSTM and a one-block transformer); ``--set all`` runs both and reports each set
apart, then the two combined. ``--set examples`` runs the older five example experiments instead.

For every experiment, a default verification (the baseline, the top applicable remedy of
curvelint's own diagnosis with its dose ladder, and random control remedies, all with the same
seeds and epoch budget) and the measures:

- the share of experiments whose fault the top remedy should fix where it is verified as
  resolved or improved (target: at least 85%), and what happened where it should not help;
- the share of random controls that "help" (target: at most 20%);
- the wall time of a whole verification relative to one baseline training run.

Needs TensorFlow and scikit-learn. Usage::

    python benchmarks/verify.py [--seeds 3] [--controls 1] [--out /tmp/curvelint-verify-bench]
                                [--json FILE] [--only NAME] [--set bench|bench2|all|examples]

The experiments were written once, from their fault descriptions, before this benchmark was run;
they are not adjusted to its results.

Measured on 2026-12-07 (2 shared cores, TF 2.21 CPU, 3 seeds, 1 control each, 438 s in all),
after verify began to require a problem most baseline seeds show:

- top remedy verified as resolved/improved: 9/11 = 82% of the faults its usual remedy should fix
  (target 85%: not met); 9/9 = 100% of those where most baseline seeds showed a problem with a
  testable top remedy. The two faults not verified: ``cancer_unscaled`` (no problem diagnosed
  in the baseline: SGD on the raw features trained acceptably) and ``seq_conv1d_lr_high`` (Adam
  at 0.2 learned the task to a loss of 0.001 anyway; "oscillation" in 1 of 3 seeds is not a
  problem of the setup, so nothing is verified; before that rule, lowering the learning rate
  was verified against it and rightly measured as worse).
- where the usual remedy is wrong (``wine_dead_relu``: dead ReLUs that look like a plateau),
  raise-lr was measured as worse; the random control lower-lr resolved it.
- random controls resolved/improved: 2/10 = 20% (target 20%): adam on the SGD plateau of
  ``cancer_sgd_lr_low`` (a real fix) and lower-lr on ``wine_dead_relu`` (the right fix).
- a verification took 4.8x to 17.4x one baseline run (mean 10.9x): these baselines train in 1.5
  to 8 s, so starting the training process (it imports TensorFlow) and the dose ladder (up to 3
  doses of 3 seeds) weigh heavily.

Re-run on 2026-12-07 after the diagnosis changes of the fourth sitting (989 s in all, on a
machine shared with other work): the same verdicts for all twelve experiments (9/11 = 82%;
controls 2/10 = 20%); a verification took 4.1x to 19.2x one baseline run (mean 10.1x).

Set ``bench2`` measured on 2026-12-08 (2 cores shared with other work, TF 2.21 CPU, 3 seeds, 1
control each, 680 s in all), its one run after the files were final:

- top remedy verified as resolved/improved: 6/7 = 86% of the faults its usual remedy should fix
  (target 85%: met, by one case; with seven cases one miss moves it 14 points). The miss:
  ``quantiles_deep_sigmoid`` (vanishing gradients through 8 sigmoid layers, diagnosed as a
  plateau): raise-lr had no effect at x10 and x100; at x1000 the plateau was gone but the held-out
  loss was higher in 3/3 seeds (+84%), which the rule calls "no effect" because the 95% interval
  of 3 seeds includes 0. The file's guess that a higher learning rate helps was wrong.
- where the usual remedy is wrong (``digits_conv2d_shuffled_labels``: labels shuffled apart from
  the images, which looks like a plateau), raise-lr was measured as worse (+4.0%).
- random controls resolved/improved: 2/8 = 25% (target 20%: not met): adam on
  ``circles_batch2_sgd`` and lr-schedule on ``tokens_transformer_overfit``, both resolved, with
  the held-out loss lower in 3/3 seeds by about as much as the top remedy's (-67% against -66%,
  -54% against -55%). Both act on the fault (Adam at 1e-3 is also a much smaller step than SGD
  at 0.05 with momentum; ReduceLROnPlateau on the validation loss slows the memorising), so
  they look like real effects, not noise; the 20% target assumes controls that do not.
- a verification took 8.1x to 32.4x one baseline run (mean 14.3x); the 32.4x is the autoencoder,
  whose baseline stops at its first NaN (0.9 s).

``--set all`` on 2026-12-08 (the same machine, 1245 s in all): bench gave the same verdicts as
before (9/11 = 82%; controls 2/10 = 20%) and bench2 the same verdicts and changes as its run
above; combined, the top remedy was verified as resolved/improved for 15/18 = 83% of the faults
its usual remedy should fix (target 85%: not met; 15/16 = 94% of those with a testable top
remedy), the wrong remedy was measured as worse in both sets' such case, random controls helped
in 4/18 = 22% (target 20%: not met), and a verification took 4.2x to 29.9x one baseline run
(mean 12.3x).
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.verify.decide import pct  # noqa: E402

SETS = {
    "bench": ROOT / "fixtures" / "experiments" / "bench",
    "bench2": ROOT / "fixtures" / "experiments" / "bench2",
    "examples": ROOT / "fixtures" / "experiments",
}
GROUPS = {"all": ("bench", "bench2")}  # --set names that run several sets, each reported apart
EXAMPLE_FAULTS = {  # the older example experiments (no FAULT/EXPECT in their files)
    "lr_too_high.py": ("learning rate far too high", "helps"),
    "overfit_tiny.py": ("big network on a tiny subset", "helps"),
    "lr_too_low.py": ("learning rate far too low", "helps"),
    "unnormalized.py": ("unscaled inputs", "helps"),
    "dead_lr_too_high.py": ("learning rate so high the ReLUs die", "does not help"),
}
HELPED = ("resolved", "improved")


def _constants(path: Path) -> dict[str, str]:
    """FAULT and EXPECT of an experiment file, read without importing it."""
    out = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for t in node.targets:
                if isinstance(t, ast.Name) and t.id in ("FAULT", "EXPECT"):
                    out[t.id] = str(node.value.value)
    return out


def experiments(which: str) -> list[tuple[str, Path, str, str]]:
    """(set, file, FAULT, EXPECT) of every experiment of a set, or of each set of a group."""
    if which in GROUPS:
        return [row for name in GROUPS[which] for row in experiments(name)]
    if which == "examples":
        return [("examples", SETS["examples"] / n, f, e) for n, (f, e) in EXAMPLE_FAULTS.items()]
    rows = []
    for p in sorted(SETS[which].glob("*.py")):
        if p.name.startswith("_"):
            continue
        c = _constants(p)
        rows.append((which, p, c.get("FAULT", "?"), c.get("EXPECT", "helps")))
    return rows


def summarise(rows: list[dict], label: str, seeds: int, controls: int) -> None:
    """The measures of the benchmark over some rows, printed under a label."""
    print(f"== {label}: {len(rows)} experiments, seeds {seeds}, random controls {controls} each")
    should = [r for r in rows if r["expect"] == "helps"]
    tested = [r for r in should if r["top"]]
    helped = [r for r in tested if r["top_verdict"] in HELPED]
    print(
        f"faults the usual remedy should fix: {len(should)}; with a diagnosis and an applicable "
        f"top remedy: {len(tested)}"
    )
    if should:
        print(
            f"top remedy verified as resolved/improved: {len(helped)}/{len(should)} = "
            f"{len(helped) / len(should):.0%} of those faults (target >= 85%)"
            + (
                f"; {len(helped)}/{len(tested)} = {len(helped) / len(tested):.0%} of those with "
                "a testable top remedy"
                if tested and len(tested) != len(should)
                else ""
            )
        )
    wrong = [r for r in rows if r["expect"] != "helps"]
    for r in wrong:
        print(
            f"usual remedy wrong ({r['experiment']}): top {r['top'] or '-'} -> "
            f"{r['top_verdict'] or '-'} (should not help)"
        )
    all_ctl = [v for r in rows for v in r["controls"].values()]
    ctl_helped = [v for v in all_ctl if v in HELPED]
    if all_ctl:
        print(
            f"random controls resolved/improved:    {len(ctl_helped)}/{len(all_ctl)} = "
            f"{len(ctl_helped) / len(all_ctl):.0%} (target <= 20%)"
        )
    rel = [r["relative_time"] for r in rows if r["relative_time"]]
    if rel:
        print(
            f"verification wall time: {min(rel):.1f}x to {max(rel):.1f}x one baseline run "
            f"(mean {sum(rel) / len(rel):.1f}x; {seeds} seeds x (baseline + top remedy with "
            f"its dose ladder + {controls} control), plus starting the training process)"
        )
    failures = [r for r in rows if r["failure"]]
    if failures:
        print(f"verifications that could judge nothing: {len(failures)}")
        for r in failures:
            print(f"  {r['experiment']}: {r['failure'].splitlines()[0]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument(
        "--controls", type=int, default=1, help="random control remedies per experiment"
    )
    ap.add_argument("--out", default="/tmp/curvelint-verify-bench")
    ap.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    ap.add_argument("--only", metavar="NAME", help="only experiments whose file name contains NAME")
    ap.add_argument("--set", choices=sorted(SETS) + sorted(GROUPS), default="bench")
    args = ap.parse_args(argv)

    from analyzer.verify.outputs import write_outputs
    from analyzer.verify.runner import Plan, verify

    rows = []
    t0 = time.monotonic()
    for set_name, path, fault, expect in experiments(args.set):
        if args.only and args.only not in path.name:
            continue
        out = Path(args.out) / set_name / path.stem
        if out.exists():
            shutil.rmtree(out)
        res = verify(
            Plan(
                experiment=path,
                out=out,
                seeds=tuple(range(args.seeds)),
                epochs=args.epochs,
                n_controls=args.controls,
            )
        )
        write_outputs(res)  # verify.json and verify.html next to the logs
        top = res.verdict_for(res.top)
        ctls = [v for c in res.controls if (v := res.verdict_for(c)) is not None]
        b = res.baseline_seconds()
        rows.append(
            {
                "set": set_name,
                "experiment": path.name,
                "fault": fault,
                "expect": expect,
                "failure": res.failure,
                "diagnosis": res.target.kind if res.target else None,
                "code": res.target.code if res.target else None,
                "top": res.top,
                "top_verdict": top.verdict if top else None,
                "top_dose": top.dose if top else None,
                "top_change": None if top is None else round(top.rel_change, 3),
                "controls": {v.remedy: v.verdict for v in ctls},
                "seconds": round(res.seconds, 1),
                "baseline_seconds": round(b, 1) if b == b else None,
                "relative_time": round(res.seconds / b, 2) if b == b and b > 0 else None,
            }
        )
        r = rows[-1]
        dose = f" x{10 ** r['top_dose']}" if r["top_dose"] and r["top_dose"] > 1 else ""
        change = "" if r["top_change"] is None else f" ({pct(r['top_change'])})"
        ctl = ", ".join(f"{k} {v}" for k, v in r["controls"].items()) or "-"
        rel = f"{r['relative_time']:.1f}x" if r["relative_time"] else "-"
        print(
            f"{set_name + '/' + path.stem:<36} {r['diagnosis'] or '-':<12} top {(r['top'] or '-') + dose:<18} "
            f"{r['top_verdict'] or (r['failure'] and 'FAILURE') or '-':<12}{change:<10} "
            f"[{expect}]  control: {ctl:<30} {r['seconds']:>6.1f}s = {rel} baseline",
            flush=True,
        )

    names = list(dict.fromkeys(r["set"] for r in rows))
    for name in names:
        print()
        summarise([r for r in rows if r["set"] == name], name, args.seeds, args.controls)
    if len(names) > 1:
        print()
        summarise(rows, " + ".join(names) + " combined", args.seeds, args.controls)
    print(f"total {time.monotonic() - t0:.0f}s")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
