"""MLflow file store runs: ``mlruns/<experiment_id>/<run_id>/``.

* ``metrics/<key>``: one file per metric; keys with ``/`` are nested folders
  (``metrics/train/loss`` -> tag ``train/loss``). Each line is ``<timestamp_ms> <value> <step>``;
  very old MLflow wrote no step (-> 0). wall_time = timestamp / 1000.
* a metric whose every step is 0 although it has several points was logged without ``step=``:
  the logging order is used as the step instead (noted).
* ``params/<key>`` -> hparams (numbers converted, other values as text).
* ``tags/mlflow.runName`` (or ``run_name`` in ``meta.yaml``) -> a note and
  ``hparams['mlflow.runName']``; a run marked deleted, failed, killed or still running is noted.
* steps that go back (a resumed run logging into the same run) are resolved by
  :func:`~analyzer.readers.base.apply_restarts`.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .base import Points, ReadError, ReadResult, step_ok
from .hparams import YamlError, load_yaml, param_value
from .text import decode_text

FORMAT = "mlflow"
_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


def _walk(folder: Path) -> list[Path]:
    out: list[Path] = []
    for dp, dns, fns in os.walk(folder):
        dns.sort()
        out.extend(Path(dp) / f for f in sorted(fns) if not f.startswith("."))
    return out


def _key(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


#: a metric file as MLflow writes it, every line ``<timestamp_ms> <value> <step>`` with single
#: spaces (integer time stamp and step, the value as Python prints a float): read by
#: :func:`_parse_plain` with one split and one conversion to the numbers the general parse gives
_INT = r"-?[0-9]{1,18}"  # fits int64: pandas and numpy give the same float
_EXP = r"(?:[eE][+-]?[0-9]+)"
_FLOAT = (
    rf"[+-]?(?:[0-9]{{1,18}}|[0-9]+\.[0-9]*{_EXP}?|[0-9]+{_EXP}|\.[0-9]+{_EXP}?)|-?(?:nan|NaN|inf)"
)
_LINE = rf"{_INT} (?:{_FLOAT}) {_INT}"
_PLAIN_RE = re.compile(rf"(?:{_LINE}\n)*{_LINE}\n?")


def _parse_plain(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool] | None:
    """:func:`_read_metric`'s answer for a file of plain lines only (``_PLAIN_RE``), else None.
    Every line has its three fields and a value is NaN only where the file says nan, so a line
    is kept exactly when its time stamp and step are usable. A negative zero (pandas reads a
    whole-number ``-0`` as 0) is left to the general parse."""
    if _PLAIN_RE.fullmatch(text) is None:
        return None
    cells = np.array(text.split(), dtype=np.float64).reshape(-1, 3)
    if np.signbit(cells[cells == 0.0]).any():
        return None
    cells[np.isnan(cells)] = np.nan  # one NaN (``-nan`` would keep its sign bit)
    ts, vals, steps = cells[:, 0], cells[:, 1], cells[:, 2]
    ok = np.isfinite(ts) & step_ok(steps)
    return (
        np.round(steps[ok]).astype(np.int64),
        vals[ok],
        ts[ok] / 1000.0,
        len(cells) - int(ok.sum()),
        bool(ok.any()),
    )


def _read_metric(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool]:
    """(steps, values, wall times, bad lines, had steps) of one metric file."""
    text = decode_text(path.read_bytes())
    plain = _parse_plain(text)
    return plain if plain is not None else _parse_any(text, path)


def _parse_any(text: str, path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool]:
    """:func:`_read_metric` of any text: pandas' parser, each field checked."""
    if not text.strip():
        raise ReadError(path, "empty metric file")
    import pandas as pd  # only here: MLflow's own files are read by _parse_plain

    df = pd.read_csv(
        io.StringIO(text),
        sep=r"\s+",
        header=None,
        names=["ts", "value", "step"],
        engine="c",
        on_bad_lines="skip",
        dtype=str,
        keep_default_na=False,
        na_filter=False,
    )
    ts = pd.to_numeric(df["ts"], errors="coerce").to_numpy(dtype=np.float64)
    val_s = df["value"].str.strip()
    vals = pd.to_numeric(val_s, errors="coerce").to_numpy(dtype=np.float64)
    is_nan = val_s.str.lower().isin({"nan", "-nan"}).to_numpy()
    step_s = df["step"].str.strip()
    has_step = (step_s != "").to_numpy()
    steps = pd.to_numeric(step_s.where(step_s != "", "0"), errors="coerce").to_numpy(
        dtype=np.float64
    )
    ok = np.isfinite(ts) & (~np.isnan(vals) | is_nan) & step_ok(steps)
    n_lines = sum(1 for ln in text.splitlines() if ln.strip())
    bad = n_lines - int(ok.sum())
    return (
        np.round(steps[ok]).astype(np.int64),
        vals[ok],
        ts[ok] / 1000.0,
        bad,
        bool(has_step[ok].any()),
    )


def _read_text(path: Path) -> str:
    return decode_text(path.read_bytes()).strip()


#: what :func:`read` reads of a run folder (its ``artifacts/``, models and the like, never):
#: a remote run folder is downloaded only this far (analyzer.remote)
RUN_FOLDER_PARTS = ("metrics", "params", "tags", "meta.yaml")


#: :func:`read` can return its table as a :class:`~analyzer.readers.base.NumpyTable` (``lite``)
READS_TABLE = True


def read(run: str, paths: list[Path], base: Path, *, lite: bool = False) -> ReadResult:
    """Read one MLflow run folder (``base``); ``paths`` are its metric files (all when empty).
    ``lite``: the table may be a :class:`~analyzer.readers.base.NumpyTable` (as a check reads it)."""
    base = Path(base)
    result = ReadResult(frame=None)  # type: ignore[arg-type]  # set below, or ReadError
    metrics_dir = base / "metrics"
    files = [Path(p) for p in paths] if paths else _walk(metrics_dir)
    if not files and not metrics_dir.is_dir():
        raise ReadError(base, "no metrics/ folder (not an MLflow run folder?)")
    _read_meta(base, result)
    points = Points()
    for p in files:
        try:
            key = _key(p, metrics_dir)
        except ValueError:
            key = p.name
        try:
            st, va, wt, bad, had_steps = _read_metric(p)
        except ReadError as e:
            result.skipped.append((str(p), e.reason))
            continue
        except (OSError, ValueError) as e:
            result.skipped.append((str(p), f"could not be read: {e}"))
            continue
        result.files.append(str(p))
        if bad:
            result.notes.append(f"metric {key!r}: {bad} malformed line(s) skipped")
        if len(st) == 0:
            result.skipped.append((str(p), "no valid '<timestamp> <value> <step>' line"))
            continue
        if len(st) > 1 and not st.any():
            st = np.arange(len(st), dtype=np.int64)
            why = "logged without step" if had_steps else "old format without steps"
            result.notes.append(
                f"metric {key!r}: {why} (all steps 0); the logging order is the step"
            )
        points.add(key, st, va, wt)
    if not len(points):
        if result.skipped:
            raise ReadError(*result.skipped[0])
        raise ReadError(metrics_dir, "no metric files")
    result.frame, notes = points.frame(run, lite=lite)  # type: ignore[assignment]
    result.notes.extend(notes)
    return result


def _read_meta(base: Path, result: ReadResult) -> None:
    """params/ -> hparams, run name and status -> notes."""
    params = base / "params"
    if params.is_dir():
        for p in _walk(params):
            try:
                result.hparams[_key(p, params)] = param_value(_read_text(p))
            except OSError:
                continue
    run_name = None
    name_file = base / "tags" / "mlflow.runName"
    if name_file.is_file():
        with contextlib.suppress(OSError):
            run_name = _read_text(name_file)
    meta: dict[str, Any] = {}
    if (base / "meta.yaml").is_file():
        try:
            meta = load_yaml(base / "meta.yaml")
        except YamlError as e:
            result.notes.append(str(e))
        except Exception as e:
            result.notes.append(f"meta.yaml could not be read ({type(e).__name__})")
    if not run_name and meta.get("run_name"):
        run_name = str(meta["run_name"])
    if run_name:
        result.hparams["mlflow.runName"] = run_name
        result.notes.append(f"MLflow run name: {run_name}")
    if meta.get("lifecycle_stage") == "deleted":
        result.notes.append("the run is marked deleted in MLflow")
    status = meta.get("status")
    status = _STATUS.get(status, status) if isinstance(status, int) else status
    if status and status != "FINISHED":
        result.notes.append(f"MLflow status: {status}")
