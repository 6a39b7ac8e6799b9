"""Readers: one module per log format, all returning the canonical long table.

Every reader module exposes ``FORMAT`` (its name) and
``read(run: str, paths: list[Path], base: Path) -> ReadResult`` where ``base`` is the run's folder
(files in sub-folders of it, e.g. Keras' ``train/`` and ``validation/``, get that sub-folder as a
tag prefix). Text tables are recognised by :func:`sniff_table`. A module that sets
``READS_TABLE = True`` also takes ``lite=True`` and may then return its table as numpy columns
(:class:`.base.NumpyTable`, what a check reads, without pandas) instead of a DataFrame.

Importing this package imports neither pandas nor any reader: discovery and the result cache's
answers need neither (``curvelint check`` on unchanged runs). The names of :mod:`.base` are
loaded on first use.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import COLUMNS, ReadError, ReadResult, apply_restarts, empty_frame, make_frame

#: the names re-exported from :mod:`.base` (which imports pandas), loaded on first use
_FROM_BASE = frozenset(
    ("COLUMNS", "ReadError", "ReadResult", "apply_restarts", "empty_frame", "make_frame")
)


def __getattr__(name: str) -> Any:
    if name in _FROM_BASE:
        from . import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# format name -> module (imported lazily so that `curvelint --help` stays fast)
FORMATS: dict[str, str] = {
    "tensorboard": "analyzer.readers.tensorboard",
    "keras-csv": "analyzer.readers.keras_csv",
    "lightning-csv": "analyzer.readers.lightning_csv",
    "ultralytics-csv": "analyzer.readers.ultralytics_csv",
    "csv": "analyzer.readers.generic_csv",
    "jsonl": "analyzer.readers.jsonl",
    "hf-trainer-state": "analyzer.readers.hf_trainer",
    "mlflow": "analyzer.readers.mlflow",
    "text": "analyzer.readers.console_reader",
    "wandb": "analyzer.readers.wandb_run",
}


#: short names ``--input-format`` accepts besides the format names above
FORMAT_ALIASES: dict[str, str] = {
    "tb": "tensorboard",
    "hf": "hf-trainer-state",
    "lightning": "lightning-csv",
    "ultralytics": "ultralytics-csv",
}


def input_format(name: str) -> str:
    """The format a ``--input-format`` name stands for; KeyError for an unknown one."""
    fmt = FORMAT_ALIASES.get(name, name)
    if fmt not in FORMATS or fmt == "mlflow":  # an MLflow run is a folder, never one file
        raise KeyError(name)
    return fmt


def reader_for(fmt: str) -> ModuleType:
    return importlib.import_module(FORMATS[fmt])


def sniff_table(path: Path) -> tuple[str | None, str]:
    """Decide which table format a text file is: (format, "") or (None, reason it is not a log)."""
    from .sniff import sniff

    return sniff(path)


__all__ = [
    "COLUMNS",
    "FORMATS",
    "FORMAT_ALIASES",
    "ReadError",
    "ReadResult",
    "apply_restarts",
    "empty_frame",
    "input_format",
    "make_frame",
    "reader_for",
    "sniff_table",
]
