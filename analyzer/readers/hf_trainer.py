"""Hugging Face ``Trainer`` state: ``trainer_state.json`` (also inside ``checkpoint-N/``).

``log_history`` is a list of dicts, one per logging call:

* training entries ``{loss, grad_norm, learning_rate, epoch, step}``,
* evaluation entries ``{eval_loss, eval_<metric>…, eval_runtime…, epoch, step}``,
* one final summary ``{train_loss, train_runtime, train_samples_per_second,
  train_steps_per_second, total_flos, epoch, step}``.

Tags are the keys as written (``loss``, ``eval_loss``, ``learning_rate``, ``grad_norm``,
``eval_accuracy``…), step = the entry's ``step`` (global optimizer step). ``epoch`` (fractional)
is kept as the tag ``epoch``, one point per step, to map steps to epochs; it is an axis, not a
curve. The summary entry's aggregates are not curves: they are skipped and said in a note. Bare
``NaN``/``Infinity`` tokens are logged values and kept. Top-level facts (``best_metric``,
``best_model_checkpoint``, ``global_step``, ``max_steps``, ``num_train_epochs``,
``train_batch_size``, ``logging_steps``, ``trial_params``…) go to hparams, and so do the
settings of the model's ``config.json`` beside the newest state file (the Trainer saves it there).

Several files for one run (checkpoint copies are prefixes of the final state) are merged:
identical points are kept once, and steps that go back are resolved by
:func:`~analyzer.readers.base.apply_restarts`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .base import STEP_MAX, Points, ReadError, ReadResult
from .columns import tag_prefix
from .hparams import flatten, read_sidecar_hparams
from .side_files import HF_SIDE_FILES
from .text import decode_text

FORMAT = "hf-trainer-state"
SUMMARY_KEYS = {
    "train_runtime",
    "train_samples_per_second",
    "train_steps_per_second",
    "total_flos",
    "train_loss",
}
# top-level keys that are process bookkeeping, not facts about the run
_NOT_HPARAMS = {
    "log_history",
    "stateful_callbacks",
    "is_local_process_zero",
    "is_world_process_zero",
}


def _is_summary(entry: dict[str, Any]) -> bool:
    return "train_runtime" in entry or "total_flos" in entry


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        return float(v)
    except OverflowError:  # an integer beyond any float (JSON allows 10**400)
        return math.inf if v > 0 else -math.inf


def frame_from_state(
    run: str, path: Path, base: Path, state: dict[str, Any], result: ReadResult
) -> Points:
    """The points of one parsed trainer state; adds notes and hparams to ``result``."""
    name = path.name if path.parent == base else tag_prefix(path, base) + path.name
    history = state.get("log_history")
    if not isinstance(history, list):
        raise ReadError(path, "no 'log_history' list (not a Hugging Face trainer_state.json?)")
    for k, v in state.items():
        if k in _NOT_HPARAMS:
            continue
        if isinstance(v, dict):
            for fk, fv in flatten(v).items():
                result.hparams.setdefault(f"{k}.{fk}", fv)
        elif not isinstance(v, list):
            result.hparams.setdefault(k, v)
    ids: dict[str, int] = {}  # tag -> its code in the points
    codes: list[int] = []
    steps: list[int] = []
    values: list[float] = []
    epoch_seen: set[int] = set()
    last_step = 0
    no_step = 0
    too_big = 0
    skipped_keys: dict[str, int] = {}
    for entry in history:
        if not isinstance(entry, dict):
            continue
        if any(isinstance(v, dict) for v in entry.values()):
            entry = flatten(entry, "/")  # e.g. per-class metrics logged as a dict
        st = _number(entry.get("step"))
        if st is not None and not math.isnan(st) and not (math.isfinite(st) and abs(st) < STEP_MAX):
            too_big += 1  # a step no int64 holds (1e19, 1e30): that entry is dropped
            continue
        if st is None or not math.isfinite(st):
            no_step += 1
            step = last_step
        else:
            step = int(round(st))
            last_step = step
        summary = _is_summary(entry)
        if summary:
            agg = {k: entry[k] for k in entry if k in SUMMARY_KEYS}
            shown = ", ".join(
                f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in agg.items()
            )
            result.notes.append(
                f"{name}: final summary at step {step} not read as curves ({shown})"
            )
        for k, v in entry.items():
            if k == "step" or (summary and k in SUMMARY_KEYS):
                continue
            x = _number(v)
            if x is None:
                skipped_keys[k] = skipped_keys.get(k, 0) + 1
                continue
            if k == "epoch":
                if summary or step in epoch_seen:
                    continue
                epoch_seen.add(step)
            codes.append(ids.setdefault(k, len(ids)))
            steps.append(step)
            values.append(x)
    if no_step:
        result.notes.append(f"{name}: {no_step} log entr(ies) without 'step' took the step before")
    if too_big:
        result.notes.append(
            f"{name}: {too_big} log entr(ies) with a step beyond 64-bit integers dropped"
        )
    if skipped_keys:
        result.notes.append(
            f"{name}: non-numeric key(s) {', '.join(map(repr, skipped_keys))} skipped"
        )
    points = Points()
    points.add_codes(list(ids), codes, steps, values)
    return points


def _load(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ReadError(path, f"cannot read: {e.strerror or e}") from e
    if not raw.strip():
        raise ReadError(path, "empty file" + (" (0 bytes)" if not raw else ""))
    try:
        state = json.loads(decode_text(raw))  # NaN / Infinity bare tokens are accepted
    except ValueError as e:
        raise ReadError(path, f"not valid JSON ({e})") from e
    except RecursionError as e:
        raise ReadError(path, "JSON nested too deeply to be a trainer state") from e
    if not isinstance(state, dict):
        raise ReadError(path, f"a JSON {type(state).__name__}, not a trainer state object")
    return state


#: :func:`read` can return its table as a :class:`~analyzer.readers.base.NumpyTable` (``lite``)
READS_TABLE = True


def read(run: str, paths: list[Path], base: Path, *, lite: bool = False) -> ReadResult:
    """Read the ``trainer_state.json`` file(s) of one Hugging Face run.
    ``lite``: the table may be a :class:`~analyzer.readers.base.NumpyTable` (as a check reads it)."""
    result = ReadResult(frame=None)  # type: ignore[arg-type]  # set below, or ReadError
    loaded: list[tuple[float, Path, dict[str, Any]]] = []
    for p in paths:
        p = Path(p)
        try:
            state = _load(p)
        except ReadError as e:
            result.skipped.append((str(p), e.reason))
            continue
        gs = _number(state.get("global_step"))
        loaded.append((gs if gs is not None else -1.0, p, state))
    # oldest checkpoint first, so that the final state's values are the ones kept
    loaded.sort(key=lambda t: t[0])
    frames = []
    for _, p, state in loaded:
        try:
            f = frame_from_state(run, p, Path(base), state, result)
        except ReadError as e:
            result.skipped.append((str(p), e.reason))
            continue
        result.files.append(str(p))
        if len(f):
            frames.append(f)
    if not frames:
        if result.skipped:
            raise ReadError(*result.skipped[0])
        raise ReadError(paths[0] if paths else base, "log_history holds no numeric values")
    if len(frames) == 1:  # one state file: its points, put in order once
        points = frames[0]
    else:  # checkpoint copies: a point repeated (same tag, step and value) is kept once
        points = Points()
        for f in frames:
            points.extend(f)
        points, repeated = points.without_repeats()
        if repeated:
            result.notes.append(f"{repeated} point(s) repeated in checkpoint copies merged")
    result.frame, notes = points.frame(run, lite=lite)  # type: ignore[assignment]
    result.notes.extend(notes)
    # the model's config.json beside the newest state (the Trainer's output folder)
    read_sidecar_hparams(loaded[-1][1].parent, HF_SIDE_FILES, result)
    return result
