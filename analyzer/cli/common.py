"""What the sub-commands share: exit codes, ``UsageError``, the path arguments, output files.

Imports nothing heavy: ``curvelint --help`` loads this module to build the parser.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engine import Options
    from ..runs import LoadResult

#: exit codes of every sub-command
EXIT_OK = 0
EXIT_FINDINGS = 1  # check: a finding reached --fail-on
EXIT_NOT_HELPED = 1  # verify: the remedy did not help
EXIT_USAGE = 2  # usage errors, bad config or options, nothing readable
EXIT_INTERRUPTED = 130  # Ctrl-C (watch stops on Ctrl-C with EXIT_OK)


#: the thread-count variables of the BLAS libraries numpy may be built with (OpenBLAS, MKL,
#: OpenMP builds); read once, when numpy loads its BLAS
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def single_threaded_blas() -> None:
    """Ask numpy's BLAS for one thread, unless the user set its thread count: call before numpy
    is imported (the sub-commands import it when they run), so it holds for this process and
    the worker processes it starts. curvelint multiplies small matrices (curves of a few
    thousand points), where a BLAS thread pool costs more CPU than it saves: its idle threads
    spin, and on the sweep of ``benchmarks/scale.py`` they doubled the CPU time of ``check -j 1``
    (``--jobs`` is how curvelint uses more cores). No effect once numpy is loaded."""
    for var in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(var, "1")


class UsageError(Exception):
    """A mistake of the user's: ``main`` prints ``curvelint: <message>`` and exits 2."""


#: ``--input-format`` values: the readers' format names and their short aliases (kept equal to
#: analyzer.readers.FORMATS/FORMAT_ALIASES by a test; written out so that --help stays light)
INPUT_FORMATS = (
    "tb",
    "tensorboard",
    "keras-csv",
    "lightning",
    "lightning-csv",
    "ultralytics",
    "ultralytics-csv",
    "csv",
    "jsonl",
    "hf",
    "hf-trainer-state",
    "text",
    "wandb",
)


def add_path_arguments(p: argparse.ArgumentParser, *, urls: bool = False) -> None:
    """PATH... and the role overrides, as ``curves`` and ``check`` take them (``urls``: remote
    folders too)."""
    what = "log folders or files"
    if urls:
        what += (
            ", or URLs of remote log folders (s3://bucket/runs, gs://..., memory://...; "
            "needs curvelint[remote]: read through fsspec, never written)"
        )
    p.add_argument("paths", nargs="+", metavar="PATH", help=what)
    p.add_argument("--train-loss", metavar="TAG", help="tag to use as the training loss")
    p.add_argument("--val-loss", metavar="TAG", help="tag to use as the validation loss")
    p.add_argument(
        "--input-format",
        metavar="FMT",
        choices=INPUT_FORMATS,
        help="read the FILEs named as PATH with this reader, whatever their name "
        f"({', '.join(INPUT_FORMATS)}); folders are searched as usual",
    )


def codes(text: str | None) -> list[str]:
    """``--select``/``--ignore`` values: comma-separated rule codes or prefixes."""
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def load_options(args: argparse.Namespace) -> tuple[Options, dict[str, Any]]:
    """The config file merged with the command-line arguments, for ``check`` and ``watch``.

    The config is ``--config FILE``, else the nearest ``curvelint.toml`` or ``pyproject.toml``
    with ``[tool.curvelint]`` (none with ``--no-config``). ``--select``/``--ignore`` replace the
    config's lists, ``--train-loss``/``--val-loss`` win over its roles, rule options come from its
    ``[rules.CODE]`` tables. Everything is checked by ``Options.build``: a bad config file or bad
    options raise UsageError (one line, naming the config file when the mistake is there).
    Returns the options and the config (for the keys of one command: ``fail-on``, ``format``).
    """
    from ..config import ConfigError, find_config, load_config
    from ..engine import Options
    from ..errors import OptionsError

    try:
        cfg_path = None if args.no_config else (Path(args.config) if args.config else find_config())
        cfg = load_config(cfg_path)
    except ConfigError as e:
        raise UsageError(str(e)) from e
    from_args = {"select": args.select is not None, "ignore": args.ignore is not None}
    if from_args["select"] and not codes(args.select):  # would silently run every rule
        raise UsageError(
            f"--select {args.select!r} names no rule (give codes or prefixes, e.g. OVF,DIV001; "
            "leave it out to run every rule)"
        )
    try:
        options = Options.build(
            select=codes(args.select) if from_args["select"] else cfg.get("select", []),
            ignore=codes(args.ignore) if from_args["ignore"] else cfg.get("ignore", []),
            rule_options=cfg.get("rules", {}),
            train_loss=args.train_loss or cfg.get("train-loss"),
            val_loss=args.val_loss or cfg.get("val-loss"),
        )
    except OptionsError as e:
        where = "" if from_args.get(e.field or "") else f"{cfg.get('_path', 'config')}: "
        raise UsageError(f"{where}{e}") from None
    return options, cfg


class OverrideCheck:
    """Whether the role overrides (``--train-loss``/``--val-loss`` or the config's) name a tag
    that at least one run has: ``add`` each run's report (or roles and notes), then ``finish``,
    which raises UsageError (exit 2) for an override no run had, naming the tags the runs do
    have. A tag missing from some runs only is not an error: those runs' reader notes say so."""

    SHOWN = 30  # tags listed in the message at most

    def __init__(self, options: Any):
        self.given = {
            name: tag
            for name, tag in (("train-loss", options.train_loss), ("val-loss", options.val_loss))
            if tag is not None
        }
        self.found: set[str] = set()
        self.seen: set[str] = set()
        self.runs = 0

    def add(self, report: Any) -> None:
        if not self.given:
            return
        from ..runs import override_tags

        self.runs += 1
        roles, notes = report.roles or {}, report.notes or []
        for name, tag in self.given.items():
            if name in self.found:
                continue
            listed = override_tags(notes, name, tag)
            if listed is None:
                if roles.get(name.replace("-", "_")) == tag:
                    self.found.add(name)
            else:
                self.seen.update(x for x in listed.split(", ") if x)

    def finish(self) -> None:
        missing = [(n, t) for n, t in self.given.items() if n not in self.found]
        if not missing or not self.runs:
            return
        tags = sorted(self.seen)
        shown = ", ".join(repr(x) for x in tags[: self.SHOWN])
        if len(tags) > self.SHOWN:
            shown += f" and {len(tags) - self.SHOWN} more"
        what = "; ".join(f"--{n} {t!r}" for n, t in missing)
        raise UsageError(f"{what}: no run has such a tag (the runs' tags: {shown or 'none'})")


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


def write_output(text: str, output: str | None) -> None:
    """``text`` to the file ``output`` (``-o``), or to stdout."""
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot write {output}: {e.strerror or e}") from e
    else:
        sys.stdout.write(text)


def copy_output(src: IO[str], output: str | None) -> None:
    """The text file ``src`` (from where it is) to the file ``output`` (``-o``), or to stdout,
    in chunks."""
    import shutil

    if not output:
        shutil.copyfileobj(src, sys.stdout)
        return
    try:
        with Path(output).open("w", encoding="utf-8") as fh:
            shutil.copyfileobj(src, fh)
    except OSError as e:
        raise UsageError(f"cannot write {output}: {e.strerror or e}") from e


def check_paths(paths: Sequence[str], *, urls: bool = False) -> None:
    """A path that does not exist is a UsageError (``urls``: a URL such as ``s3://bucket/runs``
    is let through, for the engine to list)."""
    from ..remote import is_remote

    missing = [p for p in paths if not (urls and is_remote(p)) and not Path(p).exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")


def load_or_fail(
    paths: Sequence[str],
    train_loss: str | None = None,
    val_loss: str | None = None,
    input_format: str | None = None,
) -> LoadResult:
    """Read the runs under ``paths``; a path that does not exist is a UsageError."""
    from ..runs import load

    check_paths(paths)
    result = load(paths, train_loss=train_loss, val_loss=val_loss, input_format=input_format)
    overrides = OverrideCheck(_Overrides(train_loss, val_loss))
    for run in result.runs:
        overrides.add(_Overrides(roles=run.roles.primary(), notes=run.notes))
    overrides.finish()
    return result


class _Overrides:
    """What OverrideCheck reads of options (the overrides) and of a run (roles and notes)."""

    def __init__(self, train_loss=None, val_loss=None, roles=None, notes=None):
        self.train_loss, self.val_loss, self.roles, self.notes = train_loss, val_loss, roles, notes
