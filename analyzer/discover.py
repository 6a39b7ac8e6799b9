"""Find the runs in a file or directory tree.

Walks the tree once (hidden folders skipped, symlinks followed without loops, stable order) and
groups log files into runs. A run's id is its path relative to the given root, with ``/``.

Grouping rules
--------------
* A folder with ``events.out.tfevents.*`` files is one TensorBoard run; all its event files
  (resumed training) are merged in the order they were written
  (:func:`analyzer.readers.tensorboard.file_order_key`, the order the reader uses).
* Sub-folders that only split one run are merged into it: Keras' ``RUN/train`` + ``RUN/validation``,
  TF1 estimators' ``model_dir/eval``, and PyTorch ``add_scalars`` sub-folders (a folder with event
  files directly below a folder with event files, and no folders of its own). A folder named like
  a split that holds more than event files is a run of its own (Ultralytics' first run
  ``runs/detect/train/``). Lightning's sibling ``version_N`` folders whose steps continue one
  another (a run resumed from a checkpoint) are one run.
* ``metrics.csv`` (Lightning), ``results.csv`` (Ultralytics) and ``trainer_state.json`` (Hugging Face)
  name their folder's run (when the folder also holds event files with the same scalars, as
  Ultralytics writes, the run is read once, from the event files); other tables and JSON-lines
  files are runs named by their own path. Console output saved to a file (``.log``/``.txt`` that
  is not a table, ``.out``/``.err``, no extension) is a ``text`` run when its content has the
  lines of a training log (:mod:`analyzer.readers.console`).
  Hugging Face ``checkpoint-N/trainer_state.json`` copies are prefixes of the final state: only the
  most complete one is read.
* An MLflow run folder (``meta.yaml`` + ``metrics/``) is one run.
* A W&B run folder (``wandb/run-<time>-<id>/``, ``wandb/offline-run-…``, ``dryrun-…``, with a
  ``run-<id>.wandb`` log or a ``wandb-history.jsonl``, in it or in its ``files/``) is one run, and the folders of one run id (a resumed run)
  are one run; every file below them belongs to it (``files/output.log`` is not read as a text
  log). The ``latest-run`` alias and the client's ``debug*.log`` are skipped.
* Anything else is reported in ``skipped`` with the reason.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .readers import sniff_table
from .readers.peek import state_progress, step_span
from .readers.sniff import TEXT_ONLY_EXT
from .readers.tensorboard import file_order_key

EVENT_RE = re.compile(r"events\.out\.tfevents\.")
#: a W&B run folder: ``run-<YYYYMMDD_HHMMSS>-<id>`` (synced), ``offline-run-…``, ``dryrun-…``
#: (clients before 0.10); a second folder of one id in the same second gets ``-1`` appended
WANDB_RUN_RE = re.compile(r"(?:offline-run|run|dryrun)-(\d{8}_\d{6})-(.+)")
WANDB_DIRS = {"wandb", ".wandb"}
#: the W&B client's own logs beside the run folders (symlinks into the newest run)
WANDB_OWN_LOG_RE = re.compile(r"debug(?:-internal|-cli\..*)?\.log")
SPLIT_DIRS = {"train", "training", "validation", "valid", "val", "eval", "evaluation", "test"}
TABLE_EXT = {".csv", ".tsv", ".txt", ".log", ".dat"}
JSONL_EXT = {".jsonl", ".ndjson"}
# files that are part of a run but hold no curves: not worth a "skipped" line each
QUIET_NAMES = {
    "hparams.yaml",
    "meta.yaml",
    "config.json",
    "config.yaml",
    "args.json",
    "opt.yaml",
    "hyp.yaml",
    "args.yaml",
    "training_args.bin",
    "readme.md",
    "license",
}
#: the files of a W&B run folder its reader reads (besides ``run-<id>.wandb``)
WANDB_RUN_FILES = ("wandb-history.jsonl", "config.yaml", "wandb-metadata.json")
QUIET_EXT = {
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".svg",
    ".pt",
    ".pth",
    ".ckpt",
    ".h5",
    ".keras",
    ".bin",
    ".safetensors",
    ".pb",
    ".index",
    ".pkl",
    ".npy",
    ".npz",
    ".onnx",
    ".md",
    ".py",
    ".ipynb",
    ".yaml",
    ".yml",
    ".data-00000-of-00001",
    ".meta",
}


@dataclass
class RunSource:
    """One run found on disk: its id, format, the run folder and the files to read."""

    run: str
    format: str
    base: Path
    files: list[Path]
    notes: list[str] = field(default_factory=list)


@dataclass
class Skipped:
    path: str
    reason: str

    def to_dict(self) -> dict:
        return {"path": self.path, "reason": self.reason}


@dataclass
class Discovery:
    root: Path
    runs: list[RunSource] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: the files of every folder walked (not hidden), for callers that need a run's neighbours
    #: (the result cache stamps the side files a reader may read) without listing it again
    folders: dict[Path, list[Path]] = field(default_factory=dict)
    #: entries the walk could not look at (unreadable, broken symlinks, loops): such a tree may
    #: change without its folders' stamps changing, so its discovery is not reused
    walk_errors: int = 0


_DIGIT_RUNS = re.compile(r"(\d+)")


def natural_key(name: str) -> list:
    """Sort key of names in natural order (digit runs as numbers, case folded): discovery's
    order of runs and skipped entries."""
    return [int(t) if t.isdigit() else t.lower() for t in _DIGIT_RUNS.split(name)]


#: names of files discovery opens (to choose among Hugging Face checkpoint copies); of the other
#: files it reads only the table candidates it passes to ``sniff``, and of the rest only names
#: and sizes (:mod:`analyzer.remote` downloads these before discovery)
OPENED_BY_DISCOVERY = frozenset({"trainer_state.json"})


#: ``folder / name`` for a name from a listing: pathlib's own join of one plain name when it has
#: one (CPython 3.10-3.13, 5-7x faster than parsing the entry's path; a sweep's walk makes tens of
#: thousands), else the operator
_child: Callable[[Path, str], Path] = getattr(Path, "_make_child_relpath", None) or (
    lambda d, name: d / name
)


class _Walker:
    def __init__(self, root: Path, display_root: Path):
        self.root = root
        self.display_root = display_root
        self.skipped: list[Skipped] = []
        self.seen: set[tuple[int, int]] = set()
        # dir -> listing
        self.dirs: dict[Path, tuple[list[Path], list[Path]]] = {}
        self._below = os.path.join(str(root), "")  # "root/": what a path below it starts with

    def rel(self, p: Path) -> str:
        s = str(p)
        if s.startswith(self._below):  # the usual case, without pathlib's parsing
            r = s[len(self._below) :]
            return r if os.sep == "/" else r.replace(os.sep, "/")
        try:
            r = p.relative_to(self.root).as_posix()
        except ValueError:
            r = p.as_posix()
        return r

    def _shown(self, d: Path) -> str:
        """A folder as skipped entries name it: below the root, relative to it; the root as
        given (not ".")."""
        return d.as_posix() if d == self.root else self.rel(d)

    def walk(self, top: Path) -> None:
        """List every folder below ``top``, depth first in name order, with an explicit stack
        (a tree nested thousands deep must not exhaust Python's recursion limit)."""
        stack = [top]
        while stack:
            subdirs = self._visit(stack.pop())
            stack.extend(
                s for s in reversed(subdirs) if s.name not in ("__pycache__", "node_modules")
            )

    def files_below(self, d: Path) -> list[Path]:
        """The files listed at or below the folder ``d`` (none when it was not walked)."""
        out: list[Path] = []
        stack = [d]
        while stack:
            listing = self.dirs.get(stack.pop())
            if listing is not None:
                out.extend(listing[0])
                stack.extend(listing[1])
        return out

    def _visit(self, d: Path) -> list[Path]:
        try:
            st = d.stat()
        except OSError as err:
            self.skipped.append(
                Skipped(self._shown(d), f"cannot open folder: {err.strerror or err}")
            )
            return []
        key = (st.st_dev, st.st_ino)
        if key in self.seen:
            self.skipped.append(Skipped(self.rel(d), "symlink loop or folder already visited"))
            return []
        self.seen.add(key)
        try:
            entries = sorted(os.scandir(d), key=lambda e: natural_key(e.name))
        except OSError as err:
            self.skipped.append(
                Skipped(self._shown(d), f"cannot list folder: {err.strerror or err}")
            )
            return []
        files: list[Path] = []
        subdirs: list[Path] = []
        for e in entries:
            if e.name.startswith("."):
                continue
            if e.name == "latest-run" and d.name in WANDB_DIRS and e.is_symlink():
                continue  # W&B's alias of its newest run folder, which is listed itself
            p = _child(d, e.name)
            try:
                is_dir = e.is_dir(follow_symlinks=True)
                is_file = e.is_file(follow_symlinks=True)
            except OSError as err:
                self.skipped.append(Skipped(self.rel(p), f"cannot stat: {err.strerror or err}"))
                continue
            if is_dir:
                subdirs.append(p)
            elif is_file:
                files.append(p)
            elif e.is_symlink() and not os.path.exists(e.path):
                self.skipped.append(Skipped(self.rel(p), "broken symlink"))
            else:
                self.skipped.append(
                    Skipped(self.rel(p), "not a regular file (a FIFO, socket or device): not read")
                )
        self.dirs[d] = (files, subdirs)
        return subdirs


def is_event_file(p: Path) -> bool:
    """A TensorBoard event file (TF2's ``*.profile-empty`` markers hold no scalars)."""
    return bool(EVENT_RE.search(p.name)) and not p.name.endswith(".profile-empty")


def _sniffed_by_content(f: Path, *, name: str | None = None, ext: str | None = None) -> bool:
    """Files whose content decides whether they are a log: tables (``.csv``, ``.txt``, ``.log``
    …) and console output (``.out``, ``.err``, no extension, e.g. ``slurm-42.out``, ``nohup.out``,
    ``stdout``). ``name``, ``ext``: ``f``'s lower-case name and extension, when known."""
    ext = f.suffix.lower() if ext is None else ext
    if ext in TABLE_EXT or ext in TEXT_ONLY_EXT:
        return True
    return ext == "" and (f.name.lower() if name is None else name) not in QUIET_NAMES


def _holds_own_run(files: list[Path], subdirs: list[Path]) -> bool:
    """A folder named like a split (``train``) that is a run folder of its own: besides event
    files it holds other files or folders (Ultralytics' first run ``runs/detect/train/`` with its
    ``results.csv``, ``args.yaml``, ``weights/``), where a split folder of Keras or an estimator
    holds only event files (and Keras' profiler ``plugins/``)."""
    others = [f for f in files if not EVENT_RE.search(f.name)]
    return bool(others) or any(s.name != "plugins" for s in subdirs)


def _has_events(files: list[Path]) -> bool:
    return any(is_event_file(f) for f in files)


def _is_mlflow_run(d: Path, files: list[Path], subdirs: list[Path]) -> bool:
    return any(f.name == "meta.yaml" for f in files) and any(s.name == "metrics" for s in subdirs)


#: sniffs many table candidates at once: paths -> (format or None, reason) for each, in order
SniffMany = Callable[[Sequence[Path]], list[tuple[str | None, str]]]


def sniff_each(paths: Sequence[Path]) -> list[tuple[str | None, str]]:
    """:func:`analyzer.readers.sniff_table` on each path (the default ``sniff`` of
    :func:`discover`)."""
    return [sniff_table(p) for p in paths]


def discover(
    path: str | os.PathLike,
    *,
    sniff: SniffMany | None = None,
    input_format: str | None = None,
) -> Discovery:
    """Walk ``path`` (a file or a folder) and group what it holds into runs.

    ``sniff`` decides which text files are tables (default :func:`sniff_each`); it gets every
    candidate at once so that a caller may answer from a cache or sniff in parallel.
    ``input_format`` (a format name or alias, see :func:`analyzer.readers.input_format`) forces
    the reader of ``path`` when it is a file; folders are discovered as usual."""
    path = Path(path)
    sniff = sniff or sniff_each
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_file():
        return _discover_file(path, sniff, input_format)
    root = path
    w = _Walker(root, root)
    w.walk(root)
    out = Discovery(
        root=root,
        skipped=w.skipped,
        folders={d: f for d, (f, _) in w.dirs.items()},
        walk_errors=len(w.skipped),
    )

    def run_id(d: Path) -> str:
        r = w.rel(d)
        return r if r not in ("", ".") else (root.resolve().name or "run")

    claimed: set[Path] = set()  # files that belong to some run
    run_ids: set[str] = set()  # ids of out.runs (a set: thousands of runs are checked often)
    tb_runs: dict[Path, RunSource] = {}
    mlflow_dirs: list[Path] = []

    # 1. TensorBoard folders, merged into parents where they only split one run
    event_dirs = [d for d, (files, _) in w.dirs.items() if _has_events(files)]
    for d in sorted(event_dirs, key=lambda p: (len(p.parts), natural_key(p.as_posix()))):
        files, subdirs = w.dirs[d]
        events = sorted((f for f in files if is_event_file(f)), key=file_order_key)
        parent = d.parent
        target = d
        grand = parent.parent
        if (
            d != root
            and parent != root
            and not subdirs
            and parent in w.dirs
            and grand in w.dirs
            and not _has_events(w.dirs[parent][0])
            and _has_events(w.dirs[grand][0])
            and all(s in w.dirs and _has_events(w.dirs[s][0]) for s in w.dirs[parent][1])
        ):
            # tensorboardX add_scalars: RUN/<main tag>/<key>/ beside the run's own event files
            target = grand
        elif (
            d != root
            and d.name.lower() in SPLIT_DIRS
            and parent in w.dirs
            and not _holds_own_run(files, subdirs)
        ):
            # RUN/train + RUN/validation, model_dir/eval
            target = parent
        elif d != root and parent in w.dirs and _has_events(w.dirs[parent][0]) and not subdirs:
            # PyTorch add_scalars sub-folder of a run with its own event files
            target = parent
        # follow merges upwards (model_dir/eval when model_dir itself was merged is rare; keep simple)
        while target in tb_runs and tb_runs[target].base != target:
            target = tb_runs[target].base
        src = tb_runs.get(target)
        if src is None:
            src = RunSource(run_id(target), "tensorboard", target, [])
            tb_runs[target] = src
        src.files.extend(events)
        claimed.update(events)
        if target != d:
            tb_runs[d] = src
    seen_src: set[int] = set()
    tb_list: list[RunSource] = []
    for src in tb_runs.values():
        if id(src) not in seen_src:
            seen_src.add(id(src))
            tb_list.append(src)
    tb_list, tb_joined = _stitch_versions(tb_list, w, "tensorboard")
    for src in tb_list:
        out.runs.append(src)
        run_ids.add(src.run)

    # 2. MLflow run folders
    for d, (files, subdirs) in w.dirs.items():
        if _is_mlflow_run(d, files, subdirs):
            mlflow_dirs.append(d)
            # from the listing already made (files, not hidden: nested metric names are
            # sub-folders of metrics/)
            metric_files = sorted(w.files_below(d / "metrics"))
            out.runs.append(RunSource(run_id(d), "mlflow", d, metric_files))
            run_ids.add(run_id(d))
            claimed.update(metric_files)
            for sub in ("params", "tags"):
                claimed.update(w.files_below(d / sub))
            claimed.update(f for f in files)

    # 2b. W&B run folders; the folders of one run id (a resumed run) are one run
    wandb_groups: dict[tuple[Path, str], list[Path]] = {}
    for d, (files, _subdirs) in w.dirs.items():
        m = WANDB_RUN_RE.fullmatch(d.name)
        if m is None or d in tb_runs:
            continue
        logs = [f for f in files if f.suffix == ".wandb"]
        near = files + w.dirs.get(d / "files", ([], []))[0]
        if logs or any(f.name == "wandb-history.jsonl" for f in near):
            rid = logs[0].name[len("run-") : -len(".wandb")] if logs else m.group(2)
            wandb_groups.setdefault((d.parent, rid), []).append(d)
    for dirs in wandb_groups.values():
        dirs.sort(key=lambda p: (WANDB_RUN_RE.fullmatch(p.name).group(1), natural_key(p.name)))  # type: ignore[union-attr]
        read: list[Path] = []
        for d in dirs:
            files = w.dirs[d][0]
            near = files + w.dirs.get(d / "files", ([], []))[0]
            read.extend(sorted(f for f in files if f.suffix == ".wandb"))
            read.extend(f for f in near if f.name in WANDB_RUN_FILES)
            stack = [d]  # every file at or below the run folder belongs to the run
            while stack:
                fs, subs = w.dirs.get(stack.pop(), ([], []))
                claimed.update(fs)
                stack.extend(subs)
        src = RunSource(run_id(dirs[0]), "wandb", dirs[0], read)
        if len(dirs) > 1:
            src.notes.append(
                "resumed W&B run: " + ", ".join(w.rel(d) for d in dirs) + " (read in time order)"
            )
        out.runs.append(src)
        run_ids.add(src.run)
    for d, (files, _) in w.dirs.items():
        if d.name in WANDB_DIRS:
            for f in files:
                if WANDB_OWN_LOG_RE.fullmatch(f.name):
                    claimed.add(f)
                    out.skipped.append(
                        Skipped(w.rel(f), "the W&B client's own log (not a training log)")
                    )

    # folders at or below an MLflow run folder (one pass over the folders, not one per file)
    mlflow_set = set(mlflow_dirs)
    below = tuple(os.path.join(str(m), "") for m in mlflow_dirs)  # "m/": strings, not Paths
    in_mlflow = (
        {d for d in w.dirs if d in mlflow_set or str(d).startswith(below)} if below else set()
    )

    def inside_mlflow(d: Path) -> bool:
        """Files of the listed folder ``d`` lie below an MLflow run folder."""
        return d in in_mlflow

    # 3. Hugging Face trainer_state.json: keep the most complete per output folder
    hf_groups: dict[Path, list[Path]] = {}
    for d, (files, _) in w.dirs.items():
        for f in files:
            if f.name == "trainer_state.json" and not inside_mlflow(d):
                owner = d.parent if re.fullmatch(r"checkpoint-\d+", d.name) else d
                hf_groups.setdefault(owner, []).append(f)
    for owner, states in sorted(hf_groups.items(), key=lambda kv: natural_key(kv[0].as_posix())):
        best = (
            states[0]
            if len(states) == 1  # nothing to choose: no need to parse it here
            else max(
                states,
                key=lambda f: (
                    state_progress(f),
                    f.parent == owner,
                    _safe_size(f),
                    natural_key(f.as_posix()),
                ),
            )
        )
        rid = run_id(owner)
        if rid in run_ids:
            rid = w.rel(best)
        out.runs.append(RunSource(rid, "hf-trainer-state", owner, [best]))
        run_ids.add(rid)
        claimed.update(states)
        for s in states:
            if s != best:
                out.skipped.append(
                    Skipped(
                        w.rel(s), f"older checkpoint copy of {w.rel(best)} (read that one instead)"
                    )
                )

    # 4. tables and JSON lines, one run per file (the table candidates sniffed all at once)
    tb_bases = {(r.run, r.base) for r in out.runs if r.format == "tensorboard"}
    tb_bases.update((run_id(d), d) for d in tb_joined)  # a version_N folder joined to another
    # the files left (no run claimed them, not event files, outside MLflow run folders), each
    # with its lower-case name and extension (pathlib computes those anew at every look)
    rest: list[tuple[Path, Path, str, str]] = []
    for d, (files, _) in w.dirs.items():
        if inside_mlflow(d):
            continue
        for f in files:
            if f in claimed:
                continue
            name = f.name
            if EVENT_RE.search(name) and not name.endswith(".profile-empty"):  # is_event_file
                continue
            rest.append((d, f, name.lower(), f.suffix.lower()))
    candidates = [
        f
        for _, f, name, ext in rest
        if ext not in JSONL_EXT and _sniffed_by_content(f, name=name, ext=ext)
    ]
    sniffed = dict(zip(candidates, sniff(candidates), strict=True))
    fmt: str | None
    for d, f, name, ext in rest:
        if ext in JSONL_EXT:
            fmt, reason = "jsonl", ""
        elif f in sniffed:
            fmt, reason = sniffed[f]
        else:
            if name in QUIET_NAMES or ext in QUIET_EXT or name.endswith(".profile-empty"):
                out.skipped.append(Skipped(w.rel(f), "not a training log (ignored by name)"))
            else:
                out.skipped.append(
                    Skipped(w.rel(f), f"not a log format curvelint reads ({ext or 'no extension'})")
                )
            continue
        if fmt is None:
            out.skipped.append(Skipped(w.rel(f), reason))
            continue
        claimed.add(f)
        names_folder = name in ("metrics.csv", "results.csv")
        if names_folder and (run_id(d), d) in tb_bases:
            # Ultralytics (and Lightning with both loggers) write the same scalars to event
            # files and to this table: one run, read once
            out.skipped.append(
                Skipped(
                    w.rel(f),
                    "same run as the TensorBoard event files in this folder (read from those;"
                    " pass this file's path to read it instead)",
                )
            )
            continue
        rid = run_id(d) if names_folder and d != root else w.rel(f)
        if rid in run_ids:
            rid = w.rel(f)
        out.runs.append(RunSource(rid, fmt, d, [f]))
        run_ids.add(rid)

    out.runs, _ = _stitch_versions(out.runs, w, "lightning-csv")  # CSVLogger's version_N/
    out.runs.sort(key=lambda r: natural_key(r.run))
    out.skipped.sort(key=lambda s: natural_key(s.path))
    return out


_VERSION_RE = re.compile(r"version_(\d+)")


class _Span:
    """Where a run's steps start and end and its first epoch, each looked at only when asked
    (a sweep of many ``version_N`` folders that all start again is told apart by their heads)."""

    def __init__(self, src: RunSource):
        self.src = src

    @cached_property
    def _csv(self) -> tuple[int, int, float | None] | None:
        return step_span(self.src.files[0]) if self.src.files else None

    @cached_property
    def first(self) -> int | None:
        if self.src.format == "lightning-csv":
            return self._csv[0] if self._csv else None
        from .readers.tensorboard.span import files_first_step

        return files_first_step(self.src.files)

    @cached_property
    def last(self) -> int | None:
        if self.src.format == "lightning-csv":
            return self._csv[1] if self._csv else None
        from .readers.tensorboard.span import files_last_step

        return files_last_step(self.src.files)

    @cached_property
    def epoch(self) -> float | None:
        if self.src.format == "lightning-csv":
            return self._csv[2] if self._csv else None
        from .readers.tensorboard.span import first_value

        return first_value(self.src.files[0], "epoch") if self.src.files else None


def _resumes(prev: _Span, nxt: _Span) -> bool:
    """Whether the run ``nxt`` goes on where ``prev`` stopped: its first step comes after every
    step of ``prev``, and it does not start at epoch 0 (a new run does, even when its first
    logged step happens to come after a short run's last)."""
    if nxt.first is None or prev.first is None or nxt.first <= prev.first:
        return False
    return prev.last is not None and nxt.first > prev.last and nxt.epoch != 0


def _stitch_versions(
    runs: list[RunSource], w: _Walker, fmt: str
) -> tuple[list[RunSource], list[Path]]:
    """Lightning's ``version_N`` folders of one resumed run as one run.

    Resuming with ``fit(ckpt_path=…)`` makes a new ``version_N`` folder (of the TensorBoard and
    of the CSV logger) whose steps go on from the checkpoint (``version_2`` 49…3999,
    ``version_3`` 4049…5999). Consecutive sibling folders of runs of format ``fmt``
    (``tensorboard`` or ``lightning-csv``) are one run when the next one's first step comes
    after the last step of the one before and it does not start at epoch 0 (a bounded look at
    the head and tail of their files); when the steps start again they are separate runs. The
    stitched run keeps the first folder's id and says which folders it joined. Returns the runs
    left and the folders joined to another run."""
    groups: dict[Path, list[tuple[int, RunSource]]] = {}
    for src in runs:
        m = _VERSION_RE.fullmatch(src.base.name)
        if m and src.format == fmt and src.base != w.root:
            groups.setdefault(src.base.parent, []).append((int(m.group(1)), src))
    joined_ids: set[int] = set()
    joined_dirs: list[Path] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda t: t[0])
        head = members[0][1]
        prev = _Span(head)
        joined: list[str] = []
        for _n, src in members[1:]:
            this = _Span(src)
            if _resumes(prev, this):
                joined_ids.add(id(src))
                joined_dirs.append(src.base)
                head.files.extend(src.files)
                joined.append(f"{src.base.name} (from step {this.first})")
            else:
                if joined:
                    head.notes.append(_stitch_note(joined))
                head, joined = src, []
            prev = this
        if joined:
            head.notes.append(_stitch_note(joined))
    return [r for r in runs if id(r) not in joined_ids], joined_dirs


def _stitch_note(joined: list[str]) -> str:
    return (
        f"resumed run: continued in {', '.join(joined)}, whose steps go on after the folder "
        "before; read as one run"
    )


def _safe_size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return -1


def _discover_file(
    path: Path, sniff: SniffMany = sniff_each, input_format: str | None = None
) -> Discovery:
    out = Discovery(root=path.parent)
    name = path.name
    ext = path.suffix.lower()
    try:
        mode = path.stat().st_mode
    except OSError as e:
        out.skipped.append(Skipped(name, f"cannot stat: {e.strerror or e}"))
        return out
    if not stat.S_ISREG(mode):
        out.skipped.append(Skipped(name, "not a regular file"))
        return out
    if input_format is not None:
        from .readers import input_format as resolve

        forced = resolve(input_format)
        out.runs.append(
            RunSource(
                name, forced, path.parent, [path], notes=[f"read as {forced} (--input-format)"]
            )
        )
        return out
    if is_event_file(path):
        out.runs.append(RunSource(name, "tensorboard", path.parent, [path]))
    elif name == "trainer_state.json":
        out.runs.append(RunSource(name, "hf-trainer-state", path.parent, [path]))
    elif ext in JSONL_EXT:
        out.runs.append(RunSource(name, "jsonl", path.parent, [path]))
    elif _sniffed_by_content(path):
        fmt, reason = sniff([path])[0]
        if fmt is None:
            out.skipped.append(Skipped(name, reason))
        else:
            out.runs.append(RunSource(name, fmt, path.parent, [path]))
    else:
        out.skipped.append(
            Skipped(name, f"not a log format curvelint reads ({ext or 'no extension'})")
        )
    return out


def distinct_roots(
    paths: Sequence[str | os.PathLike],
) -> tuple[list[str | os.PathLike], list[Skipped]]:
    """The paths to check, each once: a path given again, or inside a folder also given, is
    left out (its runs are checked as part of that folder), with a :class:`Skipped` entry
    saying so. Paths are compared after resolving symlinks and ``..``; URLs (remote folders) only
    as they are written."""
    kept: list[str | os.PathLike] = []
    real: list[str | None] = []
    skipped: list[Skipped] = []
    for p in paths:
        text = os.fspath(p)
        try:
            r: str | None = None if "://" in text else os.path.realpath(text)
        except (OSError, ValueError):
            r = None
        dup = None
        for k, kr in zip(kept, real, strict=True):
            if (r is None or kr is None) and text == os.fspath(k):
                dup = f"given twice ({os.fspath(k)})"
            elif r is not None and kr is not None and r == kr:
                dup = f"the same as {os.fspath(k)}, given before"
            elif r is not None and kr is not None and r.startswith(os.path.join(kr, "")):
                dup = f"inside {os.fspath(k)}, which is checked too (its runs are checked once)"
            if dup:
                break
        if dup is None:  # a folder given after paths inside it: those go
            below = os.path.join(r, "") if r is not None else None
            inner = [i for i, kr in enumerate(real) if below and kr and kr.startswith(below)]
            for i in reversed(inner):
                real.pop(i)
                skipped.append(
                    Skipped(
                        os.fspath(kept.pop(i)),
                        f"inside {text}, which is checked too (its runs are checked once)",
                    )
                )
            kept.append(p)
            real.append(r)
        else:
            skipped.append(Skipped(text, dup))
    return kept, skipped


def root_prefix(path: str | os.PathLike) -> str:
    """What the runs of ``path`` are named with when several paths are checked: the folder's name,
    or for a file (whose run is named after the file) its folder's name."""
    p = Path(os.fspath(path))
    if "://" not in os.fspath(path) and p.is_file():
        return (p.resolve().parent.name or p.name) + "/"
    return p.name + "/"
