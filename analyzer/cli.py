"""Command line: ``curvelint curves|check|rules|rule``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .watch import add_watch_parser

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="log folders or files")
    p.add_argument("--train-loss", metavar="TAG", help="tag to use as the training loss")
    p.add_argument("--val-loss", metavar="TAG", help="tag to use as the validation loss")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curvelint",
        description="Static analysis of deep-learning training logs: finds plateaus, oscillation, "
        "overfitting and divergence in loss curves and says what to change.",
    )
    parser.add_argument("--version", action="version", version=f"curvelint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "curves",
        help="list the runs, formats, curves and their roles",
        description="List every run found under PATH: format, files, tags with "
        "their roles (train/val loss, metrics, learning rate) and reader notes.",
    )
    _add_common(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument(
        "--all-skipped",
        action="store_true",
        help="list every skipped file (default: group them by reason)",
    )

    try:
        from .check_cli import add_check_parsers
    except ImportError:  # pragma: no cover - during bootstrap
        add_check_parsers = None
    if add_check_parsers is not None:
        add_check_parsers(sub, _add_common)
    add_watch_parser(sub)
    try:
        from .verify.cli import add_verify_parser
    except ImportError:  # pragma: no cover - during bootstrap
        add_verify_parser = None
    if add_verify_parser is not None:
        add_verify_parser(sub)
    return parser


def check_output(output: str | None, inputs: Sequence[str]) -> None:
    """Refuse, before any work, an output path that cannot be written or that is one of the
    logs being read; warn when it lies inside a log folder (curvelint never writes there on its
    own). Raises UsageError (exit 2) with a one-line reason."""
    if not output:
        return
    out = Path(output)
    if out.is_dir():
        raise UsageError(f"-o {output}: is a folder; give a file name")
    target = out.resolve()
    if not target.parent.is_dir():
        raise UsageError(f"-o {output}: the folder {target.parent} does not exist")
    for i in inputs:
        src = Path(i).resolve()
        if target == src or (src.is_dir() and out.exists() and src in target.parents):
            raise UsageError(
                f"-o {output}: refusing to overwrite a file under the logs being read ({i})"
            )
        if src.is_dir() and src in target.parents:
            print(
                f"curvelint: warning: writing {output} inside the log folder {i}",
                file=sys.stderr,
            )


def _write(text: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot write {output}: {e.strerror or e}") from e
    else:
        sys.stdout.write(text)


def _fmt_range(a, b) -> str:
    if a is None:
        return "-"
    return f"{a:,}" if a == b else f"{a:,}–{b:,}"


def render_curves_text(result, all_skipped: bool = False) -> str:
    lines: list[str] = []
    for run in result.runs:
        steps = run.frame["step"]
        lines.append(
            f"{run.id}  [{run.format}]  {len(run.files)} file(s), {len(run.frame):,} points, "
            f"steps {_fmt_range(int(steps.min()), int(steps.max()))}"
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
                f"{_fmt_range(r['first_step'], r['last_step'])}{nf}"
            )
        for note in run.notes:
            lines.append(f"  note: {note}")
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
    from .report.text import escape_controls

    return "\n".join(escape_controls(line) for line in lines) + "\n"


def load_or_fail(args):
    from .runs import load

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    return load(args.paths, train_loss=args.train_loss, val_loss=args.val_loss)


def cmd_curves(args) -> int:
    check_output(args.output, args.paths)
    result = load_or_fail(args)
    if args.format == "json":
        doc = {
            "version": 1,
            "runs": [r.to_dict() for r in result.runs],
            "skipped": [s.to_dict() for s in result.skipped],
        }
        _write(json.dumps(doc, indent=2, allow_nan=False) + "\n", args.output)
    else:
        _write(render_curves_text(result, args.all_skipped), args.output)
    if not result.runs:
        print(
            f"curvelint: nothing readable under {', '.join(args.paths)}"
            + (f" ({len(result.skipped)} path(s) skipped, see above)" if result.skipped else ""),
            file=sys.stderr,
        )
        return EXIT_USAGE
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "curves":
            return cmd_curves(args)
        return args.func(args)
    except UsageError as e:
        print(f"curvelint: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `curvelint ... | head`
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
