"""Python API for data already in memory: a pandas DataFrame, or two plain lists.

``check_frame`` and ``check_lists`` go through the same steps as ``curvelint check`` after the
files are read (roles from the curve names, the same rules, the same report), so
``check_frame(df).to_dict()`` has the structure of ``check --format json``.

    >>> import analyzer
    >>> report = analyzer.check_lists([2.3, 1.2, 0.8, 0.7, 0.65, 0.6],
    ...                               [2.2, 1.3, 1.0, 1.1, 1.3, 1.6])
    >>> report.runs[0].verdict
    'problems'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .findings import Report
from .readers.base import COLUMNS
from .roles import Roles
from .runs import LoadResult, Run, assign

#: step-like columns of a wide frame, in order of preference
STEP_COLUMNS = ("step", "global_step", "_step", "iteration", "iter", "epoch")
TAG_COLUMNS = ("tag", "metric", "name", "key")


def _column_points(values: np.ndarray) -> np.ndarray:
    """Which cells of a wide column are points.

    A NaN cell is "not logged at this row" (pandas' missing value), except in a *dense* column
    (no gap before its last finite value): there the NaNs after the last finite value are kept,
    because that is what a diverged run looks like (``loss`` becomes NaN and stays NaN).
    """
    fin = np.isfinite(values)
    present = ~np.isnan(values)  # finite or +-inf
    if not fin.any():
        return np.ones(len(values), dtype=bool) if len(values) else present
    last = int(np.flatnonzero(fin)[-1])
    first = int(np.flatnonzero(present)[0])
    dense = present[first : last + 1].all()
    if dense:
        present[last + 1 :] = True
    return present


def frame_to_long(df: pd.DataFrame, *, run: str = "frame") -> pd.DataFrame:
    """Turn a wide or long DataFrame into curvelint's canonical long table.

    Long: columns ``tag`` (or ``metric``/``name``/``key``), ``step``, ``value``, optional ``run``
    and ``wall_time``. Wide: a step column (``step``, ``global_step``, ``_step``, ``iteration``,
    ``iter`` or ``epoch``; else the index) and one numeric column per curve.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    cols = {str(c): c for c in df.columns}
    tag_col = next((cols[c] for c in TAG_COLUMNS if c in cols), None)
    if tag_col is not None and "value" in cols:
        if "step" not in cols:
            raise ValueError(
                "a long DataFrame needs columns tag, step, value; it has: "
                + ", ".join(map(str, df.columns))
            )
        value = pd.to_numeric(df[cols["value"]], errors="coerce").to_numpy(np.float64)
        out = pd.DataFrame(
            {
                "run": df[cols["run"]].astype(str) if "run" in cols else run,
                "tag": df[tag_col].astype(str),
                "step": pd.to_numeric(df[cols["step"]]).to_numpy(np.int64),
                "value": value,
                "wall_time": pd.to_numeric(df[cols["wall_time"]], errors="coerce").to_numpy(
                    np.float64
                )
                if "wall_time" in cols
                else np.nan,
            },
            columns=COLUMNS,
        )
        return out.sort_values(["run", "tag", "step"], kind="stable").reset_index(drop=True)

    step_name = next((c for c in STEP_COLUMNS if c in cols), None)
    if step_name is not None:
        steps = pd.to_numeric(df[cols[step_name]], errors="coerce").to_numpy(np.float64)
    elif pd.api.types.is_integer_dtype(df.index.dtype):
        steps = df.index.to_numpy(np.float64)
    else:
        steps = np.arange(len(df), dtype=np.float64)
    ok_step = np.isfinite(steps)
    wall = (
        pd.to_numeric(df[cols["wall_time"]], errors="coerce").to_numpy(np.float64)
        if "wall_time" in cols
        else np.full(len(df), np.nan)
    )
    parts = []
    for name, col in cols.items():
        if name in (step_name, "wall_time", "run"):
            continue
        if not (pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col])):
            continue
        vals = df[col].to_numpy(dtype=np.float64, na_value=np.nan)
        keep = _column_points(vals) & ok_step
        parts.append(
            pd.DataFrame(
                {
                    "run": run,
                    "tag": name,
                    "step": steps[keep].astype(np.int64),
                    "value": vals[keep],
                    "wall_time": wall[keep],
                },
                columns=COLUMNS,
            )
        )
    if not parts:
        raise ValueError(
            "no numeric curve columns in the DataFrame; columns: " + ", ".join(map(str, df.columns))
        )
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["tag", "step"], kind="stable").reset_index(drop=True)


def analyze_long(
    frame: pd.DataFrame,
    *,
    fmt: str = "dataframe",
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    rule_options: Mapping[str, Mapping[str, Any]] | None = None,
    train_loss: str | None = None,
    val_loss: str | None = None,
) -> Report:
    """Diagnose every run of a canonical long table (roles, rules, report)."""
    from .engine import Options, analyze

    options = Options.build(select, ignore, rule_options, train_loss, val_loss)
    result = LoadResult()
    for run_id, sub in frame.groupby("run", sort=False):
        sub = sub.reset_index(drop=True)
        run = Run(id=str(run_id), format=fmt, files=[], frame=sub, roles=Roles())
        assign(run, train_loss=train_loss, val_loss=val_loss)
        result.runs.append(run)
    return analyze(result, options)


def check_frame(
    df: pd.DataFrame,
    *,
    run: str = "frame",
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    rule_options: Mapping[str, Mapping[str, Any]] | None = None,
    train_loss: str | None = None,
    val_loss: str | None = None,
) -> Report:
    """Diagnose curves held in a DataFrame (wide or long, see :func:`frame_to_long`).

    Roles come from the column (or tag) names as for log files; ``train_loss``/``val_loss``
    choose them explicitly. ``run`` names the run of a wide frame (a long frame may carry a
    ``run`` column with several runs).

        >>> import pandas as pd, analyzer
        >>> df = pd.DataFrame({"epoch": range(1, 9),
        ...                    "loss": [2.3, 1.4, 1.0, 0.8, 0.7, 0.6, 0.55, 0.5],
        ...                    "val_loss": [2.2, 1.5, 1.2, 1.1, 1.2, 1.4, 1.6, 1.8]})
        >>> [f.code for f in analyzer.check_frame(df).findings]
        ['OVF001']
    """
    long = frame_to_long(df, run=run)
    return analyze_long(
        long,
        select=select,
        ignore=ignore,
        rule_options=rule_options,
        train_loss=train_loss,
        val_loss=val_loss,
    )


def _spread_steps(n_val: int, train_steps: np.ndarray) -> np.ndarray:
    """Steps for ``n_val`` validation points spread over the training steps (ends of equal
    chunks, as when validating at the end of each epoch)."""
    n = len(train_steps)
    idx = np.ceil(np.arange(1, n_val + 1) * n / n_val).astype(int) - 1
    return train_steps[np.clip(idx, 0, n - 1)]


def check_lists(
    train: Sequence[float],
    val: Sequence[float] | None = None,
    *,
    steps: Sequence[int] | None = None,
    val_steps: Sequence[int] | None = None,
    run: str = "lists",
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    rule_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> Report:
    """Diagnose a training loss and (optionally) a validation loss given as plain lists.

    ``steps`` default to 1, 2, ... (epochs). When ``val`` has another length than ``train``
    and no ``val_steps`` are given, the validation points are placed at the ends of equal
    chunks of the training steps (validation after each epoch of per-batch training losses).
    """
    tr = np.asarray(train, dtype=np.float64).ravel()
    st = (
        np.arange(1, len(tr) + 1, dtype=np.int64)
        if steps is None
        else np.asarray(steps, dtype=np.int64).ravel()
    )
    if len(st) != len(tr):
        raise ValueError(f"steps and train differ in length ({len(st)} vs {len(tr)})")
    tags = [np.full(len(tr), "loss", dtype=object)]
    all_steps, all_vals = [st], [tr]
    if val is not None:
        va = np.asarray(val, dtype=np.float64).ravel()
        if val_steps is not None:
            vs = np.asarray(val_steps, dtype=np.int64).ravel()
            if len(vs) != len(va):
                raise ValueError(f"val_steps and val differ in length ({len(vs)} vs {len(va)})")
        elif len(va) == len(tr):
            vs = st
        elif len(tr):
            vs = _spread_steps(len(va), st)
        else:
            vs = np.arange(1, len(va) + 1, dtype=np.int64)
        tags.append(np.full(len(va), "val_loss", dtype=object))
        all_steps.append(vs)
        all_vals.append(va)
    frame = pd.DataFrame(
        {
            "run": run,
            "tag": np.concatenate(tags),
            "step": np.concatenate(all_steps),
            "value": np.concatenate(all_vals),
            "wall_time": np.nan,
        },
        columns=COLUMNS,
    )
    frame = frame.sort_values(["tag", "step"], kind="stable").reset_index(drop=True)
    return analyze_long(frame, fmt="lists", select=select, ignore=ignore, rule_options=rule_options)
