"""``curvelint verify EXPERIMENT.py``: re-run a Keras experiment with the suggested remedy and say,
over several seeds, whether it helped. The command line only: training, deciding and writing the
outputs are in :mod:`analyzer.verify`.

Exit status: 0 when the first verified remedy resolved or improved the problem (or there was
nothing to fix), 1 when it did not, 2 for usage errors, a broken experiment file, or no TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_NOT_HELPED, EXIT_OK, UsageError


def add_verify_parser(sub: Any) -> None:
    """Register the ``verify`` subcommand on an argparse subparsers object."""
    p = sub.add_parser(
        "verify",
        help="re-run a Keras experiment with the suggested remedy and check that it helps",
        description="Train the experiment's baseline and the remedied versions with the same "
        "seeds and budget, diagnose every run with curvelint, and decide per remedy: resolved, "
        "improved, no effect or worse, with the effect size over the seeds. A random remedy from "
        "the catalog runs as a control. Needs TensorFlow (pip install 'curvelint[tf]'). "
        "The experiment file defines experiment(hp) -> {'model', 'train', 'val', 'fit', "
        "'compile'}; see analyzer/verify/experiment.py.",
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
    p.add_argument("--seeds", type=int, default=2, metavar="K", help="seeds per arm (default 2)")
    p.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        default="curvelint-verify",
        help="folder for the TensorBoard logs, verify.json and verify.html "
        "(default: ./curvelint-verify)",
    )
    p.add_argument("--max-minutes", type=float, metavar="M", help="time budget for everything")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument(
        "--metric",
        choices=["end", "best"],
        default="end",
        help="compare the validation loss of the weights training ends with (default) or the "
        "best validation loss seen",
    )
    p.add_argument(
        "--min-effect",
        type=float,
        default=0.02,
        metavar="F",
        help="smallest relative change of the loss that counts (default 0.02)",
    )
    p.add_argument("--no-control", action="store_true", help="skip the random-remedy control")
    p.set_defaults(func=cmd_verify)


def render_text(result: Any) -> str:
    """A short human summary of a verification."""
    lines = [f"curvelint verify {result.experiment}: {result.epochs} epochs, seeds {result.seeds}"]
    if result.target:
        lines.append(f"diagnosis ({result.target.source}): {result.target.message}")
    for v in result.verdicts:
        ch = result.changes.get(v.remedy)
        tag = " (random control)" if v.control else ""
        lines.append(f"\n{v.remedy}{tag}: {v.verdict.upper()}")
        if ch:
            lines.append(f"  change:  {ch.description}")
        lines.append(f"  why:     {v.reason}")
        ci = "" if v.ci_low is None else f", 95% CI [{v.ci_low:+.0%}, {v.ci_high:+.0%}]"
        lines.append(
            f"  numbers: {v.metric} val loss baseline {_f(v.baseline_mean)} ± {_f(v.baseline_std)}"
            f", remedy {_f(v.remedy_mean)} ± {_f(v.remedy_std)}, change {v.rel_change:+.1%}{ci}, "
            f"sign test p={v.sign_p:.2g}"
        )
        for n in v.notes:
            lines.append(f"  note:    {n}")
    for rid, why in result.not_applicable.items():
        lines.append(f"\nnot applicable: {rid}: {why}")
    for n in result.notes:
        lines.append(f"note: {n}")
    b = result.baseline_seconds()
    rel = f" ({result.seconds / b:.1f}x one baseline run)" if b and not math.isnan(b) else ""
    lines.append(
        f"\n{result.seconds:.0f}s{rel}; logs, verify.json, verify.html and report.html in {result.out}"
    )
    return "\n".join(lines) + "\n"


def _f(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else str(x)


def exit_status(result: Any) -> int:
    """0 when the first non-control remedy helped or nothing needed fixing, else 1."""
    main = [v for v in result.verdicts if not v.control]
    if not main:
        return EXIT_OK if result.target is None or result.target.kind is None else EXIT_NOT_HELPED
    return EXIT_OK if main[0].helped else EXIT_NOT_HELPED


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
    return exit_status(result)
