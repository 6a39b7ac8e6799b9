"""``curvelint curves``: list the runs, formats, curves and their roles."""

from __future__ import annotations

import json
import sys

from ..findings import FRAMEWORK_LABELS, step_range
from .common import (
    EXIT_OK,
    EXIT_USAGE,
    add_path_arguments,
    check_output,
    load_or_fail,
    single_threaded_blas,
    write_output,
)


def add_curves_parser(sub) -> None:
    p = sub.add_parser(
        "curves",
        help="list the runs, formats, curves and their roles",
        description="List every run found under PATH: format, files, tags with "
        "their roles (train/val loss, metrics, learning rate) and reader notes.",
    )
    add_path_arguments(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument(
        "--all-skipped",
        action="store_true",
        help="list every skipped file (default: group them by reason)",
    )
    p.set_defaults(func=cmd_curves)


def render_curves_text(result, all_skipped: bool = False) -> str:
    lines: list[str] = []
    for run in result.runs:
        steps = run.frame["step"]
        lines.append(
            f"{run.id}  [{run.format}]  {len(run.files)} file(s), {len(run.frame):,} points, "
            f"steps {step_range(int(steps.min()), int(steps.max()))}"
        )
        for reason in run.roles.reasons:
            lines.append(f"  · {reason}")
        rows = run.tag_table()
        w = max([len(r["tag"]) for r in rows] + [3])
        lines.append(f"    {'tag':<{w}}  {'role':<12} {'dir':<4} {'points':>8}  steps")
        for r in rows:
            nf = f" ({r['nonfinite']} non-finite)" if r["nonfinite"] else ""
            lines.append(
                f"    {r['tag']:<{w}}  {r['role']:<12} {r['direction'] or '-':<4} {r['points']:>8,}  "
                f"{step_range(r['first_step'], r['last_step'])}{nf}"
            )
        for note in run.notes:
            lines.append(f"  note: {note}")
        setup = run.setup
        said = [
            f"{name} {v}"
            for name, v in (
                ("optimizer", setup.optimizer),
                ("batch size", setup.batch_size),
                ("lr", setup.lr),
            )
            if v is not None
        ]
        if setup.framework or said:
            lines.append(
                f"  setup: {FRAMEWORK_LABELS.get(setup.framework or '', 'framework unknown')}"
                + "".join(f", {x}" for x in said)
            )
        if run.hparams:
            hp = ", ".join(f"{k}={v}" for k, v in list(run.hparams.items())[:8])
            lines.append(f"  hparams: {hp}{' ...' if len(run.hparams) > 8 else ''}")
        lines.append("")
    if result.skipped:
        lines.append(f"skipped {len(result.skipped)} path(s):")
        if all_skipped or len(result.skipped) <= 15:
            for s in result.skipped:
                lines.append(f"  {s.path}: {s.reason}")
        else:
            by_reason: dict[str, list[str]] = {}
            for s in result.skipped:
                by_reason.setdefault(s.reason, []).append(s.path)
            for reason, paths in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
                more = f" and {len(paths) - 2} more" if len(paths) > 2 else ""
                lines.append(f"  {reason}: {', '.join(paths[:2])}{more}")
            lines.append("  (--all-skipped lists every one)")
    lines.append(f"{len(result.runs)} run(s) read, {len(result.skipped)} path(s) skipped")
    from ..report.text import escape_controls

    return "\n".join(escape_controls(line) for line in lines) + "\n"


def cmd_curves(args) -> int:
    single_threaded_blas()  # before the readers import numpy (as check does)
    check_output(args.output, args.paths)
    result = load_or_fail(args.paths, args.train_loss, args.val_loss, args.input_format)
    if args.format == "json":
        doc = {
            "version": 1,
            "runs": [r.to_dict() for r in result.runs],
            "skipped": [s.to_dict() for s in result.skipped],
        }
        write_output(json.dumps(doc, indent=2, allow_nan=False) + "\n", args.output)
    else:
        write_output(render_curves_text(result, args.all_skipped), args.output)
    if not result.runs:
        print(
            f"curvelint: nothing readable under {', '.join(args.paths)}"
            + (f" ({len(result.skipped)} path(s) skipped, see above)" if result.skipped else ""),
            file=sys.stderr,
        )
        return EXIT_USAGE
    return EXIT_OK
