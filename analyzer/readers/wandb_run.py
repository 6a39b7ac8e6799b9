"""Weights & Biases run folders: ``wandb/run-<time>-<id>/`` (synced) and
``wandb/offline-run-<time>-<id>/`` (``WANDB_MODE=offline``).

* **History** from the run's transaction log ``run-<id>.wandb``: a LevelDB-style log (a 7-byte
  header ``:W&B``, magic ``0xBEE1``, version 0; 32 KiB blocks of chunks ``crc32 | length | type |
  data``, the CRC a zlib CRC-32 seeded with the type byte) of protobuf ``Record`` messages. The
  records are decoded with the ``wandb`` package's own message classes
  (``wandb.proto.wandb_internal_pb2``): install the extra, ``pip install 'curvelint[wandb]'``;
  without it the run is skipped with that hint. (The package no longer ships a Python reader
  of the framing - its Go core reads the log - so the framing is read here; a chunk whose CRC
  does not match is noted and skipped, a cut last chunk - a run still writing - is noted.)
  Every ``history`` record is one ``wandb.log`` call: step = its ``_step``, wall time =
  ``_timestamp``, every numeric item a point (nested keys joined with ``.``, as the W&B UI shows
  them); media, histograms and tables are not curves (counted in a note); keys starting with
  ``_`` are W&B's own bookkeeping.
* ``wandb-history.jsonl`` (in the run folder or its ``files/``), where older clients wrote the
  history as JSON lines (same keys), is read when the folder has no readable ``.wandb`` log.
* **Run name and config**: the ``run`` record (display name, project, config) and ``config``
  records of the log; ``config.yaml`` (``key: {value: …}``, older clients and synced runs) and
  ``wandb-metadata.json`` (in the run folder or its ``files/``) (program, host, start time) when present. Config values
  become the run's hyper-parameters.
* A resumed run (``resume=…``) writes a new folder with the same run id; discovery hands all of
  them to one run (in time order) and steps that go back are resolved by
  :func:`~analyzer.readers.base.apply_restarts`.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .base import ReadError, ReadResult, empty_frame, finish, make_frame, read_bytes
from .hparams import flatten

FORMAT = "wandb"
INSTALL_HINT = "pip install 'curvelint[wandb]'"

_HEADER = struct.pack("<4sHB", b":W&B", 0xBEE1, 0)
_BLOCK = 32768
_CHUNK_HEADER = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_TYPE_CRC = {t: zlib.crc32(bytes([t])) for t in range(1, 5)}
_META_KEYS = ("program", "codePath", "host", "startedAt", "os", "python", "gpu", "cuda", "args")


class _Framing:
    """What went wrong while splitting a log into records."""

    def __init__(self) -> None:
        self.bad_crc = 0
        self.truncated = False
        self.broken = 0  # FIRST/MIDDLE/LAST chunks out of order


def records(data: bytes, problems: _Framing) -> Iterator[bytes]:
    """The record payloads of a W&B transaction log (after its header), in order."""
    pos = len(_HEADER)
    pending: bytearray | None = None
    n = len(data)
    while pos < n:
        left = _BLOCK - pos % _BLOCK
        if left < _CHUNK_HEADER:  # block trailer: zero padding
            pos += left
            continue
        if pos + _CHUNK_HEADER > n:
            problems.truncated = True
            return
        crc, length, kind = struct.unpack_from("<IHB", data, pos)
        if kind == 0 and length == 0:  # zeros: the rest of the block is padding
            pos += left
            continue
        end = pos + _CHUNK_HEADER + length
        if end > n:
            problems.truncated = True
            return
        chunk = data[pos + _CHUNK_HEADER : end]
        if kind not in _TYPE_CRC or zlib.crc32(chunk, _TYPE_CRC[kind]) != crc:
            problems.bad_crc += 1
            pending = None
            pos += left  # the length may be damaged too: go on at the next block
            continue
        pos = end
        if kind == _FULL:
            pending = None
            yield chunk
        elif kind == _FIRST:
            pending = bytearray(chunk)
        elif pending is None:
            problems.broken += 1
        elif kind == _MIDDLE:
            pending += chunk
        else:  # _LAST
            yield bytes(pending + chunk)
            pending = None
    if pending is not None:
        problems.truncated = True


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _float(v: int | float) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


class _History:
    """Points of one run folder: rows (step, wall time, {tag: value})."""

    def __init__(self) -> None:
        self.tags: list[str] = []
        self.steps: list[int] = []
        self.values: list[float] = []
        self.walls: list[float] = []
        self.not_curves: dict[str, int] = {}
        self.rows = 0

    def add(self, row: dict[str, Any], fallback_step: int) -> None:
        raw_step: Any = row.get("_step")
        ok = _is_number(raw_step) and math.isfinite(raw_step) and abs(raw_step) < 9.2e18
        step = int(raw_step) if ok else fallback_step
        raw_wall: Any = row.get("_timestamp")
        wall = _float(raw_wall) if _is_number(raw_wall) else math.nan
        self.rows += 1
        # media, histograms, tables: a "<key>._type" item with their fields beside it (some of
        # them numbers, e.g. an image's width), or a dict with "_type" (older clients)
        media = {k[: -len("._type")] for k in row if k.endswith("._type")}
        media.update(k for k, v in row.items() if isinstance(v, dict) and "_type" in v)
        for m in media:
            self.not_curves[m] = self.not_curves.get(m, 0) + 1
        for key, v in row.items():
            if key.startswith("_") or key in media:
                continue
            if media and "." in key and any(key.startswith(m + ".") for m in media):
                continue
            if _is_number(v):
                self.tags.append(key)
                self.steps.append(step)
                self.values.append(_float(v))
                self.walls.append(wall)
            elif v is not None:
                self.not_curves[key] = self.not_curves.get(key, 0) + 1

    def frame(self, run: str) -> pd.DataFrame:
        return make_frame(run, self.tags, self.steps, self.values, self.walls)


def _record_class():
    try:
        from wandb.proto import wandb_internal_pb2
    except ImportError as e:
        raise ImportError(
            f"a Weights & Biases run log: reading it needs the wandb package ({INSTALL_HINT})"
        ) from e
    return wandb_internal_pb2.Record


def _key(item: Any) -> str:
    return ".".join(item.nested_key) if len(item.nested_key) else item.key


def _read_log(path: Path, result: ReadResult, hparams: dict[str, Any]) -> _History:
    data = read_bytes(path)
    if not data.startswith(_HEADER):
        raise ReadError(path, "not a W&B transaction log (no ':W&B' header)")
    record_cls = _record_class()
    problems = _Framing()
    hist = _History()
    undecodable = 0
    for payload in records(data, problems):
        rec = record_cls()
        try:
            rec.ParseFromString(payload)
        except Exception:  # protobuf's DecodeError: a record of another version or damaged
            undecodable += 1
            continue
        kind = rec.WhichOneof("record_type")
        if kind == "history":
            row = {_key(it): _value(it.value_json) for it in rec.history.item}
            hist.add(row, int(rec.history.step.num))
        elif kind == "run":
            r = rec.run
            if r.display_name:
                hparams["wandb.name"] = r.display_name
            if r.run_id:
                hparams["wandb.id"] = r.run_id
            if r.project:
                hparams["wandb.project"] = r.project
            for it in r.config.update:
                _config_item(hparams, _key(it), _value(it.value_json))
        elif kind == "config":
            for it in rec.config.update:
                _config_item(hparams, _key(it), _value(it.value_json))
    name = path.name
    if problems.bad_crc:
        result.notes.append(f"{name}: {problems.bad_crc} chunk(s) with a bad checksum skipped")
    if problems.broken:
        result.notes.append(f"{name}: {problems.broken} chunk(s) of a record cut by damage skipped")
    if problems.truncated:
        result.notes.append(f"{name}: the last record is cut (the run was still writing?)")
    if undecodable:
        result.notes.append(f"{name}: {undecodable} record(s) that are not W&B records skipped")
    return hist


def _config_item(hparams: dict[str, Any], key: str, value: Any) -> None:
    if key.startswith("_") or value is None:
        return
    if isinstance(value, dict) and set(value) <= {"value", "desc"} and "value" in value:
        value = value["value"]  # config.yaml's {value: …, desc: …}
    if isinstance(value, dict):
        for k, v in flatten(value).items():
            hparams[f"{key}.{k}"] = v
    else:
        hparams[key] = value


def _read_history_jsonl(path: Path, result: ReadResult) -> _History:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise ReadError(path, f"cannot read: {e.strerror or e}") from e
    hist = _History()
    bad = 0
    for i, line in enumerate(ln for ln in text.split("\n") if ln.strip()):
        try:
            row = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if not isinstance(row, dict):
            bad += 1
            continue
        clean = flatten(row)
        hist.add(clean, i)
    if bad:
        result.notes.append(f"{path.name}: {bad} line(s) that are not JSON objects skipped")
    if not hist.rows:
        raise ReadError(path, "no history rows (no JSON object lines)")
    return hist


def _read_side_files(paths: list[Path], result: ReadResult, hparams: dict[str, Any]) -> None:
    from .hparams import YamlError, parse_yaml

    for p in paths:
        if p.name == "config.yaml":
            try:
                doc = parse_yaml(p.read_text(encoding="utf-8", errors="replace"), str(p))
            except (OSError, YamlError) as e:
                result.notes.append(f"{p.name}: not read ({e})")
                continue
            if isinstance(doc, dict):
                for k, v in doc.items():
                    if str(k) != "wandb_version":
                        _config_item(hparams, str(k), v)
        elif p.name == "wandb-metadata.json":
            try:
                meta = json.loads(p.read_text(encoding="utf-8", errors="replace"))
            except (OSError, ValueError) as e:
                result.notes.append(f"{p.name}: not read ({e})")
                continue
            if isinstance(meta, dict):
                for k in _META_KEYS:
                    if isinstance(meta.get(k), (str, int, float)):
                        hparams[f"wandb.{k}"] = meta[k]


#: the files of a run folder besides its history that :func:`_read_side_files` reads
_SIDE_NAMES = ("config.yaml", "wandb-metadata.json")


def _folder(p: Path) -> Path:
    """The run folder of one of its files (``files/…`` sits one level down)."""
    return p.parent.parent if p.parent.name == "files" else p.parent


def read(run: str, paths: list[Path], base: Path) -> ReadResult:
    """Read one W&B run: its folders (several = a resumed run, in time order)."""
    result = ReadResult(frame=empty_frame())
    folders: dict[Path, list[Path]] = {}
    for p in paths:
        folders.setdefault(_folder(Path(p)), []).append(Path(p))
    hparams: dict[str, Any] = {}
    frames = []
    for folder, files in folders.items():
        # any file that is neither a history nor a side file is a record log (``.wandb``, or a
        # copy under another name read with ``--input-format wandb``)
        jsonl = [f for f in files if f.name == "wandb-history.jsonl" or f.suffix == ".jsonl"]
        logs = sorted(f for f in files if f not in jsonl and f.name not in _SIDE_NAMES)
        _read_side_files([f for f in files if f.name != "wandb-history.jsonl"], result, hparams)
        hist = None
        why: tuple[str, str] | None = None
        for log in logs:
            try:
                hist = _read_log(log, result, hparams)
                result.files.append(str(log))
                break
            except ReadError as e:
                why = (e.path, e.reason)
            except ImportError as e:
                why = (str(log), str(e))
        if hist is None or not hist.rows:
            for j in jsonl:
                try:
                    hist = _read_history_jsonl(j, result)
                    result.files.append(str(j))
                    if why is not None:
                        result.notes.append(
                            f"{Path(why[0]).name}: not read ({why[1]}); the history was read "
                            f"from {j.name}"
                        )
                        why = None
                    break
                except ReadError as e:
                    why = why or (e.path, e.reason)
        if why is not None:
            result.skipped.append(why)
        if hist is None:
            continue
        if hist.not_curves:
            shown = ", ".join(repr(k) for k in list(hist.not_curves)[:6])
            more = f" and {len(hist.not_curves) - 6} more" if len(hist.not_curves) > 6 else ""
            result.notes.append(
                f"{folder.name}: logged value(s) that are not numbers (media, tables, "
                f"histograms) not read: {shown}{more}"
            )
        if hist.tags:
            frames.append(hist.frame(run))
    result.hparams = hparams
    if "wandb.name" in hparams:
        result.notes.insert(
            0, f"W&B run {hparams['wandb.name']!r} (id {hparams.get('wandb.id', '?')})"
        )
    if len(folders) > 1:
        result.notes.append(
            f"{len(folders)} run folders with the same run id (a resumed run): read as one"
        )
    if not frames:
        if result.skipped:
            path, reason = result.skipped[0]
            raise ReadError(path, reason)
        raise ReadError(paths[0] if paths else base, "no numeric history in the run")
    return finish(result, frames, run)
