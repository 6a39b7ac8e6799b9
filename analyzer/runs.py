"""Load runs: discover -> read -> assign roles. The only place that calls the readers."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .curves import Curve, CurveSet
from .discover import Discovery, RunSource, Skipped, discover, distinct_roots, root_prefix
from .findings import Setup
from .roles import Roles, assign_roles
from .setup import detect_setup

if TYPE_CHECKING:  # imported by what reads runs: answers from the result cache need neither
    import numpy as np
    import pandas as pd


@dataclass
class Run:
    """One run as read: its long table (``frame``: a pandas DataFrame; a run read for a check
    may hold it as numpy columns, a :class:`analyzer.readers.base.NumpyTable`, until something asks
    for ``frame``), the roles of its tags, notes and hyper-parameters."""

    id: str
    format: str
    files: list[str]
    frame: pd.DataFrame
    roles: Roles
    notes: list[str] = field(default_factory=list)
    hparams: dict[str, Any] = field(default_factory=dict)
    _groups: dict[str, np.ndarray] | None = field(default=None, repr=False)

    @property
    def _table(self) -> Any:
        """The table as read: a DataFrame, or a NumpyTable not yet made into one."""
        return self.__dict__["_data"]

    def column(self, name: str) -> np.ndarray:
        """One column of the run's table as numpy (without making a DataFrame of a NumpyTable)."""
        from .readers.base import column

        return column(self._table, name)

    @property
    def tags(self) -> list[str]:
        return list(self._index())

    def _index(self) -> dict[str, np.ndarray]:
        if self._groups is None:
            # tag (str) -> positions of its rows; pandas types the keys as Hashable
            self._groups = _sorted_blocks(self.column("tag")) if len(self._table) else {}
            if self._groups is None:
                self._groups = cast(
                    "dict[str, np.ndarray]", self.frame.groupby("tag", sort=True).indices
                )
        return self._groups

    def curve(self, tag: str | None) -> Curve | None:
        """The curve of ``tag`` (a logged tag or a derived sum of components), or None."""
        import numpy as np

        if tag is None:
            return None
        info = self.roles.tags.get(tag)
        if tag in self.roles.complements:  # 1 - metric (in percent: 1 - metric / 100)
            m = self.curve(self.roles.derived[tag][0])
            if m is None:
                return None
            fin = m.values[np.isfinite(m.values)]
            scale = 100.0 if fin.size and fin.max() > 1.0 else 1.0
            role = "train_loss" if tag == self.roles.train_loss else "val_loss"
            return Curve(tag, role, "min", m.steps, 1.0 - m.values / scale, m.wall_time)
        if tag in self.roles.derived:
            found = [self.curve(t) for t in self.roles.derived[tag]]
            parts = [p for p in found if p is not None and len(p)]
            if not parts:
                return None
            steps = parts[0].steps
            for p in parts[1:]:
                steps = np.intersect1d(steps, p.steps)
            total = np.zeros(len(steps))
            for p in parts:
                s, at = np.unique(p.steps, return_index=True)
                total += p.values[at][np.searchsorted(s, steps)]
            first = self.roles.tags[self.roles.derived[tag][0]]
            return Curve(tag, first.role, "min", steps, total)
        idx = self._index().get(tag)
        if idx is None:
            return None
        # the rows of the tag, column by column (no sub-frame: ~0.2 ms each)
        return Curve(
            tag,
            info.role if info else "other",
            info.direction if info else None,
            np.asarray(self.column("step"), dtype=np.int64)[idx],
            np.asarray(self.column("value"), dtype=np.float64)[idx],
            np.asarray(self.column("wall_time"), dtype=np.float64)[idx],
        )

    @property
    def setup(self) -> Setup:
        """How the run was trained, from its format, files, tags and settings
        (:func:`analyzer.setup.detect_setup`)."""
        return detect_setup(self.format, self.files, self.hparams, self.tags, self.id)

    @property
    def train(self) -> Curve | None:
        return self.curve(self.roles.train_loss)

    @property
    def val(self) -> Curve | None:
        return self.curve(self.roles.val_loss)

    def curve_set(self) -> CurveSet:
        """The curves the rules look at: primary losses, metrics, learning rate, other losses."""
        r = self.roles
        primary = {r.train_loss, r.val_loss}
        for name in list(primary):
            if name is not None:  # an unassigned role
                primary.update(r.derived.get(name, []))
        others = tuple(
            replace(c, role=f"{r.adversarial[t]}_loss") if t in r.adversarial else c
            for t, info in sorted(r.tags.items())
            if info.kind == "loss" and t not in primary and (c := self.curve(t)) is not None
        )
        return CurveSet(
            run=self.id,
            train=self.train,
            val=self.val,
            train_metric=self.curve(r.train_metric),
            val_metric=self.curve(r.val_metric),
            lr=self.curve(r.lr),
            other_losses=others,
            hparams=dict(self.hparams),
            setup=self.setup,
        )

    def tag_table(self) -> list[dict[str, Any]]:
        import numpy as np

        rows: list[dict[str, Any]] = []
        primary = {v: k for k, v in self.roles.primary().items() if v}
        for tag, idx in self._index().items():
            info = self.roles.tags[tag]
            steps = self.column("step")[idx]
            vals = self.column("value")[idx]
            rows.append(
                {
                    "tag": tag,
                    "role": primary.get(tag, info.role),
                    "direction": info.direction,
                    "points": int(len(idx)),
                    "nonfinite": int((~np.isfinite(vals)).sum()),
                    "first_step": int(steps.min()) if len(steps) else None,
                    "last_step": int(steps.max()) if len(steps) else None,
                }
            )
        for name, parts in self.roles.derived.items():
            c = self.curve(name)
            rows.append(
                {
                    "tag": name,
                    "role": primary.get(name, "derived"),
                    "direction": "min",
                    "points": len(c) if c is not None else 0,
                    "nonfinite": int((~np.isfinite(c.values)).sum()) if c is not None else 0,
                    "first_step": int(c.steps.min()) if c is not None and len(c) else None,
                    "last_step": int(c.steps.max()) if c is not None and len(c) else None,
                    "derived_from": parts,
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.id,
            "format": self.format,
            "files": self.files,
            "roles": self.roles.primary(),
            "role_reasons": self.roles.reasons,
            "tags": self.tag_table(),
            "notes": self.notes,
            "hparams": _jsonable(self.hparams),
            "setup": self.setup.to_dict(),
        }


def _sorted_blocks(tags: np.ndarray) -> dict[str, np.ndarray] | None:
    """``groupby("tag", sort=True).indices`` of a table whose rows are sorted by tag, as every
    reader returns them: each tag's rows are one block, found by comparing neighbours (pandas'
    groupby factorizes and sorts the whole column, ~0.5 ms a run). None when the tags are not
    strings in sorted blocks (the caller asks pandas)."""
    import numpy as np

    starts = np.flatnonzero(tags[1:] != tags[:-1]) + 1
    keys = tags[np.concatenate(([0], starts))].tolist()
    if not all(type(k) is str for k in keys) or not all(
        a < b for a, b in zip(keys, keys[1:], strict=False)
    ):
        return None
    ends = [*starts.tolist(), len(tags)]
    begins = [0, *starts.tolist()]
    return {k: np.arange(b, e) for k, b, e in zip(keys, begins, ends, strict=True)}


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if np.isfinite(f) else str(f)
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    return str(obj)


#: modules whose package is named otherwise on PyPI (for "pip install ...")
_PACKAGES = {"yaml": "pyyaml", "google.protobuf": "protobuf", "google": "protobuf"}


@dataclass
class LoadResult:
    runs: list[Run] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)


def _get_frame(run: Run) -> pd.DataFrame:
    data = run.__dict__["_data"]
    if not hasattr(data, "iloc"):  # a NumpyTable: the DataFrame, made once
        data = run.__dict__["_data"] = data.to_frame()
    return data


def _set_frame(run: Run, frame: Any) -> None:
    run.__dict__["_data"] = frame
    run.__dict__["_groups"] = None


# ``frame`` is a dataclass field (``Run(..., frame=...)``) read and set through this property
Run.frame = property(_get_frame, _set_frame)  # type: ignore[assignment]


def read_source(
    src: RunSource, display_root: Path | None = None
) -> tuple[Run | None, list[Skipped]]:
    """Read one discovered run; problems become notes or skipped entries, never exceptions."""
    # the readers (and pandas) are imported by the first run read, not by importing this
    # module: answers from the result cache need neither
    from .readers import ReadError, empty_frame, reader_for
    from .readers.hparams import name_hparams

    root = display_root or src.base

    def rel(p: str | Path) -> str:
        try:
            return Path(p).relative_to(root).as_posix()
        except ValueError:
            return Path(p).as_posix()

    skipped: list[Skipped] = []
    try:
        reader = reader_for(src.format)
        if getattr(reader, "READS_TABLE", False):  # its table as numpy columns: no pandas
            res = reader.read(src.run, list(src.files), src.base, lite=True)
        else:
            res = reader.read(src.run, list(src.files), src.base)
    except ReadError as e:
        return None, [Skipped(rel(e.path), e.reason)]
    except ModuleNotFoundError as e:  # a broken install: say what to install
        name = e.name or "?"
        package = _PACKAGES.get(name, name.split(".")[0].replace("_", "-"))
        return None, [
            Skipped(
                rel(src.files[0]) if src.files else src.run,
                f"cannot read {src.format} logs: the package {package!r} is not installed "
                f"(pip install {package})",
            )
        ]
    except Exception as e:  # a reader bug must not stop the analysis of other runs
        return None, [
            Skipped(
                rel(src.files[0]) if src.files else src.run,
                f"internal error while reading ({src.format}): {type(e).__name__}: {e}",
            )
        ]
    frame = res.frame if res.frame is not None else empty_frame()
    for path, reason in res.skipped:
        skipped.append(Skipped(rel(path), reason))
    if frame.empty:
        reason = "no scalar values in it" + (f" ({'; '.join(res.notes[:3])})" if res.notes else "")
        skipped.append(Skipped(src.run, reason))
        return None, skipped
    frame = frame.assign(run=src.run)
    hparams = dict(res.hparams)
    named = {k: v for k, v in name_hparams(src.run).items() if k not in hparams}
    hparams.update(named)
    notes = list(src.notes) + list(res.notes)
    if named:
        notes.append(f"hyperparameter(s) from the folder name: {', '.join(named)}")
    run = Run(
        id=src.run,
        format=src.format,
        files=[rel(f) for f in (res.files or src.files)],
        frame=frame,
        roles=Roles(),
        notes=notes,
        hparams=hparams,
    )
    return run, skipped


def assign(run: Run, *, train_loss: str | None = None, val_loss: str | None = None) -> None:
    import numpy as np

    idx = run._index()
    steps = run.column("step")
    vals = run.column("value")
    starts = _block_starts(idx)
    if starts is not None:  # each tag's rows one block, blocks in order: one pass for all
        finite = np.add.reduceat(np.isfinite(vals).astype(np.int64), starts).tolist()
        lows = np.minimum.reduceat(steps, starts).tolist()
        highs = np.maximum.reduceat(steps, starts).tolist()
        points = dict(zip(idx, finite, strict=True))
        ranges = dict(zip(idx, zip(lows, highs, strict=True), strict=True))
    else:
        points = {t: int(np.isfinite(vals[i]).sum()) for t, i in idx.items()}
        ranges = {t: (int(steps[i].min()), int(steps[i].max())) for t, i in idx.items()}
    tl = train_loss if train_loss in idx else None
    vl = val_loss if val_loss in idx else None
    run.roles = assign_roles(points, train_loss=tl, val_loss=vl, tag_steps=ranges)
    run.notes.extend(n for n in run.roles.notes if n not in run.notes)
    for name, given in (("train-loss", train_loss), ("val-loss", val_loss)):
        if given is not None and given not in idx:
            run.notes.append(_override_note(name, given, sorted(idx)))


def _block_starts(idx: dict[str, np.ndarray]) -> np.ndarray | None:
    """The first row of each tag when the tags' rows (ascending positions, as groupby and
    :func:`_sorted_blocks` give them) are consecutive blocks that follow each other from row 0,
    else None."""
    import numpy as np

    at = 0
    starts = []
    for i in idx.values():
        if not len(i) or i[0] != at or i[-1] != at + len(i) - 1:
            return None
        starts.append(at)
        at += len(i)
    return np.array(starts, dtype=np.intp) if starts else None


_OVERRIDE_END = "); chose automatically instead"


def _override_note(name: str, given: str, tags: list[str]) -> str:
    return f"--{name} {given!r} is not a tag of this run (tags: {', '.join(tags)}{_OVERRIDE_END}"


def override_tags(notes: Iterable[str], name: str, given: str) -> str | None:
    """The run's tags (comma-separated) as the reader note of :func:`assign` lists them when
    the role override ``--<name> <given>`` is not a tag of the run; None when no such note
    (the tag exists in the run, or no override was given)."""
    head = _override_note(name, given, [])[: -len(_OVERRIDE_END)]
    for n in notes:
        if n.startswith(head) and n.endswith(_OVERRIDE_END):
            return n[len(head) : -len(_OVERRIDE_END)]
    return None


def load(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    train_loss: str | None = None,
    val_loss: str | None = None,
    input_format: str | None = None,
) -> LoadResult:
    """Discover and read every run under ``paths`` and assign roles; ``input_format`` forces
    the reader of the paths that are files (see :func:`analyzer.discover.discover`).

    Raises FileNotFoundError when a path does not exist.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths, dropped = distinct_roots(list(paths))
    out = LoadResult()
    out.skipped.extend(dropped)
    many = len(paths) > 1
    for p in paths:
        disc: Discovery = discover(p, input_format=input_format)
        out.roots.append(str(p))
        prefix = root_prefix(p) if many else ""
        for s in disc.skipped:
            out.skipped.append(Skipped(prefix + s.path, s.reason))
        for src in disc.runs:
            run, skipped = read_run(
                src, disc.root, prefix, train_loss=train_loss, val_loss=val_loss
            )
            out.skipped.extend(skipped)
            if run is not None:
                out.runs.append(run)
    return out


def read_run(
    src: RunSource,
    root: Path,
    prefix: str = "",
    *,
    train_loss: str | None = None,
    val_loss: str | None = None,
) -> tuple[Run | None, list[Skipped]]:
    """Read one discovered run and assign its roles: the run (None when nothing was readable)
    and the files skipped, with ``prefix`` (the root's name when several roots are checked)
    in front of the run id and of every skipped path."""
    run, skipped = read_source(src, root)
    skipped = [Skipped(prefix + s.path, s.reason) for s in skipped]
    if run is None:
        return None, skipped
    if prefix:
        run.id = prefix + run.id
        run.frame = run._table.assign(run=run.id)
    assign(run, train_loss=train_loss, val_loss=val_loss)
    return run, skipped
