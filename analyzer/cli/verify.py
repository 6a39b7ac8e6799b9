"""``curvelint verify EXPERIMENT.py``: re-run a Keras experiment with the suggested remedy and say,
over several seeds, whether it helped. The command line only: training, deciding and writing the
outputs are in :mod:`analyzer.verify`.

Exit status: 0 when any verified remedy (not a random control) resolved or improved the problem
(the summary says which), or there was nothing to fix; 1 when none did; 2 when nothing could be
judged (a baseline run failed, hung, was cut short or logged no validation loss; the finished runs
are in verify.json), when every remedy tried failed, and for usage errors, a broken experiment
file, or no TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_NOT_HELPED, EXIT_OK, EXIT_USAGE, UsageError


def add_verify_parser(sub: Any) -> None:
    """Register the ``verify`` subcommand on an argparse subparsers object."""
    p = sub.add_parser(
        "verify",
        help="re-run a Keras experiment with the suggested remedy and check that it helps",
        description="Train the experiment's baseline and the remedied versions with the same "
        "seeds and budget, diagnose every run with curvelint (a problem is verified when more "
        "than half of the baseline seeds show one), and decide per remedy: resolved, "
        "improved, no effect, worse or not applied (curves identical to the baseline's), stating "
        "the rule that decided and its numbers. Remedies are judged on held-out data no callback "
        "saw: the experiment's 'test' split, else half of the validation data. Learning-rate "
        "remedies climb a dose ladder (x10, x100, x1000) until one resolves the problem or makes "
        "it worse. A random remedy from the catalog runs as a control. Each run trains in a "
        "child process under a wall-clock limit. Needs TensorFlow (pip install "
        "'curvelint[tf]'). The experiment file defines experiment(hp) -> {'model', 'train', "
        "'val', 'test' (optional), 'fit', 'compile'}; see analyzer/verify/experiment.py. "
        "Exit status: 0 when any remedy resolved or improved the problem (or nothing needed "
        "fixing), 1 when none did, 2 when nothing could be judged or on errors.",
    )
    p.add_argument("experiment", metavar="EXPERIMENT.py", help="file defining experiment(hp)")
    p.add_argument(
        "--run",
        metavar="LOGDIR/RUN",
        help="diagnose this existing run instead of the freshly trained baseline",
    )
    p.add_argument(
        "--remedy",
        metavar="ID",
        nargs="+",
        action="extend",
        help="remedy id(s) to verify (default: the top testable remedy of the diagnosis)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="epochs per run (default: the experiment's hp.get('epochs', ...) default, else 30)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=3,
        metavar="K",
        help="seeds per arm (default 3; the 95%% interval needs 2, and is wide below 4)",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        default="curvelint-verify",
        help="folder for the TensorBoard logs, verify.json and verify.html "
        "(default: ./curvelint-verify); must be empty or new",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier verification in the -o folder (only a folder curvelint verify "
        "made; any other non-empty folder is refused)",
    )
    p.add_argument("--max-minutes", type=float, metavar="M", help="time budget for everything")
    p.add_argument(
        "--run-timeout",
        type=float,
        metavar="S",
        help="wall-clock limit of one training run in seconds; a run past it is killed and "
        "reported (default: 5x the slowest baseline run, at least 60 s; 1 hour for the first "
        "baseline run)",
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument(
        "--metric",
        choices=["end", "best"],
        default="end",
        help="compare the held-out loss of the weights training ends with (default) or the "
        "held-out loss at the epoch with the best validation loss",
    )
    p.add_argument(
        "--min-effect",
        type=float,
        default=0.02,
        metavar="F",
        help="smallest relative change of the loss that counts (default 0.02)",
    )
    p.add_argument("--no-control", action="store_true", help="skip the random-remedy control")
    p.add_argument(
        "--no-ladder",
        action="store_true",
        help="try the learning-rate remedies at x10 only, not x100 and x1000",
    )
    p.set_defaults(func=cmd_verify)


def render_text(result: Any) -> str:
    """A short human summary of a verification."""
    from ..verify.decide import pct

    lines = [f"curvelint verify {result.experiment}: {result.epochs} epochs, seeds {result.seeds}"]
    if result.target:
        lines.append(f"diagnosis ({result.target.source}): {result.target.message}")
    if result.judged_on:
        lines.append(f"judged on: {result.judged_on}")
    if result.failure:
        lines.append(f"\nNOTHING CAN BE JUDGED: {result.failure}")
    for v in result.verdicts:
        ch = result.changes.get(v.arm or v.remedy)
        tag = " (random control)" if v.control else ""
        lines.append(f"\n{v.remedy}{tag}: {v.verdict.upper()}")
        if ch:
            lines.append(f"  change:  {ch.description}")
        lines.append(f"  why:     {v.reason}")
        if v.verdict not in ("failed", "inconclusive"):
            ci = (
                "no interval (1 seed)"
                if v.ci_low is None
                else f"95% CI [{pct(v.ci_low)}, {pct(v.ci_high)}]"
            )
            lines.append(
                f"  numbers: {v.metric} held-out loss, arithmetic mean ± sd over {v.n_pairs} "
                f"seeds: baseline {_f(v.baseline_mean)} ± {_f(v.baseline_std)}, remedy "
                f"{_f(v.remedy_mean)} ± {_f(v.remedy_std)}; change (geometric mean of the "
                f"per-seed ratios) {pct(v.rel_change)}, {ci}; sign test p={v.sign_p:.2g}"
            )
        for n in v.notes:
            lines.append(f"  note:    {n}")
    for rid, why in result.not_applicable.items():
        lines.append(f"\nnot applicable: {rid}: {why}")
    for n in result.notes:
        lines.append(f"note: {n}")
    lines.append("\n" + _status_line(result))
    b = result.baseline_seconds()
    rel = f" ({result.seconds / b:.1f}x one baseline run)" if b and not math.isnan(b) else ""
    lines.append(
        f"{result.seconds:.0f}s{rel}; logs, verify.json, verify.html and report.html in {result.out}"
    )
    return "\n".join(lines) + "\n"


def _f(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else str(x)


def exit_status(result: Any) -> int:
    """0 when any remedy (not a control) helped, or nothing needed fixing; 2 when nothing could
    be judged or every remedy tried failed; else 1."""
    if result.failure:
        return EXIT_USAGE
    main = [v for v in result.verdicts if not v.control]
    if any(v.helped for v in main):
        return EXIT_OK
    if not main:
        return EXIT_OK if result.target is None or result.target.kind is None else EXIT_NOT_HELPED
    if all(v.verdict == "failed" for v in main):
        return EXIT_USAGE
    return EXIT_NOT_HELPED


def _status_line(result: Any) -> str:
    code = exit_status(result)
    helped = [v for v in result.verdicts if not v.control and v.helped]
    if result.failure:
        return f"exit {code}: nothing can be judged (see above)"
    if helped:
        which = ", ".join(
            f"{v.remedy}{'' if v.dose == 1 else f' at x{10**v.dose}'} {v.verdict}" for v in helped
        )
        return f"exit {code}: {which}"
    main = [v for v in result.verdicts if not v.control]
    if not main:
        return f"exit {code}: no remedy verified"
    if code == EXIT_USAGE:
        return f"exit {code}: every remedy tried failed"
    return f"exit {code}: no remedy tried resolved or improved the problem"


def cmd_verify(args: argparse.Namespace) -> int:
    from ..verify.experiment import ExperimentError
    from ..verify.outputs import write_outputs
    from ..verify.runner import Plan, TensorFlowMissing, VerifyError, require_tf, verify

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter off stderr
    try:
        require_tf()
    except TensorFlowMissing as e:
        raise UsageError(str(e)) from e
    if args.seeds < 1:
        raise UsageError("--seeds must be at least 1")
    if args.epochs is not None and args.epochs < 2:
        raise UsageError("--epochs must be at least 2")
    if args.run_timeout is not None and args.run_timeout <= 0:
        raise UsageError("--run-timeout must be positive")
    plan = Plan(
        experiment=Path(args.experiment),
        out=Path(args.output),
        seeds=tuple(range(args.seeds)),
        epochs=args.epochs,
        remedies=tuple(args.remedy or ()),
        run=Path(args.run) if args.run else None,
        control=not args.no_control,
        max_minutes=args.max_minutes,
        metric=args.metric,
        min_effect=args.min_effect,
        overwrite=args.overwrite,
        run_timeout=args.run_timeout,
        ladder=not args.no_ladder,
    )
    try:
        result = verify(plan)
    except (ExperimentError, VerifyError) as e:
        raise UsageError(str(e)) from e
    j, h = write_outputs(result)
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n")
    else:
        sys.stdout.write(render_text(result))
    print(f"curvelint: wrote {j} and {h}", file=sys.stderr)
    if result.failure:
        print(f"curvelint verify: nothing can be judged: {result.failure}", file=sys.stderr)
    return exit_status(result)
