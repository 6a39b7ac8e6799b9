"""Benchmark of `curvelint verify` on the fault-injected example experiments.

For every experiment in fixtures/experiments/ that carries a fault, run a default verification
(the baseline, the top testable remedy of curvelint's diagnosis, and one random remedy from the
catalog as a control, all with the same seeds and epoch budget) and report:

- the share of diagnosed problems whose top remedy is verified as resolved or improved (target:
  at least 80%), next to the same share for the random control;
- the wall time of a whole verification relative to one baseline training run.

Needs TensorFlow and scikit-learn. Usage::

    python benchmarks/verify.py [--seeds 2] [--out /tmp/curvelint-verify-bench] [--json FILE]
                                [--only NAME]

Measured on 2026-11-26 (2 shared cores, TF 2.21 CPU, 2 seeds):

- ``--controls 1``: top remedy resolved/improved 4/4 (lr_too_high -> lower-lr, overfit_tiny ->
  early-stopping, lr_too_low -> raise-lr, unnormalized -> normalize-inputs, all "resolved");
  random control 1/4; a verification took 4.7x to 6.7x one baseline run (mean 6.1x).
- ``--controls 3`` with dead_lr_too_high added: top remedy 4/5 = 80% (raise-lr on the dead-ReLU
  plateau is rightly reported "worse", and the random control lower-lr "resolved" it); the first
  random control 1/5, all 15 random controls 5/15 = 33%.

The control is random by design, so its share over a handful of experiments is noisy: read it as
"do random repairs also help here?", not as a precise rate.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXPERIMENTS = {  # file -> the fault injected (for the table; the diagnosis is curvelint's own)
    "lr_too_high.py": "learning rate far too high",
    "overfit_tiny.py": "big network on a tiny subset",
    "lr_too_low.py": "learning rate far too low",
    "unnormalized.py": "unscaled inputs",
    "dead_lr_too_high.py": "learning rate so high the ReLUs die (looks like a plateau)",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument(
        "--controls",
        type=int,
        default=1,
        help="random control remedies per experiment (more gives a steadier control rate)",
    )
    ap.add_argument("--out", default="/tmp/curvelint-verify-bench")
    ap.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    ap.add_argument("--only", metavar="NAME", help="only experiments whose file name contains NAME")
    args = ap.parse_args(argv)

    from analyzer.verify.outputs import write_outputs
    from analyzer.verify.runner import Plan, verify

    rows = []
    t0 = time.monotonic()
    for name, fault in EXPERIMENTS.items():
        if args.only and args.only not in name:
            continue
        out = Path(args.out) / Path(name).stem
        if out.exists():
            shutil.rmtree(out)
        res = verify(
            Plan(
                experiment=ROOT / "fixtures" / "experiments" / name,
                out=out,
                seeds=tuple(range(args.seeds)),
                epochs=args.epochs,
                n_controls=args.controls,
            )
        )
        write_outputs(res)  # verify.json and verify.html next to the logs
        top, ctl = res.verdict_for(res.top), res.verdict_for(res.control)
        ctls = [res.verdict_for(c) for c in res.controls]
        rows.append(
            {
                "experiment": name,
                "fault": fault,
                "diagnosis": res.target.kind if res.target else None,
                "code": res.target.code if res.target else None,
                "top": res.top,
                "top_verdict": top.verdict if top else None,
                "top_change": None if top is None else round(top.rel_change, 3),
                "control": res.control,
                "control_verdict": ctl.verdict if ctl else None,
                "control_change": None if ctl is None else round(ctl.rel_change, 3),
                "controls": {v.remedy: v.verdict for v in ctls if v is not None},
                "seconds": round(res.seconds, 1),
                "baseline_seconds": round(res.baseline_seconds(), 1),
                "relative_time": round(res.seconds / res.baseline_seconds(), 2),
            }
        )
        r = rows[-1]
        print(
            f"{name:<18} {r['diagnosis'] or '-':<12} top {r['top'] or '-':<16} "
            f"{r['top_verdict'] or '-':<10} ({r['top_change']:+.0%})  control "
            f"{r['control'] or '-':<16} {r['control_verdict'] or '-':<10} "
            f"{r['seconds']:>6.1f}s = {r['relative_time']:.1f}x baseline",
            flush=True,
        )

    diagnosed = [r for r in rows if r["diagnosis"] and r["top"]]
    helped = [r for r in diagnosed if r["top_verdict"] in ("resolved", "improved")]
    ctl = [r for r in diagnosed if r["control"]]
    ctl_helped = [r for r in ctl if r["control_verdict"] in ("resolved", "improved")]
    all_ctl = [v for r in diagnosed for v in r["controls"].values()]
    all_ctl_helped = [v for v in all_ctl if v in ("resolved", "improved")]
    rel = [r["relative_time"] for r in rows]
    print()
    print(f"diagnosed problems with a testable top remedy: {len(diagnosed)}/{len(rows)}")
    if diagnosed:
        print(
            f"top remedy verified as resolved/improved: {len(helped)}/{len(diagnosed)} "
            f"= {len(helped) / len(diagnosed):.0%} (target >= 80%)"
        )
    if ctl:
        print(
            f"random control resolved/improved:        {len(ctl_helped)}/{len(ctl)} "
            f"= {len(ctl_helped) / len(ctl):.0%}"
        )
    if len(all_ctl) > len(ctl):
        print(
            f"all {len(all_ctl)} random controls resolved/improved: {len(all_ctl_helped)}/"
            f"{len(all_ctl)} = {len(all_ctl_helped) / len(all_ctl):.0%}"
        )
    if rel:
        print(
            f"verification wall time: {min(rel):.1f}x to {max(rel):.1f}x one baseline run "
            f"(mean {sum(rel) / len(rel):.1f}x; {args.seeds} seeds x (baseline + top + {args.controls} control))"
        )
    print(f"total {time.monotonic() - t0:.0f}s")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
