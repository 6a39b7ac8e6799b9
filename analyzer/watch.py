"""The watching machinery of ``curvelint watch LOGDIR`` (its command line is
:mod:`analyzer.cli.watch`): follow a live log directory and report findings as they appear.

Every poll re-discovers the runs under LOGDIR (new runs and new files are picked up), reads what
changed and re-runs the rules on the runs that got new data. What is printed follows the live
policy of :class:`~analyzer.monitor.FindingTracker`, as for :class:`Monitor`: a finding when it
counts (a passing state only once it held), again when it gets worse, and a line when it went
away.

Reading only what was appended
    TensorBoard event files are followed by byte offset with the tail API
    (:mod:`analyzer.readers.tensorboard.tail`): each poll reads the bytes after the last complete
    record and parses only complete records; a half-written last record is left for the next poll.
    A file whose inode changed, that shrank, or whose first bytes changed was replaced and is read
    again from the start. The run's table is built with the batch reader's rules. Text tables
    (CSV, JSON lines, trainer state, MLflow) are small and their writers rewrite or append whole
    lines; such a run is read again when the size, inode or modification time of one of its files
    changed.

The command line adds ``--html FILE`` (an HTML report rewritten after every poll that changed
something) and ``--on-finding CMD`` (run once per new finding with the finding as JSON on stdin).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

# numpy, pandas and the engine are imported inside the functions: importing this module must
# stay cheap. The command line (parser, printing, hooks, HTML) is in analyzer/cli/watch.py.
if TYPE_CHECKING:
    from .discover import RunSource, Skipped
    from .engine import Options
    from .findings import Finding, Report, RunReport
    from .readers.tensorboard.tail import EventTail
    from .runs import LoadResult, Run


# ---- runs ----------------------------------------------------------------------------------------
@dataclass
class _RunState:
    source: RunSource
    signature: tuple = ()
    events: dict[Path, EventTail] = field(default_factory=dict)
    run: Run | None = None
    report: RunReport | None = None
    skipped: list[Skipped] = field(default_factory=list)
    #: what this run announced (each run its own: one run's findings are not another's news)
    tracker: Any = None


def _signature(files: list[Path]) -> tuple:
    sig: list[tuple[Any, ...]] = []
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
        # one tracker per run: a run's evaluation holds only its own findings
        self._new_tracker = FindingTracker
        self.states: dict[str, _RunState] = {}
        self.skipped: list[Skipped] = []
        self.polls = 0
        self.changed = False  # whether the last poll read anything new
        #: findings announced earlier that went away at the last poll (the run recovered)
        self.resolved: list[Finding] = []

    def _display_root(self) -> Path:
        return self.root if self.root.is_dir() else self.root.parent

    def _read_events(self, state: _RunState) -> bool:
        from .readers.tensorboard.tail import EventTail, tail_frame

        src = state.source
        changed = False
        for p in src.files:
            ef = state.events.get(p)
            if ef is None:
                ef = state.events[p] = EventTail(p, src.base, src.run)
                changed = True
            changed |= bool(ef.poll())
        for gone in set(state.events) - set(src.files):
            del state.events[gone]
            changed = True
        if not changed:
            return False
        from .roles import Roles
        from .runs import Run

        # the batch reader's rules over what the tails read (its START/plugin notes are not shown
        # here, as before)
        got = tail_frame(src.run, state.events.values())
        frame, notes = got.frame, got.restart_notes
        if frame.empty:
            state.run = None
            return True
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
            if ef.stopped:
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
        self.resolved = []
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
            if state.tracker is None:
                state.tracker = self._new_tracker()
            new.extend(state.tracker.observe(state.report.findings, len(state.run.frame)))
            self.resolved.extend(state.tracker.resolved)
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
