"""Every reader a sweep meets hands a check its table as numpy columns (``lite=True``, a
:class:`~analyzer.readers.base.NumpyTable`) that is the same table, with the same notes, as the
DataFrame it gives otherwise (issue 12: reading cost per run). Compared on every fixture run of
each format, on damaged copies of their files (seeded), on restarts and on Hugging Face
checkpoint copies; and a sweep of ordinary runs of every format is read without importing
pandas."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyzer.discover import RunSource, discover
from analyzer.readers import ReadError, reader_for
from analyzer.readers.base import NumpyTable, Points, apply_restarts, column, make_frame
from analyzer.runs import read_run

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "fixtures"
#: the fixture folders compared (the frozen accuracy sets are left alone)
FOLDERS = ("training", "gen2", "gen4", "gen5", "text", "layouts", "roles", "console")
FORMATS = (
    "text",
    "keras-csv",
    "lightning-csv",
    "hf-trainer-state",
    "mlflow",
    "csv",
    "jsonl",
    "ultralytics-csv",
    "tensorboard",
)


def _sources() -> dict[str, list]:
    out: dict[str, list] = {f: [] for f in FORMATS}
    for folder in FOLDERS:
        for src in discover(FIX / folder).runs:
            if src.format in out:
                out[src.format].append(src)
    # Ultralytics' results.csv sits beside its event files (discovery reads those)
    for csv in sorted((FIX / "layouts" / "ultralytics").rglob("results.csv")):
        out["ultralytics-csv"].append(
            RunSource(csv.parent.name, "ultralytics-csv", csv.parent, [csv])
        )
    return out


SOURCES = _sources()


def _read(fmt: str, run: str, files: list, base: Path, lite: bool):
    try:
        return reader_for(fmt).read(run, list(files), base, lite=lite)
    except ReadError as e:
        return ("ReadError", e.path, e.reason)


def _same(fmt: str, run: str, files: list, base: Path) -> NumpyTable | pd.DataFrame | None:
    """Read both ways, assert the same result; the lite table (None after a ReadError)."""
    full = _read(fmt, run, files, base, False)
    lite = _read(fmt, run, files, base, True)
    if isinstance(full, tuple):
        assert lite == full
        return None
    assert not isinstance(lite, tuple), lite
    assert lite.notes == full.notes
    assert lite.files == full.files and lite.skipped == full.skipped
    assert json.dumps(lite.hparams, sort_keys=True, default=str) == json.dumps(
        full.hparams, sort_keys=True, default=str
    )
    assert isinstance(full.frame, pd.DataFrame)
    table = lite.frame
    frame = table.to_frame() if isinstance(table, NumpyTable) else table
    pd.testing.assert_frame_equal(frame, full.frame)
    for name in ("run", "tag", "step", "value", "wall_time"):
        got, want = column(table, name), full.frame[name].to_numpy()
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    return table


@pytest.mark.parametrize("fmt", FORMATS)
def test_lite_table_is_the_dataframe_on_every_fixture_run(fmt):
    srcs = SOURCES[fmt]
    assert srcs
    tables = [_same(fmt, s.run, s.files, s.base) for s in srcs]
    lite = sum(isinstance(t, NumpyTable) for t in tables)
    assert lite == len(tables)  # not one DataFrame: ordinary runs need no pandas table


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f not in ("tensorboard", "ultralytics-csv")])
def test_a_run_read_for_a_check_holds_numpy_columns_and_shows_the_same_dataframe(fmt):
    disc = discover(FIX / {"csv": "gen2", "text": "console"}.get(fmt, "training"))
    src = next(s for s in disc.runs if s.format == fmt)
    run, skipped = read_run(src, disc.root, "prefix/")
    assert run is not None and not skipped
    assert isinstance(run.__dict__["_data"], NumpyTable)  # no DataFrame made for the check
    curves = run.curve_set()
    full = reader_for(fmt).read(src.run, list(src.files), src.base).frame.assign(run=run.id)
    pd.testing.assert_frame_equal(run.frame, full)  # made on demand
    again = run.curve_set()
    np.testing.assert_array_equal(curves.train.values, again.train.values)
    assert run.to_dict()["tags"] == [dict(t) for t in run.tag_table()]


def _hostile():
    spec = importlib.util.spec_from_file_location("hostile", ROOT / "benchmarks" / "hostile.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("fmt", FORMATS)
def test_lite_table_is_the_dataframe_on_damaged_files(fmt, tmp_path):
    mutate = _hostile().mutate
    rng = random.Random(sum(map(ord, fmt)))
    srcs = SOURCES[fmt][::3][:6]
    assert srcs
    tried = 0
    for i, src in enumerate(srcs):
        for k in range(6):
            base = tmp_path / f"{i}-{k}"
            shutil.copytree(src.base, base)
            files = [base / Path(f).relative_to(src.base) for f in src.files]
            victim = rng.choice(files)
            victim.write_bytes(mutate(victim.read_bytes(), rng)[0])
            _same(fmt, src.run, files, base)
            tried += 1
    assert tried >= 6


def test_a_keras_log_appended_after_a_restart_is_read_lite(tmp_path):
    log = tmp_path / "training.log"
    log.write_text(
        "epoch,loss,val_loss\n0,1.0,1.1\n1,0.9,NA\n2,0.8,0.95\n3,0.7,0.9\n"
        "epoch,loss,val_loss\n2,0.75,0.9\n3,0.65,0.85\n4,0.6,nan\n"
    )
    table = _same("keras-csv", "r", [log], tmp_path)
    assert isinstance(table, NumpyTable)
    # the resumed run replaced epochs 2 and 3 of both curves (val_loss was not logged at 1)
    assert column(table, "tag").tolist() == ["loss"] * 5 + ["val_loss"] * 4
    assert column(table, "step").tolist() == [0, 1, 2, 3, 4, 0, 2, 3, 4]
    assert column(table, "value")[:8].tolist() == [1.0, 0.9, 0.75, 0.65, 0.6, 1.1, 0.9, 0.85]
    notes = reader_for("keras-csv").read("r", [log], tmp_path, lite=True).notes
    assert any("restart(s) detected (step went back to 2)" in n for n in notes)


def _old_merge(run: str, frames: list[Points]) -> tuple[pd.DataFrame, list[str]]:
    """How the Hugging Face reader merged checkpoint copies with pandas (the reference)."""
    frame = pd.concat([make_frame(run, *f.columns()) for f in frames], ignore_index=True)
    before = len(frame)
    frame = frame.drop_duplicates(["tag", "step", "value"], keep="last").reset_index(drop=True)
    notes = []
    if before > len(frame):
        notes.append(f"{before - len(frame)} point(s) repeated in checkpoint copies merged")
    frame, more = apply_restarts(frame, run)
    frame["value"] = frame["value"].astype(np.float64)
    return frame, notes + more


def test_checkpoint_copies_merge_as_drop_duplicates_did():
    rng = np.random.default_rng(11)
    pool = [0.0, -0.0, np.nan, -np.nan, np.inf, 1.5, 2.5]
    for _ in range(300):
        frames = []
        for _ in range(int(rng.integers(1, 4))):
            p = Points()
            n = int(rng.integers(0, 12))
            tags = rng.choice(["loss", "eval_loss", "epoch", "a/b"], n).tolist()
            steps = rng.integers(0, 6, n)
            values = rng.choice(pool, n)
            names = list(dict.fromkeys(tags))
            p.add_codes(names, [names.index(t) for t in tags], steps, values)
            frames.append(p)
        if not sum(len(f) for f in frames):
            continue
        want, want_notes = _old_merge("r", frames)
        merged = Points()
        for f in frames:
            merged.extend(f)
        merged, repeated = merged.without_repeats()
        notes = [f"{repeated} point(s) repeated in checkpoint copies merged"] if repeated else []
        for lite in (False, True):
            got, more = merged.frame("r", lite=lite)
            frame = got.to_frame() if isinstance(got, NumpyTable) else got
            pd.testing.assert_frame_equal(frame, want)
            # the same rows kept: -0.0 and NaN payloads as the last copy wrote them
            assert frame["value"].to_numpy().tobytes() == want["value"].to_numpy().tobytes()
            assert notes + more == want_notes


def test_hugging_face_checkpoint_copies_are_read_lite(tmp_path):
    state = json.loads(
        (FIX / "training" / "healthy-wine-sgdm-step-s2" / "trainer_state.json").read_text()
    )
    out = tmp_path / "out"
    (out / "checkpoint-4").mkdir(parents=True)
    (out / "trainer_state.json").write_text(json.dumps(state))
    early = dict(state, log_history=state["log_history"][:4], global_step=4)
    (out / "checkpoint-4" / "trainer_state.json").write_text(json.dumps(early))
    # (discovery hands the reader the newest copy only; given both, it merges them)
    files = [out / "checkpoint-4" / "trainer_state.json", out / "trainer_state.json"]
    table = _same("hf-trainer-state", "out", files, out)
    assert isinstance(table, NumpyTable)
    notes = reader_for("hf-trainer-state").read("out", files, out, lite=True).notes
    assert any("repeated in checkpoint copies merged" in n for n in notes)


# a sweep of ordinary runs of every format, read, then checked (one process, JSON report) in a
# fresh interpreter: the tables it read and whether pandas was imported
PROBE = """
import contextlib, io, json, sys
from analyzer.cli import main
from analyzer.discover import discover
from analyzer.runs import read_run
disc = discover(sys.argv[1])
kinds = {}
for src in disc.runs:
    run, _ = read_run(src, disc.root)
    kinds[src.format] = type(run.__dict__["_data"]).__name__
read = "pandas" in sys.modules
out = io.StringIO()
with contextlib.redirect_stdout(out):
    main(["check", sys.argv[1], "--no-cache", "-j", "1", "--format", "json", "-q"])
runs = len(json.loads(out.getvalue())["runs"])
print(json.dumps({"kinds": kinds, "read": read, "checked": "pandas" in sys.modules, "runs": runs}))
"""


def test_a_sweep_of_ordinary_runs_of_every_format_is_read_and_checked_without_pandas(tmp_path):
    sweep = tmp_path / "sweep"
    picked = {}
    for fmt in FORMATS:
        for src in SOURCES[fmt]:
            # ordinary: files of a size the plain parsers read (big tables go to pandas' parser)
            if src.base.parent.name == "layouts" or "ultralytics" in str(src.base):
                continue
            if all(Path(f).stat().st_size < 60_000 for f in src.files):
                picked[fmt] = src
                break
    # every format has an ordinary run among the fixtures (Ultralytics' tables are left out)
    assert set(FORMATS) - {"ultralytics-csv"} <= set(picked)
    for fmt, src in picked.items():
        folder = sweep / fmt.replace("-", "_")
        if src.run.endswith(src.files[0].name):  # a one-file run in a shared folder
            folder.mkdir(parents=True)
            shutil.copy2(src.files[0], folder)
        else:
            shutil.copytree(src.base, folder)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(sweep)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=dict(os.environ, CURVELINT_CACHE_DIR=str(tmp_path / "cache")),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(got["kinds"]) >= set(picked)
    assert set(got["kinds"].values()) == {"NumpyTable"}
    assert got["runs"] == len(picked)
    assert got["read"] is False  # reading every run imported no pandas
    assert got["checked"] is False  # nor did analysing them and writing the report


def test_logged_nans_and_missing_cells_in_a_small_table_need_no_pandas(tmp_path):
    # a diverged Keras run: NA where validation did not run, nan where the loss blew up
    log = tmp_path / "training.log"
    log.write_text("epoch,loss,val_loss\n0,1.0,NA\n1,nan,inf\n2,-inf,NA\n")
    table = _same("keras-csv", "r", [log], tmp_path)
    assert isinstance(table, NumpyTable)
    keys = zip(column(table, "tag"), column(table, "step"), strict=True)
    values = dict(zip(keys, column(table, "value"), strict=True))
    assert math.isnan(values[("loss", 1)]) and values[("val_loss", 1)] == math.inf
    assert ("val_loss", 0) not in values and values[("loss", 2)] == -math.inf
