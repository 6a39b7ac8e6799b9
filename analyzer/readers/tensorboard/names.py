"""File order and tag names of TensorBoard runs: the one rule for the order in which the event
files of a folder were written (used by discovery, the batch reader and ``watch``), and the tag
names of files in sub-folders. Light on purpose: importing it does not load numpy or protobuf."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_TS = re.compile(r"tfevents\.(\d+)")


def _natural(s: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def file_order_key(path: Path) -> tuple[Any, ...]:
    """Sort key: files of one folder in the order they were written. ``events.out.tfevents.<t>...``
    is ordered by the timestamp ``t`` (a name without one goes last), then by the name in natural
    order (digit runs compared as numbers, letters case-sensitively)."""
    m = _TS.search(path.name)
    ts = int(m.group(1)) if m else float("inf")
    return (ts, _natural(path.name))


def prefixed_tag(folder: str, tag: str) -> str:
    """Tag name for a file in ``folder`` (relative to the run folder, ``""`` for the run folder).
    ``add_scalars("Loss", {"train": ...})`` writes tag ``Loss`` into ``Loss_train/`` (PyTorch) or
    ``Loss/train/`` (tensorboardX): both read as ``Loss/train``."""
    if not folder:
        return tag
    parent, _, last = folder.rpartition("/")
    if parent and parent.rpartition("/")[2] == tag.replace("/", "_"):
        return f"{parent}/{last}"
    stem = tag.replace("/", "_") + "_"
    if last.startswith(stem) and len(last) > len(stem):
        key = last[len(stem) :]
        return f"{parent}/{tag}/{key}" if parent else f"{tag}/{key}"
    return f"{folder}/{tag}"
