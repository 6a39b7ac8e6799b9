"""``curvelint watch LOGDIR``: follow a live log directory and report findings as they appear.

Every poll re-discovers the runs under LOGDIR (new runs and new files are picked up), reads what
changed and re-runs the rules on the runs that got new data. A finding is printed the first time
it appears and again only when it gets worse (the same de-duplication as :class:`Monitor`).

Reading only what was appended
    TensorBoard event files are followed by byte offset: each poll reads the bytes after the last
    complete record and parses only complete records; a half-written last record is left for the
    next poll. A file whose inode changed, that shrank, or whose first bytes changed was replaced
    and is read again from the start. Text tables (CSV, JSON lines, trainer state, MLflow) are
    small and their writers rewrite or append whole lines; such a run is read again when the size,
    inode or modification time of one of its files changed.

``--html FILE`` rewrites an HTML report after every poll that changed something, ``--on-finding
CMD`` runs ``CMD`` through the shell once per new finding with the finding as JSON on stdin (and
``CURVELINT_RUN``/``CURVELINT_CODE``/``CURVELINT_SEVERITY`` in the environment). Ctrl-C stops
watching and exits 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

# numpy, pandas and the engine are imported inside the functions: importing this module must
# stay cheap. The command line (parser, printing, hooks, HTML) is in analyzer/cli/watch.py.
if TYPE_CHECKING:
    import pandas as pd

    from .discover import RunSource, Skipped
    from .engine import Options
    from .findings import Finding, Report, RunReport
    from .runs import LoadResult, Run

_HEAD_BYTES = 64  # bytes compared to detect a file replaced in place


# ---- incremental TensorBoard event files -----------------------------------------------------
@dataclass
class _EventFile:
    """Where we are in one event file and what it gave so far."""

    path: Path
    ino: int = -1
    offset: int = 0
    head: bytes = b""
    tag: list[str] = field(default_factory=list)
    step: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    tensor: list[bool] = field(default_factory=list)
    decls: dict[str, str] = field(default_factory=dict)
    starts: list[tuple[int, int]] = field(default_factory=list)  # (row index, step)
    hparams: dict[str, Any] = field(default_factory=dict)
    bad_records: int = 0
    damaged_at: int | None = None
    skipped_bytes: int = 0
    resets: int = 0

    def reset(self) -> None:
        self.offset, self.head, self.damaged_at, self.skipped_bytes = 0, b"", None, 0
        for lst in (self.tag, self.step, self.value, self.wall, self.tensor, self.starts):
            lst.clear()
        self.decls.clear()
        self.hparams.clear()
        self.resets += 1

    def poll(self) -> bool:
        """Read the complete records appended since the last poll. True if rows were added or
        the file was reset."""
        import numpy as np

        from .readers._tbdecode import parse_event
        from .readers._tfrecord import Buffer, verify_payloads, walk

        try:
            st = self.path.stat()
        except OSError:
            return False
        changed = False
        with open(self.path, "rb") as fh:
            if self.offset:
                replaced = st.st_ino != self.ino or st.st_size < self.offset
                if not replaced and self.head:
                    replaced = fh.read(len(self.head)) != self.head
                if replaced:
                    self.reset()
                    changed = True
            self.ino = st.st_ino
            if st.st_size <= self.offset:
                return changed
            fh.seek(self.offset)
            data = fh.read(st.st_size - self.offset)
        # the batch reader's framing walk: the same checks and the same recovery (resync over a
        # corrupt or lying length field); what is past its last complete record waits for the
        # next poll
        before = len(self.tag)
        buf = Buffer.from_bytes(data)
        fr = walk(buf)
        good = verify_payloads(buf, fr.offsets, fr.lengths) if len(fr.offsets) else []
        for a, b in fr.corrupt_regions:
            self.damaged_at = self.offset + a
            if a != fr.stopped_at:
                self.skipped_bytes += b - a
        spans = zip(fr.payload_starts.tolist(), fr.payload_ends.tolist(), good, strict=True)
        for start, end, ok in spans:
            items = parse_event(data[start:end]) if ok else None
            if items is None:
                self.bad_records += 1
                continue
            if items.start:
                self.starts.append((len(self.tag), int(items.step)))
            for t, plugin in items.decls:
                self.decls.setdefault(t, plugin)
            if items.hparams:
                self.hparams.update(items.hparams)
            for t, v, is_tensor in items.rows:
                self.tag.append(t)
                self.step.append(int(items.step))
                self.value.append(float(v))
                self.wall.append(float(items.wall_time) or np.nan)
                self.tensor.append(bool(is_tensor))
        pos = next((x for x in (fr.stopped_at, fr.partial_at) if x is not None), len(data))
        if pos:
            if self.offset == 0:
                self.head = data[: min(_HEAD_BYTES, pos)]
            self.offset += pos
        return changed or len(self.tag) > before


def _folder_frame(folder: str, files: list[_EventFile]) -> pd.DataFrame:
    """Rows of one folder's files (in write order), with SessionLog.START and the plugin filter
    applied the way the TensorBoard reader does, tags prefixed by the sub-folder."""
    import numpy as np

    from .readers.base import make_frame
    from .readers.tensorboard import prefixed_tag

    tag, step, value, wall, tensor, starts = [], [], [], [], [], []
    decls: dict[str, str] = {}
    for f in files:
        starts.extend((len(tag) + at, s) for at, s in f.starts)
        tag += f.tag
        step += f.step
        value += f.value
        wall += f.wall
        tensor += f.tensor
        for t, p in f.decls.items():
            decls.setdefault(t, p)
    if not tag:
        return make_frame("", [], [], [], [])
    step_a = np.asarray(step, dtype=np.int64)
    keep = np.ones(len(tag), dtype=bool)
    tensor_a = np.asarray(tensor, dtype=bool)
    other = np.array([decls.get(t, "") not in ("", "scalars") for t in tag], dtype=bool)
    keep &= ~(tensor_a & other)
    for at, s in starts:  # a session restarted at step s replaces earlier points with step >= s
        keep[:at] &= step_a[:at] < s
    names = [prefixed_tag(folder, t) for t in tag]
    frame = make_frame("", names, step_a, value, wall)
    return frame[keep]


# ---- runs ----------------------------------------------------------------------------------------
@dataclass
class _RunState:
    source: RunSource
    signature: tuple = ()
    events: dict[Path, _EventFile] = field(default_factory=dict)
    run: Run | None = None
    report: RunReport | None = None
    skipped: list[Skipped] = field(default_factory=list)


def _signature(files: list[Path]) -> tuple:
    sig = []
    for p in files:
        try:
            st = os.stat(p)
            sig.append((str(p), st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            sig.append((str(p), None))
    return tuple(sig)


class Watcher:
    """Follow the runs under ``root``; :meth:`poll` returns the findings that are new."""

    def __init__(self, root: str | os.PathLike, options: Options | None = None) -> None:
        from .engine import Options
        from .monitor import FindingTracker

        self.root = Path(root)
        self.options = options or Options()
        self.options.rules()
        self.tracker = FindingTracker()
        self.states: dict[str, _RunState] = {}
        self.skipped: list[Skipped] = []
        self.polls = 0
        self.changed = False  # whether the last poll read anything new

    def _display_root(self) -> Path:
        return self.root if self.root.is_dir() else self.root.parent

    def _read_events(self, state: _RunState) -> bool:
        src = state.source
        changed = False
        for p in src.files:
            ef = state.events.get(p)
            if ef is None:
                ef = state.events[p] = _EventFile(p)
                changed = True
            changed |= ef.poll()
        for gone in set(state.events) - set(src.files):
            del state.events[gone]
            changed = True
        if not changed:
            return False
        import pandas as pd

        from .readers.base import COLUMNS, apply_restarts, make_frame
        from .readers.tensorboard import file_order_key
        from .roles import Roles
        from .runs import Run

        base = Path(src.base)
        by_folder: dict[str, list[_EventFile]] = {}
        for p, ef in state.events.items():
            rel = p.parent.relative_to(base).as_posix() if p.parent != base else ""
            by_folder.setdefault("" if rel == "." else rel, []).append(ef)
        parts = [
            _folder_frame(folder, sorted(efs, key=lambda e: file_order_key(e.path)))
            for folder, efs in sorted(by_folder.items())
        ]
        frame = pd.concat(parts, ignore_index=True) if parts else make_frame("", [], [], [], [])
        if frame.empty:
            state.run = None
            return True
        frame, notes = apply_restarts(frame.assign(run=src.run)[COLUMNS])
        hparams: dict[str, Any] = {}
        for ef in state.events.values():
            hparams.update(ef.hparams)
            if ef.bad_records:
                notes.append(f"{ef.path.name}: {ef.bad_records} damaged record(s) skipped")
            if ef.skipped_bytes:
                notes.append(
                    f"{ef.path.name}: corrupt record length; skipped {ef.skipped_bytes:,} "
                    "byte(s) and resynchronised"
                )
            if ef.damaged_at is not None and ef.damaged_at >= ef.offset:
                notes.append(f"{ef.path.name}: unreadable from byte {ef.damaged_at:,}")
        root = self._display_root()
        files = []
        for p in src.files:
            try:
                files.append(Path(p).relative_to(root).as_posix())
            except ValueError:
                files.append(Path(p).as_posix())
        state.run = Run(
            id=src.run,
            format=src.format,
            files=files,
            frame=frame,
            roles=Roles(),
            notes=list(src.notes) + notes,
            hparams=hparams,
        )
        return True

    def _read_table(self, state: _RunState) -> bool:
        from .runs import read_source

        sig = _signature(list(state.source.files))
        if sig == state.signature:
            return False
        state.signature = sig
        run, skipped = read_source(state.source, self._display_root())
        state.run, state.skipped = run, skipped
        return True

    def poll(self) -> list[Finding]:
        """Re-discover, read what changed, re-analyse changed runs; the new findings."""
        from .discover import discover
        from .engine import analyze_run
        from .runs import assign

        self.polls += 1
        self.changed = False
        if not self.root.exists():
            return []
        disc = discover(self.root)
        self.skipped = list(disc.skipped)
        seen: set[str] = set()
        new: list[Finding] = []
        for src in disc.runs:
            seen.add(src.run)
            state = self.states.get(src.run)
            if state is None or state.source.format != src.format:
                state = self.states[src.run] = _RunState(src)
            state.source = src
            changed = (
                self._read_events(state) if src.format == "tensorboard" else self._read_table(state)
            )
            self.changed |= changed
            if not changed or state.run is None:
                continue
            assign(state.run, train_loss=self.options.train_loss, val_loss=self.options.val_loss)
            state.report = analyze_run(state.run, self.options)
            new.extend(self.tracker.new(state.report.findings))
        for gone in set(self.states) - seen:
            del self.states[gone]
            self.changed = True
        return new

    def load_result(self) -> LoadResult:
        """The runs as read so far, in the shape the report renderers take."""
        from .runs import LoadResult

        out = LoadResult(roots=[str(self.root)], skipped=list(self.skipped))
        for state in self.states.values():
            out.skipped.extend(state.skipped)
            if state.run is not None and state.report is not None:
                out.runs.append(state.run)
        return out

    def report(self) -> Report:
        from . import __version__
        from .findings import Report

        runs = [s.report for s in self.states.values() if s.report is not None and s.run]
        skipped = [s.to_dict() for s in self.load_result().skipped]
        return Report(runs=runs, skipped=skipped, version=__version__)
